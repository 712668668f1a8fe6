package casework

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Verification and check results.
const (
	VerifyConfirmed = "confirmed" // the problem is there
	VerifyNotFound  = "not_found" // nothing found on site
	CheckPass       = "pass"      // fixed
	CheckFail       = "fail"      // not fixed: rework by the same department
)

// Command is one workflow action with its fields; each action reads only its own (the HTTP
// layer gives each action its own body).
type Command struct {
	Action Action
	// Version, when not 0, must be the case's current version (If-Match), else 412.
	Version int64

	Note   string
	Reason string // required by reject, cancel, return, a failed check and reopen

	CategoryCode string // accept: set or change the category
	Urgency      string // accept: set the urgency
	GridCode     string // accept: place a case whose point is outside every grid

	DuplicateOf int64 // merge: the open case this one duplicates

	AssigneeUserID int64  // request-verification, request-check: the grid worker
	Result         string // verify: confirmed|not_found; check: pass|fail

	DepartmentID           int64   // dispatch: the lead department
	CoHandlerDepartmentIDs []int64 // dispatch: co-handling departments (协办)

	TargetRegionCode string // hand-down: the region whose desk takes the case

	Visibility   string // comment: internal (default) or public
	Satisfaction int    // evaluate: 1–5

	AttachmentIDs []int64 // staged photos to bind to the event

	Until         *time.Time // request-suspension: the end asked for; approve-suspension: an earlier end
	Level         string     // supervise: normal|yellow|red
	SupervisionID int64      // reply-supervision: the supervision answered (0: every open one)

	Idempotency *Idempotency[View]
}

// Act does one workflow action on a case: it loads the case under a row lock within the
// caller's scope (404 outside it), checks the version (412), the state (409) and the role
// (403), validates the fields (422), changes the case and appends its event in one
// transaction, and returns the case as the caller now sees it. With an Idempotency key, a
// retry returns the first response (Replay) instead of acting twice.
func (s *Service) Act(ctx context.Context, p identity.Principal, id int64, cmd Command) (View, *Replay, error) {
	if !cmd.Action.Valid() {
		return View{}, nil, errs.NotFoundf("no action %q", cmd.Action)
	}
	if err := canRead(p); err != nil {
		return View{}, nil, err
	}
	op := fmt.Sprintf("case:%d:%s", id, cmd.Action)
	return withIdempotency(ctx, s.store, p, op, cmd.Idempotency, func(tx Store) (View, int64, error) {
		now := s.now().UTC()
		var cat *category.Category
		c, err := tx.UpdateCase(ctx, id, ReachOf(p), func(c *Case) error {
			if cmd.Version != 0 && cmd.Version != c.Version {
				return errs.E(errs.Precondition, "the case changed since you read it (version %d, you sent %d); reload it", c.Version, cmd.Version).
					With("version", c.Version).With("state", string(c.State))
			}
			var err error
			if cat, err = s.categoryOf(ctx, tx, c.CategoryCode); err != nil {
				return err
			}
			if err := Authorize(c, p, cmd.Action, s.facts(cat)); err != nil {
				return err
			}
			if err := validate(cmd); err != nil {
				return err
			}
			before := timerStateOf(c)
			if err := s.apply(ctx, tx, p, c, &cat, cmd, now); err != nil {
				return err
			}
			return s.scheduleTimers(ctx, tx, before, c)
		})
		if err != nil {
			return View{}, 0, err
		}
		v, err := s.view(ctx, tx, p, c)
		return v, c.ID, err
	})
}

func (s *Service) categoryOf(ctx context.Context, st Store, code string) (*category.Category, error) {
	if code == "" {
		return nil, nil
	}
	c, err := st.Category(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read category %s: %w", code, err)
	}
	return &c, nil
}

// validate checks the fields an action requires (422), before anything is changed.
func validate(cmd Command) error {
	var f errs.Fields
	text := func(field, v string, max int, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			f.Add(field, "required", "%s is required for %s", field, cmd.Action)
		case utf8.RuneCountInString(v) > max:
			f.Add(field, "max", "%s must be at most %d characters", field, max)
		}
	}
	needsReason := cmd.Action == Reject || cmd.Action == Cancel || cmd.Action == Return || cmd.Action == Reopen ||
		(cmd.Action == Check && cmd.Result == CheckFail)
	text("reason", cmd.Reason, MaxNote, needsReason)
	needsNote := cmd.Action == Comment || cmd.Action == Feedback || cmd.Action == Escalate
	text("note", cmd.Note, MaxNote, needsNote)
	if len(cmd.AttachmentIDs) > MaxAttachments {
		f.Add("attachment_ids", "max", "at most %d photos per action", MaxAttachments)
	}
	validateTime(cmd, &f)
	switch cmd.Action {
	case Accept:
		if cmd.Urgency != "" && !category.Urgency(cmd.Urgency).Valid() {
			f.Add("urgency", "enum", "urgency must be normal or urgent")
		}
	case Merge:
		f.Required("duplicate_of", cmd.DuplicateOf <= 0)
	case RequestVerification, RequestCheck:
		f.Required("assignee_user_id", cmd.AssigneeUserID <= 0)
	case Verify:
		if cmd.Result != VerifyConfirmed && cmd.Result != VerifyNotFound {
			f.Add("result", "enum", "result must be confirmed or not_found")
		}
	case Check:
		if cmd.Result != CheckPass && cmd.Result != CheckFail {
			f.Add("result", "enum", "result must be pass or fail")
		}
	case Dispatch:
		f.Required("department_id", cmd.DepartmentID <= 0)
		seen := map[int64]bool{}
		for _, d := range cmd.CoHandlerDepartmentIDs {
			switch {
			case d <= 0:
				f.Add("co_handler_department_ids", "positive", "department ids are positive")
			case d == cmd.DepartmentID:
				f.Add("co_handler_department_ids", "lead", "the lead department is not also a co-handler")
			case seen[d]:
				f.Add("co_handler_department_ids", "unique", "department %d is listed twice", d)
			}
			seen[d] = true
		}
		if len(cmd.CoHandlerDepartmentIDs) > 10 {
			f.Add("co_handler_department_ids", "max", "at most 10 co-handling departments")
		}
	case HandDown:
		f.Required("target_region_code", cmd.TargetRegionCode == "")
	case Comment:
		if cmd.Visibility != "" && cmd.Visibility != string(Internal) && cmd.Visibility != string(Public) {
			f.Add("visibility", "enum", "visibility must be internal or public")
		}
	case Evaluate:
		if cmd.Satisfaction < 1 || cmd.Satisfaction > 5 {
			f.Add("satisfaction", "range", "satisfaction must be 1 (very dissatisfied) to 5 (very satisfied)")
		}
	}
	return f.Err()
}

// apply changes c for an allowed, valid action and appends its event (and binds photos).
func (s *Service) apply(ctx context.Context, tx Store, p identity.Principal, c *Case, catp **category.Category, cmd Command, now time.Time) error {
	to, _ := Next(c.State, cmd.Action)
	ev := s.event(p, c, cmd.Action, c.State, to, now)
	ev.Note, ev.Reason = strings.TrimSpace(cmd.Note), strings.TrimSpace(cmd.Reason)
	ev.Data = map[string]any{}
	cat := *catp
	var afterPhoto bool // feedback: an after photo must be bound now or uploaded since the dispatch

	switch cmd.Action {
	case Accept:
		if cmd.CategoryCode != "" && cmd.CategoryCode != c.CategoryCode {
			got, err := tx.Category(ctx, cmd.CategoryCode)
			if errs.Is(err, errs.NotFound) || (err == nil && !got.Active) {
				return fieldErr("category_code", "exists", "there is no active category %q", cmd.CategoryCode)
			}
			if err != nil {
				return fmt.Errorf("read category: %w", err)
			}
			cat, c.CategoryCode = &got, got.Code
			*catp = cat
			ev.Data["category_code"] = got.Code
		}
		if cat == nil {
			return fieldErr("category_code", "required", "a case is filed under a category: send category_code")
		}
		if cmd.Urgency != "" {
			c.Urgency = category.Urgency(cmd.Urgency)
			ev.Data["urgency"] = cmd.Urgency
		}
		if cmd.GridCode != "" {
			if err := s.placeIn(ctx, p, c, cmd.GridCode); err != nil {
				return err
			}
			ev.TargetRegionCode = c.GridCode
			ev.Data["grid_code"] = c.GridCode
		}
		c.FiledAt, c.AssigneeUserID = &now, 0
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageDispatch, now, nil)

	case Reject, Cancel:
		c.AssigneeUserID = 0
		if cmd.Action == Cancel {
			c.DeletedAt = &now
		}
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageNone, now, nil)

	case Merge:
		if cmd.DuplicateOf == c.ID {
			return fieldErr("duplicate_of", "self", "a case cannot be merged into itself")
		}
		target, err := tx.Case(ctx, cmd.DuplicateOf, ReachOf(p))
		if errs.Is(err, errs.NotFound) {
			return fieldErr("duplicate_of", "exists", "there is no case %d that you can see", cmd.DuplicateOf)
		}
		if err != nil {
			return fmt.Errorf("read case %d: %w", cmd.DuplicateOf, err)
		}
		if !target.State.Open() {
			return fieldErr("duplicate_of", "open", "case %s is %s; merge into an open case", target.Number, target.State)
		}
		c.DuplicateOf, c.DeletedAt, c.AssigneeUserID = target.ID, &now, 0
		ev.Data["duplicate_of"], ev.Data["duplicate_number"] = target.ID, target.Number
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageNone, now, nil)

	case RequestVerification, RequestCheck:
		u, err := s.gridWorkerFor(ctx, c, cmd.AssigneeUserID)
		if err != nil {
			return err
		}
		c.AssigneeUserID, ev.TargetUserID = u.ID, u.ID
		ev.Data["assignee_name"] = u.DisplayName
		if cmd.Action == RequestVerification && c.State == Reported {
			s.leaveStage(c, &ev, now)
			s.enterStage(c, StageVerify, now, nil)
		}

	case Verify:
		ok := cmd.Result == VerifyConfirmed
		c.Verified, c.AssigneeUserID = &ok, 0
		ev.Data["result"] = cmd.Result
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageAccept, now, nil)

	case Dispatch:
		lead, err := s.department(ctx, "department_id", cmd.DepartmentID)
		if err != nil {
			return err
		}
		for _, id := range cmd.CoHandlerDepartmentIDs {
			if _, err := s.department(ctx, "co_handler_department_ids", id); err != nil {
				return err
			}
		}
		if cat == nil {
			return errs.E(errs.Conflict, "the case has no category; accept it with one first").With("state", string(c.State))
		}
		co := slices.Clone(cmd.CoHandlerDepartmentIDs)
		slices.Sort(co)
		c.LeadDepartmentID, c.CoHandlerIDs, c.DispatchedAt = lead.ID, co, &now
		limit := cat.LimitFor(c.Urgency)
		c.HandleLimit, c.HandleExtensions = &limit, 0
		s.setHandleClock(c)
		hd := *c.HandleDeadline
		ev.TargetDepartmentID = lead.ID
		ev.Data["department_name"] = lead.Name
		if len(co) > 0 {
			ev.Data["co_handler_department_ids"] = co
		}
		ev.Data["handle_limit"] = limit.String()
		ev.Data["handle_deadline"] = hd.UTC().Format(time.RFC3339)
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageSign, now, nil)

	case Sign:
		ev.TargetDepartmentID = c.LeadDepartmentID
		s.leaveStage(c, &ev, now)
		s.enterHandling(c, cat, now)

	case Return:
		ev.TargetDepartmentID = c.LeadDepartmentID
		c.ReturnCount++
		c.LeadDepartmentID, c.CoHandlerIDs, c.HandleDeadline = 0, nil, nil
		c.HandleLimit, c.HandleExtensions = nil, 0
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageDispatch, now, nil)

	case Feedback:
		ev.TargetDepartmentID = c.LeadDepartmentID
		afterPhoto = true
		s.leaveStage(c, &ev, now)
		if cat == nil || cat.CheckRequired {
			s.enterStage(c, StageCheck, now, nil)
		} else {
			s.enterStage(c, StageClose, now, nil)
		}

	case Check:
		ev.Data["result"] = cmd.Result
		s.leaveStage(c, &ev, now)
		c.AssigneeUserID = 0
		if cmd.Result == CheckPass {
			s.enterStage(c, StageClose, now, nil)
			break
		}
		// Rework (返工): back to the same department, re-dispatched now with a fresh limit.
		ev.ToState = reworkState
		ev.TargetDepartmentID = c.LeadDepartmentID
		ev.Data["rework"] = true
		c.ReworkCount++
		c.DispatchedAt = &now
		if cat != nil {
			l := cat.LimitFor(c.Urgency)
			c.HandleLimit, c.HandleExtensions = &l, 0
			s.setHandleClock(c)
			ev.Data["handle_deadline"] = c.HandleDeadline.UTC().Format(time.RFC3339)
		}
		s.enterHandling(c, cat, now)

	case CloseCase:
		c.ClosedAt, c.AssigneeUserID = &now, 0
		s.leaveStage(c, &ev, now)
		s.enterStage(c, StageNone, now, nil)

	case Reopen:
		c.ReopenCount++
		c.ClosedAt, c.LeadDepartmentID, c.CoHandlerIDs, c.HandleDeadline = nil, 0, nil, nil
		c.HandleLimit, c.HandleExtensions = nil, 0
		c.Satisfaction, c.EvaluationComment, c.EvaluatedAt = nil, "", nil
		s.enterStage(c, StageDispatch, now, nil)

	case Escalate:
		if c.DeskRegionCode == "" {
			return errs.E(errs.Conflict, "the case is at the top desk already").With("state", string(c.State))
		}
		desk, err := s.places.Region(ctx, c.DeskRegionCode)
		if err != nil {
			return fmt.Errorf("read desk region %s: %w", c.DeskRegionCode, err)
		}
		if desk.ParentCode == "" {
			return errs.E(errs.Conflict, "the case is at the top desk (%s) already", desk.Name).With("state", string(c.State))
		}
		parent, err := s.places.Region(ctx, desk.ParentCode)
		if err != nil {
			return fmt.Errorf("read region %s: %w", desk.ParentCode, err)
		}
		ev.TargetRegionCode = parent.Code
		ev.Data["from_region_code"], ev.Data["region_name"] = desk.Code, parent.Name
		c.DeskRegionCode, c.DeskRegionPath = parent.Code, parent.Path
		s.leaveStage(c, &ev, now)
		s.enterStage(c, c.Stage, now, nil)

	case HandDown:
		target, err := s.places.Region(ctx, cmd.TargetRegionCode)
		if errs.Is(err, errs.NotFound) {
			return fieldErr("target_region_code", "exists", "there is no region %q", cmd.TargetRegionCode)
		}
		if err != nil {
			return fmt.Errorf("read region %s: %w", cmd.TargetRegionCode, err)
		}
		switch {
		case c.DeskRegionPath == "" || !strings.HasPrefix(target.Path, c.DeskRegionPath) || target.Path == c.DeskRegionPath:
			return fieldErr("target_region_code", "below_desk", "%s is not below the desk that holds the case (%s)", target.Code, orNone(c.DeskRegionCode))
		case c.RegionPath == "" || !strings.HasPrefix(c.RegionPath, target.Path):
			return fieldErr("target_region_code", "contains_case", "%s does not contain the case's grid; place the case first", target.Code)
		}
		ev.TargetRegionCode = target.Code
		ev.Data["from_region_code"], ev.Data["region_name"] = c.DeskRegionCode, target.Name
		c.DeskRegionCode, c.DeskRegionPath = target.Code, target.Path
		s.leaveStage(c, &ev, now)
		s.enterStage(c, c.Stage, now, nil)

	case Comment:
		ev.Visibility = Visibility(cmd.Visibility)
		if ev.Visibility == "" || p.IsAPIKey() {
			ev.Visibility = Internal
			if p.IsAPIKey() {
				ev.Visibility = Public
			}
		}

	case Evaluate:
		n := cmd.Satisfaction
		c.Satisfaction, c.EvaluationComment, c.EvaluatedAt = &n, ev.Note, &now
		ev.Data["satisfaction"] = n
		ev.Visibility = Public

	case RequestExtension, ApproveExtension, DenyExtension, RequestSuspension, ApproveSuspension, DenySuspension,
		Resume, Supervise, ReplySupervision:
		if err := s.applyTime(ctx, tx, p, c, cmd, &ev, now); err != nil {
			return err
		}
	}
	if err := s.lapseRequests(ctx, tx, c, &ev, now); err != nil {
		return err
	}

	c.State, c.UpdatedAt = ev.ToState, now
	if len(ev.Data) == 0 {
		ev.Data = nil
	}
	if err := tx.AppendEvent(ctx, &ev); err != nil {
		return fmt.Errorf("log %s: %w", cmd.Action, err)
	}
	bound, err := bind(ctx, tx, p, c.ID, ev.ID, cmd.AttachmentIDs)
	if err != nil {
		return err
	}
	if afterPhoto {
		return s.requireAfterPhoto(ctx, tx, c, bound)
	}
	return nil
}

// requireAfterPhoto insists on at least one after photo for a feedback: bound with it, or
// uploaded to the case since the last (re)dispatch.
func (s *Service) requireAfterPhoto(ctx context.Context, tx Store, c *Case, bound []media.Attachment) error {
	if slices.ContainsFunc(bound, func(a media.Attachment) bool { return a.Kind == media.KindAfter }) {
		return nil
	}
	var since time.Time
	if c.DispatchedAt != nil {
		since = *c.DispatchedAt
	}
	n, err := tx.CountAttachments(ctx, c.ID, string(media.KindAfter), since)
	if err != nil {
		return fmt.Errorf("count after photos: %w", err)
	}
	if n == 0 {
		return fieldErr("attachment_ids", "after_photo", "feedback needs at least one photo of kind after (处置后) taken since the dispatch")
	}
	return nil
}

// gridWorkerFor checks that a user is an active grid worker whose grids hold the case.
func (s *Service) gridWorkerFor(ctx context.Context, c *Case, userID int64) (identity.User, error) {
	if c.GridCode == "" {
		return identity.User{}, fieldErr("assignee_user_id", "grid_unknown", "the case has no grid yet; place it (accept with grid_code) before sending a grid worker")
	}
	u, err := s.dir.UserByID(ctx, userID)
	if errs.Is(err, errs.NotFound) {
		return identity.User{}, fieldErr("assignee_user_id", "exists", "there is no user %d", userID)
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("read user %d: %w", userID, err)
	}
	if !u.Active || u.Role != identity.RoleGridWorker || !slices.Contains(u.Scope.GridCodes, c.GridCode) {
		return identity.User{}, fieldErr("assignee_user_id", "grid_worker", "user %d is not an active grid worker of grid %s", userID, c.GridCode)
	}
	return u, nil
}

// department checks that a department exists and is active.
func (s *Service) department(ctx context.Context, field string, id int64) (identity.Department, error) {
	d, err := s.dir.DepartmentByID(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return identity.Department{}, fieldErr(field, "exists", "there is no department %d", id)
	}
	if err != nil {
		return identity.Department{}, fmt.Errorf("read department %d: %w", id, err)
	}
	if !d.Active {
		return identity.Department{}, fieldErr(field, "active", "department %s (%s) is inactive", d.Code, d.Name)
	}
	return d, nil
}

// placeIn puts an unplaced case into a grid the desk chose (accept with grid_code).
func (s *Service) placeIn(ctx context.Context, p identity.Principal, c *Case, gridCode string) error {
	if c.GridCode != "" {
		if c.GridCode == gridCode {
			return nil
		}
		return fieldErr("grid_code", "placed", "the case is in grid %s already; its grid comes from its point", c.GridCode)
	}
	g, err := s.places.Region(ctx, gridCode)
	if errs.Is(err, errs.NotFound) {
		return fieldErr("grid_code", "exists", "there is no grid %q", gridCode)
	}
	if err != nil {
		return fmt.Errorf("read grid %s: %w", gridCode, err)
	}
	if g.Level != region.LevelGrid {
		return fieldErr("grid_code", "grid", "%s is a %s, not a grid", g.Code, g.Level)
	}
	if ps := p.Scope; !p.Is(identity.RoleAdmin) && ps.Kind != identity.ScopeAll && !strings.HasPrefix(g.Path, ps.RegionPath) {
		return fieldErr("grid_code", "scope", "grid %s is outside your scope", g.Code)
	}
	c.GridCode, c.RegionPath = g.Code, g.Path
	var ancestors []region.Ref
	for _, code := range region.AncestorCodes(g.Path) {
		a, err := s.places.Region(ctx, code)
		if err != nil {
			return fmt.Errorf("read region %s: %w", code, err)
		}
		ancestors = append(ancestors, a)
	}
	d := s.deskOf(g, ancestors)
	c.DeskRegionCode, c.DeskRegionPath = d.Code, d.Path
	return nil
}

// event starts the event of an action by p.
func (s *Service) event(p identity.Principal, c *Case, a Action, from, to State, now time.Time) Event {
	return Event{CaseID: c.ID, Action: a, FromState: from, ToState: to, ActorUserID: p.UserID, ActorAPIKeyID: p.APIKeyID,
		ActorRole: p.Role, Visibility: Internal, CreatedAt: now}
}

// leaveStage records on ev the time spent in c's running stage and whether it ran over.
func (s *Service) leaveStage(c *Case, ev *Event, now time.Time) {
	if c.Stage == "" || c.Stage == StageNone {
		return
	}
	ev.Stage = c.Stage
	ev.TimeUsedSeconds = int64(now.Sub(c.StageStartedAt) / time.Second)
	ev.Overdue = c.StageDeadline != nil && now.After(*c.StageDeadline)
}

// enterStage starts a stage's clock with the limit of the case's city (or lim when given), on
// the city's calendar: it stores the stage's deadline and the time its light turns yellow.
func (s *Service) enterStage(c *Case, st Stage, now time.Time, lim *worktime.Limit) {
	c.Stage, c.StageStartedAt, c.StageDeadline, c.StageWarnAt, c.StageLimit = st, now, nil, nil, nil
	if st == StageNone {
		return
	}
	r := s.rulesOf(c)
	if lim == nil {
		if l, ok := r.limits[st]; ok {
			lim = &l
		}
	}
	if lim != nil {
		d, w := r.cal.Deadline(now, *lim).UTC(), r.cal.WarnAt(now, *lim, nil).UTC()
		c.StageLimit, c.StageDeadline, c.StageWarnAt = lim, &d, &w
	}
}

// enterHandling starts the handling stage: its clock runs from the (last) dispatch on the
// handling limit, with the extensions and the pause (setHandleClock).
func (s *Service) enterHandling(c *Case, cat *category.Category, now time.Time) {
	c.Stage, c.StageStartedAt, c.StageDeadline, c.StageWarnAt, c.StageLimit = StageHandle, now, c.HandleDeadline, nil, nil
	if c.HandleLimit == nil && cat != nil && c.DispatchedAt != nil { // dispatched before the limit was kept
		l := cat.LimitFor(c.Urgency)
		c.HandleLimit = &l
	}
	s.setHandleClock(c)
}
