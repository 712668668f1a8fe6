package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Case lists (casework.ListStore): one query builder for lists, delta sync, inboxes, problem
// lists, map points and exports. Every query starts from scopeCases, the one data-scope
// filter, and pages by keyset on (sort key, id): no OFFSET, so page 1000 costs what page 1
// costs and a case inserted between two pages neither shifts nor repeats the others.

// ListCases returns at most q.Limit cases of q, in q.Order after q.After.
func (s *Store) ListCases(ctx context.Context, q casework.Query) ([]casework.Case, error) {
	var rows []caseRow
	if err := s.listQuery(ctx, q).Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list cases")
	}
	out := make([]casework.Case, len(rows))
	ptrs := make([]*casework.Case, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		ptrs[i] = &out[i]
	}
	if err := s.loadCoHandlers(ctx, ptrs); err != nil {
		return nil, err
	}
	return out, nil
}

// CountCases counts the cases of q, whatever its page.
func (s *Store) CountCases(ctx context.Context, q casework.Query) (int64, error) {
	var n int64
	if err := s.filteredCases(ctx, q).Count(&n).Error; err != nil {
		return 0, s.translate(err, "count cases")
	}
	return n, nil
}

// ExplainCases returns the database's plan for ListCases(q), or CountCases(q) when count is
// set: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (the query runs), EXPLAIN QUERY PLAN on
// SQLite. cmd/loadgen prints it.
func (s *Store) ExplainCases(ctx context.Context, q casework.Query, count bool) (string, error) {
	var (
		rows []caseRow
		n    int64
		stmt *gorm.Statement
	)
	if count {
		stmt = s.filteredCases(ctx, q).Session(&gorm.Session{DryRun: true}).Count(&n).Statement
	} else {
		stmt = s.listQuery(ctx, q).Session(&gorm.Session{DryRun: true}).Find(&rows).Statement
	}
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		prefix = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	res, err := sqlDB.QueryContext(ctx, prefix+stmt.SQL.String(), stmt.Vars...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer res.Close()
	cols, err := res.Columns()
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	var b strings.Builder
	for res.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		if s.dialect == Postgres {
			fmt.Fprintf(&b, "%v\n", vals[0])
		} else { // id, parent, notused, detail
			fmt.Fprintf(&b, "%v %v %v\n", vals[0], vals[1], vals[3])
		}
	}
	return b.String(), res.Err()
}

// listQuery is filteredCases with the order, the keyset position and the limit.
func (s *Store) listQuery(ctx context.Context, q casework.Query) *gorm.DB {
	db := s.filteredCases(ctx, q)
	db = s.orderCases(db, q)
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	return db
}

// filteredCases selects the cases of q that its reach covers.
func (s *Store) filteredCases(ctx context.Context, q casework.Query) *gorm.DB {
	db := s.scopeCases(s.conn(ctx).Model(&caseRow{}), q.Reach)
	f := q.Filter
	open := stateNames(casework.OpenStates())
	if len(f.States) > 0 {
		db = db.Where("cases.state IN ?", stateNames(f.States))
	}
	if f.OpenOnly {
		db = db.Where("cases.state IN ?", open)
	}
	if len(f.Categories) > 0 {
		var (
			conds []string
			args  []any
		)
		for _, c := range f.Categories {
			if len(c) == 5 {
				conds, args = append(conds, "cases.category_code = ?"), append(args, c)
			} else { // a 大类 or a type: validated as [CE][0-9]{0,2}, no wildcard in it
				conds, args = append(conds, "cases.category_code LIKE ?"), append(args, c+"%")
			}
		}
		db = db.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	if f.RegionPath != "" {
		lo, hi := pathRange(f.RegionPath)
		db = db.Where(`((cases.region_path >= ? AND cases.region_path < ?)
			OR (cases.region_path IS NULL AND cases.desk_region_path >= ? AND cases.desk_region_path < ?))`, lo, hi, lo, hi)
	}
	if len(f.GridCodes) > 0 {
		db = db.Where("cases.grid_code IN ?", f.GridCodes)
	}
	if f.DepartmentID != 0 {
		// Two indexable branches (SQLite unions them, PostgreSQL hashes the co-handlers once).
		db = db.Where(`(cases.lead_department_id = ?
			OR cases.id IN (SELECT h.case_id FROM case_co_handlers h WHERE h.department_id = ? AND h.active = ?))`,
			f.DepartmentID, f.DepartmentID, true)
	}
	if f.AssigneeUserID != 0 {
		db = db.Where("cases.assignee_user_id = ?", f.AssigneeUserID)
	}
	if f.ReporterUserID != 0 {
		db = db.Where("cases.reporter_user_id = ?", f.ReporterUserID)
	}
	if len(f.Sources) > 0 {
		src := make([]string, len(f.Sources))
		for i, v := range f.Sources {
			src[i] = string(v)
		}
		db = db.Where("cases.source IN ?", src)
	}
	if f.Overdue != nil {
		if *f.Overdue {
			db = db.Where(redSQL, utc(q.Now)) // only an open case has a deadline
		} else {
			db = db.Where("cases.state IN ? AND "+notRedSQL, open, utc(q.Now))
		}
	}
	if len(f.Lights) > 0 {
		var (
			conds []string
			args  []any
		)
		for _, l := range f.Lights {
			switch l {
			case worktime.Red:
				conds, args = append(conds, redSQL), append(args, utc(q.Now))
			case worktime.Yellow:
				conds, args = append(conds, yellowSQL), append(args, utc(q.Now), utc(q.Now))
			case worktime.Green:
				conds, args = append(conds, greenSQL), append(args, utc(q.Now), utc(q.Now))
			}
		}
		db = db.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	db = timeRange(db, "cases.created_at", f.CreatedFrom, f.CreatedTo)
	db = timeRange(db, "cases.updated_at", f.UpdatedFrom, f.UpdatedTo)
	if f.Text != "" {
		like := "LIKE" // SQLite's LIKE ignores ASCII case already
		if s.dialect == Postgres {
			like = "ILIKE"
		}
		db = db.Where(textSQL+" "+like+` ? ESCAPE '\'`, "%"+escapeLike(f.Text)+"%")
	}
	if f.WithPoint {
		db = db.Where("cases.lat IS NOT NULL")
	}
	if b := f.BBox; b != nil {
		db = db.Where("cases.lat BETWEEN ? AND ? AND cases.lng BETWEEN ? AND ?", b.MinLat, b.MaxLat, b.MinLng, b.MaxLng)
	}
	if !q.UpdatedBefore.IsZero() {
		db = db.Where("cases.updated_at < ?", utc(q.UpdatedBefore))
	}
	if q.Tasks != nil {
		db = s.tasks(db, q.Tasks, q.Now)
	}
	return db
}

// The traffic light in SQL, with now as the parameter(s); casework.LightAt is the same rule in
// Go. No clock runs without a deadline: no light. Only a running stage has one (entering stage
// none clears it: casework's enterStage), so the closed, rejected, cancelled and suspended
// cases drop out of every light without a state condition, which would only spoil the
// planner's row estimates (state and stage are correlated; it multiplies them).
const (
	redSQL    = "(cases.stage_deadline < ?)"
	notRedSQL = "(cases.stage_deadline IS NULL OR cases.stage_deadline >= ?)"
	yellowSQL = "(cases.stage_deadline >= ? AND cases.stage_warn_at <= ?)"
	greenSQL  = "(cases.stage_deadline >= ? AND (cases.stage_warn_at IS NULL OR cases.stage_warn_at > ?))"
	// rankSQL orders by light: 0 red, 1 yellow, 2 green, 3 none (casework.OrderUrgency).
	rankSQL = `(CASE WHEN cases.stage_deadline IS NULL THEN 3
		WHEN cases.stage_deadline < ? THEN 0 WHEN cases.stage_warn_at <= ? THEN 1 ELSE 2 END)`
)

// textSQL is what the free-text filter searches: the description, the address and the
// number in one string, which PostgreSQL's trigram index cases_text_trgm (migration 00007)
// serves for ILIKE '%…%' with three characters or more.
const textSQL = "(cases.description || ' ' || COALESCE(cases.address, '') || ' ' || cases.number)"

// tasks keeps the cases of an inbox: those any of its clauses selects.
func (s *Store) tasks(db *gorm.DB, t *casework.Tasks, now time.Time) *gorm.DB {
	var (
		conds []string
		args  []any
	)
	// checkRequired: the case's category requires an on-site check (no category: it does).
	const checkRequired = "(cases.category_code IS NULL OR cases.category_code IN (SELECT code FROM categories WHERE check_required = ?))"
	if t.AssigneeUserID != 0 {
		conds = append(conds, "(cases.assignee_user_id = ? AND cases.state IN ?)")
		args = append(args, t.AssigneeUserID, []string{string(casework.Verifying), string(casework.Handled)})
	}
	if len(t.CheckGridCodes) > 0 {
		conds = append(conds, "(cases.grid_code IN ? AND cases.state = ? AND cases.assignee_user_id IS NULL AND "+checkRequired+")")
		args = append(args, t.CheckGridCodes, string(casework.Handled), true)
	}
	if t.DepartmentID != 0 {
		// An IN list of ids rather than "lead = ? OR EXISTS (…)": alone in the WHERE clause it
		// becomes a semi-join on the (lead_department_id, state) index and the co-handler rows,
		// instead of a pass over every dispatched and handling case in the city.
		working := []string{string(casework.Dispatched), string(casework.Handling)}
		conds = append(conds, `(cases.state IN ? AND cases.id IN (
			SELECT w.id FROM cases w WHERE w.lead_department_id = ? AND w.state IN ?
			UNION ALL SELECT h.case_id FROM case_co_handlers h WHERE h.department_id = ? AND h.active = ?))`)
		args = append(args, working, t.DepartmentID, working, t.DepartmentID, true)
	}
	if len(t.DeskPaths) > 0 {
		conds = append(conds, `(cases.desk_region_path IN ? AND (cases.state IN ?
			OR (cases.state = ? AND (cases.assignee_user_id IS NULL OR NOT `+checkRequired+`))))`)
		args = append(args, t.DeskPaths, []string{string(casework.Reported), string(casework.Filed), string(casework.Checked)},
			string(casework.Handled), true)
	}
	if t.Overdue {
		conds = append(conds, redSQL)
		args = append(args, utc(now))
	}
	if len(conds) == 0 {
		return db.Where("1 = 0")
	}
	return db.Where("("+strings.Join(conds, " OR ")+")", args...)
}

func timeRange(db *gorm.DB, col string, from, to time.Time) *gorm.DB {
	if !from.IsZero() {
		db = db.Where(col+" >= ?", utc(from))
	}
	if !to.IsZero() {
		db = db.Where(col+" < ?", utc(to))
	}
	return db
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orderCases sorts by q.Order, ending with the id, and starts after q.After.
func (s *Store) orderCases(db *gorm.DB, q casework.Query) *gorm.DB {
	now := utc(q.Now)
	switch q.Order {
	case casework.OrderUpdatedAsc, casework.OrderCreatedAsc, casework.OrderUpdatedDesc, casework.OrderCreatedDesc:
		col, dir, op := "cases.updated_at", "ASC", ">"
		if q.Order == casework.OrderCreatedAsc || q.Order == casework.OrderCreatedDesc {
			col = "cases.created_at"
		}
		if q.Order == casework.OrderUpdatedDesc || q.Order == casework.OrderCreatedDesc {
			dir, op = "DESC", "<"
		}
		if a := q.After; a != nil && a.Time != nil {
			// A row value: both engines seek the (key, id) index to it.
			db = db.Where(fmt.Sprintf("(%s, cases.id) %s (?, ?)", col, op), utc(*a.Time), a.ID)
		}
		return db.Order(fmt.Sprintf("%[1]s %[2]s, cases.id %[2]s", col, dir))

	case casework.OrderDeadlineAsc, casework.OrderDeadlineDesc:
		dir, op := "ASC", ">"
		if q.Order == casework.OrderDeadlineDesc {
			dir, op = "DESC", "<"
		}
		if q.After != nil {
			db = db.Where(afterNullable("cases.stage_deadline", op, q.After))
		}
		return db.Order(fmt.Sprintf("cases.stage_deadline %[1]s NULLS LAST, cases.id %[1]s", dir))

	case casework.OrderUrgency:
		if a := q.After; a != nil {
			inner := afterNullable("cases.stage_deadline", ">", a)
			db = db.Where(clause.Expr{SQL: "(" + rankSQL + " > ? OR (" + rankSQL + " = ? AND ?))",
				Vars: []any{now, now, a.Rank, now, now, a.Rank, inner}})
		}
		return db.Order(clause.OrderBy{Expression: clause.Expr{
			SQL:                rankSQL + " ASC, cases.stage_deadline ASC NULLS LAST, cases.id ASC",
			Vars:               []any{now, now},
			WithoutParentheses: true,
		}})
	}
	return db.Order("cases.updated_at DESC, cases.id DESC")
}

// afterNullable is the keyset condition "after a" on a nullable key sorted with NULLS LAST
// (op ">" ascending, "<" descending), then the id in the same direction.
func afterNullable(col, op string, a *casework.Position) clause.Expr {
	if a.Time == nil {
		return clause.Expr{SQL: fmt.Sprintf("(%s IS NULL AND cases.id %s ?)", col, op), Vars: []any{a.ID}}
	}
	t := utc(*a.Time)
	return clause.Expr{SQL: fmt.Sprintf("(%[1]s %[2]s ? OR (%[1]s = ? AND cases.id %[2]s ?) OR %[1]s IS NULL)", col, op),
		Vars: []any{t, t, a.ID}}
}
