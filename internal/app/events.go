package app

import (
	"context"
	"fmt"

	"github.com/gridcase/gridcase/internal/events"
	"github.com/gridcase/gridcase/internal/jobs"
)

// assembleJobs opens the job queue (River) of this process. Services register their
// workers on a.Jobs while they are assembled; Start runs them.
func (a *App) assembleJobs(ctx context.Context) error {
	r, err := jobs.New(ctx, a.Store, jobs.Config{
		DatabaseURL:    a.Config.DatabaseURL,
		Work:           a.Config.JobsWork,
		Workers:        a.Config.JobsWorkers,
		WebhookWorkers: a.Config.WebhookWorkers,
		PollInterval:   a.Config.JobsPollInterval,
		RescueAfter:    a.Config.JobsRescueAfter,
		Log:            a.Log,
	})
	if err != nil {
		return err
	}
	a.Jobs = r
	return nil
}

// assembleEvents builds the event feed, webhooks and streams on the store and the queue.
func (a *App) assembleEvents() error {
	guard, err := events.NewGuard(a.Config.WebhookAllowHosts)
	if err != nil {
		return err
	}
	box, err := events.LoadSecretBox(a.Config.WebhookSecretKey, a.Config.DataDir)
	if err != nil {
		return fmt.Errorf("webhook secrets: %w", err)
	}
	a.Events = events.New(a.Store, a.Jobs, guard, box, events.Config{
		RetryDelays:     a.Config.WebhookRetryDelays,
		SecretGrace:     a.Config.WebhookSecretGrace,
		PublishInterval: a.Config.EventsPublishInterval,
		StreamPoll:      a.Config.StreamPollInterval,
		StreamHeartbeat: a.Config.StreamHeartbeat,
		Retention:       a.Config.WebhookRetention,
		Client:          events.ClientOptions{ConnectTimeout: a.Config.WebhookConnectTimeout, Timeout: a.Config.WebhookTimeout},
	}, a.Log)
	return nil
}

// startJobs runs the job workers and this replica's publishing and stream loops. Call it
// after every service registered its workers.
func (a *App) startJobs(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	a.Events.Start(ctx)
	return nil
}

// closeJobs ends the streams and loops, lets running jobs finish within the shutdown timeout
// (then cancels them: they run again later) and closes the queue's pool.
func (a *App) closeJobs() error {
	if a.Events != nil {
		a.Events.Close()
	}
	if a.Jobs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	return a.Jobs.Stop(ctx)
}
