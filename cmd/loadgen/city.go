package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
)

// grid is a demo grid with its bounding box.
type grid struct {
	code, path                     string
	minLat, maxLat, minLng, maxLng float64
}

// streetPath is the path of the street a grid is in: /city/district/street/.
func (g grid) streetPath() string {
	parts := strings.SplitAfterN(g.path, "/", 5)
	if len(parts) < 4 {
		return g.path
	}
	return strings.Join(parts[:4], "")
}

type categoryInfo struct {
	code, deptCode string
	check          bool
	limitUnit      string
	limitValue     int
}

// city is what the seed made: grids, departments, categories and the demo users as callers.
type city struct {
	grids      []grid
	deptIDs    map[string]int64
	depts      []int64
	categories []categoryInfo
	users      map[string]identity.Principal // by username
	paths      map[string]string             // region code → path
}

func readCity(ctx context.Context, s *store.Store) (*city, error) {
	db, err := s.SQLDB()
	if err != nil {
		return nil, err
	}
	c := &city{deptIDs: map[string]int64{}, users: map[string]identity.Principal{}, paths: map[string]string{}}
	err = query(ctx, db, `SELECT code, path, level, COALESCE(min_lat, 0), COALESCE(max_lat, 0), COALESCE(min_lng, 0), COALESCE(max_lng, 0)
		FROM regions ORDER BY path`, func(r *sql.Rows) error {
		var g grid
		var level string
		if err := r.Scan(&g.code, &g.path, &level, &g.minLat, &g.maxLat, &g.minLng, &g.maxLng); err != nil {
			return err
		}
		c.paths[g.code] = g.path
		if level == "grid" {
			c.grids = append(c.grids, g)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read grids: %w", err)
	}
	err = query(ctx, db, `SELECT id, code FROM departments ORDER BY id`, func(r *sql.Rows) error {
		var id int64
		var code string
		if err := r.Scan(&id, &code); err != nil {
			return err
		}
		c.deptIDs[code], c.depts = id, append(c.depts, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read departments: %w", err)
	}
	err = query(ctx, db, `SELECT code, COALESCE(default_department_code, ''), check_required, normal_limit_unit, normal_limit_value
		FROM categories ORDER BY code`, func(r *sql.Rows) error {
		var k categoryInfo
		if err := r.Scan(&k.code, &k.deptCode, &k.check, &k.limitUnit, &k.limitValue); err != nil {
			return err
		}
		c.categories = append(c.categories, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read categories: %w", err)
	}
	grids := map[int64][]string{}
	if err := query(ctx, db, `SELECT user_id, grid_code FROM user_grids`, func(r *sql.Rows) error {
		var id int64
		var code string
		if err := r.Scan(&id, &code); err != nil {
			return err
		}
		grids[id] = append(grids[id], code)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read user grids: %w", err)
	}
	err = query(ctx, db, `SELECT id, username, role, scope_kind, COALESCE(scope_region_code, ''), COALESCE(scope_department_id, 0) FROM users`,
		func(r *sql.Rows) error {
			var p identity.Principal
			if err := r.Scan(&p.UserID, &p.Username, &p.Role, &p.Scope.Kind, &p.Scope.RegionCode, &p.Scope.DepartmentID); err != nil {
				return err
			}
			p.Scope.RegionPath = c.paths[p.Scope.RegionCode]
			p.Scope.GridCodes = grids[p.UserID]
			c.users[p.Username] = p
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for _, u := range []string{"admin", "desk", "center", "handler", "supervisor", "worker"} {
		if _, ok := c.users[u]; !ok {
			return nil, fmt.Errorf("the demo user %s is missing", u)
		}
	}
	if len(c.grids) == 0 || len(c.categories) == 0 {
		return nil, fmt.Errorf("the demo city has %d grids and %d categories", len(c.grids), len(c.categories))
	}
	return c, nil
}

func query(ctx context.Context, db *sql.DB, q string, each func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
