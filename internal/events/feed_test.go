package events_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/events"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// eachDB runs fn on a fresh SQLite and a fresh PostgreSQL database, with the database's URL.
func eachDB(t *testing.T, fn func(t *testing.T, s *store.Store, url string)) {
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

// newService builds an events service on s, as one replica would (its runner is not
// started: these tests call Publish themselves).
func newService(t *testing.T, s *store.Store, url string) *events.Service {
	t.Helper()
	r, err := jobs.New(context.Background(), s, jobs.Config{DatabaseURL: url, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	g, _ := events.NewGuard(nil)
	box, err := events.LoadSecretBox("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return events.New(s, r, g, box, events.Config{}, nil)
}

// writeEvent creates a case and its report event in one transaction, holding the
// transaction open a little so that commits come out of id order.
func writeEvent(ctx context.Context, s *store.Store, n int, hold time.Duration) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *store.Store) error {
		now := time.Now().UTC()
		c := casework.Case{Number: fmt.Sprintf("T%06d", n), State: casework.Reported, Urgency: "normal", Description: "test",
			Source: casework.SourceGridWorker, OccurredAt: now, CreatedAt: now, UpdatedAt: now, Stage: casework.StageAccept, StageStartedAt: now}
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		e := casework.Event{CaseID: c.ID, Action: casework.ReportAction, ToState: casework.Reported, ActorRole: identity.RoleGridWorker,
			Visibility: casework.Public, CreatedAt: now}
		if err := tx.AppendEvent(ctx, &e); err != nil {
			return err
		}
		id = e.ID
		time.Sleep(hold)
		return nil
	})
	return id, err
}

// TestFeedIsMonotonicUnderConcurrentWriters: writers commit out of id order while two
// publishers (two replicas) run and a poller follows the feed with a small page; the poller
// sees every event exactly once, numbered 1…n without gaps, and never behind its cursor.
func TestFeedIsMonotonicUnderConcurrentWriters(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		pub1, pub2 := newService(t, s, url), newService(t, s, url)

		const writers, perWriter = 6, 15
		var (
			mu      sync.Mutex
			written = map[int64]bool{}
			wg      sync.WaitGroup
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					id, err := writeEvent(ctx, s, w*1000+i, time.Duration(rand.IntN(3))*time.Millisecond)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					written[id] = true
					mu.Unlock()
				}
			}()
		}
		stop := make(chan struct{})
		var pubs sync.WaitGroup
		for _, p := range []*events.Service{pub1, pub2} {
			pubs.Add(1)
			go func() {
				defer pubs.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := p.Publish(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}

		admin := identity.Principal{UserID: 1, Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}
		var (
			cursor int64
			seen   = map[int64]int64{} // event id → seq
			last   int64
		)
		poll := func() {
			page, err := pub1.Feed(ctx, admin, cursor, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if it.Seq <= last {
					t.Fatalf("seq %d after %d", it.Seq, last)
				}
				if it.Seq != last+1 {
					t.Fatalf("gap: seq %d after %d", it.Seq, last)
				}
				if prev, dup := seen[it.Event.ID]; dup {
					t.Fatalf("event %d seen twice (seq %d and %d)", it.Event.ID, prev, it.Seq)
				}
				seen[it.Event.ID], last = it.Seq, it.Seq
			}
			if page.Next < cursor {
				t.Fatalf("the cursor went back from %d to %d", cursor, page.Next)
			}
			cursor = page.Next
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
	follow:
		for {
			select {
			case <-done:
				break follow
			default:
				poll()
			}
		}
		close(stop)
		pubs.Wait()
		if _, err := pub1.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			before := cursor
			poll()
			if cursor == before {
				break
			}
		}
		if len(written) != writers*perWriter {
			t.Fatalf("%d events written", len(written))
		}
		for id := range written {
			if _, ok := seen[id]; !ok {
				t.Errorf("event %d never appeared in the feed", id)
			}
		}
		if int(last) != len(written) || len(seen) != len(written) {
			t.Fatalf("feed ends at seq %d with %d events, %d written", last, len(seen), len(written))
		}
		if has, err := s.HasUnpublishedEvents(ctx); err != nil || has {
			t.Fatalf("outbox not empty: %v %v", has, err)
		}
	})
}

// TestFeedScopeSkipsButAdvances: a caller whose scope holds none of the events still gets a
// cursor at the head, so it does not scan them again.
func TestFeedScopeSkipsButAdvances(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		svc := newService(t, s, url)
		for i := 0; i < 5; i++ {
			if _, err := writeEvent(ctx, s, i, 0); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := svc.Publish(ctx); err != nil || n != 5 {
			t.Fatalf("published %d, %v", n, err)
		}
		outsider := identity.Principal{UserID: 99, Role: identity.RoleDispatcher,
			Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "320613002", RegionPath: "/320600/320613/320613002/"}}
		page, err := svc.Feed(ctx, outsider, 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 0 || page.Next != 5 || page.HasMore {
			t.Fatalf("outsider page: %d items, next %d", len(page.Items), page.Next)
		}
		key := identity.Principal{APIKeyID: 3, Role: identity.RoleIntegrator, Scope: identity.Scope{Kind: identity.ScopeAll}, APIScopes: []string{"cases:read"}}
		if _, err := svc.Feed(ctx, key, 0, 10); err == nil {
			t.Fatal("an API key without events:read read the feed")
		}
		key.APIScopes = append(key.APIScopes, "events:read")
		page, err = svc.Feed(ctx, key, 2, 2)
		if err != nil || len(page.Items) != 2 || page.Items[0].Seq != 3 || page.Next != 4 || !page.HasMore {
			t.Fatalf("API key page: %+v, %v", page, err)
		}
	})
}

// TestPublishJobCommitsWithTheEvent: a publish job enqueued in the event's transaction
// publishes it (no safety-net loop runs here); rolled back, neither exists; a burst of them
// coalesces into one job.
func TestPublishJobCommitsWithTheEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store, url string) {
		ctx := context.Background()
		r, err := jobs.New(ctx, s, jobs.Config{DatabaseURL: url, Work: true, PollInterval: 20 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		g, _ := events.NewGuard(nil)
		box, _ := events.LoadSecretBox("", t.TempDir())
		events.New(s, r, g, box, events.Config{}, nil) // registers the publish worker; its loops are not started
		write := func(n int, fail bool) error {
			return s.InTx(ctx, func(tx *store.Store) error {
				if _, err := writeEvent(ctx, tx, n, 0); err != nil {
					return err
				}
				for i := 0; i < 5; i++ {
					if err := tx.EnqueueTx(ctx, events.PublishArgs{}, nil); err != nil {
						return err
					}
				}
				if fail {
					return fmt.Errorf("roll back")
				}
				return nil
			})
		}
		if err := write(1, true); err == nil {
			t.Fatal("the transaction should have rolled back")
		}
		if rows, err := r.Jobs(ctx, events.PublishArgs{}.Kind()); err != nil || len(rows) != 0 {
			t.Fatalf("jobs after a rollback: %d, %v", len(rows), err)
		}
		if err := write(2, false); err != nil {
			t.Fatal(err)
		}
		if rows, err := r.Jobs(ctx, events.PublishArgs{}.Kind()); err != nil || len(rows) != 1 {
			t.Fatalf("five publish jobs in one transaction made %d rows, %v", len(rows), err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop(context.Background()) })
		deadline := time.Now().Add(15 * time.Second)
		for {
			head, err := s.FeedHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if head == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the publish job did not publish (head %d)", head)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
