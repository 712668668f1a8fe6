package region

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
)

// maxNameLen bounds a region's name (in characters): 新疆维吾尔自治区 is 8, a long 社区 name 20.
const maxNameLen = 100

// Draft is a region as an admin or an import file describes it.
type Draft struct {
	Code       string
	Name       string
	Level      Level
	ParentCode string
	// Boundary is a GeoJSON Polygon or MultiPolygon in CoordSys; nil for none.
	Boundary  []byte
	CoordSys  string // "" is WGS-84
	ValidFrom *time.Time
	ValidTo   *time.Time
}

// mayEditRegions allows admins only: regions are the map every scope hangs on.
func mayEditRegions(p identity.Principal) error {
	if p.IsAPIKey() || p.Role != identity.RoleAdmin {
		return errs.E(errs.Forbidden, "only an admin may change regions")
	}
	return nil
}

// shape checks a draft on its own (everything but its parent) and builds the region it
// describes; boundaryField names where the boundary was sent ("boundary", "geometry").
func (s *Service) shape(f *errs.Fields, d Draft, boundaryField string, now time.Time) *Region {
	r := &Region{
		Code:       strings.TrimSpace(d.Code),
		Name:       strings.TrimSpace(d.Name),
		Level:      Level(strings.TrimSpace(string(d.Level))),
		ParentCode: strings.TrimSpace(d.ParentCode),
		CoordSys:   geo.WGS84,
		ValidFrom:  now,
	}
	switch {
	case r.Level == "":
		f.Add("level", "required", "level is required")
	case !r.Level.Valid():
		f.Add("level", "enum", "level must be one of city, district, street, community, grid, not %q", r.Level)
	}
	checkCode(f, "", r.Code, r.Level)
	checkName(f, "name", r.Name)
	switch {
	case r.Level == LevelCity && r.ParentCode != "":
		f.Add("parent_code", "none", "a city has no parent")
	case r.Level.Valid() && r.Level != LevelCity && r.ParentCode == "":
		f.Add("parent_code", "required", "a %s needs its parent's code", r.Level)
	case r.ParentCode != "" && !IsDigits(r.ParentCode):
		f.Add("parent_code", "digits", "parent_code %q must be digits only", r.ParentCode)
	}
	cs, err := geo.ParseCoordSys(d.CoordSys)
	if err != nil {
		f.Add("coord_sys", "enum", "%v", err)
	}
	if d.Boundary != nil && err == nil {
		setBoundary(f, r, d.Boundary, cs, boundaryField)
	}
	if d.ValidFrom != nil {
		r.ValidFrom = d.ValidFrom.UTC()
	}
	if d.ValidTo != nil {
		t := d.ValidTo.UTC()
		r.ValidTo = &t
	}
	return r
}

// checkValidity requires valid_to, when set, to come after valid_from.
func checkValidity(f *errs.Fields, r *Region) {
	if r.ValidTo != nil && !r.ValidTo.After(r.ValidFrom) {
		f.Add("valid_to", "after", "valid_to (%s) must be after valid_from (%s)", r.ValidTo.Format(time.RFC3339), r.ValidFrom.Format(time.RFC3339))
	}
}

func checkName(f *errs.Fields, field, name string) {
	switch {
	case name == "":
		f.Add(field, "required", "%s is required", field)
	case utf8.RuneCountInString(name) > maxNameLen:
		f.Add(field, "length", "%s must be at most %d characters", field, maxNameLen)
	}
}

// setBoundary parses, validates and converts a boundary to WGS-84 and stores it on r with its
// extent and label point; problems are reported under field.
func setBoundary(f *errs.Fields, r *Region, raw []byte, cs geo.CoordSys, field string) {
	g, problems := geo.ParseBoundary(raw)
	for _, p := range problems {
		name := field
		if p.Field != "" {
			name += "." + p.Field
		}
		f.Add(name, p.Rule, "%s", p.Message)
	}
	if g == nil {
		return
	}
	r.Boundary = geo.Transform(g, cs)
	r.CoordSys = cs
	b := r.Boundary.Bound()
	r.Bound = &b
	c := geo.FromOrb(geo.LabelPoint(r.Boundary))
	r.Center = &c
}

func clearBoundary(r *Region) {
	r.Boundary, r.Bound, r.Center, r.CoordSys = nil, nil, nil, geo.WGS84
}

// checkParentOf checks r against its parent (nil when it does not exist) and sets r.Path.
func checkParentOf(f *errs.Fields, r *Region, parent *Region, now time.Time) {
	if r.ParentCode == "" {
		r.Path = PathOf("", r.Code)
		return
	}
	if parent == nil {
		f.Add("parent_code", "exists", "parent region %s does not exist", r.ParentCode)
		return
	}
	before := len(*f)
	checkParent(f, "", r.Code, r.Level, *parent)
	if parent.ValidTo != nil && (r.ValidTo == nil || r.ValidTo.After(*parent.ValidTo)) {
		f.Add("parent_code", "retired", "parent region %s is retired from %s; a region cannot outlive its parent", parent.Code, parent.ValidTo.Format(time.RFC3339))
	}
	if len(*f) == before {
		r.Path = PathOf(parent.Path, r.Code)
	}
}

// Create adds one region (admin only). Invalid with field errors for a bad code, name,
// level, boundary or parent; Conflict when the code exists.
func (s *Service) Create(ctx context.Context, p identity.Principal, d Draft) (Region, error) {
	if err := mayEditRegions(p); err != nil {
		return Region{}, err
	}
	now := s.now().UTC()
	var f errs.Fields
	r := s.shape(&f, d, "boundary", now)
	checkValidity(&f, r)
	if len(f) == 0 && r.ParentCode != "" {
		parent, err := s.store.RegionByCode(ctx, r.ParentCode)
		switch {
		case err == nil:
			checkParentOf(&f, r, &parent, now)
		case errs.Is(err, errs.NotFound):
			checkParentOf(&f, r, nil, now)
		default:
			return Region{}, err
		}
	} else if len(f) == 0 {
		checkParentOf(&f, r, nil, now)
	}
	if err := f.Err(); err != nil {
		return Region{}, err
	}
	if err := s.store.SaveRegions(ctx, []*Region{r}, nil, nil); err != nil {
		if errs.Is(err, errs.Conflict) {
			return Region{}, errs.Wrap(errs.Conflict, err, "region %s exists already", r.Code)
		}
		return Region{}, err
	}
	s.afterWrite(ctx)
	return *r, nil
}

// Update is a change to a region; nil and false fields are left alone.
type Update struct {
	Name *string
	// SetBoundary replaces the boundary with Boundary (in CoordSys), or removes it when
	// Boundary is nil.
	SetBoundary bool
	Boundary    []byte
	CoordSys    string
	// SetValidTo retires the region (and its subtree) at ValidTo, or brings it back when
	// ValidTo is nil.
	SetValidTo bool
	ValidTo    *time.Time
}

// Update changes a region's name, boundary or validity (admin only). Code, level and parent
// never change: a region that moves is retired and a new one created.
func (s *Service) Update(ctx context.Context, p identity.Principal, code string, u Update) (Region, error) {
	if err := mayEditRegions(p); err != nil {
		return Region{}, err
	}
	var f errs.Fields
	var name string
	if u.Name != nil {
		name = strings.TrimSpace(*u.Name)
		checkName(&f, "name", name)
	}
	var shaped Region
	if u.SetBoundary && u.Boundary != nil {
		cs, err := geo.ParseCoordSys(u.CoordSys)
		if err != nil {
			f.Add("coord_sys", "enum", "%v", err)
		} else {
			setBoundary(&f, &shaped, u.Boundary, cs, "boundary")
		}
	}
	if err := f.Err(); err != nil {
		return Region{}, err
	}
	cur, err := s.Get(ctx, code)
	if err != nil {
		return Region{}, err
	}
	if u.SetValidTo && u.ValidTo == nil && cur.ValidTo != nil && cur.ParentCode != "" {
		// Bringing a region back needs its parent in force.
		parent, err := s.store.RegionByCode(ctx, cur.ParentCode)
		if err != nil {
			return Region{}, err
		}
		if parent.ValidTo != nil {
			return Region{}, errs.Fields{{Field: "valid_to", Rule: "parent_retired",
				Message: "the parent region " + parent.Code + " is retired; bring it back first"}}.Err()
		}
	}
	r, err := s.store.UpdateRegion(ctx, code, func(r *Region) error {
		if u.Name != nil {
			r.Name = name
		}
		if u.SetBoundary {
			if u.Boundary == nil {
				clearBoundary(r)
			} else {
				r.Boundary, r.Bound, r.Center, r.CoordSys = shaped.Boundary, shaped.Bound, shaped.Center, shaped.CoordSys
			}
		}
		if u.SetValidTo {
			if u.ValidTo != nil {
				t := u.ValidTo.UTC()
				if !t.After(r.ValidFrom) {
					return errs.Fields{{Field: "valid_to", Rule: "after", Message: "valid_to must be after valid_from (" + r.ValidFrom.Format(time.RFC3339) + ")"}}.Err()
				}
				r.ValidTo = &t
			} else {
				r.ValidTo = nil
			}
		}
		return nil
	})
	if err != nil {
		return Region{}, err
	}
	s.afterWrite(ctx)
	return r, nil
}
