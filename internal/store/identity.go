package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

var _ identity.Store = (*Store)(nil)

// ---- departments ----

type departmentRow struct {
	ID         int64 `gorm:"primaryKey"`
	Code       string
	Name       string
	Kind       *string
	RegionCode *string
	Phone      *string
	Active     bool
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt  time.Time `gorm:"autoUpdateTime:false"`
}

func (departmentRow) TableName() string { return "departments" }

func departmentToRow(d identity.Department) departmentRow {
	return departmentRow{
		ID: d.ID, Code: d.Code, Name: d.Name, Kind: idNullString(d.Kind), RegionCode: idNullString(d.RegionCode),
		Phone: idNullString(d.Phone), Active: d.Active, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
	}
}

func (r departmentRow) domain() identity.Department {
	return identity.Department{
		ID: r.ID, Code: r.Code, Name: r.Name, Kind: idDeref(r.Kind), RegionCode: idDeref(r.RegionCode),
		Phone: idDeref(r.Phone), Active: r.Active, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// CreateDepartment inserts d and sets its ID; Conflict when the code is taken.
func (s *Store) CreateDepartment(ctx context.Context, d *identity.Department) error {
	row := departmentToRow(*d)
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "create department")
	}
	d.ID = row.ID
	return nil
}

// DepartmentByID returns one department; NotFound when absent.
func (s *Store) DepartmentByID(ctx context.Context, id int64) (identity.Department, error) {
	var row departmentRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return identity.Department{}, s.translate(err, "read department")
	}
	return row.domain(), nil
}

// DepartmentByCode returns the department with the code; NotFound when absent.
func (s *Store) DepartmentByCode(ctx context.Context, code string) (identity.Department, error) {
	var row departmentRow
	if err := s.conn(ctx).Where("code = ?", code).Take(&row).Error; err != nil {
		return identity.Department{}, s.translate(err, "read department")
	}
	return row.domain(), nil
}

// ListDepartments returns a page of departments ordered by code, and the total.
func (s *Store) ListDepartments(ctx context.Context, f identity.DepartmentFilter) ([]identity.Department, int64, error) {
	where := func(q *gorm.DB) *gorm.DB {
		q = q.Model(&departmentRow{})
		if f.Kind != "" {
			q = q.Where("kind = ?", f.Kind)
		}
		if f.RegionCode != "" {
			q = q.Where("region_code = ?", f.RegionCode)
		}
		if f.Active != nil {
			q = q.Where("active = ?", *f.Active)
		}
		if f.Query != "" {
			like := idLikeContains(f.Query)
			q = q.Where(`(LOWER(code) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, like, like)
		}
		return q
	}
	var total int64
	if err := where(s.conn(ctx)).Count(&total).Error; err != nil {
		return nil, 0, s.translate(err, "count departments")
	}
	var rows []departmentRow
	if err := where(s.conn(ctx)).Order("code").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, s.translate(err, "list departments")
	}
	out := make([]identity.Department, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, total, nil
}

// UpdateDepartment loads the department under a row lock, applies fn and saves it. The code
// and creation time never change.
func (s *Store) UpdateDepartment(ctx context.Context, id int64, fn func(*identity.Department) error) (identity.Department, error) {
	var out identity.Department
	err := s.InTx(ctx, func(tx *Store) error {
		var row departmentRow
		if err := tx.forUpdate(tx.conn(ctx).Where("id = ?", id)).Take(&row).Error; err != nil {
			return tx.translate(err, "read department")
		}
		d := row.domain()
		if err := fn(&d); err != nil {
			return err
		}
		d.ID, d.Code, d.CreatedAt = row.ID, row.Code, row.CreatedAt
		next := departmentToRow(d)
		if err := tx.conn(ctx).Model(&departmentRow{ID: id}).Select("name", "kind", "region_code", "phone", "active", "updated_at").Updates(&next).Error; err != nil {
			return tx.translate(err, "update department")
		}
		out = d
		return nil
	})
	return out, err
}

// ---- users ----

type userRow struct {
	ID                int64 `gorm:"primaryKey"`
	Username          string
	DisplayName       string
	Phone             *string
	PasswordHash      string
	Role              string
	ScopeKind         string
	ScopeRegionCode   *string
	ScopeDepartmentID *int64
	WorkerKind        *string
	Active            bool
	CreatedAt         time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"`
	PasswordChangedAt time.Time
}

func (userRow) TableName() string { return "users" }

type userGridRow struct {
	UserID   int64  `gorm:"primaryKey;autoIncrement:false"`
	GridCode string `gorm:"primaryKey"`
}

func (userGridRow) TableName() string { return "user_grids" }

func userToRow(u identity.User) userRow {
	r := userRow{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Phone: idNullString(u.Phone),
		PasswordHash: u.PasswordHash, Role: string(u.Role), ScopeKind: string(u.Scope.Kind),
		WorkerKind: idNullString(string(u.WorkerKind)), Active: u.Active,
		CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt), PasswordChangedAt: utc(u.PasswordChangedAt),
	}
	switch u.Scope.Kind {
	case identity.ScopeRegion:
		r.ScopeRegionCode = idNullString(u.Scope.RegionCode)
	case identity.ScopeDepartment:
		id := u.Scope.DepartmentID
		r.ScopeDepartmentID = &id
	}
	return r
}

func (r userRow) domain(grids []string) identity.User {
	u := identity.User{
		ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Phone: idDeref(r.Phone),
		PasswordHash: r.PasswordHash, Role: identity.Role(r.Role),
		Scope:      identity.Scope{Kind: identity.ScopeKind(r.ScopeKind), RegionCode: idDeref(r.ScopeRegionCode)},
		WorkerKind: identity.WorkerKind(idDeref(r.WorkerKind)), Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), PasswordChangedAt: r.PasswordChangedAt.UTC(),
	}
	if r.ScopeDepartmentID != nil {
		u.Scope.DepartmentID = *r.ScopeDepartmentID
	}
	if u.Scope.Kind == identity.ScopeGrids {
		u.Scope.GridCodes = grids
	}
	return u
}

// CountUsers counts every user.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&userRow{}).Count(&n).Error; err != nil {
		return 0, s.translate(err, "count users")
	}
	return n, nil
}

// CreateUser inserts u and its grids in one transaction and sets u.ID.
func (s *Store) CreateUser(ctx context.Context, u *identity.User) error {
	return s.InTx(ctx, func(tx *Store) error {
		row := userToRow(*u)
		row.ID = 0
		if err := tx.conn(ctx).Create(&row).Error; err != nil {
			return tx.translate(err, "create user")
		}
		if err := tx.setUserGrids(ctx, row.ID, u.Scope); err != nil {
			return err
		}
		u.ID = row.ID
		return nil
	})
}

func (s *Store) setUserGrids(ctx context.Context, userID int64, sc identity.Scope) error {
	if err := s.conn(ctx).Where("user_id = ?", userID).Delete(&userGridRow{}).Error; err != nil {
		return s.translate(err, "replace user grids")
	}
	if sc.Kind != identity.ScopeGrids || len(sc.GridCodes) == 0 {
		return nil
	}
	rows := make([]userGridRow, 0, len(sc.GridCodes))
	for _, g := range sc.GridCodes {
		rows = append(rows, userGridRow{UserID: userID, GridCode: g})
	}
	if err := s.conn(ctx).Create(&rows).Error; err != nil {
		return s.translate(err, "write user grids")
	}
	return nil
}

// gridsOf loads the grid codes of the users, by user id, each list sorted.
func (s *Store) gridsOf(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []userGridRow
	if err := s.conn(ctx).Where("user_id IN ?", ids).Order("user_id, grid_code").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "read user grids")
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.GridCode)
	}
	return out, nil
}

func (s *Store) usersFromRows(ctx context.Context, rows []userRow) ([]identity.User, error) {
	var ids []int64
	for _, r := range rows {
		if r.ScopeKind == string(identity.ScopeGrids) {
			ids = append(ids, r.ID)
		}
	}
	grids, err := s.gridsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]identity.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain(grids[r.ID])
	}
	return out, nil
}

func (s *Store) oneUser(ctx context.Context, q *gorm.DB) (identity.User, error) {
	var row userRow
	if err := q.Take(&row).Error; err != nil {
		return identity.User{}, s.translate(err, "read user")
	}
	us, err := s.usersFromRows(ctx, []userRow{row})
	if err != nil {
		return identity.User{}, err
	}
	return us[0], nil
}

// UserByID returns one user; NotFound when absent.
func (s *Store) UserByID(ctx context.Context, id int64) (identity.User, error) {
	return s.oneUser(ctx, s.conn(ctx).Where("id = ?", id))
}

// UserByUsername returns the user with the (already lower-case) username.
func (s *Store) UserByUsername(ctx context.Context, username string) (identity.User, error) {
	return s.oneUser(ctx, s.conn(ctx).Where("username = ?", username))
}

// ListUsers returns a page of users ordered by id, and the total.
func (s *Store) ListUsers(ctx context.Context, f identity.UserFilter) ([]identity.User, int64, error) {
	where := func(q *gorm.DB) *gorm.DB {
		q = q.Model(&userRow{})
		if f.ID != 0 {
			q = q.Where("users.id = ?", f.ID)
		}
		if f.Role != "" {
			q = q.Where("users.role = ?", string(f.Role))
		}
		if f.DepartmentID != 0 {
			q = q.Where("users.scope_department_id = ?", f.DepartmentID)
		}
		if f.Active != nil {
			q = q.Where("users.active = ?", *f.Active)
		}
		if f.GridCode != "" {
			q = q.Where("EXISTS (SELECT 1 FROM user_grids g WHERE g.user_id = users.id AND g.grid_code = ?)", f.GridCode)
		}
		if f.Query != "" {
			like := idLikeContains(f.Query)
			q = q.Where(`(LOWER(users.username) LIKE ? ESCAPE '\' OR LOWER(users.display_name) LIKE ? ESCAPE '\')`, like, like)
		}
		if f.WithinPath != "" {
			// A user is inside a region subtree when their region, one of their grids, or their
			// department's region lies in it (regions.path is the materialized ancestor path).
			sub := idLikePrefix(f.WithinPath)
			q = q.Where(`(
				(users.scope_kind = 'region' AND EXISTS (SELECT 1 FROM regions r
					WHERE r.code = users.scope_region_code AND r.path LIKE ? ESCAPE '\'))
				OR (users.scope_kind = 'grids' AND EXISTS (SELECT 1 FROM user_grids g JOIN regions r ON r.code = g.grid_code
					WHERE g.user_id = users.id AND r.path LIKE ? ESCAPE '\'))
				OR (users.scope_kind = 'department' AND EXISTS (SELECT 1 FROM departments d JOIN regions r ON r.code = d.region_code
					WHERE d.id = users.scope_department_id AND r.path LIKE ? ESCAPE '\')))`, sub, sub, sub)
		}
		return q
	}
	var total int64
	if err := where(s.conn(ctx)).Count(&total).Error; err != nil {
		return nil, 0, s.translate(err, "count users")
	}
	var rows []userRow
	if err := where(s.conn(ctx)).Order("users.id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, s.translate(err, "list users")
	}
	users, err := s.usersFromRows(ctx, rows)
	return users, total, err
}

// UpdateUser loads the user under a row lock, applies fn and saves the user and its grids in
// one transaction. The id, username and creation time never change. A change that leaves no
// active admin is refused with Conflict.
func (s *Store) UpdateUser(ctx context.Context, id int64, fn func(*identity.User) error) (identity.User, error) {
	var out identity.User
	err := s.InTx(ctx, func(tx *Store) error {
		old, err := tx.oneUser(ctx, tx.forUpdate(tx.conn(ctx).Where("id = ?", id)))
		if err != nil {
			return err
		}
		u := old
		u.Scope.GridCodes = slices.Clone(old.Scope.GridCodes)
		if err := fn(&u); err != nil {
			return err
		}
		u.ID, u.Username, u.CreatedAt = old.ID, old.Username, old.CreatedAt
		row := userToRow(u)
		if err := tx.conn(ctx).Model(&userRow{ID: id}).
			Select("display_name", "phone", "password_hash", "role", "scope_kind", "scope_region_code",
				"scope_department_id", "worker_kind", "active", "updated_at", "password_changed_at").
			Updates(&row).Error; err != nil {
			return tx.translate(err, "update user")
		}
		if old.Scope.Kind != u.Scope.Kind || !slices.Equal(old.Scope.GridCodes, u.Scope.GridCodes) {
			if err := tx.setUserGrids(ctx, id, u.Scope); err != nil {
				return err
			}
		}
		wasAdmin := old.Role == identity.RoleAdmin && old.Active
		isAdmin := u.Role == identity.RoleAdmin && u.Active
		if wasAdmin && !isAdmin {
			var admins []int64
			q := tx.conn(ctx).Model(&userRow{}).Where("role = ? AND active = ?", string(identity.RoleAdmin), true)
			if err := tx.forUpdate(q).Pluck("id", &admins).Error; err != nil {
				return tx.translate(err, "count admins")
			}
			if len(admins) == 0 {
				return errs.E(errs.Conflict, "this is the last active admin: make another admin first")
			}
		}
		if u.Scope.Kind == identity.ScopeGrids {
			grids, err := tx.gridsOf(ctx, []int64{id})
			if err != nil {
				return err
			}
			u.Scope.GridCodes = grids[id]
		}
		out = u
		return nil
	})
	return out, err
}

// ---- helpers ----

func idNullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func idDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var idLikeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePattern matches text containing q (lower-cased), with LIKE's wildcards escaped.
func idLikeContains(q string) string { return "%" + idLikeEscaper.Replace(strings.ToLower(q)) + "%" }

// likePrefix matches text starting with p, with LIKE's wildcards escaped.
func idLikePrefix(p string) string { return idLikeEscaper.Replace(p) + "%" }
