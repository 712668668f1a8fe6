package casework

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Reading cases (issue 3, "Reading"): lists with filters and keyset pagination, delta sync for
// phones with tombstones, a person's inbox (待办), a region's problem list (问题清单), map points
// and exports. Every read goes through the store's one scope filter with ReachOf(p).

// ListStore is what the lists need from the store; it is part of Store.
type ListStore interface {
	// ListCases returns at most q.Limit cases that q.Reach covers and q selects, in q.Order
	// after q.After, with their co-handlers.
	ListCases(ctx context.Context, q Query) ([]Case, error)
	// CountCases counts what ListCases would return without After and Limit.
	CountCases(ctx context.Context, q Query) (int64, error)
}

// Order is how a list is sorted. Every order ends with the id, so that a page boundary is
// exact and pages neither repeat nor skip a case that did not change meanwhile.
type Order string

// The orders. The deadline orders put cases without a running clock last.
const (
	OrderUpdatedDesc  Order = "-updated_at" // the default: most recently changed first
	OrderUpdatedAsc   Order = "updated_at"  // delta sync
	OrderCreatedDesc  Order = "-created_at"
	OrderCreatedAsc   Order = "created_at"
	OrderDeadlineAsc  Order = "stage_deadline"
	OrderDeadlineDesc Order = "-stage_deadline"
	// OrderUrgency: red, then yellow, then green, then no light; within each the nearest stage
	// deadline first (inboxes and problem lists). The light is taken at Query.Now.
	OrderUrgency Order = "urgency"
)

// SortOrders are the orders a caller may ask for with sort=.
var SortOrders = []Order{OrderUpdatedDesc, OrderUpdatedAsc, OrderCreatedDesc, OrderCreatedAsc, OrderDeadlineAsc, OrderDeadlineDesc}

// Position is where a page ended: the sort key of its last case and that case's id.
type Position struct {
	Time *time.Time // updated_at, created_at or stage_deadline (nil: no deadline)
	Rank int        // OrderUrgency: 0 red, 1 yellow, 2 green, 3 no light
	ID   int64
}

// Filter narrows a list; its zero fields do not filter. All given fields must hold.
type Filter struct {
	States []State
	// Categories: small classes ("E0101"), 大类 ("E01") or a type ("E", "C"); any of them.
	Categories []string
	// RegionPath: where the case is, a region subtree: its grid's path, or for a case without a
	// grid the path of the desk that holds it.
	RegionPath     string
	GridCodes      []string
	DepartmentID   int64 // the lead or an active co-handling department
	AssigneeUserID int64
	ReporterUserID int64
	Sources        []Source
	// Overdue: true, open cases past their stage deadline (red); false, open cases not past it.
	Overdue *bool
	Lights  []worktime.Light
	// Time ranges: from inclusive, to exclusive; zero times do not bound.
	CreatedFrom, CreatedTo time.Time
	UpdatedFrom, UpdatedTo time.Time
	// Text is matched, as a substring, against the description, the address and the number.
	Text string
	// BBox keeps cases whose point lies in the box (cases without a point are left out).
	BBox *Box
	// WithPoint keeps cases with a point (maps).
	WithPoint bool
	// OpenOnly keeps open cases (not closed, rejected or cancelled).
	OpenOnly bool
}

// Tasks selects an inbox (待办): the cases waiting for one person. A case is in it when any
// set clause holds.
type Tasks struct {
	// AssigneeUserID: verifying or handled cases assigned to the user (verify, check).
	AssigneeUserID int64
	// CheckGridCodes: handled cases nobody was asked to check, whose category requires a
	// check, in these grids (any worker of the grid may check them).
	CheckGridCodes []string
	// DepartmentID: dispatched or handling cases the department leads or co-handles.
	DepartmentID int64
	// DeskPaths: cases held at exactly these desks that wait for a desk: reported, filed,
	// checked, and handled ones nobody was asked to check.
	DeskPaths []string
	// Overdue: open cases past their stage deadline (supervisors).
	Overdue bool
}

// Query is one read of cases.
type Query struct {
	Reach  Reach
	Filter Filter
	Tasks  *Tasks
	Now    time.Time // lights and overdue are taken at this instant
	Order  Order
	After  *Position
	Limit  int
	// UpdatedBefore, when not zero, leaves out cases changed at or after it (delta sync waits
	// for slow transactions to commit: see SyncSettle).
	UpdatedBefore time.Time
}

// Paging limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// MaxTextQuery is the longest free-text filter, in characters.
	MaxTextQuery = 100
	// SyncSettle is how far behind now delta sync stays. A transaction stamps updated_at before
	// it commits; a case stamped earlier but committed after a sync read would otherwise fall
	// behind the phone's cursor and never reach it. Changes show up this much later instead.
	SyncSettle = 3 * time.Second
	// exportPage is how many cases an export reads per query.
	exportPage = 500
)

// ListInput is a list request as the caller sent it.
type ListInput struct {
	Filter
	// RegionCode selects a region subtree (resolved to Filter.RegionPath).
	RegionCode string
	// Sort is one of SortOrders ("" is -updated_at).
	Sort string
	// Cursor continues a list or a delta sync from where its previous page ended.
	Cursor string
	// Limit is the page size (0: DefaultPageSize; at most MaxPageSize).
	Limit int
	// UpdatedSince starts a delta sync: the cases changed at or after it, oldest change first,
	// tombstones (cancelled and merged cases) included. The pages' cursors continue it.
	UpdatedSince *time.Time
}

// Page is one page of a list.
type Page struct {
	Items []View
	// Next continues the list: "" when there is no more. In a delta sync it is always set: the
	// phone keeps it and sends it next time to get what changed since.
	Next    string
	HasMore bool
	// Sync is true for a delta sync: cases with DeletedAt are tombstones.
	Sync bool
	// Total counts the whole list (problem lists and inboxes only; -1 when not counted).
	Total int64
}

// List returns a page of the cases p may read that match in, or a page of a delta sync.
func (s *Service) List(ctx context.Context, p identity.Principal, in ListInput) (Page, error) {
	if err := canRead(p); err != nil {
		return Page{}, err
	}
	now := s.now().UTC()
	q, err := s.query(ctx, p, in, now)
	if err != nil {
		return Page{}, err
	}
	fp := fingerprint(in)
	var cur *cursor
	if in.Cursor != "" {
		if cur, err = decodeCursor(in.Cursor, fp); err != nil {
			return Page{}, err
		}
	}
	sync := in.UpdatedSince != nil || (cur != nil && cur.Sync)
	switch {
	case in.UpdatedSince != nil && cur != nil:
		return Page{}, fieldErr("cursor", "exclusive", "send updated_since to start a delta sync, or the cursor it gave to continue it, not both")
	case sync && in.Sort != "" && Order(in.Sort) != OrderUpdatedAsc:
		return Page{}, fieldErr("sort", "sync", "a delta sync runs in the order of change (sort=updated_at)")
	case sync:
		q.Order = OrderUpdatedAsc
		q.UpdatedBefore = now.Add(-SyncSettle)
		if in.UpdatedSince != nil {
			t := in.UpdatedSince.UTC()
			q.After = &Position{Time: &t, ID: 0}
		}
	case cur != nil && cur.Order != q.Order:
		return Page{}, fieldErr("cursor", "sort", "the cursor belongs to sort=%s; send the same sort with it", cur.Order)
	}
	if cur != nil {
		q.After = cur.position()
	}
	page, err := s.page(ctx, p, q, fp, sync)
	if err != nil {
		return Page{}, err
	}
	if sync && page.Next == "" {
		// Nothing new: the phone keeps its place.
		page.Next = encodeCursor(cursor{Order: OrderUpdatedAsc, Sync: true, Time: q.After.Time, ID: q.After.ID, Print: fp})
	}
	return page, nil
}

// page reads one page of q (Limit + 1 rows to know whether more follow) and renders it.
func (s *Service) page(ctx context.Context, p identity.Principal, q Query, fp string, sync bool) (Page, error) {
	want := q.Limit
	q.Limit = want + 1
	cases, err := s.store.ListCases(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list cases: %w", err)
	}
	out := Page{Sync: sync, Total: -1}
	if len(cases) > want {
		cases, out.HasMore = cases[:want], true
	}
	if len(cases) > 0 && (out.HasMore || sync) {
		last := cases[len(cases)-1]
		c := cursor{Order: q.Order, Sync: sync, ID: last.ID, Print: fp}
		c.Time, c.Rank = sortKey(&last, q.Order, q.Now)
		if q.Order == OrderUrgency {
			n := q.Now
			c.Now = &n
		}
		out.Next = encodeCursor(c)
	}
	if out.Items, err = s.Views(ctx, p, cases); err != nil {
		return Page{}, err
	}
	return out, nil
}

// query validates a list request and turns it into a store query for p.
func (s *Service) query(ctx context.Context, p identity.Principal, in ListInput, now time.Time) (Query, error) {
	f := in.Filter
	var fe errs.Fields
	for _, st := range f.States {
		if !st.Valid() {
			fe.Add("state", "enum", "unknown state %q", st)
		}
	}
	for _, c := range f.Categories {
		if !categoryFilter.MatchString(c) {
			fe.Add("category", "format", "category %q is not a class (E0101), a 大类 (E01) or a type (E, C)", c)
		}
	}
	for _, src := range f.Sources {
		if !src.Valid() {
			fe.Add("source", "enum", "unknown source %q", src)
		}
	}
	for _, l := range f.Lights {
		if l != worktime.Green && l != worktime.Yellow && l != worktime.Red {
			fe.Add("light", "enum", "light must be green, yellow or red, not %q", l)
		}
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedFrom.Before(f.CreatedTo) {
		fe.Add("created_to", "after_from", "created_to must be after created_from")
	}
	if !f.UpdatedFrom.IsZero() && !f.UpdatedTo.IsZero() && !f.UpdatedFrom.Before(f.UpdatedTo) {
		fe.Add("updated_to", "after_from", "updated_to must be after updated_from")
	}
	f.Text = strings.TrimSpace(f.Text)
	if utf8.RuneCountInString(f.Text) > MaxTextQuery {
		fe.Add("q", "max", "q must be at most %d characters", MaxTextQuery)
	}
	if b := f.BBox; b != nil && (b.MinLat < -90 || b.MaxLat > 90 || b.MinLng < -180 || b.MaxLng > 180 || b.MinLat >= b.MaxLat || b.MinLng >= b.MaxLng) {
		fe.Add("bbox", "range", "bbox is minLng,minLat,maxLng,maxLat with min < max, in degrees")
	}
	order := OrderUpdatedDesc
	if in.Sort != "" {
		order = Order(in.Sort)
		if !slices.Contains(SortOrders, order) {
			fe.Add("sort", "enum", "sort must be one of updated_at, -updated_at, created_at, -created_at, stage_deadline, -stage_deadline")
		}
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		fe.Add("limit", "range", "limit must be 1 to %d", MaxPageSize)
	}
	if in.UpdatedSince != nil && in.UpdatedSince.After(now.Add(time.Hour)) {
		fe.Add("updated_since", "future", "updated_since is in the future")
	}
	if in.RegionCode != "" {
		ref, err := s.places.Region(ctx, in.RegionCode)
		switch {
		case errs.Is(err, errs.NotFound):
			fe.Add("region", "exists", "there is no region %q", in.RegionCode)
		case err != nil:
			return Query{}, fmt.Errorf("read region %s: %w", in.RegionCode, err)
		default:
			f.RegionPath = ref.Path
		}
	}
	if err := fe.Err(); err != nil {
		return Query{}, err
	}
	return Query{Reach: ReachOf(p), Filter: f, Now: now, Order: order, Limit: limit}, nil
}

var categoryFilter = regexp.MustCompile(`^[CE]([0-9]{2}([0-9]{2})?)?$`)

// ---- inbox ----

// Reasons a case is in an inbox (Task.Reason).
const (
	ReasonVerify        = "verify"            // 核实: the desk sent you to verify
	ReasonCheck         = "check"             // 核查: the desk sent you to check the fix
	ReasonGridCheck     = "grid_check"        // a fix in your grid that nobody was sent to check
	ReasonSign          = "sign"              // 待签收: dispatched to your department
	ReasonHandle        = "handle"            // 处置中: your department handles it
	ReasonCoHandle      = "co_handle"         // 协办: your department assists the lead
	ReasonAccept        = "accept"            // 待受理 at your desk
	ReasonDispatch      = "dispatch"          // 待派遣 at your desk
	ReasonRequestCheck  = "request_check"     // fed back, nobody sent to check it yet
	ReasonClose         = "close"             // 待结案 at your desk
	ReasonOverdue       = "overdue"           // 督办: past its stage deadline
	actionSupervise     = Action("supervise") // arrives with the timers issue
	DefaultTaskPageSize = 100
	MaxTaskPageSize     = 500
)

// Task is one case in an inbox: why it is there and what to do next.
type Task struct {
	View
	Reason     string
	NextAction Action
	// CoHandler is true when the caller's department assists (协办) rather than leads.
	CoHandler bool
}

// TaskList is an inbox, most urgent first.
type TaskList struct {
	Items     []Task
	Total     int64 // every case in the inbox
	Truncated bool  // Items holds the first Limit of them
}

// Tasks is p's inbox (待办), most urgent first (red, yellow, green; then the nearest deadline):
//   - a grid worker: the verifications and checks they were sent to, and fixes in their grids
//     that wait for a check nobody was sent to;
//   - a handler: cases dispatched to their department (to sign) and those it handles, and
//     those it co-handles (marked);
//   - a dispatcher: what waits at their desk (the desk of their scope's region; the top desk
//     for a city-wide dispatcher or an admin): reports to accept, filed cases to dispatch,
//     fixes to send a checker to, checked cases to close;
//   - a supervisor: the overdue (red) cases in scope.
func (s *Service) Tasks(ctx context.Context, p identity.Principal, limit int) (TaskList, error) {
	if p.IsAPIKey() {
		return TaskList{}, errs.E(errs.Forbidden, "an API key has no inbox; list cases with GET /cases instead")
	}
	switch {
	case limit == 0:
		limit = DefaultTaskPageSize
	case limit < 1 || limit > MaxTaskPageSize:
		return TaskList{}, fieldErr("limit", "range", "limit must be 1 to %d", MaxTaskPageSize)
	}
	t := Tasks{}
	switch p.Role {
	case identity.RoleGridWorker:
		t.AssigneeUserID, t.CheckGridCodes = p.UserID, slices.Clone(p.Scope.GridCodes)
	case identity.RoleHandler:
		if p.Scope.Kind == identity.ScopeDepartment {
			t.DepartmentID = p.Scope.DepartmentID
		}
	case identity.RoleDispatcher, identity.RoleAdmin:
		paths, err := s.deskPaths(ctx, p)
		if err != nil {
			return TaskList{}, err
		}
		t.DeskPaths = paths
	case identity.RoleSupervisor:
		t.Overdue = true
	}
	if t.AssigneeUserID == 0 && len(t.CheckGridCodes) == 0 && t.DepartmentID == 0 && len(t.DeskPaths) == 0 && !t.Overdue {
		return TaskList{Items: []Task{}}, nil
	}
	now := s.now().UTC()
	q := Query{Reach: ReachOf(p), Tasks: &t, Now: now, Order: OrderUrgency, Limit: limit}
	if p.Role == identity.RoleSupervisor {
		// Every case of an overdue-only inbox is red: most urgent first is the oldest deadline
		// first, an order the stage_deadline index gives without sorting every red case.
		q.Order = OrderDeadlineAsc
	}
	total, err := s.store.CountCases(ctx, q)
	if err != nil {
		return TaskList{}, fmt.Errorf("count tasks: %w", err)
	}
	cases, err := s.store.ListCases(ctx, q)
	if err != nil {
		return TaskList{}, fmt.Errorf("list tasks: %w", err)
	}
	views, err := s.Views(ctx, p, cases)
	if err != nil {
		return TaskList{}, err
	}
	out := TaskList{Items: make([]Task, 0, len(views)), Total: total, Truncated: total > int64(len(views))}
	for _, v := range views {
		out.Items = append(out.Items, taskOf(v, p))
	}
	return out, nil
}

// deskPaths are the desks p sits at: the region of a region scope; the top regions for a
// city-wide dispatcher or an admin.
func (s *Service) deskPaths(ctx context.Context, p identity.Principal) ([]string, error) {
	if p.Scope.Kind == identity.ScopeRegion && p.Scope.RegionPath != "" {
		return []string{p.Scope.RegionPath}, nil
	}
	if !p.Is(identity.RoleAdmin) && p.Scope.Kind != identity.ScopeAll {
		return nil, nil
	}
	roots, err := s.places.Roots(ctx)
	if err != nil {
		return nil, fmt.Errorf("read top regions: %w", err)
	}
	out := make([]string, len(roots))
	for i, r := range roots {
		out[i] = r.Path
	}
	return out, nil
}

// taskOf says why a case the inbox query found is waiting for p.
func taskOf(v View, p identity.Principal) Task {
	c := &v.Case
	t := Task{View: v}
	checkRequired := v.Category == nil || v.Category.CheckRequired
	switch p.Role {
	case identity.RoleGridWorker:
		switch {
		case c.State == Verifying:
			t.Reason, t.NextAction = ReasonVerify, Verify
		case c.AssigneeUserID == p.UserID:
			t.Reason, t.NextAction = ReasonCheck, Check
		default:
			t.Reason, t.NextAction = ReasonGridCheck, Check
		}
	case identity.RoleHandler:
		switch {
		case c.LeadDepartmentID != p.Scope.DepartmentID:
			t.Reason, t.NextAction, t.CoHandler = ReasonCoHandle, Comment, true
		case c.State == Dispatched:
			t.Reason, t.NextAction = ReasonSign, Sign
		default:
			t.Reason, t.NextAction = ReasonHandle, Feedback
		}
	case identity.RoleSupervisor:
		t.Reason, t.NextAction = ReasonOverdue, actionSupervise
	default: // a desk
		switch c.State {
		case Reported:
			t.Reason, t.NextAction = ReasonAccept, Accept
		case Filed:
			t.Reason, t.NextAction = ReasonDispatch, Dispatch
		case Handled:
			t.Reason, t.NextAction = ReasonRequestCheck, RequestCheck
			if !checkRequired {
				t.Reason, t.NextAction = ReasonClose, CloseCase
			}
		default:
			t.Reason, t.NextAction = ReasonClose, CloseCase
		}
	}
	return t
}

// ---- problem list ----

// ProblemList is a region's problem list (问题清单): its open cases, most urgent first.
type ProblemList struct {
	Region region.Ref
	Page
}

// Problems is the problem list (问题清单, the second list of 一网两单) of a region: the open
// cases of its subtree that p may read, most urgent first. A region outside p's scope is
// NotFound, like one that does not exist.
func (s *Service) Problems(ctx context.Context, p identity.Principal, code, cursorText string, limit int) (ProblemList, error) {
	if err := canRead(p); err != nil {
		return ProblemList{}, err
	}
	ref, err := s.places.Region(ctx, code)
	if errs.Is(err, errs.NotFound) || (err == nil && !regionVisible(p, ref)) {
		return ProblemList{}, errs.NotFoundf("region %s not found", code)
	}
	if err != nil {
		return ProblemList{}, fmt.Errorf("read region %s: %w", code, err)
	}
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		return ProblemList{}, fieldErr("limit", "range", "limit must be 1 to %d", MaxPageSize)
	}
	now := s.now().UTC()
	q := Query{Reach: ReachOf(p), Filter: Filter{RegionPath: ref.Path, OpenOnly: true}, Now: now, Order: OrderUrgency, Limit: limit}
	fp := "problems:" + ref.Code
	if cursorText != "" {
		cur, err := decodeCursor(cursorText, fp)
		if err != nil {
			return ProblemList{}, err
		}
		if cur.Order != OrderUrgency || cur.Now == nil {
			return ProblemList{}, fieldErr("cursor", "invalid", "the cursor is not one of this list's")
		}
		q.Now, q.After = *cur.Now, cur.position() // the lights of the first page, so no case moves between pages
	}
	total, err := s.store.CountCases(ctx, q)
	if err != nil {
		return ProblemList{}, fmt.Errorf("count problems: %w", err)
	}
	page, err := s.page(ctx, p, q, fp, false)
	if err != nil {
		return ProblemList{}, err
	}
	page.Total = total
	return ProblemList{Region: ref, Page: page}, nil
}

// regionVisible reports whether a region lies in p's data scope: everything for a city-wide
// user and for a handler (whose scope is a department, not a place); the subtree of a region
// scope (an API key's too); the grids of a grid worker.
func regionVisible(p identity.Principal, r region.Ref) bool {
	switch {
	case p.IsAPIKey():
		return p.Scope.RegionPath == "" || strings.HasPrefix(r.Path, p.Scope.RegionPath)
	case p.Is(identity.RoleAdmin) || p.Scope.Kind == identity.ScopeAll || p.Scope.Kind == identity.ScopeDepartment:
		return true
	case p.Scope.Kind == identity.ScopeRegion:
		return p.Scope.RegionPath != "" && strings.HasPrefix(r.Path, p.Scope.RegionPath)
	case p.Scope.Kind == identity.ScopeGrids:
		return slices.Contains(p.Scope.GridCodes, r.Code)
	}
	return false
}

// ---- map and export ----

// Map returns at most max cases with a point that match in (its cursor, sort and limit are
// ignored), most recently changed first, and whether more matched.
func (s *Service) Map(ctx context.Context, p identity.Principal, in ListInput, max int) ([]View, bool, error) {
	if err := canRead(p); err != nil {
		return nil, false, err
	}
	in.Cursor, in.Sort, in.Limit, in.UpdatedSince = "", "", 0, nil
	q, err := s.query(ctx, p, in, s.now().UTC())
	if err != nil {
		return nil, false, err
	}
	q.Filter.WithPoint = true
	q.Limit = max + 1
	cases, err := s.store.ListCases(ctx, q)
	if err != nil {
		return nil, false, fmt.Errorf("map cases: %w", err)
	}
	truncated := len(cases) > max
	if truncated {
		cases = cases[:max]
	}
	views, err := s.Views(ctx, p, cases)
	return views, truncated, err
}

// Export is a prepared export: its cases were counted and are within the cap.
type Export struct {
	s     *Service
	p     identity.Principal
	q     Query
	Count int64 // the cases that matched when it was prepared
	Max   int
	// Truncated is set by Each when more cases than Max matched by the time they were read.
	Truncated bool
}

// PrepareExport validates an export of the cases that match in (cursor and limit ignored,
// in's sort kept) and counts them: more than max is an error before anything is written.
func (s *Service) PrepareExport(ctx context.Context, p identity.Principal, in ListInput, max int) (*Export, error) {
	if err := canRead(p); err != nil {
		return nil, err
	}
	in.Cursor, in.Limit, in.UpdatedSince = "", 0, nil
	q, err := s.query(ctx, p, in, s.now().UTC())
	if err != nil {
		return nil, err
	}
	n, err := s.store.CountCases(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count export: %w", err)
	}
	if n > int64(max) {
		var f errs.Fields
		f.Add("filters", "max_rows", "%d cases match; an export holds at most %d: narrow the filters (a date range, a region, a state)", n, max)
		e, _ := errs.As(f.Err())
		return nil, e.With("count", n).With("max_rows", max)
	}
	q.Limit = exportPage
	return &Export{s: s, p: p, q: q, Count: n, Max: max}, nil
}

// Each reads the export's cases page by page (keyset, so no case twice) and hands each to fn
// as it is read, stopping at Max. fn's error stops it.
func (e *Export) Each(ctx context.Context, fn func(View) error) error {
	q, n := e.q, 0
	for {
		q.Limit = exportPage + 1
		cases, err := e.s.store.ListCases(ctx, q)
		if err != nil {
			return fmt.Errorf("export cases: %w", err)
		}
		more := len(cases) > exportPage
		if more {
			cases = cases[:exportPage]
		}
		views, err := e.s.Views(ctx, e.p, cases)
		if err != nil {
			return err
		}
		for _, v := range views {
			if n == e.Max {
				e.Truncated = true
				return nil
			}
			if err := fn(v); err != nil {
				return err
			}
			n++
		}
		if !more || len(cases) == 0 {
			return nil
		}
		last := cases[len(cases)-1]
		t, r := sortKey(&last, q.Order, q.Now)
		q.After = &Position{Time: t, Rank: r, ID: last.ID}
	}
}

// ---- traffic lights ----

// LightAt is a case's light from its stored stage times, as the list filters compute it in
// SQL: red past the stage deadline, yellow from the warning time, green before; "" when no
// clock runs.
func LightAt(c *Case, now time.Time) worktime.Light {
	switch {
	case c.StageDeadline == nil || c.Stage == StageNone:
		return ""
	case now.After(*c.StageDeadline):
		return worktime.Red
	case c.StageWarnAt != nil && !now.Before(*c.StageWarnAt):
		return worktime.Yellow
	}
	return worktime.Green
}

// lightRank orders lights for OrderUrgency.
func lightRank(l worktime.Light) int {
	switch l {
	case worktime.Red:
		return 0
	case worktime.Yellow:
		return 1
	case worktime.Green:
		return 2
	}
	return 3
}

// sortKey is a case's key in an order.
func sortKey(c *Case, o Order, now time.Time) (*time.Time, int) {
	switch o {
	case OrderUpdatedAsc, OrderUpdatedDesc:
		t := c.UpdatedAt
		return &t, 0
	case OrderCreatedAsc, OrderCreatedDesc:
		t := c.CreatedAt
		return &t, 0
	case OrderUrgency:
		return c.StageDeadline, lightRank(LightAt(c, now))
	}
	return c.StageDeadline, 0
}

// ---- cursors ----

// cursor is what an opaque page cursor holds: the order, where the page ended, and a
// fingerprint of the filters, so that a cursor is not replayed against another query.
type cursor struct {
	Order Order      `json:"o"`
	Sync  bool       `json:"s,omitempty"`
	Time  *time.Time `json:"t,omitempty"`
	Rank  int        `json:"r,omitempty"`
	ID    int64      `json:"i"`
	Now   *time.Time `json:"n,omitempty"` // OrderUrgency: the instant the lights were taken
	Print string     `json:"f"`
}

func (c cursor) position() *Position {
	return &Position{Time: c.Time, Rank: c.Rank, ID: c.ID}
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // plain data: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, fp string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID < 0 || (c.Order != OrderUrgency && !slices.Contains(SortOrders, c.Order)) {
		return nil, fieldErr("cursor", "invalid", "the cursor is not one this service gave; start again without it")
	}
	if c.Print != fp {
		return nil, fieldErr("cursor", "filters", "the cursor belongs to a list with other filters; send the same filters with it")
	}
	return &c, nil
}

// fingerprint identifies a list's filters (not its sort, cursor or size).
func fingerprint(in ListInput) string {
	f := in.Filter
	f.States, f.Categories, f.GridCodes = sortedCopy(f.States), sortedCopy(f.Categories), sortedCopy(f.GridCodes)
	f.Sources, f.Lights = sortedCopy(f.Sources), sortedCopy(f.Lights)
	f.Text = strings.TrimSpace(f.Text)
	f.RegionPath = in.RegionCode
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func sortedCopy[T ~string](in []T) []T {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
