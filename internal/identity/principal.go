// Package identity is who is asking and what they may see: users, roles, data scopes,
// departments, passwords, access and refresh tokens, and integrators' API keys.
package identity

import "slices"

// Role is what a user does in the system (DOMAIN.md §1).
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"       // 管理员: regions, grids, users, departments, categories
	RoleDispatcher Role = "dispatcher"  // 受理员/派遣员 at a street office or a governance centre
	RoleHandler    Role = "handler"     // 职能部门处置人员
	RoleSupervisor Role = "supervisor"  // 督办/值班长/领导
	RoleGridWorker Role = "grid_worker" // 网格员
	RoleIntegrator Role = "integrator"  // an API key's principal: a hotline, a video-AI platform
)

// Roles lists the roles a user account may have (integrator is for API keys only).
var Roles = []Role{RoleAdmin, RoleDispatcher, RoleHandler, RoleSupervisor, RoleGridWorker}

// Valid reports whether r is a user role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// ScopeKind says which data a principal may see (数据权限).
type ScopeKind string

// The scope kinds.
const (
	ScopeAll        ScopeKind = "all"        // everything (a city-level admin or centre)
	ScopeRegion     ScopeKind = "region"     // a region subtree (a street dispatcher)
	ScopeDepartment ScopeKind = "department" // what is dispatched to a department (a handler)
	ScopeGrids      ScopeKind = "grids"      // a set of grids (a grid worker)
)

// Scope is a principal's data scope.
type Scope struct {
	Kind         ScopeKind
	RegionCode   string   // for ScopeRegion
	RegionPath   string   // the materialized path of RegionCode, resolved at authentication
	DepartmentID int64    // for ScopeDepartment
	GridCodes    []string // for ScopeGrids
}

// Principal is the authenticated caller: a user, or an integrator's API key.
type Principal struct {
	UserID      int64
	Username    string
	DisplayName string
	Role        Role
	Scope       Scope
	// SessionID names the sign-in (the refresh-token family) an access token belongs to.
	SessionID string
	// APIKeyID is set when the caller is an integrator's API key; APIScopes are its grants
	// (e.g. "cases:read", "cases:write", "regions:read").
	APIKeyID  int64
	APIScopes []string
}

// IsAPIKey reports whether the caller is an integrator's key.
func (p Principal) IsAPIKey() bool { return p.APIKeyID != 0 }

// Is reports whether the principal has one of the roles.
func (p Principal) Is(roles ...Role) bool { return slices.Contains(roles, p.Role) }

// HasAPIScope reports whether an API key principal was granted scope (users always pass).
func (p Principal) HasAPIScope(scope string) bool {
	return !p.IsAPIKey() || slices.Contains(p.APIScopes, scope) || slices.Contains(p.APIScopes, "*")
}
