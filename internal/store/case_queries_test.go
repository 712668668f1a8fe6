package store_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

// The list fixture's places: two streets of one district, a grid in each.
const (
	lpStreet1 = "/320600/320613/320613001/"
	lpStreet2 = "/320600/320613/320613002/"
	lpGrid1   = lpStreet1 + "320613001001/320613001001001/"
	lpGrid2   = lpStreet2 + "320613002001/320613002001001/"
	lgGrid1   = "320613001001001"
	lgGrid2   = "320613002001001"
)

// lNow is the instant the fixture's lights are taken at.
var lNow = caseT0.Add(10 * time.Hour)

func at(d time.Duration) *time.Time {
	t := lNow.Add(d)
	return &t
}

// listWorld is a store with the fixture's departments, users, categories and cases.
type listWorld struct {
	s             *store.Store
	d1, d2        int64
	u1, w1        int64
	cases         map[string]casework.Case // by short name
	byID          map[int64]string
	seq           int
	checkRequired map[string]bool
}

func listCategory(t *testing.T, s *store.Store, code string, check bool) {
	t.Helper()
	c := category.Catalogue()[0]
	c.Code, c.Type, c.MajorCode, c.Name, c.CheckRequired = code, category.Event, code[1:3], "类 "+code, check
	if code[0] == 'C' {
		c.Type = category.Component
	}
	c.CreatedAt, c.UpdatedAt = caseT0, caseT0
	if err := s.CreateCategory(context.Background(), &c); err != nil {
		t.Fatalf("create category %s: %v", code, err)
	}
}

// add inserts a case from a template: the defaults are a reported case in grid 1.
func (w *listWorld) add(t *testing.T, name string, c casework.Case) casework.Case {
	t.Helper()
	w.seq++
	if c.Number == "" {
		c.Number = fmt.Sprintf("GC20260316-%06d", w.seq)
	}
	if c.State == "" {
		c.State = casework.Reported
	}
	c.Version, c.Urgency = 1, category.Normal
	if c.Description == "" {
		c.Description = "描述 " + name
	}
	if c.GridCode == "" && c.RegionPath == "" && c.DeskRegionPath == "" {
		c.GridCode, c.RegionPath = lgGrid1, lpGrid1
	}
	if c.DeskRegionPath == "" {
		c.DeskRegionCode, c.DeskRegionPath = "320613001", lpStreet1
		if strings.HasPrefix(c.RegionPath, lpStreet2) {
			c.DeskRegionCode, c.DeskRegionPath = "320613002", lpStreet2
		}
	}
	if c.Source == "" {
		c.Source = casework.SourceHotline
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = caseT0.Add(time.Duration(w.seq) * time.Minute)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.OccurredAt = c.CreatedAt
	if c.Stage == "" {
		c.Stage = casework.StageOf(c.State)
	}
	c.StageStartedAt = c.UpdatedAt
	if err := w.s.CreateCase(context.Background(), &c); err != nil {
		t.Fatalf("create case %s: %v", name, err)
	}
	w.cases[name], w.byID[c.ID] = c, name
	return c
}

// newListWorld builds the fixture. Lights at lNow: a green, b red, c yellow, d green, e yellow,
// i green, j red, k green; the rest have no clock.
func newListWorld(t *testing.T, s *store.Store) *listWorld {
	t.Helper()
	w := &listWorld{s: s, cases: map[string]casework.Case{}, byID: map[int64]string{}}
	w.d1, w.d2 = caseDepartment(t, s, "cgj").ID, caseDepartment(t, s, "scjg").ID
	w.u1 = mustUser(t, s, identity.User{Username: "reporter", Role: identity.RoleGridWorker,
		Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{lgGrid1}}}).ID
	w.w1 = mustUser(t, s, identity.User{Username: "worker", Role: identity.RoleGridWorker,
		Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{lgGrid1}}}).ID
	for code, check := range map[string]bool{"E0101": true, "E0102": false, "C0101": true, "E0501": true} {
		listCategory(t, s, code, check)
	}
	pt := func(lat, lng float64) *casework.Point { return &casework.Point{Lat: lat, Lng: lng} }
	deleted := caseT0.Add(5 * time.Hour)
	w.add(t, "a", casework.Case{CategoryCode: "E0101", Source: casework.SourceGridWorker, ReporterUserID: w.u1,
		Description: "小区门口垃圾堆积", Address: "工农路 88 号", Point: pt(32.01, 120.86),
		StageDeadline: at(time.Hour), StageWarnAt: at(30 * time.Minute)})
	w.add(t, "b", casework.Case{State: casework.Filed, CategoryCode: "E0102", Point: pt(32.02, 120.87),
		StageDeadline: at(-time.Hour), StageWarnAt: at(-2 * time.Hour)})
	w.add(t, "c", casework.Case{State: casework.Dispatched, CategoryCode: "C0101", LeadDepartmentID: w.d1, CoHandlerIDs: []int64{w.d2},
		GridCode: lgGrid2, RegionPath: lpGrid2, Point: pt(32.01, 120.94), StageDeadline: at(10 * time.Minute), StageWarnAt: at(-5 * time.Minute)})
	w.add(t, "d", casework.Case{State: casework.Handling, CategoryCode: "E0501", LeadDepartmentID: w.d2, CoHandlerIDs: []int64{w.d1},
		GridCode: lgGrid2, RegionPath: lpGrid2, Description: "占道经营 100%_done", Source: casework.SourceVideo,
		StageDeadline: at(5 * 24 * time.Hour), StageWarnAt: at(4 * 24 * time.Hour)})
	w.add(t, "e", casework.Case{State: casework.Handled, CategoryCode: "E0101", LeadDepartmentID: w.d1, AssigneeUserID: w.w1,
		StageDeadline: at(5 * time.Minute), StageWarnAt: at(-time.Minute)})
	w.add(t, "f", casework.Case{State: casework.Closed, CategoryCode: "E0101", Stage: casework.StageNone, ClosedAt: at(-time.Hour)})
	w.add(t, "g", casework.Case{State: casework.Cancelled, CategoryCode: "E0102", GridCode: lgGrid2, RegionPath: lpGrid2,
		Stage: casework.StageNone, DeletedAt: &deleted})
	w.add(t, "h", casework.Case{Address: "任港路口", Source: casework.SourceResident,
		DeskRegionCode: "320613001", DeskRegionPath: lpStreet1}) // unplaced, held at street 1
	w.add(t, "i", casework.Case{State: casework.Verifying, CategoryCode: "E0101", AssigneeUserID: w.w1,
		StageDeadline: at(time.Hour), StageWarnAt: at(time.Minute)})
	w.add(t, "j", casework.Case{State: casework.Checked, CategoryCode: "E0101", LeadDepartmentID: w.d1,
		StageDeadline: at(-time.Minute), StageWarnAt: at(-3 * time.Minute)})
	w.add(t, "k", casework.Case{State: casework.Handled, CategoryCode: "E0102", LeadDepartmentID: w.d2,
		StageDeadline: at(2 * time.Hour), StageWarnAt: at(time.Hour)})
	// d's former co-handler d1 is inactive: it reads the case but no longer co-handles it.
	if _, err := s.UpdateCase(context.Background(), w.cases["d"].ID, casework.Reach{All: true}, func(c *casework.Case) error {
		c.CoHandlerIDs, c.UpdatedAt = nil, c.UpdatedAt.Add(30*time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *listWorld) names(cs []casework.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = w.byID[c.ID]
	}
	return out
}

func sortedNames(n []string) []string {
	out := slices.Clone(n)
	sort.Strings(out)
	return out
}

func TestListCasesFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newListWorld(t, s)
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    casework.Filter
			want string // case names, sorted
		}{
			{"everything", casework.Filter{}, "a b c d e f g h i j k"},
			{"one state", casework.Filter{States: []casework.State{casework.Handled}}, "e k"},
			{"states", casework.Filter{States: []casework.State{casework.Reported, casework.Closed}}, "a f h"},
			{"small class", casework.Filter{Categories: []string{"E0102"}}, "b g k"},
			{"大类", casework.Filter{Categories: []string{"E01"}}, "a b e f g i j k"},
			{"type and class", casework.Filter{Categories: []string{"C", "E0501"}}, "c d"},
			{"street 1 subtree, the unplaced case at its desk too", casework.Filter{RegionPath: lpStreet1}, "a b e f h i j k"},
			{"street 2 subtree", casework.Filter{RegionPath: lpStreet2}, "c d g"},
			{"a grid's subtree", casework.Filter{RegionPath: lpGrid2}, "c d g"},
			{"grid", casework.Filter{GridCodes: []string{lgGrid2}}, "c d g"},
			{"department leads or co-handles now", casework.Filter{DepartmentID: w.d1}, "c e j"},
			{"department 2", casework.Filter{DepartmentID: w.d2}, "c d k"},
			{"assignee", casework.Filter{AssigneeUserID: w.w1}, "e i"},
			{"reporter", casework.Filter{ReporterUserID: w.u1}, "a"},
			{"sources", casework.Filter{Sources: []casework.Source{casework.SourceVideo, casework.SourceResident}}, "d h"},
			{"overdue", casework.Filter{Overdue: &yes}, "b j"},
			{"not overdue: open, no clock passed", casework.Filter{Overdue: &no}, "a c d e h i k"},
			{"red", casework.Filter{Lights: []worktime.Light{worktime.Red}}, "b j"},
			{"yellow", casework.Filter{Lights: []worktime.Light{worktime.Yellow}}, "c e"},
			{"green", casework.Filter{Lights: []worktime.Light{worktime.Green}}, "a d i k"},
			{"yellow or red", casework.Filter{Lights: []worktime.Light{worktime.Yellow, worktime.Red}}, "b c e j"},
			{"created from", casework.Filter{CreatedFrom: caseT0.Add(9 * time.Minute)}, "i j k"},
			{"created to (exclusive)", casework.Filter{CreatedTo: caseT0.Add(3 * time.Minute)}, "a b"},
			{"updated range", casework.Filter{UpdatedFrom: caseT0.Add(2 * time.Minute), UpdatedTo: caseT0.Add(4 * time.Minute)}, "b c"},
			{"text in the description", casework.Filter{Text: "垃圾"}, "a"},
			{"text in the address", casework.Filter{Text: "任港"}, "h"},
			{"text in the number", casework.Filter{Text: "-000003"}, "c"},
			{"a % is literal", casework.Filter{Text: "100%"}, "d"},
			{"an _ is literal", casework.Filter{Text: "%_d"}, "d"},
			{"no match", casework.Filter{Text: "无此内容"}, ""},
			{"bbox", casework.Filter{BBox: &casework.Box{MinLat: 32.0, MaxLat: 32.015, MinLng: 120.8, MaxLng: 121.0}}, "a c"},
			{"open only", casework.Filter{OpenOnly: true}, "a b c d e h i j k"},
			{"combined", casework.Filter{RegionPath: lpStreet1, Lights: []worktime.Light{worktime.Red, worktime.Green}, Categories: []string{"E01"}}, "a b i j k"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := casework.Query{Reach: casework.Reach{All: true}, Filter: tc.f, Now: lNow, Order: casework.OrderUpdatedDesc}
				got, err := s.ListCases(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if g := strings.Join(sortedNames(w.names(got)), " "); g != tc.want {
					t.Errorf("got %q, want %q", g, tc.want)
				}
				n, err := s.CountCases(ctx, q)
				if err != nil || n != int64(len(got)) {
					t.Errorf("count %d, %v; listed %d", n, err, len(got))
				}
				for _, c := range got {
					if l := casework.LightAt(&c, lNow); len(tc.f.Lights) > 0 && !slices.Contains(tc.f.Lights, l) {
						t.Errorf("case %s has light %q in SQL but %q in Go", w.byID[c.ID], tc.f.Lights, l)
					}
				}
			})
		}
	})
}

func TestListCasesScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newListWorld(t, s)
		for _, tc := range []struct {
			name string
			p    identity.Principal
			want string
		}{
			{"a grid worker: their grid and their assignments",
				identity.Principal{UserID: w.w1, Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{lgGrid2}}}, "c d e g i"},
			{"a handler: their department's, now or before",
				identity.Principal{UserID: 999, Role: identity.RoleHandler, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: w.d2}}, "c d k"},
			{"a street desk: its subtree and its desk",
				identity.Principal{UserID: 999, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: lpStreet2}}, "c d g"},
			{"a reporter without scope", identity.Principal{UserID: w.u1, Role: identity.RoleGridWorker}, "a"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := casework.Query{Reach: casework.ReachOf(tc.p), Now: lNow, Order: casework.OrderCreatedAsc}
				got, err := s.ListCases(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if g := strings.Join(w.names(got), " "); g != tc.want {
					t.Errorf("got %q, want %q", g, tc.want)
				}
				// A filter never widens the scope.
				q.Filter.GridCodes = []string{lgGrid1}
				got, _ = s.ListCases(ctx, q)
				for _, c := range got {
					if !strings.Contains(" "+tc.want+" ", " "+w.byID[c.ID]+" ") {
						t.Errorf("filter widened the scope to %s", w.byID[c.ID])
					}
				}
			})
		}
	})
}

func TestListCasesInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newListWorld(t, s)
		// l: a fix in grid 1 nobody was sent to check (E0101 requires one).
		w.add(t, "l", casework.Case{State: casework.Handled, CategoryCode: "E0101", LeadDepartmentID: w.d1,
			StageDeadline: at(20 * time.Minute), StageWarnAt: at(10 * time.Minute)})
		for _, tc := range []struct {
			name  string
			reach casework.Reach
			tasks casework.Tasks
			want  string // most urgent first
		}{
			{"grid worker: sent to verify or check, and unassigned checks in the grid",
				casework.Reach{UserID: w.w1, GridCodes: []string{lgGrid1}},
				casework.Tasks{AssigneeUserID: w.w1, CheckGridCodes: []string{lgGrid1}}, "e l i"},
			{"handler: to sign and handling, co-handled too",
				casework.Reach{DepartmentID: w.d1}, casework.Tasks{DepartmentID: w.d1}, "c"},
			{"handler 2: leads d, co-handles c",
				casework.Reach{DepartmentID: w.d2}, casework.Tasks{DepartmentID: w.d2}, "c d"},
			{"street 1 desk: accept, dispatch, close, close without a check, request a check",
				casework.Reach{RegionPaths: []string{lpStreet1}}, casework.Tasks{DeskPaths: []string{lpStreet1}}, "b j l a k h"},
			{"district desk: nothing is held there", casework.Reach{RegionPaths: []string{"/320600/320613/"}},
				casework.Tasks{DeskPaths: []string{"/320600/320613/"}}, ""},
			{"supervisor: red cases in scope", casework.Reach{RegionPaths: []string{"/320600/"}}, casework.Tasks{Overdue: true}, "b j"},
			{"supervisor of street 2: none red", casework.Reach{RegionPaths: []string{lpStreet2}}, casework.Tasks{Overdue: true}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tasks := tc.tasks
				q := casework.Query{Reach: tc.reach, Tasks: &tasks, Now: lNow, Order: casework.OrderUrgency}
				got, err := s.ListCases(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if g := strings.Join(w.names(got), " "); g != tc.want {
					t.Errorf("got %q, want %q", g, tc.want)
				}
			})
		}
	})
}

// walk pages through q with page size n, calling between before each page after the first.
func walk(t *testing.T, s *store.Store, q casework.Query, n int, between func(page int)) []casework.Case {
	t.Helper()
	var all []casework.Case
	q.Limit = n
	for page := 0; page < 100; page++ {
		if page > 0 && between != nil {
			between(page)
		}
		got, err := s.ListCases(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		if len(got) < n {
			return all
		}
		last := got[len(got)-1]
		var key *time.Time
		rank := 0
		switch q.Order {
		case casework.OrderUpdatedAsc, casework.OrderUpdatedDesc:
			key = &last.UpdatedAt
		case casework.OrderCreatedAsc, casework.OrderCreatedDesc:
			key = &last.CreatedAt
		case casework.OrderUrgency:
			key = last.StageDeadline
			rank = map[worktime.Light]int{worktime.Red: 0, worktime.Yellow: 1, worktime.Green: 2, "": 3}[casework.LightAt(&last, q.Now)]
		default:
			key = last.StageDeadline
		}
		q.After = &casework.Position{Time: key, Rank: rank, ID: last.ID}
	}
	t.Fatal("no end of pages")
	return nil
}

func TestListCasesKeysetPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newListWorld(t, s)
		// Ties: three more cases with the same created and updated time and deadline as a.
		a := w.cases["a"]
		for _, n := range []string{"a2", "a3", "a4"} {
			w.add(t, n, casework.Case{CategoryCode: "E0101", CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
				StageDeadline: a.StageDeadline, StageWarnAt: a.StageWarnAt})
		}
		for _, order := range []casework.Order{casework.OrderUpdatedDesc, casework.OrderUpdatedAsc, casework.OrderCreatedDesc,
			casework.OrderCreatedAsc, casework.OrderDeadlineAsc, casework.OrderDeadlineDesc, casework.OrderUrgency} {
			t.Run(string(order), func(t *testing.T) {
				q := casework.Query{Reach: casework.Reach{All: true}, Now: lNow, Order: order}
				whole, err := s.ListCases(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				checkOrder(t, w, whole, order)
				// Pages of 3, with a case inserted before every page (some sort before the
				// position, some after): the cases that were there are each seen exactly once,
				// in the same order.
				before := map[int64]bool{}
				for _, c := range whole {
					before[c.ID] = true
				}
				pages := walk(t, s, q, 3, func(page int) {
					d := time.Duration(page) * time.Minute
					old := caseT0.Add(-d)
					w.add(t, fmt.Sprintf("new%s%d", order, page), casework.Case{CategoryCode: "E0101",
						CreatedAt: old, UpdatedAt: lNow.Add(d), StageDeadline: at(-d), StageWarnAt: at(-2 * d)})
				})
				var seen []int64
				for _, c := range pages {
					if before[c.ID] {
						seen = append(seen, c.ID)
					}
				}
				var want []int64
				for _, c := range whole {
					want = append(want, c.ID)
				}
				if !slices.Equal(seen, want) {
					t.Errorf("pages saw %v, want %v", seen, want)
				}
				ids := map[int64]bool{}
				for _, c := range pages {
					if ids[c.ID] {
						t.Errorf("case %s seen twice", w.byID[c.ID])
					}
					ids[c.ID] = true
				}
			})
		}
	})
}

// checkOrder asserts that cs is sorted as order says, the id breaking ties.
func checkOrder(t *testing.T, w *listWorld, cs []casework.Case, order casework.Order) {
	t.Helper()
	key := func(c casework.Case) (int, time.Time, bool) { // rank, key, has key
		switch order {
		case casework.OrderUpdatedAsc, casework.OrderUpdatedDesc:
			return 0, c.UpdatedAt, true
		case casework.OrderCreatedAsc, casework.OrderCreatedDesc:
			return 0, c.CreatedAt, true
		}
		rank := 0
		if order == casework.OrderUrgency {
			rank = map[worktime.Light]int{worktime.Red: 0, worktime.Yellow: 1, worktime.Green: 2, "": 3}[casework.LightAt(&c, lNow)]
		}
		if c.StageDeadline == nil {
			return rank, time.Time{}, false
		}
		return rank, *c.StageDeadline, true
	}
	desc := strings.HasPrefix(string(order), "-")
	for i := 1; i < len(cs); i++ {
		r0, k0, h0 := key(cs[i-1])
		r1, k1, h1 := key(cs[i])
		var cmp int
		switch {
		case r0 != r1:
			cmp = r0 - r1
		case h0 != h1: // no key last, in both directions
			if h0 {
				cmp = -1
			} else {
				cmp = 1
			}
		case !k0.Equal(k1):
			cmp = k0.Compare(k1)
			if desc {
				cmp = -cmp
			}
		default:
			cmp = int(cs[i-1].ID - cs[i].ID)
			if desc {
				cmp = -cmp
			}
		}
		if cmp >= 0 {
			t.Errorf("%s: %s before %s", order, w.byID[cs[i-1].ID], w.byID[cs[i].ID])
		}
	}
}

func TestListCasesDeltaSyncTombstones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newListWorld(t, s)
		since := caseT0.Add(8 * time.Minute) // after h's creation
		q := casework.Query{Reach: casework.Reach{All: true}, Now: lNow, Order: casework.OrderUpdatedAsc,
			After: &casework.Position{Time: &since}}
		got, err := s.ListCases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(w.names(got), " "); g != "h i j k" {
			for _, c := range got {
				t.Logf("%s %s", w.byID[c.ID], c.UpdatedAt)
			}
			t.Fatalf("changed since: %q", g)
		}
		// Cancel i (a tombstone) and touch a: both come next, in order of change; a change not
		// yet settled (UpdatedBefore) waits.
		cancelAt, touchAt, lateAt := lNow.Add(time.Minute), lNow.Add(2*time.Minute), lNow.Add(time.Hour)
		for name, when := range map[string]time.Time{"i": cancelAt, "a": touchAt, "b": lateAt} {
			if _, err := s.UpdateCase(ctx, w.cases[name].ID, casework.Reach{All: true}, func(c *casework.Case) error {
				c.UpdatedAt = when
				if name == "i" {
					c.State, c.Stage, c.StageDeadline, c.StageWarnAt, c.DeletedAt = casework.Cancelled, casework.StageNone, nil, nil, &when
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		last := got[len(got)-1]
		q.After = &casework.Position{Time: &last.UpdatedAt, ID: last.ID}
		q.UpdatedBefore = lNow.Add(30 * time.Minute)
		got, err = s.ListCases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(w.names(got), " "); g != "i a" || got[0].DeletedAt == nil || got[0].State != casework.Cancelled {
			t.Fatalf("next changes: %q %+v", g, got)
		}
	})
}
