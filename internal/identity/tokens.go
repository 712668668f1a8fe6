package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gridcase/gridcase/internal/errs"
)

// tokenLeeway absorbs small clock differences between replicas.
const tokenLeeway = 30 * time.Second

// accessClaims are the claims of an access token. They carry the role and the data scope
// so that authenticating a request reads no database.
type accessClaims struct {
	jwt.RegisteredClaims
	Session  string     `json:"sid,omitempty"`
	Username string     `json:"preferred_username"`
	Name     string     `json:"name,omitempty"`
	Role     Role       `json:"role"`
	Scope    scopeClaim `json:"scope"`
}

type scopeClaim struct {
	Kind         ScopeKind `json:"kind"`
	RegionCode   string    `json:"region,omitempty"`
	DepartmentID int64     `json:"dept,omitempty"`
	GridCodes    []string  `json:"grids,omitempty"`
}

// tokenIssuer signs and verifies access tokens.
type tokenIssuer struct {
	keys     *Keys
	issuer   string
	audience string
	ttl      time.Duration
	parser   *jwt.Parser
}

func newTokenIssuer(keys *Keys, issuer, audience string, ttl time.Duration, now func() time.Time) *tokenIssuer {
	return &tokenIssuer{
		keys: keys, issuer: issuer, audience: audience, ttl: ttl,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(tokenLeeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	}
}

// issue signs an access token for the user at now.
func (t *tokenIssuer) issue(u User, session string, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		Session:  session,
		Username: u.Username,
		Name:     u.DisplayName,
		Role:     u.Role,
		Scope: scopeClaim{
			Kind: u.Scope.Kind, RegionCode: u.Scope.RegionCode,
			DepartmentID: u.Scope.DepartmentID, GridCodes: u.Scope.GridCodes,
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = t.keys.signerKID
	s, err := tok.SignedString(t.keys.signer)
	if err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	return s, nil
}

// errBadToken is what every rejected access token answers: the reason stays on our side.
var errBadToken = errs.E(errs.Unauthorized, "the access token is invalid or expired; sign in again")

// verify checks the signature (EdDSA only, key chosen by kid among the current and previous
// keys), issuer, audience and times, and returns the principal the claims describe (its
// region path not yet resolved).
func (t *tokenIssuer) verify(token string) (Principal, error) {
	var c accessClaims
	_, err := t.parser.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys.verifier(kid)
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		return Principal{}, errs.Wrap(errs.Unauthorized, err, "%s", errBadToken.Message)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || !c.Role.Valid() {
		return Principal{}, errBadToken
	}
	p := Principal{
		UserID: id, SessionID: c.Session, Username: c.Username, DisplayName: c.Name, Role: c.Role,
		Scope: Scope{Kind: c.Scope.Kind, RegionCode: c.Scope.RegionCode, DepartmentID: c.Scope.DepartmentID, GridCodes: c.Scope.GridCodes},
	}
	if err := checkScopeShape(p.Scope); err != nil {
		return Principal{}, errBadToken
	}
	return p, nil
}

// checkScopeShape rejects a scope that names nothing to scope by (which callers could
// otherwise mistake for "everything").
func checkScopeShape(s Scope) error {
	switch s.Kind {
	case ScopeAll:
		return nil
	case ScopeRegion:
		if s.RegionCode != "" {
			return nil
		}
	case ScopeDepartment:
		if s.DepartmentID > 0 {
			return nil
		}
	case ScopeGrids:
		if len(s.GridCodes) > 0 {
			return nil
		}
	}
	return errors.New("malformed scope")
}

// newOpaqueToken returns a random token (32 bytes, unpadded base64url) with prefix.
func newOpaqueToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how opaque tokens (refresh tokens, API keys) are stored: hex SHA-256. They
// carry 256 random bits, so a fast hash is enough; no salt is needed for lookup by hash.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
