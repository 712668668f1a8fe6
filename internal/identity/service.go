package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// RegionResolver answers a region's materialized path ("/320600/320613/…/"), or NotFound
// for an unknown code. region.Service implements it.
type RegionResolver interface {
	RegionPath(ctx context.Context, code string) (string, error)
}

// Config sets up a Service.
type Config struct {
	Keys       *Keys  // access token keys (see LoadKeys)
	Issuer     string // JWT iss
	Audience   string // JWT aud
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// LoginMaxFailures failed sign-ins within LoginWindow lock the account, or the client
	// address, out until the oldest of them leaves the window.
	LoginMaxFailures int
	LoginWindow      time.Duration
	// RegionPathTTL is how long a resolved region path is cached (default one minute).
	RegionPathTTL time.Duration
	Log           *slog.Logger
	Now           func() time.Time // the clock; time.Now by default
}

// Service authenticates callers and manages users, departments and API keys.
type Service struct {
	store   Store
	regions RegionResolver
	tokens  *tokenIssuer
	log     *slog.Logger
	now     func() time.Time

	refreshTTL  time.Duration
	accessTTL   time.Duration
	maxFailures int
	window      time.Duration
	pathTTL     time.Duration

	dummyHash func() string // a hash to verify against when the user does not exist

	mu      sync.Mutex
	paths   map[string]cachedPath
	touched map[int64]time.Time
}

type cachedPath struct {
	path    string
	expires time.Time
}

// New builds the identity service on st. regions may be nil until a region service exists;
// region-scoped users and keys then cannot be created or authenticated.
func New(st Store, regions RegionResolver, cfg Config) (*Service, error) {
	if st == nil || cfg.Keys == nil {
		return nil, errors.New("identity: a store and keys are required")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("identity: issuer and audience are required")
	}
	if cfg.AccessTTL <= 0 || cfg.RefreshTTL <= 0 {
		return nil, errors.New("identity: token lifetimes must be positive")
	}
	if cfg.LoginMaxFailures <= 0 || cfg.LoginWindow <= 0 {
		return nil, errors.New("identity: login rate limits must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RegionPathTTL <= 0 {
		cfg.RegionPathTTL = time.Minute
	}
	now := func() time.Time { return cfg.Now().UTC() }
	s := &Service{
		store: st, regions: regions, log: cfg.Log, now: now,
		tokens:      newTokenIssuer(cfg.Keys, cfg.Issuer, cfg.Audience, cfg.AccessTTL, now),
		accessTTL:   cfg.AccessTTL,
		refreshTTL:  cfg.RefreshTTL,
		maxFailures: cfg.LoginMaxFailures,
		window:      cfg.LoginWindow,
		pathTTL:     cfg.RegionPathTTL,
		paths:       map[string]cachedPath{},
		touched:     map[int64]time.Time{},
		dummyHash: sync.OnceValue(func() string {
			h, _ := HashPassword(randomPassword())
			return h
		}),
	}
	return s, nil
}

// System is the principal of the service itself (the command line, bootstrap, the demo
// seed): an admin with every scope.
func System() Principal {
	return Principal{Username: "system", DisplayName: "system", Role: RoleAdmin, Scope: Scope{Kind: ScopeAll}}
}

// Authenticate resolves a bearer token (an access JWT or a gk_ API key) to its principal.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if strings.HasPrefix(token, APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, token)
	}
	if len(token) > 8192 {
		return Principal{}, errBadToken
	}
	p, err := s.tokens.verify(token)
	if err != nil {
		return Principal{}, err
	}
	if p.Scope.Kind == ScopeRegion {
		if p.Scope.RegionPath, err = s.regionPath(ctx, p.Scope.RegionCode); err != nil {
			return Principal{}, scopeError(err)
		}
	}
	return p, nil
}

func scopeError(err error) error {
	if errs.Is(err, errs.NotFound) {
		return errs.Wrap(errs.Unauthorized, err, "the region of your data scope no longer exists; ask an admin to fix your account")
	}
	return err
}

// regionPath resolves a region code through a small in-memory cache.
func (s *Service) regionPath(ctx context.Context, code string) (string, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.paths[code]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.path, nil
	}
	if s.regions == nil {
		return "", errs.E(errs.Unavailable, "regions are not available")
	}
	path, err := s.regions.RegionPath(ctx, code)
	if err != nil {
		return "", err
	}
	if path == "" {
		return "", errs.NotFoundf("region %q has no path", code)
	}
	s.mu.Lock()
	if len(s.paths) > 100_000 { // a bound against unbounded growth; paths are cheap to refetch
		clear(s.paths)
	}
	s.paths[code] = cachedPath{path: path, expires: now.Add(s.pathTTL)}
	s.mu.Unlock()
	return path, nil
}

// regionExists checks a region code through the resolver (uncached: a write is about to
// depend on it).
func (s *Service) regionExists(ctx context.Context, code string) error {
	if s.regions == nil {
		return errs.E(errs.Unavailable, "regions are not available")
	}
	_, err := s.regions.RegionPath(ctx, code)
	return err
}

// EnsureAdmin creates user admin (role admin, scope all) when no user exists, with password,
// or with a generated one returned in generated (print it once). created is false when
// users already existed (or another replica created the admin first).
func (s *Service) EnsureAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		password = randomPassword()
		generated = password
	}
	_, err = s.CreateUser(ctx, System(), NewUser{
		Username: "admin", DisplayName: "Administrator", Password: password,
		Role: RoleAdmin, Scope: Scope{Kind: ScopeAll},
	})
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) == 1 && e.Fields[0].Rule == "unique" {
			return false, "", nil // another replica won
		}
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	return true, generated, nil
}
