package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/stats"
)

// hasDeadline is the test the partial index case_events_handle_deadline (migration 00009) is
// built on: a query must repeat it word for word to use the index.
const hasDeadline = `e.data LIKE '%"handle_deadline"%'`

// deadlineExpr extracts an event's recorded handling deadline (RFC 3339 text) in the form the
// index case_events_handle_deadline holds.
func (s *Store) deadlineExpr() string {
	if s.dialect == Postgres {
		return `((e.data::jsonb ->> 'handle_deadline') COLLATE "C")`
	}
	return `json_extract(e.data, '$.handle_deadline')`
}

// ScanHistories streams the histories a statistics table needs (stats.Store): the cases with
// an event in [From, To) and those whose recorded handling deadline falls in [DeadlineFrom,
// DeadlineTo), narrowed by place, department or worker, each with its events before To in
// order. One query, read row by row: memory holds one case at a time.
func (s *Store) ScanHistories(ctx context.Context, sc stats.Scan, fn func(*stats.History) error) error {
	// The cases of the place (and department or worker) asked for: each candidate search
	// repeats the filter, so that a street's table reads the street's cases only (through the
	// path indexes) and the city's table reads the period's events without a join.
	var (
		where     []string
		whereArgs []any
	)
	if sc.RegionPath != "" {
		lo, hi := pathRange(sc.RegionPath)
		where = append(where, `((c.region_path >= ? AND c.region_path < ?) OR (c.region_path IS NULL AND c.desk_region_path >= ? AND c.desk_region_path < ?))`)
		whereArgs = append(whereArgs, lo, hi, lo, hi)
	}
	if sc.DepartmentID != 0 {
		where = append(where, `EXISTS (SELECT 1 FROM case_events d WHERE d.case_id = c.id AND d.target_department_id = ? AND d.created_at < ?)`)
		whereArgs = append(whereArgs, sc.DepartmentID, utc(sc.To))
	}
	if sc.WorkerID != 0 || len(sc.GridCodes) > 0 {
		conds := []string{`EXISTS (SELECT 1 FROM case_events w WHERE w.case_id = c.id AND w.actor_user_id = ? AND w.created_at < ?)`}
		whereArgs = append(whereArgs, sc.WorkerID, utc(sc.To))
		if len(sc.GridCodes) > 0 {
			conds = append(conds, `c.grid_code IN ?`)
			whereArgs = append(whereArgs, sc.GridCodes)
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	}
	var args []any
	search := func(cond string, condArgs ...any) string {
		args = append(args, condArgs...)
		if len(where) == 0 {
			return `SELECT e.case_id FROM case_events e WHERE ` + cond
		}
		args = append(args, whereArgs...)
		return `SELECT e.case_id FROM case_events e JOIN cases c ON c.id = e.case_id WHERE ` + cond + ` AND ` + strings.Join(where, " AND ")
	}
	// The candidates: the cases with an event in the period, and those whose recorded handling
	// deadline falls in it. Deadlines are compared as text, which is exact for the RFC 3339 UTC
	// form casework writes; a day either side keeps any other offset or precision in, and the
	// fold decides exactly.
	cand := search(`e.created_at >= ? AND e.created_at < ?`, utc(sc.From), utc(sc.To))
	if !sc.DeadlineFrom.IsZero() && sc.DeadlineTo.After(sc.DeadlineFrom) {
		dl := s.deadlineExpr()
		cand += ` UNION ALL ` + search(hasDeadline+` AND `+dl+` >= ? AND `+dl+` < ? AND e.created_at < ?`,
			sc.DeadlineFrom.Add(-24*time.Hour).UTC().Format(time.RFC3339), sc.DeadlineTo.Add(24*time.Hour).UTC().Format(time.RFC3339), utc(sc.To))
	}
	// The histories are read case by case from the sorted candidates through the (case_id,
	// seq) index, so that the work follows the period, not the whole log. SQLite keeps the
	// candidates' order only when they are materialized; PostgreSQL knows it when they are not
	// (and then sorts each case's few events instead of all of them).
	materialized := ""
	if s.dialect == SQLite {
		materialized = "MATERIALIZED "
	}
	q := `WITH cand AS ` + materialized + `(SELECT DISTINCT case_id FROM (` + cand + `) u ORDER BY case_id)
SELECT e.case_id, e.seq, e.action, e.from_state, e.to_state, e.stage, e.actor_user_id, e.actor_role,
	e.target_department_id, e.time_used_seconds, e.overdue, e.created_at,
	CASE WHEN e.action = 'evaluate' OR ` + hasDeadline + ` THEN e.data END,
	c.region_path, c.grid_code, c.category_code, c.source
FROM cand JOIN cases c ON c.id = cand.case_id JOIN case_events e ON e.case_id = cand.case_id
WHERE e.created_at < ?
ORDER BY cand.case_id, e.seq`
	args = append(args, utc(sc.To))
	if s.dialect == Postgres {
		// JIT compiling costs more than it saves on one pass over the period's events (half a
		// second at 100,000 cases), so this transaction does without it.
		return s.InTx(ctx, func(tx *Store) error {
			if err := tx.conn(ctx).Exec(`SET LOCAL jit = off`).Error; err != nil {
				return tx.translate(err, "scan case histories")
			}
			return tx.scanHistories(ctx, q, args, fn)
		})
	}
	return s.scanHistories(ctx, q, args, fn)
}

func (s *Store) scanHistories(ctx context.Context, q string, args []any, fn func(*stats.History) error) error {
	rows, err := s.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return s.translate(err, "scan case histories")
	}
	defer rows.Close()
	var (
		h                    stats.History
		caseID               int64
		seq                  int
		action, to, role     string
		source               string
		from, stage          sql.NullString
		actor, dept          sql.NullInt64
		used                 int64
		overdue              bool
		at                   anyTime
		data                 sql.NullString
		path, grid, category sql.NullString
	)
	flush := func() error {
		if h.CaseID == 0 {
			return nil
		}
		return fn(&h)
	}
	for rows.Next() {
		if err := rows.Scan(&caseID, &seq, &action, &from, &to, &stage, &actor, &role, &dept, &used, &overdue, &at,
			&data, &path, &grid, &category, &source); err != nil {
			return s.translate(err, "scan case histories")
		}
		if caseID != h.CaseID {
			if err := flush(); err != nil {
				return err
			}
			h = stats.History{CaseID: caseID, RegionPath: path.String, GridCode: grid.String, CategoryCode: category.String,
				Source: casework.Source(source), Events: h.Events[:0]}
		}
		e := stats.Event{Seq: seq, Action: casework.Action(action), From: casework.State(from.String), To: casework.State(to),
			Stage: casework.Stage(stage.String), ActorUserID: actor.Int64, ActorRole: identity.Role(role),
			DepartmentID: dept.Int64, TimeUsed: used, Overdue: overdue, At: at.t}
		if data.Valid && data.String != "" {
			if err := decodeStatsData(data.String, &e); err != nil {
				return fmt.Errorf("case %d event %d: %w", caseID, seq, err)
			}
		}
		h.Events = append(h.Events, e)
	}
	if err := rows.Err(); err != nil {
		return s.translate(err, "scan case histories")
	}
	return flush()
}

// decodeStatsData reads the extras statistics use from an event's data.
func decodeStatsData(raw string, e *stats.Event) error {
	var d struct {
		HandleDeadline string `json:"handle_deadline"`
		HandleLimit    string `json:"handle_limit"`
		Satisfaction   int    `json:"satisfaction"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return fmt.Errorf("decode event data: %w", err)
	}
	if d.HandleDeadline != "" {
		if t, err := time.Parse(time.RFC3339Nano, d.HandleDeadline); err == nil {
			t = t.UTC()
			e.HandleDeadline = &t
		}
	}
	e.HandleLimit, e.Satisfaction = d.HandleLimit, d.Satisfaction
	return nil
}

// anyTime scans a timestamp from either engine: PostgreSQL gives a time, SQLite may give the
// fixed-width text it stores.
type anyTime struct{ t time.Time }

func (a *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		a.t = x.UTC()
	case string:
		return a.parse(x)
	case []byte:
		return a.parse(string(x))
	default:
		return fmt.Errorf("cannot read %T as a time", v)
	}
	return nil
}

func (a *anyTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("read time %q: %w", s, err)
	}
	a.t = t.UTC()
	return nil
}

// GridWorkers lists grid workers with their grids in a subtree ("" for all), or one user.
func (s *Store) GridWorkers(ctx context.Context, regionPath string, userID int64) ([]stats.Worker, error) {
	q := `SELECT u.id, u.display_name, u.active, g.grid_code FROM users u JOIN user_grids g ON g.user_id = u.id`
	var args []any
	if regionPath != "" && userID == 0 {
		lo, hi := pathRange(regionPath)
		q += ` JOIN regions r ON r.code = g.grid_code AND r.path >= ? AND r.path < ?`
		args = append(args, lo, hi)
	}
	q += ` WHERE u.role = 'grid_worker'`
	if userID != 0 {
		q += ` AND u.id = ?`
		args = append(args, userID)
	}
	var rows []struct {
		ID          int64
		DisplayName string
		Active      bool
		GridCode    string
	}
	if err := s.conn(ctx).Raw(q+` ORDER BY u.id, g.grid_code`, args...).Scan(&rows).Error; err != nil {
		return nil, s.translate(err, "list grid workers")
	}
	var out []stats.Worker
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			out = append(out, stats.Worker{ID: r.ID, Name: r.DisplayName, Active: r.Active})
		}
		w := &out[len(out)-1]
		w.Grids = append(w.Grids, r.GridCode)
	}
	return out, nil
}

// statsChunk bounds the IN lists of the naming queries.
const statsChunk = 500

func chunks[T any](xs []T, fn func([]T) error) error {
	for len(xs) > 0 {
		n := min(len(xs), statsChunk)
		if err := fn(xs[:n]); err != nil {
			return err
		}
		xs = xs[n:]
	}
	return nil
}

type statsRegionRow struct {
	Code       string
	Name       string
	Level      string
	ParentCode *string
	Path       string
}

func (r statsRegionRow) ref() region.Ref {
	return region.Ref{Code: r.Code, Name: r.Name, Level: region.Level(r.Level), ParentCode: caseDeref(r.ParentCode), Path: r.Path}
}

// RegionRefs returns the regions with these codes, retired ones too.
func (s *Store) RegionRefs(ctx context.Context, codes []string) ([]region.Ref, error) {
	var out []region.Ref
	err := chunks(codes, func(part []string) error {
		var rows []statsRegionRow
		if err := s.conn(ctx).Raw(`SELECT code, name, level, parent_code, path FROM regions WHERE code IN ?`, part).Scan(&rows).Error; err != nil {
			return s.translate(err, "read regions")
		}
		for _, r := range rows {
			out = append(out, r.ref())
		}
		return nil
	})
	return out, err
}

// RegionsAt lists the regions of a level in a subtree that were in force at some time in
// [from, to), in code order.
func (s *Store) RegionsAt(ctx context.Context, path string, level region.Level, from, to time.Time) ([]region.Ref, error) {
	q := `SELECT code, name, level, parent_code, path FROM regions WHERE level = ? AND valid_from < ? AND (valid_to IS NULL OR valid_to > ?)`
	args := []any{string(level), utc(to), utc(from)}
	if path != "" {
		lo, hi := pathRange(path)
		q += ` AND path >= ? AND path < ?`
		args = append(args, lo, hi)
	}
	var rows []statsRegionRow
	if err := s.conn(ctx).Raw(q+` ORDER BY code`, args...).Scan(&rows).Error; err != nil {
		return nil, s.translate(err, "list regions")
	}
	out := make([]region.Ref, len(rows))
	for i, r := range rows {
		out[i] = r.ref()
	}
	return out, nil
}

// DepartmentNames names departments by id.
func (s *Store) DepartmentNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	err := chunks(ids, func(part []int64) error {
		var rows []struct {
			ID   int64
			Name string
		}
		if err := s.conn(ctx).Raw(`SELECT id, name FROM departments WHERE id IN ?`, part).Scan(&rows).Error; err != nil {
			return s.translate(err, "name departments")
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
		return nil
	})
	return out, err
}

// CategoryNames names small classes by code, with their 大类.
func (s *Store) CategoryNames(ctx context.Context, codes []string) (map[string]stats.CategoryName, error) {
	out := map[string]stats.CategoryName{}
	err := chunks(codes, func(part []string) error {
		var rows []struct {
			Code      string
			Name      string
			MajorName string
		}
		if err := s.conn(ctx).Raw(`SELECT code, name, major_name FROM categories WHERE code IN ?`, part).Scan(&rows).Error; err != nil {
			return s.translate(err, "name categories")
		}
		for _, r := range rows {
			out[r.Code] = stats.CategoryName{Name: r.Name, MajorName: r.MajorName}
		}
		return nil
	})
	return out, err
}

// UserNames names users by id.
func (s *Store) UserNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	err := chunks(ids, func(part []int64) error {
		var rows []struct {
			ID          int64
			DisplayName string
		}
		if err := s.conn(ctx).Raw(`SELECT id, display_name FROM users WHERE id IN ?`, part).Scan(&rows).Error; err != nil {
			return s.translate(err, "name users")
		}
		for _, r := range rows {
			out[r.ID] = r.DisplayName
		}
		return nil
	})
	return out, err
}
