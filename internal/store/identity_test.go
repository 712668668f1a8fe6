package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 8, 30, 0, 123456000, time.UTC)

func mustDepartment(t *testing.T, s *store.Store, code, kind, region string) identity.Department {
	t.Helper()
	d := identity.Department{Code: code, Name: "部门 " + code, Kind: kind, RegionCode: region, Active: true, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateDepartment(context.Background(), &d); err != nil {
		t.Fatalf("create department %s: %v", code, err)
	}
	return d
}

func mustUser(t *testing.T, s *store.Store, u identity.User) identity.User {
	t.Helper()
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	u.PasswordHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
	u.Active = true
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = t0, t0, t0
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create user %s: %v", u.Username, err)
	}
	return u
}

func TestDepartmentStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cg := mustDepartment(t, s, "CG-320613", "city_management", "320613")
		mustDepartment(t, s, "SJ-320613", "market_regulation", "320613")
		mustDepartment(t, s, "ZJ-320600", "housing", "")

		dup := identity.Department{Code: "CG-320613", Name: "again", Active: true, CreatedAt: t0, UpdatedAt: t0}
		if err := s.CreateDepartment(ctx, &dup); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate code: %v, want conflict", err)
		}
		got, err := s.DepartmentByID(ctx, cg.ID)
		if err != nil || got.Code != "CG-320613" || got.Kind != "city_management" || got.RegionCode != "320613" || !got.Active || !got.CreatedAt.Equal(t0) {
			t.Fatalf("by id: %+v, %v", got, err)
		}
		if got, err := s.DepartmentByCode(ctx, "ZJ-320600"); err != nil || got.RegionCode != "" || got.Phone != "" {
			t.Fatalf("by code: %+v, %v", got, err)
		}
		if _, err := s.DepartmentByCode(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown code: %v", err)
		}

		no := false
		tests := []struct {
			name  string
			f     identity.DepartmentFilter
			codes []string
			total int64
		}{
			{"all", identity.DepartmentFilter{Limit: 10}, []string{"CG-320613", "SJ-320613", "ZJ-320600"}, 3},
			{"page", identity.DepartmentFilter{Limit: 1, Offset: 1}, []string{"SJ-320613"}, 3},
			{"kind", identity.DepartmentFilter{Kind: "housing", Limit: 10}, []string{"ZJ-320600"}, 1},
			{"region", identity.DepartmentFilter{RegionCode: "320613", Limit: 10}, []string{"CG-320613", "SJ-320613"}, 2},
			{"query on code, case-insensitive", identity.DepartmentFilter{Query: "sj-", Limit: 10}, []string{"SJ-320613"}, 1},
			{"query escapes wildcards", identity.DepartmentFilter{Query: "%", Limit: 10}, nil, 0},
			{"inactive", identity.DepartmentFilter{Active: &no, Limit: 10}, nil, 0},
		}
		for _, tc := range tests {
			ds, total, err := s.ListDepartments(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var codes []string
			for _, d := range ds {
				codes = append(codes, d.Code)
			}
			if !slices.Equal(codes, tc.codes) || total != tc.total {
				t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, codes, total, tc.codes, tc.total)
			}
		}

		later := t0.Add(time.Hour)
		upd, err := s.UpdateDepartment(ctx, cg.ID, func(d *identity.Department) error {
			d.Code = "HIJACK" // ignored: codes never change
			d.Name, d.Phone, d.Active, d.UpdatedAt = "崇川区城管局", "0513-12319", false, later
			return nil
		})
		if err != nil || upd.Code != "CG-320613" || upd.Name != "崇川区城管局" || upd.Active {
			t.Fatalf("update: %+v, %v", upd, err)
		}
		got, _ = s.DepartmentByID(ctx, cg.ID)
		if got.Name != "崇川区城管局" || got.Phone != "0513-12319" || got.Active || !got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(t0) {
			t.Fatalf("after update: %+v", got)
		}
		if _, err := s.UpdateDepartment(ctx, cg.ID, func(d *identity.Department) error {
			d.Name = "rolled back"
			return errs.E(errs.Invalid, "no")
		}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("failing update: %v", err)
		}
		if got, _ := s.DepartmentByID(ctx, cg.ID); got.Name != "崇川区城管局" {
			t.Fatalf("a failed update changed the row: %+v", got)
		}
		if _, err := s.UpdateDepartment(ctx, 9999, func(*identity.Department) error { return nil }); !errs.Is(err, errs.NotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})
}

func TestUserStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		dept := mustDepartment(t, s, "CG", "city_management", "")
		admin := mustUser(t, s, identity.User{Username: "admin", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}})
		disp := mustUser(t, s, identity.User{Username: "disp", DisplayName: "王调度", Role: identity.RoleDispatcher,
			Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "320613001"}, Phone: "13800000000"})
		hand := mustUser(t, s, identity.User{Username: "hand", Role: identity.RoleHandler,
			Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: dept.ID}})
		gw := mustUser(t, s, identity.User{Username: "gw", DisplayName: "李网格", Role: identity.RoleGridWorker, WorkerKind: identity.WorkerPartTime,
			Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{"320613001001002", "320613001001001"}}})

		if n, err := s.CountUsers(ctx); err != nil || n != 4 {
			t.Fatalf("count: %d, %v", n, err)
		}
		dup := identity.User{Username: "gw", DisplayName: "x", PasswordHash: "h", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}, Active: true}
		if err := s.CreateUser(ctx, &dup); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate username: %v", err)
		}
		bad := identity.User{Username: "bad", DisplayName: "x", PasswordHash: "h", Role: identity.RoleHandler,
			Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: 4242}, Active: true}
		if err := s.CreateUser(ctx, &bad); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown department: %v", err)
		}

		got, err := s.UserByUsername(ctx, "gw")
		if err != nil || got.ID != gw.ID || got.WorkerKind != identity.WorkerPartTime || got.Scope.Kind != identity.ScopeGrids ||
			!slices.Equal(got.Scope.GridCodes, []string{"320613001001001", "320613001001002"}) || !got.PasswordChangedAt.Equal(t0) {
			t.Fatalf("by username: %+v, %v", got, err)
		}
		if got, err := s.UserByID(ctx, hand.ID); err != nil || got.Scope.DepartmentID != dept.ID || got.Scope.RegionCode != "" {
			t.Fatalf("handler: %+v, %v", got, err)
		}
		if got, err := s.UserByID(ctx, disp.ID); err != nil || got.Scope.RegionCode != "320613001" || got.Phone != "13800000000" {
			t.Fatalf("dispatcher: %+v, %v", got, err)
		}
		if _, err := s.UserByID(ctx, 9999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing: %v", err)
		}

		yes := true
		tests := []struct {
			name  string
			f     identity.UserFilter
			names []string
		}{
			{"all", identity.UserFilter{}, []string{"admin", "disp", "hand", "gw"}},
			{"by id", identity.UserFilter{ID: hand.ID}, []string{"hand"}},
			{"role", identity.UserFilter{Role: identity.RoleGridWorker}, []string{"gw"}},
			{"department", identity.UserFilter{DepartmentID: dept.ID}, []string{"hand"}},
			{"grid", identity.UserFilter{GridCode: "320613001001002"}, []string{"gw"}},
			{"query on display name", identity.UserFilter{Query: "网格"}, []string{"gw"}},
			{"query on username", identity.UserFilter{Query: "DIS"}, []string{"disp"}},
			{"active", identity.UserFilter{Active: &yes}, []string{"admin", "disp", "hand", "gw"}},
			{"page", identity.UserFilter{Offset: 3}, []string{"gw"}},
		}
		for _, tc := range tests {
			if tc.f.Limit == 0 {
				tc.f.Limit = 10
			}
			us, total, err := s.ListUsers(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var names []string
			for _, u := range us {
				names = append(names, u.Username)
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("%s: %v, want %v", tc.name, names, tc.names)
			}
			if tc.name != "page" && total != int64(len(tc.names)) {
				t.Errorf("%s: total %d", tc.name, total)
			}
		}

		// Change the grid worker's grids and the dispatcher's scope.
		upd, err := s.UpdateUser(ctx, gw.ID, func(u *identity.User) error {
			u.Scope.GridCodes = []string{"320613001002001"}
			u.DisplayName = "李网格员"
			return nil
		})
		if err != nil || !slices.Equal(upd.Scope.GridCodes, []string{"320613001002001"}) || upd.DisplayName != "李网格员" {
			t.Fatalf("update grids: %+v, %v", upd, err)
		}
		if us, _, _ := s.ListUsers(ctx, identity.UserFilter{GridCode: "320613001001001", Limit: 10}); len(us) != 0 {
			t.Fatalf("old grid still listed: %+v", us)
		}
		upd, err = s.UpdateUser(ctx, gw.ID, func(u *identity.User) error {
			u.Role, u.Scope, u.WorkerKind = identity.RoleHandler, identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: dept.ID}, ""
			return nil
		})
		if err != nil || upd.Scope.Kind != identity.ScopeDepartment || len(upd.Scope.GridCodes) != 0 {
			t.Fatalf("grid worker to handler: %+v, %v", upd, err)
		}
		if us, _, _ := s.ListUsers(ctx, identity.UserFilter{GridCode: "320613001002001", Limit: 10}); len(us) != 0 {
			t.Fatalf("a handler keeps grid rows: %+v", us)
		}

		// The last active admin cannot be demoted or deactivated; with a second one it can.
		for name, fn := range map[string]func(*identity.User) error{
			"deactivate": func(u *identity.User) error { u.Active = false; return nil },
			"demote": func(u *identity.User) error {
				u.Role, u.Scope = identity.RoleDispatcher, identity.Scope{Kind: identity.ScopeAll}
				return nil
			},
		} {
			if _, err := s.UpdateUser(ctx, admin.ID, fn); !errs.Is(err, errs.Conflict) {
				t.Fatalf("%s the last admin: %v, want conflict", name, err)
			}
		}
		if got, _ := s.UserByID(ctx, admin.ID); !got.Active || got.Role != identity.RoleAdmin {
			t.Fatalf("last admin changed: %+v", got)
		}
		mustUser(t, s, identity.User{Username: "admin2", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}})
		if upd, err := s.UpdateUser(ctx, admin.ID, func(u *identity.User) error { u.Active = false; return nil }); err != nil || upd.Active {
			t.Fatalf("deactivate one of two admins: %+v, %v", upd, err)
		}
	})
}

func TestRefreshTokenRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, identity.User{Username: "u1", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}})
		first := identity.RefreshToken{Hash: "h1", FamilyID: "fam", UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateRefreshToken(ctx, &first); err != nil || first.ID == 0 {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		second := identity.RefreshToken{Hash: "h2", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		old, outcome, err := s.RotateRefreshToken(ctx, "h1", now, &second)
		if err != nil || outcome != identity.RefreshRotated || old.ID != first.ID || second.ID == 0 || second.FamilyID != "fam" || second.UserID != u.ID {
			t.Fatalf("rotate: %+v %v %v, next %+v", old, outcome, err, second)
		}
		got, _ := s.RefreshTokenByHash(ctx, "h1")
		if got.UsedAt == nil || !got.UsedAt.Equal(now) || got.ReplacedBy == nil || *got.ReplacedBy != second.ID {
			t.Fatalf("consumed token: %+v", got)
		}

		// Replaying h1 revokes the family, h2 included.
		third := identity.RefreshToken{Hash: "h3", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if _, outcome, err := s.RotateRefreshToken(ctx, "h1", now.Add(time.Second), &third); err != nil || outcome != identity.RefreshReused {
			t.Fatalf("reuse: %v %v", outcome, err)
		}
		if _, err := s.RefreshTokenByHash(ctx, "h3"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a replay created a token: %v", err)
		}
		if _, outcome, err := s.RotateRefreshToken(ctx, "h2", now.Add(2*time.Second), &third); err != nil || outcome != identity.RefreshRevoked {
			t.Fatalf("the family's newest token after a replay: %v %v", outcome, err)
		}
		if _, _, err := s.RotateRefreshToken(ctx, "unknown", now, &third); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown token: %v", err)
		}

		// Expiry, logout of one family, and revoking all but one family.
		exp := identity.RefreshToken{Hash: "e1", FamilyID: "fam-e", UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		a := identity.RefreshToken{Hash: "a1", FamilyID: "fam-a", UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		b := identity.RefreshToken{Hash: "b1", FamilyID: "fam-b", UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		for _, rt := range []*identity.RefreshToken{&exp, &a, &b} {
			if err := s.CreateRefreshToken(ctx, rt); err != nil {
				t.Fatal(err)
			}
		}
		if _, outcome, err := s.RotateRefreshToken(ctx, "e1", t0.Add(time.Minute), &third); err != nil || outcome != identity.RefreshExpired {
			t.Fatalf("expired: %v %v", outcome, err)
		}
		if err := s.RevokeUserRefreshTokens(ctx, u.ID, "fam-b", now); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.RefreshTokenByHash(ctx, "a1"); got.RevokedAt == nil {
			t.Fatal("fam-a should be revoked")
		}
		if got, _ := s.RefreshTokenByHash(ctx, "b1"); got.RevokedAt != nil {
			t.Fatal("the kept family was revoked")
		}
		if err := s.RevokeRefreshFamily(ctx, "fam-b", now); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.RefreshTokenByHash(ctx, "b1"); got.RevokedAt == nil || !got.RevokedAt.Equal(now) {
			t.Fatalf("logout: %+v", got)
		}
		if err := s.DeleteExpiredRefreshTokens(ctx, u.ID, t0.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RefreshTokenByHash(ctx, "e1"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("expired token kept: %v", err)
		}
		if _, err := s.RefreshTokenByHash(ctx, "a1"); err != nil {
			t.Fatalf("live token deleted: %v", err)
		}
	})
}

func TestLoginFailureCounters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		window := 15 * time.Minute
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Minute)
			if err := s.RecordLoginFailure(ctx, []string{"account:a", "address:x"}, at, at.Add(-window)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.LoginFailures(ctx, "account:a", t0.Add(-window))
		if err != nil || len(got) != 3 || !got[0].Equal(t0) || !got[2].Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("failures: %v, %v", got, err)
		}
		if got, _ := s.LoginFailures(ctx, "account:a", t0.Add(time.Minute)); len(got) != 1 {
			t.Fatalf("since: %v", got)
		}
		// A failure much later forgets everything older than its window.
		late := t0.Add(time.Hour)
		if err := s.RecordLoginFailure(ctx, []string{"account:b"}, late, late.Add(-window)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoginFailures(ctx, "address:x", time.Time{}); len(got) != 0 {
			t.Fatalf("old failures kept: %v", got)
		}
		if err := s.ClearLoginFailures(ctx, "account:b"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoginFailures(ctx, "account:b", time.Time{}); len(got) != 0 {
			t.Fatalf("cleared failures kept: %v", got)
		}
	})
}

func TestAPIKeyStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, identity.User{Username: "admin", Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}})
		exp := t0.Add(24 * time.Hour)
		k1 := identity.APIKey{Name: "12345 热线", Prefix: "gk_abcdef", Hash: "hash1", Scopes: []string{"cases:read", "cases:write"},
			RegionCode: "320613", CreatedBy: u.ID, CreatedAt: t0, ExpiresAt: &exp}
		k2 := identity.APIKey{Name: "video AI", Prefix: "gk_zzzzzz", Hash: "hash2", Scopes: []string{"*"}, CreatedAt: t0}
		for _, k := range []*identity.APIKey{&k1, &k2} {
			if err := s.CreateAPIKey(ctx, k); err != nil || k.ID == 0 {
				t.Fatalf("create: %v", err)
			}
		}
		dup := identity.APIKey{Name: "dup", Prefix: "gk_", Hash: "hash1", Scopes: []string{"*"}, CreatedAt: t0}
		if err := s.CreateAPIKey(ctx, &dup); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate hash: %v", err)
		}
		got, err := s.APIKeyByHash(ctx, "hash1")
		if err != nil || got.ID != k1.ID || !slices.Equal(got.Scopes, []string{"cases:read", "cases:write"}) || got.RegionCode != "320613" ||
			got.CreatedBy != u.ID || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.LastUsedAt != nil {
			t.Fatalf("by hash: %+v, %v", got, err)
		}
		if _, err := s.APIKeyByHash(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown hash: %v", err)
		}

		// last_used_at is written at most once per gap.
		if err := s.TouchAPIKey(ctx, k1.ID, t0, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAPIKey(ctx, k1.ID, t0.Add(30*time.Second), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIKeyByID(ctx, k1.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0) {
			t.Fatalf("touch within the gap moved last_used_at: %+v", got.LastUsedAt)
		}
		if err := s.TouchAPIKey(ctx, k1.ID, t0.Add(2*time.Minute), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIKeyByID(ctx, k1.ID); !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("touch after the gap: %+v", got.LastUsedAt)
		}

		if err := s.RevokeAPIKey(ctx, k2.ID, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, k2.ID, t0.Add(time.Hour)); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		if got, _ := s.APIKeyByID(ctx, k2.ID); got.RevokedAt == nil || !got.RevokedAt.Equal(t0) {
			t.Fatalf("revocation time: %+v", got.RevokedAt)
		}
		if err := s.RevokeAPIKey(ctx, 9999, t0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("revoke missing: %v", err)
		}
		keys, total, err := s.ListAPIKeys(ctx, identity.APIKeyFilter{Limit: 10})
		if err != nil || total != 1 || len(keys) != 1 || keys[0].ID != k1.ID {
			t.Fatalf("live keys: %+v %d %v", keys, total, err)
		}
		keys, total, _ = s.ListAPIKeys(ctx, identity.APIKeyFilter{IncludeRevoked: true, Limit: 10})
		if total != 2 || keys[0].ID != k2.ID {
			t.Fatalf("all keys, newest first: %+v %d", keys, total)
		}
	})
}
