package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/app/apptest"
)

func TestAPIKeyLifecycle(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedTestRegions(t, e)
		admin := e.AdminToken()

		var created struct {
			ID         int64    `json:"id"`
			Name       string   `json:"name"`
			Prefix     string   `json:"prefix"`
			Key        string   `json:"key"`
			Scopes     []string `json:"scopes"`
			RegionCode string   `json:"region_code"`
		}
		e.Post("/api/v1/api-keys", admin, map[string]any{"name": "12345 热线", "scopes": []string{"cases:read", "cases:write"}, "region_code": "320613",
			"expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}).MustStatus(t, http.StatusCreated).JSON(t, &created)
		if !strings.HasPrefix(created.Key, "gk_") || !strings.HasPrefix(created.Key, created.Prefix) || created.RegionCode != "320613" || len(created.Scopes) != 2 {
			t.Fatalf("created: %+v", created)
		}

		type meKey struct {
			Kind  string `json:"kind"`
			Role  string `json:"role"`
			Scope struct {
				Kind       string `json:"kind"`
				RegionCode string `json:"region_code"`
			} `json:"scope"`
			APIKey struct {
				Name   string   `json:"name"`
				Scopes []string `json:"scopes"`
			} `json:"api_key"`
		}
		var viaBearer, viaHeader meKey
		e.Get("/api/v1/me", created.Key).MustStatus(t, http.StatusOK).JSON(t, &viaBearer)
		e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/me", Token: "-", Header: map[string]string{"X-API-Key": created.Key}}).
			MustStatus(t, http.StatusOK).JSON(t, &viaHeader)
		for _, m := range []meKey{viaBearer, viaHeader} {
			if m.Kind != "api_key" || m.Role != "integrator" || m.Scope.Kind != "region" || m.Scope.RegionCode != "320613" ||
				m.APIKey.Name != "12345 热线" || strings.Join(m.APIKey.Scopes, " ") != "cases:read cases:write" {
				t.Fatalf("me as a key: %+v", m)
			}
		}

		// A key cannot manage keys or users; the list never shows secrets.
		e.Get("/api/v1/api-keys", created.Key).MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/users", created.Key).MustStatus(t, http.StatusForbidden)
		list := e.Get("/api/v1/api-keys", admin).MustStatus(t, http.StatusOK)
		if strings.Contains(string(list.Body), created.Key) || !strings.Contains(string(list.Body), created.Prefix) {
			t.Fatalf("list: %s", list.Body)
		}

		invalid := []struct {
			name   string
			body   map[string]any
			fields string
		}{
			{"empty", map[string]any{}, "name,scopes"},
			{"unknown scope", map[string]any{"name": "x", "scopes": []string{"root"}}, "scopes"},
			{"unknown region", map[string]any{"name": "x", "scopes": []string{"*"}, "region_code": "999999"}, "region_code"},
			{"expired already", map[string]any{"name": "x", "scopes": []string{"*"}, "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"},
		}
		for _, tc := range invalid {
			var p problem
			e.Post("/api/v1/api-keys", admin, tc.body).MustStatus(t, http.StatusUnprocessableEntity).JSON(t, &p)
			if p.fields() != tc.fields {
				t.Errorf("%s: fields %q, want %q", tc.name, p.fields(), tc.fields)
			}
		}
		e.Post("/api/v1/api-keys", admin, map[string]any{"name": "x", "scopes": []string{"*"}, "expires_at": "tomorrow"}).MustStatus(t, http.StatusUnprocessableEntity)

		// Only an admin manages keys.
		createUser(t, e, admin, map[string]any{"username": "boss", "display_name": "值班长", "password": "boss-password",
			"role": "supervisor", "scope": map[string]any{"kind": "all"}})
		boss := e.Login("boss", "boss-password")
		e.Post("/api/v1/api-keys", boss, map[string]any{"name": "x", "scopes": []string{"*"}}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/api-keys/%d", created.ID), Token: boss}).MustStatus(t, http.StatusForbidden)

		// Revocation takes effect at once, for both ways of sending the key.
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/api-keys/%d", created.ID), Token: admin}).MustStatus(t, http.StatusNoContent)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/api-keys/%d", created.ID), Token: admin}).MustStatus(t, http.StatusNoContent)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: "/api/v1/api-keys/999999", Token: admin}).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/me", created.Key).MustStatus(t, http.StatusUnauthorized)
		e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/me", Token: "-", Header: map[string]string{"X-API-Key": created.Key}}).
			MustStatus(t, http.StatusUnauthorized)
		var keys struct {
			Total int64 `json:"total"`
		}
		e.Get("/api/v1/api-keys", admin).MustStatus(t, http.StatusOK).JSON(t, &keys)
		if keys.Total != 0 {
			t.Fatalf("revoked key still listed: %d", keys.Total)
		}
		e.Get("/api/v1/api-keys?include_revoked=true", admin).MustStatus(t, http.StatusOK).JSON(t, &keys)
		if keys.Total != 1 {
			t.Fatalf("with revoked: %d", keys.Total)
		}
	})
}
