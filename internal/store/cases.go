package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// caseRow is a row of cases (migration 00004).
type caseRow struct {
	ID                int64 `gorm:"primaryKey"`
	Number            string
	State             string
	Version           int64
	CategoryCode      *string
	Urgency           string
	Description       string
	Address           *string
	Lat               *float64
	Lng               *float64
	OrigLat           *float64
	OrigLng           *float64
	OrigCoordSys      *string
	GridCode          *string
	RegionPath        *string
	DeskRegionCode    *string
	DeskRegionPath    *string
	Source            string
	ReporterUserID    *int64
	ReporterAPIKeyID  *int64 `gorm:"column:reporter_api_key_id"`
	ExternalRef       *string
	OccurredAt        time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"` // the action's time (the service's clock), not GORM's
	FiledAt           *time.Time
	DispatchedAt      *time.Time
	ClosedAt          *time.Time
	LeadDepartmentID  *int64
	AssigneeUserID    *int64
	DuplicateOf       *int64
	SelfHandled       bool
	Verified          *bool
	ReworkCount       int
	ReturnCount       int
	ReopenCount       int
	Stage             string
	StageStartedAt    time.Time
	StageDeadline     *time.Time
	StageWarnAt       *time.Time // migration 00007
	StageLimitUnit    *string
	StageLimitValue   *int
	StageLimitMinutes *int
	HandleDeadline    *time.Time
	Satisfaction      *int
	EvaluationComment *string
	EvaluatedAt       *time.Time
	DeletedAt         *time.Time
	CaseTime          caseTimeCols `gorm:"embedded"` // migration 00008 (casetime.go)
}

func (caseRow) TableName() string { return "cases" }

func (r caseRow) domain() casework.Case {
	c := casework.Case{
		ID: r.ID, Number: r.Number, State: casework.State(r.State), Version: r.Version,
		CategoryCode: caseDeref(r.CategoryCode), Urgency: category.Urgency(r.Urgency),
		Description: r.Description, Address: caseDeref(r.Address), OrigCoordSys: caseDeref(r.OrigCoordSys),
		GridCode: caseDeref(r.GridCode), RegionPath: caseDeref(r.RegionPath),
		DeskRegionCode: caseDeref(r.DeskRegionCode), DeskRegionPath: caseDeref(r.DeskRegionPath),
		Source: casework.Source(r.Source), ReporterUserID: caseDeref(r.ReporterUserID), ReporterAPIKeyID: caseDeref(r.ReporterAPIKeyID),
		ExternalRef: caseDeref(r.ExternalRef),
		OccurredAt:  r.OccurredAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		FiledAt: utcPtr(r.FiledAt), DispatchedAt: utcPtr(r.DispatchedAt), ClosedAt: utcPtr(r.ClosedAt),
		LeadDepartmentID: caseDeref(r.LeadDepartmentID), AssigneeUserID: caseDeref(r.AssigneeUserID), DuplicateOf: caseDeref(r.DuplicateOf),
		SelfHandled: r.SelfHandled, Verified: r.Verified,
		ReworkCount: r.ReworkCount, ReturnCount: r.ReturnCount, ReopenCount: r.ReopenCount,
		Stage: casework.Stage(r.Stage), StageStartedAt: r.StageStartedAt.UTC(), StageDeadline: utcPtr(r.StageDeadline),
		StageWarnAt: utcPtr(r.StageWarnAt), HandleDeadline: utcPtr(r.HandleDeadline),
		Satisfaction: r.Satisfaction, EvaluationComment: caseDeref(r.EvaluationComment), EvaluatedAt: utcPtr(r.EvaluatedAt),
		DeletedAt: utcPtr(r.DeletedAt),
	}
	if r.Lat != nil && r.Lng != nil {
		c.Point = &casework.Point{Lat: *r.Lat, Lng: *r.Lng}
	}
	if r.OrigLat != nil && r.OrigLng != nil {
		c.OrigPoint = &casework.Point{Lat: *r.OrigLat, Lng: *r.OrigLng}
	}
	if r.StageLimitUnit != nil {
		c.StageLimit = &worktime.Limit{Unit: worktime.Unit(*r.StageLimitUnit), Value: caseDeref(r.StageLimitValue), Minutes: caseDeref(r.StageLimitMinutes)}
	}
	r.CaseTime.apply(&c)
	return c
}

func caseRowOf(c casework.Case) caseRow {
	r := caseRow{
		ID: c.ID, Number: c.Number, State: string(c.State), Version: c.Version,
		CategoryCode: caseNullString(c.CategoryCode), Urgency: string(c.Urgency),
		Description: c.Description, Address: caseNullString(c.Address), OrigCoordSys: caseNullString(c.OrigCoordSys),
		GridCode: caseNullString(c.GridCode), RegionPath: caseNullString(c.RegionPath),
		DeskRegionCode: caseNullString(c.DeskRegionCode), DeskRegionPath: caseNullString(c.DeskRegionPath),
		Source: string(c.Source), ReporterUserID: caseNullID(c.ReporterUserID), ReporterAPIKeyID: caseNullID(c.ReporterAPIKeyID),
		ExternalRef: caseNullString(c.ExternalRef),
		OccurredAt:  utc(c.OccurredAt), CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
		FiledAt: utcPtr(c.FiledAt), DispatchedAt: utcPtr(c.DispatchedAt), ClosedAt: utcPtr(c.ClosedAt),
		LeadDepartmentID: caseNullID(c.LeadDepartmentID), AssigneeUserID: caseNullID(c.AssigneeUserID), DuplicateOf: caseNullID(c.DuplicateOf),
		SelfHandled: c.SelfHandled, Verified: c.Verified,
		ReworkCount: c.ReworkCount, ReturnCount: c.ReturnCount, ReopenCount: c.ReopenCount,
		Stage: string(c.Stage), StageStartedAt: utc(c.StageStartedAt), StageDeadline: utcPtr(c.StageDeadline),
		StageWarnAt: utcPtr(c.StageWarnAt), HandleDeadline: utcPtr(c.HandleDeadline),
		Satisfaction: c.Satisfaction, EvaluationComment: caseNullString(c.EvaluationComment), EvaluatedAt: utcPtr(c.EvaluatedAt),
		DeletedAt: utcPtr(c.DeletedAt), CaseTime: caseTimeColsOf(c),
	}
	if c.Point != nil {
		r.Lat, r.Lng = &c.Point.Lat, &c.Point.Lng
	}
	if c.OrigPoint != nil {
		r.OrigLat, r.OrigLng = &c.OrigPoint.Lat, &c.OrigPoint.Lng
	}
	if c.StageLimit != nil {
		u, v, m := string(c.StageLimit.Unit), c.StageLimit.Value, c.StageLimit.Minutes
		r.StageLimitUnit, r.StageLimitValue, r.StageLimitMinutes = &u, &v, &m
	}
	return r
}

type coHandlerRow struct {
	CaseID       int64 `gorm:"primaryKey"`
	DepartmentID int64 `gorm:"primaryKey"`
	Active       bool
	AddedAt      time.Time
}

func (coHandlerRow) TableName() string { return "case_co_handlers" }

// InCaseTx runs fn in one transaction (casework.Store).
func (s *Store) InCaseTx(ctx context.Context, fn func(tx casework.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}

// NextCaseNumber returns the next sequence number of a day, from 1. The upsert holds the day's
// row until the transaction ends, so numbers are never given twice.
func (s *Store) NextCaseNumber(ctx context.Context, day string) (int64, error) {
	var n int64
	err := s.conn(ctx).Raw(`INSERT INTO case_number_days (day, last) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET last = case_number_days.last + 1 RETURNING last`, day).Scan(&n).Error
	if err != nil {
		return 0, s.translate(err, "next case number")
	}
	return n, nil
}

// CreateCase inserts a case with its co-handlers and sets c.ID.
func (s *Store) CreateCase(ctx context.Context, c *casework.Case) error {
	return s.InTx(ctx, func(tx *Store) error {
		r := caseRowOf(*c)
		r.ID = 0
		if err := tx.conn(ctx).Create(&r).Error; err != nil {
			return tx.translate(err, "create case")
		}
		c.ID = r.ID
		return tx.saveCoHandlers(ctx, c.ID, c.CoHandlerIDs, c.UpdatedAt)
	})
}

// Case reads a case that the reach covers; NotFound otherwise.
func (s *Store) Case(ctx context.Context, id int64, r casework.Reach) (casework.Case, error) {
	var rows []caseRow
	q := s.scopeCases(s.conn(ctx).Where("cases.id = ?", id), r)
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return casework.Case{}, s.translate(err, "read case")
	}
	if len(rows) == 0 {
		return casework.Case{}, errs.NotFoundf("case %d not found", id)
	}
	c := rows[0].domain()
	if err := s.loadCoHandlers(ctx, []*casework.Case{&c}); err != nil {
		return casework.Case{}, err
	}
	return c, nil
}

// UpdateCase locks a case the reach covers (NotFound otherwise), applies fn and saves the
// result with version + 1; the write is conditional on the version read, so a lost race can
// never overwrite (Conflict).
func (s *Store) UpdateCase(ctx context.Context, id int64, r casework.Reach, fn func(*casework.Case) error) (casework.Case, error) {
	var out casework.Case
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []caseRow
		q := tx.forUpdate(tx.scopeCases(tx.conn(ctx).Where("cases.id = ?", id), r))
		if err := q.Limit(1).Find(&rows).Error; err != nil {
			return tx.translate(err, "lock case")
		}
		if len(rows) == 0 {
			return errs.NotFoundf("case %d not found", id)
		}
		c := rows[0].domain()
		if err := tx.loadCoHandlers(ctx, []*casework.Case{&c}); err != nil {
			return err
		}
		read, readAt := c.Version, c.UpdatedAt
		if err := fn(&c); err != nil {
			return err
		}
		c.ID, c.Version = id, read+1
		if !c.UpdatedAt.After(readAt) {
			c.UpdatedAt = time.Now().UTC() // every change moves updated_at, or delta sync would miss it
		}
		row := caseRowOf(c)
		res := tx.conn(ctx).Model(&caseRow{}).Where("id = ? AND version = ?", id, read).
			Select("*").Omit("id", "number", "created_at").Updates(&row)
		if res.Error != nil {
			return tx.translate(res.Error, "update case")
		}
		if res.RowsAffected != 1 {
			return errs.E(errs.Conflict, "case %d changed meanwhile; reload it", id)
		}
		if err := tx.saveCoHandlers(ctx, id, c.CoHandlerIDs, c.UpdatedAt); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// CaseByExternalRef finds the case an API key reported under its own id.
func (s *Store) CaseByExternalRef(ctx context.Context, apiKeyID int64, ref string) (casework.Case, error) {
	var rows []caseRow
	err := s.conn(ctx).Where("reporter_api_key_id = ? AND external_ref = ?", apiKeyID, ref).Limit(1).Find(&rows).Error
	if err != nil {
		return casework.Case{}, s.translate(err, "read case by external ref")
	}
	if len(rows) == 0 {
		return casework.Case{}, errs.NotFoundf("no case with external_ref %q", ref)
	}
	return rows[0].domain(), nil
}

// NearbyOpenCases lists open cases of a category inside a box that the reach covers.
func (s *Store) NearbyOpenCases(ctx context.Context, categoryCode string, box casework.Box, r casework.Reach, limit int) ([]casework.Case, error) {
	q := s.conn(ctx).Where("cases.category_code = ? AND cases.lat BETWEEN ? AND ? AND cases.lng BETWEEN ? AND ? AND cases.state IN ?",
		categoryCode, box.MinLat, box.MaxLat, box.MinLng, box.MaxLng, stateNames(casework.OpenStates()))
	var rows []caseRow
	if err := s.scopeCases(q, r).Order("cases.id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, s.translate(err, "find nearby cases")
	}
	out := make([]casework.Case, len(rows))
	for i, row := range rows {
		out[i] = row.domain()
	}
	return out, nil
}

// scopeCases narrows a query on cases to what a reach covers (数据权限); lists and single
// reads share it so that they can never disagree. Region subtrees are byte ranges on the
// paths (C collation on PostgreSQL), which the path indexes serve.
func (s *Store) scopeCases(q *gorm.DB, r casework.Reach) *gorm.DB {
	if r.All {
		return q
	}
	var (
		conds []string
		args  []any
	)
	for _, p := range r.RegionPaths {
		lo, hi := pathRange(p)
		conds = append(conds, "(cases.region_path >= ? AND cases.region_path < ?)", "(cases.desk_region_path >= ? AND cases.desk_region_path < ?)")
		args = append(args, lo, hi, lo, hi)
	}
	if len(r.GridCodes) > 0 {
		conds = append(conds, "cases.grid_code IN ?")
		args = append(args, r.GridCodes)
	}
	if r.DepartmentID != 0 {
		conds = append(conds, "cases.lead_department_id = ?",
			"EXISTS (SELECT 1 FROM case_co_handlers h WHERE h.case_id = cases.id AND h.department_id = ?)",
			"EXISTS (SELECT 1 FROM case_events e WHERE e.target_department_id = ? AND e.case_id = cases.id)")
		args = append(args, r.DepartmentID, r.DepartmentID, r.DepartmentID)
	}
	if r.UserID != 0 {
		conds = append(conds, "cases.reporter_user_id = ?", "cases.assignee_user_id = ?")
		args = append(args, r.UserID, r.UserID)
	}
	if r.APIKeyID != 0 {
		conds = append(conds, "cases.reporter_api_key_id = ?")
		args = append(args, r.APIKeyID)
	}
	if len(conds) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// pathRange is the byte range [lo, hi) of the paths in the subtree of path: a path ends with
// "/", and every path below it sorts before the same text with that "/" raised to "0".
func pathRange(path string) (lo, hi string) {
	if path == "" {
		return "", "\xff"
	}
	b := []byte(path)
	b[len(b)-1]++
	return path, string(b)
}

func stateNames(states []casework.State) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

func (s *Store) loadCoHandlers(ctx context.Context, cs []*casework.Case) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	byID := make(map[int64]*casework.Case, len(cs))
	for i, c := range cs {
		ids[i], byID[c.ID] = c.ID, c
	}
	var rows []coHandlerRow
	if err := s.conn(ctx).Where("case_id IN ? AND active = ?", ids, true).Order("department_id").Find(&rows).Error; err != nil {
		return s.translate(err, "read co-handlers")
	}
	for _, r := range rows {
		c := byID[r.CaseID]
		c.CoHandlerIDs = append(c.CoHandlerIDs, r.DepartmentID)
	}
	return nil
}

// saveCoHandlers makes ids the case's active co-handlers; former ones stay, inactive, so that
// their departments keep reading the case.
func (s *Store) saveCoHandlers(ctx context.Context, caseID int64, ids []int64, at time.Time) error {
	q := s.conn(ctx).Model(&coHandlerRow{}).Where("case_id = ? AND active = ?", caseID, true)
	if len(ids) > 0 {
		q = q.Where("department_id NOT IN ?", ids)
	}
	if err := q.Update("active", false).Error; err != nil {
		return s.translate(err, "save co-handlers")
	}
	for _, id := range ids {
		res := s.conn(ctx).Model(&coHandlerRow{}).Where("case_id = ? AND department_id = ?", caseID, id).Update("active", true)
		if res.Error != nil {
			return s.translate(res.Error, "save co-handlers")
		}
		if res.RowsAffected == 0 {
			if err := s.conn(ctx).Create(&coHandlerRow{CaseID: caseID, DepartmentID: id, Active: true, AddedAt: utc(at)}).Error; err != nil {
				return s.translate(err, "save co-handlers")
			}
		}
	}
	return nil
}

// ---- events ----

type caseEventRow struct {
	ID                 int64 `gorm:"primaryKey"`
	CaseID             int64
	Seq                int
	Action             string
	FromState          *string
	ToState            string
	Stage              *string
	ActorUserID        *int64
	ActorAPIKeyID      *int64 `gorm:"column:actor_api_key_id"`
	ActorRole          string
	TargetDepartmentID *int64
	TargetRegionCode   *string
	TargetUserID       *int64
	Note               string
	Reason             *string
	Visibility         string
	Data               *string
	TimeUsedSeconds    int64
	Overdue            bool
	CreatedAt          time.Time
}

func (caseEventRow) TableName() string { return "case_events" }

func (r caseEventRow) domain() (casework.Event, error) {
	e := casework.Event{
		ID: r.ID, CaseID: r.CaseID, Seq: r.Seq, Action: casework.Action(r.Action),
		FromState: casework.State(caseDeref(r.FromState)), ToState: casework.State(r.ToState), Stage: casework.Stage(caseDeref(r.Stage)),
		ActorUserID: caseDeref(r.ActorUserID), ActorAPIKeyID: caseDeref(r.ActorAPIKeyID), ActorRole: identity.Role(r.ActorRole),
		TargetDepartmentID: caseDeref(r.TargetDepartmentID), TargetRegionCode: caseDeref(r.TargetRegionCode), TargetUserID: caseDeref(r.TargetUserID),
		Note: r.Note, Reason: caseDeref(r.Reason), Visibility: casework.Visibility(r.Visibility),
		TimeUsedSeconds: r.TimeUsedSeconds, Overdue: r.Overdue, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Data != nil && *r.Data != "" {
		if err := json.Unmarshal([]byte(*r.Data), &e.Data); err != nil {
			return e, fmt.Errorf("decode event %d data: %w", r.ID, err)
		}
	}
	return e, nil
}

// AppendEvent inserts e as the case's next event and sets e.ID and e.Seq. Callers hold the
// case's row lock (UpdateCase) or created the case in the same transaction, so the next
// sequence number is theirs; UNIQUE (case_id, seq) backs it up.
func (s *Store) AppendEvent(ctx context.Context, e *casework.Event) error {
	var seq int
	if err := s.conn(ctx).Raw(`SELECT COALESCE(MAX(seq), 0) + 1 FROM case_events WHERE case_id = ?`, e.CaseID).Scan(&seq).Error; err != nil {
		return s.translate(err, "append event")
	}
	r := caseEventRow{
		CaseID: e.CaseID, Seq: seq, Action: string(e.Action), FromState: caseNullString(string(e.FromState)), ToState: string(e.ToState),
		Stage: caseNullString(string(e.Stage)), ActorUserID: caseNullID(e.ActorUserID), ActorAPIKeyID: caseNullID(e.ActorAPIKeyID),
		ActorRole: string(e.ActorRole), TargetDepartmentID: caseNullID(e.TargetDepartmentID),
		TargetRegionCode: caseNullString(e.TargetRegionCode), TargetUserID: caseNullID(e.TargetUserID),
		Note: e.Note, Reason: caseNullString(e.Reason), Visibility: string(e.Visibility),
		TimeUsedSeconds: e.TimeUsedSeconds, Overdue: e.Overdue, CreatedAt: utc(e.CreatedAt),
	}
	if r.Visibility == "" {
		r.Visibility = string(casework.Internal)
	}
	if len(e.Data) > 0 {
		b, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
		d := string(b)
		r.Data = &d
	}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return s.translate(err, "append event")
	}
	// Publish at once: the job commits (or rolls back) with the event.
	if err := s.EnqueueTx(ctx, jobs.PublishEventsArgs{}, nil); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	e.ID, e.Seq = r.ID, seq
	return nil
}

// Events lists a case's events in order.
func (s *Store) Events(ctx context.Context, caseID int64) ([]casework.Event, error) {
	var rows []caseEventRow
	if err := s.conn(ctx).Where("case_id = ?", caseID).Order("seq").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list events")
	}
	out := make([]casework.Event, 0, len(rows))
	for _, r := range rows {
		e, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- idempotency ----

type idempotencyRow struct {
	Principal   string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	Operation   string
	RequestHash string
	CaseID      *int64
	Status      int
	Response    string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// Idempotent returns the response recorded under a caller's key.
func (s *Store) Idempotent(ctx context.Context, principal, key string) (casework.Replay, bool, error) {
	var rows []idempotencyRow
	if err := s.conn(ctx).Where("principal = ? AND key = ?", principal, key).Limit(1).Find(&rows).Error; err != nil {
		return casework.Replay{}, false, s.translate(err, "read idempotency key")
	}
	if len(rows) == 0 {
		return casework.Replay{}, false, nil
	}
	r := rows[0]
	return casework.Replay{Operation: r.Operation, RequestHash: r.RequestHash, CaseID: caseDeref(r.CaseID),
		Status: r.Status, Body: []byte(r.Response), CreatedAt: r.CreatedAt.UTC()}, true, nil
}

// SaveIdempotent records the first response under a caller's key; casework.ErrKeyTaken when
// another request recorded it first.
func (s *Store) SaveIdempotent(ctx context.Context, principal, key string, r casework.Replay) error {
	row := idempotencyRow{Principal: principal, Key: key, Operation: r.Operation, RequestHash: r.RequestHash,
		CaseID: caseNullID(r.CaseID), Status: r.Status, Response: string(r.Body), CreatedAt: utc(r.CreatedAt)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		err = s.translate(err, "save idempotency key")
		if errs.Is(err, errs.Conflict) {
			return casework.ErrKeyTaken
		}
		return err
	}
	return nil
}

// DeleteIdempotencyKeys forgets keys recorded before before (a retry comes within minutes;
// a day or more is plenty) and returns how many it removed.
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("created_at < ?", utc(before)).Delete(&idempotencyRow{})
	return res.RowsAffected, s.translate(res.Error, "delete idempotency keys")
}

// ---- helpers ----

func caseDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func caseNullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func caseNullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
