package category_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
)

func TestCatalogueIsValid(t *testing.T) {
	cats := category.Catalogue()
	if len(cats) < 50 {
		t.Fatalf("catalogue has %d classes, want a realistic few per 大类", len(cats))
	}
	depts := map[string]bool{}
	for _, d := range category.DepartmentCodes() {
		depts[d[0]] = true
	}
	seen := map[string]bool{}
	majors := map[string]bool{}
	for _, c := range cats {
		if err := c.Validate(); err != nil {
			t.Errorf("%s %s: %v", c.Code, c.Name, err)
		}
		if seen[c.Code] {
			t.Errorf("%s twice", c.Code)
		}
		seen[c.Code] = true
		majors[c.Code[:3]] = true
		if !depts[c.DefaultDepartment] {
			t.Errorf("%s names department %q that DepartmentCodes does not list", c.Code, c.DefaultDepartment)
		}
		if c.FilingCondition == "" || c.ClosingCondition == "" {
			t.Errorf("%s lacks a filing or closing condition", c.Code)
		}
	}
	for _, m := range []string{"C01", "C02", "C03", "C04", "C05", "E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10"} {
		if !majors[m] {
			t.Errorf("大类 %s has no class", m)
		}
	}
	byName := map[string]category.Category{}
	for _, c := range cats {
		byName[c.Name] = c
	}
	for name, want := range map[string]category.Limit{
		"暴露垃圾": {Value: 1, Unit: category.WorkDays},
		"违法建设": {Value: 15, Unit: category.WorkDays},
	} {
		if got := byName[name].NormalLimit; got != want {
			t.Errorf("%s limit %v, want %v", name, got, want)
		}
	}
	if got := byName["上水井盖"].LimitFor(category.Urgent); got != (category.Limit{Value: 2, Unit: category.UrgentHours}) {
		t.Errorf("missing manhole cover, urgent: %v", got)
	}
	// A fresh copy each call: callers may change what they get.
	cats[0].Keywords[0] = "changed"
	if category.Catalogue()[0].Keywords[0] == "changed" {
		t.Error("Catalogue shares its slices")
	}
}

func TestValidate(t *testing.T) {
	good := category.Category{Code: "E0101", Type: category.Event, MajorCode: "01", MajorName: "市容环境", Name: "暴露垃圾",
		NormalLimit: category.Limit{Value: 1, Unit: category.WorkDays}}
	tests := []struct {
		name   string
		change func(*category.Category)
		fields []string
	}{
		{"valid", func(*category.Category) {}, nil},
		{"bad code", func(c *category.Category) { c.Code = "X0101" }, []string{"code"}},
		{"prefix does not match type", func(c *category.Category) { c.Type = category.Component }, []string{"code"}},
		{"major does not match code", func(c *category.Category) { c.MajorCode = "02" }, []string{"major_code"}},
		{"no name", func(c *category.Category) { c.Name = " " }, []string{"name"}},
		{"no limit", func(c *category.Category) { c.NormalLimit = category.Limit{} }, []string{"normal_limit.unit", "normal_limit.value"}},
		{"bad unit", func(c *category.Category) { c.UrgentLimit = category.Limit{Value: 2, Unit: "minutes"} }, []string{"urgent_limit.unit"}},
		{"huge limit", func(c *category.Category) { c.NormalLimit.Value = 1000 }, []string{"normal_limit.value"}},
		{"bad department", func(c *category.Category) { c.DefaultDepartment = "城管 局" }, []string{"default_department"}},
		{"bad keyword", func(c *category.Category) { c.Keywords = []string{"a,b"} }, []string{"keywords"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Validate()
			var got []string
			if e, ok := errs.As(err); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			}
			if !slices.Equal(got, tt.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestTree(t *testing.T) {
	tree := category.Tree(category.Catalogue())
	if tree[0].Type != category.Component || tree[0].Code != "01" || tree[0].Name != "公用设施" {
		t.Fatalf("first 大类 %+v", tree[0])
	}
	n := 0
	for _, m := range tree {
		for _, c := range m.Categories {
			if c.MajorCode != m.Code || c.Type != m.Type || !strings.HasPrefix(c.Code[1:], m.Code) {
				t.Errorf("%s filed under %s %s", c.Code, m.Type, m.Code)
			}
			n++
		}
	}
	if len(tree) != 15 || n != len(category.Catalogue()) {
		t.Fatalf("%d 大类, %d classes", len(tree), n)
	}
}
