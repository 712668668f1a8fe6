// Package casework is the heart of gridcase: reporting a case and moving it through the
// workflow of GB/T 30428 / CJJ/T 106 (DOMAIN.md §4) — accept or reject, verify on site, file,
// dispatch, sign, handle, feed back, check on site, close, evaluate — with one immutable event
// per action, written in the same transaction as the change.
package casework

import (
	"slices"

	"github.com/gridcase/gridcase/internal/identity"
)

// State is where a case is in the workflow.
type State string

// The states (DOMAIN.md §4).
const (
	Reported   State = "reported"   // 待受理: waits for a desk
	Verifying  State = "verifying"  // 核实中: a grid worker verifies on site
	Filed      State = "filed"      // 已立案/待派遣: waits for dispatch, escalation or hand-down
	Dispatched State = "dispatched" // 待签收: the department signs for it or returns it
	Handling   State = "handling"   // 处置中: the department works on it
	Suspended  State = "suspended"  // 挂账: the handling clock is paused until resumed
	Handled    State = "handled"    // 待核查: a grid worker checks the fix on site
	Checked    State = "checked"    // 待结案: a desk closes it
	Closed     State = "closed"     // 已结案
	Rejected   State = "rejected"   // 不予立案 (terminal)
	Cancelled  State = "cancelled"  // 已作废, or merged into duplicate_of (terminal)
)

// States lists every state in workflow order.
var States = []State{Reported, Verifying, Filed, Dispatched, Handling, Suspended, Handled, Checked, Closed, Rejected, Cancelled}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Open reports whether the case still needs work (not closed, rejected or cancelled).
func (s State) Open() bool { return s != Closed && s != Rejected && s != Cancelled }

// OpenStates lists the states of open cases.
func OpenStates() []State {
	var out []State
	for _, s := range States {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}

// Action is something done to a case. Each callable action is its own endpoint
// POST /api/v1/cases/{id}/{action}; Report and SelfHandle only appear in the event log.
type Action string

// The actions.
const (
	Accept              Action = "accept"               // 立案
	Reject              Action = "reject"               // 不予立案
	Cancel              Action = "cancel"               // 作废
	Merge               Action = "merge"                // 合并 into an open duplicate
	RequestVerification Action = "request-verification" // 派核实 to a grid worker
	Verify              Action = "verify"               // 核实 on site
	Dispatch            Action = "dispatch"             // 派遣 to a lead department (+ co-handlers)
	Sign                Action = "sign"                 // 签收
	Return              Action = "return"               // 回退
	Feedback            Action = "feedback"             // 处置反馈 with after-photos
	RequestCheck        Action = "request-check"        // 派核查 to a grid worker
	Check               Action = "check"                // 核查 on site: pass, or fail → rework (返工)
	CloseCase           Action = "close"                // 结案
	Reopen              Action = "reopen"               // 重启 within the window
	Escalate            Action = "escalate"             // 上报 to the parent level's desk
	HandDown            Action = "hand-down"            // 交办 to a child level's desk
	Comment             Action = "comment"              // 备注 (internal or public)
	Evaluate            Action = "evaluate"             // 评价 satisfaction 1–5
	RequestExtension    Action = "request-extension"    // 申请延期 (the handler)
	ApproveExtension    Action = "approve-extension"    // 批准延期: adds one original limit
	DenyExtension       Action = "deny-extension"       // 驳回延期
	RequestSuspension   Action = "request-suspension"   // 申请挂账 (the handler)
	ApproveSuspension   Action = "approve-suspension"   // 批准挂账: the clock stops
	DenySuspension      Action = "deny-suspension"      // 驳回挂账
	Resume              Action = "resume"               // 恢复 a suspended case by hand
	Supervise           Action = "supervise"            // 督办 normal|yellow|red
	ReplySupervision    Action = "reply-supervision"    // 督办回复 (the lead department)

	ReportAction  Action = "report"         // the report that created the case
	SelfHandle    Action = "self_handle"    // 自行处置: the reporter fixed it at once
	WarnAction    Action = "warn"           // timer: the stage's light turned yellow (80 % used)
	OverdueAction Action = "overdue"        // timer: the stage's deadline passed (red)
	AutoSupervise Action = "auto_supervise" // timer: a supervision rule urged the department
	AutoResume    Action = "auto_resume"    // timer: a suspension ended by itself
)

// Actions lists the callable actions in the order the API documents them.
var Actions = []Action{Accept, Reject, Cancel, Merge, RequestVerification, Verify, Dispatch, Sign, Return,
	Feedback, RequestCheck, Check, CloseCase, Reopen, Escalate, HandDown, Comment, Evaluate,
	RequestExtension, ApproveExtension, DenyExtension, RequestSuspension, ApproveSuspension, DenySuspension, Resume,
	Supervise, ReplySupervision}

// Valid reports whether a is a callable action.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// transitions is the workflow: transitions[state][action] is the state the action leads to.
// An action missing from a state's row is not allowed there (409). Two outcomes depend on the
// request: a failed check goes back to handling (rework 返工) instead of checked, and close
// from handled needs a category that does not require an on-site check.
var transitions = map[State]map[Action]State{
	Reported: {
		Accept: Filed, Reject: Rejected, Cancel: Cancelled, Merge: Cancelled,
		RequestVerification: Verifying, Escalate: Reported, HandDown: Reported, Comment: Reported,
	},
	Verifying:  {Verify: Reported, RequestVerification: Verifying, Cancel: Cancelled, Comment: Verifying},
	Filed:      {Dispatch: Dispatched, Cancel: Cancelled, Merge: Cancelled, Escalate: Filed, HandDown: Filed, Comment: Filed},
	Dispatched: {Sign: Handling, Return: Filed, Comment: Dispatched, Supervise: Dispatched, ReplySupervision: Dispatched},
	Handling: {
		Feedback: Handled, Return: Filed, Comment: Handling,
		RequestExtension: Handling, ApproveExtension: Handling, DenyExtension: Handling,
		RequestSuspension: Handling, ApproveSuspension: Suspended, DenySuspension: Handling,
		Supervise: Handling, ReplySupervision: Handling,
	},
	Suspended: {Resume: Handling, Comment: Suspended, Supervise: Suspended, ReplySupervision: Suspended},
	Handled:   {RequestCheck: Handled, Check: Checked, CloseCase: Closed, Comment: Handled, ReplySupervision: Handled},
	Checked:   {CloseCase: Closed, Comment: Checked, ReplySupervision: Checked},
	Closed:    {Reopen: Filed, Evaluate: Closed, Comment: Closed},
	Rejected:  {Comment: Rejected},
	Cancelled: {Comment: Cancelled},
}

// reworkState is where a failed check sends a case: back to the same department.
const reworkState = Handling

// Next returns the state action leads to from state, and whether it is allowed there at all.
func Next(state State, action Action) (State, bool) {
	to, ok := transitions[state][action]
	return to, ok
}

// ActionsIn lists the actions the table allows in state, in API order.
func ActionsIn(state State) []Action {
	var out []Action
	for _, a := range Actions {
		if _, ok := transitions[state][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Stage is the part of the workflow whose clock is running (环节), each with its own limit.
type Stage string

// The stages.
const (
	StageAccept   Stage = "accept"   // reported: a desk accepts or rejects
	StageVerify   Stage = "verify"   // verifying: the grid worker verifies
	StageDispatch Stage = "dispatch" // filed: a desk dispatches
	StageSign     Stage = "sign"     // dispatched: the department signs
	StageHandle   Stage = "handle"   // handling: the department's limit from the category
	StageCheck    Stage = "check"    // handled: the grid worker checks
	StageClose    Stage = "close"    // checked: a desk closes
	StageNone     Stage = "none"     // closed, rejected, cancelled (and paused while suspended)
)

// StageOf is the stage whose clock runs in a state.
func StageOf(s State) Stage {
	switch s {
	case Reported:
		return StageAccept
	case Verifying:
		return StageVerify
	case Filed:
		return StageDispatch
	case Dispatched:
		return StageSign
	case Handling:
		return StageHandle
	case Handled:
		return StageCheck
	case Checked:
		return StageClose
	}
	return StageNone
}

// deskActions are done at a desk (受理/派遣): by a dispatcher or an admin whose scope holds the
// case's desk.
var deskActions = []Action{Accept, Reject, Cancel, Merge, RequestVerification, Dispatch, RequestCheck, CloseCase, Escalate, HandDown}

// IsDeskAction reports whether a is done at a desk.
func IsDeskAction(a Action) bool { return slices.Contains(deskActions, a) }

// Desk roles.
var deskRoles = []identity.Role{identity.RoleDispatcher, identity.RoleAdmin}
