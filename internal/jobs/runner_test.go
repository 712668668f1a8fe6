package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// pingArgs is a test job; N tells runs apart.
type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test_ping" }

// pingWorker records every run of every job, by N.
type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	mu   sync.Mutex
	runs map[int]int
	ran  chan int
}

func newPingWorker() *pingWorker { return &pingWorker{runs: map[int]int{}, ran: make(chan int, 1000)} }

func (w *pingWorker) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	w.mu.Lock()
	w.runs[job.Args.N]++
	w.mu.Unlock()
	w.ran <- job.Args.N
	return nil
}

func (w *pingWorker) count(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runs[n]
}

// each runs fn on a fresh SQLite and a fresh PostgreSQL database, giving it the database URL
// so it can start runners of its own.
func each(t *testing.T, fn func(t *testing.T, s *store.Store, url string)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			url := storetest.URL(t, d)
			s, err := store.Open(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, s, url)
		})
	}
}

// startRunner starts a working runner with w registered; it is stopped when t ends.
func startRunner(t *testing.T, s *store.Store, url string, clock *jobs.Clock, w *pingWorker) *jobs.Runner {
	t.Helper()
	ctx := context.Background()
	r, err := jobs.New(ctx, s, jobs.Config{
		DatabaseURL: url, Work: true, PollInterval: 50 * time.Millisecond, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	jobs.Register(r, w)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return r
}

// waitRun waits (with a deadline, never a fixed sleep) until the worker ran job n.
func waitRun(t *testing.T, w *pingWorker, n int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-w.ran:
			if got == n {
				return
			}
		case <-deadline:
			t.Fatalf("job %d did not run", n)
		}
	}
}

func TestEnqueueCommitsWithTransaction(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		w := newPingWorker()
		r := startRunner(t, s, url, nil, w)

		err := s.InTx(ctx, func(tx *store.Store) error {
			if err := tx.EnqueueTx(ctx, pingArgs{N: 1}, nil); err != nil {
				t.Fatal(err)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("the transaction should have rolled back")
		}
		if err := s.InTx(ctx, func(tx *store.Store) error { return tx.EnqueueTx(ctx, pingArgs{N: 2}, nil) }); err != nil {
			t.Fatal(err)
		}
		waitRun(t, w, 2)
		rows, err := r.Jobs(ctx, pingArgs{}.Kind())
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%d jobs in the queue, want 1 (the rolled-back one must not exist)", len(rows))
		}
		if w.count(1) != 0 {
			t.Fatal("the rolled-back job ran")
		}
	})
}

func TestEnqueueOutsideTransaction(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store, url string) {
		w := newPingWorker()
		startRunner(t, s, url, nil, w)
		if err := s.EnqueueTx(context.Background(), pingArgs{N: 7}, nil); err != nil {
			t.Fatal(err)
		}
		waitRun(t, w, 7)
	})
}

// TestUniqueJobsRunOnceAcrossReplicas: two runners (two replicas) on one database both insert
// the same unique timers and work the same queue; each timer exists once and runs once.
func TestUniqueJobsRunOnceAcrossReplicas(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		w1, w2 := newPingWorker(), newPingWorker()
		r1 := startRunner(t, s, url, nil, w1)
		startRunner(t, s, url, nil, w2)

		const timers = 20
		unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
		var wg sync.WaitGroup
		errc := make(chan error, 4*timers)
		for replica := 0; replica < 2; replica++ {
			for attempt := 0; attempt < 2; attempt++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; n < timers; n++ {
						if err := s.InTx(ctx, func(tx *store.Store) error { return tx.EnqueueTx(ctx, pingArgs{N: n}, unique) }); err != nil {
							errc <- fmt.Errorf("enqueue %d: %w", n, err)
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			done := 0
			for n := 0; n < timers; n++ {
				if w1.count(n)+w2.count(n) > 0 {
					done++
				}
			}
			if done == timers {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d timers ran", done, timers)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rows, err := r1.Jobs(ctx, pingArgs{}.Kind())
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != timers {
			t.Fatalf("%d jobs inserted, want %d (one per unique timer)", len(rows), timers)
		}
		for n := 0; n < timers; n++ {
			if got := w1.count(n) + w2.count(n); got != 1 {
				t.Errorf("timer %d ran %d times, want once", n, got)
			}
		}
	})
}

// TestClockAdvanceRunsScheduledJob: a job scheduled two hours ahead waits, and runs once the
// clock is moved two hours on, with no sleep of two hours.
func TestClockAdvanceRunsScheduledJob(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		clock := jobs.NewClock()
		w := newPingWorker()
		r := startRunner(t, s, url, clock, w)

		at := clock.Now().Add(2 * time.Hour)
		if err := s.EnqueueTx(ctx, pingArgs{N: 42}, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			t.Fatal(err)
		}
		n, err := r.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("RunDue made %d jobs available two hours early", n)
		}
		rows, err := r.Jobs(ctx, pingArgs{}.Kind())
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].State != rivertype.JobStateScheduled {
			t.Fatalf("want one scheduled job, got %+v", rows)
		}

		clock.Advance(2*time.Hour + time.Second)
		if n, err := r.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("RunDue = %d, %v; want 1 job made available", n, err)
		}
		waitRun(t, w, 42)
		if w.count(42) != 1 {
			t.Fatalf("ran %d times", w.count(42))
		}
	})
}

// flakyArgs fails its first attempt.
type flakyArgs struct {
	N int `json:"n"`
}

func (flakyArgs) Kind() string { return "test_flaky" }

type flakyWorker struct {
	river.WorkerDefaults[flakyArgs]
	mu       sync.Mutex
	attempts []int
	done     chan struct{}
}

func (w *flakyWorker) NextRetry(*river.Job[flakyArgs]) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

func (w *flakyWorker) Work(ctx context.Context, job *river.Job[flakyArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts = append(w.attempts, job.Attempt)
	if job.Attempt == 1 {
		return errors.New("first attempt fails")
	}
	close(w.done)
	return nil
}

// TestRetryFollowsTheWorkersSchedule: a failed job runs again after the worker's NextRetry.
func TestRetryFollowsTheWorkersSchedule(t *testing.T) {
	each(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		r, err := jobs.New(ctx, s, jobs.Config{DatabaseURL: url, Work: true, PollInterval: 20 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		w := &flakyWorker{done: make(chan struct{})}
		jobs.Register(r, w)
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop(context.Background()) })
		if err := s.EnqueueTx(ctx, flakyArgs{N: 1}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.done:
		case <-time.After(15 * time.Second):
			rows, _ := r.Jobs(ctx, flakyArgs{}.Kind())
			for _, j := range rows {
				t.Logf("job %d: %s attempt %d scheduled %s errors %v", j.ID, j.State, j.Attempt, j.ScheduledAt, j.Errors)
			}
			t.Fatalf("the retry did not run; attempts %v", w.attempts)
		}
	})
}
