package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

// registerUsers mounts /users, /departments and /api-keys.
func (s *Server) registerUsers(r *gin.RouterGroup) {
	r.GET("/users", s.requireAuth, s.listUsers)
	r.POST("/users", s.requireAuth, s.createUser)
	r.GET("/users/:id", s.requireAuth, s.getUser)
	r.PATCH("/users/:id", s.requireAuth, s.updateUser)
	s.registerDepartments(r)
	s.registerAPIKeys(r)
}

// User is a user account (never its password).
type User struct {
	ID          int64  `json:"id" example:"7"`
	Username    string `json:"username" example:"li.wang"`
	DisplayName string `json:"display_name" example:"李网格"`
	Phone       string `json:"phone,omitempty" example:"13800000000"`
	Role        string `json:"role" enums:"admin,dispatcher,handler,supervisor,grid_worker" example:"grid_worker"`
	Scope       Scope  `json:"scope"`
	// WorkerKind is set for grid workers: full_time (专职) or part_time (兼职).
	WorkerKind        string    `json:"worker_kind,omitempty" enums:"full_time,part_time" example:"full_time"`
	Active            bool      `json:"active" example:"true"`
	CreatedAt         time.Time `json:"created_at" example:"2025-03-01T08:30:00Z"`
	UpdatedAt         time.Time `json:"updated_at" example:"2025-03-01T08:30:00Z"`
	PasswordChangedAt time.Time `json:"password_changed_at" example:"2025-03-01T08:30:00Z"`
} //	@name	User

// Scope is a data scope (数据权限): everything, a region subtree, what is dispatched to a
// department, or a set of grids. Which kinds fit which role: admin → all; dispatcher and
// supervisor → region or all; handler → department; grid_worker → grids.
type Scope struct {
	// Kind may be left out on input; it is then inferred from the field given.
	Kind         string   `json:"kind,omitempty" enums:"all,region,department,grids" example:"grids"`
	RegionCode   string   `json:"region_code,omitempty" example:"320613001"`
	DepartmentID int64    `json:"department_id,omitempty" example:"3"`
	GridCodes    []string `json:"grid_codes,omitempty" example:"320613001001001,320613001001002"`
} //	@name	Scope

func (sc Scope) domain() identity.Scope {
	return identity.Scope{Kind: identity.ScopeKind(sc.Kind), RegionCode: sc.RegionCode, DepartmentID: sc.DepartmentID, GridCodes: sc.GridCodes}
}

func userDTO(u identity.User) User {
	return User{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Phone: u.Phone, Role: string(u.Role),
		Scope: Scope{Kind: string(u.Scope.Kind), RegionCode: u.Scope.RegionCode, DepartmentID: u.Scope.DepartmentID,
			GridCodes: u.Scope.GridCodes},
		WorkerKind: string(u.WorkerKind), Active: u.Active,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, PasswordChangedAt: u.PasswordChangedAt,
	}
}

// UserList is one page of users.
type UserList struct {
	Items  []User `json:"items"`
	Total  int64  `json:"total" example:"1"`
	Limit  int    `json:"limit" example:"50"`
	Offset int    `json:"offset" example:"0"`
} //	@name	UserList

// listUsers godoc
//
//	@Summary		List users
//	@Description	An admin sees every user; a dispatcher or supervisor the users inside their region (a region scope, a grid or a department's region in it), e.g. to pick a grid worker for an on-site verification. Other roles and API keys get 403.
//	@ID				listUsers
//	@Tags			users
//	@Produce		json
//	@Security		BearerAuth
//	@Param			role			query		string	false	"role"	Enums(admin,dispatcher,handler,supervisor,grid_worker)
//	@Param			department_id	query		int		false	"handlers of this department"
//	@Param			grid_code		query		string	false	"grid workers of this grid"
//	@Param			q				query		string	false	"part of the username or display name"
//	@Param			active			query		bool	false	"active or deactivated accounts only"
//	@Param			limit			query		int		false	"page size (1–200, default 50)"
//	@Param			offset			query		int		false	"items to skip"
//	@Success		200				{object}	UserList
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/users [get]
func (s *Server) listUsers(c *gin.Context) {
	var f errs.Fields
	filter := identity.UserFilter{
		Role: identity.Role(c.Query("role")), DepartmentID: authQueryInt(c, &f, "department_id"),
		GridCode: c.Query("grid_code"), Query: c.Query("q"), Active: authQueryBool(c, &f, "active"),
		Limit: int(authQueryInt(c, &f, "limit")), Offset: int(authQueryInt(c, &f, "offset")),
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Identity.ListUsers(c.Request.Context(), mustPrincipal(c), filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := UserList{Items: make([]User, len(page.Users)), Total: page.Total, Limit: page.Limit, Offset: page.Offset}
	for i, u := range page.Users {
		out.Items[i] = userDTO(u)
	}
	c.JSON(http.StatusOK, out)
}

// getUser godoc
//
//	@Summary		Get a user
//	@Description	A user outside the caller's region is 404.
//	@ID				getUser
//	@Tags			users
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"user id"
//	@Success		200	{object}	User
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/users/{id} [get]
func (s *Server) getUser(c *gin.Context) {
	id, err := authIDParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.Identity.GetUser(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userDTO(u))
}

// CreateUserRequest creates a user account.
type CreateUserRequest struct {
	Username    string `json:"username" example:"li.wang" binding:"required"`
	DisplayName string `json:"display_name" example:"李网格" binding:"required"`
	Phone       string `json:"phone,omitempty" example:"13800000000"`
	// Password has at least 10 characters and is not the username.
	Password   string `json:"password" example:"a-good-password" binding:"required"`
	Role       string `json:"role" enums:"admin,dispatcher,handler,supervisor,grid_worker" example:"grid_worker" binding:"required"`
	Scope      Scope  `json:"scope"`
	WorkerKind string `json:"worker_kind,omitempty" enums:"full_time,part_time" example:"full_time"`
} //	@name	CreateUserRequest

// createUser godoc
//
//	@Summary		Create a user
//	@Description	Admins only. The scope must fit the role (admin → all; dispatcher, supervisor → region or all; handler → department; grid_worker → grids), and the regions, grids and department it names must exist.
//	@ID				createUser
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		CreateUserRequest	true	"the new user"
//	@Success		201		{object}	User
//	@Failure		400,401,403,413,415,422	{object}	Problem
//	@Router			/api/v1/users [post]
func (s *Server) createUser(c *gin.Context) {
	var req CreateUserRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.Identity.CreateUser(c.Request.Context(), mustPrincipal(c), identity.NewUser{
		Username: req.Username, DisplayName: req.DisplayName, Phone: req.Phone, Password: req.Password,
		Role: identity.Role(req.Role), Scope: req.Scope.domain(), WorkerKind: identity.WorkerKind(req.WorkerKind),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	c.JSON(http.StatusCreated, userDTO(u))
}

// UpdateUserRequest changes some fields of a user; absent fields stay.
type UpdateUserRequest struct {
	DisplayName *string `json:"display_name,omitempty" example:"李网格"`
	// Phone "" clears the phone number.
	Phone *string `json:"phone,omitempty" example:"13800000000"`
	// Role: when it changes, send a scope that fits the new role (unless the old one fits).
	Role       *string `json:"role,omitempty" enums:"admin,dispatcher,handler,supervisor,grid_worker" example:"handler"`
	Scope      *Scope  `json:"scope,omitempty"`
	WorkerKind *string `json:"worker_kind,omitempty" enums:"full_time,part_time" example:"part_time"`
	// Active false deactivates the account and ends its sessions.
	Active *bool `json:"active,omitempty" example:"false"`
	// Password resets the password (and ends the user's sessions).
	Password *string `json:"password,omitempty" example:"a-new-password"`
} //	@name	UpdateUserRequest

// updateUser godoc
//
//	@Summary		Change a user
//	@Description	Admins only: display name, phone, role and scope, worker kind, active, or a password reset. The last active admin cannot be deactivated or demoted (409).
//	@ID				updateUser
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id		path		int					true	"user id"
//	@Param			body	body		UpdateUserRequest	true	"the fields to change"
//	@Success		200		{object}	User
//	@Failure		400,401,403,404,409,413,415,422	{object}	Problem
//	@Router			/api/v1/users/{id} [patch]
func (s *Server) updateUser(c *gin.Context) {
	id, err := authIDParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req UpdateUserRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	patch := identity.UserPatch{DisplayName: req.DisplayName, Phone: req.Phone, Active: req.Active, Password: req.Password}
	if req.Role != nil {
		r := identity.Role(*req.Role)
		patch.Role = &r
	}
	if req.Scope != nil {
		sc := req.Scope.domain()
		patch.Scope = &sc
	}
	if req.WorkerKind != nil {
		wk := identity.WorkerKind(*req.WorkerKind)
		patch.WorkerKind = &wk
	}
	u, err := s.Identity.UpdateUser(c.Request.Context(), mustPrincipal(c), id, patch)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userDTO(u))
}
