package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

func (s *Server) registerAPIKeys(r *gin.RouterGroup) {
	r.GET("/api-keys", s.requireAuth, s.listAPIKeys)
	r.POST("/api-keys", s.requireAuth, s.createAPIKey)
	r.DELETE("/api-keys/:id", s.requireAuth, s.revokeAPIKey)
}

// APIKey is an integrator's key, without its secret.
type APIKey struct {
	ID   int64  `json:"id" example:"2"`
	Name string `json:"name" example:"12345 热线"`
	// Prefix is the start of the key, to recognise it.
	Prefix string `json:"prefix" example:"gk_Q3xv1a"`
	// Scopes are the grants: cases:read, cases:write, regions:read, events:read, open311, or * for all.
	Scopes []string `json:"scopes" example:"cases:read,cases:write"`
	// RegionCode limits the key to a region subtree; absent: all regions.
	RegionCode string     `json:"region_code,omitempty" example:"320613"`
	CreatedBy  int64      `json:"created_by,omitempty" example:"1"`
	CreatedAt  time.Time  `json:"created_at" example:"2025-03-01T08:30:00Z"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" example:"2025-03-02T10:00:00Z"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty" example:"2026-03-01T00:00:00Z"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty" example:"2025-06-01T00:00:00Z"`
} //	@name	APIKey

func apiKeyDTO(k identity.APIKey) APIKey {
	return APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, RegionCode: k.RegionCode, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
}

// APIKeyList is one page of API keys.
type APIKeyList struct {
	Items  []APIKey `json:"items"`
	Total  int64    `json:"total" example:"1"`
	Limit  int      `json:"limit" example:"50"`
	Offset int      `json:"offset" example:"0"`
} //	@name	APIKeyList

// listAPIKeys godoc
//
//	@Summary		List API keys
//	@Description	Admins only; newest first; secrets are never shown again.
//	@ID				listAPIKeys
//	@Tags			api-keys
//	@Produce		json
//	@Security		BearerAuth
//	@Param			include_revoked	query		bool	false	"list revoked keys too"
//	@Param			limit			query		int		false	"page size (1–200, default 50)"
//	@Param			offset			query		int		false	"items to skip"
//	@Success		200				{object}	APIKeyList
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/api-keys [get]
func (s *Server) listAPIKeys(c *gin.Context) {
	var f errs.Fields
	filter := identity.APIKeyFilter{Limit: int(authQueryInt(c, &f, "limit")), Offset: int(authQueryInt(c, &f, "offset"))}
	if b := authQueryBool(c, &f, "include_revoked"); b != nil {
		filter.IncludeRevoked = *b
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Identity.ListAPIKeys(c.Request.Context(), mustPrincipal(c), filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := APIKeyList{Items: make([]APIKey, len(page.Keys)), Total: page.Total, Limit: page.Limit, Offset: page.Offset}
	for i, k := range page.Keys {
		out.Items[i] = apiKeyDTO(k)
	}
	c.JSON(http.StatusOK, out)
}

// CreateAPIKeyRequest creates an integrator's key.
type CreateAPIKeyRequest struct {
	Name string `json:"name" example:"12345 热线" binding:"required"`
	// Scopes: cases:read, cases:write, regions:read, events:read, open311, or * for all.
	Scopes     []string `json:"scopes" example:"cases:read,cases:write" binding:"required"`
	RegionCode string   `json:"region_code,omitempty" example:"320613"`
	// ExpiresAt is an RFC 3339 time; absent: the key does not expire.
	ExpiresAt string `json:"expires_at,omitempty" format:"date-time" example:"2026-03-01T00:00:00Z"`
} //	@name	CreateAPIKeyRequest

// CreatedAPIKey is a new key with its secret, shown this once.
type CreatedAPIKey struct {
	APIKey
	// Key is the secret: send it as "Authorization: Bearer gk_…" or "X-API-Key: gk_…". Only
	// its hash is kept, so it cannot be shown again.
	Key string `json:"key" example:"gk_Q3xv1aT0c1cW2ZfJ3s4bA8mN0pQ7rS9tU1vW3xY5zA7"`
} //	@name	CreatedAPIKey

// createAPIKey godoc
//
//	@Summary		Create an API key
//	@Description	Admins only. The answer carries the key itself, once: store it now.
//	@ID				createAPIKey
//	@Tags			api-keys
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		CreateAPIKeyRequest	true	"the new key"
//	@Success		201		{object}	CreatedAPIKey
//	@Failure		400,401,403,413,415,422	{object}	Problem
//	@Router			/api/v1/api-keys [post]
func (s *Server) createAPIKey(c *gin.Context) {
	var req CreateAPIKeyRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	in := identity.NewAPIKey{Name: req.Name, Scopes: req.Scopes, RegionCode: req.RegionCode}
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			var f errs.Fields
			f.Add("expires_at", "format", "expires_at must be an RFC 3339 time, e.g. 2026-03-01T00:00:00+08:00")
			s.fail(c, f.Err())
			return
		}
		in.ExpiresAt = &t
	}
	k, err := s.Identity.CreateAPIKey(c.Request.Context(), mustPrincipal(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, CreatedAPIKey{APIKey: apiKeyDTO(k.APIKey), Key: k.Secret})
}

// revokeAPIKey godoc
//
//	@Summary		Revoke an API key
//	@Description	Admins only. The key stops working at once; revoking twice is fine.
//	@ID				revokeAPIKey
//	@Tags			api-keys
//	@Security		BearerAuth
//	@Param			id	path	int	true	"API key id"
//	@Success		204
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/api-keys/{id} [delete]
func (s *Server) revokeAPIKey(c *gin.Context) {
	id, err := authIDParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Identity.RevokeAPIKey(c.Request.Context(), mustPrincipal(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
