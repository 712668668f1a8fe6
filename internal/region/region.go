// Package region is the five-level hierarchy of places (市 → 区/县 → 街道/乡镇 → 社区/村 → 网格),
// their boundaries and validity, each grid's team (多元共治) and responsibility list (责任清单),
// and finding the region a point falls in from an in-memory spatial index.
package region

import (
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
)

// Level is a region's place in the hierarchy (市县乡村组).
type Level string

// The levels, top down.
const (
	LevelCity      Level = "city"      // 市
	LevelDistrict  Level = "district"  // 区/县
	LevelStreet    Level = "street"    // 街道/乡镇
	LevelCommunity Level = "community" // 社区/村
	LevelGrid      Level = "grid"      // 网格: the leaf, a closed polygon of a few hundred households
)

// Levels lists the levels top down.
var Levels = []Level{LevelCity, LevelDistrict, LevelStreet, LevelCommunity, LevelGrid}

// Depth is 1 for a city and 5 for a grid; 0 for an unknown level.
func (l Level) Depth() int { return slices.Index(Levels, l) + 1 }

// Valid reports whether l is one of the levels.
func (l Level) Valid() bool { return l.Depth() > 0 }

// CodeLen is the length of a code at this level (GB/T 2260 plus street, community and grid
// sequences): 6, 6, 9, 12, 15.
func (l Level) CodeLen() int {
	switch l {
	case LevelCity, LevelDistrict:
		return 6
	case LevelStreet:
		return 9
	case LevelCommunity:
		return 12
	case LevelGrid:
		return 15
	}
	return 0
}

// Parent is the level one up; "" for a city.
func (l Level) Parent() Level {
	if d := l.Depth(); d > 1 {
		return Levels[d-2]
	}
	return ""
}

// Region is one place in the hierarchy. Regions are never deleted: setting ValidTo retires
// one (a merger, a redrawn grid), so that the cases filed in it keep their place.
type Region struct {
	ID         int64
	Code       string
	Name       string
	Level      Level
	ParentCode string // "" for a city
	// Path is "/" + the codes of the ancestors and the region itself joined by "/" + "/", e.g.
	// "/320600/320613/320613001/"; a subtree is every path with this prefix.
	Path string
	// Boundary is a Polygon or MultiPolygon in WGS-84; nil when the region has none or it
	// was not loaded (lists leave it out).
	Boundary orb.Geometry
	// Bound is the boundary's extent and Center a point inside it for a label; nil without a
	// boundary (set even when Boundary was not loaded).
	Bound  *orb.Bound
	Center *geo.Point
	// CoordSys is the system the boundary was sent in; it is stored converted to WGS-84.
	CoordSys  geo.CoordSys
	ValidFrom time.Time
	ValidTo   *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ValidAt reports whether the region is in force at t (ValidFrom ≤ t < ValidTo).
func (r Region) ValidAt(t time.Time) bool {
	return !t.Before(r.ValidFrom) && (r.ValidTo == nil || t.Before(*r.ValidTo))
}

// HasBoundary reports whether the region has a boundary (loaded or not).
func (r Region) HasBoundary() bool { return r.Bound != nil || r.Boundary != nil }

// Ref returns the short form of the region.
func (r Region) Ref() Ref {
	return Ref{Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode, Path: r.Path}
}

// Ref names a region without its boundary: what a located point or an ancestor chain carries.
type Ref struct {
	Code       string
	Name       string
	Level      Level
	ParentCode string
	Path       string
}

// PathOf builds the materialized path of code under a parent with parentPath ("" for a root).
func PathOf(parentPath, code string) string {
	if parentPath == "" {
		return "/" + code + "/"
	}
	return parentPath + code + "/"
}

// AncestorCodes lists the codes of a path's ancestors, root first, without the region itself.
func AncestorCodes(path string) []string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) <= 1 {
		return nil
	}
	return parts[:len(parts)-1]
}

// IsDigits reports whether s is non-empty and all ASCII digits.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkCode validates a code's form for its level.
func checkCode(f *errs.Fields, prefix, code string, level Level) {
	switch {
	case code == "":
		f.Add(prefix+"code", "required", "code is required")
	case !IsDigits(code):
		f.Add(prefix+"code", "digits", "code %q must be digits only", code)
	case level.Valid() && len(code) != level.CodeLen():
		f.Add(prefix+"code", "length", "a %s code has %d digits; %q has %d", level, level.CodeLen(), code, len(code))
	}
}

// checkParent validates that parent may hold a child of level with code: exactly one level
// up, and the codes nest (GB/T 2260: a district shares its city's first four digits; a
// street, community or grid code starts with its parent's code).
func checkParent(f *errs.Fields, prefix, code string, level Level, parent Region) {
	if want := level.Parent(); parent.Level != want {
		f.Add(prefix+"parent_code", "level", "the parent of a %s must be a %s; %s is a %s", level, want, parent.Code, parent.Level)
		return
	}
	if !IsDigits(code) || len(code) != level.CodeLen() {
		return // the code's own error says enough
	}
	switch level {
	case LevelDistrict:
		if code[:4] != parent.Code[:min(4, len(parent.Code))] {
			f.Add(prefix+"code", "nesting", "district %s must share the first four digits of its city %s", code, parent.Code)
		}
	default:
		if !strings.HasPrefix(code, parent.Code) {
			f.Add(prefix+"code", "nesting", "%s %s must start with its parent's code %s", level, code, parent.Code)
		}
	}
}

// MemberType is the part a grid team member plays (多元共治: staff and the community).
type MemberType string

// The member types.
const (
	MemberFullTime        MemberType = "full_time_worker" // 专职网格员
	MemberPartTime        MemberType = "part_time_worker" // 兼职网格员
	MemberGridLeader      MemberType = "grid_leader"      // 网格长
	MemberVolunteer       MemberType = "volunteer"        // 志愿者
	MemberPropertyManager MemberType = "property_manager" // 物业
	MemberPartyMember     MemberType = "party_member"     // 在职党员 registered with the community
	MemberPoliceOfficer   MemberType = "police_officer"   // 社区民警
	MemberOther           MemberType = "other"
)

// MemberTypes lists the member types.
var MemberTypes = []MemberType{MemberFullTime, MemberPartTime, MemberGridLeader, MemberVolunteer,
	MemberPropertyManager, MemberPartyMember, MemberPoliceOfficer, MemberOther}

// Valid reports whether t is a member type.
func (t MemberType) Valid() bool { return slices.Contains(MemberTypes, t) }

// Member is one person on a grid's team. A member who works in gridcase (a grid worker, a
// police officer with an account) links to the user; a volunteer has no account.
type Member struct {
	ID       int64
	GridCode string
	UserID   int64 // 0 when the member is not a user
	Name     string
	Phone    string
	Type     MemberType
	RoleNote string // e.g. 楼栋长 (building head)
	Active   bool
	// CreatedAt is when the member joined the team.
	CreatedAt time.Time
}

// Responsibility is one row of a grid's responsibility list (责任清单, the first of 一网两单):
// which department or person answers for a category of case in this grid.
type Responsibility struct {
	ID           int64
	GridCode     string
	CategoryCode string // a case category (小类 "E0101") or a whole class (大类 "E01")
	DepartmentID int64  // exactly one of DepartmentID and UserID is set
	UserID       int64
	Note         string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Filter selects regions from the store; the zero value selects everything.
type Filter struct {
	// Parent selects the direct children of a code; "" with HasParent selects the roots.
	Parent    string
	HasParent bool
	// Under selects a subtree: paths starting with this prefix (the region itself included).
	Under string
	// Levels selects these levels only.
	Levels []Level
	// NameContains selects names containing this text.
	NameContains string
	// ValidAt selects the regions in force at this time.
	ValidAt *time.Time
	// After selects codes greater than this (keyset pagination in code order).
	After string
	// Limit caps the rows (0: no cap).
	Limit int
	// WithBoundary loads the boundaries too.
	WithBoundary bool
}
