package stats

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

// stageActions are the workflow actions whose event closes a stage's clock: their stage and
// time_used_seconds are samples of that stage. Other events that name a stage (a timer's
// warning, a supervision) are not, and self_handle leaves an accept stage of zero length.
var stageActions = []casework.Action{
	casework.Accept, casework.Reject, casework.Cancel, casework.Merge, casework.RequestVerification,
	casework.Verify, casework.Dispatch, casework.Sign, casework.Return, casework.Feedback,
	casework.Check, casework.CloseCase, casework.Escalate, casework.HandDown,
}

// Stages lists the stages whose times are averaged, in workflow order.
var Stages = []casework.Stage{
	casework.StageAccept, casework.StageVerify, casework.StageDispatch, casework.StageSign,
	casework.StageHandle, casework.StageCheck, casework.StageClose,
}

// missableSources are the channels whose report, filed in a grid, is a grid worker's missed
// report (漏报): the problem was found by someone else first.
var missableSources = []casework.Source{casework.SourceResident, casework.SourceHotline, casework.SourceVideo, casework.SourceIntegrator}

// Rules gives the time rules (work calendar, stage limits) that apply at a place;
// *calendar.Service implements it.
type Rules interface {
	RulesFor(regionPath string) calendar.Rules
}

// caseRules are one place's calendar and stage limits, as the fold uses them.
type caseRules struct {
	cal    *worktime.Calendar
	limits map[casework.Stage]worktime.Limit
}

// period is a table's time frame: events in [start, end) count. now is min(end, the clock):
// a deadline not yet passed does not make a case due.
type period struct {
	start, end, now time.Time
}

func (p period) in(t time.Time) bool { return !t.Before(p.start) && t.Before(p.end) }

// countKind is a figure counted once per case and row.
type countKind int

const (
	cReported countKind = iota
	cFiled
	cDispatched
	cReturned
	cReworked
	cClosed
	cClosedOnTime
	cDue
	cSuspendedFiled
	cSuspendedDispatched
	cClosedDispatched
	cAccurate
	cSelfHandled
	cMissed
	cReports
	cValidReports
	nCounts
)

// attr says whom a figure is about besides the case's own place and category: the department
// that held the case, the grid workers concerned. A department row takes only facts with a
// department, a worker row only facts with workers.
type attr struct {
	dept  int64
	users []int64
}

func deptOf(id int64) attr { return attr{dept: id} }

func userOf(id int64) attr {
	if id == 0 {
		return attr{}
	}
	return attr{users: []int64{id}}
}

// acc accumulates one row.
type acc struct {
	counts       [nCounts]int
	stageSecs    [8]int64 // by stageIndex
	stageN       [8]int
	handlingSecs int64
	handlingN    int
	overdue      int
	multSum      float64
	multN        int
	evals        int
	satisfied    int
	satSum       int
	verifies     int
	verifiesOK   int
	checks       int
	checksOK     int
}

func (a *acc) add(b *acc) {
	for i := range a.counts {
		a.counts[i] += b.counts[i]
	}
	for i := range a.stageSecs {
		a.stageSecs[i] += b.stageSecs[i]
		a.stageN[i] += b.stageN[i]
	}
	a.handlingSecs += b.handlingSecs
	a.handlingN += b.handlingN
	a.overdue += b.overdue
	a.multSum += b.multSum
	a.multN += b.multN
	a.evals += b.evals
	a.satisfied += b.satisfied
	a.satSum += b.satSum
	a.verifies += b.verifies
	a.verifiesOK += b.verifiesOK
	a.checks += b.checks
	a.checksOK += b.checksOK
}

func stageIndex(s casework.Stage) int { return slices.Index(Stages, s) }

type seenKey struct {
	key  string
	kind countKind
}

// aggregator folds facts into rows for one grouping. Counts are of distinct cases: a case
// adds at most one to a figure of a row, and one to the total.
type aggregator struct {
	grouping Grouping
	caseKey  string // the current case's row, for case-keyed groupings
	rows     map[string]*acc
	total    acc
	seen     map[seenKey]bool
	seenTot  [nCounts]bool
	keyBuf   []string
}

func newAggregator(g Grouping) *aggregator {
	return &aggregator{grouping: g, rows: map[string]*acc{}, seen: map[seenKey]bool{}}
}

func (a *aggregator) startCase(key string) {
	a.caseKey = key
	clear(a.seen)
	a.seenTot = [nCounts]bool{}
}

func (a *aggregator) row(k string) *acc {
	r := a.rows[k]
	if r == nil {
		r = &acc{}
		a.rows[k] = r
	}
	return r
}

// keys are the rows a fact belongs to in this grouping.
func (a *aggregator) keys(at attr) []string {
	a.keyBuf = a.keyBuf[:0]
	switch {
	case a.grouping.caseKeyed():
		a.keyBuf = append(a.keyBuf, a.caseKey)
	case a.grouping == ByDepartment:
		if at.dept != 0 {
			a.keyBuf = append(a.keyBuf, strconv.FormatInt(at.dept, 10))
		}
	case a.grouping == ByWorker:
		for _, u := range at.users {
			a.keyBuf = append(a.keyBuf, strconv.FormatInt(u, 10))
		}
	}
	return a.keyBuf
}

func (a *aggregator) count(kind countKind, at attr) {
	ks := a.keys(at)
	if len(ks) == 0 {
		return
	}
	for _, k := range ks {
		sk := seenKey{k, kind}
		if !a.seen[sk] {
			a.seen[sk] = true
			a.row(k).counts[kind]++
		}
	}
	if !a.seenTot[kind] {
		a.seenTot[kind] = true
		a.total.counts[kind]++
	}
}

func (a *aggregator) sample(at attr, fn func(*acc)) {
	ks := a.keys(at)
	if len(ks) == 0 {
		return
	}
	for _, k := range ks {
		fn(a.row(k))
	}
	fn(&a.total)
}

// folder turns case histories into facts.
type folder struct {
	p           period
	rules       Rules
	byPath      map[string]*caseRules // rules by region path, read once per place
	byCal       map[*worktime.Calendar]*caseRules
	cur         *caseRules         // the current case's
	gridWorkers map[string][]int64 // grid code → its workers now (for missed reports)
	agg         *aggregator
}

// round is one handling round: from a dispatch (or a failed check's rework) until the feedback,
// a return, a close or a cancellation, while the department holds the case.
type round struct {
	start    time.Time
	dept     int64
	limit    *worktime.Limit
	deadline *time.Time
	ext      int // approved extensions
	pauses   []worktime.Interval
	secs     int64 // time used in the sign and handle stages (suspensions excluded)
	hit      bool  // its deadline passed while it ran
}

// closure is a case's last closure in the period.
type closure struct {
	dept       int64
	onTime     bool
	dispatched bool
	accurate   bool
}

// fold reads one case's history (up to the period's end) and emits its facts.
func (f *folder) fold(h *History) {
	a := f.agg
	f.cur = f.rulesAt(h.RegionPath)
	var (
		reporter       int64 // the grid worker who reported it
		lead           int64 // the lead department now
		depts          []int64
		returned       bool
		cycleLate      bool // a feedback since the last reopen was overdue
		rd             *round
		lastLimit      *worktime.Limit
		suspendedSince *time.Time
		merged         bool
		filedIn        bool
		acceptedIn     bool
		dispatchedIn   []int64
		last           *closure
		state          casework.State
		carried        int64 // handling time before a suspension
	)
	for i := range h.Events {
		e := &h.Events[i]
		in := f.p.in(e.At)
		// A handling deadline that passed before this event, while the department held the case.
		if rd != nil && !rd.hit && suspendedSince == nil && rd.deadline != nil && rd.deadline.Before(e.At) {
			f.hit(rd)
		}
		if rd != nil && (e.Stage == casework.StageSign || e.Stage == casework.StageHandle) {
			rd.secs += e.TimeUsed
		}
		switch {
		case e.Stage == "" || e.Stage == casework.StageNone:
		case slices.Contains(stageActions, e.Action):
			var before int64
			if e.Stage == casework.StageHandle {
				before, carried = carried, 0
			}
			if in {
				f.stageSample(e, rd, before)
			}
		case e.Stage == casework.StageHandle:
			// An approved suspension stops the handling clock: the time so far joins the sample
			// of the event that finally leaves the stage.
			carried += e.TimeUsed
		}

		switch e.Action {
		case casework.ReportAction:
			if e.ActorRole == identity.RoleGridWorker {
				reporter = e.ActorUserID
			}
			if in {
				a.count(cReported, attr{})
				if reporter != 0 {
					a.count(cReports, userOf(reporter))
				}
			}
		case casework.Accept, casework.SelfHandle:
			if in {
				filedIn = true
				acceptedIn = acceptedIn || e.Action == casework.Accept
				a.count(cFiled, attr{})
				if reporter != 0 {
					a.count(cValidReports, userOf(reporter))
				}
			}
			if e.Action == casework.SelfHandle {
				if in {
					a.count(cSelfHandled, userOf(e.ActorUserID))
					last = &closure{onTime: true}
				}
			}
		case casework.Dispatch:
			lead = e.DepartmentID
			if !slices.Contains(depts, lead) {
				depts = append(depts, lead)
			}
			if in {
				a.count(cDispatched, deptOf(lead))
				if !slices.Contains(dispatchedIn, lead) {
					dispatchedIn = append(dispatchedIn, lead)
				}
			}
			if l, ok := ParseLimit(e.HandleLimit); ok {
				lastLimit = &l
			}
			rd = &round{start: e.At, dept: lead, limit: lastLimit, deadline: e.HandleDeadline}
		case casework.Return:
			returned = true
			if in {
				a.count(cReturned, deptOf(e.DepartmentID))
			}
			rd, lead = nil, 0
		case casework.Feedback:
			if rd != nil {
				if in {
					secs := rd.secs
					a.sample(deptOf(e.DepartmentID), func(r *acc) { r.handlingSecs += secs; r.handlingN++ })
				}
			}
			if e.Overdue {
				cycleLate = true
			}
			rd = nil
		case casework.Check:
			if in {
				ok := !e.Overdue
				a.sample(f.workerAttr(e), func(r *acc) {
					r.checks++
					if ok {
						r.checksOK++
					}
				})
			}
			if e.To == casework.Handling { // failed: rework by the same department
				if in {
					a.count(cReworked, deptOf(e.DepartmentID))
				}
				rd = &round{start: e.At, dept: e.DepartmentID, limit: lastLimit, deadline: e.HandleDeadline}
			}
		case casework.Verify:
			if in {
				ok := !e.Overdue
				a.sample(f.workerAttr(e), func(r *acc) {
					r.verifies++
					if ok {
						r.verifiesOK++
					}
				})
			}
		case casework.CloseCase:
			if in {
				last = &closure{dept: lead, onTime: !cycleLate, dispatched: len(depts) > 0,
					accurate: !returned && len(depts) <= 1}
			}
			rd = nil
		case casework.Reopen:
			cycleLate, lead, rd = false, 0, nil
		case casework.Merge:
			merged, rd = true, nil
		case casework.Cancel, casework.Reject:
			rd = nil
		case casework.Evaluate:
			if in && e.Satisfaction >= 1 && e.Satisfaction <= 5 {
				s := e.Satisfaction
				a.sample(deptOf(lead), func(r *acc) {
					r.evals++
					r.satSum += s
					if s >= 4 {
						r.satisfied++
					}
				})
			}
		case casework.ApproveExtension:
			if rd != nil {
				rd.ext++
				if e.HandleDeadline == nil {
					f.recompute(rd)
				}
			}
		}

		// Suspension (挂账) pauses the handling clock, whatever the actions are called.
		switch {
		case e.To == casework.Suspended && state != casework.Suspended:
			at := e.At
			suspendedSince = &at
		case state == casework.Suspended && e.To != casework.Suspended && suspendedSince != nil:
			if rd != nil {
				rd.pauses = append(rd.pauses, worktime.Interval{Start: *suspendedSince, End: e.At})
				if e.HandleDeadline == nil {
					f.recompute(rd)
				}
			}
			suspendedSince = nil
		}
		// Any later event that records a new deadline (an extension, a resume) sets it.
		if rd != nil && e.HandleDeadline != nil && e.Action != casework.Dispatch && e.Action != casework.Check {
			d := *e.HandleDeadline
			rd.deadline, rd.hit = &d, false
		}
		state = e.To
	}
	if rd != nil && !rd.hit && suspendedSince == nil && rd.deadline != nil && rd.deadline.Before(f.p.now) {
		f.hit(rd)
	}
	if last != nil {
		at := deptOf(last.dept)
		a.count(cClosed, at)
		a.count(cDue, at)
		if last.onTime {
			a.count(cClosedOnTime, at)
		}
		if last.dispatched {
			a.count(cClosedDispatched, at)
			if last.accurate {
				a.count(cAccurate, at)
			}
		}
	}
	if state == casework.Suspended {
		if filedIn {
			a.count(cSuspendedFiled, attr{})
		}
		if slices.Contains(dispatchedIn, lead) {
			a.count(cSuspendedDispatched, deptOf(lead))
		}
	}
	if acceptedIn && !merged && h.GridCode != "" && slices.Contains(missableSources, h.Source) {
		a.count(cMissed, attr{users: f.gridWorkers[h.GridCode]})
	}
}

// rulesAt returns the time rules of a place (the default ones for an unplaced case).
func (f *folder) rulesAt(path string) *caseRules {
	if r, ok := f.byPath[path]; ok {
		return r
	}
	r := builtinRules()
	if f.rules != nil {
		r = f.rules.RulesFor(path)
	}
	cr, ok := f.byCal[r.Calendar]
	if !ok {
		cr = newCaseRules(r)
		f.byCal[r.Calendar] = cr
	}
	f.byPath[path] = cr
	return cr
}

// builtinRules are the rules used without a calendar service (built once: a calendar is
// costly to build).
var builtinRules = sync.OnceValue(calendar.BuiltinRules)

func rulesOf(rules Rules, path string) *caseRules {
	if rules == nil {
		return newCaseRules(builtinRules())
	}
	return newCaseRules(rules.RulesFor(path))
}

func newCaseRules(r calendar.Rules) *caseRules {
	cr := &caseRules{cal: r.Calendar, limits: make(map[casework.Stage]worktime.Limit, len(r.StageLimits))}
	for k, v := range r.StageLimits {
		cr.limits[casework.Stage(k)] = v
	}
	return cr
}

// hit records that a round's deadline passed while it ran: the case is due in the period when
// the deadline falls in it (and has passed).
func (f *folder) hit(rd *round) {
	rd.hit = true
	d := *rd.deadline
	if !d.Before(f.p.start) && d.Before(f.p.now) {
		f.agg.count(cDue, deptOf(rd.dept))
	}
}

// recompute sets a round's deadline from its limit, extensions and pauses when no event
// recorded it.
func (f *folder) recompute(rd *round) {
	if rd.limit == nil {
		if rd.deadline != nil && len(rd.pauses) > 0 {
			p := rd.pauses[len(rd.pauses)-1]
			d := rd.deadline.Add(p.End.Sub(p.Start))
			rd.deadline = &d
		}
		return
	}
	d := f.cur.cal.DeadlineWithPauses(rd.start, rd.limit.Times(1+rd.ext), rd.pauses)
	if d.IsZero() {
		rd.deadline = nil
		return
	}
	rd.deadline, rd.hit = &d, false
}

// workerAttr attributes a field task (verify, check) to the grid worker who did it.
func (f *folder) workerAttr(e *Event) attr {
	if e.ActorRole == identity.RoleGridWorker {
		return userOf(e.ActorUserID)
	}
	return attr{}
}

// stageSample adds an event that left a stage to that stage's time, and to the overdue figures
// when the stage ran past its deadline. Department rows take the department's stages (sign,
// handle), worker rows the field tasks (verify, check).
func (f *folder) stageSample(e *Event, rd *round, carried int64) {
	idx := stageIndex(e.Stage)
	if idx < 0 {
		return
	}
	var at attr
	switch e.Stage {
	case casework.StageSign, casework.StageHandle:
		at = deptOf(e.DepartmentID)
	case casework.StageVerify, casework.StageCheck:
		at = f.workerAttr(e)
	}
	secs, overdue := e.TimeUsed+carried, e.Overdue
	mult, multOK := 0.0, false
	if overdue {
		mult, multOK = f.multiple(e, rd)
	}
	f.agg.sample(at, func(r *acc) {
		r.stageSecs[idx] += secs
		r.stageN[idx]++
		if overdue {
			r.overdue++
			if multOK {
				r.multSum += mult
				r.multN++
			}
		}
	})
}

// multiple is a late stage's overtime multiple (超时倍数), (used − limit) ÷ limit, measured on
// the work calendar in the limit's own unit: the handling stage from its round's start with its
// extensions and pauses, the other stages from their start with the configured stage limit.
func (f *folder) multiple(e *Event, rd *round) (float64, bool) {
	var (
		start time.Time
		l     worktime.Limit
		ps    []worktime.Interval
	)
	switch {
	case e.Stage == casework.StageHandle && rd != nil && rd.limit != nil:
		start, l, ps = rd.start, rd.limit.Times(1+rd.ext), rd.pauses
	case e.Stage == casework.StageHandle && rd != nil && rd.deadline != nil && rd.deadline.After(rd.start):
		limit := rd.deadline.Sub(rd.start)
		return max(0, float64(e.At.Sub(rd.start)-limit)/float64(limit)), true
	case e.Stage == casework.StageHandle:
		return 0, false
	default:
		var ok bool
		if l, ok = f.cur.limits[e.Stage]; !ok {
			return 0, false
		}
		start = e.At.Add(-time.Duration(e.TimeUsed) * time.Second)
	}
	amount := f.cur.cal.Amount(start, l)
	if amount <= 0 {
		return 0, false
	}
	used := f.cur.cal.UsedWithPauses(start, e.At, l, ps)
	return max(0, float64(used)/float64(amount)-1), true
}

// ParseLimit reads a limit written by worktime.Limit.String ("1 work_days", "2h30m
// work_hours"), as dispatch events record it.
func ParseLimit(s string) (worktime.Limit, bool) {
	amount, unit, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return worktime.Limit{}, false
	}
	l := worktime.Limit{Unit: worktime.Unit(unit)}
	if h, m, hm := strings.Cut(amount, "h"); hm {
		if _, err := fmt.Sscanf(h+" "+strings.TrimSuffix(m, "m"), "%d %d", &l.Value, &l.Minutes); err != nil {
			return worktime.Limit{}, false
		}
	} else {
		v, err := strconv.Atoi(amount)
		if err != nil {
			return worktime.Limit{}, false
		}
		l.Value = v
	}
	if l.Validate() != nil {
		return worktime.Limit{}, false
	}
	return l, true
}
