package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
)

// seedTestRegions creates a small tree: city 320600 → district 320613 → streets 320613001
// and 320613002, each with a community and grids.
func seedTestRegions(t *testing.T, e *apptest.Env) {
	t.Helper()
	for _, d := range []region.Draft{
		{Code: "320600", Name: "南通市", Level: region.LevelCity},
		{Code: "320613", Name: "崇川区", Level: region.LevelDistrict, ParentCode: "320600"},
		{Code: "320613001", Name: "和平桥街道", Level: region.LevelStreet, ParentCode: "320613"},
		{Code: "320613001001", Name: "和平桥社区", Level: region.LevelCommunity, ParentCode: "320613001"},
		{Code: "320613001001001", Name: "和平桥一网格", Level: region.LevelGrid, ParentCode: "320613001001"},
		{Code: "320613001001002", Name: "和平桥二网格", Level: region.LevelGrid, ParentCode: "320613001001"},
		{Code: "320613002", Name: "任港街道", Level: region.LevelStreet, ParentCode: "320613"},
		{Code: "320613002001", Name: "任港社区", Level: region.LevelCommunity, ParentCode: "320613002"},
		{Code: "320613002001001", Name: "任港一网格", Level: region.LevelGrid, ParentCode: "320613002001"},
	} {
		if _, err := e.App.Regions.Create(context.Background(), identity.System(), d); err != nil {
			t.Fatalf("create region %s: %v", d.Code, err)
		}
	}
}

type userJSON struct {
	ID         int64  `json:"id"`
	Username   string `json:"username"`
	Role       string `json:"role"`
	WorkerKind string `json:"worker_kind"`
	Active     bool   `json:"active"`
	Scope      struct {
		Kind         string   `json:"kind"`
		RegionCode   string   `json:"region_code"`
		DepartmentID int64    `json:"department_id"`
		GridCodes    []string `json:"grid_codes"`
	} `json:"scope"`
}

type userList struct {
	Items []userJSON `json:"items"`
	Total int64      `json:"total"`
}

func (l userList) names() []string {
	var out []string
	for _, u := range l.Items {
		out = append(out, u.Username)
	}
	return out
}

func createUser(t *testing.T, e *apptest.Env, token string, body map[string]any) userJSON {
	t.Helper()
	var u userJSON
	e.Post("/api/v1/users", token, body).MustStatus(t, http.StatusCreated).JSON(t, &u)
	return u
}

func patch(e *apptest.Env, path, token string, body any) *apptest.Response {
	e.T.Helper()
	return e.Do(apptest.Req{Method: http.MethodPatch, Path: path, Token: token, JSON: body})
}

func TestDepartmentAdministration(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedTestRegions(t, e)
		admin := e.AdminToken()
		var cg struct {
			ID         int64  `json:"id"`
			Code       string `json:"code"`
			Name       string `json:"name"`
			RegionCode string `json:"region_code"`
			Active     bool   `json:"active"`
		}
		res := e.Post("/api/v1/departments", admin, map[string]any{"code": "CG-320613", "name": "崇川区城管局", "kind": "city_management", "region_code": "320613"}).
			MustStatus(t, http.StatusCreated)
		res.JSON(t, &cg)
		if cg.ID == 0 || cg.RegionCode != "320613" || !cg.Active || res.Header.Get("Location") != fmt.Sprintf("/api/v1/departments/%d", cg.ID) {
			t.Fatalf("created: %+v %v", cg, res.Header)
		}
		e.Post("/api/v1/departments", admin, map[string]any{"code": "SJ-320613", "name": "崇川区市场监管局", "kind": "market_regulation"}).MustStatus(t, http.StatusCreated)

		invalid := []struct {
			name   string
			body   map[string]any
			fields string
		}{
			{"taken code", map[string]any{"code": "CG-320613", "name": "again"}, "code"},
			{"missing", map[string]any{}, "code,name"},
			{"bad kind and phone", map[string]any{"code": "X1", "name": "x", "kind": "City Management", "phone": "call me"}, "kind,phone"},
			{"unknown region", map[string]any{"code": "X1", "name": "x", "region_code": "999999"}, "region_code"},
		}
		for _, tc := range invalid {
			var p problem
			e.Post("/api/v1/departments", admin, tc.body).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
			if p.fields() != tc.fields {
				t.Errorf("%s: fields %q, want %q", tc.name, p.fields(), tc.fields)
			}
		}

		var list struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
			Total int64 `json:"total"`
		}
		e.Get("/api/v1/departments?kind=city_management", admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if list.Total != 1 || list.Items[0].Code != "CG-320613" {
			t.Fatalf("by kind: %+v", list)
		}
		e.Get("/api/v1/departments?active=maybe", admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/departments?limit=500", admin).MustStatus(t, http.StatusUnprocessableEntity)

		path := fmt.Sprintf("/api/v1/departments/%d", cg.ID)
		patch(e, path, admin, map[string]any{"name": "崇川区城市管理局", "phone": "0513-12319"}).MustStatus(t, http.StatusOK).JSON(t, &cg)
		if cg.Name != "崇川区城市管理局" || cg.Code != "CG-320613" {
			t.Fatalf("patched: %+v", cg)
		}
		patch(e, path, admin, map[string]any{"code": "NEW"}).MustStatus(t, http.StatusUnprocessableEntity)
		patch(e, path, admin, map[string]any{"name": ""}).MustStatus(t, http.StatusUnprocessableEntity)
		patch(e, "/api/v1/departments/99999", admin, map[string]any{"name": "x"}).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/departments/99999", admin).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/departments/abc", admin).MustStatus(t, http.StatusNotFound)

		// Any signed-in user reads departments; only an admin writes them.
		createUser(t, e, admin, map[string]any{"username": "gw1", "display_name": "网格员", "password": "gw1-password",
			"role": "grid_worker", "scope": map[string]any{"grid_codes": []string{"320613001001001"}}})
		gw := e.Login("gw1", "gw1-password")
		e.Get(path, gw).MustStatus(t, http.StatusOK)
		e.Get("/api/v1/departments", gw).MustStatus(t, http.StatusOK)
		e.Post("/api/v1/departments", gw, map[string]any{"code": "X2", "name": "x"}).MustStatus(t, http.StatusForbidden)
		patch(e, path, gw, map[string]any{"name": "x"}).MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/departments", "-").MustStatus(t, http.StatusUnauthorized)
	})
}

func TestUserAdministration(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedTestRegions(t, e)
		admin := e.AdminToken()
		var dept struct {
			ID int64 `json:"id"`
		}
		e.Post("/api/v1/departments", admin, map[string]any{"code": "CG", "name": "城管", "region_code": "320613"}).
			MustStatus(t, http.StatusCreated).JSON(t, &dept)

		disp := createUser(t, e, admin, map[string]any{"username": "disp", "display_name": "和平桥调度", "password": "disp-password",
			"role": "dispatcher", "scope": map[string]any{"kind": "region", "region_code": "320613001"}})
		gw1 := createUser(t, e, admin, map[string]any{"username": "gw1", "display_name": "网格员一", "password": "gw1-password",
			"role": "grid_worker", "worker_kind": "full_time", "scope": map[string]any{"grid_codes": []string{"320613001001001", "320613001001002"}}})
		gw2 := createUser(t, e, admin, map[string]any{"username": "gw2", "display_name": "网格员二", "password": "gw2-password",
			"role": "grid_worker", "worker_kind": "part_time", "scope": map[string]any{"kind": "grids", "grid_codes": []string{"320613002001001"}}})
		hand := createUser(t, e, admin, map[string]any{"username": "hand", "display_name": "城管队员", "password": "hand-password",
			"role": "handler", "scope": map[string]any{"department_id": dept.ID}})
		createUser(t, e, admin, map[string]any{"username": "boss", "display_name": "值班长", "password": "boss-password",
			"role": "supervisor", "scope": map[string]any{"kind": "all"}})
		if disp.Scope.Kind != "region" || gw1.Scope.Kind != "grids" || len(gw1.Scope.GridCodes) != 2 || gw1.WorkerKind != "full_time" ||
			hand.Scope.Kind != "department" || hand.Scope.DepartmentID != dept.ID || !gw2.Active {
			t.Fatalf("created: %+v %+v %+v", disp, gw1, hand)
		}

		invalid := []struct {
			name   string
			body   map[string]any
			fields string
		}{
			{"empty", map[string]any{}, "username,display_name,password,role"},
			{"taken username", map[string]any{"username": "GW1", "display_name": "x", "password": "a-good-password", "role": "admin"}, "username"},
			{"short password", map[string]any{"username": "new1", "display_name": "x", "password": "short", "role": "admin"}, "password"},
			{"unknown role", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "mayor"}, "role"},
			{"handler with grids", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "handler",
				"scope": map[string]any{"grid_codes": []string{"320613001001001"}}}, "scope.kind"},
			{"grid worker without grids", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "grid_worker"}, "scope"},
			{"unknown grid", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "grid_worker",
				"scope": map[string]any{"grid_codes": []string{"320613009009009"}}}, "scope.grid_codes[0]"},
			{"unknown region", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "dispatcher",
				"scope": map[string]any{"region_code": "999999"}}, "scope.region_code"},
			{"unknown department", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "handler",
				"scope": map[string]any{"department_id": 4242}}, "scope.department_id"},
			{"bad worker kind", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "grid_worker",
				"worker_kind": "volunteer", "scope": map[string]any{"grid_codes": []string{"320613001001001"}}}, "worker_kind"},
			{"wrong type", map[string]any{"username": "new1", "display_name": "x", "password": "a-good-password", "role": "admin",
				"scope": map[string]any{"department_id": "CG"}}, "scope.department_id"},
		}
		for _, tc := range invalid {
			var p problem
			e.Post("/api/v1/users", admin, tc.body).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
			if p.fields() != tc.fields {
				t.Errorf("%s: fields %q, want %q", tc.name, p.fields(), tc.fields)
			}
		}

		// Admin filters.
		var l userList
		e.Get("/api/v1/users?role=grid_worker", admin).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"gw1", "gw2"}) || l.Total != 2 {
			t.Fatalf("grid workers: %v", l.names())
		}
		e.Get("/api/v1/users?grid_code=320613002001001", admin).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"gw2"}) {
			t.Fatalf("by grid: %v", l.names())
		}
		e.Get(fmt.Sprintf("/api/v1/users?department_id=%d", dept.ID), admin).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"hand"}) {
			t.Fatalf("by department: %v", l.names())
		}
		e.Get("/api/v1/users?q=%E7%BD%91%E6%A0%BC%E5%91%98&limit=1", admin).MustStatus(t, http.StatusOK).JSON(t, &l) // q=网格员
		if !slices.Equal(l.names(), []string{"gw1"}) || l.Total != 2 {
			t.Fatalf("by name, first page: %v (total %d)", l.names(), l.Total)
		}
		e.Get("/api/v1/users?limit=abc", admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/users?role=mayor", admin).MustStatus(t, http.StatusUnprocessableEntity)

		// A grid worker may not manage or list users.
		gwTok := e.Login("gw1", "gw1-password")
		e.Post("/api/v1/users", gwTok, map[string]any{"username": "evil", "display_name": "x", "password": "a-good-password", "role": "admin"}).
			MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/users", gwTok).MustStatus(t, http.StatusForbidden)
		e.Get(fmt.Sprintf("/api/v1/users/%d", gw1.ID), gwTok).MustStatus(t, http.StatusForbidden)

		// A street dispatcher sees the users of their street, nobody else.
		dTok := e.Login("disp", "disp-password")
		e.Get("/api/v1/users", dTok).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"disp", "gw1"}) {
			t.Fatalf("dispatcher sees %v", l.names())
		}
		e.Get("/api/v1/users?role=grid_worker", dTok).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"gw1"}) {
			t.Fatalf("dispatcher's grid workers: %v", l.names())
		}
		e.Get(fmt.Sprintf("/api/v1/users/%d", gw1.ID), dTok).MustStatus(t, http.StatusOK)
		e.Get(fmt.Sprintf("/api/v1/users/%d", gw2.ID), dTok).MustStatus(t, http.StatusNotFound)
		e.Get(fmt.Sprintf("/api/v1/users/%d", hand.ID), dTok).MustStatus(t, http.StatusNotFound)
		patch(e, fmt.Sprintf("/api/v1/users/%d", gw1.ID), dTok, map[string]any{"active": false}).MustStatus(t, http.StatusForbidden)
		patch(e, fmt.Sprintf("/api/v1/users/%d", gw2.ID), dTok, map[string]any{"active": false}).MustStatus(t, http.StatusNotFound)
		e.Post("/api/v1/users", dTok, map[string]any{"username": "x99", "display_name": "x", "password": "a-good-password", "role": "admin"}).
			MustStatus(t, http.StatusForbidden)
		// A district dispatcher sees the department's handler too (its region is the district).
		createUser(t, e, admin, map[string]any{"username": "ddisp", "display_name": "区调度", "password": "ddisp-password",
			"role": "dispatcher", "scope": map[string]any{"region_code": "320613"}})
		e.Get("/api/v1/users", e.Login("ddisp", "ddisp-password")).MustStatus(t, http.StatusOK).JSON(t, &l)
		if !slices.Equal(l.names(), []string{"disp", "gw1", "gw2", "hand", "ddisp"}) {
			t.Fatalf("district dispatcher sees %v", l.names())
		}

		// Admin changes: move gw1 to the other street, make the dispatcher city-wide, then
		// deactivate gw1 (which ends its sessions).
		var u userJSON
		gwPath := fmt.Sprintf("/api/v1/users/%d", gw1.ID)
		patch(e, gwPath, admin, map[string]any{"scope": map[string]any{"grid_codes": []string{"320613002001001"}}, "worker_kind": "part_time"}).
			MustStatus(t, http.StatusOK).JSON(t, &u)
		if !slices.Equal(u.Scope.GridCodes, []string{"320613002001001"}) || u.WorkerKind != "part_time" {
			t.Fatalf("moved: %+v", u)
		}
		e.Get(gwPath, dTok).MustStatus(t, http.StatusNotFound)
		var p problem
		patch(e, gwPath, admin, map[string]any{"role": "handler"}).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
		if p.fields() != "scope" {
			t.Fatalf("role change without scope: %q", p.fields())
		}
		patch(e, gwPath, admin, map[string]any{"password": "gw1"}).MustStatus(t, http.StatusUnprocessableEntity)
		patch(e, gwPath, admin, map[string]any{"unknown": 1}).MustStatus(t, http.StatusUnprocessableEntity)

		gwSession := login(t, e, "gw1", "gw1-password")
		patch(e, gwPath, admin, map[string]any{"active": false}).MustStatus(t, http.StatusOK).JSON(t, &u)
		if u.Active {
			t.Fatal("still active")
		}
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": gwSession.RefreshToken}).MustStatus(t, http.StatusUnauthorized)
		e.Post("/api/v1/auth/login", "-", map[string]string{"username": "gw1", "password": "gw1-password"}).MustStatus(t, http.StatusUnauthorized)
		var active userList
		e.Get("/api/v1/users?active=false", admin).MustStatus(t, http.StatusOK).JSON(t, &active)
		if !slices.Equal(active.names(), []string{"gw1"}) {
			t.Fatalf("inactive: %v", active.names())
		}

		// The last admin stays.
		var me struct {
			User struct {
				ID int64 `json:"id"`
			} `json:"user"`
		}
		e.Get("/api/v1/me", admin).MustStatus(t, http.StatusOK).JSON(t, &me)
		patch(e, fmt.Sprintf("/api/v1/users/%d", me.User.ID), admin, map[string]any{"active": false}).MustStatus(t, http.StatusConflict)
		patch(e, "/api/v1/users/999999", admin, map[string]any{"active": false}).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/users/999999", admin).MustStatus(t, http.StatusNotFound)
	})
}

func TestMeShowsScope(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedTestRegions(t, e)
		admin := e.AdminToken()
		var dept struct {
			ID int64 `json:"id"`
		}
		e.Post("/api/v1/departments", admin, map[string]any{"code": "CG", "name": "城管"}).MustStatus(t, http.StatusCreated).JSON(t, &dept)
		createUser(t, e, admin, map[string]any{"username": "hand", "display_name": "城管队员", "password": "hand-password",
			"role": "handler", "scope": map[string]any{"department_id": dept.ID}})
		var me struct {
			Kind  string `json:"kind"`
			Role  string `json:"role"`
			Scope struct {
				Kind       string `json:"kind"`
				Department struct {
					ID   int64  `json:"id"`
					Code string `json:"code"`
					Name string `json:"name"`
				} `json:"department"`
			} `json:"scope"`
		}
		e.Get("/api/v1/me", e.Login("hand", "hand-password")).MustStatus(t, http.StatusOK).JSON(t, &me)
		if me.Kind != "user" || me.Role != "handler" || me.Scope.Kind != "department" || me.Scope.Department.ID != dept.ID ||
			me.Scope.Department.Code != "CG" || me.Scope.Department.Name != "城管" {
			t.Fatalf("me: %+v", me)
		}
	})
}
