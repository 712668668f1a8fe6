package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
)

func (s *Server) registerCases(r *gin.RouterGroup) {
	r.POST("/cases", s.requireAuth, s.reportCase)
	r.GET("/cases/:id", s.requireAuth, s.getCase)
	r.GET("/cases/:id/events", s.requireAuth, s.caseEvents)
	r.GET("/cases/:id/dispatch-proposal", s.requireAuth, s.caseDispatchProposal)
	s.registerCaseActions(r)
}

// Case is a case (案卷) as the caller sees it. Absent fields are unset: no category yet, no
// point, grid unknown (grid_code absent) and so on.
type Case struct {
	ID           int64    `json:"id" example:"1024"`
	Number       string   `json:"number" example:"GC20260316-000042"`
	State        string   `json:"state" enums:"reported,verifying,filed,dispatched,handling,suspended,handled,checked,closed,rejected,cancelled" example:"handling"`
	Version      int64    `json:"version" example:"5"` // send it back as If-Match to act on what you saw
	CategoryCode string   `json:"category_code,omitempty" example:"E0101"`
	CategoryName string   `json:"category_name,omitempty" example:"暴露垃圾"`
	Urgency      string   `json:"urgency" enums:"normal,urgent" example:"normal"`
	Description  string   `json:"description" example:"小区门口垃圾堆积"`
	Address      string   `json:"address,omitempty" example:"崇川区工农路 88 号"`
	Lat          *float64 `json:"lat,omitempty" example:"32.0106"` // WGS-84
	Lng          *float64 `json:"lng,omitempty" example:"120.8637"`
	OrigLat      *float64 `json:"orig_lat,omitempty"` // as sent, in orig_coord_sys
	OrigLng      *float64 `json:"orig_lng,omitempty"`
	OrigCoordSys string   `json:"orig_coord_sys,omitempty" enums:"wgs84,gcj02,bd09" example:"gcj02"`
	// GridCode is the grid the point falls in; absent when it is outside every grid (a desk
	// places the case).
	GridCode       string `json:"grid_code,omitempty" example:"320613001001001"`
	RegionPath     string `json:"region_path,omitempty" example:"/320600/320613/320613001/320613001001/320613001001001/"`
	DeskRegionCode string `json:"desk_region_code,omitempty" example:"320613001"` // whose desk holds the case

	Source           string `json:"source" enums:"grid_worker,resident,hotline,video,integrator,leader" example:"grid_worker"`
	ReporterUserID   int64  `json:"reporter_user_id,omitempty" example:"12"`
	ReporterAPIKeyID int64  `json:"reporter_api_key_id,omitempty"`
	ExternalRef      string `json:"external_ref,omitempty" example:"12345-20260316-0001"`

	OccurredAt   time.Time  `json:"occurred_at" example:"2026-03-16T01:20:00Z"`
	CreatedAt    time.Time  `json:"created_at" example:"2026-03-16T01:22:00Z"`
	UpdatedAt    time.Time  `json:"updated_at" example:"2026-03-16T02:00:00Z"`
	FiledAt      *time.Time `json:"filed_at,omitempty"`
	DispatchedAt *time.Time `json:"dispatched_at,omitempty"` // the last (re)dispatch
	ClosedAt     *time.Time `json:"closed_at,omitempty"`

	LeadDepartmentID       int64   `json:"lead_department_id,omitempty" example:"3"`
	CoHandlerDepartmentIDs []int64 `json:"co_handler_department_ids"`
	AssigneeUserID         int64   `json:"assignee_user_id,omitempty" example:"12"` // the grid worker asked to verify or check
	DuplicateOf            int64   `json:"duplicate_of,omitempty"`
	SelfHandled            bool    `json:"self_handled" example:"false"`
	Verified               *bool   `json:"verified,omitempty"`
	ReworkCount            int     `json:"rework_count" example:"0"`
	ReturnCount            int     `json:"return_count" example:"0"`
	ReopenCount            int     `json:"reopen_count" example:"0"`

	// Stage is the step whose clock runs; Light its traffic light (green < 80 % of the limit
	// used, yellow 80–100 %, red overdue).
	Stage          string     `json:"stage" enums:"accept,verify,dispatch,sign,handle,check,close,none" example:"handle"`
	StageStartedAt time.Time  `json:"stage_started_at"`
	StageDeadline  *time.Time `json:"stage_deadline,omitempty"`
	StageLimit     *TimeLimit `json:"stage_limit,omitempty"`
	Light          string     `json:"light,omitempty" enums:"green,yellow,red" example:"green"`
	HandleDeadline *time.Time `json:"handle_deadline,omitempty"` // the handling limit's end, from the dispatch
	// StageWarnAt is when the light turns yellow (80 % of the stage's limit used).
	StageWarnAt *time.Time `json:"stage_warn_at,omitempty"`

	// Time (docs/time-rules.md): approved extensions (延期, at most 2) and whether a request
	// waits; the suspension (挂账, at most one) with its pause; the supervisions (督办) waiting
	// for the department's reply (listed on single reads; lists give the count and level).
	Extensions           int               `json:"extensions" example:"0"`
	ExtensionPending     bool              `json:"extension_pending" example:"false"`
	SuspensionPending    bool              `json:"suspension_pending" example:"false"`
	SuspendedAt          *time.Time        `json:"suspended_at,omitempty"`
	SuspendedUntil       *time.Time        `json:"suspended_until,omitempty"` // the planned end
	ResumedAt            *time.Time        `json:"resumed_at,omitempty"`
	OpenSupervisionCount int               `json:"open_supervision_count" example:"0"`
	SupervisionLevel     string            `json:"supervision_level,omitempty" enums:"normal,yellow,red"` // the highest open level
	OpenSupervisions     []CaseSupervision `json:"open_supervisions,omitempty"`

	Satisfaction      *int       `json:"satisfaction,omitempty" example:"5"`
	EvaluationComment string     `json:"evaluation_comment,omitempty"`
	EvaluatedAt       *time.Time `json:"evaluated_at,omitempty"`
	// Deleted marks a cancelled or merged case (a tombstone for delta sync).
	Deleted   bool       `json:"deleted" example:"false"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`

	// AllowedActions are the actions the caller may take now (each is POST /cases/{id}/{action}).
	AllowedActions []string `json:"allowed_actions" example:"feedback,return,comment"`
} //	@name	Case

func caseDTO(v casework.View) Case {
	c := v.Case
	out := Case{
		ID: c.ID, Number: c.Number, State: string(c.State), Version: c.Version, CategoryCode: c.CategoryCode,
		Urgency: string(c.Urgency), Description: c.Description, Address: c.Address, OrigCoordSys: c.OrigCoordSys,
		GridCode: c.GridCode, RegionPath: c.RegionPath, DeskRegionCode: c.DeskRegionCode,
		Source: string(c.Source), ReporterUserID: c.ReporterUserID, ReporterAPIKeyID: c.ReporterAPIKeyID, ExternalRef: c.ExternalRef,
		OccurredAt: c.OccurredAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, FiledAt: c.FiledAt, DispatchedAt: c.DispatchedAt, ClosedAt: c.ClosedAt,
		LeadDepartmentID: c.LeadDepartmentID, CoHandlerDepartmentIDs: c.CoHandlerIDs, AssigneeUserID: c.AssigneeUserID,
		DuplicateOf: c.DuplicateOf, SelfHandled: c.SelfHandled, Verified: c.Verified,
		ReworkCount: c.ReworkCount, ReturnCount: c.ReturnCount, ReopenCount: c.ReopenCount,
		Stage: string(c.Stage), StageStartedAt: c.StageStartedAt, StageDeadline: c.StageDeadline, Light: string(v.Light),
		HandleDeadline: c.HandleDeadline, Satisfaction: c.Satisfaction, EvaluationComment: c.EvaluationComment, EvaluatedAt: c.EvaluatedAt,
		Deleted: c.DeletedAt != nil, DeletedAt: c.DeletedAt, AllowedActions: make([]string, len(v.AllowedActions)),
	}
	if v.Category != nil {
		out.CategoryName = v.Category.Name
	}
	if c.Point != nil {
		out.Lat, out.Lng = &c.Point.Lat, &c.Point.Lng
	}
	if c.OrigPoint != nil {
		out.OrigLat, out.OrigLng = &c.OrigPoint.Lat, &c.OrigPoint.Lng
	}
	if c.StageLimit != nil {
		l := timeLimitDTO(*c.StageLimit)
		out.StageLimit = &l
	}
	if out.CoHandlerDepartmentIDs == nil {
		out.CoHandlerDepartmentIDs = []int64{}
	}
	for i, a := range v.AllowedActions {
		out.AllowedActions[i] = string(a)
	}
	caseTimeDTO(&out, v)
	return out
}

// ReportCaseRequest reports a case (信息采集). Send a point, an address or both.
type ReportCaseRequest struct {
	CategoryCode string   `json:"category_code,omitempty" example:"E0101"` // optional: a desk sets it when filing
	Description  string   `json:"description" example:"小区门口垃圾堆积，约 2 平方米"`
	Lat          *float64 `json:"lat,omitempty" example:"32.0106"`
	Lng          *float64 `json:"lng,omitempty" example:"120.8637"`
	CoordSys     string   `json:"coord_sys,omitempty" enums:"wgs84,gcj02,bd09" example:"wgs84"` // default wgs84
	Address      string   `json:"address,omitempty" example:"崇川区工农路 88 号"`
	Urgency      string   `json:"urgency,omitempty" enums:"normal,urgent" example:"normal"` // default normal
	// OccurredAt is when it was seen (may be hours before it is sent); default now.
	OccurredAt *time.Time `json:"occurred_at,omitempty" example:"2026-03-16T01:20:00Z"`
	// Source defaults from the caller: grid_worker for grid workers, integrator for API keys,
	// leader for supervisors, hotline for desks.
	Source      string `json:"source,omitempty" enums:"grid_worker,resident,hotline,video,integrator,leader"`
	ExternalRef string `json:"external_ref,omitempty" example:"12345-20260316-0001"` // API keys: your own id, unique per key
	// SelfHandled (自行处置): a grid worker fixed it at once; needs a category that allows it
	// and an after photo among attachment_ids. The case is born closed.
	SelfHandled   bool    `json:"self_handled,omitempty" example:"false"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"` // staged uploads (POST /attachments) to attach
} //	@name	ReportCaseRequest

// SimilarCase is an open case of the same category near a new report (a possible duplicate).
type SimilarCase struct {
	ID       int64   `json:"id" example:"1000"`
	Number   string  `json:"number" example:"GC20260316-000007"`
	State    string  `json:"state" example:"filed"`
	Distance float64 `json:"distance_m" example:"23.4"`
} //	@name	SimilarCase

// CaseReport is the answer to a report.
type CaseReport struct {
	Case Case `json:"case"`
	// GridUnknown: the point is outside every grid (or no point was sent); the case is kept
	// and a desk places it.
	GridUnknown bool          `json:"grid_unknown" example:"false"`
	Notice      string        `json:"notice,omitempty" example:"the point is outside every grid; a desk will place the case"`
	Similar     []SimilarCase `json:"similar"` // open cases of the same category within 50 m
} //	@name	CaseReport

func caseReportDTO(r casework.ReportResult) CaseReport {
	out := CaseReport{Case: caseDTO(r.View), GridUnknown: !r.Located, Similar: make([]SimilarCase, len(r.Similar))}
	if !r.Located {
		out.Notice = "the case has no grid: its point is outside every grid or it has only an address; a desk will place it"
	}
	for i, sm := range r.Similar {
		out.Similar[i] = SimilarCase{ID: sm.ID, Number: sm.Number, State: string(sm.State), Distance: sm.Distance}
	}
	return out
}

// reportCase godoc
//
//	@Summary		Report a case
//	@Description	Files a new case in state reported (or closed when self-handled). The grid and its ancestors are found from the point; a point outside every grid keeps the case with grid_unknown for a desk to place. With an Idempotency-Key, a retry returns the first response (same status and body) and never a second case; the same key with another body is 422. Open cases of the same category within 50 m come back in similar.
//	@ID				reportCase
//	@Tags			cases
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"a unique key per report (retries send the same)"
//	@Param			body			body		ReportCaseRequest	true	"the report"
//	@Success		201				{object}	CaseReport
//	@Failure		400,401,403,409,413,415,422	{object}	Problem
//	@Router			/api/v1/cases [post]
func (s *Server) reportCase(c *gin.Context) {
	var in ReportCaseRequest
	raw, err := caseBindBody(c, &in, true)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.Cases.Report(c.Request.Context(), mustPrincipal(c), casework.ReportInput{
		CategoryCode: in.CategoryCode, Description: in.Description, Lat: in.Lat, Lng: in.Lng, CoordSys: in.CoordSys,
		Address: in.Address, Urgency: in.Urgency, OccurredAt: in.OccurredAt, Source: in.Source, ExternalRef: in.ExternalRef,
		SelfHandled: in.SelfHandled, AttachmentIDs: in.AttachmentIDs,
		Idempotency: caseIdempotency(c, raw, http.StatusCreated, func(r casework.ReportResult) any { return caseReportDTO(r) }),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.Replay != nil {
		caseReplay(c, res.Replay)
		return
	}
	c.Header("Location", "/api/v1/cases/"+strconv.FormatInt(res.Case.ID, 10))
	caseETag(c, res.Case.Version)
	c.JSON(http.StatusCreated, caseReportDTO(res))
}

// getCase godoc
//
//	@Summary		Get a case
//	@Description	The case with its co-handlers, deadlines, traffic light and the actions the caller may take. Outside the caller's data scope it is 404. The ETag is the version, for If-Match.
//	@ID				getCase
//	@Tags			cases
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"case id"
//	@Success		200	{object}	Case
//	@Header			200	{string}	ETag	"the case version, quoted"
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/cases/{id} [get]
func (s *Server) getCase(c *gin.Context) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.Cases.Get(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	caseETag(c, v.Case.Version)
	c.JSON(http.StatusOK, caseDTO(v))
}

// CaseEvent is one entry of a case's log (流转记录).
type CaseEvent struct {
	ID                 int64          `json:"id" example:"5001"`
	Seq                int            `json:"seq" example:"3"`
	Action             string         `json:"action" example:"dispatch"`
	FromState          string         `json:"from_state,omitempty" example:"filed"` // absent for the report
	ToState            string         `json:"to_state" example:"dispatched"`
	Stage              string         `json:"stage,omitempty" example:"dispatch"` // the stage this action left
	ActorUserID        int64          `json:"actor_user_id,omitempty" example:"4"`
	ActorAPIKeyID      int64          `json:"actor_api_key_id,omitempty"`
	ActorRole          string         `json:"actor_role" example:"dispatcher"`
	TargetDepartmentID int64          `json:"target_department_id,omitempty" example:"3"`
	TargetRegionCode   string         `json:"target_region_code,omitempty"`
	TargetUserID       int64          `json:"target_user_id,omitempty"`
	Note               string         `json:"note,omitempty" example:"请尽快处置"`
	Reason             string         `json:"reason,omitempty"`
	Visibility         string         `json:"visibility" enums:"internal,public" example:"internal"`
	Data               map[string]any `json:"data,omitempty"`
	AttachmentIDs      []int64        `json:"attachment_ids,omitempty"`        // photos that came with this action
	TimeUsedSeconds    int64          `json:"time_used_seconds" example:"540"` // time spent in the stage left
	Overdue            bool           `json:"overdue" example:"false"`         // that stage ran past its deadline
	CreatedAt          time.Time      `json:"created_at" example:"2026-03-16T02:00:00Z"`
} //	@name	CaseEvent

// CaseEventList is a case's timeline, oldest first.
type CaseEventList struct {
	Items []CaseEvent `json:"items"`
} //	@name	CaseEventList

// caseEvents godoc
//
//	@Summary		A case's timeline
//	@Description	Every action on the case in order, one immutable event each, with the time spent in the stage it left and whether that stage was overdue. API keys do not see internal comments.
//	@ID				caseEvents
//	@Tags			cases
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"case id"
//	@Success		200	{object}	CaseEventList
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/cases/{id}/events [get]
func (s *Server) caseEvents(c *gin.Context) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	evs, err := s.Cases.Events(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := CaseEventList{Items: make([]CaseEvent, len(evs))}
	for i, e := range evs {
		out.Items[i] = CaseEvent{ID: e.ID, Seq: e.Seq, Action: string(e.Action), FromState: string(e.FromState), ToState: string(e.ToState),
			Stage: string(e.Stage), ActorUserID: e.ActorUserID, ActorAPIKeyID: e.ActorAPIKeyID, ActorRole: string(e.ActorRole),
			TargetDepartmentID: e.TargetDepartmentID, TargetRegionCode: e.TargetRegionCode, TargetUserID: e.TargetUserID,
			Note: e.Note, Reason: e.Reason, Visibility: string(e.Visibility), Data: e.Data, AttachmentIDs: e.AttachmentIDs,
			TimeUsedSeconds: e.TimeUsedSeconds, Overdue: e.Overdue, CreatedAt: e.CreatedAt}
	}
	c.JSON(http.StatusOK, out)
}

// DispatchCandidate is a department a case could be dispatched to.
type DispatchCandidate struct {
	DepartmentID   int64  `json:"department_id" example:"3"`
	DepartmentCode string `json:"department_code" example:"cgj"`
	DepartmentName string `json:"department_name" example:"城市管理局"`
	// Basis: grid_responsibility (the grid's 责任清单) or category_default (the class's 责任主体).
	Basis string `json:"basis" enums:"grid_responsibility,category_default" example:"grid_responsibility"`
} //	@name	DispatchCandidate

// DispatchProposal is the suggested lead department of a case.
type DispatchProposal struct {
	// Rule: locality_first (先属地后属主, events) or owner_first (先属主后属地, components).
	Rule string `json:"rule" enums:"locality_first,owner_first" example:"locality_first"`
	// ProposedDepartmentID is the first candidate; absent when nothing names a department.
	ProposedDepartmentID int64               `json:"proposed_department_id,omitempty" example:"3"`
	Candidates           []DispatchCandidate `json:"candidates"`
} //	@name	DispatchProposal

// caseDispatchProposal godoc
//
//	@Summary		Propose the department to dispatch a case to
//	@Description	Events go to the locality first (先属地后属主): the grid's responsibility list (small class, then 大类), then the category's default department. Components go to the owner first (先属主后属地): the category's default department, then the grid's list. Inactive departments are skipped.
//	@ID				caseDispatchProposal
//	@Tags			cases
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"case id"
//	@Success		200	{object}	DispatchProposal
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/cases/{id}/dispatch-proposal [get]
func (s *Server) caseDispatchProposal(c *gin.Context) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.Cases.DispatchProposal(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := DispatchProposal{Rule: p.Rule, Candidates: make([]DispatchCandidate, len(p.Candidates))}
	for i, cd := range p.Candidates {
		out.Candidates[i] = DispatchCandidate{DepartmentID: cd.Department.ID, DepartmentCode: cd.Department.Code,
			DepartmentName: cd.Department.Name, Basis: cd.Basis}
	}
	if len(out.Candidates) > 0 {
		out.ProposedDepartmentID = out.Candidates[0].DepartmentID
	}
	c.JSON(http.StatusOK, out)
}

// ---- helpers of the case routes ----

// caseID reads the {id} path parameter; anything but a positive integer names no case.
func caseID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no case %q", c.Param("id"))
	}
	return id, nil
}

// caseBindBody reads the whole body (for the idempotency hash) and decodes it strictly. An
// empty body stands for {} unless the route requires one.
func caseBindBody(c *gin.Context, dst any, required bool) ([]byte, error) {
	raw, err := peekBody(c)
	if err != nil {
		return nil, err
	}
	if !required && len(bytes.TrimSpace(raw)) == 0 {
		return raw, nil
	}
	return raw, bindJSON(c, dst)
}

// caseIdempotency builds the idempotency request of a case route from the Idempotency-Key
// header: nil without one. The request hash covers the body and the If-Match header.
func caseIdempotency[T any](c *gin.Context, raw []byte, status int, dto func(T) any) *casework.Idempotency[T] {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		return nil
	}
	h := sha256.New()
	h.Write([]byte(c.GetHeader("If-Match")))
	h.Write([]byte{0})
	h.Write(bytes.TrimSpace(raw))
	return &casework.Idempotency[T]{Key: key, RequestHash: hex.EncodeToString(h.Sum(nil)), Status: status,
		Render: func(v T) ([]byte, error) { return json.Marshal(dto(v)) }}
}

// caseReplay sends a recorded first response again.
func caseReplay(c *gin.Context, r *casework.Replay) {
	c.Header("Idempotent-Replayed", "true")
	c.Data(r.Status, "application/json; charset=utf-8", r.Body)
}

func caseETag(c *gin.Context, version int64) {
	c.Header("ETag", strconv.Quote(strconv.FormatInt(version, 10)))
}
