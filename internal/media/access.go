package media

import (
	"context"
	"slices"
	"strings"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// CaseScope is what decides who sees a case: where it is and who holds it.
type CaseScope struct {
	RegionPath       string // the materialized path of the case's deepest region, "" when unplaced
	GridCode         string // "" when the point lies in no grid
	LeadDepartmentID int64  // 0 until dispatched
	ReporterUserID   int64  // 0 when no user reported it (hotline, integrator)
}

// RowAccess answers CaseAccess from the case row alone, by the principal's data scope: all;
// a region subtree; the lead department; a set of grids; and a user always sees what they
// reported. It stands in until casework.Service answers CanSee with the full rules
// (co-handlers, escalation, tasks); it errs on the side of seeing less.
type RowAccess struct {
	Load func(ctx context.Context, caseID int64) (CaseScope, error)
}

// CanSee implements CaseAccess.
func (r RowAccess) CanSee(ctx context.Context, p identity.Principal, caseID int64) error {
	c, err := r.Load(ctx, caseID)
	if err != nil {
		return err
	}
	if SeesCase(p, c) {
		return nil
	}
	return errs.NotFoundf("case %d not found", caseID)
}

// SeesCase applies the data-scope rules of RowAccess.
func SeesCase(p identity.Principal, c CaseScope) bool {
	if !p.IsAPIKey() && p.UserID != 0 && c.ReporterUserID == p.UserID {
		return true
	}
	switch p.Scope.Kind {
	case identity.ScopeAll:
		return true
	case identity.ScopeRegion:
		return p.Scope.RegionPath != "" && strings.HasPrefix(c.RegionPath, p.Scope.RegionPath)
	case identity.ScopeDepartment:
		return p.Scope.DepartmentID != 0 && c.LeadDepartmentID == p.Scope.DepartmentID
	case identity.ScopeGrids:
		return c.GridCode != "" && slices.Contains(p.Scope.GridCodes, c.GridCode)
	}
	return false
}
