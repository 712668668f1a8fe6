package app

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/store"
)

// assembleCalendars loads the cities' calendars (after the region service, before casework).
func (a *App) assembleCalendars(ctx context.Context) error {
	cals, err := calendar.NewService(ctx, a.Store, regionExists{a}, a.Log)
	if err != nil {
		return fmt.Errorf("calendars: %w", err)
	}
	a.Calendars = cals
	return nil
}

// assembleTimers makes the workflow use the stored calendars and the job queue's clock, and
// registers the worker of case timers (after casework, before the queue starts).
func (a *App) assembleTimers() {
	a.Cases.UseTimeRules(a.Calendars)
	a.Cases.SetClock(a.Jobs.Clock().Now)
	a.Calendars.SetClock(a.Jobs.Clock().Now)
	jobs.Register(a.Jobs, &caseTimerWorker{cases: a.Cases, now: a.Jobs.Clock().Now})
}

// ensureCalendars creates the default calendar on the first start.
func (a *App) ensureCalendars(ctx context.Context) error {
	if _, err := a.Calendars.EnsureDefault(ctx); err != nil {
		return err
	}
	return nil
}

// startCalendars refreshes the calendars from the change counter on every replica.
func (a *App) startCalendars(ctx context.Context) {
	go a.Calendars.Watch(ctx, a.Config.CalendarRefresh)
}

// caseTimerWorker runs case timers (warnings, overdue, automatic supervision, auto-resume).
// The workflow makes it idempotent: a stale or repeated timer does nothing.
type caseTimerWorker struct {
	river.WorkerDefaults[store.CaseTimerArgs]
	cases *casework.Service
	now   func() time.Time
}

func (w *caseTimerWorker) Work(ctx context.Context, job *river.Job[store.CaseTimerArgs]) error {
	// River's SQLite tables keep milliseconds: a job may come up to 1 ms before its instant.
	if early := job.Args.At.Sub(w.now()); early > 0 {
		return river.JobSnooze(early)
	}
	return w.cases.FireTimer(ctx, job.Args.Timer())
}

// Timeout bounds one timer: it is a short transaction.
func (w *caseTimerWorker) Timeout(*river.Job[store.CaseTimerArgs]) time.Duration { return time.Minute }

// regionExists answers the calendar service from the region service.
type regionExists struct{ a *App }

func (r regionExists) RegionExists(ctx context.Context, code string) error {
	_, err := r.a.Regions.Get(ctx, code)
	return err
}
