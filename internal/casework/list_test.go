package casework_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

// listEnv is a service on a real store with the catalogue, a department, an admin, a handler
// and a grid worker of the one grid, on a clock the test moves.
type listEnv struct {
	svc                    *casework.Service
	clk                    *clock
	admin, handler, worker identity.Principal
	dept                   identity.Department
	ctx                    context.Context
}

func newListEnv(t *testing.T, st *store.Store, now time.Time) *listEnv {
	t.Helper()
	ctx := context.Background()
	user := func(name string, role identity.Role, scope identity.Scope) identity.Principal {
		u := identity.User{Username: name, DisplayName: name, PasswordHash: "x", Role: role, Scope: scope, Active: true,
			CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		return u.Principal()
	}
	e := &listEnv{clk: &clock{t: now}, ctx: ctx}
	e.dept = identity.Department{Code: "cgj", Name: "城市管理局", Active: true, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateDepartment(ctx, &e.dept); err != nil {
		t.Fatal(err)
	}
	for _, c := range category.Catalogue() {
		c.CreatedAt, c.UpdatedAt = now, now
		if err := st.CreateCategory(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	e.admin = user("admin", identity.RoleAdmin, identity.Scope{Kind: identity.ScopeAll})
	e.handler = user("h", identity.RoleHandler, identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: e.dept.ID})
	e.worker = user("w", identity.RoleGridWorker, identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{refGrid.Code}})
	e.svc = casework.NewService(st, st, onePlace{}, worktime.DefaultCalendar(), casework.Config{})
	e.svc.SetClock(e.clk.now)
	return e
}

func (e *listEnv) report(t *testing.T, desc string) casework.Case {
	t.Helper()
	lat, lng := 32.01, 120.86
	res, err := e.svc.Report(e.ctx, e.admin, casework.ReportInput{CategoryCode: "E0101", Description: desc, Lat: &lat, Lng: &lng})
	if err != nil {
		t.Fatal(err)
	}
	return res.Case
}

func (e *listEnv) act(t *testing.T, p identity.Principal, id int64, cmd casework.Command) casework.Case {
	t.Helper()
	v, _, err := e.svc.Act(e.ctx, p, id, cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Action, err)
	}
	return v.Case
}

func (e *listEnv) ids(t *testing.T, p identity.Principal, in casework.ListInput) []int64 {
	t.Helper()
	page, err := e.svc.List(e.ctx, p, in)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(page.Items))
	for i, v := range page.Items {
		out[i] = v.Case.ID
	}
	return out
}

// TestStageWarnAtAndLightFilter: every stage stores the calendar's warning time, and the light
// filter (SQL) agrees with the light the case shows (the calendar) at every instant, handling
// measured from the dispatch.
func TestStageWarnAtAndLightFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newListEnv(t, st, local("2026-03-16 09:00"))
		c := e.report(t, "暴露垃圾")
		if c.StageWarnAt == nil || !c.StageWarnAt.Equal(local("2026-03-16 09:12")) { // 80 % of 15 work minutes
			t.Fatalf("accept warns at %v", c.StageWarnAt)
		}
		e.clk.t = local("2026-03-16 09:10")
		e.act(t, e.admin, c.ID, casework.Command{Action: casework.Accept})
		e.clk.t = local("2026-03-20 16:00") // Friday
		e.act(t, e.admin, c.ID, casework.Command{Action: casework.Dispatch, DepartmentID: e.dept.ID})
		e.clk.t = local("2026-03-23 09:00")
		c = e.act(t, e.handler, c.ID, casework.Command{Action: casework.Sign})
		// 1 work day = 7.5 h from Friday 16:00: 80 % (6 h) is Monday 14:30, the end Monday 16:00.
		if c.StageWarnAt == nil || !c.StageWarnAt.Equal(local("2026-03-23 14:30")) || !c.StageDeadline.Equal(local("2026-03-23 16:00")) {
			t.Fatalf("handling warns at %v, due %v", c.StageWarnAt, c.StageDeadline)
		}
		for _, at := range []string{"2026-03-23 12:00", "2026-03-23 14:29", "2026-03-23 14:30", "2026-03-23 16:00", "2026-03-23 16:01", "2026-03-24 09:00"} {
			e.clk.t = local(at)
			v, err := e.svc.Get(e.ctx, e.admin, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range []worktime.Light{worktime.Green, worktime.Yellow, worktime.Red} {
				listed := len(e.ids(t, e.admin, casework.ListInput{Filter: casework.Filter{Lights: []worktime.Light{l}}})) == 1
				if listed != (v.Light == l) {
					t.Errorf("at %s the case shows %s, but the %s filter listed it: %v", at, v.Light, l, listed)
				}
			}
			yes := true
			overdue := len(e.ids(t, e.admin, casework.ListInput{Filter: casework.Filter{Overdue: &yes}})) == 1
			if overdue != (v.Light == worktime.Red) || casework.LightAt(&v.Case, e.clk.t) != v.Light {
				t.Errorf("at %s: light %s, overdue filter %v, LightAt %s", at, v.Light, overdue, casework.LightAt(&v.Case, e.clk.t))
			}
		}
	})
}

// TestListCursorsAndDeltaSync walks a list by cursor and runs a phone's delta sync: cursors are
// tied to their filters and order, changes wait out SyncSettle, tombstones come through, and an
// empty sync keeps the phone's place.
func TestListCursorsAndDeltaSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newListEnv(t, st, local("2026-03-16 09:00"))
		var all []int64
		for i := 0; i < 5; i++ {
			e.clk.t = e.clk.t.Add(time.Minute)
			all = append(all, e.report(t, "垃圾").ID)
		}
		// Pages of 2, newest change first.
		var seen []int64
		in := casework.ListInput{Limit: 2, Filter: casework.Filter{Text: "垃圾"}}
		for {
			page, err := e.svc.List(e.ctx, e.admin, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Items {
				seen = append(seen, v.Case.ID)
			}
			if !page.HasMore {
				if page.Next != "" {
					t.Errorf("a last page with a cursor")
				}
				break
			}
			in.Cursor = page.Next
		}
		want := slices.Clone(all)
		slices.Reverse(want)
		if !slices.Equal(seen, want) {
			t.Fatalf("pages: %v, want %v", seen, want)
		}
		first, _ := e.svc.List(e.ctx, e.admin, casework.ListInput{Limit: 2, Filter: casework.Filter{Text: "垃圾"}})
		for name, bad := range map[string]casework.ListInput{
			"other filters":  {Limit: 2, Cursor: first.Next, Filter: casework.Filter{Text: "其他"}},
			"other sort":     {Limit: 2, Cursor: first.Next, Filter: casework.Filter{Text: "垃圾"}, Sort: "created_at"},
			"garbage":        {Cursor: "not a cursor"},
			"big page":       {Limit: casework.MaxPageSize + 1},
			"bad state":      {Filter: casework.Filter{States: []casework.State{"lost"}}},
			"bad category":   {Filter: casework.Filter{Categories: []string{"X01"}}},
			"unknown region": {RegionCode: "999999"},
		} {
			if _, err := e.svc.List(e.ctx, e.admin, bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}

		// A phone syncs everything, then only what changed.
		epoch := time.Unix(0, 0).UTC()
		e.clk.t = e.clk.t.Add(time.Minute)
		page, err := e.svc.List(e.ctx, e.worker, casework.ListInput{UpdatedSince: &epoch})
		if err != nil || len(page.Items) != 5 || !page.Sync || page.Next == "" || page.HasMore {
			t.Fatalf("first sync: %d items, %+v, %v", len(page.Items), page, err)
		}
		cursor := page.Next
		// Cancel one: it comes as a tombstone, but only once SyncSettle has passed.
		e.act(t, e.admin, all[1], casework.Command{Action: casework.Cancel, Reason: "重复上报"})
		page, err = e.svc.List(e.ctx, e.worker, casework.ListInput{Cursor: cursor})
		if err != nil || len(page.Items) != 0 || page.Next != cursor {
			t.Fatalf("sync before the change settled: %d items, next %q, %v", len(page.Items), page.Next, err)
		}
		e.clk.t = e.clk.t.Add(casework.SyncSettle + time.Second)
		page, err = e.svc.List(e.ctx, e.worker, casework.ListInput{Cursor: cursor})
		if err != nil || len(page.Items) != 1 || page.Items[0].Case.ID != all[1] || page.Items[0].Case.DeletedAt == nil || page.Next == cursor {
			t.Fatalf("sync after a cancel: %+v, %v", page, err)
		}
		if _, err := e.svc.List(e.ctx, e.worker, casework.ListInput{Cursor: page.Next, UpdatedSince: &epoch}); !errs.Is(err, errs.Invalid) {
			t.Errorf("cursor and updated_since together: %v", err)
		}
		if _, err := e.svc.List(e.ctx, e.worker, casework.ListInput{Cursor: page.Next, Sort: "-created_at"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("a sync in another order: %v", err)
		}
	})
}

func TestTasksProblemsAndExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newListEnv(t, st, local("2026-03-16 09:00"))
		a := e.report(t, "a")
		b := e.report(t, "b")
		e.act(t, e.admin, b.ID, casework.Command{Action: casework.Accept})
		e.act(t, e.admin, b.ID, casework.Command{Action: casework.Dispatch, DepartmentID: e.dept.ID})
		e.act(t, e.admin, a.ID, casework.Command{Action: casework.RequestVerification, AssigneeUserID: e.worker.UserID})

		for _, tc := range []struct {
			name   string
			p      identity.Principal
			id     int64
			reason string
			next   casework.Action
		}{
			{"worker verifies", e.worker, a.ID, casework.ReasonVerify, casework.Verify},
			{"handler signs", e.handler, b.ID, casework.ReasonSign, casework.Sign},
		} {
			list, err := e.svc.Tasks(e.ctx, tc.p, 0)
			if err != nil || list.Total != 1 || len(list.Items) != 1 || list.Items[0].Case.ID != tc.id ||
				list.Items[0].Reason != tc.reason || list.Items[0].NextAction != tc.next {
				t.Errorf("%s: %+v, %v", tc.name, list, err)
			}
		}
		// The admin sits at the top desk: nothing is held there.
		if list, err := e.svc.Tasks(e.ctx, e.admin, 0); err != nil || list.Total != 0 {
			t.Errorf("admin's inbox: %+v, %v", list, err)
		}
		if _, err := e.svc.Tasks(e.ctx, identity.Principal{APIKeyID: 1, Role: identity.RoleIntegrator}, 0); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an API key's inbox: %v", err)
		}

		// Problem lists: in scope, out of scope (404 like a missing region).
		pl, err := e.svc.Problems(e.ctx, e.worker, refGrid.Code, "", 0)
		if err != nil || pl.Total != 2 || len(pl.Items) != 2 || pl.Region.Code != refGrid.Code {
			t.Fatalf("the worker's grid: %+v, %v", pl, err)
		}
		other := identity.Principal{UserID: 99, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320699/"}}
		for name, tc := range map[string]struct {
			p    identity.Principal
			code string
		}{
			"a street the worker does not patrol": {e.worker, refStreet.Code},
			"another street's desk":               {other, refGrid.Code},
			"no such region":                      {e.admin, "123456"},
		} {
			if _, err := e.svc.Problems(e.ctx, tc.p, tc.code, "", 0); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}

		// Exports: the cap is checked before anything is read; truncation when more arrive.
		if _, err := e.svc.PrepareExport(e.ctx, e.admin, casework.ListInput{}, 1); !errs.Is(err, errs.Invalid) {
			t.Fatalf("export over the cap: %v", err)
		}
		exp, err := e.svc.PrepareExport(e.ctx, e.admin, casework.ListInput{Sort: "created_at"}, 2)
		if err != nil || exp.Count != 2 {
			t.Fatalf("export: %+v, %v", exp, err)
		}
		e.report(t, "c") // arrives between the count and the read
		var got []int64
		if err := exp.Each(e.ctx, func(v casework.View) error { got = append(got, v.Case.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []int64{a.ID, b.ID}) || !exp.Truncated {
			t.Errorf("exported %v truncated=%v", got, exp.Truncated)
		}
	})
}
