package calendar_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

// regions knows a fixed set of region codes.
type regions []string

func (r regions) RegionExists(_ context.Context, code string) error {
	if slices.Contains(r, code) {
		return nil
	}
	return errs.NotFoundf("no region %s", code)
}

var admin = identity.Principal{UserID: 0, Role: identity.RoleAdmin, Scope: identity.Scope{Kind: identity.ScopeAll}}

func newService(t *testing.T, s *store.Store) *calendar.Service {
	t.Helper()
	svc, err := calendar.NewService(context.Background(), s, regions{"320600", "320613", "320500"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func week(windows ...string) calendar.Settings {
	set := calendar.Settings{Zone: "Asia/Shanghai", Weekend: []time.Weekday{time.Saturday, time.Sunday}}
	for _, w := range windows {
		win, err := worktime.ParseWindow(w)
		if err != nil {
			panic(err)
		}
		set.Windows = append(set.Windows, win)
	}
	return set
}

// TestRulesForNearestRegion: a case follows the nearest region above it with a calendar, then
// the default calendar, then the built-in rules; a write on one replica reaches another through
// the change counter.
func TestRulesForNearestRegion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := newService(t, s), newService(t, s) // two replicas
		if r := a.RulesFor("/320600/320613/"); r.RegionCode != calendar.DefaultRegion || r.Calendar.DailyWork() != 450*time.Minute {
			t.Fatalf("before any calendar: %+v", r)
		}
		if created, err := a.EnsureDefault(ctx); err != nil || !created {
			t.Fatalf("EnsureDefault: %v %v", created, err)
		}
		if created, err := a.EnsureDefault(ctx); err != nil || created {
			t.Fatalf("EnsureDefault again: %v %v", created, err)
		}
		if _, _, err := a.Put(ctx, admin, "320600", week("08:00-12:00", "13:00-17:00")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.PutStageLimits(ctx, admin, "320600", map[string]worktime.Limit{"sign": worktime.WorkHoursLimit(3)}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			path, want string
			daily      time.Duration
		}{
			{"/320600/320613/320613001/320613001001/320613001001001/", "320600", 8 * time.Hour},
			{"/320600/", "320600", 8 * time.Hour},
			{"/320500/320505/", calendar.DefaultRegion, 450 * time.Minute},
			{"", calendar.DefaultRegion, 450 * time.Minute},
		}
		for _, tt := range tests {
			r := a.RulesFor(tt.path)
			if r.RegionCode != tt.want || r.Calendar.DailyWork() != tt.daily {
				t.Errorf("%q: %s %s, want %s %s", tt.path, r.RegionCode, r.Calendar.DailyWork(), tt.want, tt.daily)
			}
		}
		if l := a.RulesFor("/320600/").StageLimits["sign"]; l != worktime.WorkHoursLimit(3) {
			t.Fatalf("the city's sign limit: %v", l)
		}
		if l := a.RulesFor("/320600/").StageLimits["accept"]; l != calendar.DefaultStageLimits()["accept"] {
			t.Fatalf("the default accept limit: %v", l)
		}
		// The other replica sees nothing until it refreshes from the counter.
		if r := b.RulesFor("/320600/"); r.RegionCode == "320600" {
			t.Fatal("replica b saw the city calendar without refreshing")
		}
		if changed, err := b.Refresh(ctx); err != nil || !changed {
			t.Fatalf("refresh: %v %v", changed, err)
		}
		if r := b.RulesFor("/320600/320613/"); r.RegionCode != "320600" || r.Calendar.DailyWork() != 8*time.Hour {
			t.Fatalf("replica b after refresh: %s", r.RegionCode)
		}
		if changed, err := b.Refresh(ctx); err != nil || changed {
			t.Fatalf("a second refresh: %v %v", changed, err)
		}
		// A 2026 holiday inherited from the default applies in the city.
		if r := b.RulesFor("/320600/"); r.Calendar.IsWorkday(worktime.Date{Year: 2026, Month: time.October, Day: 1}) {
			t.Fatal("国庆节 is a workday in the city")
		}
	})
}

func TestCalendarWritesValidate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		if _, err := svc.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		handler := identity.Principal{UserID: 3, Role: identity.RoleHandler}
		if _, _, err := svc.Put(ctx, handler, "320600", week("08:00-12:00")); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a handler writes: %v", err)
		}
		if _, _, err := svc.Put(ctx, admin, "999999", week("08:00-12:00")); !errs.Is(err, errs.NotFound) {
			t.Fatalf("an unknown region: %v", err)
		}
		if _, err := svc.PutExceptions(ctx, admin, "320613", 2027, nil); !errs.Is(err, errs.NotFound) {
			t.Fatalf("exceptions of a region without a calendar: %v", err)
		}
		fieldsOf := func(err error) []string {
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("want invalid, got %v", err)
			}
			var out []string
			for _, f := range e.Fields {
				out = append(out, f.Field+":"+f.Rule)
			}
			return out
		}
		_, _, err := svc.Put(ctx, admin, calendar.DefaultRegion, week("08:30-12:00", "11:30-13:00"))
		if got := fieldsOf(err); !slices.Contains(got, "windows[1]:overlap") {
			t.Fatalf("overlap: %v", got)
		}
		_, err = svc.PutExceptions(ctx, admin, calendar.DefaultRegion, 2026, []worktime.Exception{
			{Date: worktime.Date{Year: 2026, Month: time.May, Day: 9}, Kind: worktime.Workday, Name: "劳动节调休"},
			{Date: worktime.Date{Year: 2026, Month: time.May, Day: 11}, Kind: worktime.Workday, Name: "周一"},
		})
		if got := fieldsOf(err); !slices.Equal(got, []string{"exceptions[1].date:not_weekend"}) {
			t.Fatalf("a weekday make-up day: %v", got)
		}
		var all []worktime.Exception
		for d := (worktime.Date{Year: 2028, Month: time.January, Day: 1}); d.Year == 2028; d = d.AddDays(1) {
			if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
				all = append(all, worktime.Exception{Date: d, Kind: worktime.Holiday, Name: "假"})
			}
		}
		_, err = svc.PutExceptions(ctx, admin, calendar.DefaultRegion, 2028, all)
		if got := fieldsOf(err); !slices.Equal(got, []string{"exceptions:no_workday"}) {
			t.Fatalf("a year without a workday: %v", got)
		}
		// The 2026 table is intact.
		ex, year, err := svc.Exceptions(ctx, calendar.DefaultRegion, 2026)
		if err != nil || year != 2026 || len(ex) != len(worktime.ChinaHolidays2026()) {
			t.Fatalf("2026 after refused writes: %d %v", len(ex), err)
		}
		// An empty table clears a year.
		if _, err := svc.PutExceptions(ctx, admin, calendar.DefaultRegion, 2026, nil); err != nil {
			t.Fatal(err)
		}
		if r := svc.RulesFor(""); !r.Calendar.IsWorkday(worktime.Date{Year: 2026, Month: time.October, Day: 1}) {
			t.Fatal("the cleared 国庆节 is still a holiday")
		}
		// Rules: defaults, replaced, none, back to the defaults.
		if _, err := svc.PutRules(ctx, admin, calendar.DefaultRegion, []calendar.Rule{}); err != nil {
			t.Fatal(err)
		}
		if r := svc.RulesFor(""); len(r.Supervision) != 0 {
			t.Fatalf("no rules: %v", r.Supervision)
		}
		if _, err := svc.PutRules(ctx, admin, calendar.DefaultRegion, nil); err != nil {
			t.Fatal(err)
		}
		if r := svc.RulesFor(""); len(r.Supervision) != len(calendar.DefaultRules()) {
			t.Fatalf("default rules: %v", r.Supervision)
		}
		_, err = svc.PutRules(ctx, admin, calendar.DefaultRegion, []calendar.Rule{
			{Stage: "sign", Trigger: calendar.Elapsed, After: worktime.WorkDaysLimit(1), Level: calendar.LevelYellow},
			{Stage: "sign", Trigger: calendar.Elapsed, After: worktime.WorkDaysLimit(1), Level: calendar.LevelYellow},
			{Stage: "handle", Trigger: calendar.Overdue, After: worktime.WorkDaysLimit(1), Level: calendar.LevelRed},
		})
		if got := fieldsOf(err); !slices.Equal(got, []string{"rules[1]:duplicate", "rules[2].after:overdue"}) {
			t.Fatalf("bad rules: %v", got)
		}
	})
}
