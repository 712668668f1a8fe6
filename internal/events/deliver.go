package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/jobs"
)

// ExcerptBytes bounds the part of a receiver's answer kept in the delivery log.
const ExcerptBytes = 2048

// DeliverArgs is the job that sends one round of a delivery. Replays names the round: a
// replay bumps it, so a job of an older round finds itself superseded and stops.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	Replays    int   `json:"replays"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "webhook_deliver" }

// deliverJob is the job for the current round of d: on the webhook queue, one attempt more
// than there are retry delays, unique per round.
func (s *Service) deliverJob(d Delivery) river.InsertManyParams {
	return river.InsertManyParams{Args: DeliverArgs{DeliveryID: d.ID, Replays: d.Replays}, InsertOpts: &river.InsertOpts{
		Queue:       jobs.QueueWebhooks,
		MaxAttempts: len(s.cfg.RetryDelays) + 1,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}}
}

// retryDelay is the wait after the attempt-th failed attempt of a round, with ±10 % jitter
// (derived from the delivery and attempt, so the job's schedule and the logged
// next_attempt_at agree).
func (s *Service) retryDelay(deliveryID int64, attempt int) time.Duration {
	i := min(max(attempt-1, 0), len(s.cfg.RetryDelays)-1)
	d := s.cfg.RetryDelays[i]
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d", deliveryID, attempt)
	jitter := time.Duration(int64(h.Sum32()%2001)-1000) * d / 10000
	return d + jitter
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Timeout leaves the HTTP client's own deadline room to fire first.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.s.cfg.Client.Timeout + 30*time.Second
}

// NextRetry follows the configured schedule instead of River's default backoff.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return w.s.clock.Now().Add(w.s.retryDelay(job.Args.DeliveryID, job.Attempt))
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.attempt(ctx, job.Args, job.Attempt, job.MaxAttempts)
}

// errRetry makes River schedule the next attempt; the attempt itself is already logged.
type errRetry struct{ msg string }

func (e *errRetry) Error() string { return e.msg }

// attempt makes one HTTP attempt of a delivery round and logs it. It returns an error only
// when River should try again.
func (s *Service) attempt(ctx context.Context, args DeliverArgs, attempt, maxAttempts int) error {
	d, err := s.store.WebhookDelivery(ctx, args.DeliveryID)
	if errs.Is(err, errs.NotFound) {
		return nil // deleted with its endpoint
	}
	if err != nil {
		return err
	}
	if d.Replays != args.Replays || d.Status == Succeeded || d.Status == Dead {
		return nil // superseded by a replay, or this round is over
	}
	ep, err := s.store.WebhookEndpoint(ctx, d.EndpointID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if !ep.Active && d.EventType != PingType {
		return s.finish(ctx, args, Delivery{}, Attempt{}, Dead, "the endpoint is switched off", nil, false)
	}
	secrets, err := s.signingSecrets(ep)
	if err != nil {
		s.log.ErrorContext(ctx, "webhook secret unusable", "endpoint_id", ep.ID, "error", err)
		return err // a misconfigured replica: let River retry (another replica may hold the key)
	}
	res := s.send(ctx, ep.URL, d, secrets)
	a := Attempt{DeliveryID: d.ID, URL: ep.URL, StatusCode: res.StatusCode, Latency: res.Latency, Error: res.Err,
		ResponseExcerpt: res.Excerpt, CreatedAt: now}
	status := Failed
	switch {
	case res.ok():
		status = Succeeded
	case res.StatusCode == http.StatusGone:
		status = Dead
	case attempt >= maxAttempts:
		status = Dead
	}
	var next *time.Time
	if status == Failed {
		t := s.clock.Now().Add(s.retryDelay(d.ID, attempt))
		next = &t
	}
	gone := res.StatusCode == http.StatusGone
	if err := s.finish(ctx, args, d, a, status, "", next, gone); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "webhook attempt", "delivery_id", d.ID, "endpoint_id", ep.ID, "webhook_id", d.WebhookID,
		"attempt", attempt, "status", status, "status_code", res.StatusCode, "latency_ms", res.Latency.Milliseconds(), "error", res.Err)
	if status == Failed {
		return &errRetry{msg: fmt.Sprintf("webhook delivery %d attempt %d failed: %s", d.ID, attempt, res.summary())}
	}
	return nil
}

// finish records an attempt (when a.URL is set) and the delivery's new state in one
// transaction; a 410 Gone also switches the endpoint off.
func (s *Service) finish(ctx context.Context, args DeliverArgs, d Delivery, a Attempt, status DeliveryStatus, reason string, next *time.Time, gone bool) error {
	return s.store.InEventsTx(ctx, func(tx Store) error {
		superseded := false
		_, err := tx.UpdateWebhookDelivery(ctx, args.DeliveryID, func(x *Delivery) error {
			x.UpdatedAt = s.clock.Now()
			if a.URL != "" {
				x.Attempts++
				a.Attempt = x.Attempts
				x.LastStatusCode, x.LastLatency, x.LastError, x.LastResponseExcerpt = a.StatusCode, a.Latency, a.Error, a.ResponseExcerpt
			}
			if x.Replays != args.Replays {
				superseded = true // a replay came in while we were sending: its round decides
				return nil
			}
			x.Status, x.NextAttemptAt = status, next
			if reason != "" {
				x.LastError = reason
			}
			return nil
		})
		if err != nil {
			return err
		}
		if a.URL != "" {
			if err := tx.AddWebhookAttempt(ctx, &a); err != nil {
				return err
			}
		}
		if gone && !superseded {
			_, err := tx.UpdateWebhookEndpoint(ctx, d.EndpointID, func(e *Endpoint) error {
				e.Active = false
				e.DisabledReason = "the receiver answered 410 Gone at " + s.clock.Now().Format(time.RFC3339)
				e.UpdatedAt = s.clock.Now()
				return nil
			})
			return err
		}
		return nil
	})
}

// sendResult is what one HTTP attempt came to.
type sendResult struct {
	StatusCode int
	Latency    time.Duration
	Err        string
	Excerpt    string
}

func (r sendResult) ok() bool { return r.Err == "" && r.StatusCode >= 200 && r.StatusCode < 300 }

func (r sendResult) summary() string {
	if r.Err != "" {
		return r.Err
	}
	return "the receiver answered " + strconv.Itoa(r.StatusCode)
}

// send POSTs a delivery's payload, signed for this attempt. The timestamp is the wall clock's,
// whatever the job clock says: it is for the receiver's replay check.
func (s *Service) send(ctx context.Context, url string, d Delivery, secrets []string) sendResult {
	ts := time.Now()
	sig, err := Sign(d.WebhookID, ts, d.Payload, secrets...)
	if err != nil {
		return sendResult{Err: "sign: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		return sendResult{Err: "build request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gridcase-webhooks/1")
	req.Header.Set(HeaderID, d.WebhookID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return sendResult{Latency: time.Since(start), Err: clip(describeSendError(err), 1000)}
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, ExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	res := sendResult{StatusCode: resp.StatusCode, Latency: time.Since(start), Excerpt: strings.ToValidUTF8(string(b), "�")}
	if rerr != nil && res.StatusCode >= 200 && res.StatusCode < 300 {
		res.Err = clip("read the answer: "+rerr.Error(), 1000)
	}
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		res.Err = "the receiver answered a redirect that was not followed (" + resp.Header.Get("Location") + ")"
	}
	return res
}

// describeSendError makes a transport error readable, keeping the cause (a refused address,
// a timeout, too many redirects).
func describeSendError(err error) string {
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		return blocked.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout exceeded") {
		return "timed out: " + err.Error()
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
