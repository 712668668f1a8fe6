// Package jobs runs gridcase's background work on River (github.com/riverqueue/river), a
// job queue that keeps its jobs in our own database: PostgreSQL or SQLite.
//
// A job is inserted in the same transaction as the change that causes it (store.EnqueueTx
// inside store.InTx), so a crash never loses it and a rollback never leaves one behind. Every
// replica runs one Runner; River hands each job to exactly one of them (row locks on
// PostgreSQL, the write lock on SQLite) and retries failures with backoff. Unique jobs
// (river.UniqueOpts, e.g. ByArgs on a timer's case and stage) are inserted once however many
// replicas or retries ask for them.
//
// Using it from a domain package:
//
//	type OverdueArgs struct{ CaseID int64 `json:"case_id"`; Stage string `json:"stage"` }
//	func (OverdueArgs) Kind() string { return "case_overdue" }
//
//	jobs.Register(runner, &overdueWorker{…})          // before runner.Start
//	_ = s.InTx(ctx, func(tx *store.Store) error {       // with the state change
//		return tx.EnqueueTx(ctx, OverdueArgs{…}, &river.InsertOpts{
//			ScheduledAt: deadline, UniqueOpts: river.UniqueOpts{ByArgs: true}})
//	})
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// The queues. Webhook deliveries wait on slow receivers (up to the request timeout), so
// they have their own workers and never hold up timers.
const (
	QueueDefault  = river.QueueDefault
	QueueWebhooks = "webhooks"
)

// Config sets up a Runner.
type Config struct {
	// DatabaseURL is the store's URL; on PostgreSQL River works through its own pgx pool
	// on it (LISTEN/NOTIFY wakes a worker as soon as a job commits).
	DatabaseURL string
	// Work runs job workers in this process. False makes an API-only replica: jobs are
	// still enqueued, and worked by the replicas that do work.
	Work bool
	// Workers is the number of jobs run at once on the default queue, WebhookWorkers on
	// the webhook queue.
	Workers        int
	WebhookWorkers int
	// PollInterval is how often workers look for due jobs when nothing woke them (always on
	// SQLite, which has no LISTEN/NOTIFY).
	PollInterval time.Duration
	// MaxConns bounds the pgx pool on PostgreSQL.
	MaxConns int32
	// RescueAfter is how long a job may run before River takes it for a crashed worker's
	// and runs it again (default 10 min; it must exceed every job's timeout).
	RescueAfter time.Duration
	// Clock is the queue's time (nil: a new system clock).
	Clock *Clock
	Log   *slog.Logger
}

// riverClient is what the Runner uses of River's client, whichever driver it runs on.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// QueueDB opens the pool River works its SQLite tables through; *store.Store implements
// it (see store.OpenJobQueueDB for why SQLite needs a pool of its own).
type QueueDB interface {
	OpenJobQueueDB(ctx context.Context) (*sql.DB, error)
}

// Runner owns the River client of this process.
type Runner struct {
	cfg     Config
	log     *slog.Logger
	clock   *Clock
	workers *river.Workers

	exec     riverdriver.Executor // River's queries, for RunDue
	pgPool   *pgxpool.Pool        // PostgreSQL
	sqlDB    *sql.DB              // SQLite: the job queue pool (store.OpenJobQueueDB)
	newCl    func(*river.Config) (riverClient, error)
	mu       sync.Mutex
	client   riverClient
	started  bool
	periodic []*river.PeriodicJob
	kinds    map[string]bool
}

// New opens the pool River works through and prepares a Runner; register workers, then Start.
// On PostgreSQL (a postgres:// DatabaseURL) River uses a pgx pool of its own on that URL; on
// SQLite the pool db opens.
func New(ctx context.Context, db QueueDB, cfg Config) (*Runner, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = NewClock()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.WebhookWorkers <= 0 {
		cfg.WebhookWorkers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 8
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = 10 * time.Minute
	}
	r := &Runner{cfg: cfg, log: cfg.Log, clock: cfg.Clock, workers: river.NewWorkers(), kinds: map[string]bool{}}
	if strings.HasPrefix(cfg.DatabaseURL, "postgres://") || strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
		pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("job queue: parse database URL: %w", err)
		}
		pc.MaxConns = cfg.MaxConns
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, fmt.Errorf("job queue: open pool: %w", err)
		}
		r.pgPool = pool
		driver := riverpgxv5.New(pool)
		r.exec = driver.GetExecutor()
		r.newCl = func(c *river.Config) (riverClient, error) { return river.NewClient(driver, c) }
	} else {
		sqlDB, err := db.OpenJobQueueDB(ctx)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		r.sqlDB = sqlDB
		driver := riversqlite.New(sqlDB)
		r.exec = driver.GetExecutor()
		r.newCl = func(c *river.Config) (riverClient, error) { return river.NewClient(driver, c) }
	}
	return r, nil
}

// Register adds a worker for jobs of kind T. Call it while the app is assembled, before
// Start: River fixes its workers when the client is built (by Start, Jobs or Subscribe), and
// Register panics after that.
func Register[T river.JobArgs](r *Runner, w river.Worker[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		panic("jobs.Register after Start")
	}
	river.AddWorker(r.workers, w)
	var zero T
	r.kinds[zero.Kind()] = true
}

// AddPeriodic runs a job every interval, enqueued by one replica (River's leader). Like
// Register, call it before Start.
func (r *Runner) AddPeriodic(every time.Duration, args func() (river.JobArgs, *river.InsertOpts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		panic("jobs.AddPeriodic after Start")
	}
	r.periodic = append(r.periodic, river.NewPeriodicJob(river.PeriodicInterval(every), args, nil))
}

// Clock is the queue's clock.
func (r *Runner) Clock() *Clock { return r.clock }

// Registered reports whether a worker for the job kind was registered.
func (r *Runner) Registered(kind string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[kind]
}

// riverConfig is River's configuration. River logs a failed job itself (a warning while it
// will retry, an error when it gives up) through our logger.
func (r *Runner) riverConfig() *river.Config {
	c := &river.Config{
		Logger:               r.log,
		Workers:              r.workers,
		FetchPollInterval:    r.cfg.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, r.cfg.PollInterval),
		PeriodicJobs:         r.periodic,
		RescueStuckJobsAfter: r.cfg.RescueAfter,
		Test:                 river.TestConfig{Time: r.clock},
	}
	if r.cfg.Work {
		c.Queues = map[string]river.QueueConfig{
			QueueDefault:  {MaxWorkers: r.cfg.Workers},
			QueueWebhooks: {MaxWorkers: r.cfg.WebhookWorkers},
		}
	}
	return c
}

// build makes the River client once (workers are fixed from then on).
func (r *Runner) build() (riverClient, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	c, err := r.newCl(r.riverConfig())
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	r.client = c
	return c, nil
}

// Start runs the workers until Stop (or until ctx ends, which cancels running jobs). With
// Config.Work false it only builds the client.
func (r *Runner) Start(ctx context.Context) error {
	c, err := r.build()
	if err != nil {
		return err
	}
	if !r.cfg.Work {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	r.started = true
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them (they are retried later,
// by this or another replica), and closes the pool. A job cancelled mid-way runs again: jobs
// must be idempotent (webhook deliveries are at least once for this reason).
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	c, started := r.client, r.started
	r.started = false
	r.mu.Unlock()
	var err error
	if started {
		if serr := c.Stop(ctx); serr != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = c.StopAndCancel(cctx)
			cancel()
			if err == nil && !errors.Is(serr, context.DeadlineExceeded) && !errors.Is(serr, context.Canceled) {
				err = serr
			}
		}
	}
	if r.pgPool != nil {
		r.pgPool.Close()
		r.pgPool = nil
	}
	if r.sqlDB != nil {
		if cerr := r.sqlDB.Close(); cerr != nil && err == nil {
			err = cerr
		}
		r.sqlDB = nil
	}
	if err != nil {
		return fmt.Errorf("job queue: stop: %w", err)
	}
	return nil
}

// RunDue makes every scheduled or retryable job that is due by the clock available now, as
// River's scheduler does every few seconds on the leader replica. Tests call it after
// Clock.Advance so that a timer fires without waiting for the scheduler's next pass; it is
// harmless in production. It returns how many jobs it made available.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	now := r.clock.Now()
	tx, err := r.exec.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("run due jobs: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	res, err := tx.JobSchedule(ctx, &riverdriver.JobScheduleParams{Max: 10_000, Now: &now})
	if err != nil {
		return 0, fmt.Errorf("run due jobs: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("run due jobs: %w", err)
	}
	return len(res), nil
}

// Jobs lists the queue's jobs of a kind (all kinds when kind is ""), oldest first, in any of
// the states given (all states when none are). For tests and operators.
func (r *Runner) Jobs(ctx context.Context, kind string, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	c, err := r.build()
	if err != nil {
		return nil, err
	}
	p := river.NewJobListParams().First(10_000).OrderBy(river.JobListOrderByID, river.SortOrderAsc)
	if kind != "" {
		p = p.Kinds(kind)
	}
	if len(states) == 0 {
		states = rivertype.JobStates()
	}
	p = p.States(states...)
	res, err := c.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return res.Jobs, nil
}

// Subscribe streams River's job events of the kinds (completed, failed, …) until cancel is
// called: tests wait on it instead of sleeping.
func (r *Runner) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func(), error) {
	c, err := r.build()
	if err != nil {
		return nil, nil, err
	}
	ch, cancel := c.Subscribe(kinds...)
	return ch, cancel, nil
}
