package identity

import (
	"context"
	"time"
)

// Store is what identity keeps in the database; *store.Store implements it. Methods that
// change several rows run in one transaction of their own.
type Store interface {
	// CountUsers counts every user account, active or not.
	CountUsers(ctx context.Context) (int64, error)
	// CreateUser inserts u with its grids and sets u.ID; Conflict when the username exists.
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (User, error)
	// UserByUsername finds a user by (lower-case) username; NotFound when none.
	UserByUsername(ctx context.Context, username string) (User, error)
	// ListUsers returns one page of users matching f, and how many match in all.
	ListUsers(ctx context.Context, f UserFilter) ([]User, int64, error)
	// UpdateUser loads the user under a row lock, applies fn and saves the result (grids
	// too). It refuses with Conflict a change that would leave no active admin.
	UpdateUser(ctx context.Context, id int64, fn func(*User) error) (User, error)

	CreateDepartment(ctx context.Context, d *Department) error
	DepartmentByID(ctx context.Context, id int64) (Department, error)
	DepartmentByCode(ctx context.Context, code string) (Department, error)
	ListDepartments(ctx context.Context, f DepartmentFilter) ([]Department, int64, error)
	UpdateDepartment(ctx context.Context, id int64, fn func(*Department) error) (Department, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByID(ctx context.Context, id int64) (APIKey, error)
	// APIKeyByHash finds a key by the SHA-256 of its secret; NotFound when none.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, f APIKeyFilter) ([]APIKey, int64, error)
	// RevokeAPIKey marks the key revoked at at (keeping the first revocation time).
	RevokeAPIKey(ctx context.Context, id int64, at time.Time) error
	// TouchAPIKey sets last_used_at to at unless it is already later than at-minGap.
	TouchAPIKey(ctx context.Context, id int64, at time.Time, minGap time.Duration) error

	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken consumes the token with hash and inserts next (same family) in one
	// transaction, under a row lock. A token already used is a theft signal: its whole
	// family is revoked (and that revocation committed) and RefreshReused returned.
	RotateRefreshToken(ctx context.Context, hash string, now time.Time, next *RefreshToken) (RefreshToken, RefreshOutcome, error)
	// RevokeRefreshFamily revokes every live token of the family.
	RevokeRefreshFamily(ctx context.Context, family string, at time.Time) error
	// RevokeUserRefreshTokens revokes every live token of the user except those of the
	// family keep (may be empty).
	RevokeUserRefreshTokens(ctx context.Context, userID int64, keep string, at time.Time) error
	// DeleteExpiredRefreshTokens removes the user's tokens that expired before before.
	DeleteExpiredRefreshTokens(ctx context.Context, userID int64, before time.Time) error

	// LoginFailures returns the times of the failures recorded under key since since, oldest
	// first.
	LoginFailures(ctx context.Context, key string, since time.Time) ([]time.Time, error)
	// RecordLoginFailure records one failure at at under every key, and forgets failures
	// older than forgetBefore.
	RecordLoginFailure(ctx context.Context, keys []string, at, forgetBefore time.Time) error
	// ClearLoginFailures forgets the failures under key (after a successful sign-in).
	ClearLoginFailures(ctx context.Context, key string) error
}

// RefreshOutcome is what RotateRefreshToken found.
type RefreshOutcome int

// The outcomes of a rotation.
const (
	RefreshRotated RefreshOutcome = iota // the token was live and is replaced by next
	RefreshReused                        // already rotated: the family is now revoked
	RefreshRevoked                       // revoked (logout, reuse, deactivation)
	RefreshExpired                       // past its expiry
)

// RefreshToken is one opaque refresh token, stored as its hash. Tokens rotated from one
// sign-in form a family (a session); reuse of a rotated token revokes the family.
type RefreshToken struct {
	ID         int64
	Hash       string
	FamilyID   string
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	RevokedAt  *time.Time
	ReplacedBy *int64
}
