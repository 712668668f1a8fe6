package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// APIKeyPrefix starts every integrator API key, so a key is recognisable in a header or a
// leaked log line (and secret scanners can find it).
const APIKeyPrefix = "gk_"

// apiKeyTouchGap is how often last_used_at is written for a busy key.
const apiKeyTouchGap = time.Minute

// The API scopes an integrator's key may be granted.
const (
	ScopeCasesRead   = "cases:read"   // read cases and their history
	ScopeCasesWrite  = "cases:write"  // report cases and act on them
	ScopeRegionsRead = "regions:read" // read regions, grids, locate points
	ScopeEventsRead  = "events:read"  // read the event log, manage webhooks
	ScopeOpen311     = "open311"      // the Open311 GeoReport v2 interface
	ScopeAllAPIs     = "*"            // everything an API key can do
)

// APIScopes lists every grantable API scope, "*" last.
var APIScopes = []string{ScopeCasesRead, ScopeCasesWrite, ScopeRegionsRead, ScopeEventsRead, ScopeOpen311, ScopeAllAPIs}

// APIKey is an integrator's key (a 12345 hotline, a video-AI platform, a city brain). Only
// the SHA-256 of the secret is kept; the secret is shown once, when the key is created.
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string // the first characters of the key, to recognise it in lists
	Hash       string
	Scopes     []string
	RegionCode string // limits the key to a region subtree; empty: all
	CreatedBy  int64
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Live reports whether the key may be used at now.
func (k APIKey) Live(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// APIKeyFilter selects API keys.
type APIKeyFilter struct {
	IncludeRevoked bool
	Limit          int
	Offset         int
}

// APIKeyPage is one page of keys.
type APIKeyPage struct {
	Keys   []APIKey
	Total  int64
	Limit  int
	Offset int
}

// NewAPIKey is what an admin gives to create a key.
type NewAPIKey struct {
	Name       string
	Scopes     []string
	RegionCode string
	ExpiresAt  *time.Time
}

// CreatedAPIKey is a new key with its secret, shown this once.
type CreatedAPIKey struct {
	APIKey
	Secret string
}

func requireAdmin(p Principal, what string) error {
	if !p.Is(RoleAdmin) || p.IsAPIKey() {
		return errs.E(errs.Forbidden, "only an admin may %s", what)
	}
	return nil
}

// ListAPIKeys lists keys (never their secrets); only an admin may.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal, f APIKeyFilter) (APIKeyPage, error) {
	if err := requireAdmin(p, "manage API keys"); err != nil {
		return APIKeyPage{}, err
	}
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return APIKeyPage{}, err
	}
	keys, total, err := s.store.ListAPIKeys(ctx, f)
	if err != nil {
		return APIKeyPage{}, fmt.Errorf("list api keys: %w", err)
	}
	return APIKeyPage{Keys: keys, Total: total, Limit: f.Limit, Offset: f.Offset}, nil
}

// CreateAPIKey makes a key and returns it with its secret; only an admin may.
func (s *Service) CreateAPIKey(ctx context.Context, p Principal, in NewAPIKey) (CreatedAPIKey, error) {
	if err := requireAdmin(p, "manage API keys"); err != nil {
		return CreatedAPIKey{}, err
	}
	now := s.now()
	k := APIKey{Name: strings.TrimSpace(in.Name), RegionCode: strings.TrimSpace(in.RegionCode), CreatedBy: p.UserID, CreatedAt: now}
	var f errs.Fields
	switch n := len([]rune(k.Name)); {
	case n == 0:
		f.Required("name", true)
	case n > 100:
		f.Add("name", "max_length", "name must have at most 100 characters")
	}
	for _, sc := range in.Scopes {
		sc = strings.TrimSpace(sc)
		if !slices.Contains(APIScopes, sc) {
			f.Add("scopes", "enum", "unknown scope %q; scopes are %s", sc, strings.Join(APIScopes, ", "))
			continue
		}
		if !slices.Contains(k.Scopes, sc) {
			k.Scopes = append(k.Scopes, sc)
		}
	}
	if len(in.Scopes) == 0 {
		f.Required("scopes", true)
	}
	if k.RegionCode != "" {
		if err := s.regionExists(ctx, k.RegionCode); err != nil {
			addRegionError(&f, "region_code", k.RegionCode, err)
		}
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			f.Add("expires_at", "future", "expires_at must be in the future")
		}
		t := in.ExpiresAt.UTC()
		k.ExpiresAt = &t
	}
	if err := f.Err(); err != nil {
		return CreatedAPIKey{}, err
	}
	secret := newOpaqueToken(APIKeyPrefix)
	k.Prefix = secret[:len(APIKeyPrefix)+6]
	k.Hash = hashToken(secret)
	if err := s.store.CreateAPIKey(ctx, &k); err != nil {
		return CreatedAPIKey{}, fmt.Errorf("create api key: %w", err)
	}
	s.log.InfoContext(ctx, "api key created", "api_key_id", k.ID, "prefix", k.Prefix, "by", p.UserID)
	return CreatedAPIKey{APIKey: k, Secret: secret}, nil
}

// RevokeAPIKey revokes a key at once; only an admin may. Revoking twice is not an error.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id int64) error {
	if err := requireAdmin(p, "manage API keys"); err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(ctx, id, s.now()); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("api key %d not found", id)
		}
		return fmt.Errorf("revoke api key %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "api key revoked", "api_key_id", id, "by", p.UserID)
	return nil
}

// authenticateAPIKey resolves a gk_ key to its principal.
func (s *Service) authenticateAPIKey(ctx context.Context, secret string) (Principal, error) {
	bad := errs.E(errs.Unauthorized, "the API key is invalid, expired or revoked")
	k, err := s.store.APIKeyByHash(ctx, hashToken(secret))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Principal{}, bad
		}
		return Principal{}, fmt.Errorf("authenticate api key: %w", err)
	}
	now := s.now()
	if !k.Live(now) {
		return Principal{}, bad
	}
	p := Principal{
		Username: "apikey:" + k.Prefix, DisplayName: k.Name, Role: RoleIntegrator,
		Scope: Scope{Kind: ScopeAll}, APIKeyID: k.ID, APIScopes: k.Scopes,
	}
	if k.RegionCode != "" {
		path, err := s.regionPath(ctx, k.RegionCode)
		if err != nil {
			return Principal{}, scopeError(err)
		}
		p.Scope = Scope{Kind: ScopeRegion, RegionCode: k.RegionCode, RegionPath: path}
	}
	s.touchAPIKey(ctx, k, now)
	return p, nil
}

// touchAPIKey records use at most once a minute per key (per replica in memory, and across
// replicas by the conditional update).
func (s *Service) touchAPIKey(ctx context.Context, k APIKey, now time.Time) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < apiKeyTouchGap {
		return
	}
	s.mu.Lock()
	last, ok := s.touched[k.ID]
	if ok && now.Sub(last) < apiKeyTouchGap {
		s.mu.Unlock()
		return
	}
	s.touched[k.ID] = now
	s.mu.Unlock()
	if err := s.store.TouchAPIKey(ctx, k.ID, now, apiKeyTouchGap); err != nil {
		s.log.WarnContext(ctx, "record api key use", "api_key_id", k.ID, "error", err)
	}
}
