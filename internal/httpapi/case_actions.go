package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
)

// registerCaseActions mounts one endpoint per workflow action: POST /cases/{id}/{action}.
func (s *Server) registerCaseActions(r *gin.RouterGroup) {
	for path, h := range map[string]gin.HandlerFunc{
		"accept": s.caseAccept, "reject": s.caseReject, "cancel": s.caseCancel, "merge": s.caseMerge,
		"request-verification": s.caseRequestVerification, "verify": s.caseVerify, "dispatch": s.caseDispatch,
		"sign": s.caseSign, "return": s.caseReturn, "feedback": s.caseFeedback, "request-check": s.caseRequestCheck,
		"check": s.caseCheck, "close": s.caseClose, "reopen": s.caseReopen, "escalate": s.caseEscalate,
		"hand-down": s.caseHandDown, "comment": s.caseComment, "evaluate": s.caseEvaluate,
	} {
		r.POST("/cases/:id/"+path, s.requireAuth, h)
	}
}

// act is what every action handler does after choosing its body: bind it (an empty body is
// {}), read If-Match, call the workflow once and answer with the case (or the recorded first
// response of a retried Idempotency-Key).
func (s *Server) act(c *gin.Context, a casework.Action, body any, command func() casework.Command) {
	id, err := caseID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	raw, err := caseBindBody(c, body, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	cmd := command()
	cmd.Action = a
	if cmd.Version, err = caseIfMatch(c, cmd.Version); err != nil {
		s.fail(c, err)
		return
	}
	cmd.Idempotency = caseIdempotency(c, raw, http.StatusOK, func(v casework.View) any { return caseDTO(v) })
	v, replay, err := s.Cases.Act(c.Request.Context(), mustPrincipal(c), id, cmd)
	if err != nil {
		s.fail(c, err)
		return
	}
	if replay != nil {
		caseReplay(c, replay)
		return
	}
	caseETag(c, v.Case.Version)
	c.JSON(http.StatusOK, caseDTO(v))
}

// caseIfMatch merges the If-Match header ("5", W/"5" or *) with a body's version field.
func caseIfMatch(c *gin.Context, bodyVersion int64) (int64, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return bodyVersion, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, errs.E(errs.BadRequest, "If-Match must be the case's version as its ETag gives it, e.g. \"5\"")
	}
	if bodyVersion != 0 && bodyVersion != v {
		return 0, errs.E(errs.BadRequest, "If-Match (%d) and the body's version (%d) disagree", v, bodyVersion)
	}
	return v, nil
}

func caseVersionOf(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// CaseAcceptRequest files a reported case (立案).
type CaseAcceptRequest struct {
	CategoryCode string `json:"category_code,omitempty" example:"E0101"` // required when the case has none
	Urgency      string `json:"urgency,omitempty" enums:"normal,urgent"`
	// GridCode places a case whose point is outside every grid (a grid in your scope).
	GridCode string `json:"grid_code,omitempty" example:"320613001001001"`
	Note     string `json:"note,omitempty" example:"符合立案条件"`
	Version  *int64 `json:"version,omitempty" example:"1"` // like If-Match
} //	@name	CaseAcceptRequest

// caseAccept godoc
//
//	@Summary		Accept (立案): reported → filed
//	@Description	A desk (dispatcher or admin whose scope holds the case's desk) files the case under a category, optionally setting the urgency and placing an unplaced case in a grid. The dispatch stage's clock starts.
//	@ID				caseAccept
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseAcceptRequest	false	"the filing"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/accept [post]
func (s *Server) caseAccept(c *gin.Context) {
	var in CaseAcceptRequest
	s.act(c, casework.Accept, &in, func() casework.Command {
		return casework.Command{CategoryCode: in.CategoryCode, Urgency: in.Urgency, GridCode: in.GridCode, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseRejectRequest refuses to file a report (不予立案).
type CaseRejectRequest struct {
	Reason  string `json:"reason" example:"不属于受理范围"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseRejectRequest

// caseReject godoc
//
//	@Summary		Reject (不予立案): reported → rejected
//	@Description	A desk refuses the report; the reason is required and kept.
//	@ID				caseReject
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseRejectRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/reject [post]
func (s *Server) caseReject(c *gin.Context) {
	var in CaseRejectRequest
	s.act(c, casework.Reject, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseCancelRequest withdraws a case (作废).
type CaseCancelRequest struct {
	Reason  string `json:"reason" example:"重复上报"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseCancelRequest

// caseCancel godoc
//
//	@Summary		Cancel (作废): reported, verifying or filed → cancelled
//	@Description	A desk withdraws the case; so may an API key its own reports, and a reporter a case still reported. The reason is required. The case becomes a tombstone (deleted) for delta sync.
//	@ID				caseCancel
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseCancelRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/cancel [post]
func (s *Server) caseCancel(c *gin.Context) {
	var in CaseCancelRequest
	s.act(c, casework.Cancel, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseMergeRequest merges a duplicate into an open case (合并).
type CaseMergeRequest struct {
	DuplicateOf int64  `json:"duplicate_of" example:"1000"` // the open case this one duplicates
	Note        string `json:"note,omitempty"`
	Version     *int64 `json:"version,omitempty"`
} //	@name	CaseMergeRequest

// caseMerge godoc
//
//	@Summary		Merge (合并): reported or filed → cancelled, as a duplicate
//	@Description	A desk marks the case a duplicate of another open case it can see; the case is cancelled with duplicate_of set.
//	@ID				caseMerge
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseMergeRequest	true	"the case it duplicates"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/merge [post]
func (s *Server) caseMerge(c *gin.Context) {
	var in CaseMergeRequest
	s.act(c, casework.Merge, &in, func() casework.Command {
		return casework.Command{DuplicateOf: in.DuplicateOf, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseRequestVerificationRequest sends a grid worker to verify a report on site (派核实).
type CaseRequestVerificationRequest struct {
	AssigneeUserID int64  `json:"assignee_user_id" example:"12"` // a grid worker of the case's grid
	Note           string `json:"note,omitempty" example:"请现场核实"`
	Version        *int64 `json:"version,omitempty"`
} //	@name	CaseRequestVerificationRequest

// caseRequestVerification godoc
//
//	@Summary		Request verification (派核实): reported → verifying
//	@Description	A desk asks a grid worker whose grids hold the case to verify it on site (核实: is it real?). From verifying it reassigns.
//	@ID				caseRequestVerification
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int								true	"case id"
//	@Param			If-Match		header		string							false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string							false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseRequestVerificationRequest	true	"the grid worker"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/request-verification [post]
func (s *Server) caseRequestVerification(c *gin.Context) {
	var in CaseRequestVerificationRequest
	s.act(c, casework.RequestVerification, &in, func() casework.Command {
		return casework.Command{AssigneeUserID: in.AssigneeUserID, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseVerifyRequest records an on-site verification (核实).
type CaseVerifyRequest struct {
	Result        string  `json:"result" enums:"confirmed,not_found" example:"confirmed"`
	Note          string  `json:"note,omitempty" example:"现场确有垃圾堆放"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"` // staged photos taken on site
	Version       *int64  `json:"version,omitempty"`
} //	@name	CaseVerifyRequest

// caseVerify godoc
//
//	@Summary		Verify (核实): verifying → reported
//	@Description	The grid worker asked to verify records what they found; the case goes back to the desk (verified set) to accept or reject.
//	@ID				caseVerify
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseVerifyRequest	true	"the finding"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/verify [post]
func (s *Server) caseVerify(c *gin.Context) {
	var in CaseVerifyRequest
	s.act(c, casework.Verify, &in, func() casework.Command {
		return casework.Command{Result: in.Result, Note: in.Note, AttachmentIDs: in.AttachmentIDs, Version: caseVersionOf(in.Version)}
	})
}

// CaseDispatchRequest dispatches a filed case (派遣).
type CaseDispatchRequest struct {
	DepartmentID           int64   `json:"department_id" example:"3"` // the lead department (主办)
	CoHandlerDepartmentIDs []int64 `json:"co_handler_department_ids,omitempty"`
	Note                   string  `json:"note,omitempty" example:"请按时限处置"`
	Version                *int64  `json:"version,omitempty"`
} //	@name	CaseDispatchRequest

// caseDispatch godoc
//
//	@Summary		Dispatch (派遣): filed → dispatched
//	@Description	A desk sends the case to a lead department with optional co-handlers (协办). The handling clock starts: handle_deadline comes from the category's limit for the urgency, on the work calendar. GET /cases/{id}/dispatch-proposal suggests the department. Two desks dispatching at once: one wins, the other gets 409 with the current state.
//	@ID				caseDispatch
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseDispatchRequest	true	"the departments"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/dispatch [post]
func (s *Server) caseDispatch(c *gin.Context) {
	var in CaseDispatchRequest
	s.act(c, casework.Dispatch, &in, func() casework.Command {
		return casework.Command{DepartmentID: in.DepartmentID, CoHandlerDepartmentIDs: in.CoHandlerDepartmentIDs, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseSignRequest signs for a dispatched case (签收).
type CaseSignRequest struct {
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseSignRequest

// caseSign godoc
//
//	@Summary		Sign (签收): dispatched → handling
//	@Description	A handler of the lead department signs for the case. The body may be empty.
//	@ID				caseSign
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int				true	"case id"
//	@Param			If-Match		header		string			false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string			false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseSignRequest	false	"an optional note"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/sign [post]
func (s *Server) caseSign(c *gin.Context) {
	var in CaseSignRequest
	s.act(c, casework.Sign, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseReturnRequest returns a case that is not the department's (回退).
type CaseReturnRequest struct {
	Reason  string `json:"reason" example:"不属于本部门职责"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseReturnRequest

// caseReturn godoc
//
//	@Summary		Return (回退): dispatched or handling → filed
//	@Description	A handler of the lead department returns the case to the desk with a reason; the department and co-handlers are cleared for a new dispatch (they keep reading the case).
//	@ID				caseReturn
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseReturnRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/return [post]
func (s *Server) caseReturn(c *gin.Context) {
	var in CaseReturnRequest
	s.act(c, casework.Return, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseFeedbackRequest reports what the department did (处置反馈).
type CaseFeedbackRequest struct {
	Note          string  `json:"note" example:"已清运完毕"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"` // staged photos; at least one after photo here or uploaded since the dispatch
	Version       *int64  `json:"version,omitempty"`
} //	@name	CaseFeedbackRequest

// caseFeedback godoc
//
//	@Summary		Feed back (处置反馈): handling → handled
//	@Description	A handler of the lead department reports the fix with a note and at least one photo of kind after, bound now or uploaded to the case since the last dispatch. The check stage (or, when the category needs no check, the close stage) starts.
//	@ID				caseFeedback
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseFeedbackRequest	true	"the feedback"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/feedback [post]
func (s *Server) caseFeedback(c *gin.Context) {
	var in CaseFeedbackRequest
	s.act(c, casework.Feedback, &in, func() casework.Command {
		return casework.Command{Note: in.Note, AttachmentIDs: in.AttachmentIDs, Version: caseVersionOf(in.Version)}
	})
}

// CaseRequestCheckRequest sends a grid worker to check the fix on site (派核查).
type CaseRequestCheckRequest struct {
	AssigneeUserID int64  `json:"assignee_user_id" example:"12"` // a grid worker of the case's grid
	Note           string `json:"note,omitempty" example:"请现场核查"`
	Version        *int64 `json:"version,omitempty"`
} //	@name	CaseRequestCheckRequest

// caseRequestCheck godoc
//
//	@Summary		Request a check (派核查): handled → handled
//	@Description	A desk asks a grid worker whose grids hold the case to check the fix on site (核查). Without it, any worker of the grid may check.
//	@ID				caseRequestCheck
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int						true	"case id"
//	@Param			If-Match		header		string					false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string					false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseRequestCheckRequest	true	"the grid worker"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/request-check [post]
func (s *Server) caseRequestCheck(c *gin.Context) {
	var in CaseRequestCheckRequest
	s.act(c, casework.RequestCheck, &in, func() casework.Command {
		return casework.Command{AssigneeUserID: in.AssigneeUserID, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseCheckRequest records an on-site check (核查).
type CaseCheckRequest struct {
	Result        string  `json:"result" enums:"pass,fail" example:"pass"`
	Reason        string  `json:"reason,omitempty" example:"仍有垃圾残留"` // required on fail
	Note          string  `json:"note,omitempty"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"`
	Version       *int64  `json:"version,omitempty"`
} //	@name	CaseCheckRequest

// caseCheck godoc
//
//	@Summary		Check (核查): handled → checked, or back to handling on fail
//	@Description	The grid worker asked to check (or, when none was asked, a worker of the grid) records the result. pass → checked. fail (a reason is required) → handling again for the same department (rework 返工): rework_count + 1, a fresh handling limit from now, and the event records the department as re-dispatched.
//	@ID				caseCheck
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseCheckRequest	true	"the result"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/check [post]
func (s *Server) caseCheck(c *gin.Context) {
	var in CaseCheckRequest
	s.act(c, casework.Check, &in, func() casework.Command {
		return casework.Command{Result: in.Result, Reason: in.Reason, Note: in.Note, AttachmentIDs: in.AttachmentIDs, Version: caseVersionOf(in.Version)}
	})
}

// CaseCloseRequest closes a case (结案).
type CaseCloseRequest struct {
	Note    string `json:"note,omitempty" example:"核查通过，予以结案"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseCloseRequest

// caseClose godoc
//
//	@Summary		Close (结案): checked → closed, or handled → closed without a required check
//	@Description	A desk closes the case after a passed check; from handled only when the category does not require an on-site check. The body may be empty.
//	@ID				caseClose
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseCloseRequest	false	"an optional note"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/close [post]
func (s *Server) caseClose(c *gin.Context) {
	var in CaseCloseRequest
	s.act(c, casework.CloseCase, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseReopenRequest reopens a closed case (重启).
type CaseReopenRequest struct {
	Reason  string `json:"reason" example:"群众反映问题复发"`
	Note    string `json:"note,omitempty"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseReopenRequest

// caseReopen godoc
//
//	@Summary		Reopen (重启): closed → filed
//	@Description	A dispatcher or supervisor whose scope holds the desk reopens a case closed within the reopen window (7 days by default); the reason is required. The case waits for a new dispatch.
//	@ID				caseReopen
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseReopenRequest	true	"the reason"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/reopen [post]
func (s *Server) caseReopen(c *gin.Context) {
	var in CaseReopenRequest
	s.act(c, casework.Reopen, &in, func() casework.Command {
		return casework.Command{Reason: in.Reason, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseEscalateRequest sends a case to the parent level's desk (上报).
type CaseEscalateRequest struct {
	Note    string `json:"note" example:"涉及多个部门，需区级协调"`
	Version *int64 `json:"version,omitempty"`
} //	@name	CaseEscalateRequest

// caseEscalate godoc
//
//	@Summary		Escalate (上报): reported or filed, to the parent level's desk
//	@Description	A desk moves the case to the desk of its region's parent (street → district → city); the state is unchanged and the stage's clock restarts at the new desk. The note is required.
//	@ID				caseEscalate
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseEscalateRequest	true	"why"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/escalate [post]
func (s *Server) caseEscalate(c *gin.Context) {
	var in CaseEscalateRequest
	s.act(c, casework.Escalate, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseHandDownRequest sends a case to a lower level's desk (交办).
type CaseHandDownRequest struct {
	TargetRegionCode string `json:"target_region_code" example:"320613001"` // below the current desk, containing the case
	Note             string `json:"note,omitempty" example:"请街道处理"`
	Version          *int64 `json:"version,omitempty"`
} //	@name	CaseHandDownRequest

// caseHandDown godoc
//
//	@Summary		Hand down (交办): reported or filed, to a lower level's desk
//	@Description	A desk moves the case to the desk of a region below its own that contains the case's grid; the state is unchanged and the stage's clock restarts there.
//	@ID				caseHandDown
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseHandDownRequest	true	"the region"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/hand-down [post]
func (s *Server) caseHandDown(c *gin.Context) {
	var in CaseHandDownRequest
	s.act(c, casework.HandDown, &in, func() casework.Command {
		return casework.Command{TargetRegionCode: in.TargetRegionCode, Note: in.Note, Version: caseVersionOf(in.Version)}
	})
}

// CaseCommentRequest adds a remark to a case (备注).
type CaseCommentRequest struct {
	Note string `json:"note" example:"已电话联系物业"`
	// Visibility: internal (staff only, the default) or public (also the reporter's channel).
	// An API key's comments are public.
	Visibility    string  `json:"visibility,omitempty" enums:"internal,public" example:"internal"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"`
	Version       *int64  `json:"version,omitempty"`
} //	@name	CaseCommentRequest

// caseComment godoc
//
//	@Summary		Comment (备注): any state, unchanged
//	@Description	Anyone who can read the case adds a note (co-handling departments too); an API key on the cases it reported.
//	@ID				caseComment
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseCommentRequest	true	"the comment"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/comment [post]
func (s *Server) caseComment(c *gin.Context) {
	var in CaseCommentRequest
	s.act(c, casework.Comment, &in, func() casework.Command {
		return casework.Command{Note: in.Note, Visibility: in.Visibility, AttachmentIDs: in.AttachmentIDs, Version: caseVersionOf(in.Version)}
	})
}

// CaseEvaluateRequest rates a closed case (满意度评价).
type CaseEvaluateRequest struct {
	Satisfaction int    `json:"satisfaction" minimum:"1" maximum:"5" example:"5"` // 1 very dissatisfied … 5 very satisfied
	Comment      string `json:"comment,omitempty" example:"处理及时"`
	Version      *int64 `json:"version,omitempty"`
} //	@name	CaseEvaluateRequest

// caseEvaluate godoc
//
//	@Summary		Evaluate (评价): closed, once
//	@Description	The reporter (a user or the API key that reported it), or a desk or supervisor recording a call-back (回访), rates the outcome 1–5. Once per closing; a reopened case may be rated again after it closes.
//	@ID				caseEvaluate
//	@Tags			case-actions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		int					true	"case id"
//	@Param			If-Match		header		string				false	"the case version (ETag) you acted on"
//	@Param			Idempotency-Key	header		string				false	"a retry with the same key returns the first response"
//	@Param			body			body		CaseEvaluateRequest	true	"the rating"
//	@Success		200				{object}	Case
//	@Failure		400,401,403,404,409,412,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/evaluate [post]
func (s *Server) caseEvaluate(c *gin.Context) {
	var in CaseEvaluateRequest
	s.act(c, casework.Evaluate, &in, func() casework.Command {
		return casework.Command{Satisfaction: in.Satisfaction, Note: in.Comment, Version: caseVersionOf(in.Version)}
	})
}
