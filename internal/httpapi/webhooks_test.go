package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/app"
	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// ---- a webhook receiver, written from the Standard Webhooks specification ----

// whVerify checks a delivery as the specification tells a receiver to (see also
// events/signing_test.go): headers present, timestamp within five minutes, HMAC-SHA256 with
// the base64 key after "whsec_" over "id.timestamp.body", any v1 entry matching.
func whVerify(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("timestamp outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(sigs) {
		if v, sig, ok := strings.Cut(entry, ","); ok && v == "v1" {
			if got, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errors.New("no matching signature")
}

// whMessage is what a receiver reads of a delivery.
type whMessage struct {
	ID        string
	Header    http.Header
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      struct {
		Seq   int64 `json:"seq"`
		Event *struct {
			ID         int64  `json:"id"`
			Action     string `json:"action"`
			Visibility string `json:"visibility"`
		} `json:"event"`
		Case *struct {
			ID       int64  `json:"id"`
			Number   string `json:"number"`
			GridCode string `json:"grid_code"`
		} `json:"case"`
		EndpointID int64 `json:"endpoint_id"`
	} `json:"data"`
	Body []byte
}

// whReceiver is a test webhook receiver. respond decides each answer from the message and
// how many times its webhook-id came before (-1: hang); by default 200.
type whReceiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	got     []whMessage
	seen    map[string]int
	respond func(m whMessage, before int) int
	hold    chan struct{} // while open, a respond of -1 hangs until the request ends
}

func newWhReceiver(t *testing.T) *whReceiver {
	t.Helper()
	r := &whReceiver{t: t, seen: map[string]int{}, hold: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.release()
		r.srv.Close()
	})
	return r
}

func (r *whReceiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.hold:
	default:
		close(r.hold)
	}
}

func (r *whReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	m := whMessage{ID: req.Header.Get("webhook-id"), Header: req.Header.Clone(), Body: body}
	if err := json.Unmarshal(body, &m); err != nil || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("receiver: %s %s %q: %v", req.Method, req.Header.Get("Content-Type"), body, err)
	}
	r.mu.Lock()
	before := r.seen[m.ID]
	r.seen[m.ID]++
	r.got = append(r.got, m)
	respond := r.respond
	r.mu.Unlock()
	status := http.StatusOK
	if respond != nil {
		status = respond(m, before)
	}
	if status == -1 { // hang until the sender gives up
		select {
		case <-req.Context().Done():
		case <-r.hold:
		}
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
}

func (r *whReceiver) setRespond(f func(m whMessage, before int) int) {
	r.mu.Lock()
	r.respond = f
	r.mu.Unlock()
}

func (r *whReceiver) messages() []whMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]whMessage(nil), r.got...)
}

// ofType lists the received messages of a type, each webhook-id once.
func (r *whReceiver) ofType(typ string) []whMessage {
	var out []whMessage
	seen := map[string]bool{}
	for _, m := range r.messages() {
		if m.Type == typ && !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out
}

func (r *whReceiver) host() string {
	u, _ := url.Parse(r.srv.URL)
	return u.Host
}

// eventually polls cond until it holds or the deadline passes (no fixed sleeps).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fastEvents makes publishing, retries and streams quick for tests, and lets webhooks reach
// the receivers' hosts (127.0.0.1:<port>, and only those ports) through the allow-list.
func fastEvents(allow ...string) apptest.Option {
	return func(c *config.Config) {
		c.WebhookAllowHosts = allow
		c.EventsPublishInterval = 20 * time.Millisecond
		c.StreamPollInterval = 20 * time.Millisecond
		c.StreamHeartbeat = 150 * time.Millisecond
		c.JobsPollInterval = 20 * time.Millisecond
		c.WebhookRetryDelays = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
		c.WebhookTimeout = 400 * time.Millisecond
	}
}

// eachDialect runs fn on SQLite and on PostgreSQL.
func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

// ---- the API's JSON ----

type whEndpoint struct {
	ID                      int64    `json:"id"`
	URL                     string   `json:"url"`
	Description             string   `json:"description"`
	EventTypes              []string `json:"event_types"`
	RegionCode              string   `json:"region_code"`
	Active                  bool     `json:"active"`
	DisabledReason          string   `json:"disabled_reason"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
	Secret                  string   `json:"secret"`
}

type whAttempt struct {
	Attempt         int    `json:"attempt"`
	StatusCode      int    `json:"status_code"`
	LatencyMs       int64  `json:"latency_ms"`
	Error           string `json:"error"`
	ResponseExcerpt string `json:"response_excerpt"`
}

type whDelivery struct {
	ID         int64           `json:"id"`
	EndpointID int64           `json:"endpoint_id"`
	FeedSeq    int64           `json:"feed_seq"`
	EventType  string          `json:"event_type"`
	WebhookID  string          `json:"webhook_id"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Replays    int             `json:"replays"`
	LastError  string          `json:"last_error"`
	Payload    json.RawMessage `json:"payload"`
	AttemptLog []whAttempt     `json:"attempt_log"`
}

func createEndpoint(t *testing.T, e *apptest.Env, token string, body map[string]any) whEndpoint {
	t.Helper()
	var ep whEndpoint
	res := e.Post("/api/v1/webhooks", token, body).MustStatus(t, http.StatusCreated)
	res.JSON(t, &ep)
	if !strings.HasPrefix(ep.Secret, "whsec_") || res.Header.Get("Location") != fmt.Sprintf("/api/v1/webhooks/%d", ep.ID) ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created endpoint: %+v %v", ep, res.Header)
	}
	return ep
}

func deliveries(t *testing.T, e *apptest.Env, token string, endpointID int64, query string) []whDelivery {
	t.Helper()
	var l struct{ Items []whDelivery }
	e.Get(fmt.Sprintf("/api/v1/webhooks/%d/deliveries%s", endpointID, query), token).MustStatus(t, http.StatusOK).JSON(t, &l)
	return l.Items
}

// waitDeliveries waits until every delivery of the endpoint has one of the statuses and
// there are at least n of them.
func waitDeliveries(t *testing.T, e *apptest.Env, token string, endpointID int64, n int, statuses ...string) []whDelivery {
	t.Helper()
	var ds []whDelivery
	eventually(t, fmt.Sprintf("%d deliveries of endpoint %d in %v", n, endpointID, statuses), func() bool {
		ds = deliveries(t, e, token, endpointID, "")
		if len(ds) < n {
			return false
		}
		for _, d := range ds {
			ok := false
			for _, s := range statuses {
				ok = ok || d.Status == s
			}
			if !ok {
				return false
			}
		}
		return true
	})
	return ds
}

// ---- tests ----

func TestWebhookEndpointsCRUD(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		rcv := newWhReceiver(t)
		e := apptest.New(t, d, fastEvents(rcv.host()))
		w := newWorld(t, e)

		e.Get("/api/v1/webhooks", "-").MustStatus(t, http.StatusUnauthorized)
		e.Get("/api/v1/webhooks", w.d1).MustStatus(t, http.StatusForbidden)
		e.Post("/api/v1/webhooks", w.sup, map[string]any{"url": rcv.srv.URL}).MustStatus(t, http.StatusForbidden)

		ep := createEndpoint(t, e, w.admin, map[string]any{"url": rcv.srv.URL + "/hook", "description": "热线", "event_types": []string{"case.accept", "case.report"}, "region_code": street1})
		if !ep.Active || ep.RegionCode != street1 || len(ep.EventTypes) != 2 {
			t.Fatalf("created: %+v", ep)
		}
		var got whEndpoint
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), w.admin).MustStatus(t, http.StatusOK).JSON(t, &got)
		if got.Secret != "" || got.URL != rcv.srv.URL+"/hook" {
			t.Fatalf("read back: %+v (the secret must not be shown again)", got)
		}
		var list struct{ Items []whEndpoint }
		e.Get("/api/v1/webhooks", w.admin).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != ep.ID {
			t.Fatalf("list: %+v", list)
		}

		bad := []struct {
			name  string
			body  map[string]any
			field string
			rule  string
		}{
			{"loopback", map[string]any{"url": "http://127.0.0.1:9/hook"}, "url", "forbidden_address"},
			{"metadata", map[string]any{"url": "http://169.254.169.254/latest"}, "url", "forbidden_address"},
			{"private", map[string]any{"url": "https://10.1.2.3/hook"}, "url", "forbidden_address"},
			{"IPv6 loopback", map[string]any{"url": "http://[::1]/hook"}, "url", "forbidden_address"},
			{"a name for loopback", map[string]any{"url": "http://localhost:" + strings.Split(rcv.host(), ":")[1] + "/hook"}, "url", "forbidden_address"},
			{"not http", map[string]any{"url": "gopher://example.com/"}, "url", "scheme"},
			{"user info", map[string]any{"url": "https://a:b@" + rcv.host() + "/"}, "url", "userinfo"},
			{"event type", map[string]any{"url": rcv.srv.URL, "event_types": []string{"Case Dispatch"}}, "event_types[0]", "format"},
			{"region", map[string]any{"url": rcv.srv.URL, "region_code": "999999"}, "region_code", "exists"},
			{"unknown field", map[string]any{"url": rcv.srv.URL, "secret": "whsec_mine"}, "secret", "unknown"},
		}
		for _, b := range bad {
			p := e.Post("/api/v1/webhooks", w.admin, b.body).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
			if !hasField(p, b.field) || !strings.Contains(fmt.Sprint(p["errors"]), b.rule) {
				t.Errorf("%s: %v", b.name, p)
			}
		}

		var patched whEndpoint
		e.Do(apptest.Req{Method: http.MethodPatch, Path: fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), Token: w.admin,
			JSON: map[string]any{"description": "热线 v2", "event_types": []string{"case.*"}, "region_code": "", "active": false}}).
			MustStatus(t, http.StatusOK).JSON(t, &patched)
		if patched.Description != "热线 v2" || patched.RegionCode != "" || patched.Active || len(patched.EventTypes) != 1 || patched.URL != ep.URL {
			t.Fatalf("patched: %+v", patched)
		}
		e.Do(apptest.Req{Method: http.MethodPatch, Path: fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), Token: w.admin,
			JSON: map[string]any{"url": "http://192.168.0.10/"}}).MustStatus(t, http.StatusUnprocessableEntity)
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/webhooks/999", Token: w.admin, JSON: map[string]any{"active": true}}).
			MustStatus(t, http.StatusNotFound)

		var rotated whEndpoint
		e.Post(fmt.Sprintf("/api/v1/webhooks/%d/rotate-secret", ep.ID), w.admin, nil).MustStatus(t, http.StatusOK).JSON(t, &rotated)
		if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousSecretExpiresAt == nil {
			t.Fatalf("rotated: %+v", rotated)
		}
		e.Post("/api/v1/webhooks/999/rotate-secret", w.admin, nil).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/webhooks/999/deliveries", w.admin).MustStatus(t, http.StatusNotFound)
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d/deliveries?status=lost", ep.ID), w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d/deliveries?limit=x", ep.ID), w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Post("/api/v1/webhooks/deliveries/999/replay", w.admin, nil).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/webhooks/abc", w.admin).MustStatus(t, http.StatusNotFound)

		// A ping goes out even to a switched-off endpoint, signed with the current secret.
		var ping whDelivery
		e.Post(fmt.Sprintf("/api/v1/webhooks/%d/test", ep.ID), w.admin, nil).MustStatus(t, http.StatusAccepted).JSON(t, &ping)
		if ping.EventType != "webhook.ping" || ping.Status != "pending" || !strings.HasPrefix(ping.WebhookID, "msg_") {
			t.Fatalf("ping: %+v", ping)
		}
		eventually(t, "the ping", func() bool { return len(rcv.ofType("webhook.ping")) == 1 })
		m := rcv.ofType("webhook.ping")[0]
		if m.ID != ping.WebhookID || m.Data.EndpointID != ep.ID {
			t.Fatalf("ping received: %+v", m)
		}
		// Signed with the new secret and, during the grace period, the old one.
		for _, secret := range []string{rotated.Secret, ep.Secret} {
			if err := whVerify(secret, m.Header, m.Body); err != nil {
				t.Fatalf("verify the ping: %v", err)
			}
		}
		if err := whVerify("whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), m.Header, m.Body); err == nil {
			t.Fatal("the ping verified with a secret it was not signed with")
		}
		ds := waitDeliveries(t, e, w.admin, ep.ID, 1, "succeeded")
		if ds[0].Attempts != 1 || len(ds[0].AttemptLog) != 1 || ds[0].AttemptLog[0].StatusCode != http.StatusOK {
			t.Fatalf("ping log: %+v", ds[0])
		}

		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), Token: w.d1}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), Token: w.admin}).MustStatus(t, http.StatusNoContent)
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), w.admin).MustStatus(t, http.StatusNotFound)
		e.Do(apptest.Req{Method: http.MethodDelete, Path: fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), Token: w.admin}).MustStatus(t, http.StatusNotFound)
	})
}

// TestWebhookDeliveriesFollowFiltersAndScope: endpoints get the events their type filter and
// region pass, signed, each once, with the feed's seq; internal comments go to none.
func TestWebhookDeliveriesFollowFiltersAndScope(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		all, accepts, south := newWhReceiver(t), newWhReceiver(t), newWhReceiver(t)
		e := apptest.New(t, d, fastEvents(all.host(), accepts.host(), south.host()))
		w := newWorld(t, e)
		epAll := createEndpoint(t, e, w.admin, map[string]any{"url": all.srv.URL})
		createEndpoint(t, e, w.admin, map[string]any{"url": accepts.srv.URL, "event_types": []string{"case.accept"}})
		createEndpoint(t, e, w.admin, map[string]any{"url": south.srv.URL, "region_code": street2})

		c1 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c1.ID, "accept", map[string]any{"note": "立案"}, http.StatusOK)
		w.act(w.d1, c1.ID, "comment", map[string]any{"note": "内部备注", "visibility": "internal"}, http.StatusOK)
		w.act(w.d1, c1.ID, "comment", map[string]any{"note": "已受理", "visibility": "public"}, http.StatusOK)
		c2 := w.reportAt(w.w2, inG2, "E0101")

		eventually(t, "the deliveries", func() bool {
			return len(all.ofType("case.report")) == 2 && len(all.ofType("case.accept")) == 1 && len(all.ofType("case.comment")) == 1 &&
				len(accepts.ofType("case.accept")) == 1 && len(south.ofType("case.report")) == 1
		})
		for _, m := range all.messages() {
			if err := whVerify(epAll.Secret, m.Header, m.Body); err != nil {
				t.Fatalf("%s: %v", m.Type, err)
			}
			if m.Data.Seq == 0 || m.Data.Event == nil || m.Data.Case == nil || m.Timestamp == "" {
				t.Fatalf("message %s: %s", m.Type, m.Body)
			}
			if m.Type == "case.comment" && m.Data.Event.Visibility != "public" {
				t.Fatalf("an internal comment was delivered: %s", m.Body)
			}
		}
		if got := accepts.messages(); len(got) != 1 || got[0].Data.Case.ID != c1.ID {
			t.Fatalf("the accept-only endpoint got %d messages", len(got))
		}
		if got := south.messages(); len(got) != 1 || got[0].Data.Case.ID != c2.ID || got[0].Data.Case.GridCode != grid2 {
			t.Fatalf("the street-2 endpoint got %+v", got)
		}
		seqs := map[int64]bool{}
		for _, m := range all.messages() {
			if seqs[m.Data.Seq] {
				t.Fatalf("seq %d delivered twice", m.Data.Seq)
			}
			seqs[m.Data.Seq] = true
		}

		// The log matches what arrived: the same webhook-id, one successful attempt each.
		ds := waitDeliveries(t, e, w.admin, epAll.ID, 4, "succeeded")
		for _, dl := range ds {
			if dl.Attempts != 1 || len(dl.AttemptLog) != 1 || dl.AttemptLog[0].StatusCode != http.StatusOK || dl.AttemptLog[0].ResponseExcerpt != "answer 200" {
				t.Fatalf("delivery log: %+v (payload %s)", dl.AttemptLog, dl.Payload)
			}
			found := false
			for _, m := range all.messages() {
				found = found || (m.ID == dl.WebhookID && m.Data.Seq == dl.FeedSeq && string(m.Body) == string(dl.Payload))
			}
			if !found {
				t.Fatalf("delivery %d (%s) not received as logged", dl.ID, dl.WebhookID)
			}
		}
		if page := deliveries(t, e, w.admin, epAll.ID, "?limit=2"); len(page) != 2 || page[0].ID < page[1].ID {
			t.Fatalf("page: %+v", page)
		}
		var l struct {
			Items      []whDelivery
			NextBefore int64 `json:"next_before"`
		}
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d/deliveries?limit=3", epAll.ID), w.admin).MustStatus(t, http.StatusOK).JSON(t, &l)
		var rest struct{ Items []whDelivery }
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d/deliveries?limit=3&before=%d", epAll.ID, l.NextBefore), w.admin).MustStatus(t, http.StatusOK).JSON(t, &rest)
		if len(l.Items) != 3 || l.NextBefore == 0 || len(rest.Items) != 1 || rest.Items[0].ID >= l.NextBefore {
			t.Fatalf("pages: %d then %d (next_before %d)", len(l.Items), len(rest.Items), l.NextBefore)
		}
	})
}

// TestWebhookRetriesTimeoutsAndRedirects: a receiver that answers 500 then 200 gets the
// message again and succeeds; one that hangs is timed out, retried and finally dead, and a
// replay sends the same webhook-id again; one that redirects to an address outside the
// allow-list fails every attempt with the refusal logged; one that answers 410 switches its
// endpoint off.
func TestWebhookRetriesTimeoutsAndRedirects(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		flaky, hang, redirect, gone, target := newWhReceiver(t), newWhReceiver(t), newWhReceiver(t), newWhReceiver(t), newWhReceiver(t)
		flaky.setRespond(func(m whMessage, before int) int {
			if before == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		hang.setRespond(func(whMessage, int) int { return -1 })
		redirect.setRespond(func(whMessage, int) int { return http.StatusTemporaryRedirect })
		redirect.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redirect.serve(httptest.NewRecorder(), r) // record it
			http.Redirect(w, r, target.srv.URL+"/", http.StatusTemporaryRedirect)
		})
		gone.setRespond(func(whMessage, int) int { return http.StatusGone })
		// target is a live receiver but not on the allow-list: the redirect must not reach it.
		e := apptest.New(t, d, fastEvents(flaky.host(), hang.host(), redirect.host(), gone.host()))
		w := newWorld(t, e)
		epFlaky := createEndpoint(t, e, w.admin, map[string]any{"url": flaky.srv.URL})
		epHang := createEndpoint(t, e, w.admin, map[string]any{"url": hang.srv.URL})
		epRedirect := createEndpoint(t, e, w.admin, map[string]any{"url": redirect.srv.URL})
		epGone := createEndpoint(t, e, w.admin, map[string]any{"url": gone.srv.URL})

		w.reportAt(w.w1, inG1, "E0101")

		ds := waitDeliveries(t, e, w.admin, epFlaky.ID, 1, "succeeded")
		if a := ds[0].AttemptLog; ds[0].Attempts != 2 || len(a) != 2 || a[0].StatusCode != 500 || a[1].StatusCode != 200 || a[0].ResponseExcerpt != "answer 500" {
			t.Fatalf("flaky: %+v", ds[0])
		}
		if got := flaky.messages(); len(got) != 2 || got[0].ID != got[1].ID || string(got[0].Body) != string(got[1].Body) {
			t.Fatalf("the retry is not the same message: %d messages", len(got))
		}

		ds = waitDeliveries(t, e, w.admin, epHang.ID, 1, "dead")
		if ds[0].Attempts != 4 || len(ds[0].AttemptLog) != 4 {
			t.Fatalf("hang: %d attempts, want 4 (1 + 3 retries)", ds[0].Attempts)
		}
		for _, a := range ds[0].AttemptLog {
			if a.StatusCode != 0 || !strings.Contains(a.Error, "timed out") || a.LatencyMs < 300 {
				t.Fatalf("hang attempt: %+v", a)
			}
		}
		hang.setRespond(nil)
		var replayed whDelivery
		e.Post(fmt.Sprintf("/api/v1/webhooks/deliveries/%d/replay", ds[0].ID), w.admin, nil).MustStatus(t, http.StatusAccepted).JSON(t, &replayed)
		if replayed.Replays != 1 || replayed.Status != "pending" || replayed.WebhookID != ds[0].WebhookID {
			t.Fatalf("replayed: %+v", replayed)
		}
		ds = waitDeliveries(t, e, w.admin, epHang.ID, 1, "succeeded")
		if ds[0].Attempts != 5 || ds[0].AttemptLog[4].StatusCode != http.StatusOK {
			t.Fatalf("after the replay: %+v", ds[0])
		}
		if got := hang.messages(); len(got) != 5 || got[4].ID != ds[0].WebhookID {
			t.Fatalf("the hanging receiver saw %d messages", len(got))
		}

		ds = waitDeliveries(t, e, w.admin, epRedirect.ID, 1, "dead")
		for _, a := range ds[0].AttemptLog {
			if !strings.Contains(a.Error, "refused to connect to 127.0.0.1") || !strings.Contains(a.Error, "loopback") {
				t.Fatalf("redirect attempt: %+v", a)
			}
		}
		if len(target.messages()) != 0 {
			t.Fatal("the redirect reached an address outside the allow-list")
		}
		if len(redirect.messages()) != 4 {
			t.Fatalf("the redirecting receiver saw %d attempts, want 4", len(redirect.messages()))
		}

		ds = waitDeliveries(t, e, w.admin, epGone.ID, 1, "dead")
		if ds[0].Attempts != 1 {
			t.Fatalf("410: %d attempts, want 1", ds[0].Attempts)
		}
		var ep whEndpoint
		e.Get(fmt.Sprintf("/api/v1/webhooks/%d", epGone.ID), w.admin).MustStatus(t, http.StatusOK).JSON(t, &ep)
		if ep.Active || !strings.Contains(ep.DisabledReason, "410") {
			t.Fatalf("after 410: %+v", ep)
		}
	})
}

// appOn builds and starts the service on an existing database, as a restarted process would.
// stop closes it (at most once; also when the test ends).
func appOn(t *testing.T, d store.Dialect, dbURL string, opts ...apptest.Option) (*apptest.Env, func()) {
	t.Helper()
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL, cfg.DataDir, cfg.BootstrapAdminPassword, cfg.LogLevel = dbURL, t.TempDir(), apptest.AdminPassword, "error"
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Build(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := a.Bootstrap(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server.Handler())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Close()
			cancel()
			_ = a.Close()
		})
	}
	t.Cleanup(stop)
	return &apptest.Env{T: t, Dialect: d, App: a, Server: srv}, stop
}

// TestWebhookDeliveryIsAtLeastOnceAcrossRestarts: deliveries queued by a process that stops
// before sending them, and deliveries that failed and wait for their retry when the process
// stops, all arrive once a new process runs on the same database.
func TestWebhookDeliveryIsAtLeastOnceAcrossRestarts(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		rcv := newWhReceiver(t)
		dbURL := storetest.URL(t, d)
		key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) // the same on every "replica"
		common := func(c *config.Config) { c.WebhookSecretKey = key }

		// 1. An API-only process (it runs no job workers): events are published, their
		// deliveries queued, nothing sent; then it stops.
		e1, stop1 := appOn(t, d, dbURL, fastEvents(rcv.host()), common, func(c *config.Config) { c.JobsWork = false })
		w := newWorld(t, e1)
		ep := createEndpoint(t, e1, w.admin, map[string]any{"url": rcv.srv.URL})
		for i := 0; i < 3; i++ {
			c := w.reportAt(w.w1, inG1, "E0101")
			w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
		}
		queued := waitDeliveries(t, e1, w.admin, ep.ID, 6, "pending")
		stop1()
		if len(rcv.messages()) != 0 {
			t.Fatal("an API-only process sent webhooks")
		}

		// 2. A working process whose receiver is down: every delivery fails once and waits an
		// hour for its retry; the process stops.
		rcv.setRespond(func(whMessage, int) int { return http.StatusServiceUnavailable })
		e2, stop2 := appOn(t, d, dbURL, fastEvents(rcv.host()), common, func(c *config.Config) { c.WebhookRetryDelays = []time.Duration{time.Hour} })
		admin := e2.AdminToken()
		waitDeliveries(t, e2, admin, ep.ID, 6, "failed")
		stop2()
		down := len(rcv.messages())

		// 3. The receiver is back; a new process, an hour later by its clock, delivers them all.
		rcv.setRespond(nil)
		e3, _ := appOn(t, d, dbURL, fastEvents(rcv.host()), common)
		e3.App.Jobs.Clock().Advance(2 * time.Hour)
		if _, err := e3.App.Jobs.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		ds := waitDeliveries(t, e3, e3.AdminToken(), ep.ID, 6, "succeeded")
		if down != 6 {
			t.Fatalf("%d attempts while the receiver was down, want 6", down)
		}
		for _, q := range queued {
			got := 0
			for _, m := range rcv.messages() {
				if m.ID == q.WebhookID {
					got++
					if err := whVerify(ep.Secret, m.Header, m.Body); err != nil {
						t.Fatalf("delivery %s: %v", q.WebhookID, err)
					}
				}
			}
			if got < 2 { // 503, then 200
				t.Fatalf("delivery %s arrived %d times", q.WebhookID, got)
			}
		}
		for _, dl := range ds {
			if dl.Attempts != 2 || dl.AttemptLog[0].StatusCode != http.StatusServiceUnavailable || dl.AttemptLog[1].StatusCode != http.StatusOK {
				t.Fatalf("delivery log across restarts: %+v", dl)
			}
		}
	})
}
