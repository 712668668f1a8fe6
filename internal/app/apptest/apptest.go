// Package apptest runs the whole gridcase service for tests: a real database (SQLite or
// PostgreSQL, fresh per test), the real router behind httptest, and every response checked
// against the generated OpenAPI document (status, headers and body schema).
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gridcase/gridcase/internal/app"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/httpapi"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// AdminPassword is the bootstrap admin's password in every test environment.
const AdminPassword = "admin-test-password"

// Env is one running service.
type Env struct {
	T       testing.TB
	Dialect store.Dialect
	App     *app.App
	Server  *httptest.Server
	// Token is sent as a bearer token when a request sets none.
	Token string
}

// Option adjusts the configuration before the service is built.
type Option func(*config.Config)

// Each runs fn against a service on SQLite and one on PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, e *Env), opts ...Option) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, New(t, d, opts...)) })
	}
}

// New builds and starts a service on a fresh database of the dialect.
func New(t testing.TB, d store.Dialect, opts ...Option) *Env {
	t.Helper()
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = storetest.URL(t, d)
	cfg.DataDir = t.TempDir()
	cfg.BootstrapAdminPassword = AdminPassword
	cfg.LogLevel = "error"
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("build app: %v", err)
	}
	if err := a.Bootstrap(ctx, io.Discard); err != nil {
		cancel()
		t.Fatalf("bootstrap: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	srv := httptest.NewServer(a.Server.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		_ = a.Close()
	})
	return &Env{T: t, Dialect: d, App: a, Server: srv}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Status, truncate(r.Body), err)
	}
}

// Map decodes a JSON object body.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Req describes one request.
type Req struct {
	Method  string
	Path    string // with query string
	JSON    any    // marshalled as the body unless Body is set
	Body    io.Reader
	Header  map[string]string
	Token   string // bearer token; "-" sends none even if Env.Token is set
	NoCheck bool   // skip spec validation (for deliberately undocumented routes)
}

// Do sends a request through the real router and validates the response against the spec.
func (e *Env) Do(r Req) *Response {
	e.T.Helper()
	var body io.Reader = r.Body
	if body == nil && r.JSON != nil {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			e.T.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(r.Method, e.Server.URL+r.Path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	if r.JSON != nil && r.Body == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := r.Token
	if tok == "" {
		tok = e.Token
	}
	if tok != "" && tok != "-" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	res, err := e.Server.Client().Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	if !r.NoCheck {
		if err := ValidateResponse(req, out); err != nil {
			e.T.Errorf("%s %s → %d does not match the OpenAPI spec: %v\nbody: %s", r.Method, r.Path, out.Status, err, truncate(b))
		}
	}
	return out
}

// Get is Do with GET.
func (e *Env) Get(path string, token string) *Response {
	e.T.Helper()
	return e.Do(Req{Method: http.MethodGet, Path: path, Token: token})
}

// Post is Do with POST and a JSON body.
func (e *Env) Post(path string, token string, body any) *Response {
	e.T.Helper()
	return e.Do(Req{Method: http.MethodPost, Path: path, Token: token, JSON: body})
}

// Multipart builds a multipart body with fields and one file part.
func Multipart(fields map[string]string, fileField, fileName string, file []byte) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

// Login signs in and returns the access token, failing the test on error.
func (e *Env) Login(username, password string) string {
	e.T.Helper()
	res := e.Post("/api/v1/auth/login", "-", map[string]string{"username": username, "password": password})
	if res.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", username, res.Status, res.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(e.T, &tok)
	return tok.AccessToken
}

// AdminToken signs in as the bootstrap admin.
func (e *Env) AdminToken() string {
	e.T.Helper()
	return e.Login("admin", AdminPassword)
}

// MustStatus fails the test unless the response has the status.
func (r *Response) MustStatus(t testing.TB, want int) *Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, truncate(r.Body))
	}
	return r
}

// ---- spec validation ----

type specRouter struct {
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*specRouter, error) {
	b, err := httpapi.OpenAPI3("swagger")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	doc.Servers = nil // match any host
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route spec: %w", err)
	}
	return &specRouter{doc: doc, router: r}, nil
})

// ValidateResponse checks one response against the generated spec. Routes outside the spec's
// concern (Swagger UI, /metrics, the spec documents themselves) are not checked. A problem
// document (application/problem+json) is checked as the JSON schema its status documents.
func ValidateResponse(req *http.Request, res *Response) error {
	p := req.URL.Path
	if strings.HasPrefix(p, "/swagger") || p == "/metrics" || strings.HasPrefix(p, "/openapi") {
		return nil
	}
	spec, err := loadSpec()
	if err != nil {
		return err
	}
	u := *req.URL
	u.Scheme, u.Host = "", ""
	r2 := req.Clone(context.Background())
	r2.URL = &url.URL{Path: u.Path, RawQuery: u.RawQuery}
	route, params, err := spec.router.FindRoute(r2)
	if err != nil {
		if res.Status == http.StatusNotFound || res.Status == http.StatusMethodNotAllowed {
			return nil // no such route, answered as such
		}
		return fmt.Errorf("route not in spec: %w", err)
	}
	h := res.Header.Clone()
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "application/problem+json") {
		h.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r2, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  res.Status,
		Header:  h,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(res.Body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
