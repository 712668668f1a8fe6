package events

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Endpoint secrets must be usable to sign, so they cannot be hashed like passwords or API
// keys. They are sealed instead: AES-256-GCM under the server's webhook key, so a copy of the
// database (a backup, a replica, a leaked dump) does not reveal them. The key comes from
// GRIDCASE_WEBHOOK_SECRET_KEY (base64 of 32 bytes) or, when that is empty, from a file
// generated once in the data directory (fine for one replica; set the variable to the same
// value on every replica of a cluster). A sealed value names its key ("v1.<key id>.<…>"), so
// a replica with the wrong key says so instead of signing garbage.

// SecretKeyFile is the generated webhook key's file name in the data directory.
const SecretKeyFile = "webhook-secret.key"

// SecretBox seals and opens endpoint secrets.
type SecretBox struct {
	aead  cipher.AEAD
	keyID string
}

// NewSecretBox builds a box from a 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("webhook secret key: want 32 bytes, have %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &SecretBox{aead: aead, keyID: base64.RawURLEncoding.EncodeToString(sum[:6])}, nil
}

// LoadSecretBox reads the key from keyB64 (base64 of 32 bytes) or, when empty, from
// dataDir/SecretKeyFile, creating that file (mode 0600) with a random key on first use.
func LoadSecretBox(keyB64, dataDir string) (*SecretBox, error) {
	if s := strings.TrimSpace(keyB64); s != "" {
		key, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("GRIDCASE_WEBHOOK_SECRET_KEY: not base64: %w", err)
		}
		return NewSecretBox(key)
	}
	path := filepath.Join(dataDir, SecretKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create webhook secret key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			return NewSecretBox(key)
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create webhook secret key: %w", err)
		}
		b, err = os.ReadFile(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook secret key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("read webhook secret key %s: not base64: %w", path, err)
	}
	return NewSecretBox(key)
}

// Seal encrypts a secret for storage.
func (b *SecretBox) Seal(secret string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := b.aead.Seal(nonce, nonce, []byte(secret), []byte("gridcase webhook secret"))
	return "v1." + b.keyID + "." + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts a sealed secret.
func (b *SecretBox) Open(sealed string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errors.New("open webhook secret: not a sealed secret")
	}
	if parts[1] != b.keyID {
		return "", fmt.Errorf("open webhook secret: it was sealed with webhook key %s, this server has key %s (set the same GRIDCASE_WEBHOOK_SECRET_KEY on every replica)", parts[1], b.keyID)
	}
	ct, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(ct) < b.aead.NonceSize() {
		return "", errors.New("open webhook secret: damaged")
	}
	plain, err := b.aead.Open(nil, ct[:b.aead.NonceSize()], ct[b.aead.NonceSize():], []byte("gridcase webhook secret"))
	if err != nil {
		return "", errors.New("open webhook secret: damaged or wrong key")
	}
	return string(plain), nil
}
