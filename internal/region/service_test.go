package region_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

var admin = identity.Principal{UserID: 1, Username: "admin", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}

// longAgo is the valid_from of the fixture regions, so that tests may retire them "now".
var longAgo = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func newService(t testing.TB, s *store.Store) *region.Service {
	t.Helper()
	svc, err := region.NewService(context.Background(), s, region.Config{})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return svc
}

// square is a GeoJSON Polygon of the box [lng0, lng1] × [lat0, lat1].
func square(lng0, lat0, lng1, lat1 float64) []byte {
	return fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]}`, lng0, lat0, lng1, lat1)
}

func mustCreate(t testing.TB, svc *region.Service, d region.Draft) region.Region {
	t.Helper()
	if d.ValidFrom == nil {
		d.ValidFrom = &longAgo
	}
	r, err := svc.Create(context.Background(), admin, d)
	if err != nil {
		t.Fatalf("create %s: %v", d.Code, err)
	}
	return r
}

// fixture builds Nantong-like regions:
//
//	city 320600        [120.0, 121.0] × [31.5, 32.5]
//	district 320613    [120.5, 121.0] × [31.5, 32.5]
//	street 320613001   [120.8, 120.9] × [32.0, 32.1]
//	community …001001  [120.80, 120.84] × [32.00, 32.02]
//	grid …001001001    [120.80, 120.81] × [32.00, 32.01]
//	grid …001001002    [120.81, 120.82] × [32.00, 32.01]  (shares the edge lng = 120.81)
func fixture(t testing.TB, svc *region.Service) {
	t.Helper()
	mustCreate(t, svc, region.Draft{Code: "320600", Name: "南通市", Level: region.LevelCity, Boundary: square(120.0, 31.5, 121.0, 32.5)})
	mustCreate(t, svc, region.Draft{Code: "320613", Name: "崇川区", Level: region.LevelDistrict, ParentCode: "320600", Boundary: square(120.5, 31.5, 121.0, 32.5)})
	mustCreate(t, svc, region.Draft{Code: "320613001", Name: "和平桥街道", Level: region.LevelStreet, ParentCode: "320613", Boundary: square(120.8, 32.0, 120.9, 32.1)})
	mustCreate(t, svc, region.Draft{Code: "320613001001", Name: "桃坞路社区", Level: region.LevelCommunity, ParentCode: "320613001", Boundary: square(120.80, 32.00, 120.84, 32.02)})
	mustCreate(t, svc, region.Draft{Code: "320613001001001", Name: "第一网格", Level: region.LevelGrid, ParentCode: "320613001001", Boundary: square(120.80, 32.00, 120.81, 32.01)})
	mustCreate(t, svc, region.Draft{Code: "320613001001002", Name: "第二网格", Level: region.LevelGrid, ParentCode: "320613001001", Boundary: square(120.81, 32.00, 120.82, 32.01)})
}

func fieldRules(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+":"+f.Rule)
	}
	return out
}

func TestCreateValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := newService(t, s)
		fixture(t, svc)
		tests := []struct {
			name string
			d    region.Draft
			want string // field:rule of the first error, or a code
		}{
			{"letters in code", region.Draft{Code: "32061300A", Name: "x", Level: region.LevelStreet, ParentCode: "320613"}, "code:digits"},
			{"street code too short", region.Draft{Code: "32061300", Name: "x", Level: region.LevelStreet, ParentCode: "320613"}, "code:length"},
			{"street not under its district", region.Draft{Code: "320612001", Name: "x", Level: region.LevelStreet, ParentCode: "320613"}, "code:nesting"},
			{"district of another city", region.Draft{Code: "320513", Name: "x", Level: region.LevelDistrict, ParentCode: "320600"}, "code:nesting"},
			{"grid under a street", region.Draft{Code: "320613001009", Name: "x", Level: region.LevelGrid, ParentCode: "320613001"}, "code:length"},
			{"community under a district", region.Draft{Code: "320613001002", Name: "x", Level: region.LevelCommunity, ParentCode: "320613"}, "parent_code:level"},
			{"missing parent", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320699"}, "parent_code:exists"},
			{"street without parent", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet}, "parent_code:required"},
			{"city with parent", region.Draft{Code: "320500", Name: "x", Level: region.LevelCity, ParentCode: "320600"}, "parent_code:none"},
			{"no name", region.Draft{Code: "320613002", Name: "  ", Level: region.LevelStreet, ParentCode: "320613"}, "name:required"},
			{"bad level", region.Draft{Code: "320613002", Name: "x", Level: "village", ParentCode: "320613"}, "level:enum"},
			{"unclosed boundary", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320613",
				Boundary: []byte(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32],[120.1,32.1],[120,32.1]]]}`)}, "boundary.coordinates[0]:closed"},
			{"self-intersecting boundary", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320613",
				Boundary: []byte(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}`)}, "boundary.coordinates[0]:self_intersection"},
			{"bad coord_sys", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320613", CoordSys: "utm", Boundary: square(120.8, 32.2, 120.9, 32.3)}, "coord_sys:enum"},
			{"retired before it began", region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320613", ValidTo: &longAgo}, "valid_to:after"},
			{"duplicate code", region.Draft{Code: "320613001", Name: "x", Level: region.LevelStreet, ParentCode: "320613"}, string(errs.Conflict)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.Create(context.Background(), admin, tt.d)
				if err == nil {
					t.Fatal("created")
				}
				if errs.CodeOf(err) == errs.Conflict {
					if tt.want != string(errs.Conflict) {
						t.Fatalf("conflict: %v", err)
					}
					return
				}
				if got := fieldRules(err); len(got) == 0 || got[0] != tt.want {
					t.Fatalf("errors %v, want %s first (%v)", got, tt.want, err)
				}
			})
		}
		if _, err := svc.Create(context.Background(), identity.Principal{Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeAll}},
			region.Draft{Code: "320613002", Name: "x", Level: region.LevelStreet, ParentCode: "320613"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("dispatcher created a region: %v", err)
		}
	})
}

func TestGetListTreeAndPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		fixture(t, svc)

		d, err := svc.Get(ctx, "320613001001002")
		if err != nil {
			t.Fatal(err)
		}
		if d.Path != "/320600/320613/320613001/320613001001/320613001001002/" || d.Boundary == nil || d.Bound == nil || d.Center == nil {
			t.Fatalf("detail %+v", d.Region)
		}
		if len(d.Ancestors) != 4 || d.Ancestors[0].Code != "320600" || d.Ancestors[3].Name != "桃坞路社区" {
			t.Fatalf("ancestors %+v", d.Ancestors)
		}
		if c := d.Center; c.Lng < 120.81 || c.Lng > 120.82 || c.Lat < 32.00 || c.Lat > 32.01 {
			t.Fatalf("center %+v outside the grid", c)
		}
		if _, err := svc.Get(ctx, "320613009"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown region: %v", err)
		}
		if p, err := svc.RegionPath(ctx, "320613001"); err != nil || p != "/320600/320613/320613001/" {
			t.Fatalf("RegionPath = %q, %v", p, err)
		}
		if _, err := svc.RegionPath(ctx, "999999"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("RegionPath of unknown: %v", err)
		}

		roots, err := svc.List(ctx, region.ListQuery{})
		if err != nil || len(roots.Regions) != 1 || roots.Regions[0].Code != "320600" || roots.Regions[0].Boundary != nil {
			t.Fatalf("roots %+v %v", roots, err)
		}
		kids, err := svc.Children(ctx, "320613001001", false)
		if err != nil || len(kids) != 2 || kids[0].Code != "320613001001001" {
			t.Fatalf("children %+v %v", kids, err)
		}
		grids, err := svc.List(ctx, region.ListQuery{Parent: "320613", Level: region.LevelGrid, Limit: 1})
		if err != nil || len(grids.Regions) != 1 || grids.Next != "320613001001001" {
			t.Fatalf("grids page 1 %+v %v", grids, err)
		}
		grids, err = svc.List(ctx, region.ListQuery{Parent: "320613", Level: region.LevelGrid, Limit: 1, After: grids.Next, WithBoundary: true})
		if err != nil || len(grids.Regions) != 1 || grids.Regions[0].Code != "320613001001002" || grids.Regions[0].Boundary == nil {
			t.Fatalf("grids page 2 %+v %v", grids, err)
		}
		byName, err := svc.List(ctx, region.ListQuery{Q: "网格"})
		if err != nil || len(byName.Regions) != 2 {
			t.Fatalf("name search %+v %v", byName, err)
		}
		if _, err := svc.List(ctx, region.ListQuery{Q: "%"}); err != nil {
			t.Fatalf("a LIKE wildcard in q: %v", err)
		}
		if _, err := svc.List(ctx, region.ListQuery{Level: "village"}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("bad level: %v", err)
		}
		if _, err := svc.List(ctx, region.ListQuery{Parent: "320699"}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown parent: %v", err)
		}

		sub, err := svc.Subtree(ctx, "320613", region.LevelGrid, false)
		if err != nil || len(sub) != 2 || sub[1].Code != "320613001001002" {
			t.Fatalf("grids of the district: %+v %v", sub, err)
		}
		if _, err := svc.Subtree(ctx, "320699", region.LevelGrid, false); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("subtree of an unknown region: %v", err)
		}

		tree, err := svc.Tree(ctx, "320613", 3, false)
		if err != nil || len(tree) != 1 || tree[0].Code != "320613" {
			t.Fatalf("tree %+v %v", tree, err)
		}
		if c := tree[0].Children; len(c) != 1 || len(c[0].Children) != 1 || len(c[0].Children[0].Children) != 2 {
			t.Fatalf("tree shape %+v", tree[0])
		}
		whole, err := svc.Tree(ctx, "", 1, false)
		if err != nil || len(whole) != 1 || len(whole[0].Children) != 1 || whole[0].Children[0].Children != nil {
			t.Fatalf("whole tree at depth 1: %+v %v", whole, err)
		}
	})
}

func point(lat, lng float64) geo.Point { return geo.Point{Lat: lat, Lng: lng} }

func TestLocate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		fixture(t, svc)
		// A MultiPolygon street made of two separate blocks, and a community with a hole.
		mustCreate(t, svc, region.Draft{Code: "320613002", Name: "两块街道", Level: region.LevelStreet, ParentCode: "320613",
			Boundary: []byte(`{"type":"MultiPolygon","coordinates":[[[[120.6,31.6],[120.7,31.6],[120.7,31.7],[120.6,31.7],[120.6,31.6]]],[[[120.6,31.9],[120.7,31.9],[120.7,32.0],[120.6,32.0],[120.6,31.9]]]]}`)})
		mustCreate(t, svc, region.Draft{Code: "320613001002", Name: "回字社区", Level: region.LevelCommunity, ParentCode: "320613001",
			Boundary: []byte(`{"type":"Polygon","coordinates":[[[120.85,32.05],[120.89,32.05],[120.89,32.09],[120.85,32.09],[120.85,32.05]],[[120.86,32.06],[120.86,32.08],[120.88,32.08],[120.88,32.06],[120.86,32.06]]]}`)})

		tests := []struct {
			name string
			p    geo.Point
			cs   geo.CoordSys
			want string // "" = NotFound
		}{
			{"inside grid one", point(32.005, 120.805), geo.WGS84, "320613001001001"},
			{"inside grid two", point(32.005, 120.815), geo.WGS84, "320613001001002"},
			{"on the shared edge: smaller code wins", point(32.005, 120.81), geo.WGS84, "320613001001001"},
			{"on the shared corner", point(32.00, 120.81), geo.WGS84, "320613001001001"},
			{"in the community, no grid", point(32.015, 120.83), geo.WGS84, "320613001001"},
			{"in the street only", point(32.05, 120.82), geo.WGS84, "320613001"},
			{"second block of a multipolygon", point(31.95, 120.65), geo.WGS84, "320613002"},
			{"in the hole of a community", point(32.07, 120.87), geo.WGS84, "320613001"},
			{"on the edge of the hole", point(32.07, 120.86), geo.WGS84, "320613001002"},
			{"in the ring of a community", point(32.055, 120.87), geo.WGS84, "320613001002"},
			{"in the city only", point(32.0, 120.2), geo.WGS84, "320600"},
			{"outside everything", point(39.9, 116.4), geo.WGS84, ""},
			{"gcj02 input of a grid-two point", geo.FromWGS84(point(32.005, 120.815), geo.GCJ02), geo.GCJ02, "320613001001002"},
			{"bd09 input of a grid-one point", geo.FromWGS84(point(32.005, 120.805), geo.BD09), geo.BD09, "320613001001001"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				loc, err := svc.LocateAs(ctx, tt.p, tt.cs)
				if tt.want == "" {
					if errs.CodeOf(err) != errs.NotFound {
						t.Fatalf("want NotFound, got %+v %v", loc.Region, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if loc.Region.Code != tt.want {
					t.Fatalf("located in %s, want %s", loc.Region.Code, tt.want)
				}
				if n := len(loc.Ancestors); n != loc.Region.Level.Depth()-1 || (n > 0 && loc.Ancestors[0].Code != "320600") {
					t.Fatalf("ancestors %+v", loc.Ancestors)
				}
				if loc.CoordSys != tt.cs || loc.Input != tt.p {
					t.Fatalf("input not kept: %+v", loc)
				}
			})
		}
		// The raw GCJ-02 numbers of a point near the shared edge are in the other grid: the
		// conversion is what puts it right.
		raw := geo.FromWGS84(point(32.005, 120.8097), geo.GCJ02)
		if loc, _ := svc.Locate(ctx, raw); loc.Region.Code == "320613001001001" {
			t.Fatalf("GCJ-02 offset too small to test: %+v", raw)
		}
		loc, err := svc.LocateAs(ctx, raw, geo.GCJ02)
		if err != nil || loc.Region.Code != "320613001001001" || loc.GridCode() != "320613001001001" {
			t.Fatalf("gcj02 near the edge: %+v %v", loc.Region, err)
		}
		if st, ok := loc.At(region.LevelStreet); !ok || st.Code != "320613001" {
			t.Fatalf("At(street) = %+v", st)
		}
		if _, err := svc.Locate(ctx, point(91, 120)); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("out of range: %v", err)
		}

		// Retiring grid one hands its points to the community.
		past := time.Now().Add(-time.Minute)
		if _, err := svc.Update(ctx, admin, "320613001001001", region.Update{SetValidTo: true, ValidTo: &past}); err != nil {
			t.Fatal(err)
		}
		if loc, err := svc.Locate(ctx, point(32.005, 120.805)); err != nil || loc.Region.Code != "320613001001" {
			t.Fatalf("retired grid still located: %+v %v", loc.Region, err)
		}
		if loc, err := svc.Locate(ctx, point(32.005, 120.81)); err != nil || loc.Region.Code != "320613001001002" {
			t.Fatalf("shared edge after retirement: %+v %v", loc.Region, err)
		}
		// A planned retirement takes effect at its time without a reload.
		soon := time.Now().Add(300 * time.Millisecond)
		if _, err := svc.Update(ctx, admin, "320613001001002", region.Update{SetValidTo: true, ValidTo: &soon}); err != nil {
			t.Fatal(err)
		}
		if loc, _ := svc.Locate(ctx, point(32.005, 120.815)); loc.Region.Code != "320613001001002" {
			t.Fatalf("grid retired early: %+v", loc.Region)
		}
		time.Sleep(time.Until(soon) + 10*time.Millisecond)
		if loc, _ := svc.Locate(ctx, point(32.005, 120.815)); loc.Region.Code != "320613001001" {
			t.Fatalf("grid not retired on time: %+v", loc.Region)
		}
	})
}

func TestRetireCascadesAndRestore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		fixture(t, svc)
		merged := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		if _, err := svc.Update(ctx, admin, "320613001", region.Update{SetValidTo: true, ValidTo: &merged}); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"320613001", "320613001001", "320613001001002"} {
			d, err := svc.Get(ctx, code)
			if err != nil || d.ValidTo == nil || !d.ValidTo.Equal(merged) {
				t.Fatalf("%s not retired with its street: %+v %v", code, d.ValidTo, err)
			}
		}
		if d, _ := svc.Get(ctx, "320613"); d.ValidTo != nil {
			t.Fatal("the district was retired too")
		}
		if p, _ := svc.List(ctx, region.ListQuery{Parent: "320613"}); len(p.Regions) != 0 {
			t.Fatalf("retired street listed: %+v", p.Regions)
		}
		if p, _ := svc.List(ctx, region.ListQuery{Parent: "320613", IncludeRetired: true}); len(p.Regions) != 1 {
			t.Fatalf("include_retired: %+v", p.Regions)
		}
		if loc, err := svc.Locate(ctx, point(32.005, 120.805)); err != nil || loc.Region.Code != "320613" {
			t.Fatalf("located in a retired subtree: %+v %v", loc.Region, err)
		}
		// A child cannot come back before its parent.
		if _, err := svc.Update(ctx, admin, "320613001001", region.Update{SetValidTo: true}); fmt.Sprint(fieldRules(err)) != "[valid_to:parent_retired]" {
			t.Fatalf("restored under a retired parent: %v", err)
		}
		if _, err := svc.Update(ctx, admin, "320613001", region.Update{SetValidTo: true}); err != nil {
			t.Fatal(err)
		}
		if d, _ := svc.Get(ctx, "320613001"); d.ValidTo != nil {
			t.Fatal("street not restored")
		}
		name := "新名字"
		r, err := svc.Update(ctx, admin, "320613001", region.Update{Name: &name, SetBoundary: true})
		if err != nil || r.Name != name || r.Boundary != nil || r.Bound != nil {
			t.Fatalf("rename and drop boundary: %+v %v", r, err)
		}
		if _, err := svc.Update(ctx, admin, "320613001", region.Update{SetBoundary: true, Boundary: []byte(`{"type":"Point","coordinates":[1,2]}`)}); fmt.Sprint(fieldRules(err)) != "[boundary.type:type]" {
			t.Fatalf("point boundary: %v", err)
		}
		if _, err := svc.Update(ctx, admin, "320613999", region.Update{Name: &name}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown region: %v", err)
		}
	})
}

// featureJSON builds one import feature; geometry may be "" for none.
func featureJSON(code, name, level, parent, geometry string) string {
	props := map[string]any{"code": code, "name": name}
	if level != "" {
		props["level"] = level
	}
	if parent != "" {
		props["parent_code"] = parent
	}
	p, _ := json.Marshal(props)
	if geometry == "" {
		geometry = "null"
	}
	return fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, p, geometry)
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		mustCreate(t, svc, region.Draft{Code: "320600", Name: "南通市", Level: region.LevelCity, Boundary: square(120.0, 31.5, 121.0, 32.5)})
		file := collection(
			// Children before their parents.
			featureJSON("320613001001001", "第一网格", "grid", "320613001001", string(square(120.80, 32.00, 120.81, 32.01))),
			featureJSON("320613001001", "桃坞路社区", "community", "320613001", string(square(120.80, 32.00, 120.84, 32.02))),
			featureJSON("320613001", "和平桥街道", "street", "320613", ""),
			featureJSON("320613", "崇川区", "district", "320600", string(square(120.5, 31.5, 121.0, 32.5))),
			// Invalid: self-intersecting, its child, a missing parent, a bad code, a duplicate.
			featureJSON("320613002", "坏街道", "street", "320613", `{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}`),
			featureJSON("320613002001", "坏街道的社区", "community", "320613002", ""),
			featureJSON("320699001", "无主街道", "street", "320699", ""),
			featureJSON("32061300X", "坏代码", "street", "320613", ""),
			featureJSON("320613001", "重复", "street", "320613", ""),
			// Level and parent read from the code.
			`{"type":"Feature","id":"320613001002","properties":{"name":"推断社区"},"geometry":null}`,
			`"not a feature"`,
		)
		var stages []string
		rep, err := svc.Import(ctx, admin, strings.NewReader(file), region.ImportOptions{Progress: func(stage string, done, total int) {
			stages = append(stages, fmt.Sprintf("%s %d/%d", stage, done, total))
		}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 11 || rep.Created != 5 || rep.Invalid != 6 || rep.Updated != 0 || rep.Unchanged != 0 {
			t.Fatalf("report %+v", rep)
		}
		want := map[int]string{
			0: "created", 1: "created", 2: "created", 3: "created",
			4:  "invalid geometry.coordinates[0]:self_intersection",
			5:  "invalid parent_code:exists",
			6:  "invalid parent_code:exists",
			7:  "invalid code:digits",
			8:  "invalid code:unique",
			9:  "created",
			10: "invalid type:feature",
		}
		for i, w := range want {
			fr := rep.Features[i]
			got := string(fr.Status)
			if len(fr.Errors) > 0 {
				got += " " + fr.Errors[0].Field + ":" + fr.Errors[0].Rule
			}
			if got != w || fr.Index != i {
				t.Errorf("feature %d (%s): %s, want %s %v", i, fr.Code, got, w, fr.Errors)
			}
		}
		if !strings.Contains(rep.Features[5].Errors[0].Message, "feature 4") {
			t.Errorf("child of an invalid feature: %s", rep.Features[5].Errors[0].Message)
		}
		if len(stages) == 0 || stages[len(stages)-1] != "saving 5/5" {
			t.Errorf("progress %v", stages)
		}
		if d, err := svc.Get(ctx, "320613001002"); err != nil || d.Level != region.LevelCommunity || d.ParentCode != "320613001" {
			t.Fatalf("inferred feature: %+v %v", d.Region, err)
		}
		if loc, err := svc.Locate(ctx, point(32.005, 120.805)); err != nil || loc.Region.Code != "320613001001001" {
			t.Fatalf("imported grid not located: %+v %v", loc.Region, err)
		}

		// Again: nothing changes; then one rename and a retirement.
		rep, err = svc.Import(ctx, admin, strings.NewReader(file), region.ImportOptions{})
		if err != nil || rep.Unchanged != 5 || rep.Created != 0 || rep.Updated != 0 {
			t.Fatalf("second import %+v %v", rep, err)
		}
		before, _ := s.Counter(ctx, region.CounterName)
		again := collection(
			featureJSON("320613001001001", "第一网格（新）", "grid", "320613001001", string(square(120.80, 32.00, 120.81, 32.01))),
			`{"type":"Feature","properties":{"code":"320613001002","name":"推断社区","valid_from":"2020-01-01","valid_to":"2024-06-30"},"geometry":null}`,
		)
		rep, err = svc.Import(ctx, admin, strings.NewReader(again), region.ImportOptions{DryRun: true})
		if err != nil || rep.Updated != 2 || !rep.DryRun {
			t.Fatalf("dry run %+v %v", rep, err)
		}
		if after, _ := s.Counter(ctx, region.CounterName); after != before {
			t.Fatal("a dry run wrote")
		}
		rep, err = svc.Import(ctx, admin, strings.NewReader(again), region.ImportOptions{})
		if err != nil || rep.Updated != 2 {
			t.Fatalf("update import %+v %v", rep, err)
		}
		if d, _ := svc.Get(ctx, "320613001001001"); d.Name != "第一网格（新）" {
			t.Fatalf("not renamed: %s", d.Name)
		}
		if d, _ := svc.Get(ctx, "320613001002"); d.ValidTo == nil || d.ValidTo.Format(time.RFC3339) != "2024-06-29T16:00:00Z" {
			t.Fatalf("not retired at midnight China time: %v", d.ValidTo)
		}
		// Re-importing the first file does not bring the retired community back.
		rep, err = svc.Import(ctx, admin, strings.NewReader(file), region.ImportOptions{})
		if err != nil || rep.Features[9].Status != region.ImportUnchanged {
			t.Fatalf("re-import of a retired region: %+v %v", rep.Features[9], err)
		}

		for name, body := range map[string]string{
			"not a collection": `{"type":"Feature","properties":{}}`,
			"an array":         `[1,2]`,
			"no features":      `{"type":"FeatureCollection"}`,
		} {
			if _, err := svc.Import(ctx, admin, strings.NewReader(body), region.ImportOptions{}); errs.CodeOf(err) != errs.Invalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := svc.Import(ctx, admin, strings.NewReader(`{"type":`), region.ImportOptions{}); errs.CodeOf(err) != errs.BadRequest {
			t.Errorf("truncated JSON: %v", err)
		}
		if _, err := svc.Import(ctx, identity.Principal{Role: identity.RoleSupervisor}, strings.NewReader(file), region.ImportOptions{}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("supervisor import: %v", err)
		}
	})
}

// Two replicas on one PostgreSQL database: a write through one is located by the other after
// its refresh.
func TestRefreshAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t, store.Postgres)
	open := func() *store.Store {
		s, err := store.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := newService(t, open()), newService(t, open())
	fixture(t, a)
	if _, err := b.Locate(ctx, point(32.005, 120.805)); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("replica b located before refreshing: %v", err)
	}
	if loc, err := a.Locate(ctx, point(32.005, 120.805)); err != nil || loc.Region.Code != "320613001001001" {
		t.Fatalf("the writing replica did not reload: %+v %v", loc.Region, err)
	}
	changed, err := b.Refresh(ctx)
	if err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if loc, err := b.Locate(ctx, point(32.005, 120.805)); err != nil || loc.Region.Code != "320613001001001" {
		t.Fatalf("replica b after refresh: %+v %v", loc.Region, err)
	}
	if changed, err := b.Refresh(ctx); err != nil || changed {
		t.Fatalf("second refresh reloaded: %v %v", changed, err)
	}
	// Watch picks up the next change by itself.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go b.Watch(wctx, 20*time.Millisecond)
	past := time.Now().Add(-time.Second)
	if _, err := a.Update(ctx, admin, "320613001001001", region.Update{SetValidTo: true, ValidTo: &past}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		loc, err := b.Locate(ctx, point(32.005, 120.805))
		if err == nil && loc.Region.Code == "320613001001" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch did not reload: %+v %v", loc.Region, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
