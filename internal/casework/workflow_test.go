package casework_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

// expected is the workflow written out independently of the package's table: for each state,
// each allowed action and the state it leads to. Everything not listed must be refused with 409.
var expected = map[casework.State]map[casework.Action]casework.State{
	casework.Reported: {
		"accept": "filed", "reject": "rejected", "cancel": "cancelled", "merge": "cancelled",
		"request-verification": "verifying", "escalate": "reported", "hand-down": "reported", "comment": "reported",
	},
	casework.Verifying:  {"verify": "reported", "request-verification": "verifying", "cancel": "cancelled", "comment": "verifying"},
	casework.Filed:      {"dispatch": "dispatched", "cancel": "cancelled", "merge": "cancelled", "escalate": "filed", "hand-down": "filed", "comment": "filed"},
	casework.Dispatched: {"sign": "handling", "return": "filed", "comment": "dispatched", "supervise": "dispatched", "reply-supervision": "dispatched"},
	casework.Handling: {"feedback": "handled", "return": "filed", "comment": "handling",
		"request-extension": "handling", "approve-extension": "handling", "deny-extension": "handling",
		"request-suspension": "handling", "approve-suspension": "suspended", "deny-suspension": "handling",
		"supervise": "handling", "reply-supervision": "handling"},
	casework.Suspended: {"resume": "handling", "comment": "suspended", "supervise": "suspended", "reply-supervision": "suspended"},
	casework.Handled:   {"request-check": "handled", "check": "checked", "close": "closed", "comment": "handled", "reply-supervision": "handled"},
	casework.Checked:   {"close": "closed", "comment": "checked", "reply-supervision": "checked"},
	casework.Closed:    {"reopen": "filed", "evaluate": "closed", "comment": "closed"},
	casework.Rejected:  {"comment": "rejected"},
	casework.Cancelled: {"comment": "cancelled"},
}

const (
	deskPath = "/320600/320613/320613001/"
	gridCode = "320613001001001"
	gridPath = deskPath + "320613001001/" + gridCode + "/"
	leadDept = 7
	workerID = 42
)

var now = time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)

func caseIn(s casework.State) *casework.Case {
	closed := now.Add(-time.Hour)
	limit := worktime.WorkDaysLimit(1)
	return &casework.Case{ID: 1, Version: 3, State: s, GridCode: gridCode, RegionPath: gridPath,
		DeskRegionCode: "320613001", DeskRegionPath: deskPath, LeadDepartmentID: leadDept, AssigneeUserID: workerID,
		ClosedAt: &closed, ReporterUserID: 99, HandleLimit: &limit}
}

// waiting are the actions whose guard wants something to wait for them: a request to decide,
// a supervision to reply to. The plain fixture has none, so they are not allowed on it.
var waiting = []casework.Action{"approve-extension", "deny-extension", "approve-suspension", "deny-suspension", "reply-supervision"}

// ready is caseIn with what a waits for: a pending request, an open supervision.
func ready(s casework.State, a casework.Action) *casework.Case {
	c := caseIn(s)
	switch a {
	case "approve-extension", "deny-extension":
		c.ExtensionPending = true
	case "approve-suspension", "deny-suspension":
		c.SuspensionPending = true
	case "reply-supervision":
		c.OpenSupervisions, c.SupervisionLevel = 1, "yellow"
	}
	return c
}

var (
	dispatcher = identity.Principal{UserID: 1, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "320613001", RegionPath: deskPath}}
	handler    = identity.Principal{UserID: 2, Role: identity.RoleHandler, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: leadDept}}
	worker     = identity.Principal{UserID: workerID, Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{gridCode}}}
	supervisor = identity.Principal{UserID: 8, Role: identity.RoleSupervisor, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/"}}
)

// rightful is a caller the role guards let do a.
func rightful(a casework.Action) identity.Principal {
	switch a {
	case casework.Verify, casework.Check:
		return worker
	case casework.Sign, casework.Return, casework.Feedback, casework.RequestExtension, casework.RequestSuspension, casework.ReplySupervision:
		return handler
	case casework.Supervise:
		return supervisor
	}
	return dispatcher
}

// TestEveryStateAndAction proves every cell of the state × action table: allowed cells lead
// to the expected state for a rightful caller, and every other cell is a 409 that names the
// state and the actions allowed there.
func TestEveryStateAndAction(t *testing.T) {
	facts := casework.Facts{CheckRequired: false, Now: now, ReopenWindow: 7 * 24 * time.Hour}
	cells := 0
	for _, s := range casework.States {
		for _, a := range casework.Actions {
			cells++
			t.Run(fmt.Sprintf("%s/%s", s, a), func(t *testing.T) {
				want, allowed := expected[s][a]
				got, ok := casework.Next(s, a)
				if ok != allowed || got != want {
					t.Fatalf("Next = %q, %v; want %q, %v", got, ok, want, allowed)
				}
				err := casework.Authorize(ready(s, a), rightful(a), a, facts)
				if allowed {
					if err != nil {
						t.Fatalf("a rightful caller is refused: %v", err)
					}
					return
				}
				e, isErr := errs.As(err)
				if !isErr || e.Code != errs.Conflict {
					t.Fatalf("want a conflict, got %v", err)
				}
				if e.Extra["state"] != string(s) {
					t.Fatalf("the conflict names state %v, want %s", e.Extra["state"], s)
				}
				// The actions allowed now, named on the plain fixture (nothing waiting).
				e, _ = errs.As(casework.Authorize(caseIn(s), rightful(a), a, facts))
				names, _ := e.Extra["allowed_actions"].([]string)
				var wantNames []string
				for _, a := range casework.Actions {
					if _, ok := expected[s][a]; ok && !slices.Contains(waiting, a) {
						wantNames = append(wantNames, string(a))
					}
				}
				if !slices.Equal(names, wantNames) {
					t.Fatalf("allowed_actions %v, want %v", names, wantNames)
				}
			})
		}
	}
	if cells != 11*27 {
		t.Fatalf("%d cells, want 11 states × 27 actions", cells)
	}
	for s, row := range expected {
		for a := range row {
			if !a.Valid() {
				t.Errorf("%s: %q is not an action", s, a)
			}
		}
	}
}

func TestStateGuards(t *testing.T) {
	window := 7 * 24 * time.Hour
	evaluated := caseIn(casework.Closed)
	five := 5
	evaluated.Satisfaction = &five
	longAgo := caseIn(casework.Closed)
	old := now.Add(-8 * 24 * time.Hour)
	longAgo.ClosedAt = &old
	tests := []struct {
		name   string
		c      *casework.Case
		a      casework.Action
		facts  casework.Facts
		reason string // in the message; "" means allowed
	}{
		{"close without check when the category needs one", caseIn(casework.Handled), casework.CloseCase,
			casework.Facts{CheckRequired: true, Now: now, ReopenWindow: window}, "on-site check"},
		{"close without check when the category needs none", caseIn(casework.Handled), casework.CloseCase,
			casework.Facts{CheckRequired: false, Now: now, ReopenWindow: window}, ""},
		{"close after a check always", caseIn(casework.Checked), casework.CloseCase,
			casework.Facts{CheckRequired: true, Now: now, ReopenWindow: window}, ""},
		{"evaluate twice", evaluated, casework.Evaluate, casework.Facts{Now: now, ReopenWindow: window}, "already been evaluated"},
		{"reopen within the window", caseIn(casework.Closed), casework.Reopen, casework.Facts{Now: now, ReopenWindow: window}, ""},
		{"reopen after the window", longAgo, casework.Reopen, casework.Facts{Now: now, ReopenWindow: window}, "no longer be reopened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.Authorize(tt.c, dispatcher, tt.a, tt.facts)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("got %v, want a conflict saying %q", err, tt.reason)
			}
			e, _ := errs.As(err)
			if slices.Contains(e.Extra["allowed_actions"].([]string), string(tt.a)) {
				t.Fatalf("allowed_actions %v still lists %s", e.Extra["allowed_actions"], tt.a)
			}
		})
	}
}

func TestRoleGuards(t *testing.T) {
	facts := casework.Facts{CheckRequired: true, Now: now, ReopenWindow: 7 * 24 * time.Hour}
	otherStreet := identity.Principal{UserID: 5, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/320613002/"}}
	district := identity.Principal{UserID: 6, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/"}}
	supervisor := identity.Principal{UserID: 8, Role: identity.RoleSupervisor, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/"}}
	admin := identity.Principal{UserID: 9, Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}
	otherHandler := identity.Principal{UserID: 3, Role: identity.RoleHandler, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: leadDept + 1}}
	otherWorker := identity.Principal{UserID: 43, Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{gridCode}}}
	reporter := identity.Principal{UserID: 99, Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids}}
	key := identity.Principal{APIKeyID: 11, Role: identity.RoleIntegrator, APIScopes: []string{"cases:read", "cases:write"}, Scope: identity.Scope{Kind: identity.ScopeAll}}
	readKey := identity.Principal{APIKeyID: 11, Role: identity.RoleIntegrator, APIScopes: []string{"cases:read"}, Scope: identity.Scope{Kind: identity.ScopeAll}}
	keyCase := func(s casework.State) *casework.Case {
		c := caseIn(s)
		c.ReporterUserID, c.ReporterAPIKeyID = 0, 11
		return c
	}
	escalated := func(s casework.State) *casework.Case {
		c := caseIn(s)
		c.DeskRegionCode, c.DeskRegionPath = "320613", "/320600/320613/"
		return c
	}
	noAssignee := func(s casework.State) *casework.Case { c := caseIn(s); c.AssigneeUserID = 0; return c }

	tests := []struct {
		name string
		c    *casework.Case
		p    identity.Principal
		a    casework.Action
		ok   bool
	}{
		{"a grid worker may not accept", caseIn(casework.Reported), worker, casework.Accept, false},
		{"a handler may not dispatch", caseIn(casework.Filed), handler, casework.Dispatch, false},
		{"a supervisor may not dispatch", caseIn(casework.Filed), supervisor, casework.Dispatch, false},
		{"another street's desk may not accept", caseIn(casework.Reported), otherStreet, casework.Accept, false},
		{"the district desk may act for the street", caseIn(casework.Reported), district, casework.Accept, true},
		{"the street desk may not act after escalation", escalated(casework.Reported), dispatcher, casework.Accept, false},
		{"the district desk acts after escalation", escalated(casework.Reported), district, casework.Accept, true},
		{"an admin may do desk work anywhere", escalated(casework.Filed), admin, casework.Dispatch, true},
		{"a handler of another department may not sign", caseIn(casework.Dispatched), otherHandler, casework.Sign, false},
		{"a dispatcher may not sign", caseIn(casework.Dispatched), dispatcher, casework.Sign, false},
		{"a handler of another department may not feed back", caseIn(casework.Handling), otherHandler, casework.Feedback, false},
		{"a handler of another department may comment", caseIn(casework.Handling), otherHandler, casework.Comment, true},
		{"another worker may not verify", caseIn(casework.Verifying), otherWorker, casework.Verify, false},
		{"a dispatcher may not verify", caseIn(casework.Verifying), dispatcher, casework.Verify, false},
		{"another worker may not check an assigned case", caseIn(casework.Handled), otherWorker, casework.Check, false},
		{"a worker of the grid may check an unassigned case", noAssignee(casework.Handled), otherWorker, casework.Check, true},
		{"the reporter may withdraw a reported case", caseIn(casework.Reported), reporter, casework.Cancel, true},
		{"the reporter may not cancel a filed case", caseIn(casework.Filed), reporter, casework.Cancel, false},
		{"the reporter may evaluate", caseIn(casework.Closed), reporter, casework.Evaluate, true},
		{"a handler may not evaluate", caseIn(casework.Closed), handler, casework.Evaluate, false},
		{"a supervisor may reopen", caseIn(casework.Closed), supervisor, casework.Reopen, true},
		{"a handler may not reopen", caseIn(casework.Closed), handler, casework.Reopen, false},
		{"an API key may comment on its report", keyCase(casework.Filed), key, casework.Comment, true},
		{"an API key may cancel its report", keyCase(casework.Filed), key, casework.Cancel, true},
		{"an API key may not comment on another's case", caseIn(casework.Filed), key, casework.Comment, false},
		{"an API key may not dispatch", keyCase(casework.Filed), key, casework.Dispatch, false},
		{"a read-only API key may not comment", keyCase(casework.Filed), readKey, casework.Comment, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.Authorize(tt.c, tt.p, tt.a, facts)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errs.Is(err, errs.Forbidden) {
				t.Fatalf("got %v, want forbidden", err)
			}
			if got := slices.Contains(casework.AllowedFor(tt.c, tt.p, facts), tt.a); got != tt.ok {
				t.Fatalf("AllowedFor lists %s: %v, want %v", tt.a, got, tt.ok)
			}
		})
	}
}

func TestReachOf(t *testing.T) {
	tests := []struct {
		name string
		p    identity.Principal
		want casework.Reach
	}{
		{"admin", identity.Principal{UserID: 1, Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}, casework.Reach{All: true}},
		{"street dispatcher", dispatcher, casework.Reach{RegionPaths: []string{deskPath}, UserID: 1}},
		{"handler", handler, casework.Reach{DepartmentID: leadDept, UserID: 2}},
		{"grid worker", worker, casework.Reach{GridCodes: []string{gridCode}, UserID: workerID}},
		{"city-wide API key", identity.Principal{APIKeyID: 3, Scope: identity.Scope{Kind: identity.ScopeAll}}, casework.Reach{All: true}},
		{"region API key", identity.Principal{APIKeyID: 3, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: deskPath}},
			casework.Reach{RegionPaths: []string{deskPath}, APIKeyID: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := casework.ReachOf(tt.p)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	a := casework.Point{Lat: 32.0, Lng: 120.9}
	b := casework.Point{Lat: 32.0, Lng: 120.9 + 0.0005} // about 47 m east at 32°N
	if d := casework.Distance(a, b); d < 46 || d > 48 {
		t.Fatalf("distance %f m", d)
	}
	box := casework.BoxAround(a, 50)
	if b.Lng > box.MaxLng || b.Lat < box.MinLat || box.MaxLat-a.Lat < 0.00044 {
		t.Fatalf("box %+v does not hold %+v", box, b)
	}
}

// TestTimeGuards covers the guards of extensions (at most two, one request at a time, none once
// overdue), suspensions (once per case, one request at a time) and supervision replies.
func TestTimeGuards(t *testing.T) {
	facts := casework.Facts{Now: now, ReopenWindow: 7 * 24 * time.Hour}
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	handling := func(change func(c *casework.Case)) *casework.Case {
		c := caseIn(casework.Handling)
		c.Stage, c.StageDeadline = casework.StageHandle, &future
		change(c)
		return c
	}
	tests := []struct {
		name   string
		c      *casework.Case
		p      identity.Principal
		a      casework.Action
		reason string // in the 409's message; "" means allowed
	}{
		{"request an extension", handling(func(*casework.Case) {}), handler, casework.RequestExtension, ""},
		{"a second request while one waits", handling(func(c *casework.Case) { c.ExtensionPending = true }), handler, casework.RequestExtension, "already waiting"},
		{"a third extension", handling(func(c *casework.Case) { c.Extensions = 2 }), handler, casework.RequestExtension, "extended 2 times"},
		{"an extension once overdue", handling(func(c *casework.Case) { c.StageDeadline = &past }), handler, casework.RequestExtension, "overdue"},
		{"approve an extension", handling(func(c *casework.Case) { c.ExtensionPending = true }), supervisor, casework.ApproveExtension, ""},
		{"approve when the deadline passed meanwhile", handling(func(c *casework.Case) { c.ExtensionPending = true; c.StageDeadline = &past }),
			supervisor, casework.ApproveExtension, "passed before the approval"},
		{"deny when the deadline passed meanwhile", handling(func(c *casework.Case) { c.ExtensionPending = true; c.StageDeadline = &past }),
			dispatcher, casework.DenyExtension, ""},
		{"approve with nothing asked", handling(func(*casework.Case) {}), supervisor, casework.ApproveExtension, "no extension request"},
		{"request a suspension when overdue", handling(func(c *casework.Case) { c.StageDeadline = &past }), handler, casework.RequestSuspension, ""},
		{"a second suspension", handling(func(c *casework.Case) { c.Suspensions = 1 }), handler, casework.RequestSuspension, "already suspended once"},
		{"two suspension requests", handling(func(c *casework.Case) { c.SuspensionPending = true }), handler, casework.RequestSuspension, "already waiting"},
		{"deny a suspension nobody asked", handling(func(*casework.Case) {}), dispatcher, casework.DenySuspension, "no suspension request"},
		{"reply with no open supervision", handling(func(*casework.Case) {}), handler, casework.ReplySupervision, "no open supervision"},
		{"reply to an open supervision", handling(func(c *casework.Case) { c.OpenSupervisions = 2 }), handler, casework.ReplySupervision, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.Authorize(tt.c, tt.p, tt.a, facts)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("got %v, want a conflict saying %q", err, tt.reason)
			}
		})
	}
}

func TestTimeRoleGuards(t *testing.T) {
	facts := casework.Facts{Now: now, ReopenWindow: 7 * 24 * time.Hour}
	otherStreetSupervisor := identity.Principal{UserID: 10, Role: identity.RoleSupervisor, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/320613002/"}}
	otherHandler := identity.Principal{UserID: 3, Role: identity.RoleHandler, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: leadDept + 1}}
	pending := func(s casework.State) *casework.Case {
		c := caseIn(s)
		c.ExtensionPending, c.SuspensionPending, c.OpenSupervisions = true, true, 1
		return c
	}
	tests := []struct {
		name string
		c    *casework.Case
		p    identity.Principal
		a    casework.Action
		ok   bool
	}{
		{"the lead handler requests an extension", caseIn(casework.Handling), handler, casework.RequestExtension, true},
		{"another department may not request one", caseIn(casework.Handling), otherHandler, casework.RequestExtension, false},
		{"a dispatcher may not request one", caseIn(casework.Handling), dispatcher, casework.RequestExtension, false},
		{"the desk approves", pending(casework.Handling), dispatcher, casework.ApproveExtension, true},
		{"a supervisor of the district approves", pending(casework.Handling), supervisor, casework.ApproveSuspension, true},
		{"a supervisor of another street may not", pending(casework.Handling), otherStreetSupervisor, casework.ApproveExtension, false},
		{"the handler may not approve its own request", pending(casework.Handling), handler, casework.ApproveExtension, false},
		{"a grid worker may not deny", pending(casework.Handling), worker, casework.DenySuspension, false},
		{"the lead handler resumes", caseIn(casework.Suspended), handler, casework.Resume, true},
		{"the desk resumes", caseIn(casework.Suspended), dispatcher, casework.Resume, true},
		{"another department may not resume", caseIn(casework.Suspended), otherHandler, casework.Resume, false},
		{"a supervisor supervises", caseIn(casework.Dispatched), supervisor, casework.Supervise, true},
		{"a dispatcher may not supervise", caseIn(casework.Dispatched), dispatcher, casework.Supervise, false},
		{"a supervisor of another street may not supervise", caseIn(casework.Dispatched), otherStreetSupervisor, casework.Supervise, false},
		{"the lead handler replies", pending(casework.Handling), handler, casework.ReplySupervision, true},
		{"a supervisor may not reply for the department", pending(casework.Handling), supervisor, casework.ReplySupervision, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.Authorize(tt.c, tt.p, tt.a, facts)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errs.Is(err, errs.Forbidden) {
				t.Fatalf("got %v, want forbidden", err)
			}
		})
	}
}
