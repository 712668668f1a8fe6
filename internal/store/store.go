// Package store keeps gridcase's data in PostgreSQL or SQLite. It is the only package that
// imports GORM: row structs are private here and mapped to and from the domain's types, and
// driver errors are translated into errs codes.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/gormlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/gridcase/gridcase/internal/errs"
)

// Dialect names the database engine behind a Store.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// TimeLayout is how SQLite stores times: fixed width, UTC, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Store is a handle on the database. Inside InTx it is bound to the transaction.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	log     *slog.Logger
	inTx    bool
}

// Open connects to url: postgres:// or postgresql:// for PostgreSQL, anything else is a
// SQLite file path (a file: URI is accepted too). The SQLite directory is created if missing.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         false,
	}
	var (
		db      *gorm.DB
		err     error
		dialect Dialect
	)
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		dialect = Postgres
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: rawURL}), cfg)
	} else {
		dialect = SQLite
		dsn, derr := sqliteDSN(rawURL)
		if derr != nil {
			return nil, derr
		}
		db, err = gorm.Open(gormlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers concurrent in WAL.
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s := &Store{db: db, dialect: dialect, log: log}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

func sqliteDSN(raw string) (string, error) {
	path := strings.TrimPrefix(raw, "file:")
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return "", errors.New("open sqlite database: empty path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", fmt.Errorf("create database directory: %w", err)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("sqlite options: %w", err)
	}
	for _, p := range []string{"busy_timeout(15000)", "journal_mode(wal)", "foreign_keys(1)", "synchronous(normal)"} {
		q.Add("_pragma", p)
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	q.Set("_timefmt", TimeLayout)
	// Escape what a file: URI would read as its own syntax (a test's temp dir may hold '#').
	escaped := strings.NewReplacer("%", "%25", "#", "%23", "?", "%3F").Replace(path)
	return "file:" + escaped + "?" + q.Encode(), nil
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "database unavailable")
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database unavailable")
	}
	return nil
}

// SQLDB exposes the pool for tools that speak database/sql (migrations, the job queue).
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// Close releases the pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// InTx runs fn in one transaction; fn's Store is bound to it. A nested call joins the outer
// transaction. The transaction commits when fn returns nil and rolls back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, log: s.log, inTx: true})
	})
}

// conn returns the GORM handle bound to ctx.
func (s *Store) conn(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// forUpdate adds a row lock on PostgreSQL; SQLite's write transactions are already exclusive
// (they begin IMMEDIATE).
func (s *Store) forUpdate(q *gorm.DB) *gorm.DB {
	if s.dialect == Postgres {
		return q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return q
}

// Migrate applies every pending migration under a lock, so that replicas starting at once
// do not race: a PostgreSQL advisory lock, and on SQLite the database's own write lock.
func (s *Store) Migrate(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == SQLite {
		// goose's own SQLite probe scans a timestamp in SQLite's format, which our fixed
		// _timefmt does not decode; answer "does the table exist" from sqlite_master instead.
		base, err := database.NewStore(database.DialectSQLite3, goose.DefaultTablename)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		dialect = ""
		opts = append(opts, goose.WithStore(sqliteGooseStore{base}))
	} else {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return s.migrateJobQueue(ctx) // River's own tables (events_jobs.go)
}

// translate turns driver errors into errs codes; op names the operation for the log.
func (s *Store) translate(err error, op string) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.Wrap(errs.NotFound, err, "not found")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(errs.Unavailable, err, "request cancelled")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return errs.Wrap(errs.Conflict, err, "already exists")
		case "23503":
			return errs.Wrap(errs.Invalid, err, "refers to something that does not exist")
		case "23514", "23502", "22P02", "22001":
			return errs.Wrap(errs.Invalid, err, "violates a constraint")
		case "40001", "40P01", "55P03":
			return errs.Wrap(errs.Conflict, err, "concurrent update, try again")
		}
	}
	var sqErr *sqlite3.Error
	if errors.As(err, &sqErr) {
		switch sqErr.ExtendedCode() {
		case sqlite3.CONSTRAINT_UNIQUE, sqlite3.CONSTRAINT_PRIMARYKEY:
			return errs.Wrap(errs.Conflict, err, "already exists")
		case sqlite3.CONSTRAINT_FOREIGNKEY:
			return errs.Wrap(errs.Invalid, err, "refers to something that does not exist")
		case sqlite3.CONSTRAINT_CHECK, sqlite3.CONSTRAINT_NOTNULL:
			return errs.Wrap(errs.Invalid, err, "violates a constraint")
		}
		if sqErr.Code() == sqlite3.BUSY || sqErr.Code() == sqlite3.LOCKED {
			return errs.Wrap(errs.Conflict, err, "database busy, try again")
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// utc normalises a time for storage.
func utc(t time.Time) time.Time { return t.UTC() }

// utcPtr normalises an optional time for storage.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// MigrationsDigest is a hash of every migration file; tests name template databases by it.
func MigrationsDigest() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

type sqliteGooseStore struct{ database.Store }

func (g sqliteGooseStore) TableExists(ctx context.Context, db database.DBTxConn) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, g.Tablename()).Scan(&n)
	return n > 0, err
}
