package identity

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the signing key generated in the data directory when none is
// configured.
const KeyFile = "jwt-ed25519.pem"

// Keys are the Ed25519 keys of access tokens: the current one signs, it and the previous
// ones (kept after a rotation until the tokens they signed have expired) verify.
type Keys struct {
	signer    ed25519.PrivateKey
	signerKID string
	verifiers map[string]ed25519.PublicKey
}

// NewKeys builds a key set from a signing key and the previous public keys still accepted.
func NewKeys(signer ed25519.PrivateKey, previous ...ed25519.PublicKey) *Keys {
	k := &Keys{signer: signer, verifiers: map[string]ed25519.PublicKey{}}
	pub := signer.Public().(ed25519.PublicKey)
	k.signerKID = KeyID(pub)
	k.verifiers[k.signerKID] = pub
	for _, p := range previous {
		k.verifiers[KeyID(p)] = p
	}
	return k
}

// KeyID is a stable id of a public key for the JWT kid header: the first 16 characters of
// the unpadded base64url SHA-256 of the raw 32-byte key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:])[:16]
}

// SigningKeyID is the kid of the current signing key.
func (k *Keys) SigningKeyID() string { return k.signerKID }

// verifier returns the public key with the kid, if it is current or previous.
func (k *Keys) verifier(kid string) (ed25519.PublicKey, bool) {
	p, ok := k.verifiers[kid]
	return p, ok
}

// LoadKeys reads the signing key from privatePEM (PKCS#8), or when that is empty from
// dataDir/KeyFile, generating that file (mode 0600) on first use so that restarts keep
// the key; previousPEM holds zero or more PEM public or private keys still accepted.
func LoadKeys(privatePEM, previousPEM, dataDir string) (*Keys, error) {
	var signer ed25519.PrivateKey
	var err error
	if strings.TrimSpace(privatePEM) != "" {
		signer, err = parsePrivateKey([]byte(privatePEM))
		if err != nil {
			return nil, fmt.Errorf("GRIDCASE_JWT_PRIVATE_KEY: %w", err)
		}
	} else {
		signer, err = loadOrCreateKeyFile(filepath.Join(dataDir, KeyFile))
		if err != nil {
			return nil, err
		}
	}
	previous, err := parsePublicKeys([]byte(previousPEM))
	if err != nil {
		return nil, fmt.Errorf("GRIDCASE_JWT_PREVIOUS_KEYS: %w", err)
	}
	return NewKeys(signer, previous...), nil
}

func parsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8 private key: %w", err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, want Ed25519", key)
	}
	return ed, nil
}

// parsePublicKeys reads every PEM block: PUBLIC KEY (PKIX) or PRIVATE KEY (PKCS#8).
func parsePublicKeys(b []byte) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "PRIVATE KEY":
			var priv any
			priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			if s, ok := priv.(crypto.Signer); ok {
				key = s.Public()
			}
		default:
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
		if err != nil {
			return nil, err
		}
		ed, ok := key.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a key is a %T, want Ed25519", key)
		}
		out = append(out, ed)
	}
	if len(out) == 0 && strings.TrimSpace(string(b)) != "" {
		return nil, errors.New("no PEM block")
	}
	return out, nil
}

func loadOrCreateKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := parsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("read signing key %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	encoded, err := EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateKeyFile(path) // another process won the race: use its key
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key file: %w", err)
	}
	if _, err := f.Write(encoded); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write signing key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write signing key file: %w", err)
	}
	return key, nil
}

// EncodePrivateKey renders an Ed25519 key as PEM PKCS#8 (what GRIDCASE_JWT_PRIVATE_KEY takes).
func EncodePrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKey renders an Ed25519 public key as PEM PKIX (for GRIDCASE_JWT_PREVIOUS_KEYS).
func EncodePublicKey(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
