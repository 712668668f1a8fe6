package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/jobs"
)

// Config tunes publishing and delivery.
type Config struct {
	// RetryDelays are the waits after each failed attempt; when they run out the delivery is
	// dead. Default: 10 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h (8 attempts over ~18 h).
	RetryDelays []time.Duration
	// SecretGrace is how long the previous secret keeps signing after a rotation.
	SecretGrace time.Duration
	// PublishInterval is how often each replica checks the outbox (the safety net behind the
	// publish job).
	PublishInterval time.Duration
	// StreamPoll is how often each replica looks for newly published events for its
	// server-sent event subscribers; StreamHeartbeat how often an idle stream gets a comment.
	StreamPoll      time.Duration
	StreamHeartbeat time.Duration
	// Retention is how long finished deliveries are kept in the log.
	Retention time.Duration
	// MaxEndpoints bounds the number of endpoints.
	MaxEndpoints int
	Client       ClientOptions
}

// DefaultRetryDelays is the default retry schedule.
var DefaultRetryDelays = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// Service manages webhook endpoints and deliveries, publishes the feed and serves streams.
type Service struct {
	store  Store
	guard  *Guard
	box    *SecretBox
	client *http.Client
	clock  *jobs.Clock
	cfg    Config
	log    *slog.Logger
	broker *broker

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New builds the service and registers its jobs with the runner (before runner.Start).
func New(st Store, runner *jobs.Runner, guard *Guard, box *SecretBox, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.RetryDelays) == 0 {
		cfg.RetryDelays = DefaultRetryDelays
	}
	if cfg.SecretGrace <= 0 {
		cfg.SecretGrace = 24 * time.Hour
	}
	if cfg.PublishInterval <= 0 {
		cfg.PublishInterval = 500 * time.Millisecond
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = time.Second
	}
	if cfg.StreamHeartbeat <= 0 {
		cfg.StreamHeartbeat = 15 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = 100
	}
	s := &Service{store: st, guard: guard, box: box, client: guard.Client(cfg.Client), clock: runner.Clock(), cfg: cfg, log: log, broker: newBroker()}
	jobs.Register(runner, &deliverWorker{s: s})
	jobs.Register(runner, &publishWorker{s: s})
	jobs.Register(runner, &pruneWorker{s: s})
	runner.AddPeriodic(6*time.Hour, func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil })
	return s
}

// Start runs this replica's background loops (the outbox safety net and the stream's feed
// watcher) until ctx ends or Close.
func (s *Service) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s.publishLoop(ctx) }()
		go func() { defer wg.Done(); s.watchLoop(ctx) }()
		wg.Wait()
	}()
}

// Close stops the loops and ends every open stream.
func (s *Service) Close() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	s.broker.close()
	if cancel != nil {
		cancel()
		<-done
	}
}

// ---- endpoints ----

// NewEndpoint registers an endpoint.
type NewEndpoint struct {
	URL         string
	Description string
	EventTypes  []string
	RegionCode  string
}

// EndpointPatch changes an endpoint; nil fields stay. RegionCode "" removes the scope.
type EndpointPatch struct {
	URL         *string
	Description *string
	EventTypes  *[]string
	RegionCode  *string
	Active      *bool
}

// CreatedEndpoint is a new (or re-keyed) endpoint with its secret, shown this once.
type CreatedEndpoint struct {
	Endpoint Endpoint
	Secret   string
}

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$`)

func requireAdmin(p identity.Principal) error {
	if p.IsAPIKey() || !p.Is(identity.RoleAdmin) {
		return errs.E(errs.Forbidden, "only admins manage webhooks")
	}
	return nil
}

func (s *Service) validate(ctx context.Context, e *Endpoint, urlChanged bool) error {
	var f errs.Fields
	if urlChanged {
		if _, err := s.guard.CheckURL(ctx, "url", e.URL); err != nil {
			if ee, ok := errs.As(err); ok {
				f = append(f, ee.Fields...)
			} else {
				return err
			}
		}
	}
	if utf8.RuneCountInString(e.Description) > 500 {
		f.Add("description", "max_length", "description must be at most 500 characters")
	}
	if len(e.EventTypes) > 50 {
		f.Add("event_types", "max_items", "at most 50 event types")
	}
	seen := map[string]bool{}
	types := e.EventTypes[:0:0]
	for i, t := range e.EventTypes {
		t = strings.TrimSpace(t)
		if !eventTypeRE.MatchString(t) || len(t) > 100 {
			f.Add(fmt.Sprintf("event_types[%d]", i), "format", "%q is not an event type (e.g. case.dispatch, or case.* for all case events)", t)
			continue
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	e.EventTypes = types
	if e.RegionCode != "" {
		path, err := s.store.WebhookRegionPath(ctx, e.RegionCode)
		switch {
		case errs.Is(err, errs.NotFound):
			f.Add("region_code", "exists", "region %s does not exist", e.RegionCode)
		case err != nil:
			return err
		default:
			e.RegionPath = path
		}
	} else {
		e.RegionPath = ""
	}
	return f.Err()
}

// CreateEndpoint registers an endpoint (admins only) and returns it with its new secret.
func (s *Service) CreateEndpoint(ctx context.Context, p identity.Principal, in NewEndpoint) (CreatedEndpoint, error) {
	if err := requireAdmin(p); err != nil {
		return CreatedEndpoint{}, err
	}
	now := s.clock.Now()
	e := Endpoint{URL: strings.TrimSpace(in.URL), Description: strings.TrimSpace(in.Description), EventTypes: in.EventTypes,
		RegionCode: strings.TrimSpace(in.RegionCode), Active: true, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	if err := s.validate(ctx, &e, true); err != nil {
		return CreatedEndpoint{}, err
	}
	secret := NewSecret()
	e.SealedSecret = s.box.Seal(secret)
	err := s.store.InEventsTx(ctx, func(tx Store) error {
		all, err := tx.WebhookEndpoints(ctx, "", false)
		if err != nil {
			return err
		}
		if len(all) >= s.cfg.MaxEndpoints {
			return errs.E(errs.Conflict, "there are already %d webhook endpoints, the most allowed", len(all))
		}
		return tx.CreateWebhookEndpoint(ctx, &e)
	})
	if err != nil {
		return CreatedEndpoint{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	s.log.InfoContext(ctx, "webhook endpoint created", "endpoint_id", e.ID, "by_user_id", p.UserID)
	return CreatedEndpoint{Endpoint: e, Secret: secret}, nil
}

// Endpoints lists every endpoint (admins only).
func (s *Service) Endpoints(ctx context.Context, p identity.Principal) ([]Endpoint, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	return s.store.WebhookEndpoints(ctx, "", false)
}

// Endpoint reads one endpoint (admins only).
func (s *Service) Endpoint(ctx context.Context, p identity.Principal, id int64) (Endpoint, error) {
	if err := requireAdmin(p); err != nil {
		return Endpoint{}, err
	}
	return s.endpoint(ctx, id)
}

func (s *Service) endpoint(ctx context.Context, id int64) (Endpoint, error) {
	e, err := s.store.WebhookEndpoint(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return Endpoint{}, errs.NotFoundf("webhook endpoint %d not found", id)
	}
	return e, err
}

// UpdateEndpoint changes an endpoint (admins only). Switching it on again clears the reason
// it was switched off.
func (s *Service) UpdateEndpoint(ctx context.Context, p identity.Principal, id int64, patch EndpointPatch) (Endpoint, error) {
	if err := requireAdmin(p); err != nil {
		return Endpoint{}, err
	}
	cur, err := s.endpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	// Validate (which may resolve the URL's host) before taking the row lock.
	next, urlChanged := cur, false
	if patch.URL != nil && strings.TrimSpace(*patch.URL) != cur.URL {
		next.URL, urlChanged = strings.TrimSpace(*patch.URL), true
	}
	if patch.Description != nil {
		next.Description = strings.TrimSpace(*patch.Description)
	}
	if patch.EventTypes != nil {
		next.EventTypes = *patch.EventTypes
	}
	if patch.RegionCode != nil {
		next.RegionCode = strings.TrimSpace(*patch.RegionCode)
	}
	if err := s.validate(ctx, &next, urlChanged); err != nil {
		return Endpoint{}, err
	}
	e, err := s.store.UpdateWebhookEndpoint(ctx, id, func(e *Endpoint) error {
		if patch.URL != nil {
			e.URL = next.URL
		}
		if patch.Description != nil {
			e.Description = next.Description
		}
		if patch.EventTypes != nil {
			e.EventTypes = next.EventTypes
		}
		if patch.RegionCode != nil {
			e.RegionCode, e.RegionPath = next.RegionCode, next.RegionPath
		}
		if patch.Active != nil {
			if *patch.Active && !e.Active {
				e.DisabledReason = ""
			}
			e.Active = *patch.Active
		}
		e.UpdatedAt = s.clock.Now()
		return nil
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("update webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// DeleteEndpoint removes an endpoint with its delivery log (admins only). Deliveries still
// queued for it are dropped.
func (s *Service) DeleteEndpoint(ctx context.Context, p identity.Principal, id int64) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	if err := s.store.DeleteWebhookEndpoint(ctx, id); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("webhook endpoint %d not found", id)
		}
		return fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "webhook endpoint deleted", "endpoint_id", id, "by_user_id", p.UserID)
	return nil
}

// RotateSecret gives an endpoint a new secret (admins only) and returns it, once. The old
// secret keeps signing beside the new one (two signatures in webhook-signature) for
// Config.SecretGrace, so the receiver can switch without losing a message.
func (s *Service) RotateSecret(ctx context.Context, p identity.Principal, id int64) (CreatedEndpoint, error) {
	if err := requireAdmin(p); err != nil {
		return CreatedEndpoint{}, err
	}
	if _, err := s.endpoint(ctx, id); err != nil {
		return CreatedEndpoint{}, err
	}
	secret := NewSecret()
	e, err := s.store.UpdateWebhookEndpoint(ctx, id, func(e *Endpoint) error {
		now := s.clock.Now()
		until := now.Add(s.cfg.SecretGrace)
		e.SealedPreviousSecret, e.PreviousSecretExpiresAt = e.SealedSecret, &until
		e.SealedSecret = s.box.Seal(secret)
		e.UpdatedAt = now
		return nil
	})
	if err != nil {
		return CreatedEndpoint{}, fmt.Errorf("rotate webhook secret %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "webhook secret rotated", "endpoint_id", id, "by_user_id", p.UserID)
	return CreatedEndpoint{Endpoint: e, Secret: secret}, nil
}

// signingSecrets returns the secrets a message to e is signed with: the current one, and the
// previous one while its grace lasts.
func (s *Service) signingSecrets(e Endpoint) ([]string, error) {
	cur, err := s.box.Open(e.SealedSecret)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if e.SealedPreviousSecret != "" && e.PreviousSecretExpiresAt != nil && s.clock.Now().Before(*e.PreviousSecretExpiresAt) {
		prev, err := s.box.Open(e.SealedPreviousSecret)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// ---- deliveries ----

// Deliveries lists an endpoint's deliveries with their attempts, newest first (admins only).
func (s *Service) Deliveries(ctx context.Context, p identity.Principal, f DeliveryFilter) ([]Delivery, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if _, err := s.endpoint(ctx, f.EndpointID); err != nil {
		return nil, err
	}
	var fe errs.Fields
	if f.Status != "" && !slices.Contains([]DeliveryStatus{Pending, Succeeded, Failed, Dead}, f.Status) {
		fe.Add("status", "enum", "status must be pending, succeeded, failed or dead")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		fe.Add("limit", "range", "limit must be between 1 and 200")
	}
	if f.Before < 0 {
		fe.Add("before", "range", "before must be a delivery id")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return s.store.WebhookDeliveries(ctx, f)
}

// Replay sends a delivery again (admins only): the same body and webhook-id, a fresh round of
// attempts with the full retry schedule. A round still in progress is superseded.
func (s *Service) Replay(ctx context.Context, p identity.Principal, deliveryID int64) (Delivery, error) {
	if err := requireAdmin(p); err != nil {
		return Delivery{}, err
	}
	var out Delivery
	err := s.store.InEventsTx(ctx, func(tx Store) error {
		d, err := tx.UpdateWebhookDelivery(ctx, deliveryID, func(d *Delivery) error {
			d.Replays++
			d.Status = Pending
			d.NextAttemptAt = nil
			d.UpdatedAt = s.clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		out = d
		return tx.EnqueueManyTx(ctx, []river.InsertManyParams{s.deliverJob(d)})
	})
	if errs.Is(err, errs.NotFound) {
		return Delivery{}, errs.NotFoundf("webhook delivery %d not found", deliveryID)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("replay webhook delivery %d: %w", deliveryID, err)
	}
	s.log.InfoContext(ctx, "webhook delivery replayed", "delivery_id", deliveryID, "replays", out.Replays, "by_user_id", p.UserID)
	return out, nil
}

// Ping queues a webhook.ping message to an endpoint (admins only), active or not, and returns
// its delivery: its log shows what the receiver answered.
func (s *Service) Ping(ctx context.Context, p identity.Principal, endpointID int64) (Delivery, error) {
	if err := requireAdmin(p); err != nil {
		return Delivery{}, err
	}
	if _, err := s.endpoint(ctx, endpointID); err != nil {
		return Delivery{}, err
	}
	now := s.clock.Now()
	msg := Message{Type: PingType, Timestamp: now, Data: MessageData{EndpointID: endpointID}}
	d := s.newDelivery(endpointID, 0, msg)
	err := s.store.InEventsTx(ctx, func(tx Store) error {
		if err := tx.CreateWebhookDelivery(ctx, &d); err != nil {
			return err
		}
		return tx.EnqueueManyTx(ctx, []river.InsertManyParams{s.deliverJob(d)})
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("ping webhook endpoint %d: %w", endpointID, err)
	}
	return d, nil
}

// newDelivery prepares a pending delivery of msg with a fresh webhook-id.
func (s *Service) newDelivery(endpointID, seq int64, msg Message) Delivery {
	now := s.clock.Now()
	return Delivery{EndpointID: endpointID, FeedSeq: seq, EventType: msg.Type, WebhookID: newWebhookID(),
		Payload: msg.Marshal(), Status: Pending, CreatedAt: now, UpdatedAt: now}
}

// newWebhookID is "msg_" + 32 hex digits: unique, and free of the "." the signed content
// uses as a separator.
func newWebhookID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}
