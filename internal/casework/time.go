package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Exact time (docs/time-rules.md): each case runs on the calendar, stage limits and
// supervision rules of its city; the handling clock takes extensions (延期) and one suspension
// (挂账); supervisors urge cases (督办); and timers — jobs enqueued in the transaction that
// enters a stage — warn, mark overdue, supervise and resume on time.

// The limits of extensions and suspensions (DOMAIN.md §3).
const (
	MaxExtensions     = 2                       // approved extensions per case, each one original limit
	MaxSuspensions    = 1                       // approved suspensions per case
	MaxSuspensionDays = 365                     // how long one may last
	timerTolerance    = time.Millisecond        // instants read back from the database may lose nanoseconds
	systemRole        = identity.Role("system") // the actor of timer events
)

// TimeRules answers which calendar, stage limits and supervision rules apply at a place;
// *calendar.Service implements it.
type TimeRules interface {
	RulesFor(regionPath string) calendar.Rules
}

// UseTimeRules makes the service compute deadlines with the rules of each case's city instead
// of its fixed calendar and configured stage limits.
func (s *Service) UseTimeRules(r TimeRules) { s.rules = r }

// timeRules are the rules of one case.
type timeRules struct {
	cal         Calendar
	limits      map[Stage]worktime.Limit
	supervision []calendar.Rule
}

// rulesOf returns the rules of a case's place (its grid's path, or its desk's while unplaced).
func (s *Service) rulesOf(c *Case) timeRules {
	if s.rules == nil {
		return timeRules{cal: s.cal, limits: s.cfg.StageLimits, supervision: calendar.DefaultRules()}
	}
	path := c.RegionPath
	if path == "" {
		path = c.DeskRegionPath
	}
	r := s.rules.RulesFor(path)
	limits := make(map[Stage]worktime.Limit, len(r.StageLimits))
	for k, v := range r.StageLimits {
		limits[Stage(k)] = v
	}
	return timeRules{cal: r.Calendar, limits: limits, supervision: r.Supervision}
}

// RequestKind is what a request asks for.
type RequestKind string

// The request kinds.
const (
	ExtensionRequest  RequestKind = "extension"  // 延期申请
	SuspensionRequest RequestKind = "suspension" // 挂账申请
)

// RequestStatus is where a request stands.
type RequestStatus string

// The request statuses.
const (
	RequestPending  RequestStatus = "pending"
	RequestApproved RequestStatus = "approved"
	RequestDenied   RequestStatus = "denied"
	RequestLapsed   RequestStatus = "lapsed" // the case left handling before a decision
)

// Request is a handler's request for an extension or a suspension, and its decision.
type Request struct {
	ID           int64
	CaseID       int64
	Kind         RequestKind
	Status       RequestStatus
	Reason       string
	Until        *time.Time // suspension: the end asked for
	RequestedBy  int64
	RequestedAt  time.Time
	DecidedBy    int64
	DecidedAt    *time.Time
	DecisionNote string
}

// Supervision sources.
const (
	SupervisionManual = "manual" // a supervisor's
	SupervisionAuto   = "auto"   // a rule's
)

// Supervision is an urge (督办) to the lead department, which must reply.
type Supervision struct {
	ID           int64
	CaseID       int64
	Level        calendar.Level
	Source       string
	Rule         string // the rule that raised it (auto)
	Note         string
	DepartmentID int64 // who must reply
	CreatedBy    int64 // 0 for a rule
	CreatedAt    time.Time
	Reply        string
	RepliedBy    int64
	RepliedAt    *time.Time
}

// TimerKind is what a timer does when it fires.
type TimerKind string

// The timer kinds.
const (
	TimerWarn    TimerKind = "warn"    // the stage's light turns yellow: a warn event
	TimerOverdue TimerKind = "overdue" // the stage's deadline passed: an overdue event (red)
	TimerRule    TimerKind = "rule"    // a supervision rule fires: an automatic supervision
	TimerResume  TimerKind = "resume"  // a suspension ends: the case resumes by itself
)

// Timer is one scheduled job on a case. It belongs to one run of a stage's clock (Entry: when
// the clock started — the dispatch for handling, the stage's entry otherwise, the suspension's
// start for a resume) and fires at At; when it runs it does nothing unless the case's clock is
// still that one with that instant (a stage left, or a deadline moved by an extension or a
// pause, makes it stale: the new instant has its own timer).
type Timer struct {
	CaseID  int64
	Kind    TimerKind
	Stage   Stage
	Entry   time.Time // the clock's start
	At      time.Time
	Rule    string // TimerRule: the rule, as calendar.Rule.String gives it
	Level   string // TimerRule: the level it raises
	Overdue bool   // TimerRule: it fires at the stage's deadline (stale once the deadline moves)
}

// Key identifies a timer among a case's; the store records it when the timer acts, so that a
// timer run twice acts once. A warning that fired before a suspension has the same key after
// the resumption (the pause came after it, so it did not move) and does not fire again.
func (t Timer) Key() string {
	k := fmt.Sprintf("%s:%s:%d:%d", t.Kind, t.Stage, t.Entry.UnixMilli(), t.At.UnixMilli())
	if t.Kind == TimerRule {
		k += ":" + t.Rule
	}
	return k
}

// TimeStore is what the time rules keep; *store.Store implements it. Every method runs in the
// caller's transaction, under the case's row lock.
type TimeStore interface {
	// AddRequest inserts r (pending) and sets r.ID; Conflict when one of its kind is pending.
	AddRequest(ctx context.Context, r *Request) error
	// DecideRequest closes the case's pending request of a kind with a status; NotFound when
	// none is pending.
	DecideRequest(ctx context.Context, caseID int64, kind RequestKind, status RequestStatus, by int64, at time.Time, note string) (Request, error)
	// LapseRequests marks the case's pending requests lapsed.
	LapseRequests(ctx context.Context, caseID int64, at time.Time) error
	// Requests lists a case's requests, oldest first.
	Requests(ctx context.Context, caseID int64) ([]Request, error)
	// AddSupervision inserts sv and sets sv.ID.
	AddSupervision(ctx context.Context, sv *Supervision) error
	// ReplySupervisions records a reply to an open supervision of the case (id), or to every
	// open one (id 0), and returns how many it answered.
	ReplySupervisions(ctx context.Context, caseID, id int64, reply string, by int64, at time.Time) (int, error)
	// Supervisions lists a case's supervisions (only the open ones when openOnly), oldest first.
	Supervisions(ctx context.Context, caseID int64, openOnly bool) ([]Supervision, error)
	// ScheduleTimers enqueues the timers as unique jobs in the transaction.
	ScheduleTimers(ctx context.Context, timers []Timer) error
	// MarkTimerFired records that a timer acted and reports whether it is the first time.
	MarkTimerFired(ctx context.Context, caseID int64, key string, at time.Time) (bool, error)
}

// ---- the clock of the stages ----

// pausesOf is the case's pause (its one suspension): to its resumption, or while it runs to its
// planned end.
func pausesOf(c *Case) []worktime.Interval {
	if c.SuspendedAt == nil {
		return nil
	}
	end := c.ResumedAt
	if end == nil {
		end = c.SuspendedUntil
	}
	if end == nil {
		return []worktime.Interval{{Start: *c.SuspendedAt}}
	}
	return []worktime.Interval{{Start: *c.SuspendedAt, End: *end}}
}

// clockStart is when the running stage's clock started: the (last) dispatch for handling,
// the stage's entry otherwise.
func clockStart(c *Case) time.Time {
	if c.Stage == StageHandle && c.DispatchedAt != nil {
		return *c.DispatchedAt
	}
	return c.StageStartedAt
}

// setHandleClock computes the handling deadline from the dispatch, the original limit times
// (1 + the extensions applied) and the pause; while the case handles, the stage's limit,
// deadline and warning time follow it.
func (s *Service) setHandleClock(c *Case) {
	if c.HandleLimit == nil || c.DispatchedAt == nil {
		return
	}
	cal := s.rulesOf(c).cal
	l := c.HandleLimit.Times(1 + c.HandleExtensions)
	ps := pausesOf(c)
	d := cal.DeadlineWithPauses(*c.DispatchedAt, l, ps).UTC()
	w := cal.WarnAt(*c.DispatchedAt, l, ps).UTC()
	c.HandleDeadline = &d
	if c.Stage == StageHandle {
		c.StageLimit, c.StageDeadline, c.StageWarnAt = &l, &d, &w
	}
}

// overdue reports whether the running stage is past its deadline at now.
func overdue(c *Case, now time.Time) bool {
	return c.Stage != StageNone && c.StageDeadline != nil && now.After(*c.StageDeadline)
}

// ---- guards and validation ----

// timeStateGuard returns why the workflow refuses a time action on c now, or "".
func timeStateGuard(c *Case, a Action, f Facts) string {
	switch a {
	case RequestExtension:
		switch {
		case c.ExtensionPending:
			return "an extension request is already waiting for a decision"
		case c.Extensions >= MaxExtensions:
			return fmt.Sprintf("the case was already extended %d times, the most allowed", MaxExtensions)
		case overdue(c, f.Now):
			return fmt.Sprintf("the case is overdue (its handling deadline was %s): an overdue case cannot be extended", c.StageDeadline.UTC().Format(time.RFC3339))
		case c.HandleLimit == nil:
			return "the case has no handling limit to extend"
		}
	case ApproveExtension, DenyExtension:
		if !c.ExtensionPending {
			return "no extension request is waiting for a decision"
		}
		if a == ApproveExtension && overdue(c, f.Now) {
			return fmt.Sprintf("the handling deadline (%s) passed before the approval: an overdue case cannot be extended; deny the request", c.StageDeadline.UTC().Format(time.RFC3339))
		}
	case RequestSuspension:
		switch {
		case c.SuspensionPending:
			return "a suspension request is already waiting for a decision"
		case c.Suspensions >= MaxSuspensions:
			return "the case was already suspended once, the most allowed"
		}
	case ApproveSuspension, DenySuspension:
		if !c.SuspensionPending {
			return "no suspension request is waiting for a decision"
		}
	case ReplySupervision:
		if c.OpenSupervisions == 0 {
			return "the case has no open supervision to reply to"
		}
	}
	return ""
}

// timeRoleGuard returns why p may not do a time action on c, or "" when p may:
//   - request-extension, request-suspension, reply-supervision: a handler of the lead department;
//   - approve/deny an extension or a suspension: a supervisor whose region holds the case, or
//     the desk (a dispatcher holding the case's desk), or an admin;
//   - resume: those, or a handler of the lead department;
//   - supervise: a supervisor whose region holds the case, or an admin.
func timeRoleGuard(c *Case, p identity.Principal, a Action) string {
	leadHandler := p.Is(identity.RoleHandler) && c.LeadDepartmentID != 0 && p.Scope.Kind == identity.ScopeDepartment && p.Scope.DepartmentID == c.LeadDepartmentID
	approver := p.Is(identity.RoleAdmin) || (p.Is(identity.RoleSupervisor) && inRegion(c, p)) || (p.Is(identity.RoleDispatcher) && holdsDesk(c, p))
	switch a {
	case RequestExtension, RequestSuspension, ReplySupervision:
		if leadHandler {
			return ""
		}
		return fmt.Sprintf("only a handler of the lead department may %s", a)
	case ApproveExtension, DenyExtension, ApproveSuspension, DenySuspension:
		if approver {
			return ""
		}
		return fmt.Sprintf("only a supervisor or the desk holding the case may %s", a)
	case Resume:
		if approver || leadHandler {
			return ""
		}
		return "only the desk, a supervisor or the lead department may resume a suspended case"
	case Supervise:
		if p.Is(identity.RoleAdmin) || (p.Is(identity.RoleSupervisor) && inRegion(c, p)) {
			return ""
		}
		return "only a supervisor whose region holds the case may supervise it"
	}
	return fmt.Sprintf("%s is not allowed", a)
}

// isTimeAction reports whether a is one of the time actions of this file.
func isTimeAction(a Action) bool {
	switch a {
	case RequestExtension, ApproveExtension, DenyExtension, RequestSuspension, ApproveSuspension, DenySuspension, Resume, Supervise, ReplySupervision:
		return true
	}
	return false
}

// inRegion reports whether p's region scope holds the case's grid or its desk.
func inRegion(c *Case, p identity.Principal) bool {
	if holdsDesk(c, p) {
		return true
	}
	return p.Scope.Kind == identity.ScopeRegion && p.Scope.RegionPath != "" && c.RegionPath != "" && strings.HasPrefix(c.RegionPath, p.Scope.RegionPath)
}

// validateTime adds the field errors of the time actions (the text lengths are checked by
// validate for every action).
func validateTime(cmd Command, f *errs.Fields) {
	required := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			f.Add(field, "required", "%s is required for %s", field, cmd.Action)
		}
	}
	switch cmd.Action {
	case RequestExtension, DenyExtension, DenySuspension:
		required("reason", cmd.Reason)
	case RequestSuspension:
		required("reason", cmd.Reason)
		if cmd.Until == nil {
			f.Add("until", "required", "until is required: when the suspension should end (at most %d days)", MaxSuspensionDays)
		}
	case Supervise:
		required("note", cmd.Note)
		if !calendar.Level(cmd.Level).Valid() {
			f.Add("level", "enum", "level must be normal, yellow or red")
		}
	case ReplySupervision:
		required("note", cmd.Note)
		if cmd.SupervisionID < 0 {
			f.Add("supervision_id", "positive", "supervision_id is a positive id")
		}
	}
}

// checkUntil checks a suspension's end against its start.
func checkUntil(until, start time.Time) error {
	switch {
	case !until.After(start):
		return fieldErr("until", "future", "until must be after now (%s)", start.UTC().Format(time.RFC3339))
	case until.Sub(start) > MaxSuspensionDays*24*time.Hour:
		return fieldErr("until", "max", "a suspension lasts at most %d days (until %s)", MaxSuspensionDays,
			start.Add(MaxSuspensionDays*24*time.Hour).UTC().Format(time.RFC3339))
	}
	return nil
}

// ---- actions ----

// applyTime does a time action on c (allowed, valid) and fills its event.
func (s *Service) applyTime(ctx context.Context, tx Store, p identity.Principal, c *Case, cmd Command, ev *Event, now time.Time) error {
	switch cmd.Action {
	case RequestExtension:
		r := Request{CaseID: c.ID, Kind: ExtensionRequest, Status: RequestPending, Reason: ev.Reason, RequestedBy: p.UserID, RequestedAt: now}
		if err := tx.AddRequest(ctx, &r); err != nil {
			return fmt.Errorf("record the extension request: %w", err)
		}
		c.ExtensionPending = true
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["request_id"] = r.ID
		ev.Data["handle_deadline"] = fmtTime(c.HandleDeadline)

	case ApproveExtension:
		r, err := tx.DecideRequest(ctx, c.ID, ExtensionRequest, RequestApproved, p.UserID, now, ev.Note)
		if err != nil {
			return fmt.Errorf("approve the extension: %w", err)
		}
		before := fmtTime(c.HandleDeadline)
		c.ExtensionPending = false
		c.Extensions++
		c.HandleExtensions++
		s.setHandleClock(c)
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["request_id"], ev.Data["extension"] = r.ID, c.Extensions
		ev.Data["handle_deadline_before"], ev.Data["handle_deadline"] = before, fmtTime(c.HandleDeadline)
		ev.Data["handle_limit"] = c.HandleLimit.Times(1 + c.HandleExtensions).String()

	case DenyExtension, DenySuspension:
		kind := ExtensionRequest
		if cmd.Action == DenySuspension {
			kind = SuspensionRequest
		}
		r, err := tx.DecideRequest(ctx, c.ID, kind, RequestDenied, p.UserID, now, ev.Reason)
		if err != nil {
			return fmt.Errorf("deny the %s: %w", kind, err)
		}
		if kind == ExtensionRequest {
			c.ExtensionPending = false
		} else {
			c.SuspensionPending = false
		}
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["request_id"] = r.ID

	case RequestSuspension:
		until := cmd.Until.UTC()
		if err := checkUntil(until, now); err != nil {
			return err
		}
		r := Request{CaseID: c.ID, Kind: SuspensionRequest, Status: RequestPending, Reason: ev.Reason, Until: &until, RequestedBy: p.UserID, RequestedAt: now}
		if err := tx.AddRequest(ctx, &r); err != nil {
			return fmt.Errorf("record the suspension request: %w", err)
		}
		c.SuspensionPending = true
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["request_id"], ev.Data["until"] = r.ID, until.Format(time.RFC3339)

	case ApproveSuspension:
		return s.approveSuspension(ctx, tx, p, c, cmd, ev, now)

	case Resume:
		s.resume(c, ev, now)

	case Supervise:
		sv := Supervision{CaseID: c.ID, Level: calendar.Level(cmd.Level), Source: SupervisionManual, Note: ev.Note,
			DepartmentID: c.LeadDepartmentID, CreatedBy: p.UserID, CreatedAt: now}
		if err := tx.AddSupervision(ctx, &sv); err != nil {
			return fmt.Errorf("record the supervision: %w", err)
		}
		raise(c, sv.Level)
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["supervision_id"], ev.Data["level"] = sv.ID, string(sv.Level)

	case ReplySupervision:
		n, err := tx.ReplySupervisions(ctx, c.ID, cmd.SupervisionID, ev.Note, p.UserID, now)
		if err != nil {
			return fmt.Errorf("reply to the supervision: %w", err)
		}
		if n == 0 {
			return fieldErr("supervision_id", "open", "supervision %d is not an open supervision of this case", cmd.SupervisionID)
		}
		if err := s.countSupervisions(ctx, tx, c); err != nil {
			return err
		}
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["replied"] = n
		if cmd.SupervisionID != 0 {
			ev.Data["supervision_id"] = cmd.SupervisionID
		}
	}
	return nil
}

// approveSuspension stops the handling clock: the case is suspended from now to the end asked
// for (or an earlier one the approver sets), and its deadline moves by the paused work time.
func (s *Service) approveSuspension(ctx context.Context, tx Store, p identity.Principal, c *Case, cmd Command, ev *Event, now time.Time) error {
	r, err := tx.DecideRequest(ctx, c.ID, SuspensionRequest, RequestApproved, p.UserID, now, ev.Note)
	if err != nil {
		return fmt.Errorf("approve the suspension: %w", err)
	}
	until := *r.Until
	if cmd.Until != nil {
		if cmd.Until.After(until) {
			return fieldErr("until", "requested", "the approval may shorten the suspension, not lengthen it: the handler asked until %s", until.Format(time.RFC3339))
		}
		until = cmd.Until.UTC()
	} else if !until.After(now) {
		return errs.E(errs.Conflict, "the suspension was asked until %s, which has passed: deny it, or approve with an earlier until", until.Format(time.RFC3339)).
			With("state", string(c.State))
	}
	if err := checkUntil(until, now); err != nil {
		return err
	}
	c.SuspensionPending = false
	c.Suspensions++
	c.SuspendedAt, c.SuspendedUntil, c.ResumedAt = &now, &until, nil
	s.leaveStage(c, ev, now)
	s.enterStage(c, StageNone, now, nil)
	s.setHandleClock(c) // the projected deadline, should it resume on time
	ev.TargetDepartmentID = c.LeadDepartmentID
	ev.Data["request_id"], ev.Data["until"] = r.ID, until.Format(time.RFC3339)
	ev.Data["handle_deadline"] = fmtTime(c.HandleDeadline)
	return nil
}

// resume restarts the handling clock at end; the deadline moves by the work time paused.
func (s *Service) resume(c *Case, ev *Event, end time.Time) {
	c.ResumedAt = &end
	c.Stage, c.StageStartedAt, c.StageDeadline, c.StageWarnAt, c.StageLimit = StageHandle, end, nil, nil, nil
	s.setHandleClock(c)
	ev.TargetDepartmentID = c.LeadDepartmentID
	ev.Data["paused_from"], ev.Data["paused_to"] = fmtTime(c.SuspendedAt), end.UTC().Format(time.RFC3339)
	ev.Data["handle_deadline"] = fmtTime(c.HandleDeadline)
}

// lapseRequests closes a case's pending requests when it leaves handling (feedback, return …)
// before a decision.
func (s *Service) lapseRequests(ctx context.Context, tx Store, c *Case, ev *Event, now time.Time) error {
	if (!c.ExtensionPending && !c.SuspensionPending) || ev.ToState == Handling || ev.ToState == Suspended {
		return nil
	}
	if err := tx.LapseRequests(ctx, c.ID, now); err != nil {
		return fmt.Errorf("lapse pending requests: %w", err)
	}
	c.ExtensionPending, c.SuspensionPending = false, false
	ev.Data["requests_lapsed"] = true
	return nil
}

// raise counts a new open supervision on the case.
func raise(c *Case, l calendar.Level) {
	c.OpenSupervisions++
	if l.Rank() > calendar.Level(c.SupervisionLevel).Rank() {
		c.SupervisionLevel = string(l)
	}
}

// countSupervisions recounts the open supervisions and their highest level.
func (s *Service) countSupervisions(ctx context.Context, tx Store, c *Case) error {
	open, err := tx.Supervisions(ctx, c.ID, true)
	if err != nil {
		return fmt.Errorf("count open supervisions: %w", err)
	}
	c.OpenSupervisions, c.SupervisionLevel = 0, ""
	for _, sv := range open {
		raise(c, sv.Level)
	}
	return nil
}

// Supervisions lists a case's supervisions, oldest first, for a caller who may read the case.
func (s *Service) Supervisions(ctx context.Context, p identity.Principal, caseID int64) ([]Supervision, error) {
	if err := canRead(p); err != nil {
		return nil, err
	}
	if _, err := s.store.Case(ctx, caseID, ReachOf(p)); err != nil {
		return nil, notFound(err, caseID)
	}
	out, err := s.store.Supervisions(ctx, caseID, false)
	if err != nil {
		return nil, fmt.Errorf("case %d supervisions: %w", caseID, err)
	}
	return out, nil
}

// Requests lists a case's extension and suspension requests, oldest first.
func (s *Service) Requests(ctx context.Context, p identity.Principal, caseID int64) ([]Request, error) {
	if err := canRead(p); err != nil {
		return nil, err
	}
	if _, err := s.store.Case(ctx, caseID, ReachOf(p)); err != nil {
		return nil, notFound(err, caseID)
	}
	out, err := s.store.Requests(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("case %d requests: %w", caseID, err)
	}
	return out, nil
}

func fmtTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// ---- timers ----

// timerState is what a case's timers depend on: when it changes, new timers are due.
type timerState struct {
	state            State
	stage            Stage
	entry            time.Time
	warnAt, deadline time.Time
	until            time.Time
}

func timerStateOf(c *Case) timerState {
	t := timerState{state: c.State, stage: c.Stage, entry: c.StageStartedAt}
	if c.StageWarnAt != nil {
		t.warnAt = *c.StageWarnAt
	}
	if c.StageDeadline != nil {
		t.deadline = *c.StageDeadline
	}
	if c.State == Suspended && c.SuspendedUntil != nil {
		t.until = *c.SuspendedUntil
	}
	return t
}

func (t timerState) equal(u timerState) bool {
	return t.state == u.state && t.stage == u.stage && t.entry.Equal(u.entry) && t.warnAt.Equal(u.warnAt) &&
		t.deadline.Equal(u.deadline) && t.until.Equal(u.until)
}

// timersOf lists the timers of a case's running stage (or suspension): the warning at 80 %,
// the deadline, and the supervision rules watching the stage. An instant already past fires at
// once (a case signed after its handling deadline is overdue as it enters handling).
func (s *Service) timersOf(c *Case) []Timer {
	if c.State == Suspended {
		if c.SuspendedUntil == nil || c.SuspendedAt == nil {
			return nil
		}
		return []Timer{{CaseID: c.ID, Kind: TimerResume, Stage: StageNone, Entry: *c.SuspendedAt, At: *c.SuspendedUntil}}
	}
	if c.Stage == StageNone || c.StageDeadline == nil {
		return nil
	}
	start := clockStart(c)
	var out []Timer
	add := func(t Timer) {
		t.CaseID, t.Stage, t.Entry = c.ID, c.Stage, start
		out = append(out, t)
	}
	if c.StageWarnAt != nil {
		add(Timer{Kind: TimerWarn, At: *c.StageWarnAt})
	}
	add(Timer{Kind: TimerOverdue, At: *c.StageDeadline})
	r := s.rulesOf(c)
	for _, rule := range r.supervision {
		if rule.Stage != string(c.Stage) {
			continue
		}
		t := Timer{Kind: TimerRule, Rule: rule.String(), Level: string(rule.Level)}
		if rule.Trigger == calendar.Overdue {
			t.At, t.Overdue = *c.StageDeadline, true
		} else {
			at := r.cal.DeadlineWithPauses(start, rule.After, pausesOf(c))
			if at.IsZero() {
				continue
			}
			t.At = at.UTC()
		}
		add(t)
	}
	return out
}

// scheduleTimers enqueues the timers of c when what they depend on changed since before.
func (s *Service) scheduleTimers(ctx context.Context, tx Store, before timerState, c *Case) error {
	if timerStateOf(c).equal(before) {
		return nil
	}
	ts := s.timersOf(c)
	if len(ts) == 0 {
		return nil
	}
	if err := tx.ScheduleTimers(ctx, ts); err != nil {
		return fmt.Errorf("schedule timers of case %d: %w", c.ID, err)
	}
	return nil
}

// errStale ends a timer's transaction without a change.
var errStale = errors.New("stale timer")

// current reports whether the timer still belongs to the case as it is: the same stage, the
// same clock and the same instant (an extension moves the deadline; a new stage has its own
// timers).
func (t Timer) current(c *Case) bool {
	same := func(a *time.Time, b time.Time) bool {
		return a != nil && a.Sub(b).Abs() < timerTolerance
	}
	if t.Kind == TimerResume {
		return c.State == Suspended && same(c.SuspendedAt, t.Entry) && same(c.SuspendedUntil, t.At)
	}
	if c.Stage != t.Stage || clockStart(c).Sub(t.Entry).Abs() >= timerTolerance {
		return false
	}
	switch t.Kind {
	case TimerWarn:
		return same(c.StageWarnAt, t.At)
	case TimerOverdue:
		return same(c.StageDeadline, t.At)
	case TimerRule:
		return !t.Overdue || same(c.StageDeadline, t.At)
	}
	return false
}

// FireTimer acts on a timer that came due: under the case's row lock, and only if the timer
// is still current and has not acted before, it appends its event (warn, overdue,
// auto_supervise or auto_resume) and makes its change in one transaction. A stale or repeated
// timer does nothing; an error makes the queue retry it.
func (s *Service) FireTimer(ctx context.Context, t Timer) error {
	err := s.store.InCaseTx(ctx, func(tx Store) error {
		_, err := tx.UpdateCase(ctx, t.CaseID, Reach{All: true}, func(c *Case) error {
			if !t.current(c) {
				return errStale
			}
			now := s.now().UTC()
			first, err := tx.MarkTimerFired(ctx, c.ID, t.Key(), now)
			if err != nil {
				return err
			}
			if !first {
				return errStale
			}
			before := timerStateOf(c)
			if err := s.fire(ctx, tx, c, t, now); err != nil {
				return err
			}
			c.UpdatedAt = now
			return s.scheduleTimers(ctx, tx, before, c)
		})
		return err
	})
	if errors.Is(err, errStale) || errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fire %s timer of case %d: %w", t.Kind, t.CaseID, err)
	}
	return nil
}

// fire makes a current timer's change and appends its event.
func (s *Service) fire(ctx context.Context, tx Store, c *Case, t Timer, now time.Time) error {
	ev := Event{CaseID: c.ID, FromState: c.State, ToState: c.State, ActorRole: systemRole, Visibility: Internal, CreatedAt: now,
		Data: map[string]any{"stage": string(t.Stage), "due_at": t.At.UTC().Format(time.RFC3339)}}
	switch t.Kind {
	case TimerWarn:
		ev.Action = WarnAction
		ev.Data["light"], ev.Data["deadline"] = string(worktime.Yellow), fmtTime(c.StageDeadline)
	case TimerOverdue:
		ev.Action = OverdueAction
		ev.Data["light"], ev.Data["deadline"] = string(worktime.Red), fmtTime(c.StageDeadline)
	case TimerRule:
		ev.Action = AutoSupervise
		level := calendar.Level(t.Level)
		sv := Supervision{CaseID: c.ID, Level: level, Source: SupervisionAuto, Rule: t.Rule, DepartmentID: c.LeadDepartmentID, CreatedAt: now,
			Note: autoNote(c, t)}
		if err := tx.AddSupervision(ctx, &sv); err != nil {
			return fmt.Errorf("record the supervision: %w", err)
		}
		raise(c, level)
		ev.Note, ev.TargetDepartmentID = sv.Note, c.LeadDepartmentID
		ev.Data["supervision_id"], ev.Data["level"], ev.Data["rule"] = sv.ID, t.Level, t.Rule
	case TimerResume:
		ev.Action, ev.ToState = AutoResume, Handling
		delete(ev.Data, "stage")
		s.resume(c, &ev, t.At.UTC()) // the pause ends when it was planned to, even if the timer runs late
		c.State = Handling
	}
	if err := tx.AppendEvent(ctx, &ev); err != nil {
		return fmt.Errorf("log %s: %w", ev.Action, err)
	}
	return nil
}

// autoNote is the text of an automatic supervision.
func autoNote(c *Case, t Timer) string {
	what := "未按时签收"
	if t.Stage == StageHandle {
		what = "处置超时"
		if !t.Overdue {
			what = "处置时间过长"
		}
	}
	return fmt.Sprintf("系统自动督办（%s）：案卷 %s %s，请尽快办理并回复。", t.Rule, c.Number, what)
}
