package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// Session is what a sign-in or a refresh hands out.
type Session struct {
	AccessToken      string
	AccessExpiresIn  time.Duration
	RefreshToken     string
	RefreshExpiresIn time.Duration
	User             User
}

// Credentials are a sign-in attempt. Address is the client's network address, for the
// per-address failure limit (empty: not limited by address).
type Credentials struct {
	Username string
	Password string
	Address  string
}

// Me is the caller as they see themselves: a user with their department, or an API key.
type Me struct {
	Principal  Principal
	User       *User
	Department *Department // the department of a department-scoped user
	APIKey     *APIKey
}

var (
	// errBadCredentials never says whether the user exists.
	errBadCredentials = errs.E(errs.Unauthorized, "wrong username or password")
	errBadRefresh     = errs.E(errs.Unauthorized, "the refresh token is invalid, expired or revoked; sign in again")
)

// maxCredentialBytes bounds what a sign-in attempt hashes.
const maxCredentialBytes = 1024

// Login checks a username and password and starts a session. Failures count against the
// account and the client address; too many within the window answer RateLimited (with
// the extra member retry_after, in seconds) even when the password is right.
func (s *Service) Login(ctx context.Context, in Credentials) (Session, error) {
	username := NormalizeUsername(in.Username)
	var f errs.Fields
	f.Required("username", username == "")
	f.Required("password", in.Password == "")
	if err := f.Err(); err != nil {
		return Session{}, err
	}
	now := s.now()
	keys := []string{limitKey("account", username)}
	if in.Address != "" {
		keys = append(keys, limitKey("address", in.Address))
	}
	for _, k := range keys {
		if err := s.checkLockout(ctx, k, now); err != nil {
			return Session{}, err
		}
	}
	var u User
	var err error
	if len(username) <= 64 && len(in.Password) <= maxCredentialBytes {
		u, err = s.store.UserByUsername(ctx, username)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return Session{}, fmt.Errorf("login: %w", err)
		}
	}
	hash := u.PasswordHash
	if u.ID == 0 || len(in.Password) > maxCredentialBytes {
		hash = s.dummyHash() // spend the same time whether or not the user exists
	}
	ok, stale := verifyPassword(hash, in.Password)
	if !ok || u.ID == 0 {
		if err := s.store.RecordLoginFailure(ctx, keys, now, now.Add(-s.window)); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		s.log.InfoContext(ctx, "sign-in failed", "user_id", u.ID)
		return Session{}, errBadCredentials
	}
	if !u.Active {
		return Session{}, errs.E(errs.Unauthorized, "this account is deactivated; ask an admin")
	}
	if err := s.store.ClearLoginFailures(ctx, keys[0]); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if stale {
		s.rehash(ctx, u.ID, in.Password)
	}
	if err := s.store.DeleteExpiredRefreshTokens(ctx, u.ID, now); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	sess, err := s.startSession(ctx, u, newOpaqueToken("")[:22], now)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID)
	return sess, nil
}

// rehash upgrades a password hash made with older argon2 settings (best effort).
func (s *Service) rehash(ctx context.Context, id int64, password string) {
	hash, err := HashPassword(password)
	if err == nil {
		_, err = s.store.UpdateUser(ctx, id, func(u *User) error { u.PasswordHash = hash; return nil })
	}
	if err != nil {
		s.log.WarnContext(ctx, "upgrade password hash", "user_id", id, "error", err)
	}
}

// limitKey names a rate-limit counter without storing what was typed (people type their
// password into the username field).
func limitKey(kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return kind + ":" + hex.EncodeToString(sum[:20])
}

// checkLockout answers RateLimited while key has too many recent failures.
func (s *Service) checkLockout(ctx context.Context, key string, now time.Time) error {
	fails, err := s.store.LoginFailures(ctx, key, now.Add(-s.window))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if len(fails) < s.maxFailures {
		return nil
	}
	// Unlocked once enough of the failures have left the window.
	until := fails[len(fails)-s.maxFailures].Add(s.window)
	wait := max(int64(math.Ceil(until.Sub(now).Seconds())), 1)
	what := "this account"
	if strings.HasPrefix(key, "address:") {
		what = "your address"
	}
	return errs.E(errs.RateLimited, "too many failed sign-ins for %s; try again in %d seconds", what, wait).
		With("retry_after", wait)
}

// startSession issues an access token and a new refresh token in family.
func (s *Service) startSession(ctx context.Context, u User, family string, now time.Time) (Session, error) {
	access, err := s.tokens.issue(u, family, now)
	if err != nil {
		return Session{}, err
	}
	refresh := newOpaqueToken("")
	rt := RefreshToken{Hash: hashToken(refresh), FamilyID: family, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL)}
	if err := s.store.CreateRefreshToken(ctx, &rt); err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, AccessExpiresIn: s.accessTTL, RefreshToken: refresh, RefreshExpiresIn: s.refreshTTL, User: u}, nil
}

// Refresh exchanges a refresh token for a new access token and a new refresh token. The old
// one stops working; presenting it again revokes the whole session (a stolen token's thief
// and its owner both have to sign in again).
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, fieldErr("refresh_token", "required", "refresh_token is required")
	}
	if len(token) > 256 {
		return Session{}, errBadRefresh
	}
	hash := hashToken(token)
	now := s.now()
	old, err := s.store.RefreshTokenByHash(ctx, hash)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Session{}, errBadRefresh
		}
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	u, err := s.store.UserByID(ctx, old.UserID)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if !u.Active {
		if err := s.store.RevokeRefreshFamily(ctx, old.FamilyID, now); err != nil {
			return Session{}, fmt.Errorf("refresh: %w", err)
		}
		return Session{}, errBadRefresh
	}
	access, err := s.tokens.issue(u, old.FamilyID, now)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	refresh := newOpaqueToken("")
	next := RefreshToken{Hash: hashToken(refresh), FamilyID: old.FamilyID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL)}
	_, outcome, err := s.store.RotateRefreshToken(ctx, hash, now, &next)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	switch outcome {
	case RefreshRotated:
		return Session{AccessToken: access, AccessExpiresIn: s.accessTTL, RefreshToken: refresh, RefreshExpiresIn: s.refreshTTL, User: u}, nil
	case RefreshReused:
		s.log.WarnContext(ctx, "refresh token reused: session revoked", "user_id", u.ID)
		return Session{}, errs.E(errs.Unauthorized, "this refresh token was already used; the session is revoked, sign in again")
	default:
		return Session{}, errBadRefresh
	}
}

// Logout ends the session of a refresh token. An unknown token is not an error: the
// outcome, no live session for that token, is the same.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return fieldErr("refresh_token", "required", "refresh_token is required")
	}
	if len(token) > 256 {
		return nil
	}
	rt, err := s.store.RefreshTokenByHash(ctx, hashToken(token))
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID, s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Me returns the caller's own account (fresh from the database, not from the token).
func (s *Service) Me(ctx context.Context, p Principal) (Me, error) {
	if p.IsAPIKey() {
		k, err := s.store.APIKeyByID(ctx, p.APIKeyID)
		if err != nil {
			return Me{}, fmt.Errorf("me: %w", err)
		}
		return Me{Principal: p, APIKey: &k}, nil
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Me{}, errs.E(errs.Unauthorized, "your account no longer exists")
		}
		return Me{}, fmt.Errorf("me: %w", err)
	}
	m := Me{Principal: p, User: &u}
	if u.Scope.Kind == ScopeDepartment {
		d, err := s.store.DepartmentByID(ctx, u.Scope.DepartmentID)
		if err != nil {
			return Me{}, fmt.Errorf("me: %w", err)
		}
		m.Department = &d
	}
	return m, nil
}

// ChangePassword changes the caller's password after checking the current one, and ends
// their other sessions. Wrong current passwords count as failed sign-ins.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	if p.IsAPIKey() {
		return errs.E(errs.Forbidden, "an API key has no password")
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	var f errs.Fields
	f.Required("current_password", current == "")
	if e, ok := errs.As(CheckPasswordPolicy("new_password", next, u.Username)); ok {
		f = append(f, e.Fields...)
	}
	if next != "" && next == current {
		f.Add("new_password", "different", "new_password must differ from the current one")
	}
	if err := f.Err(); err != nil {
		return err
	}
	now := s.now()
	key := limitKey("account", u.Username)
	if err := s.checkLockout(ctx, key, now); err != nil {
		return err
	}
	if len(current) > maxCredentialBytes || !VerifyPassword(u.PasswordHash, current) {
		if err := s.store.RecordLoginFailure(ctx, []string{key}, now, now.Add(-s.window)); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return fieldErr("current_password", "mismatch", "current_password is wrong")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, func(u *User) error {
		u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = hash, now, now
		return nil
	}); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.store.RevokeUserRefreshTokens(ctx, u.ID, p.SessionID, now); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID)
	return nil
}
