package identity

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// Department is a functional department that handles dispatched cases (职能部门: 城管,
// 市场监管, 住建 …), or a utility company that answers for its components.
type Department struct {
	ID         int64
	Code       string // unique, stable: what integrations and imports refer to
	Name       string
	Kind       string // one of DepartmentKinds, or another lower-case word; may be empty
	RegionCode string // the level it belongs to (a district's 城管局, a street's 城管中队); empty: city-wide
	Phone      string
	Active     bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// DepartmentKinds are the usual kinds of department. Others are accepted when they follow
// the same lower_snake_case form, since every city organises itself a little differently.
var DepartmentKinds = []string{
	"city_management",   // 城管 (城市管理综合执法)
	"market_regulation", // 市场监管
	"housing",           // 住建
	"environment",       // 环保 (生态环境)
	"police",            // 公安
	"transport",         // 交通运输
	"water",             // 水务 / 供水
	"power",             // 供电
	"gas",               // 燃气
	"telecom",           // 通信运营商
	"landscaping",       // 园林绿化
	"civil_affairs",     // 民政
	"health",            // 卫健
	"emergency",         // 应急管理
	"fire",              // 消防
	"street_office",     // 街道办事处
	"community",         // 社区居委会
	"property",          // 物业
	"other",
}

// DepartmentFilter selects departments. Zero fields do not filter.
type DepartmentFilter struct {
	Kind       string
	RegionCode string // exactly this region (not its subtree)
	Query      string // part of the code or name
	Active     *bool
	Limit      int
	Offset     int
}

// DepartmentPage is one page of departments.
type DepartmentPage struct {
	Departments []Department
	Total       int64
	Limit       int
	Offset      int
}

// NewDepartment is what an admin gives to create a department.
type NewDepartment struct {
	Code       string
	Name       string
	Kind       string
	RegionCode string
	Phone      string
}

// DepartmentPatch changes some of a department's fields; nil fields stay.
type DepartmentPatch struct {
	Name       *string
	Kind       *string
	RegionCode *string
	Phone      *string
	Active     *bool
}

var (
	departmentCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	departmentKindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// ListDepartments returns departments; any signed-in caller may read them (dispatching needs
// the list, and it is no secret who handles what).
func (s *Service) ListDepartments(ctx context.Context, p Principal, f DepartmentFilter) (DepartmentPage, error) {
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return DepartmentPage{}, err
	}
	f.Query = strings.TrimSpace(f.Query)
	ds, total, err := s.store.ListDepartments(ctx, f)
	if err != nil {
		return DepartmentPage{}, fmt.Errorf("list departments: %w", err)
	}
	return DepartmentPage{Departments: ds, Total: total, Limit: f.Limit, Offset: f.Offset}, nil
}

// GetDepartment returns one department.
func (s *Service) GetDepartment(ctx context.Context, p Principal, id int64) (Department, error) {
	return s.DepartmentByID(ctx, id)
}

// DepartmentByID returns a department (no caller check: departments are public inside the
// service).
func (s *Service) DepartmentByID(ctx context.Context, id int64) (Department, error) {
	d, err := s.store.DepartmentByID(ctx, id)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Department{}, errs.NotFoundf("department %d not found", id)
		}
		return Department{}, fmt.Errorf("department %d: %w", id, err)
	}
	return d, nil
}

// DepartmentByCode returns the department with the code.
func (s *Service) DepartmentByCode(ctx context.Context, code string) (Department, error) {
	d, err := s.store.DepartmentByCode(ctx, strings.TrimSpace(code))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Department{}, errs.NotFoundf("department %q not found", code)
		}
		return Department{}, fmt.Errorf("department %q: %w", code, err)
	}
	return d, nil
}

// CreateDepartment adds a department; only an admin may.
func (s *Service) CreateDepartment(ctx context.Context, p Principal, in NewDepartment) (Department, error) {
	if !p.Is(RoleAdmin) || p.IsAPIKey() {
		return Department{}, errs.E(errs.Forbidden, "only an admin may create departments")
	}
	d := Department{
		Code:       strings.TrimSpace(in.Code),
		Name:       strings.TrimSpace(in.Name),
		Kind:       strings.TrimSpace(in.Kind),
		RegionCode: strings.TrimSpace(in.RegionCode),
		Phone:      strings.TrimSpace(in.Phone),
		Active:     true,
	}
	var f errs.Fields
	switch {
	case d.Code == "":
		f.Required("code", true)
	case !departmentCodePattern.MatchString(d.Code):
		f.Add("code", "pattern", "code must be 1–64 letters, digits, '.', '_' or '-'")
	}
	s.checkDepartment(ctx, &f, &d)
	if err := f.Err(); err != nil {
		return Department{}, err
	}
	now := s.now()
	d.CreatedAt, d.UpdatedAt = now, now
	if err := s.store.CreateDepartment(ctx, &d); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Department{}, fieldErr("code", "unique", "department code %q is taken", d.Code)
		}
		return Department{}, fmt.Errorf("create department %s: %w", d.Code, err)
	}
	return d, nil
}

// UpdateDepartment changes a department; only an admin may. The code never changes.
func (s *Service) UpdateDepartment(ctx context.Context, p Principal, id int64, in DepartmentPatch) (Department, error) {
	if !p.Is(RoleAdmin) || p.IsAPIKey() {
		if _, err := s.DepartmentByID(ctx, id); err != nil {
			return Department{}, err
		}
		return Department{}, errs.E(errs.Forbidden, "only an admin may change departments")
	}
	d, err := s.store.UpdateDepartment(ctx, id, func(d *Department) error {
		if in.Name != nil {
			d.Name = strings.TrimSpace(*in.Name)
		}
		if in.Kind != nil {
			d.Kind = strings.TrimSpace(*in.Kind)
		}
		if in.RegionCode != nil {
			d.RegionCode = strings.TrimSpace(*in.RegionCode)
		}
		if in.Phone != nil {
			d.Phone = strings.TrimSpace(*in.Phone)
		}
		if in.Active != nil {
			d.Active = *in.Active
		}
		var f errs.Fields
		s.checkDepartment(ctx, &f, d)
		if err := f.Err(); err != nil {
			return err
		}
		d.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Department{}, errs.NotFoundf("department %d not found", id)
		}
		return Department{}, fmt.Errorf("update department %d: %w", id, err)
	}
	return d, nil
}

func (s *Service) checkDepartment(ctx context.Context, f *errs.Fields, d *Department) {
	switch n := len([]rune(d.Name)); {
	case n == 0:
		f.Required("name", true)
	case n > 100:
		f.Add("name", "max_length", "name must have at most 100 characters")
	}
	if d.Kind != "" && !departmentKindPattern.MatchString(d.Kind) {
		f.Add("kind", "pattern", "kind must be lower_snake_case, e.g. one of %s", strings.Join(DepartmentKinds, ", "))
	}
	checkPhone(f, d.Phone)
	if d.RegionCode != "" {
		if err := s.regionExists(ctx, d.RegionCode); err != nil {
			addRegionError(f, "region_code", d.RegionCode, err)
		}
	}
}
