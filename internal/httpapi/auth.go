package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// registerAuth mounts /auth/* and /me.
func (s *Server) registerAuth(r *gin.RouterGroup) {
	r.POST("/auth/login", s.login)
	r.POST("/auth/refresh", s.refresh)
	r.POST("/auth/logout", s.logout)
	r.GET("/me", s.requireAuth, s.me)
	r.PUT("/me/password", s.requireAuth, s.changePassword)
}

// LoginRequest is a sign-in with username and password.
type LoginRequest struct {
	Username string `json:"username" example:"admin" binding:"required"`
	Password string `json:"password" example:"correct horse battery" binding:"required"`
} //	@name	LoginRequest

// RefreshRequest carries a refresh token (to refresh or to log out).
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token" example:"kq3V0mX1…" binding:"required"`
} //	@name	RefreshRequest

// TokenResponse is a new session: a short-lived access token and a refresh token.
type TokenResponse struct {
	AccessToken string `json:"access_token" example:"eyJhbGciOiJFZERTQSIsImtpZCI6…"`
	TokenType   string `json:"token_type" example:"Bearer"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn    int64  `json:"expires_in" example:"900"`
	RefreshToken string `json:"refresh_token" example:"kq3V0mX1…"`
	// RefreshExpiresIn is the refresh token's lifetime in seconds; each refresh renews it.
	RefreshExpiresIn int64 `json:"refresh_expires_in" example:"2592000"`
	User             User  `json:"user"`
} //	@name	TokenResponse

func tokenResponse(sess identity.Session) TokenResponse {
	return TokenResponse{
		AccessToken: sess.AccessToken, TokenType: "Bearer", ExpiresIn: int64(sess.AccessExpiresIn.Seconds()),
		RefreshToken: sess.RefreshToken, RefreshExpiresIn: int64(sess.RefreshExpiresIn.Seconds()),
		User: userDTO(sess.User),
	}
}

// login godoc
//
//	@Summary		Sign in with username and password
//	@Description	Returns an access token (a JWT to send as "Authorization: Bearer …") and a refresh token. Failed sign-ins are limited per account and per client address: past the limit the answer is 429 with Retry-After, even with the right password.
//	@ID				login
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		LoginRequest	true	"credentials"
//	@Success		200		{object}	TokenResponse
//	@Failure		400,401,413,415,422	{object}	Problem
//	@Failure		429		{object}	Problem
//	@Header			429		{integer}	Retry-After	"seconds until a new attempt is accepted"
//	@Router			/api/v1/auth/login [post]
func (s *Server) login(c *gin.Context) {
	var req LoginRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.Identity.Login(c.Request.Context(), identity.Credentials{
		Username: req.Username, Password: req.Password, Address: c.ClientIP(),
	})
	if err != nil {
		setRetryAfter(c, err)
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenResponse(sess))
}

// setRetryAfter copies a rate-limit error's retry_after into the Retry-After header.
func setRetryAfter(c *gin.Context, err error) {
	if e, ok := errs.As(err); ok && e.Code == errs.RateLimited {
		if v, ok := e.Extra["retry_after"]; ok {
			c.Header("Retry-After", fmt.Sprint(v))
		}
	}
}

// refresh godoc
//
//	@Summary		Exchange a refresh token for a new session
//	@Description	Rotates the refresh token: the one sent stops working and a new pair is returned. Sending an already-used refresh token again revokes the whole session (the newest token too): whoever holds it must sign in again.
//	@ID				refreshToken
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		RefreshRequest	true	"the refresh token"
//	@Success		200		{object}	TokenResponse
//	@Failure		400,401,413,415,422	{object}	Problem
//	@Router			/api/v1/auth/refresh [post]
func (s *Server) refresh(c *gin.Context) {
	var req RefreshRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.Identity.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenResponse(sess))
}

// logout godoc
//
//	@Summary		End a session
//	@Description	Revokes the refresh token and every token rotated from the same sign-in. Access tokens already issued stay valid until they expire (minutes). An unknown token is accepted too.
//	@ID				logout
//	@Tags			auth
//	@Accept			json
//	@Param			body	body	RefreshRequest	true	"the refresh token of the session"
//	@Success		204
//	@Failure		400,401,413,415,422	{object}	Problem
//	@Router			/api/v1/auth/logout [post]
func (s *Server) logout(c *gin.Context) {
	var req RefreshRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Identity.Logout(c.Request.Context(), req.RefreshToken); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Me is the caller: a signed-in user, or an integrator's API key.
type Me struct {
	// Kind is "user" or "api_key".
	Kind  string    `json:"kind" enums:"user,api_key" example:"user"`
	Role  string    `json:"role" example:"dispatcher"`
	Scope ScopeView `json:"scope"`
	// User is set for a user.
	User *User `json:"user,omitempty"`
	// APIKey is set for an API key.
	APIKey *APIKey `json:"api_key,omitempty"`
} //	@name	Me

// ScopeView is a data scope as the caller sees it, with its department named.
type ScopeView struct {
	Kind       string         `json:"kind" enums:"all,region,department,grids" example:"region"`
	RegionCode string         `json:"region_code,omitempty" example:"320613001"`
	Department *DepartmentRef `json:"department,omitempty"`
	GridCodes  []string       `json:"grid_codes,omitempty" example:"320613001001001"`
} //	@name	ScopeView

// DepartmentRef names a department.
type DepartmentRef struct {
	ID   int64  `json:"id" example:"3"`
	Code string `json:"code" example:"CG-320613"`
	Name string `json:"name" example:"崇川区城市管理局"`
} //	@name	DepartmentRef

// me godoc
//
//	@Summary		Who am I
//	@Description	The signed-in user with their role and data scope, or for an API key its name and scopes.
//	@ID				getMe
//	@Tags			me
//	@Produce		json
//	@Security		BearerAuth
//	@Security		APIKey
//	@Success		200	{object}	Me
//	@Failure		401	{object}	Problem
//	@Router			/api/v1/me [get]
func (s *Server) me(c *gin.Context) {
	m, err := s.Identity.Me(c.Request.Context(), mustPrincipal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := Me{Kind: "user", Role: string(m.Principal.Role)}
	switch {
	case m.APIKey != nil:
		k := apiKeyDTO(*m.APIKey)
		out.Kind, out.APIKey = "api_key", &k
		out.Scope = ScopeView{Kind: string(m.Principal.Scope.Kind), RegionCode: m.Principal.Scope.RegionCode}
	case m.User != nil:
		u := userDTO(*m.User)
		out.User, out.Role = &u, string(m.User.Role)
		out.Scope = ScopeView{Kind: string(m.User.Scope.Kind), RegionCode: m.User.Scope.RegionCode, GridCodes: m.User.Scope.GridCodes}
		if d := m.Department; d != nil {
			out.Scope.Department = &DepartmentRef{ID: d.ID, Code: d.Code, Name: d.Name}
		}
	}
	c.JSON(http.StatusOK, out)
}

// ChangePasswordRequest changes the caller's own password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password" example:"the old one" binding:"required"`
	// NewPassword has at least 10 characters and is not the username.
	NewPassword string `json:"new_password" example:"a much better one" binding:"required"`
} //	@name	ChangePasswordRequest

// changePassword godoc
//
//	@Summary		Change my password
//	@Description	Checks the current password, sets the new one and ends the caller's other sessions (their refresh tokens stop working). Wrong current passwords count as failed sign-ins.
//	@ID				changeMyPassword
//	@Tags			me
//	@Accept			json
//	@Security		BearerAuth
//	@Param			body	body	ChangePasswordRequest	true	"the current and the new password"
//	@Success		204
//	@Failure		400,401,403,413,415,422	{object}	Problem
//	@Failure		429						{object}	Problem
//	@Header			429						{integer}	Retry-After	"seconds until a new attempt is accepted"
//	@Router			/api/v1/me/password [put]
func (s *Server) changePassword(c *gin.Context) {
	var req ChangePasswordRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Identity.ChangePassword(c.Request.Context(), mustPrincipal(c), req.CurrentPassword, req.NewPassword); err != nil {
		setRetryAfter(c, err)
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// ---- parameters shared by the identity routes ----

// authIDParam reads a positive integer path parameter; anything else names no resource.
func authIDParam(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no %s %q", name, c.Param(name))
	}
	return id, nil
}

// authQueryInt reads an optional integer query parameter.
func authQueryInt(c *gin.Context, f *errs.Fields, name string) int64 {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.Add(name, "type", "%s must be an integer", name)
	}
	return n
}

// authQueryBool reads an optional boolean query parameter.
func authQueryBool(c *gin.Context, f *errs.Fields, name string) *bool {
	v := c.Query(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		f.Add(name, "type", "%s must be true or false", name)
		return nil
	}
	return &b
}
