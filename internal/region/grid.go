package region

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// grid returns a grid by code: NotFound when there is no such region, Invalid when the
// region is not a grid (teams and responsibility lists belong to grids).
func (s *Service) grid(ctx context.Context, code string) (Region, error) {
	if !IsDigits(code) {
		return Region{}, errs.NotFoundf("no grid %q", code)
	}
	rs, err := s.store.RegionsByCodes(ctx, []string{code}, false)
	if err != nil {
		return Region{}, err
	}
	if len(rs) == 0 {
		return Region{}, errs.NotFoundf("no grid %s", code)
	}
	if rs[0].Level != LevelGrid {
		return Region{}, errs.Fields{{Field: "code", Rule: "grid", Message: fmt.Sprintf("%s is a %s; teams and responsibility lists belong to grids", code, rs[0].Level)}}.Err()
	}
	return rs[0], nil
}

// mayEditGrid allows an admin, or a dispatcher whose data scope holds the grid, to change a
// grid's team and responsibility list. Another role is refused (Forbidden); a dispatcher
// outside their scope is told the grid does not exist (NotFound), as for any data out of
// scope.
func mayEditGrid(p identity.Principal, g Region) error {
	if p.IsAPIKey() {
		return errs.E(errs.Forbidden, "an API key may not change grid teams or responsibility lists")
	}
	switch p.Role {
	case identity.RoleAdmin:
		return nil
	case identity.RoleDispatcher:
		if InScope(p.Scope, g) {
			return nil
		}
		return errs.NotFoundf("no grid %s", g.Code)
	}
	return errs.E(errs.Forbidden, "only an admin or a dispatcher may change a grid's team or responsibility list")
}

// InScope reports whether a data scope holds the region: all, a subtree it lies in, or a
// grid set that names it. A department scope holds no region.
func InScope(sc identity.Scope, r Region) bool {
	switch sc.Kind {
	case identity.ScopeAll:
		return true
	case identity.ScopeRegion:
		if sc.RegionPath != "" {
			return strings.HasPrefix(r.Path, sc.RegionPath)
		}
		return sc.RegionCode != "" && strings.Contains(r.Path, "/"+sc.RegionCode+"/")
	case identity.ScopeGrids:
		return slices.Contains(sc.GridCodes, r.Code)
	}
	return false
}

// Members lists a grid's team (多元共治), active members first.
func (s *Service) Members(ctx context.Context, gridCode string) ([]Member, error) {
	if _, err := s.grid(ctx, gridCode); err != nil {
		return nil, err
	}
	return s.store.GridMembers(ctx, gridCode)
}

// MemberInput is a new team member.
type MemberInput struct {
	UserID   int64 // 0 for someone who is not a user (a volunteer, a property manager)
	Name     string
	Phone    string
	Type     MemberType
	RoleNote string
	Active   *bool // true when nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{2,22}[0-9]$`)

// AddMember puts someone on a grid's team (admin, or a dispatcher whose scope holds the
// grid). Invalid for a bad field or a user that does not exist; Conflict when the user is on
// the team already.
func (s *Service) AddMember(ctx context.Context, p identity.Principal, gridCode string, in MemberInput) (Member, error) {
	g, err := s.grid(ctx, gridCode)
	if err != nil {
		return Member{}, err
	}
	if err := mayEditGrid(p, g); err != nil {
		return Member{}, err
	}
	m := Member{GridCode: g.Code, UserID: in.UserID, Name: strings.TrimSpace(in.Name), Phone: strings.TrimSpace(in.Phone),
		Type: in.Type, RoleNote: strings.TrimSpace(in.RoleNote), Active: in.Active == nil || *in.Active}
	var f errs.Fields
	checkShortText(&f, "name", m.Name, 50, true)
	checkShortText(&f, "role_note", m.RoleNote, 50, false)
	if m.Phone != "" && !phonePattern.MatchString(m.Phone) {
		f.Add("phone", "format", "phone must be a telephone number (digits, spaces, dashes, an optional leading +)")
	}
	switch {
	case m.Type == "":
		f.Add("member_type", "required", "member_type is required")
	case !m.Type.Valid():
		f.Add("member_type", "enum", "member_type must be one of %s", joinTypes())
	}
	if m.UserID < 0 {
		f.Add("user_id", "range", "user_id must be positive")
	} else if m.UserID > 0 {
		missing, _, err := s.store.MissingPeople(ctx, []int64{m.UserID}, nil)
		if err != nil {
			return Member{}, err
		}
		if len(missing) > 0 {
			f.Add("user_id", "exists", "user %d does not exist", m.UserID)
		}
	}
	if g.ValidTo != nil && !g.ValidAt(s.now()) {
		f.Add("code", "retired", "grid %s is retired", g.Code)
	}
	if err := f.Err(); err != nil {
		return Member{}, err
	}
	if err := s.store.CreateGridMember(ctx, &m); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Member{}, errs.Wrap(errs.Conflict, err, "user %d is on the team of grid %s already", m.UserID, g.Code)
		}
		return Member{}, err
	}
	return m, nil
}

func joinTypes() string {
	names := make([]string, len(MemberTypes))
	for i, t := range MemberTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func checkShortText(f *errs.Fields, field, v string, max int, required bool) {
	switch {
	case v == "" && required:
		f.Add(field, "required", "%s is required", field)
	case utf8.RuneCountInString(v) > max:
		f.Add(field, "length", "%s must be at most %d characters", field, max)
	}
}

// RemoveMember takes someone off a grid's team (admin, or a dispatcher whose scope holds
// the grid); NotFound when the grid has no such member.
func (s *Service) RemoveMember(ctx context.Context, p identity.Principal, gridCode string, id int64) error {
	g, err := s.grid(ctx, gridCode)
	if err != nil {
		return err
	}
	if err := mayEditGrid(p, g); err != nil {
		return err
	}
	if err := s.store.DeleteGridMember(ctx, g.Code, id); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("grid %s has no member %d", g.Code, id)
		}
		return err
	}
	return nil
}

// Responsibilities returns a grid's responsibility list (责任清单) by category code.
func (s *Service) Responsibilities(ctx context.Context, gridCode string) ([]Responsibility, error) {
	if _, err := s.grid(ctx, gridCode); err != nil {
		return nil, err
	}
	return s.store.GridResponsibilities(ctx, gridCode)
}

// ResponsibilityInput is one row of a responsibility list.
type ResponsibilityInput struct {
	CategoryCode string
	DepartmentID int64
	UserID       int64
	Note         string
}

// MaxResponsibilities bounds one grid's list (a full catalogue has about 200 small classes).
const MaxResponsibilities = 1000

var categoryPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// ReplaceResponsibilities makes a grid's responsibility list exactly items (admin, or a
// dispatcher whose scope holds the grid). Each item names a category and exactly one of a
// department and a user, both existing; a category appears once.
func (s *Service) ReplaceResponsibilities(ctx context.Context, p identity.Principal, gridCode string, items []ResponsibilityInput) ([]Responsibility, error) {
	g, err := s.grid(ctx, gridCode)
	if err != nil {
		return nil, err
	}
	if err := mayEditGrid(p, g); err != nil {
		return nil, err
	}
	var f errs.Fields
	if len(items) > MaxResponsibilities {
		f.Add("items", "length", "a responsibility list has at most %d items", MaxResponsibilities)
		return nil, f.Err()
	}
	seen := map[string]int{}
	var userIDs, deptIDs []int64
	out := make([]Responsibility, len(items))
	for i, in := range items {
		at := fmt.Sprintf("items[%d].", i)
		r := Responsibility{GridCode: g.Code, CategoryCode: strings.TrimSpace(in.CategoryCode), DepartmentID: in.DepartmentID, UserID: in.UserID, Note: strings.TrimSpace(in.Note)}
		switch {
		case r.CategoryCode == "":
			f.Add(at+"category_code", "required", "category_code is required")
		case !categoryPattern.MatchString(r.CategoryCode):
			f.Add(at+"category_code", "format", "category_code %q must be letters, digits, '_', '.' or '-' (at most 32)", r.CategoryCode)
		default:
			if j, dup := seen[r.CategoryCode]; dup {
				f.Add(at+"category_code", "unique", "category %s is also item %d", r.CategoryCode, j)
			}
			seen[r.CategoryCode] = i
		}
		switch {
		case r.DepartmentID < 0 || r.UserID < 0:
			f.Add(at+"department_id", "range", "ids must be positive")
		case (r.DepartmentID == 0) == (r.UserID == 0):
			f.Add(at+"department_id", "one_of", "name exactly one of department_id and user_id")
		case r.DepartmentID > 0:
			deptIDs = append(deptIDs, r.DepartmentID)
		default:
			userIDs = append(userIDs, r.UserID)
		}
		checkShortText(&f, at+"note", r.Note, 200, false)
		out[i] = r
	}
	if len(userIDs)+len(deptIDs) > 0 {
		missingUsers, missingDepts, err := s.store.MissingPeople(ctx, userIDs, deptIDs)
		if err != nil {
			return nil, err
		}
		for i, r := range out {
			if r.UserID > 0 && slices.Contains(missingUsers, r.UserID) {
				f.Add(fmt.Sprintf("items[%d].user_id", i), "exists", "user %d does not exist", r.UserID)
			}
			if r.DepartmentID > 0 && slices.Contains(missingDepts, r.DepartmentID) {
				f.Add(fmt.Sprintf("items[%d].department_id", i), "exists", "department %d does not exist", r.DepartmentID)
			}
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return s.store.ReplaceGridResponsibilities(ctx, g.Code, out)
}

// ResponsibleFor answers who is responsible in a grid for a category of case, from the
// grid's responsibility list: the row for the category itself, or else the row of the
// longest code it starts with (a row for the class "E01" covers "E0101"). NotFound when the
// list names no one; the dispatcher then falls back to the category's default department.
func (s *Service) ResponsibleFor(ctx context.Context, gridCode, categoryCode string) (Responsibility, error) {
	rs, err := s.store.GridResponsibilities(ctx, gridCode)
	if err != nil {
		return Responsibility{}, err
	}
	best := -1
	for i, r := range rs {
		if strings.HasPrefix(categoryCode, r.CategoryCode) && (best < 0 || len(r.CategoryCode) > len(rs[best].CategoryCode)) {
			best = i
		}
	}
	if best < 0 {
		return Responsibility{}, errs.NotFoundf("grid %s lists no one responsible for category %s", gridCode, categoryCode)
	}
	return rs[best], nil
}
