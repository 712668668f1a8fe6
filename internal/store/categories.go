package store

import (
	"context"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// categoryRow is a row of categories (migration 00004).
type categoryRow struct {
	Code                  string `gorm:"primaryKey"`
	Type                  string
	MajorCode             string
	MajorName             string
	Name                  string
	FilingCondition       string
	ClosingCondition      string
	DefaultDepartmentCode *string
	NormalLimitUnit       string
	NormalLimitValue      int
	NormalLimitMinutes    int
	UrgentLimitUnit       *string
	UrgentLimitValue      *int
	UrgentLimitMinutes    *int
	CheckRequired         bool
	SelfHandleAllowed     bool
	Active                bool
	Keywords              string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (categoryRow) TableName() string { return "categories" }

func (r categoryRow) domain() category.Category {
	c := category.Category{
		Code: r.Code, Type: category.Type(r.Type), MajorCode: r.MajorCode, MajorName: r.MajorName, Name: r.Name,
		FilingCondition: r.FilingCondition, ClosingCondition: r.ClosingCondition,
		DefaultDepartment: caseDeref(r.DefaultDepartmentCode),
		NormalLimit:       worktime.Limit{Unit: worktime.Unit(r.NormalLimitUnit), Value: r.NormalLimitValue, Minutes: r.NormalLimitMinutes},
		CheckRequired:     r.CheckRequired, SelfHandleAllowed: r.SelfHandleAllowed, Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.UrgentLimitUnit != nil {
		c.UrgentLimit = worktime.Limit{Unit: worktime.Unit(*r.UrgentLimitUnit), Value: caseDeref(r.UrgentLimitValue), Minutes: caseDeref(r.UrgentLimitMinutes)}
	}
	if r.Keywords != "" {
		c.Keywords = strings.Split(r.Keywords, ",")
	}
	return c
}

func categoryRowOf(c category.Category) categoryRow {
	r := categoryRow{
		Code: c.Code, Type: string(c.Type), MajorCode: c.MajorCode, MajorName: c.MajorName, Name: c.Name,
		FilingCondition: c.FilingCondition, ClosingCondition: c.ClosingCondition,
		DefaultDepartmentCode: caseNullString(c.DefaultDepartment),
		NormalLimitUnit:       string(c.NormalLimit.Unit), NormalLimitValue: c.NormalLimit.Value, NormalLimitMinutes: c.NormalLimit.Minutes,
		CheckRequired: c.CheckRequired, SelfHandleAllowed: c.SelfHandleAllowed, Active: c.Active,
		Keywords:  strings.Join(c.Keywords, ","),
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
	}
	if c.UrgentLimit != (worktime.Limit{}) {
		u, v, m := string(c.UrgentLimit.Unit), c.UrgentLimit.Value, c.UrgentLimit.Minutes
		r.UrgentLimitUnit, r.UrgentLimitValue, r.UrgentLimitMinutes = &u, &v, &m
	}
	return r
}

// CreateCategory inserts a class; Conflict when the code exists.
func (s *Store) CreateCategory(ctx context.Context, c *category.Category) error {
	r := categoryRowOf(*c)
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return s.translate(err, "create category")
	}
	return nil
}

// Category returns one class by code; NotFound when none.
func (s *Store) Category(ctx context.Context, code string) (category.Category, error) {
	var rows []categoryRow
	if err := s.conn(ctx).Where("code = ?", code).Limit(1).Find(&rows).Error; err != nil {
		return category.Category{}, s.translate(err, "read category")
	}
	if len(rows) == 0 {
		return category.Category{}, errs.NotFoundf("category %q not found", code)
	}
	return rows[0].domain(), nil
}

// ListCategories returns the classes matching f, sorted by code.
func (s *Store) ListCategories(ctx context.Context, f category.Filter) ([]category.Category, error) {
	q := s.conn(ctx).Model(&categoryRow{})
	if f.Type != "" {
		q = q.Where("type = ?", string(f.Type))
	}
	if f.ActiveOnly {
		q = q.Where("active = ?", true)
	}
	if t := strings.TrimSpace(f.Query); t != "" {
		like := "%" + caseEscapeLike(strings.ToLower(t)) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR LOWER(major_name) LIKE ? ESCAPE '\' OR LOWER(code) LIKE ? ESCAPE '\' OR LOWER(keywords) LIKE ? ESCAPE '\')`,
			like, like, like, like)
	}
	var rows []categoryRow
	if err := q.Order("code").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list categories")
	}
	out := make([]category.Category, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateCategory loads a class under a row lock, applies fn and saves the result.
func (s *Store) UpdateCategory(ctx context.Context, code string, fn func(*category.Category) error) (category.Category, error) {
	var out category.Category
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []categoryRow
		if err := tx.forUpdate(tx.conn(ctx).Where("code = ?", code)).Limit(1).Find(&rows).Error; err != nil {
			return tx.translate(err, "read category")
		}
		if len(rows) == 0 {
			return errs.NotFoundf("category %q not found", code)
		}
		c := rows[0].domain()
		if err := fn(&c); err != nil {
			return err
		}
		c.Code = rows[0].Code
		r := categoryRowOf(c)
		if err := tx.conn(ctx).Model(&categoryRow{}).Where("code = ?", code).Select("*").Omit("code", "created_at").Updates(&r).Error; err != nil {
			return tx.translate(err, "update category")
		}
		out = c
		return nil
	})
	return out, err
}

// escapeLike escapes LIKE wildcards with a backslash.
func caseEscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
