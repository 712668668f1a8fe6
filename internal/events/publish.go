package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/jobs"
)

// publishBatch is how many outbox events one publishing transaction takes.
const publishBatch = 500

// PublishArgs is the job that publishes what waits in the outbox; the store enqueues it with
// every case event (see jobs.PublishEventsArgs).
type PublishArgs = jobs.PublishEventsArgs

type publishWorker struct {
	river.WorkerDefaults[PublishArgs]
	s *Service
}

func (w *publishWorker) Work(ctx context.Context, _ *river.Job[PublishArgs]) error {
	_, err := w.s.Publish(ctx)
	return err
}

// Publish moves every event waiting in the outbox into the feed and creates the webhook
// deliveries they call for, batch by batch. Each batch is one transaction under the
// publisher lock: the feed numbers, the deliveries and their jobs commit together or not at
// all, and no two publishers interleave. It returns how many events it published.
func (s *Service) Publish(ctx context.Context) (int, error) {
	total := 0
	for {
		n, head, err := s.publishBatch(ctx)
		if err != nil {
			return total, err
		}
		total += n
		if n > 0 {
			s.broker.advance(head)
		}
		if n < publishBatch {
			return total, nil
		}
	}
}

func (s *Service) publishBatch(ctx context.Context) (int, int64, error) {
	n, head := 0, int64(0)
	err := s.store.InEventsTx(ctx, func(tx Store) error {
		if err := tx.LockFeedPublisher(ctx); err != nil {
			return err
		}
		pending, err := tx.UnpublishedEvents(ctx, publishBatch)
		if err != nil || len(pending) == 0 {
			return err
		}
		eventIDs := make([]int64, len(pending))
		caseIDs := make([]int64, len(pending))
		for i, p := range pending {
			eventIDs[i], caseIDs[i] = p.Event.ID, p.Event.CaseID
		}
		seqs, err := tx.AppendFeed(ctx, eventIDs, caseIDs, s.clock.Now())
		if err != nil {
			return err
		}
		endpoints, err := tx.WebhookEndpoints(ctx, "", true)
		if err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for i, p := range pending {
			var msg *Message
			for _, ep := range endpoints {
				if !ep.wants(p) {
					continue
				}
				if msg == nil {
					m := MessageOf(seqs[i], p.Event, p.Case, p.CategoryName)
					msg = &m
				}
				d := s.newDelivery(ep.ID, seqs[i], *msg)
				if err := tx.CreateWebhookDelivery(ctx, &d); err != nil {
					return err
				}
				jobs = append(jobs, s.deliverJob(d))
			}
		}
		if err := tx.EnqueueManyTx(ctx, jobs); err != nil {
			return err
		}
		n, head = len(pending), seqs[len(seqs)-1]
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("publish events: %w", err)
	}
	return n, head, nil
}

// wants reports whether the endpoint takes the event: its type passes the filter, its case
// is inside the endpoint's region (by its grid or by the desk holding it, as case scopes
// go), and it is not an internal comment.
func (e Endpoint) wants(p Outboxed) bool {
	if !e.Active || !visibleToIntegrators(p.Event) {
		return false
	}
	if len(e.EventTypes) > 0 {
		typ, ok := EventType(p.Event.Action), false
		for _, f := range e.EventTypes {
			if f == typ || (strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(f, "*"))) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if e.RegionPath != "" {
		in := func(path string) bool { return path != "" && strings.HasPrefix(path, e.RegionPath) }
		if !in(p.Case.RegionPath) && !in(p.Case.DeskRegionPath) {
			return false
		}
	}
	return true
}

// publishLoop is the safety net: every PublishInterval, publish whatever waits in the outbox
// (a publish job that was never enqueued, or one lost with a replica).
func (s *Service) publishLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.PublishInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		has, err := s.store.HasUnpublishedEvents(ctx)
		if err == nil && has {
			_, err = s.Publish(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "publish events", "error", err)
		}
	}
}

// PruneArgs is the periodic job that drops finished deliveries older than the retention.
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "webhook_prune" }

type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	s *Service
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	n, err := w.s.store.PruneWebhookDeliveries(ctx, w.s.clock.Now().Add(-w.s.cfg.Retention))
	if err != nil {
		return err
	}
	if n > 0 {
		w.s.log.InfoContext(ctx, "webhook deliveries pruned", "count", n)
	}
	return nil
}
