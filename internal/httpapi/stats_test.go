package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gridcase/gridcase/internal/app/apptest"
)

// statsRow is the part of a StatsRow the tests read.
type statsRow struct {
	Key                  string   `json:"key"`
	Name                 string   `json:"name"`
	Reported             int      `json:"reported"`
	Filed                int      `json:"filed"`
	Dispatched           int      `json:"dispatched"`
	Returned             int      `json:"returned"`
	Reworked             int      `json:"reworked"`
	Closed               int      `json:"closed"`
	ClosedOnTime         int      `json:"closed_on_time"`
	Due                  int      `json:"due"`
	Suspended            int      `json:"suspended"`
	ClosedDispatched     int      `json:"closed_dispatched"`
	AccuratelyDispatched int      `json:"accurately_dispatched"`
	SelfHandled          int      `json:"self_handled"`
	MissedReports        int      `json:"missed_reports"`
	Reports              int      `json:"reports"`
	ValidReports         int      `json:"valid_reports"`
	Verifies             int      `json:"verifies"`
	VerifiesOnTime       int      `json:"verifies_on_time"`
	Checks               int      `json:"checks"`
	ChecksOnTime         int      `json:"checks_on_time"`
	HandlingRounds       int      `json:"handling_rounds"`
	OverdueCount         int      `json:"overdue_count"`
	Evaluations          int      `json:"evaluations"`
	Satisfied            int      `json:"satisfied"`
	OnTimeClosureRate    *float64 `json:"on_time_closure_rate"`
	ClosureRate          *float64 `json:"closure_rate"`
	ReworkRate           *float64 `json:"rework_rate"`
	AccurateDispatchRate *float64 `json:"accurate_dispatch_rate"`
	ReturnRate           *float64 `json:"return_rate"`
	AvgHandlingHours     *float64 `json:"avg_handling_hours"`
	OvertimeMultiple     *float64 `json:"overtime_multiple"`
	SatisfactionRate     *float64 `json:"satisfaction_rate"`
	AvgSatisfaction      *float64 `json:"avg_satisfaction"`
	ValidReportRate      *float64 `json:"valid_report_rate"`
	OnTimeVerifyRate     *float64 `json:"on_time_verify_rate"`
	OnTimeCheckRate      *float64 `json:"on_time_check_rate"`
	StageHours           map[string]struct {
		Count    int     `json:"count"`
		AvgHours float64 `json:"avg_hours"`
	} `json:"stage_hours"`
}

type statsTable struct {
	Grouping string `json:"grouping"`
	Level    string `json:"level"`
	From     string `json:"from"`
	To       string `json:"to"`
	Columns  []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"columns"`
	Rows  []statsRow `json:"rows"`
	Total statsRow   `json:"total"`
}

func (w *world) stats(token, query string) statsTable {
	w.t.Helper()
	var t statsTable
	w.e.Get("/api/v1/stats/"+query, token).MustStatus(w.t, http.StatusOK).JSON(w.t, &t)
	return t
}

// want is a row's expected figures: counts by JSON name, rates and averages as exact
// fractions (the API rounds rates to 4 decimals and hours to 2), absent ones as nil.
type want struct {
	counts map[string]int
	rates  map[string]*float64
	stages map[string][2]float64 // stage → {count, average seconds}
}

func f(v float64) *float64 { return &v }

// check compares a row with what the history says, figure by figure.
func (w want) check(t *testing.T, label string, r statsRow) {
	t.Helper()
	got := map[string]int{
		"reported": r.Reported, "filed": r.Filed, "dispatched": r.Dispatched, "returned": r.Returned, "reworked": r.Reworked,
		"closed": r.Closed, "closed_on_time": r.ClosedOnTime, "due": r.Due, "suspended": r.Suspended,
		"closed_dispatched": r.ClosedDispatched, "accurately_dispatched": r.AccuratelyDispatched, "self_handled": r.SelfHandled,
		"missed_reports": r.MissedReports, "reports": r.Reports, "valid_reports": r.ValidReports, "verifies": r.Verifies,
		"verifies_on_time": r.VerifiesOnTime, "checks": r.Checks, "checks_on_time": r.ChecksOnTime,
		"handling_rounds": r.HandlingRounds, "overdue_count": r.OverdueCount, "evaluations": r.Evaluations, "satisfied": r.Satisfied,
	}
	for k, v := range got {
		if w.counts[k] != v {
			t.Errorf("%s: %s = %d, want %d", label, k, v, w.counts[k])
		}
	}
	gotRates := map[string]*float64{
		"on_time_closure_rate": r.OnTimeClosureRate, "closure_rate": r.ClosureRate, "rework_rate": r.ReworkRate,
		"accurate_dispatch_rate": r.AccurateDispatchRate, "return_rate": r.ReturnRate, "avg_handling_hours": r.AvgHandlingHours,
		"overtime_multiple": r.OvertimeMultiple, "satisfaction_rate": r.SatisfactionRate, "avg_satisfaction": r.AvgSatisfaction,
		"valid_report_rate": r.ValidReportRate, "on_time_verify_rate": r.OnTimeVerifyRate, "on_time_check_rate": r.OnTimeCheckRate,
	}
	for k, v := range gotRates {
		exp := w.rates[k]
		switch {
		case exp == nil && v != nil:
			t.Errorf("%s: %s = %v, want none", label, k, *v)
		case exp != nil && v == nil:
			t.Errorf("%s: %s absent, want %v", label, k, *exp)
		case exp != nil && math.Abs(*exp-*v) > 0.0051: // the API rounds hours and multiples to 2 decimals
			t.Errorf("%s: %s = %v, want %v", label, k, *v, *exp)
		}
	}
	for _, st := range []string{"accept", "verify", "dispatch", "sign", "handle", "check", "close"} {
		g, ok := r.StageHours[st]
		e, want := w.stages[st]
		switch {
		case ok != want:
			t.Errorf("%s: stage %s present=%v, want %v", label, st, ok, want)
		case ok && (g.Count != int(e[0]) || math.Abs(g.AvgHours-e[1]/3600) > 0.0051):
			t.Errorf("%s: stage %s = %d × %.4f h, want %v × %.4f h", label, st, g.Count, g.AvgHours, e[0], e[1]/3600)
		}
	}
}

func rowByKey(t *testing.T, tb statsTable, key string) statsRow {
	t.Helper()
	for _, r := range tb.Rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no row %q in %s table: %+v", key, tb.Grouping, tb.Rows)
	return statsRow{}
}

// scriptClock moves the case workflow's clock (China time) as the scripted history goes.
type scriptClock struct{ t time.Time }

func (c *scriptClock) now() time.Time { return c.t }

func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	return t
}

// TestStatsFromAScriptedHistory plays ten cases through the real workflow with a controlled
// clock (March 2026, Asia/Shanghai work calendar: 08:30–12:00, 13:30–17:30, weekends off) and
// checks every figure of every grouping against numbers worked out by hand below.
//
// The history (G1 = grid1 in street1, G2 = grid2 in street2; A = 城管 cgj, B = 市场监管 scjg;
// E0101 has a 1-work-day limit, E0102 2 work days; stage limits: accept, dispatch, close 15
// work minutes, verify and check 30, sign 60):
//
//	C1  G1 E0101 w1 reports Mon 03-02 09:00; accept 09:10 (600 s); dispatch A 09:20 (600 s);
//	    sign 09:50 (1800 s); feedback 14:00 (15000 s); check pass w1 14:10 (600 s); close 14:20
//	    (600 s); evaluate 5. Round 1800+15000 = 16800 s.
//	C2  G1 E0101 w1b reports Tue 03-03 10:00; accept 10:05 (300); dispatch A 10:10 (300);
//	    A returns 10:40 (sign stage 1800); dispatch B 10:50 (600); sign 11:00 (600); feedback
//	    16:00 (18000); check pass w1 16:30 (1800, exactly at its deadline: on time); close
//	    16:40 (600); evaluate 3. Round 600+18000 = 18600 s.
//	C3  G2 E0102 w2 reports Wed 03-04 09:00; accept 09:30 (1800, late: 30/15 − 1 = 1.0);
//	    dispatch A 09:40 (600; handle deadline Fri 03-06 09:40); sign 10:00 (1200); feedback
//	    Mon 03-09 10:00 (432000, late: from the dispatch 22h50 of work against 15h:
//	    1370/900 − 1 = 0.5222); check FAIL w2 10:20 (1200) → rework, deadline Wed 03-11 10:20;
//	    feedback Tue 03-10 09:00 (81600); check pass w2 09:10 (600); close 09:20 (600).
//	    Rounds 1200+432000 = 433200 s and 81600 s. Closed, not on time.
//	C4  G2 E0101 reported by desk 2 for a resident Thu 03-05 14:00; accept 14:05 (300);
//	    dispatch B 14:10 (300; deadline Fri 14:10); sign 14:30 (1200); feedback Fri 03-06
//	    10:00 (70200); check pass w2 10:20 (1200); close 10:30 (600); evaluate 4.
//	    Round 1200+70200 = 71400 s. A missed report of G2.
//	C5  G1 E0101 self-handled by w1 Tue 03-10 15:00: filed and closed at once, on time.
//	C6  G1 E0101 w1 reports Wed 03-11 09:00; rejected 09:10 (accept 600).
//	C7  G1 E0102 hotline (desk 1) Mon 03-23 09:00; accept 09:10 (600); dispatch B 09:20 (600;
//	    deadline Wed 03-25 09:20); sign 10:20 (3600, exactly at its deadline); nothing more:
//	    due in March, not closed. A missed report of G1.
//	C8  G2 E0101 desk 2 for a resident Thu 03-12 09:00; request-verification w2 09:05 (accept
//	    300); verify 10:05 (3600, late: 60/30 − 1 = 1.0); accept 10:15 (600). A missed report.
//	C9  G2 E0101 w2 reports Sat 02-28 16:00 (a make-up workday, 春节调休); accept 16:10;
//	    dispatch A 16:20 (deadline Mon 03-02 16:20): all in February. Signed at exactly 03-01
//	    00:00 (the period's first instant): sign stage 27600 s, late (70 work minutes against
//	    60: 0.1667). Never fed back: due in March.
//	C10 G1 E0101 w1b reports Tue 03-31 23:50; accepted at 04-01 00:00 exactly (the period's
//	    end, outside it): reported in March, not filed in March.
func TestStatsFromAScriptedHistory(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		clk := &scriptClock{}
		e.App.Cases.SetClock(clk.now)
		e.App.Stats.SetClock(clk.now)
		at := func(s string) { clk.t = cst(s) }
		act := func(token string, id int64, action string, body map[string]any) {
			t.Helper()
			w.act(token, id, action, body, http.StatusOK)
		}
		report := func(token string, p point, cat string, extra map[string]any) int64 {
			t.Helper()
			body := map[string]any{"category_code": cat, "description": "小区门口垃圾堆积", "lat": p.lat, "lng": p.lng}
			for k, v := range extra {
				body[k] = v
			}
			return w.report(token, body).Case.ID
		}
		after := func(token string) []int64 { return []int64{w.photo(token, "after", "/api/v1/attachments")} }
		feedback := func(token string, id int64) {
			t.Helper()
			act(token, id, "feedback", map[string]any{"note": "已处置", "attachment_ids": after(token)})
		}

		// C9, in February.
		at("2026-02-28 16:00:00")
		c9 := report(w.w2, inG2, "E0101", nil)
		at("2026-02-28 16:10:00")
		act(w.d2, c9, "accept", nil)
		at("2026-02-28 16:20:00")
		act(w.d2, c9, "dispatch", map[string]any{"department_id": w.cgj})
		at("2026-03-01 00:00:00")
		act(w.h1, c9, "sign", nil)

		// C1.
		at("2026-03-02 09:00:00")
		c1 := report(w.w1, inG1, "E0101", nil)
		at("2026-03-02 09:10:00")
		act(w.d1, c1, "accept", nil)
		at("2026-03-02 09:20:00")
		act(w.d1, c1, "dispatch", map[string]any{"department_id": w.cgj})
		at("2026-03-02 09:50:00")
		act(w.h1, c1, "sign", nil)
		at("2026-03-02 14:00:00")
		feedback(w.h1, c1)
		at("2026-03-02 14:10:00")
		act(w.w1, c1, "check", map[string]any{"result": "pass"})
		at("2026-03-02 14:20:00")
		act(w.d1, c1, "close", nil)
		at("2026-03-02 15:00:00")
		act(w.d1, c1, "evaluate", map[string]any{"satisfaction": 5})

		// C2.
		at("2026-03-03 10:00:00")
		c2 := report(w.w1b, inG1, "E0101", nil)
		at("2026-03-03 10:05:00")
		act(w.d1, c2, "accept", nil)
		at("2026-03-03 10:10:00")
		act(w.d1, c2, "dispatch", map[string]any{"department_id": w.cgj})
		at("2026-03-03 10:40:00")
		act(w.h1, c2, "return", map[string]any{"reason": "属市场监管职责"})
		at("2026-03-03 10:50:00")
		act(w.d1, c2, "dispatch", map[string]any{"department_id": w.scjg})
		at("2026-03-03 11:00:00")
		act(w.h2, c2, "sign", nil)
		at("2026-03-03 16:00:00")
		feedback(w.h2, c2)
		at("2026-03-03 16:30:00")
		act(w.w1, c2, "check", map[string]any{"result": "pass"})
		at("2026-03-03 16:40:00")
		act(w.d1, c2, "close", nil)
		at("2026-03-03 17:00:00")
		act(w.d1, c2, "evaluate", map[string]any{"satisfaction": 3})

		// C3 and C4 interleave.
		at("2026-03-04 09:00:00")
		c3 := report(w.w2, inG2, "E0102", nil)
		at("2026-03-04 09:30:00")
		act(w.d2, c3, "accept", nil)
		at("2026-03-04 09:40:00")
		act(w.d2, c3, "dispatch", map[string]any{"department_id": w.cgj})
		at("2026-03-04 10:00:00")
		act(w.h1, c3, "sign", nil)
		at("2026-03-05 14:00:00")
		c4 := report(w.d2, inG2, "E0101", map[string]any{"source": "resident"})
		at("2026-03-05 14:05:00")
		act(w.d2, c4, "accept", nil)
		at("2026-03-05 14:10:00")
		act(w.d2, c4, "dispatch", map[string]any{"department_id": w.scjg})
		at("2026-03-05 14:30:00")
		act(w.h2, c4, "sign", nil)
		at("2026-03-06 10:00:00")
		feedback(w.h2, c4)
		at("2026-03-06 10:20:00")
		act(w.w2, c4, "check", map[string]any{"result": "pass"})
		at("2026-03-06 10:30:00")
		act(w.d2, c4, "close", nil)
		at("2026-03-06 11:00:00")
		act(w.d2, c4, "evaluate", map[string]any{"satisfaction": 4})
		at("2026-03-09 10:00:00")
		feedback(w.h1, c3)
		at("2026-03-09 10:20:00")
		act(w.w2, c3, "check", map[string]any{"result": "fail", "reason": "渣土未清完"})
		at("2026-03-10 09:00:00")
		feedback(w.h1, c3)
		at("2026-03-10 09:10:00")
		act(w.w2, c3, "check", map[string]any{"result": "pass"})
		at("2026-03-10 09:20:00")
		act(w.d2, c3, "close", nil)

		// C5, C6, C8.
		at("2026-03-10 15:00:00")
		w.report(w.w1, map[string]any{"category_code": "E0101", "description": "垃圾已清", "lat": inG1.lat, "lng": inG1.lng,
			"self_handled": true, "attachment_ids": after(w.w1)})
		at("2026-03-11 09:00:00")
		c6 := report(w.w1, inG1, "E0101", nil)
		at("2026-03-11 09:10:00")
		act(w.d1, c6, "reject", map[string]any{"reason": "已有同一问题"})
		at("2026-03-12 09:00:00")
		c8 := report(w.d2, inG2, "E0101", map[string]any{"source": "resident"})
		at("2026-03-12 09:05:00")
		act(w.d2, c8, "request-verification", map[string]any{"assignee_user_id": w.w2ID})
		at("2026-03-12 10:05:00")
		act(w.w2, c8, "verify", map[string]any{"result": "confirmed"})
		at("2026-03-12 10:15:00")
		act(w.d2, c8, "accept", nil)

		// C7.
		at("2026-03-23 09:00:00")
		c7 := report(w.d1, inG1, "E0102", nil)
		at("2026-03-23 09:10:00")
		act(w.d1, c7, "accept", nil)
		at("2026-03-23 09:20:00")
		act(w.d1, c7, "dispatch", map[string]any{"department_id": w.scjg})
		at("2026-03-23 10:20:00")
		act(w.h2, c7, "sign", nil)

		// Before C7's deadline (Wed 09:20) has passed, C7 is not due yet: street 1's due are
		// its three closures only.
		at("2026-03-24 12:00:00")
		mid := w.stats(w.sup, "region?from=2026-03-01&to=2026-03-31")
		if r := rowByKey(t, mid, street1); r.Due != 3 || r.OnTimeClosureRate == nil || *r.OnTimeClosureRate != 1 {
			t.Errorf("street 1 before C7's deadline: due %d, on-time rate %v; want 3 and 1", r.Due, r.OnTimeClosureRate)
		}

		// C10, across the period's end.
		at("2026-03-31 23:50:00")
		c10 := report(w.w1b, inG1, "E0101", nil)
		at("2026-04-01 00:00:00")
		act(w.d1, c10, "accept", nil)
		at("2026-04-10 09:00:00")

		const march = "?from=2026-03-01&to=2026-03-31"
		h := 3600.0

		// ---- by street (the district supervisor; default level: one below the district) ----
		// Street 1 = C1 C2 C5 C6 C7 C10; street 2 = C3 C4 C8 C9.
		street1Want := want{
			counts: map[string]int{
				"reported":   6,                      // C1 C2 C5 C6 C7 C10
				"filed":      4,                      // C1 C2 C5 (self) C7; C6 rejected, C10 accepted in April
				"dispatched": 3,                      // C1 C2 C7 (C2 twice, one case)
				"returned":   1,                      // C2
				"closed":     3, "closed_on_time": 3, // C1 C2 C5
				"due":                   4,                      // the 3 closures + C7 (deadline 03-25 passed, still with B)
				"closed_dispatched":     2,                      // C1 C2 (C5 never dispatched)
				"accurately_dispatched": 1,                      // C1 (C2 was returned)
				"self_handled":          1, "missed_reports": 1, // C5; C7 came from the hotline
				"reports": 5, "valid_reports": 3, // w1: C1 C5 C6, w1b: C2 C10; filed: C1 C2 C5
				"checks": 2, "checks_on_time": 2, // C1 C2 by w1
				"handling_rounds": 2, "evaluations": 2, "satisfied": 1, // C1 C2; 5 and 3
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(3.0 / 4), "closure_rate": f(3.0 / 4), "rework_rate": f(0),
				"accurate_dispatch_rate": f(1.0 / 2), "return_rate": f(1.0 / 3),
				"avg_handling_hours": f((16800.0 + 18600) / 2 / h),
				"satisfaction_rate":  f(1.0 / 2), "avg_satisfaction": f(4), "valid_report_rate": f(3.0 / 5),
				"on_time_check_rate": f(1),
			},
			stages: map[string][2]float64{
				"accept":   {4, (600 + 300 + 600 + 600) / 4.0},    // C1 C2 C6 (reject) C7
				"dispatch": {4, (600 + 300 + 600 + 600) / 4.0},    // C1, C2 twice, C7
				"sign":     {4, (1800 + 1800 + 600 + 3600) / 4.0}, // C1, C2 returned by A, C2 by B, C7
				"handle":   {2, (15000 + 18000) / 2.0},
				"check":    {2, (600 + 1800) / 2.0},
				"close":    {2, 600},
			},
		}
		street2Want := want{
			counts: map[string]int{
				"reported": 3, "filed": 3, // C3 C4 C8 (C9 in February)
				"dispatched": 2, "reworked": 1, // C3 C4; C3
				"closed": 2, "closed_on_time": 1, // C3 C4; C3 was late
				"due":               3, // C3 C4 closed + C9 (deadline 03-02 16:20)
				"closed_dispatched": 2, "accurately_dispatched": 2,
				"missed_reports": 2,                     // C4 C8 (residents)
				"reports":        1, "valid_reports": 1, // C3 by w2
				"verifies": 1, "verifies_on_time": 0, // C8, late
				"checks": 3, "checks_on_time": 3, // C3 fail, C3 pass, C4
				"handling_rounds": 3, "overdue_count": 4, // C3 accept, C8 verify, C9 sign, C3 handle
				"evaluations": 1, "satisfied": 1,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(1.0 / 3), "closure_rate": f(2.0 / 3), "rework_rate": f(1.0 / 3),
				"accurate_dispatch_rate": f(1), "return_rate": f(0),
				"avg_handling_hours": f((433200.0 + 81600 + 71400) / 3 / h),
				"overtime_multiple":  f((1.0 + 1.0 + 10.0/60 + 470.0/900) / 4),
				"satisfaction_rate":  f(1), "avg_satisfaction": f(4), "valid_report_rate": f(1),
				"on_time_verify_rate": f(0), "on_time_check_rate": f(1),
			},
			stages: map[string][2]float64{
				"accept":   {4, (1800 + 300 + 300 + 600) / 4.0}, // C3, C4, C8 twice
				"verify":   {1, 3600},
				"dispatch": {2, (600 + 300) / 2.0},
				"sign":     {3, (1200 + 1200 + 27600) / 3.0}, // C3 C4 C9
				"handle":   {3, (432000 + 81600 + 70200) / 3.0},
				"check":    {3, (1200 + 600 + 1200) / 3.0},
				"close":    {2, 600},
			},
		}
		totalWant := want{
			counts: map[string]int{
				"reported": 9, "filed": 7, "dispatched": 5, "returned": 1, "reworked": 1, "closed": 5, "closed_on_time": 4,
				"due": 7, "closed_dispatched": 4, "accurately_dispatched": 3, "self_handled": 1, "missed_reports": 3,
				"reports": 6, "valid_reports": 4, "verifies": 1, "checks": 5, "checks_on_time": 5, "handling_rounds": 5,
				"overdue_count": 4, "evaluations": 3, "satisfied": 2,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(4.0 / 7), "closure_rate": f(5.0 / 7), "rework_rate": f(1.0 / 7),
				"accurate_dispatch_rate": f(3.0 / 4), "return_rate": f(1.0 / 5),
				"avg_handling_hours": f((16800.0 + 18600 + 433200 + 81600 + 71400) / 5 / h),
				"overtime_multiple":  f((1.0 + 1.0 + 10.0/60 + 470.0/900) / 4),
				"satisfaction_rate":  f(2.0 / 3), "avg_satisfaction": f(4), "valid_report_rate": f(4.0 / 6),
				"on_time_verify_rate": f(0), "on_time_check_rate": f(1),
			},
			stages: map[string][2]float64{
				"accept":   {8, (2100 + 3000) / 8.0},
				"verify":   {1, 3600},
				"dispatch": {6, (2100 + 900) / 6.0},
				"sign":     {7, (7800 + 30000) / 7.0},
				"handle":   {5, (33000 + 583800) / 5.0},
				"check":    {5, (2400 + 3000) / 5.0},
				"close":    {4, 600},
			},
		}
		byStreet := w.stats(w.sup, "region"+march)
		if byStreet.Level != "street" || len(byStreet.Rows) != 2 || byStreet.Rows[0].Key != street1 || byStreet.Rows[0].Name != "和平桥街道" {
			t.Fatalf("streets: level %s rows %+v", byStreet.Level, byStreet.Rows)
		}
		street1Want.check(t, "street 1", rowByKey(t, byStreet, street1))
		street2Want.check(t, "street 2", rowByKey(t, byStreet, street2))
		totalWant.check(t, "district total", byStreet.Total)

		// ---- by grid: one grid per street, the same figures ----
		byGrid := w.stats(w.sup, "grid"+march)
		if len(byGrid.Rows) != 2 || byGrid.Rows[0].Name != "桃坞路第一网格" {
			t.Fatalf("grids: %+v", byGrid.Rows)
		}
		street1Want.check(t, "grid 1", rowByKey(t, byGrid, grid1))
		street2Want.check(t, "grid 2", rowByKey(t, byGrid, grid2))
		totalWant.check(t, "grid total", byGrid.Total)

		// ---- by department: a figure goes to the department concerned ----
		byDept := w.stats(w.sup, "department"+march)
		if len(byDept.Rows) != 2 || byDept.Rows[0].Name != "城市管理局" || byDept.Rows[1].Name != "市场监督管理局" {
			t.Fatalf("departments: %+v", byDept.Rows)
		}
		want{ // A (城管): dispatched C1 C2 C3; returned C2; reworked C3; closed C1 C3, on time C1;
			// due C1 C3 (closed) + C9 (its deadline passed while A held it).
			counts: map[string]int{
				"dispatched": 3, "returned": 1, "reworked": 1, "closed": 2, "closed_on_time": 1, "due": 3,
				"closed_dispatched": 2, "accurately_dispatched": 2, "handling_rounds": 3,
				"overdue_count": 2, // C9 sign, C3 handle
				"evaluations":   1, "satisfied": 1,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(1.0 / 3), "closure_rate": f(2.0 / 3), "rework_rate": f(1.0 / 3),
				"accurate_dispatch_rate": f(1), "return_rate": f(1.0 / 3),
				"avg_handling_hours": f((16800.0 + 433200 + 81600) / 3 / h),
				"overtime_multiple":  f((10.0/60 + 470.0/900) / 2),
				"satisfaction_rate":  f(1), "avg_satisfaction": f(5),
			},
			stages: map[string][2]float64{
				"sign":   {4, (1800 + 1800 + 1200 + 27600) / 4.0}, // C1, C2 (returned), C3, C9
				"handle": {3, (15000 + 432000 + 81600) / 3.0},
			},
		}.check(t, "department A", rowByKey(t, byDept, fmt.Sprint(w.cgj)))
		want{ // B (市场监管): dispatched C2 C4 C7; closed C2 C4, both on time; due C2 C4 + C7.
			counts: map[string]int{
				"dispatched": 3, "closed": 2, "closed_on_time": 2, "due": 3, "closed_dispatched": 2,
				"accurately_dispatched": 1, // C4 (C2 came to B after a return)
				"handling_rounds":       2, "evaluations": 2, "satisfied": 1,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(2.0 / 3), "closure_rate": f(2.0 / 3), "rework_rate": f(0),
				"accurate_dispatch_rate": f(1.0 / 2), "return_rate": f(0),
				"avg_handling_hours": f((18600.0 + 71400) / 2 / h),
				"satisfaction_rate":  f(1.0 / 2), "avg_satisfaction": f(3.5),
			},
			stages: map[string][2]float64{
				"sign":   {3, (600 + 1200 + 3600) / 3.0},
				"handle": {2, (18000 + 70200) / 2.0},
			},
		}.check(t, "department B", rowByKey(t, byDept, fmt.Sprint(w.scjg)))
		want{ // Each case once; C5 (self-handled) has no department.
			counts: map[string]int{
				"dispatched": 5, "returned": 1, "reworked": 1, "closed": 4, "closed_on_time": 3, "due": 6,
				"closed_dispatched": 4, "accurately_dispatched": 3, "handling_rounds": 5, "overdue_count": 2,
				"evaluations": 3, "satisfied": 2,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(3.0 / 6), "closure_rate": f(4.0 / 5), "rework_rate": f(1.0 / 5),
				"accurate_dispatch_rate": f(3.0 / 4), "return_rate": f(1.0 / 5),
				"avg_handling_hours": f(621600.0 / 5 / h), "overtime_multiple": f((10.0/60 + 470.0/900) / 2),
				"satisfaction_rate": f(2.0 / 3), "avg_satisfaction": f(4),
			},
			stages: map[string][2]float64{
				"sign":   {7, (32400 + 5400) / 7.0},
				"handle": {5, (528600 + 88200) / 5.0},
			},
		}.check(t, "department total", byDept.Total)

		// ---- by category ----
		byCat := w.stats(w.sup, "category"+march)
		if len(byCat.Rows) != 2 || byCat.Rows[0].Key != "E0101" || byCat.Rows[0].Name != "暴露垃圾" {
			t.Fatalf("categories: %+v", byCat.Rows)
		}
		want{ // E0102: C3 (A, reworked, late) and C7 (B, due, open).
			counts: map[string]int{
				"reported": 2, "filed": 2, "dispatched": 2, "reworked": 1, "closed": 1, "due": 2,
				"closed_dispatched": 1, "accurately_dispatched": 1, "missed_reports": 1, "reports": 1, "valid_reports": 1,
				"checks": 2, "checks_on_time": 2, "handling_rounds": 2, "overdue_count": 2,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(0), "closure_rate": f(1.0 / 2), "rework_rate": f(1.0 / 2),
				"accurate_dispatch_rate": f(1), "return_rate": f(0), "avg_handling_hours": f((433200.0 + 81600) / 2 / h),
				"overtime_multiple": f((1.0 + 470.0/900) / 2), "valid_report_rate": f(1), "on_time_check_rate": f(1),
			},
			stages: map[string][2]float64{
				"accept": {2, (1800 + 600) / 2.0}, "dispatch": {2, 600}, "sign": {2, (1200 + 3600) / 2.0},
				"handle": {2, (432000 + 81600) / 2.0}, "check": {2, (1200 + 600) / 2.0}, "close": {1, 600},
			},
		}.check(t, "E0102", rowByKey(t, byCat, "E0102"))
		want{ // E0101: C1 C2 C4 C5 C6 C8 C9 C10.
			counts: map[string]int{
				"reported": 7, "filed": 5, "dispatched": 3, "returned": 1, "closed": 4, "closed_on_time": 4,
				"due": 5, "closed_dispatched": 3, "accurately_dispatched": 2, "self_handled": 1, "missed_reports": 2,
				"reports": 5, "valid_reports": 3, "verifies": 1, "checks": 3, "checks_on_time": 3,
				"handling_rounds": 3, "overdue_count": 2, "evaluations": 3, "satisfied": 2,
			},
			rates: map[string]*float64{
				"on_time_closure_rate": f(4.0 / 5), "closure_rate": f(4.0 / 5), "rework_rate": f(0),
				"accurate_dispatch_rate": f(2.0 / 3), "return_rate": f(1.0 / 3),
				"avg_handling_hours": f((16800.0 + 18600 + 71400) / 3 / h), "overtime_multiple": f((1.0 + 10.0/60) / 2),
				"satisfaction_rate": f(2.0 / 3), "avg_satisfaction": f(4), "valid_report_rate": f(3.0 / 5),
				"on_time_verify_rate": f(0), "on_time_check_rate": f(1),
			},
			stages: map[string][2]float64{
				"accept":   {6, (600 + 300 + 300 + 600 + 300 + 600) / 6.0}, // C1 C2 C4 C6 C8×2
				"verify":   {1, 3600},
				"dispatch": {4, (600 + 300 + 600 + 300) / 4.0},
				"sign":     {5, (1800 + 1800 + 600 + 1200 + 27600) / 5.0},
				"handle":   {3, (15000 + 18000 + 70200) / 3.0},
				"check":    {3, (600 + 1800 + 1200) / 3.0},
				"close":    {3, 600},
			},
		}.check(t, "E0101", rowByKey(t, byCat, "E0101"))
		byMajor := w.stats(w.sup, "category"+march+"&level=major")
		if len(byMajor.Rows) != 1 || byMajor.Rows[0].Key != "E01" || byMajor.Rows[0].Name != "市容环境" {
			t.Fatalf("大类: %+v", byMajor.Rows)
		}
		totalWant.check(t, "E01", byMajor.Rows[0])

		// ---- by grid worker ----
		byWorker := w.stats(w.sup, "worker"+march)
		if len(byWorker.Rows) != 3 || byWorker.Rows[0].Name != "worker1" || byWorker.Rows[2].Name != "worker2" {
			t.Fatalf("workers: %+v", byWorker.Rows)
		}
		w1Want := want{ // reports C1 C5 C6, filed C1 C5; checked C1 C2; self-handled C5; missed C7 (G1).
			counts: map[string]int{"reports": 3, "valid_reports": 2, "checks": 2, "checks_on_time": 2, "self_handled": 1, "missed_reports": 1},
			rates:  map[string]*float64{"valid_report_rate": f(2.0 / 3), "on_time_check_rate": f(1)},
			stages: map[string][2]float64{"check": {2, (600 + 1800) / 2.0}},
		}
		w1Want.check(t, "worker 1", rowByKey(t, byWorker, fmt.Sprint(w.w1ID)))
		want{ // reports C2 C10 (C10 accepted in April); missed C7 (G1 too).
			counts: map[string]int{"reports": 2, "valid_reports": 1, "missed_reports": 1},
			rates:  map[string]*float64{"valid_report_rate": f(1.0 / 2)},
		}.check(t, "worker 1b", rowByKey(t, byWorker, fmt.Sprint(w.w1bID)))
		want{ // report C3; verified C8 late; checked C3 twice and C4; missed C4 C8.
			counts: map[string]int{"reports": 1, "valid_reports": 1, "verifies": 1, "checks": 3, "checks_on_time": 3,
				"overdue_count": 1, "missed_reports": 2},
			rates: map[string]*float64{"valid_report_rate": f(1), "on_time_verify_rate": f(0), "on_time_check_rate": f(1),
				"overtime_multiple": f(1)},
			stages: map[string][2]float64{"verify": {1, 3600}, "check": {3, 1000}},
		}.check(t, "worker 2", rowByKey(t, byWorker, fmt.Sprint(w.w2ID)))
		want{
			counts: map[string]int{"reports": 6, "valid_reports": 4, "verifies": 1, "checks": 5, "checks_on_time": 5,
				"overdue_count": 1, "self_handled": 1, "missed_reports": 3},
			rates: map[string]*float64{"valid_report_rate": f(4.0 / 6), "on_time_verify_rate": f(0), "on_time_check_rate": f(1),
				"overtime_multiple": f(1)},
			stages: map[string][2]float64{"verify": {1, 3600}, "check": {5, (2400 + 3000) / 5.0}},
		}.check(t, "worker total", byWorker.Total)

		// ---- the period's edges ----
		// February holds C9's report, accept and dispatch; its sign at 03-01 00:00 is March's.
		feb := w.stats(w.sup, "region?from=2026-02-01&to=2026-02-28")
		want{
			counts: map[string]int{"reported": 1, "filed": 1, "dispatched": 1, "reports": 1, "valid_reports": 1},
			rates:  map[string]*float64{"closure_rate": f(0), "rework_rate": f(0), "return_rate": f(0), "valid_report_rate": f(1)},
			stages: map[string][2]float64{"accept": {1, 600}, "dispatch": {1, 600}},
		}.check(t, "February street 2", rowByKey(t, feb, street2))
		// A single day: 03-02 holds C1's whole closure and C9's deadline (16:20).
		day := w.stats(w.sup, "region?from=2026-03-02&to=2026-03-02&level=grid")
		if r := rowByKey(t, day, grid2); r.Due != 1 || r.Closed != 0 || r.OnTimeClosureRate == nil || *r.OnTimeClosureRate != 0 {
			t.Errorf("03-02 grid 2: %+v", r)
		}
		if r := rowByKey(t, day, grid1); r.Reported != 1 || r.Closed != 1 || r.Due != 1 || r.Evaluations != 1 {
			t.Errorf("03-02 grid 1: %+v", r)
		}
	})
}

// TestStatsScope: each caller sees their part, and nothing else.
func TestStatsScope(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		c := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		c2 := w.reportAt(w.w2, inG2, "E0101")
		w.act(w.d2, c2.ID, "accept", nil, http.StatusOK)
		w.act(w.d2, c2.ID, "dispatch", map[string]any{"department_id": w.scjg}, http.StatusOK)

		// A street desk: its street, one level down by default; another street is 404.
		t1 := w.stats(w.d1, "region")
		if t1.Level != "community" || len(t1.Rows) != 1 || t1.Rows[0].Key != community1 || t1.Rows[0].Filed != 1 || t1.Total.Filed != 1 {
			t.Fatalf("desk 1 by community: %+v", t1)
		}
		e.Get("/api/v1/stats/region?region="+street2, w.d1).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/stats/grid?region="+district, w.d1).MustStatus(t, http.StatusNotFound)
		if g := w.stats(w.d1, "grid"); len(g.Rows) != 1 || g.Rows[0].Key != grid1 {
			t.Fatalf("desk 1 grids: %+v", g.Rows)
		}
		// Departments seen from street 1: only what happened to street 1's cases.
		if d := w.stats(w.d1, "department"); len(d.Rows) != 1 || d.Rows[0].Key != fmt.Sprint(w.cgj) || d.Rows[0].Dispatched != 1 {
			t.Fatalf("desk 1 departments: %+v", d.Rows)
		}
		// Its grid workers only.
		if wk := w.stats(w.d1, "worker"); len(wk.Rows) != 2 || wk.Rows[0].Key != fmt.Sprint(w.w1ID) || wk.Rows[0].Reports != 1 {
			t.Fatalf("desk 1 workers: %+v", wk.Rows)
		}

		// A handler: its own department's row, nothing else.
		d := w.stats(w.h2, "department")
		if len(d.Rows) != 1 || d.Rows[0].Key != fmt.Sprint(w.scjg) || d.Rows[0].Dispatched != 1 || d.Total.Dispatched != 1 {
			t.Fatalf("handler 2: %+v", d)
		}
		e.Get("/api/v1/stats/region", w.h2).MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/stats/worker", w.h2).MustStatus(t, http.StatusForbidden)

		// A grid worker: their own figures, no colleagues' (no ranking).
		own := w.stats(w.w1, "worker")
		if len(own.Rows) != 1 || own.Rows[0].Key != fmt.Sprint(w.w1ID) || own.Rows[0].Reports != 1 || own.Total.Reports != 1 {
			t.Fatalf("worker 1's own: %+v", own)
		}
		e.Get("/api/v1/stats/region", w.w1).MustStatus(t, http.StatusForbidden)
		e.Get("/api/v1/stats/department", w.w1).MustStatus(t, http.StatusForbidden)

		// The admin: everything, by district by default.
		all := w.stats(w.admin, "region")
		if all.Level != "district" || len(all.Rows) != 1 || all.Rows[0].Key != district || all.Total.Filed != 2 {
			t.Fatalf("admin: %+v", all)
		}

		// Bad input.
		for _, tc := range []struct {
			name, path string
			status     int
			field      string
		}{
			{"unknown grouping", "/api/v1/stats/street", http.StatusNotFound, ""},
			{"bad date", "/api/v1/stats/region?from=2026-3-1", http.StatusUnprocessableEntity, "from"},
			{"to before from", "/api/v1/stats/region?from=2026-03-10&to=2026-03-01", http.StatusUnprocessableEntity, "to"},
			{"over a year", "/api/v1/stats/region?from=2025-01-01&to=2026-03-01", http.StatusUnprocessableEntity, "to"},
			{"level above the region", "/api/v1/stats/region?region=" + street1 + "&level=district", http.StatusUnprocessableEntity, "level"},
			{"level for departments", "/api/v1/stats/department?level=street", http.StatusUnprocessableEntity, "level"},
			{"unknown region", "/api/v1/stats/region?region=999999", http.StatusNotFound, ""},
			{"export format", "/api/v1/stats/region/export?format=pdf", http.StatusUnprocessableEntity, "format"},
			{"export language", "/api/v1/stats/region/export?lang=fr", http.StatusUnprocessableEntity, "lang"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.Get(tc.path, w.admin).MustStatus(t, tc.status)
				if tc.field != "" && !hasField(res.Map(t), tc.field) {
					t.Errorf("problem without field %s: %s", tc.field, res.Body)
				}
			})
		}
		e.Get("/api/v1/stats/region", "-").MustStatus(t, http.StatusUnauthorized)
	})
}

// TestStatsExports: CSV with a byte-order mark and Chinese headers, XLSX that excelize opens,
// both with the figures of the JSON table.
func TestStatsExports(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		for _, p := range []point{inG1, inG1, inG2} {
			c := w.reportAt(w.w1, p, "E0101")
			w.act(w.admin, c.ID, "accept", nil, http.StatusOK)
			w.act(w.admin, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		}
		c := w.reportAt(w.w2, inG2, "E0101")
		w.act(w.admin, c.ID, "reject", map[string]any{"reason": "重复"}, http.StatusOK)
		table := w.stats(w.sup, "region")

		res := e.Get("/api/v1/stats/region/export", w.sup).MustStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		cd := res.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, `attachment; filename="stats-region-`) || !strings.Contains(cd, "filename*=UTF-8''%E8%80%83%E6%A0%B8") {
			t.Fatalf("disposition %q", cd)
		}
		if !bytes.HasPrefix(res.Body, []byte("\ufeff")) {
			t.Fatalf("no byte-order mark: %q", res.Body[:10])
		}
		recs, err := csv.NewReader(bytes.NewReader(res.Body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// Header, two streets, the total.
		if len(recs) != 4 || recs[0][0] != "区域代码" || recs[0][1] != "区域" || recs[0][2] != "上报数" || recs[3][1] != "合计" {
			t.Fatalf("csv: %q", recs)
		}
		col := func(name string) int {
			for i, h := range recs[0] {
				if h == name {
					return i
				}
			}
			t.Fatalf("no column %s in %q", name, recs[0])
			return 0
		}
		for _, h := range []string{"立案数", "结案数", "按期结案率", "结案率", "返工率", "准确派遣率", "回退率", "平均处置时长(小时)", "超期数", "超时倍数", "满意率"} {
			col(h)
		}
		s1, s2 := recs[1], recs[2]
		if s1[0] != street1 || s1[1] != "和平桥街道" || s1[col("上报数")] != "2" || s1[col("立案数")] != "2" || s1[col("派遣数")] != "2" ||
			s1[col("回退率")] != "0.00%" || s1[col("结案率")] != "0.00%" || s1[col("按期结案率")] != "" {
			t.Fatalf("street 1 in csv: %q", s1)
		}
		if s2[col("上报数")] != "2" || s2[col("立案数")] != "1" || s2[col("结案率")] != "0.00%" {
			t.Fatalf("street 2 in csv: %q", s2)
		}
		if rowByKey(t, table, street1).Reported != 2 || table.Total.Reported != 4 || recs[3][col("上报数")] != "4" {
			t.Fatalf("json and csv disagree: %+v / %q", table.Total, recs[3])
		}

		en := e.Get("/api/v1/stats/department/export?lang=en", w.sup).MustStatus(t, http.StatusOK)
		recs, err = csv.NewReader(bytes.NewReader(en.Body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[0][1] != "Department" || recs[0][2] != "Dispatched" || recs[1][1] != "城市管理局" || recs[1][2] != "3" || recs[2][1] != "Total" {
			t.Fatalf("english csv: %q", recs)
		}
		if strings.Contains(en.Header.Get("Content-Disposition"), "filename*") {
			t.Errorf("english download with a Chinese name: %s", en.Header.Get("Content-Disposition"))
		}

		x := e.Get("/api/v1/stats/region/export?format=xlsx", w.sup).MustStatus(t, http.StatusOK)
		if x.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Fatalf("xlsx content type %q", x.Header.Get("Content-Type"))
		}
		book, err := excelize.OpenReader(bytes.NewReader(x.Body))
		if err != nil {
			t.Fatal(err)
		}
		defer book.Close()
		if sheets := book.GetSheetList(); len(sheets) != 2 || sheets[0] != "考核统计" || sheets[1] != "说明" {
			t.Fatalf("sheets %v", sheets)
		}
		rows, err := book.GetRows("考核统计")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][2] != "上报数" || rows[1][0] != street1 || rows[1][2] != "2" || rows[3][1] != "合计" {
			t.Fatalf("xlsx rows %q", rows)
		}
		// The return rate of street 1 is a number (0) shown as a percentage.
		ci := 0
		for i, h := range rows[0] {
			if h == "回退率" {
				ci = i + 1
			}
		}
		cell, _ := excelize.CoordinatesToCellName(ci, 2)
		v, _ := book.GetCellValue("考核统计", cell)
		raw, _ := book.GetCellValue("考核统计", cell, excelize.Options{RawCellValue: true})
		if v != "0.00%" || raw != "0" {
			t.Fatalf("return rate cell %s: %q (raw %q)", cell, v, raw)
		}
		about, _ := book.GetRows("说明")
		if len(about) < 2 || about[0][0] != "统计周期" {
			t.Fatalf("about sheet %q", about)
		}

		// The export follows the caller's scope like the table.
		e.Get("/api/v1/stats/region/export?region="+street2, w.d1).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/stats/region/export", w.h1).MustStatus(t, http.StatusForbidden)
	})
}
