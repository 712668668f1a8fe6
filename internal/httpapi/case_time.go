package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/casework"
)

// registerCaseTime mounts the time actions (extension 延期, suspension 挂账, supervision 督办)
// and the case's supervisions and requests.
func (s *Server) registerCaseTime(r *gin.RouterGroup) {
	for path, h := range map[string]gin.HandlerFunc{
		"request-extension": s.caseRequestExtension, "approve-extension": s.caseApproveExtension, "deny-extension": s.caseDenyExtension,
		"request-suspension": s.caseRequestSuspension, "approve-suspension": s.caseApproveSuspension, "deny-suspension": s.caseDenySuspension,
		"resume": s.caseResume, "supervise": s.caseSupervise, "reply-supervision": s.caseReplySupervision,
	} {
		r.POST("/cases/:id/"+path, s.requireAuth, h)
	}
	r.GET("/cases/:id/supervisions", s.requireAuth, s.caseSupervisions)
	r.GET("/cases/:id/requests", s.requireAuth, s.caseRequests)
}

// ---- DTOs ----

// CaseSupervision is an urge (督办) to the lead department, waiting for its reply until
// replied_at is set.
type CaseSupervision struct {
	ID           int64      `json:"id" example:"7"`
	Level        string     `json:"level" enums:"normal,yellow,red" example:"yellow"`
	Source       string     `json:"source" enums:"manual,auto" example:"auto"` // a supervisor's, or a rule's
	Rule         string     `json:"rule,omitempty" example:"sign after 1 work_days → yellow"`
	Note         string     `json:"note" example:"请于今日内签收并反馈"`
	DepartmentID int64      `json:"department_id,omitempty" example:"3"` // who must reply
	CreatedBy    int64      `json:"created_by,omitempty" example:"8"`
	CreatedAt    time.Time  `json:"created_at"`
	Reply        string     `json:"reply,omitempty" example:"已安排人员今日处置"`
	RepliedBy    int64      `json:"replied_by,omitempty"`
	RepliedAt    *time.Time `json:"replied_at,omitempty"`
} //	@name	CaseSupervision

// CaseSupervisionList lists a case's supervisions, oldest first.
type CaseSupervisionList struct {
	Items []CaseSupervision `json:"items"`
} //	@name	CaseSupervisionList

// CaseRequest is a handler's request for an extension (延期) or a suspension (挂账), and its
// decision.
type CaseRequest struct {
	ID           int64      `json:"id" example:"4"`
	Kind         string     `json:"kind" enums:"extension,suspension" example:"extension"`
	Status       string     `json:"status" enums:"pending,approved,denied,lapsed" example:"pending"` // lapsed: the case left handling first
	Reason       string     `json:"reason" example:"需协调产权单位，无法按期完成"`
	Until        *time.Time `json:"until,omitempty"` // suspension: the end asked for
	RequestedBy  int64      `json:"requested_by,omitempty"`
	RequestedAt  time.Time  `json:"requested_at"`
	DecidedBy    int64      `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecisionNote string     `json:"decision_note,omitempty"`
} //	@name	CaseRequest

// CaseRequestList lists a case's requests, oldest first.
type CaseRequestList struct {
	Items []CaseRequest `json:"items"`
} //	@name	CaseRequestList

func supervisionDTO(sv casework.Supervision) CaseSupervision {
	return CaseSupervision{ID: sv.ID, Level: string(sv.Level), Source: sv.Source, Rule: sv.Rule, Note: sv.Note, DepartmentID: sv.DepartmentID,
		CreatedBy: sv.CreatedBy, CreatedAt: sv.CreatedAt, Reply: sv.Reply, RepliedBy: sv.RepliedBy, RepliedAt: sv.RepliedAt}
}

// caseTimeDTO fills the time fields of a case.
func caseTimeDTO(out *Case, v casework.View) {
	c := v.Case
	out.StageWarnAt, out.Extensions, out.ExtensionPending = c.StageWarnAt, c.Extensions, c.ExtensionPending
	out.SuspensionPending, out.SuspendedAt, out.SuspendedUntil, out.ResumedAt = c.SuspensionPending, c.SuspendedAt, c.SuspendedUntil, c.ResumedAt
	out.OpenSupervisionCount, out.SupervisionLevel = c.OpenSupervisions, c.SupervisionLevel
	for _, sv := range v.OpenSupervisions {
		out.OpenSupervisions = append(out.OpenSupervisions, supervisionDTO(sv))
	}
}

// CaseRequestExtensionRequest asks for more time (申请延期).
type CaseRequestExtensionRequest struct {
	Reason  string `json:"reason" example:"需协调产权单位，无法按期完成"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseRequestExtensionRequest

// CaseApproveRequest approves a request (批准).
type CaseApproveRequest struct {
	Note    string `json:"note,omitempty" example:"同意延期一次"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseApproveRequest

// CaseDenyRequest denies a request (驳回); the reason is required.
type CaseDenyRequest struct {
	Reason  string `json:"reason" example:"理由不充分，请按期办结"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseDenyRequest

// CaseRequestSuspensionRequest asks to pause the case (申请挂账) until a date.
type CaseRequestSuspensionRequest struct {
	Reason string `json:"reason" example:"需待汛期结束后施工"`
	// Until is when the suspension should end and the case resume by itself: after now, at
	// most 365 days ahead.
	Until   *time.Time `json:"until" example:"2026-10-08T00:30:00Z"`
	Note    string     `json:"note,omitempty"`
	Version *int64     `json:"version,omitempty"`
} //	@name	CaseRequestSuspensionRequest

// CaseApproveSuspensionRequest approves a suspension (批准挂账), optionally ending it earlier
// than asked.
type CaseApproveSuspensionRequest struct {
	Until   *time.Time `json:"until,omitempty"` // an earlier end than asked
	Note    string     `json:"note,omitempty"`
	Version *int64     `json:"version,omitempty"`
} //	@name	CaseApproveSuspensionRequest

// CaseResumeRequest resumes a suspended case by hand (恢复).
type CaseResumeRequest struct {
	Note    string `json:"note,omitempty" example:"条件已具备，恢复处置"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseResumeRequest

// CaseSuperviseRequest urges the lead department (督办).
type CaseSuperviseRequest struct {
	Level   string `json:"level" enums:"normal,yellow,red" example:"yellow"`
	Note    string `json:"note" example:"请于今日内处置完毕并回复"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseSuperviseRequest

// CaseReplySupervisionRequest is the lead department's reply (督办回复).
type CaseReplySupervisionRequest struct {
	Note string `json:"note" example:"已安排人员今日处置"`
	// SupervisionID is the supervision answered; absent: every open one.
	SupervisionID int64  `json:"supervision_id,omitempty" example:"7"`
	Version       *int64 `json:"version,omitempty"`
} //	@name	CaseReplySupervisionRequest

// ---- handlers ----

// caseRequestExtension godoc
//
//	@Summary		Request an extension (申请延期): handling
//	@Description	A handler of the lead department asks for more time; the reason is required. One request waits at a time (a second is 409), at most two extensions are approved per case, and none once the case is overdue (409).
//	@ID				caseRequestExtension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int							true	"case id"
//	@Param			If-Match		header		string						false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string						false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseRequestExtensionRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/request-extension [post]
func (s *Server) caseRequestExtension(c *gin.Context) {
	var in CaseRequestExtensionRequest
	s.act(c, casework.RequestExtension, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseApproveExtension godoc
//
//	@Summary		Approve an extension (批准延期): handling
//	@Description	A supervisor whose region holds the case, or the desk, approves the waiting request: the handling deadline becomes the dispatch plus the original limit times (1 + extensions), on the city's calendar. Refused (409) when the deadline passed before the approval: an overdue case is not extended.
//	@ID				caseApproveExtension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseApproveRequest	false	"a note"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/approve-extension [post]
func (s *Server) caseApproveExtension(c *gin.Context) {
	var in CaseApproveRequest
	s.act(c, casework.ApproveExtension, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseDenyExtension godoc
//
//	@Summary		Deny an extension (驳回延期): handling
//	@Description	A supervisor or the desk denies the waiting request; the reason is required.
//	@ID				caseDenyExtension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int				true	"case id"
//	@Param			If-Match		header		string			false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string			false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseDenyRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/deny-extension [post]
func (s *Server) caseDenyExtension(c *gin.Context) {
	var in CaseDenyRequest
	s.act(c, casework.DenyExtension, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseRequestSuspension godoc
//
//	@Summary		Request a suspension (申请挂账): handling
//	@Description	A handler of the lead department asks to pause the case until a time (after now, at most 365 days ahead); the reason is required. A case is suspended at most once; one request waits at a time.
//	@ID				caseRequestSuspension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int								true	"case id"
//	@Param			If-Match		header		string							false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string							false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseRequestSuspensionRequest	true	"the reason and the end"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/request-suspension [post]
func (s *Server) caseRequestSuspension(c *gin.Context) {
	var in CaseRequestSuspensionRequest
	s.act(c, casework.RequestSuspension, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Until: in.Until, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseApproveSuspension godoc
//
//	@Summary		Approve a suspension (批准挂账): handling → suspended
//	@Description	A supervisor or the desk approves the waiting request: the handling clock stops from now until the end asked for (or an earlier until). The case resumes by itself at that end (a timer), or earlier by hand; its deadline then moves by the work time paused.
//	@ID				caseApproveSuspension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int								true	"case id"
//	@Param			If-Match		header		string							false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string							false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseApproveSuspensionRequest	false	"a note, an earlier end"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/approve-suspension [post]
func (s *Server) caseApproveSuspension(c *gin.Context) {
	var in CaseApproveSuspensionRequest
	s.act(c, casework.ApproveSuspension, &in, func() casework.Command {
		return casework.Command{Until: in.Until, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseDenySuspension godoc
//
//	@Summary		Deny a suspension (驳回挂账): handling
//	@Description	A supervisor or the desk denies the waiting request; the reason is required.
//	@ID				caseDenySuspension
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int				true	"case id"
//	@Param			If-Match		header		string			false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string			false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseDenyRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/deny-suspension [post]
func (s *Server) caseDenySuspension(c *gin.Context) {
	var in CaseDenyRequest
	s.act(c, casework.DenySuspension, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseResume godoc
//
//	@Summary		Resume (恢复): suspended → handling
//	@Description	The desk, a supervisor or the lead department ends the suspension before its planned end; the handling deadline moves by the work time paused.
//	@ID				caseResume
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseResumeRequest	false	"a note"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/resume [post]
func (s *Server) caseResume(c *gin.Context) {
	var in CaseResumeRequest
	s.act(c, casework.Resume, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseSupervise godoc
//
//	@Summary		Supervise (督办): dispatched, handling or suspended
//	@Description	A supervisor whose region holds the case urges the lead department at a level (normal, yellow, red) with a note; the case stays in its state and the department must reply (reply-supervision). Open supervisions are shown on the case.
//	@ID				caseSupervise
//	@Tags			supervision
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int						true	"case id"
//	@Param			If-Match		header		string					false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string					false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseSuperviseRequest	true	"the level and the note"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/supervise [post]
func (s *Server) caseSupervise(c *gin.Context) {
	var in CaseSuperviseRequest
	s.act(c, casework.Supervise, &in, func() casework.Command {
		return casework.Command{Level: in.Level, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// caseReplySupervision godoc
//
//	@Summary		Reply to a supervision (督办回复)
//	@Description	A handler of the lead department answers one open supervision (supervision_id) or all of them; the note is required. The case stays in its state.
//	@ID				caseReplySupervision
//	@Tags			supervision
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int							true	"case id"
//	@Param			If-Match		header		string						false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string						false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseReplySupervisionRequest	true	"the reply"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/reply-supervision [post]
func (s *Server) caseReplySupervision(c *gin.Context) {
	var in CaseReplySupervisionRequest
	s.act(c, casework.ReplySupervision, &in, func() casework.Command {
		return casework.Command{Note: in.Note, SupervisionID: in.SupervisionID, Version: caseVersionOf(in.Version)}
	})
}

// caseSupervisions godoc
//
//	@Summary	A case's supervisions (督办), replied or not
//	@ID			caseSupervisions
//	@Tags		supervision
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		int	true	"case id"
//	@Success	200	{object}	CaseSupervisionList
//	@Failure	400,401,403,404	{object}	Problem
//	@Router		/api/v1/cases/{id}/supervisions [get]
func (s *Server) caseSupervisions(c *gin.Context) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	svs, err := s.Cases.Supervisions(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := CaseSupervisionList{Items: make([]CaseSupervision, len(svs))}
	for i, sv := range svs {
		out.Items[i] = supervisionDTO(sv)
	}
	c.JSON(http.StatusOK, out)
}

// caseRequests godoc
//
//	@Summary	A case's extension and suspension requests and their decisions
//	@ID			caseRequests
//	@Tags		cases
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		int	true	"case id"
//	@Success	200	{object}	CaseRequestList
//	@Failure	400,401,403,404	{object}	Problem
//	@Router		/api/v1/cases/{id}/requests [get]
func (s *Server) caseRequests(c *gin.Context) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	rs, err := s.Cases.Requests(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := CaseRequestList{Items: make([]CaseRequest, len(rs))}
	for i, r := range rs {
		out.Items[i] = CaseRequest{ID: r.ID, Kind: string(r.Kind), Status: string(r.Status), Reason: r.Reason, Until: r.Until,
			RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, DecisionNote: r.DecisionNote}
	}
	c.JSON(http.StatusOK, out)
}
