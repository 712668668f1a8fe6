package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/gridcase/gridcase/internal/errs"
)

// Password rules: long enough to resist guessing, short enough that hashing stays cheap.
const (
	MinPasswordLength = 10  // characters
	MaxPasswordLength = 256 // characters
)

// argon2Params are the argon2id cost settings (OWASP's recommended minimum: 19 MiB, two
// passes, one lane). A stored hash keeps its own settings, so raising these later only
// affects new hashes; Login rehashes an old one on the next successful sign-in.
type argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

var defaultArgon2 = argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// HashPassword returns the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash, unpadded standard base64).
func HashPassword(password string) (string, error) {
	return hashWith(password, defaultArgon2)
}

func hashWith(password string, p argon2Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("not an argon2id PHC string")

// parsePHC splits an argon2id PHC string into its settings, salt and key.
func parsePHC(encoded string) (argon2Params, []byte, []byte, error) {
	var p argon2Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	// Bounds keep a corrupted or hostile row from making one sign-in cost gigabytes.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return p, nil, nil, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC hash, comparing in constant time.
// A malformed hash never matches.
func VerifyPassword(encoded, password string) bool {
	ok, _ := verifyPassword(encoded, password)
	return ok
}

// verifyPassword also reports whether the hash should be recomputed with today's settings.
func verifyPassword(encoded, password string) (ok, stale bool) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	d := defaultArgon2
	return true, p.Memory != d.Memory || p.Time != d.Time || p.Threads != d.Threads || p.KeyLen != d.KeyLen
}

// CheckPasswordPolicy returns an Invalid error naming field when password is too short, too
// long, or the username itself.
func CheckPasswordPolicy(field, password, username string) error {
	var f errs.Fields
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		f.Required(field, true)
	case n < MinPasswordLength:
		f.Add(field, "min_length", "%s must have at least %d characters", field, MinPasswordLength)
	case n > MaxPasswordLength:
		f.Add(field, "max_length", "%s must have at most %d characters", field, MaxPasswordLength)
	case username != "" && strings.EqualFold(strings.TrimSpace(password), username):
		f.Add(field, "not_username", "%s must not be the username", field)
	}
	return f.Err()
}

// randomPassword returns a password for a generated account: 26 base32 characters, 128 bits.
func randomPassword() string { return rand.Text() }
