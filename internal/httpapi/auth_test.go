package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/config"
)

type tokenPair struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	User             struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
	} `json:"user"`
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field string `json:"field"`
		Rule  string `json:"rule"`
	} `json:"errors"`
}

func (p problem) fields() string {
	var fs []string
	for _, e := range p.Errors {
		fs = append(fs, e.Field)
	}
	return strings.Join(fs, ",")
}

func login(t *testing.T, e *apptest.Env, username, password string) tokenPair {
	t.Helper()
	var tp tokenPair
	e.Post("/api/v1/auth/login", "-", map[string]string{"username": username, "password": password}).MustStatus(t, http.StatusOK).JSON(t, &tp)
	return tp
}

func TestLoginMeRefreshReuseLogout(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		first := login(t, e, "admin", apptest.AdminPassword)
		if first.TokenType != "Bearer" || first.ExpiresIn != 900 || first.RefreshExpiresIn != 720*3600 || first.User.Username != "admin" ||
			first.AccessToken == "" || first.RefreshToken == "" {
			t.Fatalf("token response: %+v", first)
		}

		var me struct {
			Kind  string `json:"kind"`
			Role  string `json:"role"`
			Scope struct {
				Kind string `json:"kind"`
			} `json:"scope"`
			User struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		e.Get("/api/v1/me", first.AccessToken).MustStatus(t, http.StatusOK).JSON(t, &me)
		if me.Kind != "user" || me.Role != "admin" || me.Scope.Kind != "all" || me.User.Username != "admin" {
			t.Fatalf("me: %+v", me)
		}

		var second tokenPair
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": first.RefreshToken}).MustStatus(t, http.StatusOK).JSON(t, &second)
		if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
			t.Fatalf("refresh did not rotate: %+v", second)
		}
		e.Get("/api/v1/me", second.AccessToken).MustStatus(t, http.StatusOK)

		// The old refresh token again: theft is assumed, the whole session is revoked.
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": first.RefreshToken}).MustStatus(t, http.StatusUnauthorized)
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": second.RefreshToken}).MustStatus(t, http.StatusUnauthorized)

		third := login(t, e, "admin", apptest.AdminPassword)
		e.Post("/api/v1/auth/logout", "-", map[string]string{"refresh_token": third.RefreshToken}).MustStatus(t, http.StatusNoContent)
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": third.RefreshToken}).MustStatus(t, http.StatusUnauthorized)
		e.Post("/api/v1/auth/logout", "-", map[string]string{"refresh_token": "never-issued"}).MustStatus(t, http.StatusNoContent)
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": "never-issued"}).MustStatus(t, http.StatusUnauthorized)
	})
}

func TestLoginBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		var wrong, unknown problem
		e.Post("/api/v1/auth/login", "-", map[string]string{"username": "admin", "password": "wrong-password"}).
			MustStatus(t, http.StatusUnauthorized).JSON(t, &wrong)
		e.Post("/api/v1/auth/login", "-", map[string]string{"username": "ghost", "password": "wrong-password"}).
			MustStatus(t, http.StatusUnauthorized).JSON(t, &unknown)
		if wrong.Detail != unknown.Detail || strings.Contains(wrong.Detail, "exist") {
			t.Fatalf("the failure tells whether the user exists: %q vs %q", wrong.Detail, unknown.Detail)
		}

		tests := []struct {
			name   string
			body   string
			ctype  string
			status int
			fields string
		}{
			{"malformed", `{"username": "admin",`, "application/json", 400, ""},
			{"not an object", `[1,2]`, "application/json", 422, "body"},
			{"unknown field", `{"username":"admin","password":"x","otp":"1"}`, "application/json", 422, "otp"},
			{"wrong type", `{"username":"admin","password":12}`, "application/json", 422, "password"},
			{"missing both", `{}`, "application/json", 422, "username,password"},
			{"form body", `username=admin&password=x`, "application/x-www-form-urlencoded", 415, ""},
			{"trailing data", `{"username":"admin","password":"x"} {}`, "application/json", 400, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var p problem
				e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Token: "-", Body: strings.NewReader(tc.body),
					Header: map[string]string{"Content-Type": tc.ctype}}).MustStatus(t, tc.status).JSON(t, &p)
				if tc.fields != "" && p.fields() != tc.fields {
					t.Fatalf("fields %q, want %q", p.fields(), tc.fields)
				}
			})
		}

		for name, header := range map[string]map[string]string{
			"garbage bearer":     {"Authorization": "Bearer not-a-token"},
			"basic auth":         {"Authorization": "Basic YWRtaW46eA=="},
			"unknown API key":    {"X-API-Key": "gk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			"alg none":           {"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0."},
			"no credentials":     {},
			"empty bearer value": {"Authorization": "Bearer "},
		} {
			e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/me", Token: "-", Header: header}).MustStatus(t, http.StatusUnauthorized)
			_ = name
		}
	})
}

// behindProxy trusts the test client as a proxy, so X-Forwarded-For sets the client address.
func behindProxy(c *config.Config) {
	c.TrustedProxies = []string{"127.0.0.1", "::1"}
	c.LoginMaxFailures = 3
}

func loginFrom(e *apptest.Env, addr, username, password string) *apptest.Response {
	e.T.Helper()
	return e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Token: "-",
		JSON:   map[string]string{"username": username, "password": password},
		Header: map[string]string{"X-Forwarded-For": addr}})
}

func TestLoginLockoutPerAccountAndAddress(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := login(t, e, "admin", apptest.AdminPassword)
		e.Post("/api/v1/users", admin.AccessToken, map[string]any{
			"username": "zhou", "display_name": "周调度", "password": "zhou-password", "role": "dispatcher", "scope": map[string]any{"kind": "all"},
		}).MustStatus(t, http.StatusCreated)

		// Per account: failures from three addresses lock the account, for every address.
		for i := 1; i <= 3; i++ {
			loginFrom(e, "10.0.0."+strconv.Itoa(i), "zhou", "wrong-password").MustStatus(t, http.StatusUnauthorized)
		}
		res := loginFrom(e, "10.0.0.4", "zhou", "zhou-password").MustStatus(t, http.StatusTooManyRequests)
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60 {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		// Other accounts are not affected.
		loginFrom(e, "10.0.0.4", "admin", apptest.AdminPassword).MustStatus(t, http.StatusOK)

		// Per address: failures for three accounts from one address lock that address.
		for _, u := range []string{"a1", "a2", "a3"} {
			loginFrom(e, "192.0.2.7", u, "wrong-password").MustStatus(t, http.StatusUnauthorized)
		}
		loginFrom(e, "192.0.2.7", "admin", apptest.AdminPassword).MustStatus(t, http.StatusTooManyRequests)
		loginFrom(e, "192.0.2.8", "admin", apptest.AdminPassword).MustStatus(t, http.StatusOK)
	}, behindProxy)
}

func TestClientAddressNotSpoofable(t *testing.T) {
	// Without trusted proxies, X-Forwarded-For is ignored: rotating it does not escape the
	// per-address limit.
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		for i := 1; i <= 3; i++ {
			loginFrom(e, "10.1.0."+strconv.Itoa(i), "user"+strconv.Itoa(i), "wrong-password").MustStatus(t, http.StatusUnauthorized)
		}
		loginFrom(e, "10.1.0.9", "admin", apptest.AdminPassword).MustStatus(t, http.StatusTooManyRequests)
	}, func(c *config.Config) { c.LoginMaxFailures = 3 })
}

func TestChangeMyPassword(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		s1 := login(t, e, "admin", apptest.AdminPassword)
		s2 := login(t, e, "admin", apptest.AdminPassword)
		put := func(tok string, body map[string]string) *apptest.Response {
			return e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/me/password", Token: tok, JSON: body})
		}
		var p problem
		put(s1.AccessToken, map[string]string{"current_password": "nope-nope-nope", "new_password": "brand-new-password"}).
			MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
		if p.fields() != "current_password" {
			t.Fatalf("fields %q", p.fields())
		}
		put(s1.AccessToken, map[string]string{"current_password": apptest.AdminPassword, "new_password": "short"}).
			MustStatus(t, http.StatusUnprocessableEntity)
		put(s1.AccessToken, map[string]string{"current_password": apptest.AdminPassword, "new_password": "brand-new-password"}).
			MustStatus(t, http.StatusNoContent)
		put("-", map[string]string{"current_password": "x", "new_password": "y"}).MustStatus(t, http.StatusUnauthorized)

		e.Post("/api/v1/auth/login", "-", map[string]string{"username": "admin", "password": apptest.AdminPassword}).MustStatus(t, http.StatusUnauthorized)
		login(t, e, "admin", "brand-new-password")
		// This session lives on; the other one ended.
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": s1.RefreshToken}).MustStatus(t, http.StatusOK)
		e.Post("/api/v1/auth/refresh", "-", map[string]string{"refresh_token": s2.RefreshToken}).MustStatus(t, http.StatusUnauthorized)
	})
}
