package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"

	_ "github.com/ncruces/go-sqlite3/driver" // database/sql driver "sqlite3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// The job queue (River, github.com/riverqueue/river) keeps its tables (river_*) in our
// database, so that a job is inserted in the same transaction as the change that causes it:
// a timer or a webhook delivery commits or rolls back with its case event, and a crash after
// the commit never loses it.
//
// SQLite note: our SQLite pool reads and writes times in a fixed layout (TimeLayout, set
// through the driver's _timefmt: "2006-01-02T15:04:05.000000Z"), while River's SQLite driver
// keeps SQLite's own "2006-01-02 15:04:05.999" text and compares it as text with
// datetime('now', 'subsec'). Our layout cannot decode River's text (a scan fails), and River
// binds some times (a retry's scheduled_at) as time.Time, which our layout would write with a
// "T" that never compares as due. So River works its tables through a second pool on the same
// file whose time format is SQLite's ("2006-01-02 15:04:05.000", riverSQLiteTimeLayout;
// OpenJobQueueDB). Inserts inside our transactions go through River's "fast" insert, which
// passes every time as SQLite text itself and reads nothing back, so they are safe on our
// pool and commit with our changes.

// riverSQLiteTimeLayout is how the job queue's SQLite pool writes times: SQLite's own text,
// which River compares with datetime('now', 'subsec').
const riverSQLiteTimeLayout = "2006-01-02 15:04:05.000"

// riverMigrateLockKey is the PostgreSQL advisory lock held while River's migrations run, so
// replicas starting together apply them once.
var riverMigrateLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("gridcase river migrate"))
	return int64(h.Sum64() >> 1)
}()

// EnqueueTx inserts a background job in the store's transaction: it becomes visible to the
// workers when the transaction commits and disappears if it rolls back. Called outside InTx
// it runs in a transaction of its own. Jobs with UniqueOpts that collide with a waiting or
// running job of the same key are silently dropped (that is how timers and "publish" jobs
// coalesce).
func (s *Store) EnqueueTx(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	return s.EnqueueManyTx(ctx, []river.InsertManyParams{{Args: args, InsertOpts: opts}})
}

// EnqueueManyTx is EnqueueTx for several jobs at once.
func (s *Store) EnqueueManyTx(ctx context.Context, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if !s.inTx {
		return s.InTx(ctx, func(tx *Store) error { return tx.EnqueueManyTx(ctx, jobs) })
	}
	sqlTx, ok := s.db.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("enqueue %s: the transaction is a %T, not a *sql.Tx", jobs[0].Args.Kind(), s.db.Statement.ConnPool)
	}
	client, err := s.insertClient()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", jobs[0].Args.Kind(), err)
	}
	if _, err := client.InsertManyFastTx(ctx, sqlTx, jobs); err != nil {
		return s.translate(err, "enqueue "+jobs[0].Args.Kind())
	}
	return nil
}

// insertClient returns an insert-only River client for the dialect. It holds no pool (it
// only inserts through the caller's transaction) and no workers; building one costs about
// 15 µs, less than the insert itself, so it is not kept.
func (s *Store) insertClient() (*river.Client[*sql.Tx], error) {
	cfg := &river.Config{Logger: s.log}
	if s.dialect == Postgres {
		return river.NewClient(riverdatabasesql.New(nil), cfg)
	}
	return river.NewClient(riversqlite.New(nil), cfg)
}

// OpenJobQueueDB opens the pool River works its SQLite tables through: the same file and
// pragmas as the store, writes serialised by BEGIN IMMEDIATE, but River's time format. The
// caller closes it. On PostgreSQL it returns the store's own pool (River's database/sql
// driver reads times natively); do not close that one.
func (s *Store) OpenJobQueueDB(ctx context.Context) (*sql.DB, error) {
	if s.dialect == Postgres {
		return s.db.DB()
	}
	var rows []struct {
		Name string
		File string
	}
	if err := s.conn(ctx).Raw(`SELECT name, file FROM pragma_database_list`).Scan(&rows).Error; err != nil {
		return nil, s.translate(err, "open job queue database")
	}
	path := ""
	for _, r := range rows {
		if r.Name == "main" {
			path = r.File
		}
	}
	if path == "" {
		return nil, errors.New("open job queue database: the SQLite database has no file (in-memory databases are not supported)")
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(15000)", "journal_mode(wal)", "foreign_keys(1)", "synchronous(normal)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_timefmt", riverSQLiteTimeLayout)
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open job queue database: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open job queue database: %w", err)
	}
	return db, nil
}

// migrateJobQueue applies River's own migrations (its river_* tables) after ours: under an
// advisory lock on PostgreSQL, in one transaction under SQLite's write lock (BEGIN IMMEDIATE)
// on SQLite, so that replicas starting together do not race.
func (s *Store) migrateJobQueue(ctx context.Context) error {
	var (
		res *rivermigrate.MigrateResult
		err error
	)
	cfg := &rivermigrate.Config{Logger: s.log}
	if s.dialect == Postgres {
		// River's migrations add an enum value and then use it, which PostgreSQL forbids in
		// one transaction: each version runs in its own, under a session advisory lock held
		// on one connection of the pool.
		sqlDB, derr := s.db.DB()
		if derr != nil {
			return fmt.Errorf("migrate job queue: %w", derr)
		}
		res, err = migrateRiverLocked(ctx, sqlDB, func() (*rivermigrate.MigrateResult, error) {
			m, err := rivermigrate.New(riverdatabasesql.New(sqlDB), cfg)
			if err != nil {
				return nil, err
			}
			return m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		})
	} else {
		qdb, derr := s.OpenJobQueueDB(ctx)
		if derr != nil {
			return fmt.Errorf("migrate job queue: %w", derr)
		}
		defer qdb.Close()
		res, err = migrateRiverIn(ctx, qdb, func(tx *sql.Tx) (*rivermigrate.MigrateResult, error) {
			m, err := rivermigrate.New(riversqlite.New(qdb), cfg)
			if err != nil {
				return nil, err
			}
			return m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil)
		})
	}
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	for _, v := range res.Versions {
		s.log.Info("job queue migration applied", "version", v.Version, "name", v.Name, "duration", v.Duration)
	}
	return nil
}

func migrateRiverLocked(ctx context.Context, db *sql.DB, fn func() (*rivermigrate.MigrateResult, error)) (*rivermigrate.MigrateResult, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, riverMigrateLockKey); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, riverMigrateLockKey) //nolint:errcheck // the session ends with the connection anyway
	return fn()
}

func migrateRiverIn(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) (*rivermigrate.MigrateResult, error)) (*rivermigrate.MigrateResult, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := fn(tx)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}
