// Package events publishes the case event log to integrators: a monotonic feed they poll
// (GET /api/v1/events?after=<seq>), webhooks pushed to the endpoints admins register (signed
// after Standard Webhooks, retried with backoff, logged, replayable, at least once), and a
// server-sent event stream for the web console (GET /api/v1/stream).
//
// The path of one event: a case action appends a row to case_events; a database trigger puts
// its id in event_outbox in the same transaction. The publisher (one at a time, under a lock)
// moves outbox rows into event_feed with the next sequence numbers, and in that same
// transaction creates a webhook delivery for every matching endpoint and enqueues a River job
// for each. The delivery job signs and POSTs the message; failures are retried on a schedule,
// every attempt is logged, and a replay sends the same message (same webhook-id) again.
package events

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/casework"
)

// Endpoint is a registered webhook receiver.
type Endpoint struct {
	ID          int64
	URL         string
	Description string
	// SealedSecret is the current signing secret (whsec_…) sealed by the SecretBox; the
	// database never holds it in clear. SealedPreviousSecret still signs until
	// PreviousSecretExpiresAt (a rotation's grace period).
	SealedSecret            string
	SealedPreviousSecret    string
	PreviousSecretExpiresAt *time.Time
	EventTypes              []string // empty: every type
	RegionCode              string   // "": every region
	RegionPath              string
	Active                  bool
	DisabledReason          string
	CreatedBy               int64
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	Pending   DeliveryStatus = "pending"   // not tried yet (or a replay not tried yet)
	Succeeded DeliveryStatus = "succeeded" // the receiver answered 2xx
	Failed    DeliveryStatus = "failed"    // the last attempt failed; another is scheduled (NextAttemptAt)
	Dead      DeliveryStatus = "dead"      // retries ran out (or the endpoint is gone): replay it by hand
)

// Delivery is one message to one endpoint.
type Delivery struct {
	ID         int64
	EndpointID int64
	FeedSeq    int64 // 0 for a ping
	EventType  string
	WebhookID  string // the webhook-id header: the same on every retry and replay
	Payload    []byte // the exact body
	Replays    int
	Attempts   int
	Status     DeliveryStatus

	LastStatusCode      int
	LastLatency         time.Duration
	LastError           string
	LastResponseExcerpt string
	NextAttemptAt       *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time

	AttemptLog []Attempt // filled by listings, oldest first
}

// Attempt is one HTTP attempt of a delivery.
type Attempt struct {
	ID              int64
	DeliveryID      int64
	Attempt         int // 1, 2, … across replays
	URL             string
	StatusCode      int // 0: no answer
	Latency         time.Duration
	Error           string
	ResponseExcerpt string
	CreatedAt       time.Time
}

// FeedItem is one published event with its case as it is now.
type FeedItem struct {
	Seq          int64
	PublishedAt  time.Time
	Event        casework.Event
	Case         casework.Case
	CategoryName string
}

// Outboxed is an event waiting in the outbox, with its case.
type Outboxed struct {
	Event        casework.Event
	Case         casework.Case
	CategoryName string
}

// FeedQuery reads the feed.
type FeedQuery struct {
	After int64
	Limit int
	Reach casework.Reach
	// PublicOnly leaves out internal comments (for API keys, as case reads do).
	PublicOnly bool
}

// DeliveryFilter selects deliveries of an endpoint, newest first.
type DeliveryFilter struct {
	EndpointID int64
	Status     DeliveryStatus // "": any
	Before     int64          // keyset: deliveries with a smaller id (0: from the newest)
	Limit      int
}

// Store is what events keep in the database; *store.Store implements it.
type Store interface {
	// InEventsTx runs fn in one transaction (joining the caller's, if any).
	InEventsTx(ctx context.Context, fn func(tx Store) error) error
	// EnqueueManyTx inserts jobs in the current transaction.
	EnqueueManyTx(ctx context.Context, jobs []river.InsertManyParams) error

	// LockFeedPublisher makes the transaction the only publisher until it ends.
	LockFeedPublisher(ctx context.Context) error
	// HasUnpublishedEvents reports whether the outbox holds an event.
	HasUnpublishedEvents(ctx context.Context) (bool, error)
	// UnpublishedEvents returns up to limit outbox events, oldest id first.
	UnpublishedEvents(ctx context.Context, limit int) ([]Outboxed, error)
	// AppendFeed gives the events the next sequence numbers, in order, removes them from
	// the outbox, and returns the numbers.
	AppendFeed(ctx context.Context, eventIDs []int64, caseIDs []int64, at time.Time) ([]int64, error)
	// FeedHead is the highest published sequence number (0 when none).
	FeedHead(ctx context.Context) (int64, error)
	// Feed returns events after q.After within q.Reach, in order, and the cursor to read on
	// from: the last item's seq, or, when the page is not full, the head read before the page.
	Feed(ctx context.Context, q FeedQuery) ([]FeedItem, int64, error)

	CreateWebhookEndpoint(ctx context.Context, e *Endpoint) error
	WebhookEndpoint(ctx context.Context, id int64) (Endpoint, error)
	// WebhookEndpoints lists endpoints, oldest first; regionPath "" lists all, otherwise those
	// scoped inside that subtree.
	WebhookEndpoints(ctx context.Context, regionPath string, activeOnly bool) ([]Endpoint, error)
	// UpdateWebhookEndpoint loads the endpoint under a row lock, applies fn and saves it.
	UpdateWebhookEndpoint(ctx context.Context, id int64, fn func(*Endpoint) error) (Endpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id int64) error

	CreateWebhookDelivery(ctx context.Context, d *Delivery) error
	WebhookDelivery(ctx context.Context, id int64) (Delivery, error)
	WebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// UpdateWebhookDelivery loads the delivery under a row lock, applies fn and saves it.
	UpdateWebhookDelivery(ctx context.Context, id int64, fn func(*Delivery) error) (Delivery, error)
	AddWebhookAttempt(ctx context.Context, a *Attempt) error
	// PruneWebhookDeliveries deletes deliveries (and their attempts) last changed before t that are
	// no longer in flight.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
	// WebhookRegionPath resolves a region code to its path; NotFound when none.
	WebhookRegionPath(ctx context.Context, code string) (string, error)
}
