package category

import (
	"context"
	"fmt"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// Service manages the catalogue. Everyone signed in reads it; only admins change it.
type Service struct {
	store Store
	deps  Departments
	now   func() time.Time
}

// NewService returns a Service on the store; deps (may be nil) checks default departments.
func NewService(s Store, deps Departments) *Service {
	return &Service{store: s, deps: deps, now: time.Now}
}

// List returns the classes matching f, sorted by code.
func (s *Service) List(ctx context.Context, p identity.Principal, f Filter) ([]Category, error) {
	if err := canRead(p); err != nil {
		return nil, err
	}
	if f.Type != "" && !f.Type.Valid() {
		var fe errs.Fields
		fe.Add("type", "enum", "type must be component or event")
		return nil, fe.Err()
	}
	cats, err := s.store.ListCategories(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return cats, nil
}

// Get returns one class.
func (s *Service) Get(ctx context.Context, p identity.Principal, code string) (Category, error) {
	if err := canRead(p); err != nil {
		return Category{}, err
	}
	c, err := s.store.Category(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return Category{}, errs.NotFoundf("category %q not found", code)
	}
	return c, err
}

// Create adds a class (admin only).
func (s *Service) Create(ctx context.Context, p identity.Principal, c Category) (Category, error) {
	if err := requireAdmin(p); err != nil {
		return Category{}, err
	}
	c.Normalize()
	if err := s.check(ctx, c); err != nil {
		return Category{}, err
	}
	now := s.now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.store.CreateCategory(ctx, &c); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Category{}, errs.E(errs.Conflict, "category %s already exists", c.Code)
		}
		return Category{}, fmt.Errorf("create category %s: %w", c.Code, err)
	}
	return c, nil
}

// Patch is a partial update: nil fields stay as they are. Code and type never change: a class
// that moves is a new class, so old cases keep theirs.
type Patch struct {
	MajorName         *string
	Name              *string
	FilingCondition   *string
	ClosingCondition  *string
	DefaultDepartment *string
	NormalLimit       *Limit
	UrgentLimit       *Limit
	CheckRequired     *bool
	SelfHandleAllowed *bool
	Active            *bool
	Keywords          *[]string
}

// Update changes a class (admin only).
func (s *Service) Update(ctx context.Context, p identity.Principal, code string, in Patch) (Category, error) {
	if err := requireAdmin(p); err != nil {
		return Category{}, err
	}
	out, err := s.store.UpdateCategory(ctx, code, func(c *Category) error {
		set(&c.MajorName, in.MajorName)
		set(&c.Name, in.Name)
		set(&c.FilingCondition, in.FilingCondition)
		set(&c.ClosingCondition, in.ClosingCondition)
		set(&c.DefaultDepartment, in.DefaultDepartment)
		set(&c.NormalLimit, in.NormalLimit)
		set(&c.UrgentLimit, in.UrgentLimit)
		set(&c.CheckRequired, in.CheckRequired)
		set(&c.SelfHandleAllowed, in.SelfHandleAllowed)
		set(&c.Active, in.Active)
		set(&c.Keywords, in.Keywords)
		c.Normalize()
		c.UpdatedAt = s.now().UTC()
		return s.check(ctx, *c)
	})
	if errs.Is(err, errs.NotFound) {
		return Category{}, errs.NotFoundf("category %q not found", code)
	}
	if err != nil {
		return Category{}, fmt.Errorf("update category %s: %w", code, err)
	}
	return out, nil
}

// Load inserts the classes that are missing (by code) and leaves existing ones as an admin
// may have edited them; the demo seed loads Catalogue() with it. It returns how many it added.
func (s *Service) Load(ctx context.Context, cats []Category) (int, error) {
	added := 0
	for _, c := range cats {
		c.Normalize()
		if err := c.Validate(); err != nil {
			return added, fmt.Errorf("load category %s: %w", c.Code, err)
		}
		if _, err := s.store.Category(ctx, c.Code); err == nil {
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return added, fmt.Errorf("load category %s: %w", c.Code, err)
		}
		now := s.now().UTC()
		c.CreatedAt, c.UpdatedAt = now, now
		if err := s.store.CreateCategory(ctx, &c); err != nil {
			return added, fmt.Errorf("load category %s: %w", c.Code, err)
		}
		added++
	}
	return added, nil
}

func (s *Service) check(ctx context.Context, c Category) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.DefaultDepartment != "" && s.deps != nil {
		_, err := s.deps.DepartmentByCode(ctx, c.DefaultDepartment)
		if errs.Is(err, errs.NotFound) {
			var f errs.Fields
			f.Add("default_department", "exists", "there is no department with code %q", c.DefaultDepartment)
			return f.Err()
		}
		if err != nil {
			return fmt.Errorf("check department %s: %w", c.DefaultDepartment, err)
		}
	}
	return nil
}

// canRead lets every user read the catalogue, and API keys that work with cases or Open311.
func canRead(p identity.Principal) error {
	for _, sc := range []string{"cases:read", "cases:write", "open311"} {
		if p.HasAPIScope(sc) {
			return nil
		}
	}
	return errs.E(errs.Forbidden, "this API key may not read the category catalogue; it needs cases:read, cases:write or open311")
}

func requireAdmin(p identity.Principal) error {
	if p.IsAPIKey() || !p.Is(identity.RoleAdmin) {
		return errs.E(errs.Forbidden, "only an admin may change the category catalogue")
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
