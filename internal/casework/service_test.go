package casework_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

// onePlace is a city with one street and one grid that holds every point.
type onePlace struct{}

var (
	refCity   = region.Ref{Code: "320600", Level: region.LevelCity, Path: "/320600/"}
	refStreet = region.Ref{Code: "320613001", Level: region.LevelStreet, ParentCode: "320600", Path: "/320600/320613001/"}
	refGrid   = region.Ref{Code: "320613001001001", Level: region.LevelGrid, ParentCode: "320613001", Path: "/320600/320613001/320613001001001/"}
)

func (onePlace) Locate(context.Context, geo.Point) (region.Ref, []region.Ref, bool, error) {
	return refGrid, []region.Ref{refCity, refStreet}, true, nil
}

func (onePlace) Region(_ context.Context, code string) (region.Ref, error) {
	for _, r := range []region.Ref{refCity, refStreet, refGrid} {
		if r.Code == code {
			return r, nil
		}
	}
	return region.Ref{}, errs.NotFoundf("no region %s", code)
}

func (onePlace) Roots(context.Context) ([]region.Ref, error) { return []region.Ref{refCity}, nil }

func (onePlace) ResponsibleDepartments(context.Context, string, string) ([]int64, error) {
	return nil, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func local(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDeadlinesTimeUsedAndLights follows one case on the work calendar: stage deadlines, the
// handling deadline from the category's limit, time used and overdue on each event, and the
// traffic light.
func TestDeadlinesTimeUsedAndLights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := local("2026-03-16 09:00") // a Monday
		admin := identity.User{Username: "admin", DisplayName: "admin", PasswordHash: "x", Role: identity.RoleAdmin,
			Scope: identity.Scope{Kind: identity.ScopeAll}, Active: true, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
		if err := st.CreateUser(ctx, &admin); err != nil {
			t.Fatal(err)
		}
		dept := identity.Department{Code: "cgj", Name: "城市管理局", Active: true, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateDepartment(ctx, &dept); err != nil {
			t.Fatal(err)
		}
		for _, c := range category.Catalogue() {
			c.CreatedAt, c.UpdatedAt = now, now
			if err := st.CreateCategory(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		handler := identity.User{Username: "h", DisplayName: "h", PasswordHash: "x", Role: identity.RoleHandler,
			Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: dept.ID}, Active: true, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
		if err := st.CreateUser(ctx, &handler); err != nil {
			t.Fatal(err)
		}
		p, hp := admin.Principal(), handler.Principal()
		clk := &clock{t: now}
		svc := casework.NewService(st, st, onePlace{}, worktime.DefaultCalendar(), casework.Config{})
		svc.SetClock(clk.now)

		lat, lng := 32.01, 120.86
		res, err := svc.Report(ctx, p, casework.ReportInput{CategoryCode: "E0101", Description: "暴露垃圾", Lat: &lat, Lng: &lng, CoordSys: "gcj02"})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Case
		if c.GridCode != refGrid.Code || c.DeskRegionCode != refStreet.Code || c.Source != casework.SourceHotline ||
			c.OrigCoordSys != "gcj02" || c.Point.Lat == lat || c.OrigPoint.Lat != lat {
			t.Fatalf("placed: %+v", c)
		}
		if !c.StageDeadline.Equal(local("2026-03-16 09:15")) || res.Light != worktime.Green {
			t.Fatalf("accept deadline %v, light %s", c.StageDeadline.In(shanghai), res.Light)
		}
		wantNumber := "GC20260316-000001"
		if c.Number != wantNumber {
			t.Fatalf("number %s, want %s", c.Number, wantNumber)
		}

		clk.t = local("2026-03-16 09:30") // 15 minutes late
		if v, _ := svc.Get(ctx, p, c.ID); v.Light != worktime.Red {
			t.Fatalf("light of a late accept: %s", v.Light)
		}
		if _, _, err := svc.Act(ctx, p, c.ID, casework.Command{Action: casework.Accept}); err != nil {
			t.Fatal(err)
		}

		clk.t = local("2026-03-20 16:00") // Friday afternoon
		v, _, err := svc.Act(ctx, p, c.ID, casework.Command{Action: casework.Dispatch, DepartmentID: dept.ID})
		if err != nil {
			t.Fatal(err)
		}
		// 1 work day from Friday 16:00 is Monday 16:00 (1.5 h on Friday, 6 h on Monday).
		if !v.Case.HandleDeadline.Equal(local("2026-03-23 16:00")) || !v.Case.StageDeadline.Equal(local("2026-03-20 17:00")) {
			t.Fatalf("handle deadline %v, sign deadline %v", v.Case.HandleDeadline.In(shanghai), v.Case.StageDeadline.In(shanghai))
		}

		clk.t = local("2026-03-23 09:00")
		v, _, err = svc.Act(ctx, hp, c.ID, casework.Command{Action: casework.Sign})
		if err != nil {
			t.Fatal(err)
		}
		if v.Case.Stage != casework.StageHandle || !v.Case.StageDeadline.Equal(*v.Case.HandleDeadline) {
			t.Fatalf("handling: %+v", v.Case)
		}
		for _, tt := range []struct {
			at   string
			want worktime.Light
		}{
			{"2026-03-23 12:00", worktime.Green},  // 5 h of 7.5 used
			{"2026-03-23 15:00", worktime.Yellow}, // 6.5 h: over 80 %
			{"2026-03-23 16:30", worktime.Red},    // past the deadline
		} {
			clk.t = local(tt.at)
			if v, _ := svc.Get(ctx, p, c.ID); v.Light != tt.want {
				t.Errorf("light at %s: %s, want %s", tt.at, v.Light, tt.want)
			}
		}

		evs, err := svc.Events(ctx, p, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			stage   casework.Stage
			used    int64
			overdue bool
		}{
			{"", 0, false},
			{casework.StageAccept, 30 * 60, true},
			{casework.StageDispatch, int64(local("2026-03-20 16:00").Sub(local("2026-03-16 09:30")) / time.Second), true},
			{casework.StageSign, int64(local("2026-03-23 09:00").Sub(local("2026-03-20 16:00")) / time.Second), true},
		}
		if len(evs) != len(want) {
			t.Fatalf("%d events", len(evs))
		}
		for i, w := range want {
			if evs[i].Stage != w.stage || evs[i].TimeUsedSeconds != w.used || evs[i].Overdue != w.overdue {
				t.Errorf("event %d (%s): stage %q used %d overdue %v; want %+v", i+1, evs[i].Action, evs[i].Stage, evs[i].TimeUsedSeconds, evs[i].Overdue, w)
			}
		}

		clk.t = local("2026-03-23 10:00")
		c2, err := svc.Report(ctx, p, casework.ReportInput{CategoryCode: "E0701", Description: "邻里纠纷", Address: "桃坞路 1 号"})
		if err != nil {
			t.Fatal(err)
		}
		if c2.Case.Number != "GC20260323-000001" || c2.Located {
			t.Fatalf("second case: %s located=%v", c2.Case.Number, c2.Located)
		}
		for _, a := range []casework.Command{{Action: casework.Accept, GridCode: refGrid.Code}, {Action: casework.Dispatch, DepartmentID: dept.ID},
			{Action: casework.Sign}, {Action: casework.Feedback, Note: "已调解"}} {
			who := p
			if a.Action == casework.Sign || a.Action == casework.Feedback {
				who = hp
			}
			if _, _, err := svc.Act(ctx, who, c2.Case.ID, a); err != nil && a.Action != casework.Feedback {
				t.Fatalf("%s: %v", a.Action, err)
			} else if a.Action == casework.Feedback && !errs.Is(err, errs.Invalid) {
				t.Fatalf("feedback without an after photo: %v", err)
			}
		}
	})
}
