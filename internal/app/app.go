// Package app wires gridcase together: configuration, the store, the services and the HTTP
// server, and the command-line commands that use them.
package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/events"
	"github.com/gridcase/gridcase/internal/httpapi"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/stats"
	"github.com/gridcase/gridcase/internal/store"
)

const usage = `gridcase — case tracking for grid-based community governance

Usage:
  gridcase [serve]                         start the HTTP server (migrates first)
  gridcase migrate                         apply database migrations and exit
  gridcase seed --demo                     load the Nantong demo city into an empty database
  gridcase user create -username U -role R [-display-name N] [-password P | -password-stdin]
                      [-scope-all | -scope-region CODE | -scope-department DEPTCODE | -scope-grids C1,C2]
                      [-worker-kind full_time|part_time]
  gridcase import regions FILE.geojson     import a GeoJSON FeatureCollection of regions

Configuration comes from GRIDCASE_* environment variables; see docs/configuration.md.
`

// Run parses the command line and runs one command.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Parse(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		s, err := openStore(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "seed":
		return seedCommand(ctx, cfg, log, args, stdout)
	case "user":
		return userCommand(ctx, cfg, log, args, stdout)
	case "import":
		return importCommand(ctx, cfg, log, args, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, log)
}

// App is the assembled service.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Identity *identity.Service
	Regions  *region.Service
	Media    *media.Service
	// Categories is the case catalogue; Cases the case workflow.
	Categories *category.Service
	Cases      *casework.Service
	// Jobs is the job queue (River) of this process; Events the event feed and webhooks.
	Jobs   *jobs.Runner
	Events *events.Service
	// Calendars are the cities' work calendars, stage limits and supervision rules.
	Calendars *calendar.Service
	// Stats computes the assessment tables (考核统计) from the event log.
	Stats  *stats.Service
	Server *httpapi.Server
}

// Build opens and migrates the database and assembles the services and the HTTP server.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Store: s}
	if err := a.assemble(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	a.Server = httpapi.New(httpapi.Deps{
		Config:     cfg,
		Log:        log,
		DB:         s,
		Identity:   a.Identity,
		Regions:    a.Regions,
		Media:      a.Media,
		Categories: a.Categories,
		Cases:      a.Cases,
		Events:     a.Events,
		Calendars:  a.Calendars,
		Stats:      a.Stats,
	})
	return a, nil
}

// assemble creates the domain services on the store.
func (a *App) assemble(ctx context.Context) error {
	regions, err := region.NewService(ctx, a.Store, region.Config{Log: a.Log})
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	a.Regions = regions
	if err := a.assembleJobs(ctx); err != nil { // first: services register their jobs on it
		return err
	}
	if err := a.assembleIdentity(); err != nil {
		return err
	}
	if err := a.assembleMedia(ctx); err != nil {
		return err
	}
	if err := a.assembleCalendars(ctx); err != nil {
		return err
	}
	if err := a.assembleCasework(); err != nil {
		return err
	}
	a.assembleTimers()
	a.assembleStats()
	if err := a.assembleEvents(); err != nil {
		return err
	}
	return nil
}

// assembleIdentity builds the identity service; region paths come from a.Regions, so it
// runs after the region service is built.
func (a *App) assembleIdentity() error {
	keys, err := identity.LoadKeys(a.Config.JWTPrivateKey, a.Config.JWTPreviousKeys, a.Config.DataDir)
	if err != nil {
		return fmt.Errorf("access token keys: %w", err)
	}
	var regions identity.RegionResolver
	if a.Regions != nil {
		regions = a.Regions
	}
	a.Identity, err = identity.New(a.Store, regions, identity.Config{
		Keys:             keys,
		Issuer:           a.Config.JWTIssuer,
		Audience:         a.Config.JWTAudience,
		AccessTTL:        a.Config.AccessTTL,
		RefreshTTL:       a.Config.RefreshTTL,
		LoginMaxFailures: a.Config.LoginMaxFailures,
		LoginWindow:      a.Config.LoginWindow,
		Log:              a.Log,
	})
	return err
}

// Start runs background work (index refresh, job workers) until ctx ends.
func (a *App) Start(ctx context.Context) error {
	// Every replica polls the "regions" change counter and reloads its locate index when
	// another replica changed boundaries or validity.
	go a.Regions.Watch(ctx, a.Config.RegionRefresh)
	go a.Cases.ForgetIdempotencyKeys(ctx, time.Hour, a.Config.IdempotencyTTL, a.Log)
	a.startCalendars(ctx)
	return a.startJobs(ctx) // last: every service has registered its workers
}

// Close releases what Build opened.
func (a *App) Close() error {
	if err := a.closeJobs(); err != nil {
		a.Log.Warn("stop the job queue", "error", err)
	}
	if a.Media != nil {
		_ = a.Media.Close()
	}
	return a.Store.Close()
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Bootstrap(ctx, stdout); err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           a.Server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(stdout, "gridcase listening on %s\n  API:        %s/api/v1\n  Swagger UI: %s/swagger/index.html\n  OpenAPI 3:  %s/openapi.json\n",
		ln.Addr(), cfg.PublicURL, cfg.PublicURL, cfg.PublicURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// bootstrap loads the demo city into an empty database when configured, and makes sure an
// admin exists (GRIDCASE_BOOTSTRAP_ADMIN_PASSWORD, or a random password printed once).
func (a *App) Bootstrap(ctx context.Context, stdout io.Writer) error {
	if err := a.ensureCalendars(ctx); err != nil {
		return err
	}
	// The demo runs before the admin step: it brings its own admin.
	if a.Config.Demo {
		if err := a.seedDemo(ctx, stdout); err != nil {
			return err
		}
	}

	created, generated, err := a.Identity.EnsureAdmin(ctx, a.Config.BootstrapAdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	switch {
	case created && generated != "":
		// Printed once, to stdout only (never to the log); it is not stored anywhere else.
		fmt.Fprintf(stdout, "created admin with password %s\n  (shown once: sign in and change it with PUT /api/v1/me/password)\n", generated)
	case created:
		fmt.Fprintln(stdout, "created admin with the password from GRIDCASE_BOOTSTRAP_ADMIN_PASSWORD")
	}
	return nil
}

func seedCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "load the Nantong demo city")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("seed: say --demo")
	}
	a, err := Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.ensureCalendars(ctx); err != nil {
		return err
	}
	return a.seedDemo(ctx, stdout)
}

// userCommand runs `gridcase user create …`.
func userCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: gridcase user create -username U -role R [-display-name N] [-password P | -password-stdin] [-scope-all | -scope-region CODE | -scope-department DEPTCODE | -scope-grids C1,C2] [-worker-kind full_time|part_time]")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		username    = fs.String("username", "", "sign-in name (3–64 letters, digits, . _ @ -)")
		role        = fs.String("role", "", "admin, dispatcher, handler, supervisor or grid_worker")
		displayName = fs.String("display-name", "", "name shown to others (default: the username)")
		phone       = fs.String("phone", "", "phone number")
		password    = fs.String("password", "", "password (visible in the process list: prefer -password-stdin)")
		pwStdin     = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		scopeAll    = fs.Bool("scope-all", false, "every region (admins always; a city-wide dispatcher or supervisor)")
		scopeRegion = fs.String("scope-region", "", "region code of a dispatcher's or supervisor's scope")
		scopeDept   = fs.String("scope-department", "", "department code of a handler's scope")
		scopeGrids  = fs.String("scope-grids", "", "comma-separated grid codes of a grid worker's scope")
		workerKind  = fs.String("worker-kind", "", "full_time or part_time (grid workers)")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *password != "" && *pwStdin {
		return errors.New("user create: give -password or -password-stdin, not both")
	}
	pw := *password
	if *pwStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("user create: read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	generated := pw == ""
	if generated {
		pw = rand.Text()
	}
	if *displayName == "" {
		*displayName = *username
	}

	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	a := &App{Config: cfg, Log: log, Store: s}
	if err := a.assemble(ctx); err != nil {
		return err
	}
	in := identity.NewUser{
		Username: *username, DisplayName: *displayName, Phone: *phone, Password: pw,
		Role: identity.Role(*role), WorkerKind: identity.WorkerKind(*workerKind),
		Scope: identity.Scope{RegionCode: *scopeRegion},
	}
	if *scopeAll || (*role == string(identity.RoleAdmin) && *scopeRegion == "") {
		in.Scope.Kind = identity.ScopeAll
	}
	if *scopeGrids != "" {
		in.Scope.GridCodes = strings.Split(*scopeGrids, ",")
	}
	if *scopeDept != "" {
		d, err := a.Identity.DepartmentByCode(ctx, *scopeDept)
		if err != nil {
			return fmt.Errorf("user create: -scope-department: %w", err)
		}
		in.Scope.DepartmentID = d.ID
	}
	u, err := a.Identity.CreateUser(ctx, identity.System(), in)
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	fmt.Fprintln(stdout, u.ID)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown once): %s\n", pw)
	}
	return nil
}

// importCommand runs `gridcase import regions FILE.geojson` (regions_import.go).
func importCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return importRegionsCommand(ctx, cfg, log, args, stdout)
}
