package events_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/events"
)

// verify is a receiver's check written from the Standard Webhooks specification (1.0.0,
// "Verifying webhook authenticity"), not from our signer: read webhook-id, webhook-timestamp
// and webhook-signature; refuse a timestamp more than five minutes from now; the key is the
// base64 after "whsec_"; the signed content is "{msg_id}.{timestamp}.{payload}"; the header is
// a space-delimited list of "<version>,<base64 signature>", of which any "v1" entry may match,
// compared in constant time.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Unix() - sec; d > 300 || d < -300 {
		return errors.New("timestamp outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("bad secret")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, entry := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// The specification's published test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	got, err := events.Sign(vectorID, time.Unix(vectorTS, 0), []byte(vectorBody), vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSig {
		t.Fatalf("signature %q, want %q", got, vectorSig)
	}
}

func headers(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(events.HeaderID, id)
	h.Set(events.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(events.HeaderSignature, sig)
	return h
}

func TestSignedMessagesVerifyFromTheSpecification(t *testing.T) {
	now := time.Now()
	secret, other := events.NewSecret(), events.NewSecret()
	body := []byte(`{"type":"case.dispatch","timestamp":"2026-03-14T08:31:02Z","data":{"seq":7}}`)
	sign := func(ts time.Time, secrets ...string) string {
		t.Helper()
		s, err := events.Sign("msg_abc", ts, body, secrets...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    []byte
		wantErr string
	}{
		{"valid", secret, headers("msg_abc", now, sign(now, secret)), body, ""},
		{"the spec's vector", vectorSecret, headers(vectorID, time.Unix(vectorTS, 0), vectorSig), []byte(vectorBody), "tolerance"}, // valid but years old
		{"tampered body", secret, headers("msg_abc", now, sign(now, secret)), []byte(strings.Replace(string(body), "7", "8", 1)), "no matching"},
		{"other webhook-id", secret, headers("msg_abd", now, sign(now, secret)), body, "no matching"},
		{"wrong secret", other, headers("msg_abc", now, sign(now, secret)), body, "no matching"},
		{"stale timestamp", secret, headers("msg_abc", now.Add(-6*time.Minute), sign(now.Add(-6*time.Minute), secret)), body, "tolerance"},
		{"future timestamp", secret, headers("msg_abc", now.Add(6*time.Minute), sign(now.Add(6*time.Minute), secret)), body, "tolerance"},
		{"within tolerance", secret, headers("msg_abc", now.Add(-4*time.Minute), sign(now.Add(-4*time.Minute), secret)), body, ""},
		{"timestamp not the signed one", secret, headers("msg_abc", now.Add(-time.Minute), sign(now, secret)), body, "no matching"},
		{"rotation: the new secret verifies", secret, headers("msg_abc", now, sign(now, secret, other)), body, ""},
		{"rotation: the old secret verifies", other, headers("msg_abc", now, sign(now, secret, other)), body, ""},
		{"rotation: a third secret does not", events.NewSecret(), headers("msg_abc", now, sign(now, secret, other)), body, "no matching"},
		{"missing signature", secret, headers("msg_abc", now, ""), body, "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(tc.secret, tc.header, tc.body, now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("verify = %v, want an error about %q", err, tc.wantErr)
			}
		})
	}
	// The vector verifies at its own time.
	if err := verify(vectorSecret, headers(vectorID, time.Unix(vectorTS, 0), vectorSig), []byte(vectorBody), time.Unix(vectorTS+10, 0)); err != nil {
		t.Fatalf("the spec's vector: %v", err)
	}
	// Two secrets make two space-separated v1 entries, the current one first.
	if parts := strings.Split(sign(now, secret, other), " "); len(parts) != 2 || !strings.HasPrefix(parts[0], "v1,") || !strings.HasPrefix(parts[1], "v1,") {
		t.Fatalf("rotation header %v", parts)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := events.NewSecret(), events.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("key of %q: %d bytes, %v", a, len(key), err)
	}
	if _, err := events.Sign("msg_1", time.Now(), nil, "whsec_c2hvcnQ="); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	if _, err := events.Sign("msg_1", time.Now(), nil, "nope"); err == nil {
		t.Fatal("a secret without whsec_ was accepted")
	}
}

func TestSecretBox(t *testing.T) {
	dir := t.TempDir()
	box, err := events.LoadSecretBox("", dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("whsec_abc")
	if strings.Contains(sealed, "abc") {
		t.Fatalf("sealed %q shows the secret", sealed)
	}
	again, err := events.LoadSecretBox("", dir) // the generated key file is reused
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed); err != nil || got != "whsec_abc" {
		t.Fatalf("open = %q, %v", got, err)
	}
	otherKey := base64.StdEncoding.EncodeToString(make([]byte, 32))
	other, err := events.LoadSecretBox(otherKey, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed); err == nil || !strings.Contains(err.Error(), "GRIDCASE_WEBHOOK_SECRET_KEY") {
		t.Fatalf("open with another key: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := again.Open(tampered); err == nil {
		t.Fatal("a tampered secret opened")
	}
	if _, err := events.LoadSecretBox("c2hvcnQ=", dir); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}
