package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/worktime"
)

type calendarView struct {
	RegionCode       string   `json:"region_code"`
	Zone             string   `json:"zone"`
	Windows          []string `json:"windows"`
	Weekend          []int    `json:"weekend"`
	DailyWorkMinutes int      `json:"daily_work_minutes"`
	StageLimits      map[string]struct {
		Unit    string `json:"unit"`
		Value   int    `json:"value"`
		Minutes int    `json:"minutes"`
	} `json:"stage_limits"`
	SupervisionRules []map[string]any `json:"supervision_rules"`
	Version          int64            `json:"version"`
}

type exceptionsView struct {
	RegionCode string `json:"region_code"`
	Year       int    `json:"year"`
	Exceptions []struct {
		Date, Kind, Name string
	} `json:"exceptions"`
}

// fieldRules maps each field of a 422 problem to its rules.
func fieldRules(p map[string]any) map[string][]string {
	out := map[string][]string{}
	list, _ := p["errors"].([]any)
	for _, f := range list {
		m, _ := f.(map[string]any)
		field, _ := m["field"].(string)
		rule, _ := m["rule"].(string)
		out[field] = append(out[field], rule)
	}
	return out
}

func TestCalendarAPI(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)

		// The first start stored the default calendar with the 2026 national holidays.
		var def calendarView
		e.Get("/api/v1/calendars/default", w.d1).MustStatus(t, http.StatusOK).JSON(t, &def)
		if def.Zone != "Asia/Shanghai" || !slices.Equal(def.Windows, []string{"08:30-12:00", "13:30-17:30"}) ||
			!slices.Equal(def.Weekend, []int{0, 6}) || def.DailyWorkMinutes != 450 || def.StageLimits["sign"].Value != 1 ||
			len(def.SupervisionRules) != 3 {
			t.Fatalf("default calendar: %+v", def)
		}
		var ex exceptionsView
		e.Get("/api/v1/calendars/default/exceptions?year=2026", w.d1).MustStatus(t, http.StatusOK).JSON(t, &ex)
		if ex.Year != 2026 || len(ex.Exceptions) != len(worktime.ChinaHolidays2026()) || ex.Exceptions[0].Date != "2026-01-01" {
			t.Fatalf("2026 holidays: %+v", ex)
		}

		// A city without a calendar of its own: 404 until an admin creates one.
		e.Get("/api/v1/calendars/"+city, w.admin).MustStatus(t, http.StatusNotFound)
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city, Token: w.d1,
			JSON: map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:00-12:00"}, "weekend": []int{0}}}).MustStatus(t, http.StatusForbidden)
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/999999", Token: w.admin,
			JSON: map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:00-12:00"}, "weekend": []int{0}}}).MustStatus(t, http.StatusNotFound)
		var nt calendarView
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city, Token: w.admin,
			JSON: map[string]any{"zone": "Asia/Shanghai", "windows": []string{"13:00-17:00", "08:00-12:00"}, "weekend": []int{0, 6}}}).
			MustStatus(t, http.StatusCreated).JSON(t, &nt)
		if nt.RegionCode != city || !slices.Equal(nt.Windows, []string{"08:00-12:00", "13:00-17:00"}) || nt.DailyWorkMinutes != 480 || nt.Version != 1 {
			t.Fatalf("created: %+v", nt)
		}
		// It starts with the default calendar's holidays.
		e.Get("/api/v1/calendars/"+city+"/exceptions?year=2026", w.admin).MustStatus(t, http.StatusOK).JSON(t, &ex)
		if len(ex.Exceptions) != len(worktime.ChinaHolidays2026()) {
			t.Fatalf("inherited holidays: %d", len(ex.Exceptions))
		}
		// An update answers 200.
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city, Token: w.admin,
			JSON: map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:30-12:00", "14:00-18:00"}, "weekend": []int{6, 0}}}).
			MustStatus(t, http.StatusOK).JSON(t, &nt)
		if nt.Version != 2 || nt.Windows[1] != "14:00-18:00" {
			t.Fatalf("updated: %+v", nt)
		}

		// Replace 2027's table (the 2027 notice is not out: a local table for the test).
		table := map[string]any{"exceptions": []map[string]string{
			{"date": "2027-02-06", "kind": "holiday", "name": "春节"},
			{"date": "2027-02-07", "kind": "holiday", "name": "春节"},
			{"date": "2027-01-30", "kind": "workday", "name": "春节调休"},
		}}
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city + "/exceptions/2027", Token: w.admin, JSON: table}).
			MustStatus(t, http.StatusOK).JSON(t, &ex)
		if ex.Year != 2027 || len(ex.Exceptions) != 3 || ex.Exceptions[0].Date != "2027-01-30" {
			t.Fatalf("2027 table: %+v", ex)
		}
		e.Get("/api/v1/calendars/"+city+"/exceptions?year=2027", w.d1).MustStatus(t, http.StatusOK).JSON(t, &ex)
		if len(ex.Exceptions) != 3 || ex.Exceptions[2].Name != "春节" {
			t.Fatalf("2027 read back: %+v", ex)
		}

		// Stage limits: set sign to 2 work hours, the rest stay default.
		var sl struct {
			StageLimits map[string]struct {
				Unit  string
				Value int
			} `json:"stage_limits"`
			Custom []string `json:"custom"`
		}
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city + "/stage-limits", Token: w.admin,
			JSON: map[string]any{"stage_limits": map[string]any{"sign": map[string]any{"unit": "work_hours", "value": 2}}}}).
			MustStatus(t, http.StatusOK).JSON(t, &sl)
		if sl.StageLimits["sign"].Value != 2 || sl.StageLimits["accept"].Unit != "work_hours" || !slices.Equal(sl.Custom, []string{"sign"}) {
			t.Fatalf("stage limits: %+v", sl)
		}
		// Supervision rules: replace, then back to the defaults with null.
		var sr struct {
			Rules  []map[string]any `json:"rules"`
			Custom bool             `json:"custom"`
		}
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city + "/supervision-rules", Token: w.admin,
			JSON: map[string]any{"rules": []map[string]any{{"stage": "sign", "trigger": "overdue", "level": "red"}}}}).
			MustStatus(t, http.StatusOK).JSON(t, &sr)
		if !sr.Custom || len(sr.Rules) != 1 || sr.Rules[0]["trigger"] != "overdue" {
			t.Fatalf("rules: %+v", sr)
		}
		e.Do(apptest.Req{Method: http.MethodPut, Path: "/api/v1/calendars/" + city + "/supervision-rules", Token: w.admin,
			JSON: map[string]any{"rules": nil}}).MustStatus(t, http.StatusOK).JSON(t, &sr)
		if sr.Custom || len(sr.Rules) != 3 {
			t.Fatalf("rules back to the defaults: %+v", sr)
		}

		var list struct{ Items []calendarView }
		e.Get("/api/v1/calendars", w.h1).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].RegionCode != "default" || list.Items[1].RegionCode != city {
			t.Fatalf("list: %+v", list)
		}

		// A case in the city now runs on the city's calendar and limits: signing takes 2 work
		// hours from the dispatch on 08:30-12:00 and 14:00-18:00.
		c := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
		c, _ = w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		var got struct {
			DispatchedAt  time.Time `json:"dispatched_at"`
			StageDeadline time.Time `json:"stage_deadline"`
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d", c.ID), w.d1).MustStatus(t, http.StatusOK).JSON(t, &got)
		cityCal, err := worktime.New(worktime.Config{Zone: "Asia/Shanghai",
			Windows: []worktime.Window{{Start: worktime.ClockOf(8, 30), End: worktime.ClockOf(12, 0)}, {Start: worktime.ClockOf(14, 0), End: worktime.ClockOf(18, 0)}},
			Weekend: []time.Weekday{time.Saturday, time.Sunday}, Exceptions: worktime.ChinaHolidays2026()})
		if err != nil {
			t.Fatal(err)
		}
		if want := cityCal.Deadline(got.DispatchedAt, worktime.WorkHoursLimit(2)); !want.Equal(got.StageDeadline) {
			t.Fatalf("sign deadline %s, want %s on the city's calendar", got.StageDeadline, want)
		}
	})
}

func TestCalendarValidation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		put := func(path string, body any, want int) map[string]any {
			t.Helper()
			res := e.Do(apptest.Req{Method: http.MethodPut, Path: path, Token: admin, JSON: body}).MustStatus(t, want)
			if want == http.StatusOK || want == http.StatusCreated {
				return nil
			}
			return res.Map(t)
		}
		tests := []struct {
			name   string
			path   string
			body   any
			want   int
			fields map[string]string // field → rule
		}{
			{"overlapping windows", "/api/v1/calendars/default",
				map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:30-12:00", "11:00-14:00"}, "weekend": []int{0, 6}},
				http.StatusUnprocessableEntity, map[string]string{"windows[1]": "overlap"}},
			{"an unreadable window", "/api/v1/calendars/default",
				map[string]any{"zone": "Asia/Shanghai", "windows": []string{"8:30 to noon"}, "weekend": []int{0, 6}},
				http.StatusUnprocessableEntity, map[string]string{"windows[0]": "format"}},
			{"a week with no workday", "/api/v1/calendars/default",
				map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:30-12:00"}, "weekend": []int{0, 1, 2, 3, 4, 5, 6}},
				http.StatusUnprocessableEntity, map[string]string{"weekend": "no_workday"}},
			{"an unknown zone and no weekend", "/api/v1/calendars/default",
				map[string]any{"zone": "Mars/Olympus", "windows": []string{"08:30-12:00"}},
				http.StatusUnprocessableEntity, map[string]string{"zone": "zone", "weekend": "required"}},
			{"a weekend that contradicts the stored make-up days", "/api/v1/calendars/default",
				map[string]any{"zone": "Asia/Shanghai", "windows": []string{"08:30-12:00"}, "weekend": []int{1}},
				http.StatusUnprocessableEntity, map[string]string{"exceptions": "not_weekend"}},
			{"a year without a workday", "/api/v1/calendars/default/exceptions/2027",
				map[string]any{"exceptions": yearOfHolidays(2027)},
				http.StatusUnprocessableEntity, map[string]string{"exceptions": "no_workday"}},
			{"a date of another year, a bad kind, a repeated date", "/api/v1/calendars/default/exceptions/2027",
				map[string]any{"exceptions": []map[string]string{
					{"date": "2028-01-01", "kind": "holiday", "name": "元旦"},
					{"date": "2027-10-01", "kind": "vacation", "name": "国庆节"},
					{"date": "2027-10-02", "kind": "holiday", "name": "国庆节"},
					{"date": "2027-10-02", "kind": "holiday", "name": "国庆节"},
				}},
				http.StatusUnprocessableEntity, map[string]string{"exceptions[0].date": "year"}},
			{"a make-up workday on a weekday", "/api/v1/calendars/default/exceptions/2027",
				map[string]any{"exceptions": []map[string]string{{"date": "2027-10-11", "kind": "workday", "name": "国庆节调休"}}},
				http.StatusUnprocessableEntity, map[string]string{"exceptions[0].date": "not_weekend"}},
			{"kinds and repeats", "/api/v1/calendars/default/exceptions/2027",
				map[string]any{"exceptions": []map[string]string{
					{"date": "2027-10-01", "kind": "vacation", "name": "国庆节"},
					{"date": "2027-10-02", "kind": "holiday", "name": "国庆节"},
					{"date": "2027-10-02", "kind": "holiday", "name": ""},
				}},
				http.StatusUnprocessableEntity, map[string]string{"exceptions[0].kind": "enum", "exceptions[2].date": "duplicate", "exceptions[2].name": "required"}},
			{"the handling stage has no calendar limit", "/api/v1/calendars/default/stage-limits",
				map[string]any{"stage_limits": map[string]any{"handle": map[string]any{"unit": "work_days", "value": 1}, "sign": map[string]any{"unit": "hours", "value": 1}}},
				http.StatusUnprocessableEntity, map[string]string{"stage_limits.handle": "stage", "stage_limits.sign.unit": "enum"}},
			{"bad supervision rules", "/api/v1/calendars/default/supervision-rules",
				map[string]any{"rules": []map[string]any{
					{"stage": "accept", "trigger": "overdue", "level": "red"},
					{"stage": "sign", "trigger": "elapsed", "level": "orange"},
					{"stage": "handle", "trigger": "soon", "level": "red"},
				}},
				http.StatusUnprocessableEntity, map[string]string{"rules[0].stage": "enum", "rules[1].level": "enum", "rules[1].after.value": "positive", "rules[2].trigger": "enum"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := put(tt.path, tt.body, tt.want)
				got := fieldRules(p)
				for field, rule := range tt.fields {
					if !slices.Contains(got[field], rule) {
						t.Errorf("want %s: %s; got %v", field, rule, got)
					}
				}
			})
		}
		// Nothing was changed by the refused writes.
		var def calendarView
		e.Get("/api/v1/calendars/default", admin).MustStatus(t, http.StatusOK).JSON(t, &def)
		if def.Version != 1 || len(def.Windows) != 2 {
			t.Fatalf("the default calendar changed: %+v", def)
		}
		e.Get("/api/v1/calendars/default/exceptions?year=20x", admin).MustStatus(t, http.StatusBadRequest)
		e.Get("/api/v1/calendars/default/exceptions?year=1900", admin).MustStatus(t, http.StatusUnprocessableEntity)
	})
}

// yearOfHolidays is a table that makes every weekday of a year a holiday.
func yearOfHolidays(year int) []map[string]string {
	var out []map[string]string
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			out = append(out, map[string]string{"date": d.Format(time.DateOnly), "kind": "holiday", "name": "假"})
		}
	}
	return out
}
