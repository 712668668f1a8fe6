// Package storetest gives tests real databases: a fresh SQLite file in a temp dir, and a
// fresh PostgreSQL database cloned from a migrated template (CREATE DATABASE … TEMPLATE), so
// every test starts on an empty, fully migrated schema in milliseconds.
//
// PostgreSQL is required: when it cannot be reached the test fails, it is never skipped.
// GRIDCASE_TEST_POSTGRES_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for admin statements

	"github.com/gridcase/gridcase/internal/store"
)

// DefaultPostgresURL is the server tests use unless GRIDCASE_TEST_POSTGRES_URL says otherwise.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Each runs fn as two subtests, "sqlite" and "postgres", each on its own fresh database.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated store of the dialect, closed and dropped when t ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	u := URL(t, d)
	s, err := store.Open(context.Background(), u, nil)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	if d == store.SQLite {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// URL returns the URL of a fresh database of the dialect (migrated, for PostgreSQL; a
// SQLite file does not exist until opened). It is dropped when t ends.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "gridcase.db")
	}
	return freshPostgres(t)
}

func adminURL() string {
	if u := os.Getenv("GRIDCASE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	adminDB      *sql.DB
)

func freshPostgres(t testing.TB) string {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate() })
	if templateErr != nil {
		t.Fatalf("postgres test template (is PostgreSQL running at %s? .ci/run starts it): %v", adminURL(), templateErr)
	}
	name := "gridcase_t_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		_, err = adminDB.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName))
		if err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adminDB.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return withDatabase(adminURL(), name)
}

// ensureTemplate creates and migrates the template database named by the migrations' digest,
// once across all test processes (an advisory lock serialises the packages go test runs at
// once).
func ensureTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", adminURL())
	if err != nil {
		return "", err
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		return "", err
	}
	adminDB = db
	name := "gridcase_tmpl_" + store.MigrationsDigest()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64() >> 1)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key) //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	s, err := store.Open(ctx, withDatabase(adminURL(), building), nil)
	if err != nil {
		return "", err
	}
	err = s.Migrate(ctx)
	_ = s.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
