package stats

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Store reads what the tables are computed from; *store.Store implements it.
type Store interface {
	// ScanHistories calls fn with each selected case's history, in case order. fn must not keep
	// the History: its memory is reused.
	ScanHistories(ctx context.Context, s Scan, fn func(*History) error) error
	// GridWorkers lists the grid workers with a grid in the subtree ("" for all), or only the
	// user userID when it is not 0.
	GridWorkers(ctx context.Context, regionPath string, userID int64) ([]Worker, error)
	// RegionRefs returns the regions with these codes (retired ones too), unknown codes left out.
	RegionRefs(ctx context.Context, codes []string) ([]region.Ref, error)
	// RegionsAt lists the regions of a level in the subtree ("" for all) that were in force at
	// some time in [from, to), in code order.
	RegionsAt(ctx context.Context, path string, level region.Level, from, to time.Time) ([]region.Ref, error)
	// DepartmentNames, CategoryNames and UserNames name the rows.
	DepartmentNames(ctx context.Context, ids []int64) (map[int64]string, error)
	CategoryNames(ctx context.Context, codes []string) (map[string]CategoryName, error)
	UserNames(ctx context.Context, ids []int64) (map[int64]string, error)
}

// CategoryName names a small class and its 大类.
type CategoryName struct {
	Name      string
	MajorName string
}

// Config tunes the service.
type Config struct {
	// MaxDays is the longest period a table may cover (366 by default: a year).
	MaxDays int
}

// Service computes assessment tables (考核统计) from the case event log.
type Service struct {
	store Store
	rules Rules
	cfg   Config
	now   func() time.Time
}

// New builds the service. rules are the cities' calendars and stage limits (the built-in ones
// when nil): the period's dates are read in the zone of the root region's calendar, and late
// stages are measured on the calendar of their case's place.
func New(st Store, rules Rules, cfg Config) *Service {
	if cfg.MaxDays <= 0 {
		cfg.MaxDays = 366
	}
	return &Service{store: st, rules: rules, cfg: cfg, now: time.Now}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// scope is what a caller may see of the statistics.
type scope struct {
	rootPath string // "" for everything
	onlyDept int64  // a handler: their department's row only
	onlyUser int64  // a grid worker: their own row only
	restrict Scan   // narrows the scan for the restricted callers
}

// scopeOf decides what p may read (see the package documentation):
//   - admin, ScopeAll users and unrestricted API keys: everything;
//   - dispatchers and supervisors (ScopeRegion), API keys with a region: their subtree;
//   - handlers: the department grouping, their department's row only;
//   - grid workers: the worker grouping, their own row only (no ranking, no colleagues);
//   - API keys need cases:read and never see the worker grouping.
func scopeOf(p identity.Principal, g Grouping) (scope, error) {
	if p.IsAPIKey() {
		if !p.HasAPIScope(identity.ScopeCasesRead) && !p.HasAPIScope(identity.ScopeCasesWrite) {
			return scope{}, errs.E(errs.Forbidden, "this API key lacks the cases:read scope")
		}
		if g == ByWorker {
			return scope{}, errs.E(errs.Forbidden, "figures of individual grid workers are not given to API keys")
		}
		if p.Scope.Kind == identity.ScopeRegion || p.Scope.RegionPath != "" {
			return scope{rootPath: p.Scope.RegionPath}, nil
		}
		return scope{}, nil
	}
	switch {
	case p.Is(identity.RoleAdmin) || p.Scope.Kind == identity.ScopeAll:
		return scope{}, nil
	case p.Is(identity.RoleHandler) || p.Scope.Kind == identity.ScopeDepartment:
		if g != ByDepartment || p.Scope.DepartmentID == 0 {
			return scope{}, errs.E(errs.Forbidden, "a department sees its own row of the department statistics only")
		}
		return scope{onlyDept: p.Scope.DepartmentID, restrict: Scan{DepartmentID: p.Scope.DepartmentID}}, nil
	case p.Is(identity.RoleGridWorker) || p.Scope.Kind == identity.ScopeGrids:
		if g != ByWorker {
			return scope{}, errs.E(errs.Forbidden, "a grid worker sees their own figures only (grouping worker)")
		}
		return scope{onlyUser: p.UserID, restrict: Scan{WorkerID: p.UserID, GridCodes: slices.Clone(p.Scope.GridCodes)}}, nil
	case p.Scope.Kind == identity.ScopeRegion && p.Scope.RegionPath != "":
		return scope{rootPath: p.Scope.RegionPath}, nil
	}
	return scope{}, errs.E(errs.Forbidden, "your account has no data scope for statistics")
}

// Table computes one table for p.
func (s *Service) Table(ctx context.Context, p identity.Principal, q Query) (Table, error) {
	if !q.Grouping.Valid() {
		return Table{}, errs.NotFoundf("no statistics grouping %q; use region, department, grid, worker or category", q.Grouping)
	}
	sc, err := scopeOf(p, q.Grouping)
	if err != nil {
		return Table{}, err
	}
	now := s.now()
	t := Table{Grouping: q.Grouping, GeneratedAt: now.UTC(), Columns: ColumnsFor(q.Grouping)}

	// The root region: the one asked for, inside the caller's scope (404 outside it).
	rootLevel := region.Level("")
	if code := strings.TrimSpace(q.RegionCode); code != "" {
		refs, err := s.store.RegionRefs(ctx, []string{code})
		if err != nil {
			return Table{}, fmt.Errorf("read region %s: %w", code, err)
		}
		if len(refs) == 0 || (sc.rootPath != "" && !strings.HasPrefix(refs[0].Path, sc.rootPath)) {
			return Table{}, errs.NotFoundf("no region %q in your scope", code)
		}
		sc.rootPath = refs[0].Path
		t.RegionCode, t.RegionName, rootLevel = refs[0].Code, refs[0].Name, refs[0].Level
	} else if sc.rootPath != "" {
		codes := strings.Split(strings.Trim(sc.rootPath, "/"), "/")
		refs, err := s.store.RegionRefs(ctx, codes[len(codes)-1:])
		if err != nil {
			return Table{}, fmt.Errorf("read scope region: %w", err)
		}
		if len(refs) == 1 {
			t.RegionCode, t.RegionName, rootLevel = refs[0].Code, refs[0].Name, refs[0].Level
		}
	}
	if t.Level, err = levelFor(q, rootLevel); err != nil {
		return Table{}, err
	}
	loc := rulesOf(s.rules, sc.rootPath).cal.Location()
	start, end, from, to, err := s.period(q, now, loc)
	if err != nil {
		return Table{}, err
	}
	t.From, t.To, t.Start, t.End, t.Zone = from, to, start, end, loc.String()

	scan := sc.restrict
	scan.From, scan.To, scan.RegionPath = start, end, sc.rootPath
	clockEnd := end
	if now.Before(end) {
		clockEnd = now
	}
	if clockEnd.After(start) {
		scan.DeadlineFrom, scan.DeadlineTo = start, clockEnd
	}

	f := &folder{p: period{start: start, end: end, now: clockEnd}, rules: s.rules, byPath: map[string]*caseRules{},
		byCal: map[*worktime.Calendar]*caseRules{},
		agg:   newAggregator(q.Grouping)}
	var workers []Worker
	if q.Grouping == ByWorker {
		if workers, err = s.store.GridWorkers(ctx, sc.rootPath, sc.onlyUser); err != nil {
			return Table{}, fmt.Errorf("list grid workers: %w", err)
		}
		f.gridWorkers = map[string][]int64{}
		for _, w := range workers {
			for _, g := range w.Grids {
				f.gridWorkers[g] = append(f.gridWorkers[g], w.ID)
			}
		}
	}
	err = s.store.ScanHistories(ctx, scan, func(h *History) error {
		f.agg.startCase(caseKey(q.Grouping, h))
		f.fold(h)
		return nil
	})
	if err != nil {
		return Table{}, fmt.Errorf("read case histories: %w", err)
	}

	accs := f.agg.rows
	var catCodes []string // the small classes seen, to name the rows
	if q.Grouping == ByCategory {
		for k := range accs {
			if k != "" {
				catCodes = append(catCodes, k)
			}
		}
	}
	switch q.Grouping {
	case ByRegion:
		if accs, err = s.byLevel(ctx, accs, sc.rootPath, region.Level(t.Level), start, end); err != nil {
			return Table{}, err
		}
	case ByCategory:
		if t.Level == CategoryMajor {
			accs = byMajor(accs)
		}
	}
	rows := make(map[string]Row, len(accs))
	for k, a := range accs {
		rows[k] = a.row(q.Grouping, k)
	}
	total := f.agg.total.row(q.Grouping, "")
	switch {
	case sc.onlyDept != 0:
		k := strconv.FormatInt(sc.onlyDept, 10)
		rows = map[string]Row{k: rows[k]}
		r := rows[k]
		r.Key = k
		rows[k], total = r, r
	case sc.onlyUser != 0:
		k := strconv.FormatInt(sc.onlyUser, 10)
		r := rows[k]
		r.Key = k
		rows, total = map[string]Row{k: r}, r
	}
	if err := s.complete(ctx, q.Grouping, t.Level, rows, workers, catCodes, sc, start, end); err != nil {
		return Table{}, err
	}
	t.Rows = slices.SortedFunc(maps.Values(rows), rowOrder(q.Grouping))
	total.Key, total.Name = "", ""
	t.Total = total
	return t, nil
}

// period resolves the dates of q (default: the current month in the city's zone) into the
// instants [start, end).
func (s *Service) period(q Query, now time.Time, loc *time.Location) (start, end time.Time, from, to string, err error) {
	var f errs.Fields
	parse := func(field, v string) (time.Time, bool) {
		t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(v), loc)
		if err != nil {
			f.Add(field, "date", "%s must be a date YYYY-MM-DD", field)
			return time.Time{}, false
		}
		return t, true
	}
	local := now.In(loc)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	var fromT, toT time.Time
	fromOK, toOK := q.From != "", q.To != ""
	if fromOK {
		fromT, fromOK = parse("from", q.From)
	}
	if toOK {
		toT, toOK = parse("to", q.To)
	}
	if err := f.Err(); err != nil {
		return start, end, "", "", err
	}
	switch {
	case !fromOK && !toOK:
		fromT, toT = monthStart, monthStart.AddDate(0, 1, -1)
	case !fromOK:
		fromT = time.Date(toT.Year(), toT.Month(), 1, 0, 0, 0, 0, loc)
	case !toOK:
		toT = time.Date(fromT.Year(), fromT.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, 1, -1)
	}
	start, end = fromT, toT.AddDate(0, 0, 1)
	switch {
	case toT.Before(fromT):
		f.Add("to", "after_from", "to must not be before from")
	case end.After(start.AddDate(0, 0, s.cfg.MaxDays)):
		f.Add("to", "max_days", "a table covers at most %d days", s.cfg.MaxDays)
	}
	return start, end, fromT.Format(time.DateOnly), toT.Format(time.DateOnly), f.Err()
}

// levelFor checks and defaults the level: for regions one below the root (district without a
// root), for categories the small class.
func levelFor(q Query, root region.Level) (string, error) {
	lv := strings.TrimSpace(q.Level)
	switch q.Grouping {
	case ByRegion:
		if lv == "" {
			switch {
			case root == "":
				return string(region.LevelDistrict), nil
			case root == region.LevelGrid:
				return string(region.LevelGrid), nil
			}
			return string(region.Levels[root.Depth()]), nil
		}
		l := region.Level(lv)
		if l == region.LevelCity || !l.Valid() {
			return "", errs.Fields{{Field: "level", Rule: "enum", Message: "level must be district, street, community or grid"}}.Err()
		}
		if root != "" && l.Depth() < root.Depth() {
			return "", errs.Fields{{Field: "level", Rule: "below_root", Message: fmt.Sprintf("level %s is above the region (a %s)", l, root)}}.Err()
		}
		return lv, nil
	case ByCategory:
		switch lv {
		case "", CategoryMinor:
			return CategoryMinor, nil
		case CategoryMajor:
			return CategoryMajor, nil
		}
		return "", errs.Fields{{Field: "level", Rule: "enum", Message: "level must be minor or major for the category grouping"}}.Err()
	}
	if lv != "" {
		return "", errs.Fields{{Field: "level", Rule: "not_applicable", Message: "level applies to the region and category groupings only"}}.Err()
	}
	return "", nil
}

// caseKey is the row a case's figures go to in the case-keyed groupings (the region grouping
// keys by the grid's path first and merges by level afterwards).
func caseKey(g Grouping, h *History) string {
	switch g {
	case ByRegion:
		return h.RegionPath
	case ByGrid:
		return h.GridCode
	case ByCategory:
		return h.CategoryCode
	}
	return ""
}

// byLevel merges rows keyed by grid path into the ancestors at level; cases outside any region
// of that level (unplaced) keep the key "".
func (s *Service) byLevel(ctx context.Context, byPath map[string]*acc, root string, level region.Level, start, end time.Time) (map[string]*acc, error) {
	seen := map[string]bool{}
	var codes []string
	for p := range byPath {
		for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
			if c != "" && !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	refs, err := s.store.RegionRefs(ctx, codes)
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	levelOf := make(map[string]region.Level, len(refs))
	for _, r := range refs {
		levelOf[r.Code] = r.Level
	}
	out := map[string]*acc{}
	for p, a := range byPath {
		key := ""
		for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
			if levelOf[c] == level {
				key = c
			}
		}
		if out[key] == nil {
			out[key] = &acc{}
		}
		out[key].add(a)
	}
	return out, nil
}

// byMajor merges small classes into their 大类 (E0101 → E01).
func byMajor(byCode map[string]*acc) map[string]*acc {
	out := map[string]*acc{}
	for code, a := range byCode {
		key := code
		if len(code) >= 3 {
			key = code[:3]
		}
		if out[key] == nil {
			out[key] = &acc{}
		}
		out[key].add(a)
	}
	return out
}

// complete names the rows and adds the rows without any activity that a supervisor expects
// to see: every region of the level in the subtree, every grid worker of it.
func (s *Service) complete(ctx context.Context, g Grouping, level string, rows map[string]Row, workers []Worker, catCodes []string, sc scope, start, end time.Time) error {
	setName := func(k, name string) {
		r := rows[k]
		r.Key, r.Name = k, name
		rows[k] = r
	}
	switch g {
	case ByRegion, ByGrid:
		lv := region.Level(level)
		if g == ByGrid {
			lv = region.LevelGrid
		}
		all, err := s.store.RegionsAt(ctx, sc.rootPath, lv, start, end)
		if err != nil {
			return fmt.Errorf("list regions: %w", err)
		}
		named := map[string]bool{}
		for _, r := range all {
			setName(r.Code, r.Name)
			named[r.Code] = true
		}
		var rest []string
		for k := range rows {
			if k != "" && !named[k] {
				rest = append(rest, k)
			}
		}
		if len(rest) > 0 {
			refs, err := s.store.RegionRefs(ctx, rest)
			if err != nil {
				return fmt.Errorf("read regions: %w", err)
			}
			for _, r := range refs {
				setName(r.Code, r.Name)
			}
		}
	case ByDepartment:
		ids := intKeys(rows)
		names, err := s.store.DepartmentNames(ctx, ids)
		if err != nil {
			return fmt.Errorf("name departments: %w", err)
		}
		for _, id := range ids {
			setName(strconv.FormatInt(id, 10), names[id])
		}
	case ByWorker:
		for _, w := range workers {
			k := strconv.FormatInt(w.ID, 10)
			if sc.onlyUser != 0 && w.ID != sc.onlyUser {
				continue
			}
			if _, ok := rows[k]; ok || w.Active {
				setName(k, w.Name)
			}
		}
		var unnamed []int64
		for k, r := range rows {
			if r.Name == "" {
				if id, err := strconv.ParseInt(k, 10, 64); err == nil {
					unnamed = append(unnamed, id)
				}
			}
		}
		if len(unnamed) > 0 {
			names, err := s.store.UserNames(ctx, unnamed)
			if err != nil {
				return fmt.Errorf("name users: %w", err)
			}
			for _, id := range unnamed {
				setName(strconv.FormatInt(id, 10), names[id])
			}
		}
	case ByCategory:
		names, err := s.store.CategoryNames(ctx, catCodes)
		if err != nil {
			return fmt.Errorf("name categories: %w", err)
		}
		for k := range rows {
			switch {
			case k == "":
			case level == CategoryMajor:
				for code, n := range names {
					if strings.HasPrefix(code, k) {
						setName(k, n.MajorName)
						break
					}
				}
			default:
				setName(k, names[k].Name)
			}
		}
	}
	for k, r := range rows {
		if r.Key != k {
			r.Key = k
			rows[k] = r
		}
	}
	return nil
}

func intKeys(rows map[string]Row) []int64 {
	var out []int64
	for k := range rows {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// rowOrder orders rows by code (regions, grids, categories) or by name then id (departments,
// workers): never by a figure, so that no table reads as a ranking. The row without a key
// (unplaced, uncategorised) comes last.
func rowOrder(g Grouping) func(a, b Row) int {
	return func(a, b Row) int {
		if (a.Key == "") != (b.Key == "") {
			if a.Key == "" {
				return 1
			}
			return -1
		}
		if g == ByDepartment || g == ByWorker {
			if c := cmp.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			ai, _ := strconv.ParseInt(a.Key, 10, 64)
			bi, _ := strconv.ParseInt(b.Key, 10, 64)
			return cmp.Compare(ai, bi)
		}
		return cmp.Compare(a.Key, b.Key)
	}
}

// row turns an accumulator into the figures of a grouping.
func (a *acc) row(g Grouping, key string) Row {
	c := a.counts
	r := Row{
		Key: key, Reported: c[cReported], Filed: c[cFiled], Dispatched: c[cDispatched], Returned: c[cReturned],
		Reworked: c[cReworked], Closed: c[cClosed], ClosedOnTime: c[cClosedOnTime], Due: c[cDue],
		ClosedDispatched: c[cClosedDispatched], AccuratelyDispatched: c[cAccurate], SelfHandled: c[cSelfHandled],
		MissedReports: c[cMissed], Reports: c[cReports], ValidReports: c[cValidReports],
		HandlingRounds: a.handlingN, OverdueCount: a.overdue, Evaluations: a.evals, Satisfied: a.satisfied,
		Verifies: a.verifies, VerifiesOnTime: a.verifiesOK, Checks: a.checks, ChecksOnTime: a.checksOK,
		Stages: map[casework.Stage]StageTime{},
	}
	base := r.Filed
	r.Suspended = c[cSuspendedFiled]
	if g == ByDepartment {
		base, r.Suspended = r.Dispatched, c[cSuspendedDispatched]
	}
	r.OnTimeClosureRate = ratio(r.ClosedOnTime, r.Due)
	r.ClosureRate = ratio(r.Closed, base-r.Suspended)
	r.ReworkRate = ratio(r.Reworked, base)
	r.AccurateDispatchRate = ratio(r.AccuratelyDispatched, r.ClosedDispatched)
	r.ReturnRate = ratio(r.Returned, r.Dispatched)
	if a.handlingN > 0 {
		h := float64(a.handlingSecs) / float64(a.handlingN) / 3600
		r.AvgHandlingHours = &h
	}
	for i, st := range Stages {
		if a.stageN[i] > 0 {
			r.Stages[st] = StageTime{Count: a.stageN[i], AvgHours: float64(a.stageSecs[i]) / float64(a.stageN[i]) / 3600}
		}
	}
	if a.multN > 0 {
		m := a.multSum / float64(a.multN)
		r.OvertimeMultiple = &m
	}
	r.SatisfactionRate = ratio(a.satisfied, a.evals)
	if a.evals > 0 {
		v := float64(a.satSum) / float64(a.evals)
		r.AvgSatisfaction = &v
	}
	r.ValidReportRate = ratio(r.ValidReports, r.Reports)
	r.OnTimeVerifyRate = ratio(a.verifiesOK, a.verifies)
	r.OnTimeCheckRate = ratio(a.checksOK, a.checks)
	return r
}

func ratio(n, d int) *float64 {
	if d <= 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}
