package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/app/apptest"
)

func TestProbesAndProblems(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.Get("/livez", "").MustStatus(t, http.StatusOK)
		e.Get("/readyz", "").MustStatus(t, http.StatusOK)

		res := e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/no-such-thing", NoCheck: true})
		res.MustStatus(t, http.StatusNotFound)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("content type %q, want application/problem+json", ct)
		}
		p := res.Map(t)
		if p["type"] != "https://gridcase.dev/problems/not_found" || p["status"] != float64(404) || p["request_id"] == "" {
			t.Fatalf("problem document: %v", p)
		}
		if res.Header.Get("X-Request-ID") != p["request_id"] {
			t.Fatalf("request id header %q != body %v", res.Header.Get("X-Request-ID"), p["request_id"])
		}

		m := e.Do(apptest.Req{Method: http.MethodGet, Path: "/metrics", NoCheck: true}).MustStatus(t, http.StatusOK)
		if !strings.Contains(string(m.Body), "gridcase_http_requests_total") {
			t.Fatal("metrics do not count requests")
		}
		for _, p := range []string{"/swagger/doc.json", "/openapi.json", "/openapi/mobile.json", "/openapi/web.json", "/swagger/index.html"} {
			e.Get(p, "").MustStatus(t, http.StatusOK)
		}
	})
}
