package casework

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// Facts are what the guards need to know besides the case and the caller.
type Facts struct {
	// CheckRequired: the case's category requires an on-site check before closing (true when
	// the case has no category).
	CheckRequired bool
	Now           time.Time
	// ReopenWindow is how long after closing a case may be reopened.
	ReopenWindow time.Duration
}

// Allowed lists the actions the workflow allows on c in its state, whoever asks: the table's
// row, less close from handled when a check is required, evaluate once evaluated, and reopen
// once the window has passed.
func Allowed(c *Case, f Facts) []Action {
	var out []Action
	for _, a := range ActionsIn(c.State) {
		if stateGuard(c, a, f) == "" {
			out = append(out, a)
		}
	}
	return out
}

// AllowedFor lists the actions p may do on c now (for the case view's allowed_actions).
func AllowedFor(c *Case, p identity.Principal, f Facts) []Action {
	var out []Action
	for _, a := range Allowed(c, f) {
		if roleGuard(c, p, a) == "" {
			out = append(out, a)
		}
	}
	return out
}

// Authorize decides whether p may do a to c now: nil; errs.Conflict naming the state and the
// allowed actions when the workflow does not allow it in c's state; errs.Forbidden when the
// workflow allows it but not for p. Scope (404) is checked before, when the case is loaded.
func Authorize(c *Case, p identity.Principal, a Action, f Facts) error {
	if !a.Valid() {
		return errs.E(errs.NotFound, "no action %q", a)
	}
	if _, ok := Next(c.State, a); !ok {
		return stateConflict(c, f, fmt.Sprintf("%s is not allowed on a case in state %s", a, c.State))
	}
	if why := stateGuard(c, a, f); why != "" {
		return stateConflict(c, f, why)
	}
	if why := roleGuard(c, p, a); why != "" {
		return errs.E(errs.Forbidden, "%s", why)
	}
	return nil
}

func stateConflict(c *Case, f Facts, msg string) error {
	allowed := Allowed(c, f)
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return errs.E(errs.Conflict, "%s; allowed now: %s", msg, strings.Join(names, ", ")).
		With("state", string(c.State)).With("allowed_actions", names).With("version", c.Version)
}

// stateGuard returns why the workflow refuses a on c although the table allows it, or "".
func stateGuard(c *Case, a Action, f Facts) string {
	switch {
	case a == CloseCase && c.State == Handled && f.CheckRequired:
		return "this category requires an on-site check (核查) before closing"
	case a == Evaluate && c.Satisfaction != nil:
		return "the case has already been evaluated"
	case a == Reopen && c.ClosedAt != nil && f.ReopenWindow > 0 && f.Now.Sub(*c.ClosedAt) > f.ReopenWindow:
		return fmt.Sprintf("the case was closed more than %s ago and can no longer be reopened", humanDuration(f.ReopenWindow))
	}
	return timeStateGuard(c, a, f)
}

// roleGuard returns why p may not do a on c, or "" when p may (DOMAIN.md §1):
//   - desk actions: a dispatcher or admin whose scope holds the case's desk; the reporter may
//     also cancel (an API key its own reports while open, a user while still reported);
//   - verify: the grid worker asked to verify;
//   - check: the grid worker asked to check, or when none was asked, a worker of the grid;
//   - sign, return, feedback: a handler of the lead department;
//   - reopen: a dispatcher, supervisor or admin whose scope holds the desk;
//   - evaluate: the reporter, or a dispatcher, supervisor or admin holding the desk;
//   - comment: anyone who can read the case (an API key: its own reports);
//   - the time actions (extension, suspension, supervision): see timeRoleGuard;
//   - an API key needs cases:write and may only report, comment and cancel its own reports.
func roleGuard(c *Case, p identity.Principal, a Action) string {
	if p.IsAPIKey() {
		if !p.HasAPIScope("cases:write") {
			return "this API key lacks the cases:write scope"
		}
		if (a == Comment || a == Cancel || a == Evaluate) && c.ReporterAPIKeyID == p.APIKeyID {
			return ""
		}
		return fmt.Sprintf("an API key may only comment on, cancel or evaluate the cases it reported, not %s", a)
	}
	switch a {
	case Comment:
		return ""
	case Cancel:
		if c.State == Reported && reportedBy(c, p) {
			return ""
		}
		return desk(c, p, a)
	case Verify:
		if p.Is(identity.RoleGridWorker) && c.AssigneeUserID != 0 && c.AssigneeUserID == p.UserID {
			return ""
		}
		return "only the grid worker asked to verify this case may record the verification"
	case Check:
		if p.Is(identity.RoleGridWorker) {
			if c.AssigneeUserID == p.UserID && p.UserID != 0 {
				return ""
			}
			if c.AssigneeUserID == 0 && c.GridCode != "" && slices.Contains(p.Scope.GridCodes, c.GridCode) {
				return ""
			}
		}
		return "only the grid worker asked to check this case (or, when none was asked, a worker of its grid) may check it"
	case Sign, Return, Feedback:
		if p.Is(identity.RoleHandler) && c.LeadDepartmentID != 0 && p.Scope.Kind == identity.ScopeDepartment && p.Scope.DepartmentID == c.LeadDepartmentID {
			return ""
		}
		return fmt.Sprintf("only a handler of the lead department may %s this case", a)
	case Reopen:
		if p.Is(identity.RoleDispatcher, identity.RoleSupervisor, identity.RoleAdmin) && holdsDesk(c, p) {
			return ""
		}
		return "only a dispatcher or supervisor whose scope holds the case's desk may reopen it"
	case Evaluate:
		if reportedBy(c, p) || (p.Is(identity.RoleDispatcher, identity.RoleSupervisor, identity.RoleAdmin) && holdsDesk(c, p)) {
			return ""
		}
		return "only the reporter or the desk may record the satisfaction evaluation"
	}
	if isTimeAction(a) {
		return timeRoleGuard(c, p, a)
	}
	if IsDeskAction(a) {
		return desk(c, p, a)
	}
	return fmt.Sprintf("%s is not allowed", a)
}

func desk(c *Case, p identity.Principal, a Action) string {
	if !p.Is(deskRoles...) {
		return fmt.Sprintf("only a dispatcher may %s a case", a)
	}
	if !holdsDesk(c, p) {
		return fmt.Sprintf("the case is held by the desk of region %s, which is outside your scope", orNone(c.DeskRegionCode))
	}
	return ""
}

// holdsDesk reports whether p's scope holds the case's desk: a ScopeAll user everywhere, a
// region user when the desk's region is in their subtree (so an upper level may act for a lower
// desk, but a lower desk not after escalation).
func holdsDesk(c *Case, p identity.Principal) bool {
	switch {
	case p.Is(identity.RoleAdmin) || p.Scope.Kind == identity.ScopeAll:
		return true
	case p.Scope.Kind == identity.ScopeRegion && p.Scope.RegionPath != "":
		return c.DeskRegionPath != "" && strings.HasPrefix(c.DeskRegionPath, p.Scope.RegionPath)
	}
	return false
}

func reportedBy(c *Case, p identity.Principal) bool {
	if p.IsAPIKey() {
		return c.ReporterAPIKeyID != 0 && c.ReporterAPIKeyID == p.APIKeyID
	}
	return c.ReporterUserID != 0 && c.ReporterUserID == p.UserID
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
