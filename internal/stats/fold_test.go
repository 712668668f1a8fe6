package stats

import (
	"math"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// ev builds an event; the options fill what an action carries.
func ev(action casework.Action, from, to casework.State, when string, opts ...func(*Event)) Event {
	e := Event{Action: action, From: from, To: to, At: at(when), ActorRole: identity.RoleDispatcher}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func stage(s casework.Stage, secs int64, overdue bool) func(*Event) {
	return func(e *Event) { e.Stage, e.TimeUsed, e.Overdue = s, secs, overdue }
}

func dept(id int64) func(*Event) { return func(e *Event) { e.DepartmentID = id } }

func deadline(s string, limit string) func(*Event) {
	return func(e *Event) { e.HandleDeadline, e.HandleLimit = ptr(at(s)), limit }
}

func by(user int64, role identity.Role) func(*Event) {
	return func(e *Event) { e.ActorUserID, e.ActorRole = user, role }
}

// march is March 2026 (China time), looked at on 10 April.
var march = period{start: at("2026-03-01 00:00"), end: at("2026-04-01 00:00"), now: at("2026-04-01 00:00")}

func foldOne(t *testing.T, g Grouping, p period, h History) (*aggregator, *folder) {
	t.Helper()
	f := &folder{p: p, byPath: map[string]*caseRules{}, byCal: map[*worktime.Calendar]*caseRules{}, agg: newAggregator(g), gridWorkers: map[string][]int64{"g1": {7}}}
	f.agg.startCase("k")
	f.fold(&h)
	return f.agg, f
}

// dispatched is a case filed and dispatched to department 1 on Saturday 28 February 16:20 (a
// make-up workday, 春节调休) with one work day to handle it: due Monday 2 March 16:20.
func dispatched(more ...Event) History {
	h := History{CaseID: 1, RegionPath: "/1/", GridCode: "g1", Source: casework.SourceResident, Events: []Event{
		ev(casework.ReportAction, "", casework.Reported, "2026-02-28 16:00"),
		ev(casework.Accept, casework.Reported, casework.Filed, "2026-02-28 16:10", stage(casework.StageAccept, 600, false)),
		ev(casework.Dispatch, casework.Filed, casework.Dispatched, "2026-02-28 16:20", stage(casework.StageDispatch, 600, false),
			dept(1), deadline("2026-03-02 16:20", "1 work_days")),
	}}
	h.Events = append(h.Events, more...)
	return h
}

// TestDue covers when a case counts as due in March (应结案): closed in it, or its handling
// deadline passed in it while the department still held it.
func TestDue(t *testing.T) {
	sign := ev(casework.Sign, casework.Dispatched, casework.Handling, "2026-02-28 09:00", stage(casework.StageSign, 60, false), dept(1))
	for _, tc := range []struct {
		name string
		p    period
		h    History
		due  int
	}{
		{"untouched in the period, deadline in it", march, dispatched(), 1},
		{"the deadline has not passed yet", period{march.start, march.end, at("2026-03-02 16:20")}, dispatched(), 0},
		{"the deadline passed a minute ago", period{march.start, march.end, at("2026-03-02 16:21")}, dispatched(), 1},
		{"deadline in the next period", period{at("2026-02-01 00:00"), march.start, march.start}, dispatched(), 0},
		{"fed back before the deadline", march, dispatched(sign,
			ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false), dept(1))), 0},
		{"fed back at the deadline exactly", march, dispatched(sign,
			ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-02 16:20", stage(casework.StageHandle, 3600, false), dept(1))), 0},
		{"fed back after the deadline", march, dispatched(sign,
			ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-03 10:00", stage(casework.StageHandle, 3600, true), dept(1))), 1},
		{"returned before the deadline", march, dispatched(
			ev(casework.Return, casework.Dispatched, casework.Filed, "2026-03-02 09:00", stage(casework.StageSign, 60, true), dept(1))), 0},
		{"extended before the deadline", march, dispatched(sign,
			ev(casework.ApproveExtension, casework.Handling, casework.Handling, "2026-03-02 10:00", dept(1),
				deadline("2026-04-03 16:20", "2 work_days"))), 0},
		{"extended without a recorded deadline: recomputed", march, dispatched(sign,
			ev(casework.ApproveExtension, casework.Handling, casework.Handling, "2026-03-02 10:00", dept(1))), 1}, // due 03-03 16:20
		{"suspended across the deadline, resumed, new deadline ahead", march, dispatched(sign,
			ev(casework.ApproveSuspension, casework.Handling, casework.Suspended, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false),
				deadline("2026-03-20 12:00", "")),
			ev(casework.Resume, casework.Suspended, casework.Handling, "2026-04-20 09:00", deadline("2026-05-01 09:00", ""))), 0},
		{"suspended, resumed; the moved deadline passes in the period", march, dispatched(sign,
			ev(casework.ApproveSuspension, casework.Handling, casework.Suspended, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false)),
			ev(casework.Resume, casework.Suspended, casework.Handling, "2026-03-09 10:00", deadline("2026-03-10 16:20", ""))), 1},
		{"suspended at the period's end", march, dispatched(sign,
			ev(casework.ApproveSuspension, casework.Handling, casework.Suspended, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false))), 0},
		{"closed in the period", march, dispatched(sign,
			ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false), dept(1)),
			ev(casework.Check, casework.Handled, casework.Checked, "2026-03-02 10:20", stage(casework.StageCheck, 1200, false)),
			ev(casework.CloseCase, casework.Checked, casework.Closed, "2026-03-02 10:30", stage(casework.StageClose, 600, false))), 1},
		{"cancelled before the deadline", march, dispatched(
			ev(casework.Cancel, casework.Dispatched, casework.Cancelled, "2026-03-01 09:00")), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := foldOne(t, ByRegion, tc.p, tc.h)
			if got := a.total.counts[cDue]; got != tc.due {
				t.Errorf("due %d, want %d", got, tc.due)
			}
			d := 0
			if r := a.rows["k"]; r != nil {
				d = r.counts[cDue]
			}
			if d != tc.due {
				t.Errorf("row due %d, want %d", d, tc.due)
			}
		})
	}
}

// TestSuspensionAndReopen: a suspension's time stays in the handling round and the handle
// stage's sample; a reopened case's second closure is the one that counts.
func TestSuspensionAndReopen(t *testing.T) {
	h := dispatched(
		ev(casework.Sign, casework.Dispatched, casework.Handling, "2026-03-02 09:00", stage(casework.StageSign, 146400, true), dept(1)),
		ev(casework.ApproveSuspension, casework.Handling, casework.Suspended, "2026-03-02 10:00", stage(casework.StageHandle, 3600, false), dept(1)),
		ev(casework.Resume, casework.Suspended, casework.Handling, "2026-03-09 10:00", dept(1), deadline("2026-03-09 16:20", "")),
		ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-09 11:00", stage(casework.StageHandle, 3600, false), dept(1)),
		ev(casework.CloseCase, casework.Handled, casework.Closed, "2026-03-09 11:10", stage(casework.StageClose, 600, false)),
		ev(casework.Reopen, casework.Closed, casework.Filed, "2026-03-10 09:00"),
		ev(casework.Dispatch, casework.Filed, casework.Dispatched, "2026-03-10 09:10", stage(casework.StageDispatch, 600, false), dept(2),
			deadline("2026-03-11 09:10", "1 work_days")),
		ev(casework.Sign, casework.Dispatched, casework.Handling, "2026-03-10 09:20", stage(casework.StageSign, 600, false), dept(2)),
		ev(casework.Feedback, casework.Handling, casework.Handled, "2026-03-10 10:20", stage(casework.StageHandle, 3600, false), dept(2)),
		ev(casework.CloseCase, casework.Handled, casework.Closed, "2026-03-10 10:30", stage(casework.StageClose, 600, false)),
		ev(casework.Evaluate, casework.Closed, casework.Closed, "2026-03-10 11:00", func(e *Event) { e.Satisfaction = 4 }),
	)
	a, _ := foldOne(t, ByDepartment, march, h)
	one, two := a.rows["1"], a.rows["2"]
	// The handling round of department 1: 146400 s to sign (from February's dispatch) + 3600
	// before the suspension + 3600 after it.
	if one.handlingN != 1 || one.handlingSecs != 146400+2*3600 {
		t.Errorf("department 1 round: %d × %d s", one.handlingN, one.handlingSecs)
	}
	hi := stageIndex(casework.StageHandle)
	if one.stageN[hi] != 1 || one.stageSecs[hi] != 7200 {
		t.Errorf("department 1 handle stage: %d × %d s, want one of 7200 s", one.stageN[hi], one.stageSecs[hi])
	}
	// The last closure is department 2's; department 1 closed nothing that lasted.
	if one.counts[cClosed] != 0 || two.counts[cClosed] != 1 || two.counts[cClosedOnTime] != 1 || a.total.counts[cClosed] != 1 {
		t.Errorf("closures: dept 1 %d, dept 2 %d (on time %d), total %d", one.counts[cClosed], two.counts[cClosed],
			two.counts[cClosedOnTime], a.total.counts[cClosed])
	}
	// Re-dispatched to another department after the reopen: not an accurate dispatch.
	if two.counts[cClosedDispatched] != 1 || two.counts[cAccurate] != 0 {
		t.Errorf("accurate dispatch: %d of %d", two.counts[cAccurate], two.counts[cClosedDispatched])
	}
	if two.evals != 1 || two.satisfied != 1 || one.evals != 0 {
		t.Errorf("evaluation goes to the lead at the time: %d / %d", one.evals, two.evals)
	}
	// The late sign (February's dispatch) is department 1's overdue stage: 70 minutes of work
	// on Sat 28 Feb 16:20–17:30 and 30 on Mon 2 Mar 08:30–09:00 against one work hour:
	// 100/60 − 1.
	if one.overdue != 1 || one.multN != 1 || math.Abs(one.multSum-(100.0/60-1)) > 1e-9 {
		t.Errorf("overdue sign: %d, multiple %v", one.overdue, one.multSum)
	}
}

// TestSuspendedLessFiled: a case filed in the period and suspended at its end leaves the base
// of the closure rate.
func TestSuspendedLessFiled(t *testing.T) {
	h := History{CaseID: 2, RegionPath: "/1/", Events: []Event{
		ev(casework.ReportAction, "", casework.Reported, "2026-03-02 09:00"),
		ev(casework.Accept, casework.Reported, casework.Filed, "2026-03-02 09:10", stage(casework.StageAccept, 600, false)),
		ev(casework.Dispatch, casework.Filed, casework.Dispatched, "2026-03-02 09:20", stage(casework.StageDispatch, 600, false),
			dept(1), deadline("2026-03-03 09:20", "1 work_days")),
		ev(casework.Sign, casework.Dispatched, casework.Handling, "2026-03-02 09:30", stage(casework.StageSign, 600, false), dept(1)),
		ev(casework.ApproveSuspension, casework.Handling, casework.Suspended, "2026-03-02 10:00", stage(casework.StageHandle, 1800, false), dept(1)),
	}}
	for _, g := range []Grouping{ByRegion, ByDepartment} {
		a, _ := foldOne(t, g, march, h)
		r := a.total.row(g, "")
		base := r.Filed
		if g == ByDepartment {
			base = r.Dispatched
		}
		if r.Suspended != 1 || base != 1 || r.ClosureRate != nil || r.Due != 0 {
			t.Errorf("%s: suspended %d of %d, closure rate %v, due %d", g, r.Suspended, base, r.ClosureRate, r.Due)
		}
	}
}

// TestMissedReports: a resident's report filed in a grid is its workers' miss, unless it was
// merged into an earlier case; a grid worker's own report is not.
func TestMissedReports(t *testing.T) {
	filed := func(src casework.Source, extra ...Event) History {
		h := History{CaseID: 3, RegionPath: "/1/g1/", GridCode: "g1", Source: src, Events: []Event{
			ev(casework.ReportAction, "", casework.Reported, "2026-03-02 09:00"),
			ev(casework.Accept, casework.Reported, casework.Filed, "2026-03-02 09:10", stage(casework.StageAccept, 600, false)),
		}}
		h.Events = append(h.Events, extra...)
		return h
	}
	for _, tc := range []struct {
		name string
		h    History
		want int
	}{
		{"resident", filed(casework.SourceResident), 1},
		{"hotline", filed(casework.SourceHotline), 1},
		{"video", filed(casework.SourceVideo), 1},
		{"integrator", filed(casework.SourceIntegrator), 1},
		{"grid worker", filed(casework.SourceGridWorker), 0},
		{"leader", filed(casework.SourceLeader), 0},
		{"merged into an earlier case", filed(casework.SourceResident,
			ev(casework.Merge, casework.Filed, casework.Cancelled, "2026-03-02 09:20", stage(casework.StageDispatch, 600, false))), 0},
		{"not in a grid", History{CaseID: 4, Source: casework.SourceResident, Events: filed(casework.SourceResident).Events}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := foldOne(t, ByWorker, march, tc.h)
			if got := a.rows["7"]; (got == nil && tc.want != 0) || (got != nil && got.counts[cMissed] != tc.want) {
				t.Errorf("worker 7's missed reports: %+v, want %d", got, tc.want)
			}
		})
	}
}

// TestPeriodEdges: an event at the period's first instant counts, one at its end does not.
func TestPeriodEdges(t *testing.T) {
	h := History{CaseID: 5, RegionPath: "/1/", Events: []Event{
		ev(casework.ReportAction, "", casework.Reported, "2026-02-28 23:59", by(9, identity.RoleGridWorker)),
		ev(casework.Accept, casework.Reported, casework.Filed, "2026-03-01 00:00", stage(casework.StageAccept, 60, false)),
		ev(casework.Dispatch, casework.Filed, casework.Dispatched, "2026-04-01 00:00", stage(casework.StageDispatch, 60, false), dept(1)),
	}}
	a, _ := foldOne(t, ByRegion, march, h)
	r := a.total.row(ByRegion, "")
	if r.Reported != 0 || r.Filed != 1 || r.Dispatched != 0 || r.ValidReports != 1 || r.Reports != 0 || r.Stages[casework.StageAccept].Count != 1 {
		t.Errorf("edges: %+v", r)
	}
}

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want worktime.Limit
		ok   bool
	}{
		{"1 work_days", worktime.WorkDaysLimit(1), true},
		{"15 work_days", worktime.WorkDaysLimit(15), true},
		{"2 urgent_hours", worktime.UrgentHoursLimit(2), true},
		{"0h15m work_hours", worktime.Limit{Unit: worktime.WorkHours, Minutes: 15}, true},
		{"2h30m urgent_hours", worktime.Limit{Unit: worktime.UrgentHours, Value: 2, Minutes: 30}, true},
		{"3 natural_days", worktime.NaturalDaysLimit(3), true},
		{"", worktime.Limit{}, false},
		{"1 fortnights", worktime.Limit{}, false},
		{"x work_days", worktime.Limit{}, false},
		{"0 work_days", worktime.Limit{}, false},
	} {
		got, ok := ParseLimit(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("round trip %q → %q", tc.in, got.String())
		}
	}
}
