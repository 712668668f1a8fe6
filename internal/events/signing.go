package events

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Webhook signing follows Standard Webhooks (https://www.standardwebhooks.com, spec 1.0.0):
//
//	webhook-id:        msg_… — one per delivery, the same on every retry and replay
//	webhook-timestamp: the attempt's time, Unix seconds
//	webhook-signature: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
//	                   space-separated when several secrets are valid (a rotation)
//
// where key is the endpoint secret's bytes: the base64 text after "whsec_".

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// secretBytes is the length of a generated secret's key (the spec asks for 24 to 64).
const secretBytes = 32

// Header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a fresh endpoint secret: "whsec_" + base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_" secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return nil, errors.New("webhook secret: missing whsec_ prefix")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, errors.New("webhook secret: not base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New("webhook secret: the key must be 24 to 64 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for body sent as message id at time ts,
// one "v1,…" entry per secret (the current secret first, then any still-valid previous one).
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("sign webhook: no secret")
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(stamp))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
