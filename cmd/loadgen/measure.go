package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/worktime"
)

// scenario is one read the API makes, as the store query it runs. count adds the CountCases
// the inbox, problem list and export make.
type scenario struct {
	name  string
	q     casework.Query
	count bool
}

// scenarios are the reads of GET /cases, /cases.geojson, /me/tasks, /regions/{code}/problems
// and /cases/export, each for a caller whose scope makes it realistic.
func scenarios(ctx context.Context, s *store.Store, c *city, now time.Time) ([]scenario, error) {
	reach := func(user string) casework.Reach { return casework.ReachOf(c.users[user]) }
	all := reach("admin")
	page := func(r casework.Reach, f casework.Filter, o casework.Order) casework.Query {
		return casework.Query{Reach: r, Filter: f, Now: now, Order: o, Limit: casework.DefaultPageSize + 1}
	}
	yes := true
	district, street := c.paths["320613"], c.users["desk"].Scope.RegionPath
	handler := c.users["handler"].Scope.DepartmentID
	dayAgo, hourAgo, epoch := now.Add(-24*time.Hour), now.Add(-time.Hour), time.Unix(0, 0).UTC()
	sync := func(r casework.Reach, since time.Time) casework.Query {
		q := page(r, casework.Filter{}, casework.OrderUpdatedAsc)
		q.After, q.UpdatedBefore = &casework.Position{Time: &since}, now.Add(-casework.SyncSettle)
		return q
	}
	// A keyset page deep in the list: the 10,001st case by -updated_at.
	deep, err := s.ListCases(ctx, casework.Query{Reach: all, Now: now, Order: casework.OrderUpdatedDesc, Limit: 10_001})
	if err != nil {
		return nil, err
	}
	deepQ := page(all, casework.Filter{}, casework.OrderUpdatedDesc)
	if n := len(deep); n > 0 {
		last := deep[n-1]
		deepQ.After = &casework.Position{Time: &last.UpdatedAt, ID: last.ID}
	}
	g := c.grids[len(c.grids)/2]
	mid := casework.Box{MinLat: (g.minLat + g.maxLat) / 2, MinLng: (g.minLng + g.maxLng) / 2}
	smallBox := casework.Box{MinLat: mid.MinLat - 0.01, MaxLat: mid.MinLat + 0.01, MinLng: mid.MinLng - 0.01, MaxLng: mid.MinLng + 0.01}
	mapQ := func(r casework.Reach, b casework.Box) casework.Query {
		q := page(r, casework.Filter{BBox: &b}, casework.OrderUpdatedDesc)
		q.Limit = 5001
		return q
	}
	tasks := func(user string, t casework.Tasks) casework.Query {
		q := casework.Query{Reach: reach(user), Tasks: &t, Now: now, Order: casework.OrderUrgency, Limit: casework.DefaultTaskPageSize}
		if t.Overdue { // as casework.Service.Tasks: every case is red, the oldest deadline first
			q.Order = casework.OrderDeadlineAsc
		}
		return q
	}
	problems := func(user, path string) casework.Query {
		return casework.Query{Reach: reach(user), Filter: casework.Filter{RegionPath: path, OpenOnly: true}, Now: now,
			Order: casework.OrderUrgency, Limit: casework.DefaultPageSize + 1}
	}
	monthAgo := now.AddDate(0, -1, 0)
	out := []scenario{
		{name: "list, first page, admin (-updated_at)", q: page(all, casework.Filter{}, casework.OrderUpdatedDesc)},
		{name: "list, first page, street desk", q: page(reach("desk"), casework.Filter{}, casework.OrderUpdatedDesc)},
		{name: "list, first page, district centre", q: page(reach("center"), casework.Filter{}, casework.OrderUpdatedDesc)},
		{name: "list, first page, handler", q: page(reach("handler"), casework.Filter{}, casework.OrderUpdatedDesc)},
		{name: "list, first page, grid worker", q: page(reach("worker"), casework.Filter{}, casework.OrderUpdatedDesc)},
		{name: "list, page 201 by cursor, admin", q: deepQ},
		{name: "list, -created_at, admin", q: page(all, casework.Filter{}, casework.OrderCreatedDesc)},
		{name: "filter region=district, admin", q: page(all, casework.Filter{RegionPath: district}, casework.OrderUpdatedDesc)},
		{name: "filter region=street, admin", q: page(all, casework.Filter{RegionPath: street}, casework.OrderUpdatedDesc)},
		{name: "filter state=handling + department, admin", q: page(all, casework.Filter{States: []casework.State{casework.Handling}, DepartmentID: handler}, casework.OrderUpdatedDesc)},
		{name: "filter overdue=true, city supervisor", q: page(reach("supervisor"), casework.Filter{Overdue: &yes}, casework.OrderUpdatedDesc)},
		{name: "filter light=yellow, district centre", q: page(reach("center"), casework.Filter{Lights: []worktime.Light{worktime.Yellow}}, casework.OrderUpdatedDesc)},
		{name: "sort stage_deadline, open, street desk", q: page(reach("desk"), casework.Filter{OpenOnly: true}, casework.OrderDeadlineAsc)},
		{name: "filter category=E01 + created last month, admin", q: page(all, casework.Filter{Categories: []string{"E01"}, CreatedFrom: monthAgo}, casework.OrderUpdatedDesc)},
		{name: "q common text (垃圾), admin", q: page(all, casework.Filter{Text: "垃圾"}, casework.OrderUpdatedDesc)},
		{name: "q rare text (no match), admin", q: page(all, casework.Filter{Text: "无此内容"}, casework.OrderUpdatedDesc)},
		{name: "q rare text (no match), street desk", q: page(reach("desk"), casework.Filter{Text: "无此内容"}, casework.OrderUpdatedDesc)},
		{name: "q rare two-character text (no match), admin", q: page(all, casework.Filter{Text: "麒麟"}, casework.OrderUpdatedDesc)},
		{name: "delta sync since 1 day, grid worker", q: sync(reach("worker"), dayAgo)},
		{name: "delta sync from scratch, grid worker", q: sync(reach("worker"), epoch)},
		{name: "delta sync since 1 hour, handler", q: sync(reach("handler"), hourAgo)},
		{name: "delta sync since 1 hour, admin", q: sync(all, hourAgo)},
		{name: "me/tasks street desk (+count)", q: tasks("desk", casework.Tasks{DeskPaths: []string{street}}), count: true},
		{name: "me/tasks handler (+count)", q: tasks("handler", casework.Tasks{DepartmentID: handler}), count: true},
		{name: "me/tasks grid worker (+count)", q: tasks("worker", casework.Tasks{AssigneeUserID: c.users["worker"].UserID,
			CheckGridCodes: c.users["worker"].Scope.GridCodes}), count: true},
		{name: "me/tasks city supervisor (+count)", q: tasks("supervisor", casework.Tasks{Overdue: true}), count: true},
		{name: "geojson bbox 2x2 km, admin (5,001)", q: mapQ(all, smallBox)},
		{name: "geojson whole city, admin (5,001)", q: casework.Query{Reach: all, Filter: casework.Filter{WithPoint: true}, Now: now,
			Order: casework.OrderUpdatedDesc, Limit: 5001}},
		{name: "problems of a street (+count)", q: problems("desk", street), count: true},
		{name: "problems of a grid (+count)", q: problems("worker", c.paths[c.users["worker"].Scope.GridCodes[0]]), count: true},
		{name: "export count, district, last month", q: casework.Query{Reach: reach("center"), Filter: casework.Filter{CreatedFrom: monthAgo}, Now: now}, count: true},
	}
	return out, nil
}

func measure(ctx context.Context, s *store.Store, c *city, o options, stdout io.Writer) error {
	now := time.Now().UTC()
	scs, err := scenarios(ctx, s, c, now)
	if err != nil {
		return err
	}
	total, err := s.CountCases(ctx, casework.Query{Reach: casework.Reach{All: true}, Now: now})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s, %d cases, %d grids; %d runs each after a warm-up\n\n", s.Dialect(), total, len(c.grids), o.runs)
	fmt.Fprintln(stdout, "| query | rows | p50 ms | p95 ms |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|")
	for _, sc := range scs {
		op := func() (int, error) {
			if sc.q.Order == "" { // a bare count (the export's check)
				n, err := s.CountCases(ctx, sc.q)
				return int(n), err
			}
			cs, err := s.ListCases(ctx, sc.q)
			if err == nil && sc.count {
				_, err = s.CountCases(ctx, sc.q)
			}
			return len(cs), err
		}
		var rows int
		times := make([]time.Duration, 0, o.runs)
		for i := 0; i <= o.runs; i++ {
			start := time.Now()
			n, err := op()
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			if i > 0 { // the first run warms the caches
				times = append(times, time.Since(start))
			}
			rows = n
		}
		slices.Sort(times)
		fmt.Fprintf(stdout, "| %s | %d | %s | %s |\n", sc.name, rows, ms(pct(times, 50)), ms(pct(times, 95)))
	}
	if !o.explain {
		return nil
	}
	for _, sc := range scs {
		for _, count := range []bool{false, true} {
			if count && !sc.count {
				continue
			}
			q := sc.q
			if !count && q.Order == "" {
				continue
			}
			plan, err := s.ExplainCases(ctx, q, count)
			if err != nil {
				return fmt.Errorf("explain %s: %w", sc.name, err)
			}
			what := "list"
			if count {
				what = "count"
			}
			fmt.Fprintf(stdout, "\n### %s (%s)\n\n```\n%s```\n", sc.name, what, plan)
		}
	}
	return nil
}

// pct is the p-th percentile of sorted durations (nearest rank).
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted) + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
