package stats_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/stats"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// BenchmarkTable computes March's tables over a city of 2,000 grids with 100,000 cases
// (GRIDCASE_BENCH_CASES) reported from 25 February to the end of March and two months of older
// history before them (GRIDCASE_BENCH_HISTORY months of as many cases), each case with its
// whole log (about 7.5 events: returns, reworks, self-handled, rejected and still-open cases
// included). Loading is not timed.
//
//	go test ./internal/stats -run '^$' -bench Table -benchtime 5x
func BenchmarkTable(b *testing.B) {
	n, history := 100_000, 2
	if v, err := strconv.Atoi(os.Getenv("GRIDCASE_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("GRIDCASE_BENCH_HISTORY")); err == nil && v >= 0 {
		history = v
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			if d == store.Postgres {
				if err := s.Migrate(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			city := loadCity(b, s, n, history)
			svc := stats.New(s, nil, stats.Config{})
			svc.SetClock(func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) })
			admin := identity.Principal{UserID: 1, Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}
			street := identity.Principal{UserID: 2, Role: identity.RoleSupervisor,
				Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: city.street, RegionPath: city.streetPath}}
			for _, tc := range []struct {
				name string
				p    identity.Principal
				q    stats.Query
			}{
				{"city by district", admin, stats.Query{Grouping: stats.ByRegion}},
				{"city by department", admin, stats.Query{Grouping: stats.ByDepartment}},
				{"city by grid worker", admin, stats.Query{Grouping: stats.ByWorker}},
				{"city by grid", admin, stats.Query{Grouping: stats.ByGrid}},
				{"one street by community", street, stats.Query{Grouping: stats.ByRegion}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					tc.q.From, tc.q.To = "2026-03-01", "2026-03-31"
					var t stats.Table
					for b.Loop() {
						var err error
						if t, err = svc.Table(context.Background(), tc.p, tc.q); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(t.Total.Reported), "cases_reported")
					b.ReportMetric(float64(len(t.Rows)), "rows")
				})
			}
		})
	}
}

type benchCity struct {
	street, streetPath string
}

// loadCity writes regions, departments, grid workers and n cases with their events straight
// into the tables (the workflow would take hours to play them).
func loadCity(b *testing.B, s *store.Store, n, history int) benchCity {
	b.Helper()
	ctx := context.Background()
	db, err := s.SQLDB()
	if err != nil {
		b.Fatal(err)
	}
	pg := s.Dialect() == store.Postgres
	ins := newInserter(b, db, pg)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	var regions []*region.Region
	add := func(code, name string, lv region.Level, parent *region.Region) *region.Region {
		r := &region.Region{Code: code, Name: name, Level: lv, Path: "/" + code + "/", ValidFrom: start}
		if parent != nil {
			r.ParentCode, r.Path = parent.Code, parent.Path+code+"/"
		}
		regions = append(regions, r)
		return r
	}
	var grids []*region.Region
	cityR := add("320600", "南通市", region.LevelCity, nil)
	for d := 1; d <= 4; d++ {
		dist := add(fmt.Sprintf("3206%02d", d*10), fmt.Sprintf("区%d", d), region.LevelDistrict, cityR)
		for st := 1; st <= 10; st++ {
			street := add(fmt.Sprintf("%s%03d", dist.Code, st), fmt.Sprintf("街道%d-%d", d, st), region.LevelStreet, dist)
			for c := 1; c <= 5; c++ {
				comm := add(fmt.Sprintf("%s%03d", street.Code, c), "社区", region.LevelCommunity, street)
				for g := 1; g <= 10; g++ {
					grids = append(grids, add(fmt.Sprintf("%s%03d", comm.Code, g), "网格", region.LevelGrid, comm))
				}
			}
		}
	}
	if err := s.SaveRegions(ctx, regions, nil, nil); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 10; i++ {
		ins.row("departments", []string{"id", "code", "name", "active", "created_at", "updated_at"}, int64(i), fmt.Sprintf("d%d", i), fmt.Sprintf("部门%d", i), true, now, now)
	}
	ins.flush()
	userCols := []string{"id", "username", "display_name", "password_hash", "role", "scope_kind", "active", "created_at", "updated_at", "password_changed_at"}
	ins.row("users", userCols, int64(7), "desk", "受理员", "x", "dispatcher", "all", true, now, now, now)
	ins.row("users", userCols, int64(8), "handler", "处置员", "x", "handler", "all", true, now, now, now)
	for i := range grids {
		id := int64(100 + i)
		ins.row("users", userCols, id, fmt.Sprintf("w%d", i), fmt.Sprintf("网格员%d", i), "x", "grid_worker", "grids", true, now, now, now)
	}
	ins.flush()
	for i, g := range grids {
		ins.row("user_grids", []string{"user_id", "grid_code"}, int64(100+i), g.Code)
	}
	ins.flush()

	rng := rand.New(rand.NewPCG(1, 2))
	// n cases from three days before March to its end, and history months × n before them.
	end := time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 2, 25, 16, 0, 0, 0, time.UTC)
	older := recent.AddDate(0, -history, 0)
	caseCols := []string{"id", "number", "state", "urgency", "description", "grid_code", "region_path", "desk_region_code", "desk_region_path",
		"source", "occurred_at", "created_at", "updated_at", "stage", "stage_started_at"}
	evCols := []string{"case_id", "seq", "action", "from_state", "to_state", "stage", "actor_user_id", "actor_role",
		"target_department_id", "data", "time_used_seconds", "overdue", "created_at"}
	total := int64(n * (1 + history))
	for id := int64(1); id <= total; id++ {
		from, to := older, recent
		if id > total-int64(n) {
			from, to = recent, end
		}
		gi := rng.IntN(len(grids))
		g := grids[gi]
		worker := int64(100 + gi)
		t0 := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
		source, reporter, role := "grid_worker", worker, "grid_worker"
		if rng.IntN(3) == 0 {
			source, reporter, role = "hotline", 0, "dispatcher"
		}
		seq := 0
		state := ""
		at := t0
		event := func(action, to, stage string, actor int64, actorRole string, dept int64, data map[string]any, after time.Duration, overdue bool) bool {
			next := at.Add(after)
			if !next.Before(end) {
				return false
			}
			used := int64(after / time.Second)
			if stage == "" {
				used = 0
			}
			at = next
			seq++
			var raw any
			if data != nil {
				bs, _ := json.Marshal(data)
				raw = string(bs)
			}
			ins.row("case_events", evCols, id, seq, action, nullStr(state), to, nullStr(stage), nullID(actor), actorRole, nullID(dept), raw, used, overdue, at)
			state = to
			return true
		}
		desk := g.Code[:9]
		deskPath := g.Path[:strings.Index(g.Path, desk+"/")+len(desk)+1]
		ins.row("cases", caseCols, id, fmt.Sprintf("GC-%d", id), "reported", "normal", "bench", g.Code, g.Path, desk, deskPath,
			source, t0, t0, t0, "accept", t0)
		event("report", "reported", "", reporter, role, 0, map[string]any{"source": source}, 0, false)
		switch k := rng.IntN(100); {
		case k < 3 && role == "grid_worker": // self-handled
			event("self_handle", "closed", "accept", worker, "grid_worker", 0, nil, 0, false)
			continue
		case k < 5: // rejected
			event("reject", "rejected", "accept", 7, "dispatcher", 0, nil, 10*time.Minute, false)
			continue
		}
		late := rng.IntN(10) == 0
		if !event("accept", "filed", "accept", 7, "dispatcher", 0, nil, time.Duration(5+rng.IntN(20))*time.Minute, false) {
			continue
		}
		dept := int64(1 + rng.IntN(10))
		dispatch := func() bool {
			d := at.Add(10*time.Minute + 24*time.Hour)
			return event("dispatch", "dispatched", "dispatch", 7, "dispatcher", dept,
				map[string]any{"handle_deadline": d.UTC().Format(time.RFC3339), "handle_limit": "1 work_days", "department_name": "部门"}, 10*time.Minute, false)
		}
		if !dispatch() {
			continue
		}
		if rng.IntN(20) == 0 { // returned and re-dispatched
			if !event("return", "filed", "sign", 8, "handler", dept, nil, 40*time.Minute, false) {
				continue
			}
			dept = 1 + dept%10
			if !dispatch() {
				continue
			}
		}
		if !event("sign", "handling", "sign", 8, "handler", dept, nil, time.Duration(10+rng.IntN(60))*time.Minute, false) {
			continue
		}
		handle := 20 * time.Hour
		if late {
			handle = 40 * time.Hour
		}
		if !event("feedback", "handled", "handle", 8, "handler", dept, nil, handle, late) {
			continue
		}
		if rng.IntN(20) == 0 { // rework
			d := at.Add(24 * time.Hour)
			if !event("check", "handling", "check", worker, "grid_worker", dept,
				map[string]any{"result": "fail", "handle_deadline": d.UTC().Format(time.RFC3339)}, 20*time.Minute, false) {
				continue
			}
			if !event("feedback", "handled", "handle", 8, "handler", dept, nil, 6*time.Hour, false) {
				continue
			}
		}
		if !event("check", "checked", "check", worker, "grid_worker", 0, map[string]any{"result": "pass"}, 25*time.Minute, false) {
			continue
		}
		if !event("close", "closed", "close", 7, "dispatcher", 0, nil, 10*time.Minute, false) {
			continue
		}
		if rng.IntN(2) == 0 {
			event("evaluate", "closed", "", 7, "dispatcher", 0, map[string]any{"satisfaction": 1 + rng.IntN(5)}, time.Hour, false)
		}
	}
	ins.flush()
	if _, err := db.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return benchCity{street: "320610001", streetPath: "/320600/320610/320610001/"}
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// inserter batches rows into multi-row INSERT statements, one table at a time.
type inserter struct {
	b     *testing.B
	db    *sql.DB
	pg    bool
	table string
	cols  []string
	args  []any
	rows  int
}

func newInserter(b *testing.B, db *sql.DB, pg bool) *inserter { return &inserter{b: b, db: db, pg: pg} }

func (in *inserter) row(table string, cols []string, vals ...any) {
	if table != in.table || in.rows >= 500 {
		in.flush()
		in.table, in.cols = table, cols
	}
	in.args = append(in.args, vals...)
	in.rows++
}

func (in *inserter) flush() {
	if in.rows == 0 {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", in.table, strings.Join(in.cols, ", "))
	p := 0
	for r := 0; r < in.rows; r++ {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range in.cols {
			if c > 0 {
				sb.WriteString(", ")
			}
			p++
			if in.pg {
				fmt.Fprintf(&sb, "$%d", p)
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	for i, a := range in.args {
		if t, ok := a.(time.Time); ok {
			in.args[i] = t.UTC()
			if !in.pg {
				in.args[i] = t.UTC().Format(store.TimeLayout)
			}
		}
	}
	if _, err := in.db.Exec(sb.String(), in.args...); err != nil {
		in.b.Fatalf("insert into %s: %v", in.table, err)
	}
	in.args, in.rows = in.args[:0], 0
}
