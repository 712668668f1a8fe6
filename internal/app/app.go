// Package app wires gridcase together: configuration, the store, the services and the HTTP
// server, and the command-line commands that use them.
package app

import (
	"context"
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

	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/httpapi"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
)

const usage = `gridcase — case tracking for grid-based community governance

Usage:
  gridcase [serve]                         start the HTTP server (migrates first)
  gridcase migrate                         apply database migrations and exit
  gridcase seed --demo                     load the Nantong demo city into an empty database
  gridcase user create -username U -password P -role R [-scope-region CODE | -scope-department CODE | -scope-grids C1,C2]
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
	Server   *httpapi.Server
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
		Config:   cfg,
		Log:      log,
		DB:       s,
		Identity: a.Identity,
		Regions:  a.Regions,
	})
	return a, nil
}

// assemble creates the domain services on the store.
func (a *App) assemble(ctx context.Context) error {
	a.Identity = &identity.Service{}
	a.Regions = &region.Service{}
	return nil
}

// Start runs background work (index refresh, job workers) until ctx ends.
func (a *App) Start(ctx context.Context) error { return nil }

// Close releases what Build opened.
func (a *App) Close() error { return a.Store.Close() }

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
func (a *App) Bootstrap(ctx context.Context, stdout io.Writer) error { return nil }

func seedCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "load the Nantong demo city")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("seed: say --demo")
	}
	return errors.New("seed: not built yet")
}

func userCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("user: not built yet")
}

func importCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("import: not built yet")
}
