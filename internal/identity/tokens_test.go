package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gridcase/gridcase/internal/errs"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if !VerifyPassword(h, "correct horse battery") {
		t.Fatal("the right password does not verify")
	}
	if VerifyPassword(h, "correct horse batterY") {
		t.Fatal("a wrong password verifies")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	// A hash made with other settings still verifies, and is reported stale.
	old, _ := hashWith("correct horse battery", argon2Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, stale := verifyPassword(old, "correct horse battery"); !ok || !stale {
		t.Fatalf("old settings: ok=%v stale=%v", ok, stale)
	}
	if _, stale := verifyPassword(h, "correct horse battery"); stale {
		t.Fatal("a current hash is reported stale")
	}
	for name, bad := range map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":         strings.Replace(h, "argon2id", "argon2i", 1),
		"huge memory":     strings.Replace(h, "m=19456", "m=99999999", 1),
		"truncated":       h[:len(h)-30],
		"wrong version":   strings.Replace(h, "v=19", "v=16", 1),
		"salt not base64": strings.Replace(h, "$argon2id$v=19$m=19456,t=2,p=1$", "$argon2id$v=19$m=19456,t=2,p=1$!!", 1),
	} {
		if VerifyPassword(bad, "correct horse battery") {
			t.Errorf("%s: a malformed hash verifies", name)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name, password, username, rule string
	}{
		{"ok", "a-long-enough-one", "zhang", ""},
		{"empty", "", "zhang", "required"},
		{"short", "short", "zhang", "min_length"},
		{"nine runes", "网格员网格员网格员", "zhang", "min_length"},
		{"ten runes", "网格员网格员网格员网", "zhang", ""},
		{"long", strings.Repeat("x", MaxPasswordLength+1), "zhang", "max_length"},
		{"the username", "Zhang.Wei.01", "zhang.wei.01", "not_username"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPasswordPolicy("password", tc.password, tc.username)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Rule != tc.rule || e.Fields[0].Field != "password" {
				t.Fatalf("got %v, want rule %s", err, tc.rule)
			}
		})
	}
}

func newTestKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testUser() User {
	return User{ID: 42, Username: "wang", DisplayName: "王五", Role: RoleGridWorker,
		Scope: Scope{Kind: ScopeGrids, GridCodes: []string{"320613001001001"}}}
}

func TestAccessTokenRoundTrip(t *testing.T) {
	now := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	clock := now
	iss := newTokenIssuer(NewKeys(newTestKey(t)), "gridcase", "gridcase-api", 15*time.Minute, func() time.Time { return clock })
	tok, err := iss.issue(testUser(), "sess-1", now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := iss.verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != 42 || p.Username != "wang" || p.DisplayName != "王五" || p.Role != RoleGridWorker || p.SessionID != "sess-1" ||
		p.Scope.Kind != ScopeGrids || len(p.Scope.GridCodes) != 1 || p.Scope.GridCodes[0] != "320613001001001" || p.IsAPIKey() {
		t.Fatalf("principal: %+v", p)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &accessClaims{})
	if err != nil {
		t.Fatal(err)
	}
	c := parsed.Claims.(*accessClaims)
	if parsed.Header["alg"] != "EdDSA" || parsed.Header["kid"] != iss.keys.SigningKeyID() || len(iss.keys.SigningKeyID()) != 16 ||
		c.ID == "" || c.Issuer != "gridcase" || c.Audience[0] != "gridcase-api" || !c.ExpiresAt.Time.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("header %v claims %+v", parsed.Header, c)
	}
	clock = now.Add(15*time.Minute + tokenLeeway - time.Second)
	if _, err := iss.verify(tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	clock = now.Add(15*time.Minute + tokenLeeway + time.Second)
	if _, err := iss.verify(tok); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("expired: %v", err)
	}
}

// TestForgedTokensRejected signs tokens the ways an attacker would and checks each is
// refused, and that a token signed with a rotated-out key is still accepted.
func TestForgedTokensRejected(t *testing.T) {
	now := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	current, previous, stranger := newTestKey(t), newTestKey(t), newTestKey(t)
	keys := NewKeys(current, previous.Public().(ed25519.PublicKey))
	iss := newTokenIssuer(keys, "gridcase", "gridcase-api", 15*time.Minute, func() time.Time { return now })

	claims := func(mod func(*accessClaims)) *accessClaims {
		c := &accessClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: "gridcase", Subject: "1", Audience: jwt.ClaimStrings{"gridcase-api"},
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)), ID: "x",
			},
			Username: "admin", Role: RoleAdmin, Scope: scopeClaim{Kind: ScopeAll},
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, kid string, c *accessClaims) string {
		t.Helper()
		tok := jwt.NewWithClaims(m, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	kidCurrent := KeyID(current.Public().(ed25519.PublicKey))
	kidPrevious := KeyID(previous.Public().(ed25519.PublicKey))
	pubBytes := []byte(current.Public().(ed25519.PublicKey))
	pubPEM, _ := EncodePublicKey(current.Public().(ed25519.PublicKey))

	valid := sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(nil))
	if _, err := iss.verify(valid); err != nil {
		t.Fatalf("a genuine token is refused: %v", err)
	}
	if p, err := iss.verify(sign(jwt.SigningMethodEdDSA, previous, kidPrevious, claims(nil))); err != nil || p.UserID != 1 {
		t.Fatalf("a token signed with the previous key is refused: %v", err)
	}

	parts := strings.Split(valid, ".")
	tests := map[string]string{
		"alg none":                     sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kidCurrent, claims(nil)),
		"alg none, empty signature":    parts[0] + "." + parts[1] + ".",
		"HS256 with public key bytes":  sign(jwt.SigningMethodHS256, pubBytes, kidCurrent, claims(nil)),
		"HS256 with public key PEM":    sign(jwt.SigningMethodHS256, pubPEM, kidCurrent, claims(nil)),
		"another key, current kid":     sign(jwt.SigningMethodEdDSA, stranger, kidCurrent, claims(nil)),
		"another key, its own kid":     sign(jwt.SigningMethodEdDSA, stranger, KeyID(stranger.Public().(ed25519.PublicKey)), claims(nil)),
		"unknown kid":                  sign(jwt.SigningMethodEdDSA, current, "AAAAAAAAAAAAAAAA", claims(nil)),
		"no kid":                       sign(jwt.SigningMethodEdDSA, current, "", claims(nil)),
		"wrong audience":               sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Audience = jwt.ClaimStrings{"other-api"} })),
		"no audience":                  sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Audience = nil })),
		"wrong issuer":                 sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Issuer = "evil" })),
		"expired":                      sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })),
		"no expiry":                    sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.ExpiresAt = nil })),
		"not yet valid":                sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) })),
		"issued in the future":         sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })),
		"unknown role":                 sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Role = "root" })),
		"integrator role":              sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Role = RoleIntegrator })),
		"subject not an id":            sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Subject = "admin" })),
		"region scope without region":  sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Scope = scopeClaim{Kind: ScopeRegion} })),
		"unknown scope kind":           sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Scope = scopeClaim{Kind: "everything"} })),
		"signature of another payload": parts[0] + "." + strings.Split(sign(jwt.SigningMethodEdDSA, current, kidCurrent, claims(func(c *accessClaims) { c.Subject = "2" })), ".")[1] + "." + parts[2],
		"garbage":                      "not.a.token",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := iss.verify(tok)
			if !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("accepted (%+v) or wrong error: %v", p, err)
			}
		})
	}
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKeys("", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	k2, err := LoadKeys("", "", dir)
	if err != nil || k2.SigningKeyID() != k1.SigningKeyID() {
		t.Fatalf("restart generated a new key: %v", err)
	}

	other := newTestKey(t)
	otherPEM, _ := EncodePrivateKey(other)
	prevPub, _ := EncodePublicKey(k1.signer.Public().(ed25519.PublicKey))
	prevPriv, _ := EncodePrivateKey(newTestKey(t))
	k3, err := LoadKeys(string(otherPEM), string(prevPub)+string(prevPriv), dir)
	if err != nil {
		t.Fatal(err)
	}
	if k3.SigningKeyID() != KeyID(other.Public().(ed25519.PublicKey)) || len(k3.verifiers) != 3 {
		t.Fatalf("configured key not used or previous keys missing: %d verifiers", len(k3.verifiers))
	}
	if _, ok := k3.verifier(k1.SigningKeyID()); !ok {
		t.Fatal("the previous key does not verify")
	}
	for name, c := range map[string][2]string{
		"private not PEM":          {"hello", ""},
		"previous garbage":         {string(otherPEM), "garbage"},
		"private is RSA-ish block": {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ""},
	} {
		if _, err := LoadKeys(c[0], c[1], dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkVerifyAccessToken measures what every authenticated request pays.
func BenchmarkVerifyAccessToken(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	iss := newTokenIssuer(NewKeys(key), "gridcase", "gridcase-api", 15*time.Minute, func() time.Time { return now })
	tok, err := iss.issue(testUser(), "s", now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashPassword measures one argon2id hash (what a sign-in costs).
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
