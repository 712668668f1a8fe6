package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that drops and creates the database

	"github.com/gridcase/gridcase/internal/app"
	"github.com/gridcase/gridcase/internal/store"
)

// options are loadgen's flags.
type options struct {
	db      string
	n       int
	runs    int
	explain bool
	keep    bool
	reuse   bool
	seed    int64
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.db, "db", "", "postgres://…/<name with load> or a SQLite file path (*load*.db); dropped first")
	fs.IntVar(&o.n, "n", 100_000, "how many cases")
	fs.IntVar(&o.runs, "runs", 20, "timed runs per query (after one warm-up)")
	fs.BoolVar(&o.explain, "explain", false, "print each query's plan (EXPLAIN ANALYZE on PostgreSQL)")
	fs.BoolVar(&o.keep, "keep", false, "keep the database afterwards")
	fs.BoolVar(&o.reuse, "reuse", false, "time a database a kept run filled (no drop, no fill)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.db == "" || o.n <= 0 || o.runs <= 0 {
		return errors.New("say -db, and a positive -n and -runs")
	}
	pg := strings.HasPrefix(o.db, "postgres://") || strings.HasPrefix(o.db, "postgresql://")
	name := filepath.Base(o.db)
	if pg {
		u, err := url.Parse(o.db)
		if err != nil {
			return fmt.Errorf("-db: %w", err)
		}
		name = strings.TrimPrefix(u.Path, "/")
	}
	if !strings.Contains(name, "load") {
		return fmt.Errorf("-db %q: the database name must contain \"load\" (it is dropped)", name)
	}
	if !o.reuse {
		if err := dropDatabase(ctx, o.db, pg, true); err != nil {
			return err
		}
		if err := seedDemo(ctx, o.db, getenv, stdout); err != nil {
			return err
		}
	}
	if !o.keep {
		defer func() {
			if err := dropDatabase(context.Background(), o.db, pg, false); err != nil {
				fmt.Fprintln(stdout, "drop:", err)
			}
		}()
	}
	s, err := store.Open(ctx, o.db, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	city, err := readCity(ctx, s)
	if err != nil {
		return err
	}
	if !o.reuse {
		start := time.Now()
		if err := fill(ctx, s, city, o, stdout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "filled %d cases in %s\n", o.n, time.Since(start).Round(time.Second))
	}
	return measure(ctx, s, city, o, stdout)
}

// seedDemo migrates the database and loads the demo city with gridcase's own seed command.
func seedDemo(ctx context.Context, db string, getenv func(string) string, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "gridcase-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"GRIDCASE_DATABASE_URL": db, "GRIDCASE_DATA_DIR": dir, "GRIDCASE_LOG_LEVEL": "error",
		"GRIDCASE_JOBS_WORK": "false"}
	start := time.Now()
	err = app.Run(ctx, []string{"seed", "--demo"}, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}, io.Discard)
	if err != nil {
		return fmt.Errorf("seed the demo city: %w", err)
	}
	fmt.Fprintf(stdout, "seeded the demo city in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// dropDatabase drops a PostgreSQL database (and creates it again when create) or removes a
// SQLite file.
func dropDatabase(ctx context.Context, db string, pg, create bool) error {
	if !pg {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(db + suffix); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	u, err := url.Parse(db)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	if create {
		if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q`, name)); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}
