// Package category is the case taxonomy (案件分类) of GB/T 30428.2: components (部件) and events
// (事件), each a 大类 of small classes (小类) that carry a filing condition (立案条件), a time limit
// per urgency (处置时限), a closing condition (结案条件) and a default department (责任主体).
package category

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Type says whether a class is a thing in the street (component 部件) or something that
// happened (event 事件). It decides the dispatch routing rule.
type Type string

// The types.
const (
	Component Type = "component" // 部件: manhole covers, street lights … (先属主后属地)
	Event     Type = "event"     // 事件: dumping, street order, disputes … (先属地后属主)
)

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t == Component || t == Event }

// Prefix is the letter a code of this type starts with.
func (t Type) Prefix() string {
	if t == Component {
		return "C"
	}
	return "E"
}

// Urgency chooses which of a class's time limits applies.
type Urgency string

// The urgencies.
const (
	Normal Urgency = "normal" // 一般
	Urgent Urgency = "urgent" // 紧急
)

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return u == Normal || u == Urgent }

// Unit is how a time limit is counted (DOMAIN.md §3); the work calendar does the arithmetic.
type Unit = worktime.Unit

// The units.
const (
	UrgentHours = worktime.UrgentHours // 紧急工作时: a continuous clock, nights and holidays too
	WorkHours   = worktime.WorkHours   // 工作时: only time inside the work windows counts
	WorkDays    = worktime.WorkDays    // 工作日
	NaturalDays = worktime.NaturalDays // 自然日
)

// Limit is a time limit: Value units, plus Minutes for the hour units.
type Limit = worktime.Limit

// Category is one small class (小类).
type Category struct {
	// Code is the type's prefix letter, the 大类's two digits and the 小类's two digits:
	// "E0101" (event 市容环境/暴露垃圾), "C0101" (component 公用设施/上水井盖).
	Code      string
	Type      Type
	MajorCode string // 大类 code, two digits ("01")
	MajorName string // 大类 name ("市容环境")
	Name      string // 小类 name ("暴露垃圾")

	FilingCondition  string // 立案条件: when a report of this class is filed
	ClosingCondition string // 结案条件: what must be true to close it

	// DefaultDepartment is the code of the department that owns this class of problem (责任主体),
	// "" when none: dispatch falls back to it after (events) or before (components) the grid's
	// responsibility list.
	DefaultDepartment string

	NormalLimit Limit // 处置时限 for an ordinary case
	UrgentLimit Limit // 处置时限 for an urgent one

	CheckRequired     bool // an on-site check (核查) by a grid worker is required before closing
	SelfHandleAllowed bool // a grid worker may fix it on the spot and report it closed (自行处置)
	Active            bool // inactive classes stay on old cases but take no new reports
	Keywords          []string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// LimitFor returns the handling time limit for an urgency (the normal one when no urgent one
// is set).
func (c Category) LimitFor(u Urgency) Limit {
	if u == Urgent && c.UrgentLimit != (Limit{}) {
		return c.UrgentLimit
	}
	return c.NormalLimit
}

var (
	codePattern      = regexp.MustCompile(`^[CE][0-9]{2}[0-9]{2}$`)
	majorPattern     = regexp.MustCompile(`^[0-9]{2}$`)
	departmentPatten = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// Limits on text fields, in characters.
const (
	maxName      = 64
	maxCondition = 1000
	maxKeywords  = 32
	maxKeyword   = 32
)

// Validate checks a class and returns an errs.Invalid error naming every bad field.
func (c Category) Validate() error {
	var f errs.Fields
	switch {
	case c.Code == "":
		f.Required("code", true)
	case !codePattern.MatchString(c.Code):
		f.Add("code", "format", "code must be C or E, the 大类's two digits and the 小类's two digits, e.g. E0101")
	}
	if !c.Type.Valid() {
		f.Add("type", "enum", "type must be component or event")
	} else if codePattern.MatchString(c.Code) && c.Code[:1] != c.Type.Prefix() {
		f.Add("code", "prefix", "a %s's code starts with %s", c.Type, c.Type.Prefix())
	}
	if !majorPattern.MatchString(c.MajorCode) {
		f.Add("major_code", "format", "major_code must be two digits")
	} else if codePattern.MatchString(c.Code) && c.Code[1:3] != c.MajorCode {
		f.Add("major_code", "match", "major_code must be the code's digits 2–3 (%s)", c.Code[1:3])
	}
	checkText(&f, "major_name", c.MajorName, maxName, true)
	checkText(&f, "name", c.Name, maxName, true)
	checkText(&f, "filing_condition", c.FilingCondition, maxCondition, false)
	checkText(&f, "closing_condition", c.ClosingCondition, maxCondition, false)
	if c.DefaultDepartment != "" && !departmentPatten.MatchString(c.DefaultDepartment) {
		f.Add("default_department", "format", "default_department must be a department code")
	}
	checkLimit(&f, "normal_limit", c.NormalLimit, true)
	checkLimit(&f, "urgent_limit", c.UrgentLimit, false)
	if len(c.Keywords) > maxKeywords {
		f.Add("keywords", "max", "at most %d keywords", maxKeywords)
	}
	for _, k := range c.Keywords {
		if strings.TrimSpace(k) == "" || len([]rune(k)) > maxKeyword || strings.ContainsAny(k, ",\n") {
			f.Add("keywords", "format", "a keyword is 1–%d characters without commas or line breaks", maxKeyword)
			break
		}
	}
	return f.Err()
}

func checkText(f *errs.Fields, field, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		f.Required(field, true)
	case len([]rune(v)) > max:
		f.Add(field, "max", "%s must be at most %d characters", field, max)
	}
}

func checkLimit(f *errs.Fields, field string, l Limit, required bool) {
	if l == (Limit{}) && !required {
		return
	}
	if e, ok := errs.As(l.Validate()); ok {
		for _, fe := range e.Fields {
			f.Add(field+"."+fe.Field, fe.Rule, "%s", fe.Message)
		}
	}
}

// Normalize trims text and drops empty and repeated keywords.
func (c *Category) Normalize() {
	c.Code = strings.ToUpper(strings.TrimSpace(c.Code))
	c.MajorCode = strings.TrimSpace(c.MajorCode)
	c.MajorName = strings.TrimSpace(c.MajorName)
	c.Name = strings.TrimSpace(c.Name)
	c.FilingCondition = strings.TrimSpace(c.FilingCondition)
	c.ClosingCondition = strings.TrimSpace(c.ClosingCondition)
	c.DefaultDepartment = strings.TrimSpace(c.DefaultDepartment)
	var kw []string
	for _, k := range c.Keywords {
		k = strings.TrimSpace(k)
		if k != "" && !slices.Contains(kw, k) {
			kw = append(kw, k)
		}
	}
	c.Keywords = kw
}

// Major is a 大类 with its small classes, for the tree view.
type Major struct {
	Type       Type
	Code       string
	Name       string
	Categories []Category
}

// Tree groups classes (sorted by code) into their 大类, components first.
func Tree(cats []Category) []Major {
	sorted := slices.Clone(cats)
	slices.SortFunc(sorted, func(a, b Category) int { return strings.Compare(a.Code, b.Code) })
	var out []Major
	for _, c := range sorted {
		if n := len(out); n > 0 && out[n-1].Type == c.Type && out[n-1].Code == c.MajorCode {
			out[n-1].Categories = append(out[n-1].Categories, c)
			continue
		}
		out = append(out, Major{Type: c.Type, Code: c.MajorCode, Name: c.MajorName, Categories: []Category{c}})
	}
	return out
}

// Filter narrows a listing.
type Filter struct {
	Type       Type   // "" for both
	ActiveOnly bool   // only classes that take new reports
	Query      string // a substring of the name, the 大类 name, the code or a keyword
}

// Store keeps the classes; *store.Store implements it.
type Store interface {
	CreateCategory(ctx context.Context, c *Category) error
	// Category returns one class by code; NotFound when none.
	Category(ctx context.Context, code string) (Category, error)
	// ListCategories returns the classes matching f, sorted by code.
	ListCategories(ctx context.Context, f Filter) ([]Category, error)
	// UpdateCategory loads a class under a row lock, applies fn and saves the result.
	UpdateCategory(ctx context.Context, code string, fn func(*Category) error) (Category, error)
}

// Departments finds a department by code (errs.NotFound when none), so that a class cannot name
// a department that is not there. *identity.Service implements it.
type Departments interface {
	DepartmentByCode(ctx context.Context, code string) (identity.Department, error)
}
