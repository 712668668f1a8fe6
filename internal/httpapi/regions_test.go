package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/geo"
)

// rgProblem is the part of a problem document the region tests look at.
type rgProblem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field string `json:"field"`
		Rule  string `json:"rule"`
	} `json:"errors"`
}

func (p rgProblem) first() string {
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field + ":" + p.Errors[0].Rule
}

func rgSquare(lng0, lat0, lng1, lat1 float64) json.RawMessage {
	return fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]}`, lng0, lat0, lng1, lat1)
}

func rgFeature(code, name, level, parent string, geometry json.RawMessage) map[string]any {
	props := map[string]any{"code": code, "name": name, "level": level}
	if parent != "" {
		props["parent_code"] = parent
	}
	var g any
	if geometry != nil {
		g = geometry
	}
	return map[string]any{"type": "Feature", "properties": props, "geometry": g}
}

// rgSeed creates a city, a district, a street, a community and two grids sharing an edge at
// lng 120.81 through the API, as admin.
func rgSeed(t *testing.T, e *apptest.Env, admin string) {
	t.Helper()
	for _, r := range []map[string]any{
		{"code": "320600", "name": "南通市", "level": "city", "boundary": rgSquare(120.0, 31.5, 121.0, 32.5)},
		{"code": "320613", "name": "崇川区", "level": "district", "parent_code": "320600", "boundary": rgSquare(120.5, 31.5, 121.0, 32.5)},
		{"code": "320613001", "name": "和平桥街道", "level": "street", "parent_code": "320613", "boundary": rgSquare(120.8, 32.0, 120.9, 32.1)},
		{"code": "320613001001", "name": "桃坞路社区", "level": "community", "parent_code": "320613001", "boundary": rgSquare(120.80, 32.00, 120.84, 32.02)},
		{"code": "320613001001001", "name": "第一网格", "level": "grid", "parent_code": "320613001001", "boundary": rgSquare(120.80, 32.00, 120.81, 32.01)},
		{"code": "320613001001002", "name": "第二网格", "level": "grid", "parent_code": "320613001001", "boundary": rgSquare(120.81, 32.00, 120.82, 32.01)},
	} {
		r["valid_from"] = "2020-01-01T00:00:00Z"
		e.Post("/api/v1/regions", admin, r).MustStatus(t, http.StatusCreated)
	}
}

func TestRegionsCreateListTreeGet(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		rgSeed(t, e, admin)

		var created struct {
			Code     string    `json:"code"`
			Path     string    `json:"path"`
			BBox     []float64 `json:"bbox"`
			CoordSys string    `json:"coord_sys"`
		}
		res := e.Post("/api/v1/regions", admin, map[string]any{"code": "320613002", "name": "文峰街道", "level": "street", "parent_code": "320613",
			"coord_sys": "gcj02", "boundary": rgSquare(120.90, 32.0, 120.95, 32.05), "valid_from": "2020-06-01T00:00:00+08:00"}).MustStatus(t, http.StatusCreated)
		res.JSON(t, &created)
		if created.Path != "/320600/320613/320613002/" || created.CoordSys != "gcj02" || len(created.BBox) != 4 || created.BBox[0] == 120.90 {
			t.Fatalf("created %+v (the GCJ-02 boundary must be stored converted)", created)
		}
		if res.Header.Get("Location") != "/api/v1/regions/320613002" {
			t.Fatalf("location %q", res.Header.Get("Location"))
		}

		var list struct {
			Items []struct {
				Code        string `json:"code"`
				HasBoundary bool   `json:"has_boundary"`
				Boundary    any    `json:"boundary"`
			} `json:"items"`
			NextAfter string `json:"next_after"`
		}
		e.Get("/api/v1/regions?parent=320613", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].Code != "320613001" || !list.Items[0].HasBoundary || list.Items[0].Boundary != nil {
			t.Fatalf("children %+v", list)
		}
		e.Get("/api/v1/regions?parent=320600&level=grid&limit=1", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 1 || list.NextAfter != "320613001001001" {
			t.Fatalf("grids page %+v", list)
		}
		e.Get("/api/v1/regions?q="+"网格", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("search %+v", list)
		}
		e.Get("/api/v1/regions?parent=320699", admin).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/regions?level=village", admin).MustStatus(t, http.StatusUnprocessableEntity)

		// GeoJSON, by query and by Accept.
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type       string         `json:"type"`
				ID         string         `json:"id"`
				Geometry   map[string]any `json:"geometry"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		res = e.Get("/api/v1/regions?parent=320613001001&format=geojson", admin).MustStatus(t, http.StatusOK)
		res.JSON(t, &fc)
		if ct := res.Header.Get("Content-Type"); ct != "application/geo+json" {
			t.Fatalf("content type %q", ct)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Features[0].Geometry["type"] != "Polygon" || fc.Features[1].Properties["code"] != "320613001001002" {
			t.Fatalf("feature collection %+v", fc)
		}
		res = e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/regions/320613001001001", Token: admin, Header: map[string]string{"Accept": "application/geo+json"}}).MustStatus(t, http.StatusOK)
		var feat struct {
			Type       string         `json:"type"`
			Geometry   map[string]any `json:"geometry"`
			Properties map[string]any `json:"properties"`
		}
		res.JSON(t, &feat)
		if feat.Type != "Feature" || feat.Geometry == nil || len(feat.Properties["ancestors"].([]any)) != 4 {
			t.Fatalf("feature %+v", feat)
		}

		var detail struct {
			Code      string         `json:"code"`
			Boundary  map[string]any `json:"boundary"`
			Center    map[string]any `json:"center"`
			Ancestors []struct {
				Code  string `json:"code"`
				Level string `json:"level"`
			} `json:"ancestors"`
		}
		e.Get("/api/v1/regions/320613001001002", admin).MustStatus(t, http.StatusOK).JSON(t, &detail)
		if detail.Boundary["type"] != "Polygon" || detail.Center == nil || len(detail.Ancestors) != 4 || detail.Ancestors[0].Level != "city" {
			t.Fatalf("detail %+v", detail)
		}
		e.Get("/api/v1/regions/320613009", admin).MustStatus(t, http.StatusNotFound)

		var tree struct {
			Items []struct {
				Code     string `json:"code"`
				Children []struct {
					Code     string `json:"code"`
					Children []struct {
						Code string `json:"code"`
					} `json:"children"`
				} `json:"children"`
			} `json:"items"`
		}
		e.Get("/api/v1/regions/tree?root=320613&depth=1", admin).MustStatus(t, http.StatusOK).JSON(t, &tree)
		if len(tree.Items) != 1 || len(tree.Items[0].Children) != 2 || len(tree.Items[0].Children[0].Children) != 0 {
			t.Fatalf("tree %+v", tree)
		}
		e.Get("/api/v1/regions/tree?depth=9", admin).MustStatus(t, http.StatusUnprocessableEntity)

		// Rename and retire through PATCH; the retired street leaves lists but stays readable.
		res = e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/regions/320613002", Token: admin,
			JSON: map[string]any{"name": "文峰街道（旧）", "valid_to": "2021-01-01T00:00:00+08:00"}}).MustStatus(t, http.StatusOK)
		var patched struct {
			Name    string `json:"name"`
			Retired bool   `json:"retired"`
		}
		res.JSON(t, &patched)
		if patched.Name != "文峰街道（旧）" || !patched.Retired {
			t.Fatalf("patched %+v", patched)
		}
		e.Get("/api/v1/regions?parent=320613", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("retired street listed: %+v", list)
		}
		e.Get("/api/v1/regions?parent=320613&include_retired=true", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("include_retired: %+v", list)
		}
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/regions/320613002", Token: admin,
			JSON: map[string]any{"valid_to": "tomorrow"}}).MustStatus(t, http.StatusUnprocessableEntity)
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/regions/320613002", Token: admin,
			JSON: map[string]any{"code": "320613003"}}).MustStatus(t, http.StatusUnprocessableEntity)
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/regions/320613999", Token: admin,
			JSON: map[string]any{"name": "x"}}).MustStatus(t, http.StatusNotFound)
	})
}

func TestRegionsBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		rgSeed(t, e, admin)
		tests := []struct {
			name   string
			body   map[string]any
			status int
			first  string
		}{
			{"self-intersecting polygon", map[string]any{"code": "320613003", "name": "x", "level": "street", "parent_code": "320613",
				"boundary": json.RawMessage(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}`)}, 422, "boundary.coordinates[0]:self_intersection"},
			{"unclosed ring", map[string]any{"code": "320613003", "name": "x", "level": "street", "parent_code": "320613",
				"boundary": json.RawMessage(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32],[120.1,32.1],[120,32.1]]]}`)}, 422, "boundary.coordinates[0]:closed"},
			{"out-of-range coordinate", map[string]any{"code": "320613003", "name": "x", "level": "street", "parent_code": "320613",
				"boundary": json.RawMessage(`{"type":"Polygon","coordinates":[[[120,32],[200,32],[120.1,32.1],[120,32]]]}`)}, 422, "boundary.coordinates[0][1]:range"},
			{"missing parent", map[string]any{"code": "320699003", "name": "x", "level": "street", "parent_code": "320699"}, 422, "parent_code:exists"},
			{"unknown field", map[string]any{"code": "320613003", "name": "x", "level": "street", "parent_code": "320613", "colour": "red"}, 422, "colour:unknown"},
			{"duplicate", map[string]any{"code": "320613001", "name": "x", "level": "street", "parent_code": "320613"}, 409, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.Post("/api/v1/regions", admin, tt.body).MustStatus(t, tt.status)
				var p rgProblem
				res.JSON(t, &p)
				if p.first() != tt.first {
					t.Fatalf("first error %q, want %q (%s)", p.first(), tt.first, res.Body)
				}
			})
		}
		e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/regions", Token: admin, Body: strings.NewReader(`{"code":`),
			Header: map[string]string{"Content-Type": "application/json"}}).MustStatus(t, http.StatusBadRequest)
		e.Get("/api/v1/regions", "-").MustStatus(t, http.StatusUnauthorized)
	})
}

func TestRegionsLocate(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		rgSeed(t, e, admin)
		type located struct {
			Region struct {
				Code  string `json:"code"`
				Level string `json:"level"`
			} `json:"region"`
			Ancestors []struct {
				Code string `json:"code"`
			} `json:"ancestors"`
			PointWGS84 struct{ Lat, Lng float64 } `json:"point_wgs84"`
			Point      struct{ Lat, Lng float64 } `json:"point"`
			CoordSys   string                     `json:"coord_sys"`
		}
		var loc located
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.805", admin).MustStatus(t, http.StatusOK).JSON(t, &loc)
		if loc.Region.Code != "320613001001001" || len(loc.Ancestors) != 4 || loc.Ancestors[3].Code != "320613001001" || loc.CoordSys != "wgs84" {
			t.Fatalf("located %+v", loc)
		}
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.81", admin).MustStatus(t, http.StatusOK).JSON(t, &loc)
		if loc.Region.Code != "320613001001001" {
			t.Fatalf("shared edge went to %s", loc.Region.Code)
		}
		// A phone on AMap sends GCJ-02: the raw numbers would fall in the other grid.
		g := geo.FromWGS84(geo.Point{Lat: 32.005, Lng: 120.8097}, geo.GCJ02)
		e.Get(fmt.Sprintf("/api/v1/regions/locate?lat=%v&lng=%v&coord_sys=gcj02", g.Lat, g.Lng), admin).MustStatus(t, http.StatusOK).JSON(t, &loc)
		if loc.Region.Code != "320613001001001" || loc.CoordSys != "gcj02" || loc.Point.Lng != g.Lng ||
			loc.PointWGS84.Lng < 120.8096 || loc.PointWGS84.Lng > 120.8098 {
			t.Fatalf("gcj02 located %+v", loc)
		}
		e.Get("/api/v1/regions/locate?lat=39.9&lng=116.4", admin).MustStatus(t, http.StatusNotFound)
		for q, want := range map[string]string{
			"lat=95&lng=120":             "lat:range",
			"lat=32&lng=-181":            "lng:range",
			"lat=abc&lng=120":            "lat:type",
			"lng=120":                    "lat:required",
			"lat=NaN&lng=120":            "lat:finite",
			"lat=32&lng=120&coord_sys=x": "coord_sys:enum",
		} {
			var p rgProblem
			e.Get("/api/v1/regions/locate?"+q, admin).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
			if p.first() != want {
				t.Errorf("%s: %q, want %q", q, p.first(), want)
			}
		}
	})
}

func TestRegionsImport(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		file := map[string]any{"type": "FeatureCollection", "features": []any{
			rgFeature("320613001001001", "第一网格", "grid", "320613001001", rgSquare(120.80, 32.00, 120.81, 32.01)),
			rgFeature("320613001001", "桃坞路社区", "community", "320613001", rgSquare(120.80, 32.00, 120.84, 32.02)),
			rgFeature("320613001", "和平桥街道", "street", "320613", nil),
			rgFeature("320613", "崇川区", "district", "320600", rgSquare(120.5, 31.5, 121.0, 32.5)),
			rgFeature("320600", "南通市", "city", "", nil),
			rgFeature("320613002", "坏街道", "street", "320613", json.RawMessage(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}`)),
			rgFeature("320613009001", "无主社区", "community", "320613009", nil),
			rgFeature("320613001002", "未闭合", "community", "320613001", json.RawMessage(`{"type":"Polygon","coordinates":[[[120,32],[120.1,32],[120.1,32.1],[120,32.1]]]}`)),
		}}
		body, _ := json.Marshal(file)
		type report struct {
			Total, Created, Updated, Unchanged, Invalid int
			Features                                    []struct {
				Index  int    `json:"index"`
				Code   string `json:"code"`
				Status string `json:"status"`
				Errors []struct {
					Field, Rule, Message string
				} `json:"errors"`
			} `json:"features"`
		}
		post := func(b []byte, query string) *apptest.Response {
			return e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/regions/import" + query, Token: admin, Body: bytes.NewReader(b),
				Header: map[string]string{"Content-Type": "application/geo+json"}})
		}
		var rep report
		post(body, "").MustStatus(t, http.StatusOK).JSON(t, &rep)
		if rep.Total != 8 || rep.Created != 5 || rep.Invalid != 3 {
			t.Fatalf("report %+v", rep)
		}
		for i, want := range map[int]string{5: "geometry.coordinates[0]:self_intersection", 6: "parent_code:exists", 7: "geometry.coordinates[0]:closed"} {
			f := rep.Features[i]
			if f.Status != "invalid" || len(f.Errors) == 0 || f.Errors[0].Field+":"+f.Errors[0].Rule != want || f.Index != i {
				t.Errorf("feature %d: %+v, want %s", i, f, want)
			}
		}
		var loc struct {
			Region struct{ Code string } `json:"region"`
		}
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.805", admin).MustStatus(t, http.StatusOK).JSON(t, &loc)
		if loc.Region.Code != "320613001001001" {
			t.Fatalf("imported grid located as %+v", loc)
		}
		post(body, "?dry_run=true").MustStatus(t, http.StatusOK).JSON(t, &rep)
		if rep.Unchanged != 5 || rep.Created != 0 {
			t.Fatalf("second import %+v", rep)
		}

		for name, tc := range map[string]struct {
			body   string
			ct     string
			status int
		}{
			"not a FeatureCollection": {`{"type":"Feature","properties":{},"geometry":null}`, "application/json", 422},
			"malformed JSON":          {`{"type":"FeatureCollection","features":[`, "application/json", 400},
			"wrong media type":        {`{}`, "text/csv", 415},
		} {
			res := e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/regions/import", Token: admin, Body: strings.NewReader(tc.body),
				Header: map[string]string{"Content-Type": tc.ct}})
			if res.Status != tc.status {
				t.Errorf("%s: %d %s", name, res.Status, res.Body)
			}
		}

		// Over 20 MiB: refused with 413 and nothing written. A file just over the 1 MiB
		// default limit for other routes is still accepted here.
		var big bytes.Buffer
		big.WriteString(`{"type":"FeatureCollection","features":[`)
		for i := 0; big.Len() < 21<<20; i++ {
			if i > 0 {
				big.WriteByte(',')
			}
			fmt.Fprintf(&big, `{"type":"Feature","properties":{"code":"320613001001%03d","name":"网格%d","level":"grid"},"geometry":%s}`, i%1000, i, rgSquare(120.80, 32.00, 120.81, 32.01))
		}
		big.WriteString(`]}`)
		res := post(big.Bytes(), "")
		res.MustStatus(t, http.StatusRequestEntityTooLarge)
		var mid bytes.Buffer
		mid.WriteString(`{"type":"FeatureCollection","features":[`)
		for i := 0; i < 900; i++ {
			if i > 0 {
				mid.WriteByte(',')
			}
			fmt.Fprintf(&mid, `{"type":"Feature","properties":{"code":"320613001001%03d","name":"网格%d","level":"grid","note":"%s"},"geometry":%s}`, i+2, i, strings.Repeat("x", 1200), rgSquare(120.80, 32.00, 120.81, 32.01))
		}
		mid.WriteString(`]}`)
		if mid.Len() < 1<<20 {
			t.Fatalf("test file only %d bytes", mid.Len())
		}
		post(mid.Bytes(), "").MustStatus(t, http.StatusOK).JSON(t, &rep)
		if rep.Created != 900 {
			t.Fatalf("1+ MiB import %+v", rep.Created)
		}
	}, func(c *config.Config) { c.MaxImportBytes = 20 << 20 })
}

func TestRegionsAccess(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		rgSeed(t, e, admin)
		var dept struct {
			ID int64 `json:"id"`
		}
		e.Post("/api/v1/departments", admin, map[string]any{"code": "CG-320613", "name": "崇川区城市管理局"}).MustStatus(t, http.StatusCreated).JSON(t, &dept)
		mkUser := func(username, role string, scope map[string]any) (int64, string) {
			var u struct {
				ID int64 `json:"id"`
			}
			e.Post("/api/v1/users", admin, map[string]any{"username": username, "display_name": username, "password": "a-good-password-1",
				"role": role, "scope": scope}).MustStatus(t, http.StatusCreated).JSON(t, &u)
			return u.ID, e.Login(username, "a-good-password-1")
		}
		_, street := mkUser("street.desk", "dispatcher", map[string]any{"region_code": "320613001"})
		workerID, worker := mkUser("grid.worker", "grid_worker", map[string]any{"grid_codes": []string{"320613001001001"}})
		_, handler := mkUser("cg.handler", "handler", map[string]any{"department_id": dept.ID})

		// Anyone signed in reads; only admins write regions.
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.805", worker).MustStatus(t, http.StatusOK)
		e.Get("/api/v1/regions/tree", handler).MustStatus(t, http.StatusOK)
		e.Post("/api/v1/regions", street, map[string]any{"code": "320613003", "name": "x", "level": "street", "parent_code": "320613"}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/regions/320613001", Token: worker, JSON: map[string]any{"name": "x"}}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/regions/import", Token: handler, JSON: map[string]any{"type": "FeatureCollection", "features": []any{}}}).MustStatus(t, http.StatusForbidden)

		// A grid's team: the street's dispatcher may edit, another street's may not see it.
		member := map[string]any{"user_id": workerID, "name": "张网格", "member_type": "full_time_worker", "phone": "13800001111"}
		var m struct {
			ID     int64  `json:"id"`
			UserID *int64 `json:"user_id"`
		}
		e.Post("/api/v1/regions/320613001001001/members", street, member).MustStatus(t, http.StatusCreated).JSON(t, &m)
		if m.UserID == nil || *m.UserID != workerID {
			t.Fatalf("member %+v", m)
		}
		e.Post("/api/v1/regions/320613001001001/members", street, member).MustStatus(t, http.StatusConflict)
		vol := map[string]any{"name": "李阿姨", "member_type": "volunteer", "role_note": "楼栋长"}
		e.Post("/api/v1/regions/320613001001001/members", handler, vol).MustStatus(t, http.StatusForbidden)
		e.Post("/api/v1/regions/320613001001001/members", admin, vol).MustStatus(t, http.StatusCreated)
		e.Post("/api/v1/regions/320613001001/members", admin, vol).MustStatus(t, http.StatusUnprocessableEntity)
		e.Post("/api/v1/regions/320613001001001/members", admin, map[string]any{"name": "x", "member_type": "boss"}).MustStatus(t, http.StatusUnprocessableEntity)
		e.Post("/api/v1/regions/320613001001001/members", admin, map[string]any{"user_id": 99999, "name": "x", "member_type": "other"}).MustStatus(t, http.StatusUnprocessableEntity)
		var team struct {
			Items []struct {
				Name       string `json:"name"`
				MemberType string `json:"member_type"`
			} `json:"items"`
		}
		e.Get("/api/v1/regions/320613001001001/members", worker).MustStatus(t, http.StatusOK).JSON(t, &team)
		if len(team.Items) != 2 || team.Items[1].MemberType != "volunteer" {
			t.Fatalf("team %+v", team)
		}
		outside := mkOutsideDispatcher(t, e, admin)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/regions/320613001001001/members/%d", m.ID), Token: outside}).MustStatus(t, http.StatusNotFound)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/regions/320613001001001/members/%d", m.ID), Token: worker}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/regions/320613001001001/members/%d", m.ID), Token: street}).MustStatus(t, http.StatusNoContent)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/regions/320613001001001/members/%d", m.ID), Token: street}).MustStatus(t, http.StatusNotFound)

		// The responsibility list.
		put := func(token string, items []map[string]any) *apptest.Response {
			return e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/regions/320613001001001/responsibilities", Token: token, JSON: map[string]any{"items": items}})
		}
		var rl struct {
			Items []struct {
				CategoryCode string `json:"category_code"`
				DepartmentID *int64 `json:"department_id"`
				UserID       *int64 `json:"user_id"`
			} `json:"items"`
		}
		put(street, []map[string]any{{"category_code": "E0101", "department_id": dept.ID}, {"category_code": "E0102", "user_id": workerID, "note": "网格员自行处置"}}).
			MustStatus(t, http.StatusOK).JSON(t, &rl)
		if len(rl.Items) != 2 || rl.Items[0].DepartmentID == nil || rl.Items[1].UserID == nil {
			t.Fatalf("responsibilities %+v", rl)
		}
		var p rgProblem
		put(admin, []map[string]any{{"category_code": "E0101", "department_id": dept.ID, "user_id": workerID}}).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
		if p.first() != "items[0].department_id:one_of" {
			t.Fatalf("both set: %+v", p)
		}
		put(outside, nil).MustStatus(t, http.StatusNotFound)
		put(handler, nil).MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/regions/320613001001001/responsibilities", handler).MustStatus(t, http.StatusOK).JSON(t, &rl)
		if len(rl.Items) != 2 {
			t.Fatalf("list %+v", rl)
		}
		e.Get("/api/v1/regions/320613009009009/responsibilities", handler).MustStatus(t, http.StatusNotFound)

		// An API key reads regions only with regions:read.
		key := func(scopes ...string) string {
			var k struct {
				Key string `json:"key"`
			}
			e.Post("/api/v1/api-keys", admin, map[string]any{"name": "k " + strings.Join(scopes, " "), "scopes": scopes}).MustStatus(t, http.StatusCreated).JSON(t, &k)
			return k.Key
		}
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.805", key("regions:read")).MustStatus(t, http.StatusOK)
		e.Get("/api/v1/regions/locate?lat=32.005&lng=120.805", key("cases:read")).MustStatus(t, http.StatusForbidden)
		e.Post("/api/v1/regions/320613001001001/members", key("*"), vol).MustStatus(t, http.StatusForbidden)
	})
}

// mkOutsideDispatcher makes a street and a dispatcher scoped to it, away from the seed grids.
func mkOutsideDispatcher(t *testing.T, e *apptest.Env, admin string) string {
	t.Helper()
	e.Post("/api/v1/regions", admin, map[string]any{"code": "320613005", "name": "外街道", "level": "street", "parent_code": "320613"}).MustStatus(t, http.StatusCreated)
	e.Post("/api/v1/users", admin, map[string]any{"username": "outside.desk", "display_name": "外街道受理员", "password": "a-good-password-1",
		"role": "dispatcher", "scope": map[string]any{"region_code": "320613005"}}).MustStatus(t, http.StatusCreated)
	return e.Login("outside.desk", "a-good-password-1")
}
