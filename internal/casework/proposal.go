package casework

import (
	"context"
	"fmt"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// Routing rules (DOMAIN.md §3).
const (
	// LocalityFirst (先属地后属主) routes events: the grid's responsibility list first, then the
	// category's default department.
	LocalityFirst = "locality_first"
	// OwnerFirst (先属主后属地) routes components: the category's default department (the
	// facility's owner) first, then the grid's responsibility list.
	OwnerFirst = "owner_first"
)

// Where a candidate department comes from.
const (
	BasisResponsibility  = "grid_responsibility" // the grid's responsibility list (责任清单)
	BasisCategoryDefault = "category_default"    // the category's default department (责任主体)
)

// Candidate is one department a case could be dispatched to.
type Candidate struct {
	Department identity.Department
	Basis      string
}

// Proposal is the suggested dispatch of a case: Candidates in the order of Rule, the first
// being the proposal; empty when neither the grid nor the category names a department.
type Proposal struct {
	Rule       string
	Candidates []Candidate
}

// DispatchProposal proposes the lead department for a case:
//   - an event (事件) goes to the locality first (先属地后属主): the departments the grid's
//     responsibility list names for the small class, then for its 大类, then the category's
//     default department;
//   - a component (部件) goes to its owner first (先属主后属地): the category's default
//     department, then the grid's list.
//
// Inactive and unknown departments are skipped, and each department is listed once. A case
// without a category has no proposal; a case without a grid has only the category's default.
func (s *Service) DispatchProposal(ctx context.Context, p identity.Principal, id int64) (Proposal, error) {
	if err := canRead(p); err != nil {
		return Proposal{}, err
	}
	c, err := s.store.Case(ctx, id, ReachOf(p))
	if err != nil {
		return Proposal{}, notFound(err, id)
	}
	out := Proposal{Rule: LocalityFirst, Candidates: []Candidate{}}
	cat, err := s.categoryOf(ctx, s.store, c.CategoryCode)
	if err != nil || cat == nil {
		return out, err
	}
	var local []int64
	if c.GridCode != "" && s.places != nil {
		if local, err = s.places.ResponsibleDepartments(ctx, c.GridCode, cat.Code); err != nil {
			return Proposal{}, fmt.Errorf("read responsibility list of %s: %w", c.GridCode, err)
		}
	}
	var owner []identity.Department
	if cat.DefaultDepartment != "" {
		d, err := s.dir.DepartmentByCode(ctx, cat.DefaultDepartment)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return Proposal{}, fmt.Errorf("read department %s: %w", cat.DefaultDepartment, err)
		}
		if err == nil {
			owner = append(owner, d)
		}
	}
	seen := map[int64]bool{}
	add := func(d identity.Department, basis string) {
		if d.Active && !seen[d.ID] {
			seen[d.ID] = true
			out.Candidates = append(out.Candidates, Candidate{Department: d, Basis: basis})
		}
	}
	addLocal := func() error {
		for _, id := range local {
			d, err := s.dir.DepartmentByID(ctx, id)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read department %d: %w", id, err)
			}
			add(d, BasisResponsibility)
		}
		return nil
	}
	if cat.Type == category.Component {
		out.Rule = OwnerFirst
		for _, d := range owner {
			add(d, BasisCategoryDefault)
		}
		return out, addLocal()
	}
	if err := addLocal(); err != nil {
		return Proposal{}, err
	}
	for _, d := range owner {
		add(d, BasisCategoryDefault)
	}
	return out, nil
}
