package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/events"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/stats"
)

// Pinger is what /readyz asks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the services the handlers call.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	DB       Pinger
	Identity *identity.Service
	Regions  *region.Service
	Media    *media.Service
	// Categories is the case catalogue; Cases the case workflow.
	Categories *category.Service
	Cases      *casework.Service
	// Events is the event feed, webhooks and server-sent events.
	Events *events.Service
	// Calendars are the cities' work calendars, stage limits and supervision rules.
	Calendars *calendar.Service
	// Stats computes the assessment tables (考核统计).
	Stats *stats.Service
}

// Server is the HTTP API.
type Server struct {
	Deps
	log     *slog.Logger
	engine  *gin.Engine
	metrics *metrics
}

// New builds the router with every route and middleware.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{Deps: d, log: d.Log, engine: gin.New(), metrics: newMetrics()}
	s.engine.HandleMethodNotAllowed = true
	// Only configured proxies may set the client address (Gin trusts every proxy by default).
	if err := s.engine.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		d.Log.Error("GRIDCASE_TRUSTED_PROXIES ignored", "error", err)
		_ = s.engine.SetTrustedProxies(nil)
	}
	s.engine.ContextWithFallback = true
	s.engine.Use(s.requestID, s.recover, s.accessLog, s.cors, s.limitBody)
	s.engine.NoRoute(func(c *gin.Context) { s.fail(c, errNoRoute) })
	s.engine.NoMethod(func(c *gin.Context) { s.fail(c, errNoMethod) })
	s.routes()
	return s
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() {
	r := s.engine
	r.GET("/livez", s.livez)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	s.registerSpec(r)

	api := r.Group("/api/v1", s.authenticate)
	s.registerAuth(api)
	s.registerUsers(api)
	s.registerRegions(api)
	s.registerAttachments(api)
	s.registerCategories(api)
	s.registerCases(api)
	s.registerCaseLists(api)
	s.registerEvents(api)
	s.registerWebhooks(api)
	s.registerCalendars(api)
	s.registerCaseTime(api)
	s.registerStats(api)
}

// livez godoc
//
//	@Summary	Liveness: the process serves HTTP
//	@ID			livez
//	@Tags		ops
//	@Produce	json
//	@Success	200	{object}	Health
//	@Router		/livez [get]
func (s *Server) livez(c *gin.Context) { c.JSON(http.StatusOK, Health{Status: "ok"}) }

// readyz godoc
//
//	@Summary	Readiness: the database answers
//	@ID			readyz
//	@Tags		ops
//	@Produce	json
//	@Success	200	{object}	Health
//	@Failure	503	{object}	Problem
//	@Router		/readyz [get]
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, Health{Status: "ok"})
}

// Health is the answer of the health probes.
type Health struct {
	Status string `json:"status" example:"ok"`
} //	@name	Health

// ---- middleware ----

const ctxRequestID = "request_id"

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !safeRequestID.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", slog.String("request_id", requestID(c)), slog.Any("panic", v))
			s.fail(c, errPanic)
		}
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("duration_us", elapsed.Microseconds()),
		slog.Int("bytes", c.Writer.Size()),
	}
	if p, ok := principalOf(c); ok {
		attrs = append(attrs, slog.Int64("user_id", p.UserID), slog.Int64("api_key_id", p.APIKeyID))
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || !(slices.Contains(s.Config.CORSOrigins, "*") || slices.Contains(s.Config.CORSOrigins, origin)) {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-ID, ETag, Location, Idempotency-Key")
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key, X-Request-ID, If-Match, Idempotency-Key")
		h.Set("Access-Control-Max-Age", "600")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// limitBody caps every request body at the configured size; routes that take uploads raise
// it for themselves with withBodyLimit.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Set(ctxRawBody, c.Request.Body)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.Config.MaxBodyBytes)
	}
	c.Next()
}

// ctxRawBody keeps the body as it came, so that withBodyLimit can raise the limit: a reader
// wrapped twice is held to the smaller of its two limits.
const ctxRawBody = "raw_body"

// withBodyLimit replaces the default body limit for one route.
func withBodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		body := c.Request.Body
		if raw, ok := c.Get(ctxRawBody); ok {
			if rc, ok := raw.(io.ReadCloser); ok {
				body = rc
			}
		}
		if body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, body, n)
		}
		c.Next()
	}
}

// ---- principal ----

const ctxPrincipal = "principal"

func principalOf(c *gin.Context) (identity.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return identity.Principal{}, false
	}
	p, ok := v.(identity.Principal)
	return p, ok
}

// authenticate reads the credentials if any were sent: an invalid credential is 401 at
// once; none at all leaves the request anonymous for requireAuth to refuse where needed.
func (s *Server) authenticate(c *gin.Context) {
	token := ""
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
			s.fail(c, errBadAuthHeader)
			return
		}
		token = strings.TrimSpace(value)
	} else if k := c.GetHeader("X-API-Key"); k != "" {
		token = k
	}
	if token == "" {
		c.Next()
		return
	}
	p, err := s.Identity.Authenticate(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// requireAuth refuses anonymous requests with 401.
func (s *Server) requireAuth(c *gin.Context) {
	if _, ok := principalOf(c); !ok {
		s.fail(c, errNoCredentials)
		return
	}
	c.Next()
}

// mustPrincipal returns the caller; use only behind requireAuth.
func mustPrincipal(c *gin.Context) identity.Principal {
	p, _ := principalOf(c)
	return p
}

// ---- metrics ----

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridcase_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gridcase_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry lets other parts of the service add their metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }
