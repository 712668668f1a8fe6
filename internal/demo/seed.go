package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
)

// Password is every demo user's password. It is for the demo only and documented in README.
const Password = "demo-password"

// The demo desk's street (和平桥街道, 崇川区) and the handler's department.
const (
	DeskStreet     = "320613002"
	CenterDistrict = "320613"
	HandlerDept    = "cgj"
)

// Services are what the seed calls: the same service methods the API uses.
type Services struct {
	Identity   *identity.Service
	Regions    *region.Service
	Categories *category.Service
}

// User is one demo login.
type User struct {
	Username, DisplayName string
	Role                  identity.Role
	Scope                 identity.Scope
	WorkerKind            identity.WorkerKind
}

// Summary says what a seed created.
type Summary struct {
	Regions, Grids, Departments, Categories int
	Users                                   []User
}

// Seeded reports whether the demo city is already there.
func Seeded(ctx context.Context, s Services) (bool, error) {
	_, err := s.Regions.Get(ctx, CityCode)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Seed loads the demo city: regions and grids, departments, the category catalogue, a few
// grid team members and responsibilities, and one user per role. progress, when set, hears
// a line per step.
func Seed(ctx context.Context, s Services, progress func(string)) (Summary, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, args...))
		}
	}
	sys := identity.System()
	var sum Summary

	rs, err := Regions()
	if err != nil {
		return sum, err
	}
	b, err := json.Marshal(FeatureCollection(rs))
	if err != nil {
		return sum, fmt.Errorf("demo regions: %w", err)
	}
	say("importing %d regions of %s", len(rs), CityName)
	rep, err := s.Regions.Import(ctx, sys, bytes.NewReader(b), region.ImportOptions{CoordSys: "wgs84"})
	if err != nil {
		return sum, fmt.Errorf("demo regions: %w", err)
	}
	if rep.Invalid > 0 {
		for _, f := range rep.Features {
			if f.Status == region.ImportInvalid {
				return sum, fmt.Errorf("demo regions: feature %s is invalid: %v", f.Code, f.Errors)
			}
		}
	}
	for _, r := range rs {
		sum.Regions++
		if r.Level == "grid" {
			sum.Grids++
		}
	}

	depts := map[string]int64{}
	for _, d := range category.DepartmentCodes() {
		dep, err := s.Identity.DepartmentByCode(ctx, d[0])
		if errs.Is(err, errs.NotFound) {
			dep, err = s.Identity.CreateDepartment(ctx, sys, identity.NewDepartment{Code: d[0], Name: d[1], RegionCode: CityCode})
			sum.Departments++
		}
		if err != nil {
			return sum, fmt.Errorf("demo department %s: %w", d[0], err)
		}
		depts[d[0]] = dep.ID
	}
	n, err := s.Categories.Load(ctx, category.Catalogue())
	if err != nil {
		return sum, fmt.Errorf("demo categories: %w", err)
	}
	sum.Categories = n
	say("%d departments, %d categories", len(depts), n)

	// The grid worker patrols the first two grids of the desk street's first community.
	var workerGrids []string
	for _, r := range rs {
		if r.Level == "grid" && r.Code[:9] == DeskStreet && len(workerGrids) < 2 {
			workerGrids = append(workerGrids, r.Code)
		}
	}
	if len(workerGrids) == 0 {
		return sum, fmt.Errorf("demo: street %s has no grids", DeskStreet)
	}
	users := []User{
		{"admin", "系统管理员", identity.RoleAdmin, identity.Scope{Kind: identity.ScopeAll}, ""},
		{"desk", "和平桥街道受理员", identity.RoleDispatcher, identity.Scope{Kind: identity.ScopeRegion, RegionCode: DeskStreet}, ""},
		{"center", "崇川区综治中心派遣员", identity.RoleDispatcher, identity.Scope{Kind: identity.ScopeRegion, RegionCode: CenterDistrict}, ""},
		{"handler", "城管局处置员", identity.RoleHandler, identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: depts[HandlerDept]}, ""},
		{"supervisor", "市督办值班长", identity.RoleSupervisor, identity.Scope{Kind: identity.ScopeRegion, RegionCode: CityCode}, ""},
		{"worker", "专职网格员", identity.RoleGridWorker, identity.Scope{Kind: identity.ScopeGrids, GridCodes: workerGrids}, identity.WorkerFullTime},
	}
	var workerID int64
	for _, u := range users {
		created, err := s.Identity.CreateUser(ctx, sys, identity.NewUser{
			Username: u.Username, DisplayName: u.DisplayName, Password: Password,
			Role: u.Role, Scope: u.Scope, WorkerKind: u.WorkerKind,
		})
		if err != nil {
			if e, ok := errs.As(err); ok && len(e.Fields) == 1 && e.Fields[0].Rule == "unique" {
				continue // kept from an earlier seed
			}
			return sum, fmt.Errorf("demo user %s: %w", u.Username, err)
		}
		if u.Username == "worker" {
			workerID = created.ID
		}
		sum.Users = append(sum.Users, u)
	}

	// The worker's grids get a team (多元共治) and a short responsibility list (责任清单).
	for i, g := range workerGrids {
		members := []region.MemberInput{
			{Name: "李网格长", Type: region.MemberGridLeader, RoleNote: "社区书记兼网格长"},
			{Name: "王志愿者", Type: region.MemberVolunteer, RoleNote: "楼栋长"},
			{Name: "物业服务中心", Type: region.MemberPropertyManager},
		}
		if workerID != 0 {
			members = append([]region.MemberInput{{UserID: workerID, Name: "专职网格员", Type: region.MemberFullTime}}, members...)
		}
		for _, m := range members {
			m.Name = fmt.Sprintf("%s%d", m.Name, i+1)
			if m.UserID != 0 {
				m.Name = "专职网格员"
			}
			if _, err := s.Regions.AddMember(ctx, sys, g, m); err != nil {
				return sum, fmt.Errorf("demo grid team %s: %w", g, err)
			}
		}
		if _, err := s.Regions.ReplaceResponsibilities(ctx, sys, g, []region.ResponsibilityInput{
			{CategoryCode: "E01", DepartmentID: depts["jd"], Note: "市容环境类事件先由街道处置（先属地）"},
			{CategoryCode: "E05", DepartmentID: depts["cgj"], Note: "街面秩序由城管中队负责"},
		}); err != nil {
			return sum, fmt.Errorf("demo responsibilities %s: %w", g, err)
		}
	}
	say("%d users (password %q)", len(sum.Users), Password)
	return sum, nil
}
