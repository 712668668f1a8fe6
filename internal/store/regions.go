package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"gorm.io/gorm"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/region"
)

var _ region.Store = (*Store)(nil)

// ---- regions ----

type regionRow struct {
	ID         int64 `gorm:"primaryKey"`
	Code       string
	Name       string
	Level      string
	ParentCode *string
	Path       string
	Boundary   *string
	CoordSys   string
	MinLng     *float64
	MinLat     *float64
	MaxLng     *float64
	MaxLat     *float64
	CenterLng  *float64
	CenterLat  *float64
	ValidFrom  time.Time
	ValidTo    *time.Time
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt  time.Time `gorm:"autoUpdateTime:false"`
}

func (regionRow) TableName() string { return "regions" }

// regionColumns are the columns read for lists: everything but the boundary.
var regionColumns = []string{"id", "code", "name", "level", "parent_code", "path", "coord_sys", "min_lng", "min_lat",
	"max_lng", "max_lat", "center_lng", "center_lat", "valid_from", "valid_to", "created_at", "updated_at"}

func regionToRow(r *region.Region) (regionRow, error) {
	row := regionRow{
		ID: r.ID, Code: r.Code, Name: r.Name, Level: string(r.Level), ParentCode: regNullString(r.ParentCode),
		Path: r.Path, CoordSys: string(r.CoordSys), ValidFrom: utc(r.ValidFrom), ValidTo: utcPtr(r.ValidTo),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
	if row.CoordSys == "" {
		row.CoordSys = string(geo.WGS84)
	}
	if r.Boundary != nil {
		b, err := geo.MarshalBoundary(r.Boundary)
		if err != nil {
			return regionRow{}, fmt.Errorf("save region %s: %w", r.Code, err)
		}
		s := string(b)
		row.Boundary = &s
		bound := r.Boundary.Bound()
		row.MinLng, row.MinLat, row.MaxLng, row.MaxLat = &bound.Min[0], &bound.Min[1], &bound.Max[0], &bound.Max[1]
		if r.Center != nil {
			row.CenterLng, row.CenterLat = &r.Center.Lng, &r.Center.Lat
		}
	}
	return row, nil
}

func (row regionRow) domain() (region.Region, error) {
	r := region.Region{
		ID: row.ID, Code: row.Code, Name: row.Name, Level: region.Level(row.Level), ParentCode: regDeref(row.ParentCode),
		Path: row.Path, CoordSys: geo.CoordSys(row.CoordSys), ValidFrom: row.ValidFrom.UTC(),
		CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(),
	}
	if row.ValidTo != nil {
		t := row.ValidTo.UTC()
		r.ValidTo = &t
	}
	if row.MinLng != nil && row.MinLat != nil && row.MaxLng != nil && row.MaxLat != nil {
		r.Bound = &orb.Bound{Min: orb.Point{*row.MinLng, *row.MinLat}, Max: orb.Point{*row.MaxLng, *row.MaxLat}}
	}
	if row.CenterLng != nil && row.CenterLat != nil {
		r.Center = &geo.Point{Lat: *row.CenterLat, Lng: *row.CenterLng}
	}
	if row.Boundary != nil {
		g, err := geo.DecodeBoundary([]byte(*row.Boundary))
		if err != nil {
			return region.Region{}, fmt.Errorf("read region %s: %w", row.Code, err)
		}
		r.Boundary = g
	}
	return r, nil
}

func regionsFromRows(rows []regionRow) ([]region.Region, error) {
	out := make([]region.Region, len(rows))
	for i, row := range rows {
		r, err := row.domain()
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// subtreeRange turns a path prefix into a half-open byte range: every path that starts with
// prefix sorts at or after it and before the prefix with its last byte ("/") bumped to "0".
// Both engines answer it from the path index.
func subtreeRange(prefix string) (lo, hi string) {
	return prefix, prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
}

// RegionByCode returns one region with its boundary; NotFound when none.
func (s *Store) RegionByCode(ctx context.Context, code string) (region.Region, error) {
	var row regionRow
	if err := s.conn(ctx).Where("code = ?", code).Take(&row).Error; err != nil {
		return region.Region{}, s.translate(err, "read region")
	}
	return row.domain()
}

// RegionsByCodes returns the regions with these codes that exist, in code order.
func (s *Store) RegionsByCodes(ctx context.Context, codes []string, withBoundary bool) ([]region.Region, error) {
	var out []region.Region
	for chunk := range slices.Chunk(codes, 500) {
		q := s.conn(ctx).Where("code IN ?", chunk)
		if !withBoundary {
			q = q.Select(regionColumns)
		}
		var rows []regionRow
		if err := q.Find(&rows).Error; err != nil {
			return nil, s.translate(err, "read regions")
		}
		rs, err := regionsFromRows(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	slices.SortFunc(out, func(a, b region.Region) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// ListRegions returns the regions that match f, in code order.
func (s *Store) ListRegions(ctx context.Context, f region.Filter) ([]region.Region, error) {
	q := s.conn(ctx).Model(&regionRow{})
	if !f.WithBoundary {
		q = q.Select(regionColumns)
	}
	if f.HasParent {
		if f.Parent == "" {
			q = q.Where("parent_code IS NULL")
		} else {
			q = q.Where("parent_code = ?", f.Parent)
		}
	}
	if f.Under != "" {
		lo, hi := subtreeRange(f.Under)
		q = q.Where("path >= ? AND path < ?", lo, hi)
	}
	if len(f.Levels) > 0 {
		levels := make([]string, len(f.Levels))
		for i, l := range f.Levels {
			levels[i] = string(l)
		}
		q = q.Where("level IN ?", levels)
	}
	if f.NameContains != "" {
		q = q.Where(`name LIKE ? ESCAPE '\'`, "%"+regLikeEscape(f.NameContains)+"%")
	}
	if f.ValidAt != nil {
		at := utc(*f.ValidAt)
		q = q.Where("valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", at, at)
	}
	if f.After != "" {
		q = q.Where("code > ?", f.After)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []regionRow
	if err := q.Order("code").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list regions")
	}
	return regionsFromRows(rows)
}

func regLikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ScanRegions calls fn with every region and its boundary, a batch at a time.
func (s *Store) ScanRegions(ctx context.Context, fn func(region.Region) error) error {
	var rows []regionRow
	res := s.conn(ctx).Model(&regionRow{}).FindInBatches(&rows, 2000, func(_ *gorm.DB, _ int) error {
		for _, row := range rows {
			r, err := row.domain()
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	return s.translate(res.Error, "scan regions")
}

// SaveRegions inserts creates and saves updates in one transaction, bumping the "regions"
// change counter in it (see region.Store).
func (s *Store) SaveRegions(ctx context.Context, creates, updates []*region.Region, done func()) error {
	if done == nil {
		done = func() {}
	}
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Store) error {
		for batch := range slices.Chunk(creates, 200) {
			rows := make([]regionRow, len(batch))
			for i, r := range batch {
				r.CreatedAt, r.UpdatedAt = now, now
				row, err := regionToRow(r)
				if err != nil {
					return err
				}
				row.ID = 0
				rows[i] = row
			}
			if err := tx.conn(ctx).Create(&rows).Error; err != nil {
				return tx.translate(err, "create regions")
			}
			for i, r := range batch {
				r.ID = rows[i].ID
				done()
			}
		}
		for _, r := range updates {
			r.UpdatedAt = now
			if err := tx.saveRegion(ctx, r); err != nil {
				return err
			}
			done()
		}
		return tx.BumpCounter(ctx, region.CounterName)
	})
}

// UpdateRegion loads a region under a row lock, applies fn and saves it with the counter
// bump in one transaction (see region.Store).
func (s *Store) UpdateRegion(ctx context.Context, code string, fn func(*region.Region) error) (region.Region, error) {
	var out region.Region
	err := s.InTx(ctx, func(tx *Store) error {
		var row regionRow
		if err := tx.forUpdate(tx.conn(ctx).Where("code = ?", code)).Take(&row).Error; err != nil {
			return tx.translate(err, "read region")
		}
		r, err := row.domain()
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.UpdatedAt = time.Now().UTC()
		if err := tx.saveRegion(ctx, &r); err != nil {
			return err
		}
		out = r
		return tx.BumpCounter(ctx, region.CounterName)
	})
	if err != nil && errs.Is(err, errs.NotFound) {
		return region.Region{}, errs.NotFoundf("no region %s", code)
	}
	return out, err
}

// saveRegion writes the changeable columns of an existing region, and retires its subtree
// with it when it is retired: each descendant still valid then gets the same valid_to.
func (s *Store) saveRegion(ctx context.Context, r *region.Region) error {
	row, err := regionToRow(r)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&regionRow{}).Where("code = ?", r.Code).Updates(map[string]any{
		"name": row.Name, "boundary": row.Boundary, "coord_sys": row.CoordSys,
		"min_lng": row.MinLng, "min_lat": row.MinLat, "max_lng": row.MaxLng, "max_lat": row.MaxLat,
		"center_lng": row.CenterLng, "center_lat": row.CenterLat,
		"valid_from": row.ValidFrom, "valid_to": row.ValidTo, "updated_at": row.UpdatedAt,
	})
	if res.Error != nil {
		return s.translate(res.Error, "save region "+r.Code)
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("no region %s", r.Code)
	}
	if row.ValidTo != nil {
		lo, hi := subtreeRange(r.Path)
		err := s.conn(ctx).Model(&regionRow{}).
			Where("path > ? AND path < ? AND (valid_to IS NULL OR valid_to > ?)", lo, hi, *row.ValidTo).
			Updates(map[string]any{"valid_to": *row.ValidTo, "updated_at": row.UpdatedAt}).Error
		if err != nil {
			return s.translate(err, "retire the subtree of region "+r.Code)
		}
	}
	return nil
}

// ---- grid teams ----

type gridMemberRow struct {
	ID         int64 `gorm:"primaryKey"`
	GridCode   string
	UserID     *int64
	Name       string
	Phone      *string
	MemberType string
	RoleNote   *string
	Active     bool
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
}

func (gridMemberRow) TableName() string { return "grid_members" }

func (r gridMemberRow) domain() region.Member {
	m := region.Member{ID: r.ID, GridCode: r.GridCode, Name: r.Name, Phone: regDeref(r.Phone), Type: region.MemberType(r.MemberType),
		RoleNote: regDeref(r.RoleNote), Active: r.Active, CreatedAt: r.CreatedAt.UTC()}
	if r.UserID != nil {
		m.UserID = *r.UserID
	}
	return m
}

// GridMembers lists a grid's team, active members first, then in the order they joined.
func (s *Store) GridMembers(ctx context.Context, gridCode string) ([]region.Member, error) {
	var rows []gridMemberRow
	if err := s.conn(ctx).Where("grid_code = ?", gridCode).Order("active DESC, id").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list grid members")
	}
	out := make([]region.Member, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CreateGridMember inserts m and sets its ID and time; Conflict when the user is on the team
// already, Invalid when the grid or the user does not exist.
func (s *Store) CreateGridMember(ctx context.Context, m *region.Member) error {
	m.CreatedAt = time.Now().UTC()
	row := gridMemberRow{GridCode: m.GridCode, Name: m.Name, Phone: regNullString(m.Phone), MemberType: string(m.Type),
		RoleNote: regNullString(m.RoleNote), Active: m.Active, CreatedAt: m.CreatedAt}
	if m.UserID != 0 {
		row.UserID = &m.UserID
	}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return s.translate(err, "create grid member")
	}
	m.ID = row.ID
	return nil
}

// DeleteGridMember removes a member of the grid; NotFound when the grid has no such member.
func (s *Store) DeleteGridMember(ctx context.Context, gridCode string, id int64) error {
	res := s.conn(ctx).Where("grid_code = ? AND id = ?", gridCode, id).Delete(&gridMemberRow{})
	if res.Error != nil {
		return s.translate(res.Error, "delete grid member")
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("no member %d in grid %s", id, gridCode)
	}
	return nil
}

// ---- responsibility lists ----

type gridResponsibilityRow struct {
	ID           int64 `gorm:"primaryKey"`
	GridCode     string
	CategoryCode string
	DepartmentID *int64
	UserID       *int64
	Note         *string
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (gridResponsibilityRow) TableName() string { return "grid_responsibilities" }

func (r gridResponsibilityRow) domain() region.Responsibility {
	out := region.Responsibility{ID: r.ID, GridCode: r.GridCode, CategoryCode: r.CategoryCode, Note: regDeref(r.Note),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.DepartmentID != nil {
		out.DepartmentID = *r.DepartmentID
	}
	if r.UserID != nil {
		out.UserID = *r.UserID
	}
	return out
}

// GridResponsibilities lists a grid's responsibility list by category code.
func (s *Store) GridResponsibilities(ctx context.Context, gridCode string) ([]region.Responsibility, error) {
	var rows []gridResponsibilityRow
	if err := s.conn(ctx).Where("grid_code = ?", gridCode).Order("category_code").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list grid responsibilities")
	}
	out := make([]region.Responsibility, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ReplaceGridResponsibilities makes the grid's list exactly items in one transaction: rows
// of categories already listed are updated in place (keeping their creation time), new ones
// inserted, the rest deleted.
func (s *Store) ReplaceGridResponsibilities(ctx context.Context, gridCode string, items []region.Responsibility) ([]region.Responsibility, error) {
	now := time.Now().UTC()
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []gridResponsibilityRow
		if err := tx.forUpdate(tx.conn(ctx).Where("grid_code = ?", gridCode)).Find(&rows).Error; err != nil {
			return tx.translate(err, "read grid responsibilities")
		}
		existing := make(map[string]gridResponsibilityRow, len(rows))
		for _, r := range rows {
			existing[r.CategoryCode] = r
		}
		keep := map[string]bool{}
		for _, it := range items {
			keep[it.CategoryCode] = true
			row := gridResponsibilityRow{GridCode: gridCode, CategoryCode: it.CategoryCode, DepartmentID: regNullID(it.DepartmentID),
				UserID: regNullID(it.UserID), Note: regNullString(it.Note), CreatedAt: now, UpdatedAt: now}
			old, ok := existing[it.CategoryCode]
			if !ok {
				if err := tx.conn(ctx).Create(&row).Error; err != nil {
					return tx.translate(err, "create grid responsibility")
				}
				continue
			}
			if regEqualID(old.DepartmentID, row.DepartmentID) && regEqualID(old.UserID, row.UserID) && regDeref(old.Note) == it.Note {
				continue
			}
			err := tx.conn(ctx).Model(&gridResponsibilityRow{}).Where("id = ?", old.ID).Updates(map[string]any{
				"department_id": row.DepartmentID, "user_id": row.UserID, "note": row.Note, "updated_at": now,
			}).Error
			if err != nil {
				return tx.translate(err, "update grid responsibility")
			}
		}
		var gone []int64
		for _, r := range rows {
			if !keep[r.CategoryCode] {
				gone = append(gone, r.ID)
			}
		}
		if len(gone) > 0 {
			if err := tx.conn(ctx).Where("id IN ?", gone).Delete(&gridResponsibilityRow{}).Error; err != nil {
				return tx.translate(err, "delete grid responsibilities")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GridResponsibilities(ctx, gridCode)
}

// MissingPeople returns those of the user and department IDs that do not exist.
func (s *Store) MissingPeople(ctx context.Context, userIDs, departmentIDs []int64) (users, departments []int64, err error) {
	if users, err = s.regMissingIDs(ctx, "users", userIDs); err != nil {
		return nil, nil, err
	}
	if departments, err = s.regMissingIDs(ctx, "departments", departmentIDs); err != nil {
		return nil, nil, err
	}
	return users, departments, nil
}

func (s *Store) regMissingIDs(ctx context.Context, table string, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []int64
	if err := s.conn(ctx).Table(table).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
		return nil, s.translate(err, "check "+table)
	}
	var missing []int64
	for _, id := range ids {
		if !slices.Contains(found, id) && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

func regNullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func regDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func regNullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func regEqualID(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
