package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/store"
)

// The synthetic city: two years of cases, ids in order of creation. Cases older than a month
// are mostly closed (a backlog of a few per cent stays open, long overdue); the last month
// holds every state. Each case gets the events of the steps it went through (report, accept,
// dispatch to a department, sign, feedback, check, close; or reject, cancel), so that the
// handler's scope (which reads the events) meets a realistic event table.

const span = 730 * 24 * time.Hour

var (
	places = []string{"小区门口", "菜场旁", "学校东侧", "公交站台", "河道边", "商业街", "老新村", "工地外", "公园入口", "路口西北角",
		"地下通道", "桥下", "医院对面", "停车场", "农贸市场", "居民楼道", "广场", "人行道", "绿化带", "沿街店铺前"}
	tails = []string{"已持续两天", "影响通行", "居民多次反映", "请尽快处理", "夜间尤甚", "存在安全隐患", "面积约 3 平方米", "周边群众意见大",
		"疑似无人管理", "雨后更严重"}
	streets = []string{"工农路", "人民中路", "青年西路", "崇川路", "濠河路", "钟秀路", "通京大道", "世纪大道", "长江中路", "五一路",
		"园林路", "和平桥", "桃坞路", "任港路", "城山路"}
	sources = []string{"grid_worker", "grid_worker", "grid_worker", "grid_worker", "resident", "hotline", "hotline", "video", "integrator", "leader"}
)

// caseGen is one generated case and what its events need.
type caseGen struct {
	id                          int64
	number, state, stage, cat   string
	grid                        grid
	lat, lng                    float64
	created, updated            time.Time
	filed, dispatched, closed   *time.Time
	deadline, warn, handleBy    *time.Time
	deleted                     *time.Time
	dept, coDept, assignee, rep int64
	duplicateOf                 int64
	source, urgency             string
	description, address        string
	satisfaction                *int
}

func fill(ctx context.Context, s *store.Store, c *city, o options, stdout io.Writer) error {
	db, err := s.SQLDB()
	if err != nil {
		return err
	}
	pg := s.Dialect() == store.Postgres
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if pg {
		// A bulk load: no triggers (the event outbox) and no foreign-key checks on this session.
		if _, err := conn.ExecContext(ctx, `SET session_replication_role = replica`); err != nil {
			return err
		}
	} else if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(o.seed), 7))
	now := time.Now().UTC().Truncate(time.Second)
	worker, handler := c.users["worker"], c.users["handler"]
	workerGrids := map[string]bool{}
	for _, g := range worker.Scope.GridCodes {
		workerGrids[g] = true
	}
	// The demo worker's grids get a grid worker's share of cases like any other grid.
	perDay := map[string]int{}
	caseBatch, eventBatch := 1000, 2000
	if !pg {
		caseBatch, eventBatch = 500, 1000
	}
	cases := make([]caseGen, 0, caseBatch)
	var events [][]any
	var coHandlers [][]any
	var eventID int64
	flushCases := func() error {
		if len(cases) == 0 {
			return nil
		}
		rows := make([][]any, len(cases))
		for i, k := range cases {
			rows[i] = k.row()
			for _, e := range k.events(handler.UserID) {
				eventID++
				events = append(events, append([]any{eventID}, e...))
			}
			if k.coDept != 0 {
				coHandlers = append(coHandlers, []any{k.id, k.coDept, true, *k.dispatched})
			}
		}
		if err := insert(ctx, conn, pg, "cases", caseColumns, rows); err != nil {
			return err
		}
		for len(events) >= eventBatch {
			if err := insert(ctx, conn, pg, "case_events", eventColumns, events[:eventBatch]); err != nil {
				return err
			}
			events = events[eventBatch:]
		}
		cases = cases[:0]
		return nil
	}
	started := time.Now()
	for i := 1; i <= o.n; i++ {
		k := generate(rng, c, now, i, o.n, perDay, workerGrids, worker.UserID)
		cases = append(cases, k)
		if len(cases) == caseBatch {
			if err := flushCases(); err != nil {
				return err
			}
		}
		if i%100_000 == 0 {
			fmt.Fprintf(stdout, "  %d cases (%s)\n", i, time.Since(started).Round(time.Second))
		}
	}
	if err := flushCases(); err != nil {
		return err
	}
	for len(events) > 0 {
		n := min(eventBatch, len(events))
		if err := insert(ctx, conn, pg, "case_events", eventColumns, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	for len(coHandlers) > 0 {
		n := min(eventBatch, len(coHandlers))
		if err := insert(ctx, conn, pg, "case_co_handlers", []string{"case_id", "department_id", "active", "added_at"}, coHandlers[:n]); err != nil {
			return err
		}
		coHandlers = coHandlers[n:]
	}
	days := make([][]any, 0, len(perDay))
	for d, n := range perDay {
		days = append(days, []any{d, int64(n)})
	}
	slices.SortFunc(days, func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) })
	for len(days) > 0 {
		n := min(500, len(days))
		if err := insert(ctx, conn, pg, "case_number_days", []string{"day", "last"}, days[:n]); err != nil {
			return err
		}
		days = days[n:]
	}
	fmt.Fprintf(stdout, "  %d events; analysing\n", eventID)
	stmts := []string{`ANALYZE`}
	if pg {
		stmts = []string{
			`SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))`,
			`SELECT setval(pg_get_serial_sequence('case_events', 'id'), (SELECT max(id) FROM case_events))`,
			`SET session_replication_role = DEFAULT`,
			`VACUUM ANALYZE`,
		}
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// generate makes case i of n: created at an even pace over two years ending now.
func generate(rng *rand.Rand, c *city, now time.Time, i, n int, perDay map[string]int, workerGrids map[string]bool, workerID int64) caseGen {
	created := now.Add(-span + time.Duration(float64(span)*float64(i)/float64(n))).Add(-time.Duration(rng.IntN(600)) * time.Second)
	g := c.grids[rng.IntN(len(c.grids))]
	cat := c.categories[rng.IntN(len(c.categories))]
	k := caseGen{id: int64(i), grid: g, cat: cat.code, created: created, source: sources[rng.IntN(len(sources))], urgency: "normal"}
	if rng.IntN(10) == 0 {
		k.urgency = "urgent"
	}
	day := created.In(china).Format("20060102")
	perDay[day]++
	k.number = fmt.Sprintf("GC%s-%06d", day, perDay[day])
	k.lat = g.minLat + rng.Float64()*(g.maxLat-g.minLat)
	k.lng = g.minLng + rng.Float64()*(g.maxLng-g.minLng)
	k.description = places[rng.IntN(len(places))] + categoryWords[cat.code[:3]] + "，" + tails[rng.IntN(len(tails))]
	k.address = fmt.Sprintf("%s%d号", streets[rng.IntN(len(streets))], 1+rng.IntN(300))
	if k.source == "grid_worker" && workerGrids[g.code] {
		k.rep = workerID
	}
	k.state = pickState(rng, now.Sub(created))
	k.stage = stageOf(k.state)
	k.dept = c.deptIDs[cat.deptCode]
	if k.dept == 0 {
		k.dept = c.depts[rng.IntN(len(c.depts))]
	}
	// The steps' times.
	at := func(d time.Duration) *time.Time {
		t := created.Add(d)
		if t.After(now) {
			t = now.Add(-time.Duration(rng.IntN(60)) * time.Second)
		}
		return &t
	}
	age := now.Sub(created)
	step := func() time.Duration { // how long each step took: minutes to a day, less for young cases
		d := time.Duration(5+rng.IntN(24*60)) * time.Minute
		if most := age / 8; d > most {
			d = most
		}
		return d
	}
	t := time.Duration(0)
	k.updated = created
	adv := func() *time.Time { t += step(); p := at(t); k.updated = *p; return p }
	rank := stateRank[k.state]
	if rank >= stateRank["filed"] && k.state != "rejected" && k.state != "cancelled" {
		k.filed = adv()
	}
	if rank >= stateRank["dispatched"] && k.state != "rejected" && k.state != "cancelled" {
		k.dispatched = adv()
		h := k.dispatched.Add(handleLimit(cat))
		k.handleBy = &h
		if rng.IntN(20) == 0 {
			k.coDept = c.depts[rng.IntN(len(c.depts))]
			if k.coDept == k.dept {
				k.coDept = 0
			}
		}
	}
	for r := stateRank["handling"]; r <= rank && r <= stateRank["closed"]; r++ {
		if k.state == "rejected" || k.state == "cancelled" {
			break
		}
		adv()
	}
	switch k.state {
	case "closed":
		k.closed = &k.updated
		if rng.IntN(3) == 0 {
			v := 3 + rng.IntN(3)
			k.satisfaction = &v
		}
	case "rejected":
		adv()
	case "cancelled":
		k.deleted = adv()
		if rng.IntN(5) == 0 && i > 1 {
			k.duplicateOf = int64(1 + rng.IntN(i-1))
		}
	case "verifying", "handled":
		if workerGrids[g.code] && rng.IntN(2) == 0 {
			k.assignee = workerID
		}
	}
	if k.state == "verifying" && k.assignee == 0 {
		k.state, k.stage = "reported", "accept" // nobody to send: still at the desk
	}
	// The running stage's clock, from the last step.
	if k.stage != "none" {
		start, limit := k.updated, stageLimit(k.stage)
		if k.stage == "handle" {
			start, limit = *k.dispatched, handleLimit(cat)
		}
		d, w := start.Add(limit), start.Add(limit*4/5)
		k.deadline, k.warn = &d, &w
	}
	return k
}

var china = time.FixedZone("CST", 8*3600)

// categoryWords are what a report says for a 大类.
var categoryWords = map[string]string{
	"E01": "垃圾堆积", "E02": "小广告乱贴", "E03": "施工噪音扰民", "E04": "突发积水", "E05": "占道经营", "E06": "共享单车乱停",
	"E07": "邻里纠纷", "E08": "安全隐患", "E09": "低保咨询", "E10": "疫情防控", "C01": "井盖破损", "C02": "路灯不亮",
	"C03": "垃圾桶满溢", "C04": "行道树倒伏", "C05": "设施损坏",
}

var stateRank = map[string]int{"reported": 0, "verifying": 1, "filed": 2, "dispatched": 3, "handling": 4, "suspended": 5,
	"handled": 6, "checked": 7, "closed": 8, "rejected": 9, "cancelled": 9}

// pickState: a month-old case is closed (86 %), rejected, cancelled, or part of the backlog.
func pickState(rng *rand.Rand, age time.Duration) string {
	r := rng.Float64()
	if age > 30*24*time.Hour {
		switch {
		case r < 0.86:
			return "closed"
		case r < 0.91:
			return "rejected"
		case r < 0.96:
			return "cancelled"
		case r < 0.97:
			return "suspended"
		case r < 0.985:
			return "handling"
		case r < 0.99:
			return "dispatched"
		case r < 0.995:
			return "handled"
		}
		return "filed"
	}
	for _, p := range []struct {
		state string
		upTo  float64
	}{{"reported", 0.08}, {"verifying", 0.12}, {"filed", 0.18}, {"dispatched", 0.26}, {"handling", 0.51}, {"handled", 0.59},
		{"checked", 0.63}, {"suspended", 0.65}, {"closed", 0.95}, {"rejected", 0.98}} {
		if r < p.upTo {
			return p.state
		}
	}
	return "cancelled"
}

// stageOf is the stage whose clock runs in a state (none when closed, rejected, cancelled or
// suspended).
func stageOf(state string) string {
	if st, ok := map[string]string{"reported": "accept", "verifying": "verify", "filed": "dispatch", "dispatched": "sign",
		"handling": "handle", "handled": "check", "checked": "close"}[state]; ok {
		return st
	}
	return "none"
}

// stageLimit approximates the stage limits on the wall clock (the calendar is not needed for
// a load test: the lights only have to spread like real ones).
func stageLimit(stage string) time.Duration {
	switch stage {
	case "verify", "check":
		return 30 * time.Minute
	case "sign":
		return time.Hour
	}
	return 15 * time.Minute
}

func handleLimit(k categoryInfo) time.Duration {
	switch k.limitUnit {
	case "urgent_hours":
		return time.Duration(k.limitValue) * time.Hour
	case "work_hours":
		return time.Duration(k.limitValue) * 3 * time.Hour
	}
	return time.Duration(k.limitValue) * 24 * time.Hour
}

var caseColumns = []string{"id", "number", "state", "version", "category_code", "urgency", "description", "address", "lat", "lng",
	"grid_code", "region_path", "desk_region_code", "desk_region_path", "source", "reporter_user_id", "occurred_at", "created_at",
	"updated_at", "filed_at", "dispatched_at", "closed_at", "lead_department_id", "assignee_user_id", "duplicate_of", "self_handled",
	"stage", "stage_started_at", "stage_deadline", "stage_warn_at", "handle_deadline", "satisfaction", "deleted_at"}

func (k caseGen) row() []any {
	street := k.grid.streetPath()
	streetCode := street[strings.LastIndex(strings.TrimSuffix(street, "/"), "/")+1 : len(street)-1]
	var dept any
	if k.dispatched != nil {
		dept = k.dept
	}
	return []any{k.id, k.number, k.state, 1, k.cat, k.urgency, k.description, k.address, k.lat, k.lng,
		k.grid.code, k.grid.path, streetCode, street, k.source, nullID(k.rep), k.created, k.created,
		k.updated, k.filed, k.dispatched, k.closed, dept, nullID(k.assignee), nullID(k.duplicateOf), false,
		k.stage, k.updated, k.deadline, k.warn, k.handleBy, k.satisfaction, k.deleted}
}

var eventColumns = []string{"id", "case_id", "seq", "action", "from_state", "to_state", "stage", "actor_role",
	"target_department_id", "actor_user_id", "note", "visibility", "time_used_seconds", "overdue", "created_at"}

// events are the case's log: the steps up to its state.
func (k caseGen) events(handlerID int64) [][]any {
	type ev struct {
		action, from, to, stage, role string
		dept, actor                   int64
		at                            time.Time
	}
	var out []ev
	out = append(out, ev{"report", "", "reported", "", "grid_worker", 0, k.rep, k.created})
	steps := []struct{ action, from, to, stage, role string }{
		{"accept", "reported", "filed", "accept", "dispatcher"},
		{"dispatch", "filed", "dispatched", "dispatch", "dispatcher"},
		{"sign", "dispatched", "handling", "sign", "handler"},
		{"feedback", "handling", "handled", "handle", "handler"},
		{"check", "handled", "checked", "check", "grid_worker"},
		{"close", "checked", "closed", "close", "dispatcher"},
	}
	rank := stateRank[k.state]
	switch k.state {
	case "rejected":
		out = append(out, ev{"reject", "reported", "rejected", "accept", "dispatcher", 0, 0, k.updated})
	case "cancelled":
		out = append(out, ev{"cancel", "reported", "cancelled", "accept", "dispatcher", 0, 0, k.updated})
	default:
		t := k.created
		for i, s := range steps {
			if rank < stateRank[s.to] {
				break
			}
			if i == 0 && k.filed != nil {
				t = *k.filed
			}
			if i == 1 && k.dispatched != nil {
				t = *k.dispatched
			}
			if t.After(k.updated) || i > 1 {
				t = k.updated
			}
			e := ev{s.action, s.from, s.to, s.stage, s.role, 0, 0, t}
			if s.role == "handler" || s.action == "dispatch" {
				e.dept = k.dept
			}
			if s.role == "handler" {
				e.actor = handlerID
			}
			out = append(out, e)
		}
	}
	rows := make([][]any, len(out))
	for i, e := range out {
		var from, stage any
		if e.from != "" {
			from = e.from
		}
		if e.stage != "" {
			stage = e.stage
		}
		rows[i] = []any{k.id, i + 1, e.action, from, e.to, stage, e.role, nullID(e.dept), nullID(e.actor), "", "internal", int64(600), false, e.at}
	}
	return rows
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insert writes rows with one parameterised multi-row INSERT ($n placeholders on PostgreSQL,
// ? on SQLite), committed on its own.
func insert(ctx context.Context, conn *sql.Conn, pg bool, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
	args := make([]any, 0, len(rows)*len(cols))
	n := 0
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			n++
			if pg {
				fmt.Fprintf(&b, "$%d", n)
			} else {
				b.WriteByte('?')
			}
			args = append(args, v)
		}
		b.WriteByte(')')
	}
	if _, err := conn.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}
