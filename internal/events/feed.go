package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// FeedPage is one page of the feed.
type FeedPage struct {
	Items []FeedItem
	// Next is the cursor to ask with next time (after=Next): the last item's seq, or the
	// feed's head when the page is not full (events out of the caller's reach are skipped).
	Next    int64
	HasMore bool
}

// feedQuery checks that p may read the feed and builds the query: users read what they may
// read of cases; an API key needs the events:read grant and does not see internal comments.
func feedQuery(p identity.Principal, after int64, limit int) (FeedQuery, error) {
	if p.IsAPIKey() && !p.HasAPIScope("events:read") {
		return FeedQuery{}, errs.E(errs.Forbidden, "this API key lacks the events:read scope")
	}
	var f errs.Fields
	if after < 0 {
		f.Add("after", "range", "after must be 0 or a seq from the feed")
	}
	if limit < 1 || limit > 1000 {
		f.Add("limit", "range", "limit must be between 1 and 1000")
	}
	if err := f.Err(); err != nil {
		return FeedQuery{}, err
	}
	return FeedQuery{After: after, Limit: limit, Reach: casework.ReachOf(p), PublicOnly: p.IsAPIKey()}, nil
}

// Feed returns the published events after the cursor that p may read, in feed order.
func (s *Service) Feed(ctx context.Context, p identity.Principal, after int64, limit int) (FeedPage, error) {
	q, err := feedQuery(p, after, limit)
	if err != nil {
		return FeedPage{}, err
	}
	items, next, err := s.store.Feed(ctx, q)
	if err != nil {
		return FeedPage{}, fmt.Errorf("read the event feed: %w", err)
	}
	return FeedPage{Items: items, Next: next, HasMore: len(items) == limit}, nil
}

// Subscription is one server-sent event stream.
type Subscription struct {
	s     *Service
	query FeedQuery
}

// Subscribe opens a stream of the events p may read, from after the cursor (a Last-Event-ID),
// or from now when after is negative.
func (s *Service) Subscribe(ctx context.Context, p identity.Principal, after int64) (*Subscription, error) {
	from := after
	if from < 0 {
		from = 0
	}
	q, err := feedQuery(p, from, 100)
	if err != nil {
		return nil, err
	}
	if after < 0 {
		head, err := s.store.FeedHead(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the event feed head: %w", err)
		}
		q.After = head
	}
	return &Subscription{s: s, query: q}, nil
}

// Cursor is the seq the stream has sent up to.
func (sub *Subscription) Cursor() int64 { return sub.query.After }

// Run sends events in order as they are published (send gets a batch) and calls send with an
// empty batch every heartbeat interval while idle. It returns nil when ctx ends or the
// service closes, and send's error when sending fails.
func (sub *Subscription) Run(ctx context.Context, send func([]FeedItem) error) error {
	heartbeat := time.NewTicker(sub.s.cfg.StreamHeartbeat)
	defer heartbeat.Stop()
	for {
		wake, closed := sub.s.broker.wait() // before reading, so no advance is missed
		items, next, err := sub.s.store.Feed(ctx, sub.query)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("stream events: %w", err)
		}
		sub.query.After = next
		if len(items) > 0 {
			if err := send(items); err != nil {
				return err
			}
			heartbeat.Reset(sub.s.cfg.StreamHeartbeat)
			if len(items) == sub.query.Limit {
				continue // more waiting
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
			return nil
		case <-wake:
		case <-heartbeat.C:
			if err := send(nil); err != nil {
				return err
			}
		}
	}
}

// broker tells this replica's streams that the feed has grown: the feed watcher (every
// StreamPoll, which sees other replicas' publishing) and the local publisher advance it; each
// stream then reads the feed with its own scope.
type broker struct {
	mu     sync.Mutex
	head   int64
	wake   chan struct{}
	closed chan struct{}
	done   bool
}

func newBroker() *broker {
	return &broker{wake: make(chan struct{}), closed: make(chan struct{})}
}

// wait returns the channel closed at the next advance, and the one closed at shutdown.
func (b *broker) wait() (<-chan struct{}, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wake, b.closed
}

func (b *broker) advance(head int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if head <= b.head || b.done {
		return
	}
	b.head = head
	close(b.wake)
	b.wake = make(chan struct{})
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.done = true
		close(b.closed)
	}
}

// watchLoop polls the feed's head for the streams of this replica.
func (s *Service) watchLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.StreamPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		head, err := s.store.FeedHead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "watch the event feed", "error", err)
			}
			continue
		}
		s.broker.advance(head)
	}
}
