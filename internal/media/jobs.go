package media

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/jobs"
)

// StagedRetention is how long a staged photo waits for the report or action that would bind
// it (a phone that lost its signal retries within hours, not days) before it is deleted.
const StagedRetention = 7 * 24 * time.Hour

// PurgeStagedArgs is the periodic job that deletes staged photos no case took.
type PurgeStagedArgs struct{}

// Kind implements river.JobArgs.
func (PurgeStagedArgs) Kind() string { return "media_purge_staged" }

type purgeStagedWorker struct {
	river.WorkerDefaults[PurgeStagedArgs]
	s *Service
}

func (w *purgeStagedWorker) Work(ctx context.Context, _ *river.Job[PurgeStagedArgs]) error {
	n, err := w.s.PurgeStaged(ctx, StagedRetention)
	if n > 0 {
		w.s.Log.InfoContext(ctx, "stale staged photos deleted", "count", n)
	}
	return err
}

// RegisterJobs adds the purge of stale staged photos to the job queue, every six hours.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, &purgeStagedWorker{s: s})
	r.AddPeriodic(6*time.Hour, func() (river.JobArgs, *river.InsertOpts) { return PurgeStagedArgs{}, nil })
}
