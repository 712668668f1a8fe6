package store

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// caseTimeCols are the columns of cases that migration 00008 added: the handling clock, the
// request flags, the suspension's pause and the open supervisions. caseRow embeds them.
type caseTimeCols struct {
	HandleLimitUnit    *string
	HandleLimitValue   *int
	HandleLimitMinutes *int
	HandleExtensions   int
	Extensions         int
	ExtensionPending   bool
	Suspensions        int
	SuspensionPending  bool
	SuspendedAt        *time.Time
	SuspendedUntil     *time.Time
	ResumedAt          *time.Time
	OpenSupervisions   int
	SupervisionLevel   *string
}

// apply copies the columns onto a case.
func (r caseTimeCols) apply(c *casework.Case) {
	if r.HandleLimitUnit != nil {
		c.HandleLimit = &worktime.Limit{Unit: worktime.Unit(*r.HandleLimitUnit), Value: caseDeref(r.HandleLimitValue), Minutes: caseDeref(r.HandleLimitMinutes)}
	}
	c.HandleExtensions, c.Extensions, c.ExtensionPending = r.HandleExtensions, r.Extensions, r.ExtensionPending
	c.Suspensions, c.SuspensionPending = r.Suspensions, r.SuspensionPending
	c.SuspendedAt, c.SuspendedUntil, c.ResumedAt = utcPtr(r.SuspendedAt), utcPtr(r.SuspendedUntil), utcPtr(r.ResumedAt)
	c.OpenSupervisions, c.SupervisionLevel = r.OpenSupervisions, caseDeref(r.SupervisionLevel)
}

func caseTimeColsOf(c casework.Case) caseTimeCols {
	r := caseTimeCols{
		HandleExtensions: c.HandleExtensions, Extensions: c.Extensions, ExtensionPending: c.ExtensionPending,
		Suspensions: c.Suspensions, SuspensionPending: c.SuspensionPending,
		SuspendedAt: utcPtr(c.SuspendedAt), SuspendedUntil: utcPtr(c.SuspendedUntil), ResumedAt: utcPtr(c.ResumedAt),
		OpenSupervisions: c.OpenSupervisions, SupervisionLevel: caseNullString(c.SupervisionLevel),
	}
	if l := c.HandleLimit; l != nil {
		u, v, m := string(l.Unit), l.Value, l.Minutes
		r.HandleLimitUnit, r.HandleLimitValue, r.HandleLimitMinutes = &u, &v, &m
	}
	return r
}

// ---- requests ----

type caseRequestRow struct {
	ID           int64 `gorm:"primaryKey"`
	CaseID       int64
	Kind         string
	Status       string
	Reason       string
	SuspendUntil *time.Time
	RequestedBy  *int64
	RequestedAt  time.Time
	DecidedBy    *int64
	DecidedAt    *time.Time
	DecisionNote *string
}

func (caseRequestRow) TableName() string { return "case_requests" }

func (r caseRequestRow) domain() casework.Request {
	return casework.Request{ID: r.ID, CaseID: r.CaseID, Kind: casework.RequestKind(r.Kind), Status: casework.RequestStatus(r.Status),
		Reason: r.Reason, Until: utcPtr(r.SuspendUntil), RequestedBy: caseDeref(r.RequestedBy), RequestedAt: r.RequestedAt.UTC(),
		DecidedBy: caseDeref(r.DecidedBy), DecidedAt: utcPtr(r.DecidedAt), DecisionNote: caseDeref(r.DecisionNote)}
}

// AddRequest inserts a pending request; Conflict when one of its kind already waits.
func (s *Store) AddRequest(ctx context.Context, r *casework.Request) error {
	row := caseRequestRow{CaseID: r.CaseID, Kind: string(r.Kind), Status: string(casework.RequestPending), Reason: r.Reason,
		SuspendUntil: utcPtr(r.Until), RequestedBy: caseNullID(r.RequestedBy), RequestedAt: utc(r.RequestedAt)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "add "+string(r.Kind)+" request")
	}
	r.ID, r.Status = row.ID, casework.RequestPending
	return nil
}

// DecideRequest closes the case's pending request of a kind.
func (s *Store) DecideRequest(ctx context.Context, caseID int64, kind casework.RequestKind, status casework.RequestStatus, by int64, at time.Time, note string) (casework.Request, error) {
	var rows []caseRequestRow
	q := s.forUpdate(s.conn(ctx).Where("case_id = ? AND kind = ? AND status = ?", caseID, string(kind), string(casework.RequestPending)))
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return casework.Request{}, s.translate(err, "read pending request")
	}
	if len(rows) == 0 {
		return casework.Request{}, errs.NotFoundf("no %s request is pending on case %d", kind, caseID)
	}
	r := rows[0]
	r.Status, r.DecidedBy, r.DecidedAt, r.DecisionNote = string(status), caseNullID(by), ptrUTC(at), caseNullString(note)
	err := s.conn(ctx).Model(&caseRequestRow{}).Where("id = ?", r.ID).Updates(map[string]any{
		"status": r.Status, "decided_by": r.DecidedBy, "decided_at": r.DecidedAt, "decision_note": r.DecisionNote}).Error
	if err != nil {
		return casework.Request{}, s.translate(err, "decide request")
	}
	return r.domain(), nil
}

// LapseRequests marks a case's pending requests lapsed.
func (s *Store) LapseRequests(ctx context.Context, caseID int64, at time.Time) error {
	err := s.conn(ctx).Model(&caseRequestRow{}).Where("case_id = ? AND status = ?", caseID, string(casework.RequestPending)).
		Updates(map[string]any{"status": string(casework.RequestLapsed), "decided_at": utc(at)}).Error
	return s.translate(err, "lapse requests")
}

// Requests lists a case's requests, oldest first.
func (s *Store) Requests(ctx context.Context, caseID int64) ([]casework.Request, error) {
	var rows []caseRequestRow
	if err := s.conn(ctx).Where("case_id = ?", caseID).Order("id").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list requests")
	}
	out := make([]casework.Request, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ---- supervisions ----

type caseSupervisionRow struct {
	ID           int64 `gorm:"primaryKey"`
	CaseID       int64
	Level        string
	Source       string
	Rule         *string
	Note         string
	DepartmentID *int64
	CreatedBy    *int64
	CreatedAt    time.Time
	Reply        *string
	RepliedBy    *int64
	RepliedAt    *time.Time
}

func (caseSupervisionRow) TableName() string { return "case_supervisions" }

func (r caseSupervisionRow) domain() casework.Supervision {
	return casework.Supervision{ID: r.ID, CaseID: r.CaseID, Level: calendar.Level(r.Level), Source: r.Source, Rule: caseDeref(r.Rule),
		Note: r.Note, DepartmentID: caseDeref(r.DepartmentID), CreatedBy: caseDeref(r.CreatedBy), CreatedAt: r.CreatedAt.UTC(),
		Reply: caseDeref(r.Reply), RepliedBy: caseDeref(r.RepliedBy), RepliedAt: utcPtr(r.RepliedAt)}
}

// AddSupervision inserts a supervision and sets its ID.
func (s *Store) AddSupervision(ctx context.Context, sv *casework.Supervision) error {
	row := caseSupervisionRow{CaseID: sv.CaseID, Level: string(sv.Level), Source: sv.Source, Rule: caseNullString(sv.Rule), Note: sv.Note,
		DepartmentID: caseNullID(sv.DepartmentID), CreatedBy: caseNullID(sv.CreatedBy), CreatedAt: utc(sv.CreatedAt)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "add supervision")
	}
	sv.ID = row.ID
	return nil
}

// ReplySupervisions answers one open supervision of a case (id), or all of them (id 0).
func (s *Store) ReplySupervisions(ctx context.Context, caseID, id int64, reply string, by int64, at time.Time) (int, error) {
	q := s.conn(ctx).Model(&caseSupervisionRow{}).Where("case_id = ? AND replied_at IS NULL", caseID)
	if id != 0 {
		q = q.Where("id = ?", id)
	}
	res := q.Updates(map[string]any{"reply": reply, "replied_by": caseNullID(by), "replied_at": utc(at)})
	if res.Error != nil {
		return 0, s.translate(res.Error, "reply to supervision")
	}
	return int(res.RowsAffected), nil
}

// Supervisions lists a case's supervisions (the open ones when openOnly), oldest first.
func (s *Store) Supervisions(ctx context.Context, caseID int64, openOnly bool) ([]casework.Supervision, error) {
	q := s.conn(ctx).Where("case_id = ?", caseID)
	if openOnly {
		q = q.Where("replied_at IS NULL")
	}
	var rows []caseSupervisionRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list supervisions")
	}
	out := make([]casework.Supervision, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ---- timers ----

// CaseTimerArgs is the job of a case timer (casework.Timer). It is unique by its arguments, so
// a timer scheduled again (by a retried transaction, or by two replicas) is inserted once.
type CaseTimerArgs struct {
	CaseID    int64     `json:"case_id"`
	TimerKind string    `json:"timer"`
	Stage     string    `json:"stage"`
	Entry     time.Time `json:"entry"`
	At        time.Time `json:"at"`
	Rule      string    `json:"rule,omitempty"`
	Level     string    `json:"level,omitempty"`
	Overdue   bool      `json:"overdue,omitempty"`
}

// Kind implements river.JobArgs.
func (CaseTimerArgs) Kind() string { return "case_timer" }

// Timer returns the casework timer the job carries.
func (a CaseTimerArgs) Timer() casework.Timer {
	return casework.Timer{CaseID: a.CaseID, Kind: casework.TimerKind(a.TimerKind), Stage: casework.Stage(a.Stage), Entry: a.Entry.UTC(),
		At: a.At.UTC(), Rule: a.Rule, Level: a.Level, Overdue: a.Overdue}
}

func caseTimerArgsOf(t casework.Timer) CaseTimerArgs {
	return CaseTimerArgs{CaseID: t.CaseID, TimerKind: string(t.Kind), Stage: string(t.Stage), Entry: t.Entry.UTC(), At: t.At.UTC(),
		Rule: t.Rule, Level: t.Level, Overdue: t.Overdue}
}

// ScheduleTimers enqueues each timer as a job due at its instant, unique by its arguments, in
// the store's transaction.
func (s *Store) ScheduleTimers(ctx context.Context, timers []casework.Timer) error {
	params := make([]river.InsertManyParams, len(timers))
	for i, t := range timers {
		params[i] = river.InsertManyParams{Args: caseTimerArgsOf(t), InsertOpts: &river.InsertOpts{
			ScheduledAt: t.At.UTC(),
			UniqueOpts:  river.UniqueOpts{ByArgs: true},
		}}
	}
	return s.EnqueueManyTx(ctx, params)
}

// MarkTimerFired records a timer's key for the case and reports whether it was new.
func (s *Store) MarkTimerFired(ctx context.Context, caseID int64, key string, at time.Time) (bool, error) {
	res := s.conn(ctx).Exec(`INSERT INTO case_timer_fires (case_id, timer_key, fired_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		caseID, key, utc(at))
	if res.Error != nil {
		return false, s.translate(res.Error, "mark timer fired")
	}
	return res.RowsAffected == 1, nil
}

func ptrUTC(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}
