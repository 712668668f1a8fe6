package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
)

// WorkerKind says whether a grid worker is full- or part-time (专职/兼职网格员).
type WorkerKind string

// The worker kinds.
const (
	WorkerFullTime WorkerKind = "full_time" // 专职
	WorkerPartTime WorkerKind = "part_time" // 兼职
)

// User is a person who signs in.
type User struct {
	ID           int64
	Username     string // lower case, unique
	DisplayName  string
	Phone        string
	PasswordHash string // argon2id PHC string; never leaves the service
	Role         Role
	Scope        Scope // RegionPath is not stored; it is resolved when needed
	WorkerKind   WorkerKind
	Active       bool

	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time
}

// Principal is the user as a caller.
func (u User) Principal() Principal {
	return Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Scope: u.Scope}
}

// UserFilter selects users. Zero fields do not filter.
type UserFilter struct {
	ID           int64
	Role         Role
	DepartmentID int64
	GridCode     string
	Query        string // part of the username or display name, case-insensitive
	Active       *bool
	// WithinPath keeps users whose scope lies in the region subtree with this path: a region
	// scope inside it, a grid inside it, or a department whose region is inside it.
	WithinPath string
	Limit      int
	Offset     int
}

// Page limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// MaxGridsPerUser bounds a grid worker's grids (a worker patrols one or a few).
	MaxGridsPerUser = 50
)

// UserPage is one page of users.
type UserPage struct {
	Users  []User
	Total  int64
	Limit  int
	Offset int
}

// NewUser is what an admin gives to create a user.
type NewUser struct {
	Username    string
	DisplayName string
	Phone       string
	Password    string
	Role        Role
	Scope       Scope // Kind may be left empty and is then inferred
	WorkerKind  WorkerKind
}

// UserPatch changes some of a user's fields; nil fields stay.
type UserPatch struct {
	DisplayName *string
	Phone       *string
	Role        *Role
	Scope       *Scope
	WorkerKind  *WorkerKind
	Active      *bool
	Password    *string // an admin's password reset
}

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{2,63}$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 -]{2,30}$`)
)

// NormalizeUsername is how usernames are compared and stored: trimmed, lower case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// canReadUsers says whether p may list and read user accounts at all.
func canReadUsers(p Principal) bool {
	return !p.IsAPIKey() && p.Is(RoleAdmin, RoleDispatcher, RoleSupervisor)
}

// userScopeFilter narrows f to what p may see; false when p may see no users.
func userScopeFilter(p Principal, f *UserFilter) bool {
	if !canReadUsers(p) {
		return false
	}
	switch p.Scope.Kind {
	case ScopeAll:
		return true
	case ScopeRegion:
		if p.Scope.RegionPath == "" {
			return false
		}
		f.WithinPath = p.Scope.RegionPath
		return true
	}
	return false
}

// ListUsers returns users matching f within what p may see: an admin sees all, a dispatcher
// or supervisor the users in their region (to pick a grid worker, say); others get Forbidden.
func (s *Service) ListUsers(ctx context.Context, p Principal, f UserFilter) (UserPage, error) {
	if !userScopeFilter(p, &f) {
		return UserPage{}, errs.E(errs.Forbidden, "your role may not list users")
	}
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return UserPage{}, err
	}
	if f.Role != "" && !f.Role.Valid() {
		return UserPage{}, fieldErr("role", "enum", "role must be one of %s", roleList())
	}
	f.Query = strings.TrimSpace(f.Query)
	users, total, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	return UserPage{Users: users, Total: total, Limit: f.Limit, Offset: f.Offset}, nil
}

// GetUser returns one user if p may see them; NotFound otherwise (also when out of scope).
func (s *Service) GetUser(ctx context.Context, p Principal, id int64) (User, error) {
	f := UserFilter{ID: id, Limit: 1}
	if !userScopeFilter(p, &f) {
		return User{}, errs.E(errs.Forbidden, "your role may not read users")
	}
	users, _, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	if len(users) == 0 {
		return User{}, errs.NotFoundf("user %d not found", id)
	}
	return users[0], nil
}

// UserByID returns a user without any scope check, for other services that already decided
// the caller may know of them (e.g. the assignee of a task).
func (s *Service) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// CreateUser creates a user account; only an admin may.
func (s *Service) CreateUser(ctx context.Context, p Principal, in NewUser) (User, error) {
	if !p.Is(RoleAdmin) || p.IsAPIKey() {
		return User{}, errs.E(errs.Forbidden, "only an admin may create users")
	}
	u := User{
		Username:    NormalizeUsername(in.Username),
		DisplayName: strings.TrimSpace(in.DisplayName),
		Phone:       strings.TrimSpace(in.Phone),
		Role:        in.Role,
		Scope:       in.Scope,
		WorkerKind:  in.WorkerKind,
		Active:      true,
	}
	var f errs.Fields
	switch {
	case u.Username == "":
		f.Required("username", true)
	case !usernamePattern.MatchString(u.Username):
		f.Add("username", "pattern", "username must be 3–64 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
	}
	checkDisplayName(&f, u.DisplayName)
	checkPhone(&f, u.Phone)
	if e, ok := errs.As(CheckPasswordPolicy("password", in.Password, u.Username)); ok {
		f = append(f, e.Fields...)
	}
	s.checkRoleScope(ctx, &f, &u)
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u.PasswordHash, u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = hash, now, now, now
	if err := s.store.CreateUser(ctx, &u); err != nil {
		if errs.Is(err, errs.Conflict) {
			return User{}, fieldErr("username", "unique", "username %q is taken", u.Username)
		}
		return User{}, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	s.log.InfoContext(ctx, "user created", "user_id", u.ID, "username", u.Username, "role", u.Role, "by", p.UserID)
	return u, nil
}

// UpdateUser changes a user; only an admin may. Deactivating a user or resetting their
// password ends their sessions (their refresh tokens are revoked).
func (s *Service) UpdateUser(ctx context.Context, p Principal, id int64, in UserPatch) (User, error) {
	if !p.Is(RoleAdmin) || p.IsAPIKey() {
		if _, err := s.GetUser(ctx, p, id); err != nil {
			return User{}, err
		}
		return User{}, errs.E(errs.Forbidden, "only an admin may change users")
	}
	now := s.now()
	var hash string
	if in.Password != nil {
		// The username is needed for the policy; hash outside the row lock, it is slow.
		cur, err := s.store.UserByID(ctx, id)
		if err != nil {
			return User{}, fmt.Errorf("update user %d: %w", id, err)
		}
		if err := CheckPasswordPolicy("password", *in.Password, cur.Username); err != nil {
			return User{}, err
		}
		if hash, err = HashPassword(*in.Password); err != nil {
			return User{}, err
		}
	}
	var endSessions bool
	u, err := s.store.UpdateUser(ctx, id, func(u *User) error {
		var f errs.Fields
		if in.DisplayName != nil {
			u.DisplayName = strings.TrimSpace(*in.DisplayName)
			checkDisplayName(&f, u.DisplayName)
		}
		if in.Phone != nil {
			u.Phone = strings.TrimSpace(*in.Phone)
			checkPhone(&f, u.Phone)
		}
		if in.Role != nil {
			u.Role = *in.Role
		}
		if in.Scope != nil {
			u.Scope = *in.Scope
		}
		if in.WorkerKind != nil {
			u.WorkerKind = *in.WorkerKind
		} else if in.Role != nil && u.Role != RoleGridWorker {
			u.WorkerKind = "" // only grid workers have one; a role change drops it
		}
		if in.Role != nil || in.Scope != nil || in.WorkerKind != nil {
			if in.Role != nil && in.Scope == nil && !scopeFits(u.Role, u.Scope.Kind) {
				f.Add("scope", "required", "role %s needs a new scope: %s", u.Role, scopeHint(u.Role))
			} else {
				s.checkRoleScope(ctx, &f, u)
			}
		}
		if in.Active != nil {
			endSessions = endSessions || (u.Active && !*in.Active)
			u.Active = *in.Active
		}
		if hash != "" {
			u.PasswordHash, u.PasswordChangedAt = hash, now
			endSessions = true
		}
		if err := f.Err(); err != nil {
			return err
		}
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	if endSessions {
		if err := s.store.RevokeUserRefreshTokens(ctx, id, "", now); err != nil {
			return User{}, fmt.Errorf("update user %d: end sessions: %w", id, err)
		}
	}
	s.log.InfoContext(ctx, "user updated", "user_id", id, "by", p.UserID, "sessions_ended", endSessions)
	return u, nil
}

// scopeFits is the table of which data scope fits which role.
func scopeFits(r Role, k ScopeKind) bool {
	switch r {
	case RoleAdmin:
		return k == ScopeAll
	case RoleDispatcher, RoleSupervisor:
		return k == ScopeRegion || k == ScopeAll
	case RoleHandler:
		return k == ScopeDepartment
	case RoleGridWorker:
		return k == ScopeGrids
	}
	return false
}

func scopeHint(r Role) string {
	switch r {
	case RoleAdmin:
		return "an admin's scope is all"
	case RoleDispatcher, RoleSupervisor:
		return "a region (region_code) or all"
	case RoleHandler:
		return "a department (department_id)"
	case RoleGridWorker:
		return "one or more grids (grid_codes)"
	}
	return "unknown role"
}

// checkRoleScope validates the role, infers the scope kind when left empty, checks that the
// scope fits the role and that what it names exists. It normalises u.Scope in place.
func (s *Service) checkRoleScope(ctx context.Context, f *errs.Fields, u *User) {
	if u.Role == "" {
		f.Required("role", true)
		return
	}
	if !u.Role.Valid() {
		f.Add("role", "enum", "role must be one of %s", roleList())
		return
	}
	sc := &u.Scope
	sc.RegionPath = ""
	sc.RegionCode = strings.TrimSpace(sc.RegionCode)
	if sc.Kind == "" {
		switch {
		case sc.RegionCode != "":
			sc.Kind = ScopeRegion
		case sc.DepartmentID != 0:
			sc.Kind = ScopeDepartment
		case len(sc.GridCodes) > 0:
			sc.Kind = ScopeGrids
		case u.Role == RoleAdmin:
			sc.Kind = ScopeAll
		default:
			f.Add("scope", "required", "role %s needs a scope: %s", u.Role, scopeHint(u.Role))
			return
		}
	}
	switch sc.Kind {
	case ScopeAll, ScopeRegion, ScopeDepartment, ScopeGrids:
	default:
		f.Add("scope.kind", "enum", "scope.kind must be one of all, region, department, grids")
		return
	}
	if !scopeFits(u.Role, sc.Kind) {
		f.Add("scope.kind", "role", "role %s cannot have scope %s: %s", u.Role, sc.Kind, scopeHint(u.Role))
		return
	}
	// Keep only what the kind uses, so a stale field never widens or narrows the scope.
	switch sc.Kind {
	case ScopeAll:
		*sc = Scope{Kind: ScopeAll}
	case ScopeRegion:
		*sc = Scope{Kind: ScopeRegion, RegionCode: sc.RegionCode}
		if sc.RegionCode == "" {
			f.Required("scope.region_code", true)
		} else if err := s.regionExists(ctx, sc.RegionCode); err != nil {
			addRegionError(f, "scope.region_code", sc.RegionCode, err)
		}
	case ScopeDepartment:
		*sc = Scope{Kind: ScopeDepartment, DepartmentID: sc.DepartmentID}
		if sc.DepartmentID <= 0 {
			f.Required("scope.department_id", true)
		} else if d, err := s.store.DepartmentByID(ctx, sc.DepartmentID); err != nil {
			if errs.Is(err, errs.NotFound) {
				f.Add("scope.department_id", "exists", "department %d does not exist", sc.DepartmentID)
			} else {
				f.Add("scope.department_id", "exists", "department %d could not be checked", sc.DepartmentID)
			}
		} else if !d.Active {
			f.Add("scope.department_id", "active", "department %s is deactivated", d.Code)
		}
	case ScopeGrids:
		grids := make([]string, 0, len(sc.GridCodes))
		for _, g := range sc.GridCodes {
			if g = strings.TrimSpace(g); g != "" && !slices.Contains(grids, g) {
				grids = append(grids, g)
			}
		}
		*sc = Scope{Kind: ScopeGrids, GridCodes: grids}
		switch {
		case len(grids) == 0:
			f.Required("scope.grid_codes", true)
		case len(grids) > MaxGridsPerUser:
			f.Add("scope.grid_codes", "max_items", "at most %d grids per user", MaxGridsPerUser)
		default:
			for i, g := range grids {
				if err := s.regionExists(ctx, g); err != nil {
					addRegionError(f, fmt.Sprintf("scope.grid_codes[%d]", i), g, err)
				}
			}
		}
	}
	switch {
	case u.WorkerKind == "":
	case u.Role != RoleGridWorker:
		f.Add("worker_kind", "role", "only a grid worker has a worker_kind")
	case u.WorkerKind != WorkerFullTime && u.WorkerKind != WorkerPartTime:
		f.Add("worker_kind", "enum", "worker_kind must be full_time or part_time")
	}
}

func addRegionError(f *errs.Fields, field, code string, err error) {
	if errs.Is(err, errs.NotFound) {
		f.Add(field, "exists", "region %q does not exist", code)
		return
	}
	f.Add(field, "exists", "region %q could not be checked: %s", code, errMessage(err))
}

func errMessage(err error) string {
	if e, ok := errs.As(err); ok && e.Code != errs.Internal {
		return e.Message
	}
	return "internal error"
}

func checkDisplayName(f *errs.Fields, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		f.Required("display_name", true)
	case n > 100:
		f.Add("display_name", "max_length", "display_name must have at most 100 characters")
	}
}

func checkPhone(f *errs.Fields, phone string) {
	if phone != "" && !phonePattern.MatchString(phone) {
		f.Add("phone", "pattern", "phone must be digits (with an optional leading +, spaces or dashes), at most 32 characters")
	}
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// checkPage applies the default page size and rejects out-of-range values.
func checkPage(limit, offset *int) error {
	var f errs.Fields
	if *limit == 0 {
		*limit = DefaultPageSize
	}
	if *limit < 0 || *limit > MaxPageSize {
		f.Add("limit", "range", "limit must be between 1 and %d", MaxPageSize)
	}
	if *offset < 0 {
		f.Add("offset", "range", "offset must not be negative")
	}
	return f.Err()
}

func fieldErr(field, rule, format string, args ...any) error {
	var f errs.Fields
	f.Add(field, rule, format, args...)
	return f.Err()
}
