package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// regionPaths is a RegionResolver over a fixed table.
type regionPaths map[string]string

func (r regionPaths) RegionPath(_ context.Context, code string) (string, error) {
	if p, ok := r[code]; ok {
		return p, nil
	}
	return "", errs.NotFoundf("region %q not found", code)
}

var testRegions = regionPaths{
	"320613":          "/320600/320613/",
	"320613001":       "/320600/320613/320613001/",
	"320613001001001": "/320600/320613/320613001/320613001001/320613001001001/",
	"320613001001002": "/320600/320613/320613001/320613001001/320613001001002/",
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration)     { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                   { return &clock{t: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)} }
func bg() context.Context                { return context.Background() }
func ptr[T any](v T) *T                  { return &v }
func admin() identity.Principal          { return identity.System() }
func codeOf(err error) errs.Code         { return errs.CodeOf(err) }
func fields(err error) []errs.FieldError { e, _ := errs.As(err); return e.Fields }

func newService(t *testing.T, s *store.Store, c *clock) *identity.Service {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	svc, err := identity.New(s, testRegions, identity.Config{
		Keys: identity.NewKeys(key), Issuer: "gridcase", Audience: "gridcase-api",
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour,
		LoginMaxFailures: 3, LoginWindow: 10 * time.Minute, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

const pw = "a-good-password"

func TestEnsureAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := newService(t, s, newClock())
		created, generated, err := svc.EnsureAdmin(bg(), "")
		if err != nil || !created || len(generated) < 20 {
			t.Fatalf("first: %v %q %v", created, generated, err)
		}
		if _, err := svc.Login(bg(), identity.Credentials{Username: "admin", Password: generated}); err != nil {
			t.Fatalf("the generated password does not sign in: %v", err)
		}
		created, generated, err = svc.EnsureAdmin(bg(), "another-password")
		if err != nil || created || generated != "" {
			t.Fatalf("second: %v %q %v", created, generated, err)
		}
	})
}

// (A second storetest.Each in one test would name its SQLite directory "…sqlite#01"; the
// '#' ends the SQLite URI's path, so each such case is its own test.)
func TestEnsureAdminWithPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := newService(t, s, newClock())
		if _, _, err := svc.EnsureAdmin(bg(), "short"); codeOf(err) != errs.Invalid {
			t.Fatalf("a too short bootstrap password: %v", err)
		}
		if created, generated, err := svc.EnsureAdmin(bg(), pw); err != nil || !created || generated != "" {
			t.Fatalf("given password: %v %q %v", created, generated, err)
		}
		if _, err := svc.Login(bg(), identity.Credentials{Username: "ADMIN ", Password: pw}); err != nil {
			t.Fatalf("sign in (username case and spaces ignored): %v", err)
		}
	})
}

func TestLoginRefreshLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		svc := newService(t, s, c)
		if _, _, err := svc.EnsureAdmin(bg(), pw); err != nil {
			t.Fatal(err)
		}
		sess, err := svc.Login(bg(), identity.Credentials{Username: "admin", Password: pw, Address: "10.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		if sess.AccessExpiresIn != 15*time.Minute || sess.RefreshExpiresIn != 24*time.Hour || sess.User.Username != "admin" || sess.RefreshToken == "" {
			t.Fatalf("session: %+v", sess)
		}
		p, err := svc.Authenticate(bg(), sess.AccessToken)
		if err != nil || p.Role != identity.RoleAdmin || p.Scope.Kind != identity.ScopeAll || p.SessionID == "" {
			t.Fatalf("authenticate: %+v %v", p, err)
		}

		c.Add(time.Minute)
		next, err := svc.Refresh(bg(), sess.RefreshToken)
		if err != nil || next.RefreshToken == sess.RefreshToken || next.AccessToken == sess.AccessToken {
			t.Fatalf("refresh: %+v %v", next, err)
		}
		if p2, err := svc.Authenticate(bg(), next.AccessToken); err != nil || p2.SessionID != p.SessionID {
			t.Fatalf("refreshed token: %+v %v", p2, err)
		}
		// Replaying the first refresh token revokes the session: the newest token dies too.
		if _, err := svc.Refresh(bg(), sess.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("reuse: %v", err)
		}
		if _, err := svc.Refresh(bg(), next.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("the family survived a reuse: %v", err)
		}

		// Logout ends a session; logging out twice or with junk is fine.
		s2, _ := svc.Login(bg(), identity.Credentials{Username: "admin", Password: pw})
		if err := svc.Logout(bg(), s2.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := svc.Logout(bg(), s2.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := svc.Logout(bg(), "junk"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Refresh(bg(), s2.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("refresh after logout: %v", err)
		}

		// Refresh tokens expire.
		s3, _ := svc.Login(bg(), identity.Credentials{Username: "admin", Password: pw})
		c.Add(24*time.Hour + time.Second)
		if _, err := svc.Refresh(bg(), s3.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("expired refresh: %v", err)
		}
		if _, err := svc.Authenticate(bg(), s3.AccessToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("expired access token: %v", err)
		}
		if _, err := svc.Refresh(bg(), ""); codeOf(err) != errs.Invalid {
			t.Fatalf("empty refresh token: %v", err)
		}
	})
}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		svc := newService(t, s, c)
		if _, _, err := svc.EnsureAdmin(bg(), pw); err != nil {
			t.Fatal(err)
		}
		login := func(user, pass, addr string) error {
			_, err := svc.Login(bg(), identity.Credentials{Username: user, Password: pass, Address: addr})
			return err
		}
		// Unknown users and wrong passwords answer alike.
		e1, e2 := login("nobody", "whatever-pass", "10.0.0.9"), login("admin", "wrong-password", "10.0.0.9")
		if codeOf(e1) != errs.Unauthorized || e1.Error() != e2.Error() {
			t.Fatalf("unknown user %v vs wrong password %v", e1, e2)
		}
		c.Add(10*time.Minute + time.Second) // those failures leave the window
		// Per account: three failures from different addresses lock the account.
		for i, addr := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
			if err := login("admin", "wrong-password", addr); codeOf(err) != errs.Unauthorized {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		err := login("admin", pw, "10.0.0.4")
		e, _ := errs.As(err)
		if codeOf(err) != errs.RateLimited || e.Extra["retry_after"] == nil {
			t.Fatalf("locked account with the right password: %v", err)
		}
		if ra := e.Extra["retry_after"].(int64); ra < 1 || ra > 600 {
			t.Fatalf("retry_after %d", ra)
		}
		c.Add(10*time.Minute + time.Second)
		if err := login("admin", pw, "10.0.0.4"); err != nil {
			t.Fatalf("after the window: %v", err)
		}

		// Per address: failures for several accounts from one address lock the address.
		for _, u := range []string{"a1", "a2", "a3"} {
			if err := login(u, "wrong-password", "192.0.2.7"); codeOf(err) != errs.Unauthorized {
				t.Fatal(err)
			}
		}
		if err := login("admin", pw, "192.0.2.7"); codeOf(err) != errs.RateLimited {
			t.Fatalf("locked address: %v", err)
		}
		if err := login("admin", pw, "192.0.2.8"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		if err := login("", "", ""); codeOf(err) != errs.Invalid || len(fields(err)) != 2 {
			t.Fatalf("empty credentials: %v", err)
		}
	})
}

func TestUserLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		svc := newService(t, s, c)
		cg, err := svc.CreateDepartment(bg(), admin(), identity.NewDepartment{Code: "CG-320613", Name: "崇川区城管局", Kind: "city_management", RegionCode: "320613"})
		if err != nil {
			t.Fatal(err)
		}
		gw, err := svc.CreateUser(bg(), admin(), identity.NewUser{
			Username: "Li.Wang", DisplayName: "李网格", Password: pw, Role: identity.RoleGridWorker,
			Scope: identity.Scope{GridCodes: []string{"320613001001001", " 320613001001001 ", "320613001001002"}}, WorkerKind: identity.WorkerFullTime,
		})
		if err != nil {
			t.Fatal(err)
		}
		if gw.Username != "li.wang" || gw.Scope.Kind != identity.ScopeGrids || len(gw.Scope.GridCodes) != 2 || !gw.Active {
			t.Fatalf("grid worker: %+v", gw)
		}
		if strings.Contains(gw.PasswordHash, pw) || !identity.VerifyPassword(gw.PasswordHash, pw) {
			t.Fatal("password not hashed")
		}

		invalid := []struct {
			name   string
			in     identity.NewUser
			fields []string
		}{
			{"empty", identity.NewUser{}, []string{"username", "display_name", "password", "role"}},
			{"bad username and role", identity.NewUser{Username: "a b", DisplayName: "x", Password: pw, Role: "boss"}, []string{"username", "role"}},
			{"handler without department", identity.NewUser{Username: "h1xx", DisplayName: "x", Password: pw, Role: identity.RoleHandler}, []string{"scope"}},
			{"handler with a region", identity.NewUser{Username: "h1xx", DisplayName: "x", Password: pw, Role: identity.RoleHandler, Scope: identity.Scope{RegionCode: "320613"}}, []string{"scope.kind"}},
			{"unknown department", identity.NewUser{Username: "h1xx", DisplayName: "x", Password: pw, Role: identity.RoleHandler, Scope: identity.Scope{DepartmentID: 999}}, []string{"scope.department_id"}},
			{"unknown region", identity.NewUser{Username: "d1xx", DisplayName: "x", Password: pw, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "999999"}}, []string{"scope.region_code"}},
			{"unknown grid", identity.NewUser{Username: "g1xx", DisplayName: "x", Password: pw, Role: identity.RoleGridWorker, Scope: identity.Scope{GridCodes: []string{"320613001001001", "nope"}}}, []string{"scope.grid_codes[1]"}},
			{"admin with a region", identity.NewUser{Username: "a1xx", DisplayName: "x", Password: pw, Role: identity.RoleAdmin, Scope: identity.Scope{RegionCode: "320613"}}, []string{"scope.kind"}},
			{"worker kind for a dispatcher", identity.NewUser{Username: "d1xx", DisplayName: "x", Password: pw, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeAll}, WorkerKind: identity.WorkerPartTime}, []string{"worker_kind"}},
			{"password is the username", identity.NewUser{Username: "zhangsan123", DisplayName: "x", Password: "ZhangSan123", Role: identity.RoleAdmin}, []string{"password"}},
			{"taken username", identity.NewUser{Username: "LI.WANG", DisplayName: "x", Password: pw, Role: identity.RoleAdmin}, []string{"username"}},
		}
		for _, tc := range invalid {
			_, err := svc.CreateUser(bg(), admin(), tc.in)
			var got []string
			for _, f := range fields(err) {
				got = append(got, f.Field)
			}
			if codeOf(err) != errs.Invalid || strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s: %v, fields %v, want %v", tc.name, err, got, tc.fields)
			}
		}

		// Only an admin creates; a dispatcher sees users in their region, others none.
		disp, err := svc.CreateUser(bg(), admin(), identity.NewUser{Username: "disp", DisplayName: "调度", Password: pw,
			Role: identity.RoleDispatcher, Scope: identity.Scope{RegionCode: "320613001"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateUser(bg(), disp.Principal(), identity.NewUser{Username: "x1xx", DisplayName: "x", Password: pw, Role: identity.RoleAdmin}); codeOf(err) != errs.Forbidden {
			t.Fatalf("dispatcher creates a user: %v", err)
		}
		if _, err := svc.ListUsers(bg(), gw.Principal(), identity.UserFilter{}); codeOf(err) != errs.Forbidden {
			t.Fatalf("grid worker lists users: %v", err)
		}
		if _, err := svc.ListUsers(bg(), admin(), identity.UserFilter{Limit: 1000}); codeOf(err) != errs.Invalid {
			t.Fatalf("limit over the maximum: %v", err)
		}
		page, err := svc.ListUsers(bg(), admin(), identity.UserFilter{Role: identity.RoleGridWorker})
		if err != nil || page.Total != 1 || page.Users[0].ID != gw.ID || page.Limit != identity.DefaultPageSize {
			t.Fatalf("admin lists grid workers: %+v %v", page, err)
		}

		// Updates: role and scope must still fit; deactivation ends sessions.
		sess, err := svc.Login(bg(), identity.Credentials{Username: "li.wang", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUser(bg(), admin(), gw.ID, identity.UserPatch{Role: ptr(identity.RoleHandler)}); codeOf(err) != errs.Invalid || fields(err)[0].Field != "scope" {
			t.Fatalf("role change without a fitting scope: %v", err)
		}
		u, err := svc.UpdateUser(bg(), admin(), gw.ID, identity.UserPatch{Role: ptr(identity.RoleHandler), Scope: &identity.Scope{DepartmentID: cg.ID}})
		if err != nil || u.Role != identity.RoleHandler || u.Scope.DepartmentID != cg.ID || u.WorkerKind != "" || len(u.Scope.GridCodes) != 0 {
			t.Fatalf("grid worker becomes handler: %+v %v", u, err)
		}
		me, err := svc.Me(bg(), u.Principal())
		if err != nil || me.Department == nil || me.Department.Code != "CG-320613" {
			t.Fatalf("me: %+v %v", me, err)
		}
		if _, err := svc.UpdateUser(bg(), disp.Principal(), gw.ID, identity.UserPatch{Active: ptr(false)}); codeOf(err) != errs.Forbidden && codeOf(err) != errs.NotFound {
			t.Fatalf("dispatcher changes a user: %v", err)
		}
		if _, err := svc.UpdateUser(bg(), admin(), gw.ID, identity.UserPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Refresh(bg(), sess.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("a deactivated user refreshes: %v", err)
		}
		if _, err := svc.Login(bg(), identity.Credentials{Username: "li.wang", Password: pw}); codeOf(err) != errs.Unauthorized {
			t.Fatalf("a deactivated user signs in: %v", err)
		}
		if _, err := svc.UpdateUser(bg(), admin(), 9999, identity.UserPatch{Active: ptr(false)}); codeOf(err) != errs.NotFound {
			t.Fatalf("update a missing user: %v", err)
		}

		// A password reset by an admin works and ends sessions; a password change keeps the
		// current session only.
		if _, err := svc.UpdateUser(bg(), admin(), disp.ID, identity.UserPatch{Password: ptr("short")}); codeOf(err) != errs.Invalid {
			t.Fatalf("short reset: %v", err)
		}
		if _, err := svc.UpdateUser(bg(), admin(), disp.ID, identity.UserPatch{Password: ptr("a-new-password")}); err != nil {
			t.Fatal(err)
		}
		s1, err := svc.Login(bg(), identity.Credentials{Username: "disp", Password: "a-new-password"})
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := svc.Login(bg(), identity.Credentials{Username: "disp", Password: "a-new-password"})
		p1, _ := svc.Authenticate(bg(), s1.AccessToken)
		if err := svc.ChangePassword(bg(), p1, "wrong-current", "another-password"); codeOf(err) != errs.Invalid || fields(err)[0].Field != "current_password" {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := svc.ChangePassword(bg(), p1, "a-new-password", "a-new-password"); codeOf(err) != errs.Invalid {
			t.Fatalf("same password: %v", err)
		}
		if err := svc.ChangePassword(bg(), p1, "a-new-password", "another-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Refresh(bg(), s1.RefreshToken); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := svc.Refresh(bg(), s2.RefreshToken); codeOf(err) != errs.Unauthorized {
			t.Fatalf("another session survived a password change: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		svc := newService(t, s, c)
		if _, _, err := svc.EnsureAdmin(bg(), pw); err != nil {
			t.Fatal(err)
		}
		adm, _ := svc.Login(bg(), identity.Credentials{Username: "admin", Password: pw})
		ap, _ := svc.Authenticate(bg(), adm.AccessToken)

		if _, err := svc.CreateAPIKey(bg(), ap, identity.NewAPIKey{Name: "", Scopes: []string{"cases:read", "root"}, RegionCode: "nope",
			ExpiresAt: ptr(c.Now().Add(-time.Hour))}); codeOf(err) != errs.Invalid || len(fields(err)) != 4 {
			t.Fatalf("invalid key: %v", err)
		}
		k, err := svc.CreateAPIKey(bg(), ap, identity.NewAPIKey{Name: "12345 热线", Scopes: []string{"cases:read", "cases:write"}, RegionCode: "320613",
			ExpiresAt: ptr(c.Now().Add(48 * time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Secret, "gk_") || len(k.Secret) != 3+43 || !strings.HasPrefix(k.Secret, k.Prefix) || strings.Contains(k.Hash, k.Secret) {
			t.Fatalf("key: %+v", k)
		}
		p, err := svc.Authenticate(bg(), k.Secret)
		if err != nil || !p.IsAPIKey() || p.Role != identity.RoleIntegrator || p.Scope.Kind != identity.ScopeRegion ||
			p.Scope.RegionPath != "/320600/320613/" || !p.HasAPIScope("cases:write") || p.HasAPIScope("open311") {
			t.Fatalf("key principal: %+v %v", p, err)
		}
		if _, err := svc.Authenticate(bg(), k.Secret+"x"); codeOf(err) != errs.Unauthorized {
			t.Fatalf("a wrong key: %v", err)
		}
		if _, err := svc.ListAPIKeys(bg(), p, identity.APIKeyFilter{}); codeOf(err) != errs.Forbidden {
			t.Fatalf("a key manages keys: %v", err)
		}
		if err := svc.ChangePassword(bg(), p, "a", "b"); codeOf(err) != errs.Forbidden {
			t.Fatalf("a key changes a password: %v", err)
		}
		me, err := svc.Me(bg(), p)
		if err != nil || me.APIKey == nil || me.APIKey.Name != "12345 热线" || me.APIKey.LastUsedAt == nil {
			t.Fatalf("me as a key: %+v %v", me, err)
		}

		c.Add(48*time.Hour + time.Second)
		if _, err := svc.Authenticate(bg(), k.Secret); codeOf(err) != errs.Unauthorized {
			t.Fatalf("expired key: %v", err)
		}
		all, err := svc.CreateAPIKey(bg(), ap, identity.NewAPIKey{Name: "city brain", Scopes: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := svc.Authenticate(bg(), all.Secret); err != nil || p.Scope.Kind != identity.ScopeAll || !p.HasAPIScope("open311") {
			t.Fatalf("all-scope key: %+v %v", p, err)
		}
		if err := svc.RevokeAPIKey(bg(), ap, all.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(bg(), all.Secret); codeOf(err) != errs.Unauthorized {
			t.Fatalf("revoked key: %v", err)
		}
		if err := svc.RevokeAPIKey(bg(), ap, 9999); codeOf(err) != errs.NotFound {
			t.Fatalf("revoke missing: %v", err)
		}
		page, err := svc.ListAPIKeys(bg(), ap, identity.APIKeyFilter{IncludeRevoked: true})
		if err != nil || page.Total != 2 {
			t.Fatalf("list: %+v %v", page, err)
		}
	})
}
