package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// ---- refresh tokens ----

type refreshTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	FamilyID   string
	UserID     int64
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt  time.Time
	UsedAt     *time.Time
	RevokedAt  *time.Time
	ReplacedBy *int64
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func (r refreshTokenRow) domain() identity.RefreshToken {
	return identity.RefreshToken{
		ID: r.ID, Hash: r.TokenHash, FamilyID: r.FamilyID, UserID: r.UserID,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		UsedAt: utcPtr(r.UsedAt), RevokedAt: utcPtr(r.RevokedAt), ReplacedBy: r.ReplacedBy,
	}
}

// CreateRefreshToken inserts t and sets its ID.
func (s *Store) CreateRefreshToken(ctx context.Context, t *identity.RefreshToken) error {
	row := refreshTokenRow{
		TokenHash: t.Hash, FamilyID: t.FamilyID, UserID: t.UserID,
		CreatedAt: utc(t.CreatedAt), ExpiresAt: utc(t.ExpiresAt),
	}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "create refresh token")
	}
	t.ID = row.ID
	return nil
}

// RefreshTokenByHash returns the token with the hash; NotFound when none.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (identity.RefreshToken, error) {
	var row refreshTokenRow
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&row).Error; err != nil {
		return identity.RefreshToken{}, s.translate(err, "read refresh token")
	}
	return row.domain(), nil
}

// RotateRefreshToken consumes the live token with hash and inserts next in its family, in
// one transaction under a row lock. A token already used means someone replays it: the
// family is revoked (committed) and RefreshReused returned.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, now time.Time, next *identity.RefreshToken) (identity.RefreshToken, identity.RefreshOutcome, error) {
	now = utc(now)
	var (
		old     identity.RefreshToken
		outcome identity.RefreshOutcome
	)
	err := s.InTx(ctx, func(tx *Store) error {
		var row refreshTokenRow
		if err := tx.forUpdate(tx.conn(ctx).Where("token_hash = ?", hash)).Take(&row).Error; err != nil {
			return tx.translate(err, "read refresh token")
		}
		old = row.domain()
		switch {
		case row.RevokedAt != nil:
			outcome = identity.RefreshRevoked
			return nil
		case row.UsedAt != nil:
			outcome = identity.RefreshReused
			return tx.RevokeRefreshFamily(ctx, row.FamilyID, now)
		case !now.Before(row.ExpiresAt):
			outcome = identity.RefreshExpired
			return nil
		}
		next.FamilyID, next.UserID = row.FamilyID, row.UserID
		if err := tx.CreateRefreshToken(ctx, next); err != nil {
			return err
		}
		res := tx.conn(ctx).Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", row.ID).
			Updates(map[string]any{"used_at": now, "replaced_by": next.ID})
		if res.Error != nil {
			return tx.translate(res.Error, "consume refresh token")
		}
		if res.RowsAffected != 1 {
			return errs.E(errs.Conflict, "the refresh token was used concurrently")
		}
		outcome = identity.RefreshRotated
		return nil
	})
	if err != nil {
		return identity.RefreshToken{}, 0, err
	}
	return old, outcome, nil
}

// RevokeRefreshFamily revokes every live token of the family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, family string, at time.Time) error {
	err := s.conn(ctx).Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", family).
		Update("revoked_at", utc(at)).Error
	return s.translate(err, "revoke refresh tokens")
}

// RevokeUserRefreshTokens revokes the user's live tokens, except those of family keep.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID int64, keep string, at time.Time) error {
	q := s.conn(ctx).Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID)
	if keep != "" {
		q = q.Where("family_id <> ?", keep)
	}
	return s.translate(q.Update("revoked_at", utc(at)).Error, "revoke refresh tokens")
}

// DeleteExpiredRefreshTokens removes the user's tokens that expired before before.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, userID int64, before time.Time) error {
	err := s.conn(ctx).Where("user_id = ? AND expires_at < ?", userID, utc(before)).Delete(&refreshTokenRow{}).Error
	return s.translate(err, "delete expired refresh tokens")
}

// ---- sign-in failures ----

type loginFailureRow struct {
	ID       int64 `gorm:"primaryKey"`
	LimitKey string
	FailedAt time.Time
}

func (loginFailureRow) TableName() string { return "login_failures" }

// LoginFailures returns the failure times under key after since, oldest first.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) ([]time.Time, error) {
	var rows []loginFailureRow
	err := s.conn(ctx).Where("limit_key = ? AND failed_at > ?", key, utc(since)).Order("failed_at").Find(&rows).Error
	if err != nil {
		return nil, s.translate(err, "read sign-in failures")
	}
	out := make([]time.Time, len(rows))
	for i, r := range rows {
		out[i] = r.FailedAt.UTC()
	}
	return out, nil
}

// RecordLoginFailure records a failure at at under each key and forgets failures older than
// forgetBefore (so the table holds one window's worth).
func (s *Store) RecordLoginFailure(ctx context.Context, keys []string, at, forgetBefore time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.conn(ctx).Where("failed_at < ?", utc(forgetBefore)).Delete(&loginFailureRow{}).Error; err != nil {
			return tx.translate(err, "forget sign-in failures")
		}
		rows := make([]loginFailureRow, len(keys))
		for i, k := range keys {
			rows[i] = loginFailureRow{LimitKey: k, FailedAt: utc(at)}
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.translate(tx.conn(ctx).Create(&rows).Error, "record sign-in failure")
	})
}

// ClearLoginFailures forgets the failures under key.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return s.translate(s.conn(ctx).Where("limit_key = ?", key).Delete(&loginFailureRow{}).Error, "clear sign-in failures")
}

// ---- API keys ----

type apiKeyRow struct {
	ID              int64 `gorm:"primaryKey"`
	Name            string
	Prefix          string
	KeyHash         string
	Scopes          string
	ScopeRegionCode *string
	CreatedBy       *int64
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	LastUsedAt      *time.Time
	ExpiresAt       *time.Time
	RevokedAt       *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) domain() identity.APIKey {
	k := identity.APIKey{
		ID: r.ID, Name: r.Name, Prefix: r.Prefix, Hash: r.KeyHash, Scopes: strings.Fields(r.Scopes),
		RegionCode: idDeref(r.ScopeRegionCode), CreatedAt: r.CreatedAt.UTC(),
		LastUsedAt: utcPtr(r.LastUsedAt), ExpiresAt: utcPtr(r.ExpiresAt), RevokedAt: utcPtr(r.RevokedAt),
	}
	if r.CreatedBy != nil {
		k.CreatedBy = *r.CreatedBy
	}
	return k
}

// CreateAPIKey inserts k and sets its ID.
func (s *Store) CreateAPIKey(ctx context.Context, k *identity.APIKey) error {
	row := apiKeyRow{
		Name: k.Name, Prefix: k.Prefix, KeyHash: k.Hash, Scopes: strings.Join(k.Scopes, " "),
		ScopeRegionCode: idNullString(k.RegionCode), CreatedAt: utc(k.CreatedAt), ExpiresAt: utcPtr(k.ExpiresAt),
	}
	if k.CreatedBy != 0 {
		by := k.CreatedBy
		row.CreatedBy = &by
	}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "create api key")
	}
	k.ID = row.ID
	return nil
}

// APIKeyByID returns one key; NotFound when absent.
func (s *Store) APIKeyByID(ctx context.Context, id int64) (identity.APIKey, error) {
	var row apiKeyRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.APIKey{}, s.translate(err, "read api key")
	}
	return row.domain(), nil
}

// APIKeyByHash returns the key whose secret hashes to hash; NotFound when none.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (identity.APIKey, error) {
	var row apiKeyRow
	if err := s.conn(ctx).Where("key_hash = ?", hash).Take(&row).Error; err != nil {
		return identity.APIKey{}, s.translate(err, "read api key")
	}
	return row.domain(), nil
}

// ListAPIKeys returns a page of keys, newest first, and the total.
func (s *Store) ListAPIKeys(ctx context.Context, f identity.APIKeyFilter) ([]identity.APIKey, int64, error) {
	where := func() *gorm.DB {
		q := s.conn(ctx).Model(&apiKeyRow{})
		if !f.IncludeRevoked {
			q = q.Where("revoked_at IS NULL")
		}
		return q
	}
	var total int64
	if err := where().Count(&total).Error; err != nil {
		return nil, 0, s.translate(err, "count api keys")
	}
	var rows []apiKeyRow
	if err := where().Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, s.translate(err, "list api keys")
	}
	out := make([]identity.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, total, nil
}

// RevokeAPIKey marks the key revoked (the first revocation time is kept); NotFound when absent.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, at time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		var row apiKeyRow
		if err := tx.forUpdate(tx.conn(ctx).Where("id = ?", id)).Take(&row).Error; err != nil {
			return tx.translate(err, "read api key")
		}
		if row.RevokedAt != nil {
			return nil
		}
		err := tx.conn(ctx).Model(&apiKeyRow{}).Where("id = ?", id).Update("revoked_at", utc(at)).Error
		return tx.translate(err, "revoke api key")
	})
}

// TouchAPIKey records that the key was used at at, unless that was already recorded less than
// minGap before.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time, minGap time.Duration) error {
	at = utc(at)
	err := s.conn(ctx).Model(&apiKeyRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at.Add(-minGap)).
		Update("last_used_at", at).Error
	return s.translate(err, "record api key use")
}
