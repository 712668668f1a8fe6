package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/config"
)

// testClock drives the workflow's clock from a test (lights, deadlines, delta sync).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var chinaTZ = time.FixedZone("CST", 8*3600)

// monday is 2026-03-16 (a Monday, a workday) at hh:mm in China.
func monday(hh, mm int) time.Time { return time.Date(2026, 3, 16, hh, mm, 0, 0, chinaTZ) }

func (w *world) clock(t time.Time) *testClock {
	c := &testClock{t: t}
	w.e.App.Cases.SetClock(c.now)
	return c
}

type caseListView struct {
	Items      []map[string]any `json:"items"`
	NextCursor string           `json:"next_cursor"`
	HasMore    bool             `json:"has_more"`
	Sync       bool             `json:"sync"`
}

func (w *world) list(token, query string, want int) caseListView {
	w.t.Helper()
	var l caseListView
	res := w.e.Get("/api/v1/cases?"+query, token).MustStatus(w.t, want)
	if want == http.StatusOK {
		res.JSON(w.t, &l)
	}
	return l
}

func numbers(l caseListView) []string {
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i], _ = it["number"].(string)
	}
	return out
}

func numbersOf(cs ...caseView) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Number
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestCaseListFiltersScopeAndCursor(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		clk := w.clock(monday(9, 0))
		c1 := w.reportAt(w.w1, inG1, "E0101")
		clk.add(time.Minute)
		c2 := w.report(w.w1, map[string]any{"category_code": "E0302", "description": "工地夜间施工噪音", "lat": inG1Near.lat, "lng": inG1Near.lng, "address": "桃坞路 5 号"}).Case
		clk.add(time.Minute)
		c3 := w.reportAt(w.w2, inG2, "E0101")
		clk.add(time.Minute)
		c4 := w.report(w.d1, map[string]any{"category_code": "E0101", "description": "网格外的群众来电", "address": "和平桥 100%_号", "source": "resident",
			"lat": inStreet1.lat, "lng": inStreet1.lng}).Case // in street 1, outside every grid
		clk.add(time.Minute)
		w.act(w.d1, c1.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, c1.ID, "dispatch", map[string]any{"department_id": w.cgj, "co_handler_department_ids": []int64{w.scjg}}, http.StatusOK)
		w.act(w.d1, c2.ID, "request-verification", map[string]any{"assignee_user_id": w.w1bID}, http.StatusOK)
		clk.add(time.Minute)

		for _, tc := range []struct {
			name, token, query string
			want               []caseView
		}{
			{"admin: everything", w.admin, "", []caseView{c1, c2, c3, c4}},
			{"a state", w.admin, "state=reported", []caseView{c3, c4}},
			{"states, comma and repeated", w.admin, "state=dispatched,verifying&state=reported", []caseView{c1, c2, c3, c4}},
			{"a small class", w.admin, "category=E0302", []caseView{c2}},
			{"a 大类", w.admin, "category=E01", []caseView{c1, c3, c4}},
			{"a region subtree", w.admin, "region=" + street2, []caseView{c3}},
			{"a street with its unplaced case", w.admin, "region=" + street1, []caseView{c1, c2, c4}},
			{"a grid", w.admin, "grid=" + grid1, []caseView{c1, c2}},
			{"a department (lead)", w.admin, fmt.Sprintf("department=%d", w.cgj), []caseView{c1}},
			{"a department (co-handler)", w.admin, fmt.Sprintf("department=%d", w.scjg), []caseView{c1}},
			{"assignee=me", w.w1b, "assignee=me", []caseView{c2}},
			{"reporter=me", w.w1, "reporter=me", []caseView{c1, c2}},
			{"a source", w.admin, "source=resident", []caseView{c4}},
			{"overdue=false", w.admin, "overdue=false", []caseView{c1, c2, c3, c4}},
			{"overdue=true", w.admin, "overdue=true", nil},
			{"green", w.admin, "light=green", []caseView{c1, c2, c3, c4}},
			{"text", w.admin, "q=" + url.QueryEscape("噪音"), []caseView{c2}},
			{"text with a literal %", w.admin, "q=" + url.QueryEscape("100%_"), []caseView{c4}},
			{"created range", w.admin, "created_from=" + url.QueryEscape(monday(9, 1).Format(time.RFC3339)) +
				"&created_to=" + url.QueryEscape(monday(9, 3).Format(time.RFC3339)), []caseView{c2, c3}},
			{"a date", w.admin, "created_from=2026-03-16&created_to=2026-03-17", []caseView{c1, c2, c3, c4}},
			{"bbox", w.admin, "bbox=120.85,32.00,120.87,32.02", []caseView{c1, c2}},
			{"grid worker 2 sees grid 2 only", w.w2, "", []caseView{c3}},
			{"a filter does not widen the scope", w.w2, "grid=" + grid1, nil},
			{"handler 1: the case dispatched to it", w.h1, "", []caseView{c1}},
			{"handler 2: the case it co-handles", w.h2, "", []caseView{c1}},
			{"street 2 desk", w.d2, "", []caseView{c3}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := numbers(w.list(tc.token, tc.query, http.StatusOK))
				if !sameSet(got, numbersOf(tc.want...)) {
					t.Errorf("got %v, want %v", got, numbersOf(tc.want...))
				}
			})
		}
		// Sorts.
		if got := numbers(w.list(w.admin, "sort=created_at", http.StatusOK)); !slices.Equal(got, numbersOf(c1, c2, c3, c4)) {
			t.Errorf("created_at: %v", got)
		}
		if got := numbers(w.list(w.admin, "sort=-created_at", http.StatusOK)); !slices.Equal(got, numbersOf(c4, c3, c2, c1)) {
			t.Errorf("-created_at: %v", got)
		}
		if got := numbers(w.list(w.admin, "", http.StatusOK)); got[0] != c2.Number && got[0] != c1.Number {
			t.Errorf("-updated_at starts with %s", got[0])
		}

		// A cursor walk, a case reported between the pages: each earlier case once, in order.
		var seen []string
		l := w.list(w.admin, "sort=created_at&limit=1", http.StatusOK)
		for i := 0; ; i++ {
			seen = append(seen, numbers(l)...)
			if !l.HasMore {
				break
			}
			if i == 1 {
				clk.add(time.Minute)
				w.reportAt(w.w1, inG1, "E0101")
			}
			l = w.list(w.admin, "sort=created_at&limit=1&cursor="+url.QueryEscape(l.NextCursor), http.StatusOK)
		}
		if len(seen) != 5 || !slices.Equal(seen[:4], numbersOf(c1, c2, c3, c4)) {
			t.Errorf("cursor walk: %v", seen)
		}

		// Bad input: 422 with the field.
		for q, field := range map[string]string{
			"state=lost": "state", "limit=500": "limit", "limit=x": "limit", "cursor=zzz": "cursor", "sort=name": "sort",
			"overdue=maybe": "overdue", "light=blue": "light", "created_from=yesterday": "created_from", "bbox=1,2,3": "bbox",
			"region=999999": "region", "category=X": "category", "assignee=someone": "assignee",
			"q=" + strings.Repeat("长", 101): "q",
		} {
			p := w.e.Get("/api/v1/cases?"+q, w.admin).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
			if !hasField(p, field) {
				t.Errorf("%s: %v", q, p)
			}
		}
		w.e.Get("/api/v1/cases", "-").MustStatus(t, http.StatusUnauthorized)
	})
}

func TestCaseDeltaSyncTombstones(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		clk := w.clock(monday(9, 0))
		a := w.reportAt(w.w1, inG1, "E0101")
		b := w.reportAt(w.w1, inG1Near, "E0101")
		c := w.reportAt(w.w1b, inG1, "E0102")
		w.reportAt(w.w2, inG2, "E0101") // not in worker 1's grid
		clk.add(time.Minute)

		// The first sync: everything in the phone's scope, and a cursor to keep.
		l := w.list(w.w1, "updated_since=1970-01-01T00:00:00Z&limit=2", http.StatusOK)
		if !l.Sync || !l.HasMore || len(l.Items) != 2 || l.NextCursor == "" {
			t.Fatalf("first page: %+v", l)
		}
		got := numbers(l)
		l = w.list(w.w1, "limit=2&cursor="+url.QueryEscape(l.NextCursor), http.StatusOK)
		got = append(got, numbers(l)...)
		if !slices.Equal(got, numbersOf(a, b, c)) || l.HasMore || l.NextCursor == "" {
			t.Fatalf("synced %v (%+v)", got, l)
		}
		cursor := l.NextCursor

		// Nothing changed: the same cursor comes back.
		if again := w.list(w.w1, "cursor="+url.QueryEscape(cursor), http.StatusOK); len(again.Items) != 0 || again.NextCursor != cursor {
			t.Fatalf("idle sync: %+v", again)
		}

		// The desk merges b into a and accepts c: b comes as a tombstone, c as a case.
		clk.add(time.Minute)
		w.act(w.d1, b.ID, "merge", map[string]any{"duplicate_of": a.ID}, http.StatusOK)
		w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
		clk.add(10 * time.Second) // past the settle time
		l = w.list(w.w1, "cursor="+url.QueryEscape(cursor), http.StatusOK)
		if len(l.Items) != 2 || l.NextCursor == cursor {
			t.Fatalf("changes: %+v", l)
		}
		tomb, live := l.Items[0], l.Items[1]
		keys := make([]string, 0, len(tomb))
		for k := range tomb {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if tomb["deleted"] != true || tomb["number"] != b.Number || tomb["state"] != "cancelled" ||
			tomb["duplicate_of"] != float64(a.ID) || !slices.Equal(keys, []string{"deleted", "duplicate_of", "id", "number", "state", "updated_at"}) {
			t.Errorf("tombstone: %v", tomb)
		}
		if live["number"] != c.Number || live["state"] != "filed" || live["deleted"] != false || live["description"] == nil {
			t.Errorf("changed case: %v", live)
		}
		// The same list, not a sync, shows the merged case in full.
		if l := w.list(w.w1, "state=cancelled", http.StatusOK); len(l.Items) != 1 || l.Items[0]["description"] == nil || l.Sync {
			t.Errorf("cancelled in a plain list: %+v", l)
		}
		// A sync cursor with other filters is refused.
		w.list(w.w1, "state=filed&cursor="+url.QueryEscape(cursor), http.StatusUnprocessableEntity)
	})
}

type taskView struct {
	Items []struct {
		Case       caseView `json:"case"`
		Reason     string   `json:"reason"`
		NextAction string   `json:"next_action"`
		CoHandler  bool     `json:"co_handler"`
	} `json:"items"`
	Total     int64 `json:"total"`
	Truncated bool  `json:"truncated"`
}

func (w *world) tasks(token string) taskView {
	w.t.Helper()
	var v taskView
	w.e.Get("/api/v1/me/tasks", token).MustStatus(w.t, http.StatusOK).JSON(w.t, &v)
	return v
}

// inbox renders a task list as "number:reason:next_action[:co]" lines.
func inbox(v taskView) []string {
	out := make([]string, len(v.Items))
	for i, it := range v.Items {
		out[i] = it.Case.Number + ":" + it.Reason + ":" + it.NextAction
		if it.CoHandler {
			out[i] += ":co"
		}
	}
	return out
}

func TestMyTasksForEachRole(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		clk := w.clock(monday(8, 50))
		// c2 is filed at 08:50: its dispatch stage (15 work minutes) is red by 09:14.
		c2 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c2.ID, "accept", nil, http.StatusOK)
		clk.set(monday(9, 0))
		c1 := w.reportAt(w.w1, inG1, "E0101") // accept: yellow at 09:14 (80 % at 09:12)
		c3 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c3.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, c3.ID, "dispatch", map[string]any{"department_id": w.cgj, "co_handler_department_ids": []int64{w.scjg}}, http.StatusOK)
		c4 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c4.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, c4.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		w.act(w.h1, c4.ID, "sign", nil, http.StatusOK)
		c5 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c5.ID, "request-verification", map[string]any{"assignee_user_id": w.w1bID}, http.StatusOK)
		clk.set(monday(9, 5))
		c6 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c6.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, c6.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		w.act(w.h1, c6.ID, "sign", nil, http.StatusOK)
		after := w.photo(w.h1, "after", "/api/v1/attachments")
		w.act(w.h1, c6.ID, "feedback", map[string]any{"note": "已清运", "attachment_ids": []int64{after}}, http.StatusOK)
		clk.set(monday(9, 14))

		for _, tc := range []struct {
			name, token string
			want        []string
		}{
			{"desk: red dispatch, yellow accept, green check to send", w.d1, []string{
				c2.Number + ":dispatch:dispatch", c1.Number + ":accept:accept", c6.Number + ":request_check:request-check"}},
			{"the other street's desk", w.d2, []string{}},
			{"handler: sign (due 10:00), then handle", w.h1, []string{c3.Number + ":sign:sign", c4.Number + ":handle:feedback"}},
			{"co-handler", w.h2, []string{c3.Number + ":co_handle:comment:co"}},
			{"grid worker sent to verify, and the grid's unchecked fix", w.w1b, []string{
				c5.Number + ":verify:verify", c6.Number + ":grid_check:check"}},
			{"the other worker of the grid: the unchecked fix", w.w1, []string{c6.Number + ":grid_check:check"}},
			{"a worker of another grid", w.w2, []string{}},
			{"supervisor: the red case", w.sup, []string{c2.Number + ":overdue:supervise"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := w.tasks(tc.token)
				if got := inbox(v); !slices.Equal(got, tc.want) || v.Total != int64(len(tc.want)) || v.Truncated {
					t.Errorf("got %v (total %d), want %v", got, v.Total, tc.want)
				}
			})
		}
		if v := w.tasks(w.d1); v.Items[0].Case.Light != "red" || v.Items[1].Case.Light != "yellow" || v.Items[2].Case.Light != "green" {
			t.Errorf("lights: %s %s %s", v.Items[0].Case.Light, v.Items[1].Case.Light, v.Items[2].Case.Light)
		}
		var v taskView
		w.e.Get("/api/v1/me/tasks?limit=1", w.d1).MustStatus(t, http.StatusOK).JSON(t, &v)
		if len(v.Items) != 1 || v.Total != 3 || !v.Truncated {
			t.Errorf("limit 1: %+v", v)
		}
		w.e.Get("/api/v1/me/tasks?limit=0x", w.d1).MustStatus(t, http.StatusUnprocessableEntity)
	})
}

func TestCasesGeoJSON(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		a := w.reportAt(w.w1, inG1, "E0101")
		b := w.reportAt(w.w2, inG2, "E0102")
		w.report(w.d1, map[string]any{"category_code": "E0101", "description": "只有地址", "address": "桃坞路"})
		res := e.Get("/api/v1/cases.geojson", w.admin).MustStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("content type %q", ct)
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type     string `json:"type"`
				ID       int64  `json:"id"`
				Geometry struct {
					Type        string    `json:"type"`
					Coordinates []float64 `json:"coordinates"`
				} `json:"geometry"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
			Truncated bool `json:"truncated"`
			Limit     int  `json:"limit"`
		}
		res.JSON(t, &fc)
		if fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Truncated || fc.Limit != 5000 {
			t.Fatalf("collection: %+v", fc)
		}
		for _, f := range fc.Features {
			want := map[int64]point{a.ID: inG1, b.ID: inG2}[f.ID]
			if f.Type != "Feature" || f.Geometry.Type != "Point" || len(f.Geometry.Coordinates) != 2 ||
				f.Geometry.Coordinates[0] != want.lng || f.Geometry.Coordinates[1] != want.lat ||
				f.Properties["number"] == nil || f.Properties["state"] != "reported" || f.Properties["light"] == nil ||
				f.Properties["stage_deadline"] == nil || f.Properties["category_code"] == nil {
				t.Errorf("feature %+v", f)
			}
		}
		res = e.Get("/api/v1/cases.geojson?bbox=120.85,32.00,120.87,32.02", w.admin).MustStatus(t, http.StatusOK)
		res.JSON(t, &fc)
		if len(fc.Features) != 1 || fc.Features[0].ID != a.ID {
			t.Errorf("bbox: %+v", fc.Features)
		}
		res = e.Get("/api/v1/cases.geojson", w.w2).MustStatus(t, http.StatusOK)
		res.JSON(t, &fc)
		if len(fc.Features) != 1 || fc.Features[0].ID != b.ID {
			t.Errorf("worker 2's map: %+v", fc.Features)
		}
		e.Get("/api/v1/cases.geojson?bbox=121,32,120,33", w.admin).MustStatus(t, http.StatusUnprocessableEntity)
	}, func(c *config.Config) { c.MapMaxFeatures = 0 })
}

func TestCasesGeoJSONTruncated(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		for i := 0; i < 3; i++ {
			w.reportAt(w.w1, inG1, "E0101")
		}
		var fc struct {
			Features  []any `json:"features"`
			Truncated bool  `json:"truncated"`
			Limit     int   `json:"limit"`
		}
		e.Get("/api/v1/cases.geojson", w.admin).MustStatus(t, http.StatusOK).JSON(t, &fc)
		if len(fc.Features) != 2 || !fc.Truncated || fc.Limit != 2 {
			t.Errorf("capped map: %d features, truncated %v, limit %d", len(fc.Features), fc.Truncated, fc.Limit)
		}
	}, func(c *config.Config) { c.MapMaxFeatures = 2 })
}

func TestRegionProblems(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		clk := w.clock(monday(9, 0))
		late := w.reportAt(w.w1, inG1, "E0101")
		clk.set(monday(9, 20))
		fresh := w.reportAt(w.w1, inG1Near, "E0101")
		gone := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, gone.ID, "reject", map[string]any{"reason": "不属于受理范围"}, http.StatusOK)
		w.reportAt(w.w2, inG2, "E0101")
		clk.set(monday(9, 25))

		var pl struct {
			RegionCode string     `json:"region_code"`
			RegionName string     `json:"region_name"`
			Total      int64      `json:"total"`
			Items      []caseView `json:"items"`
			NextCursor string     `json:"next_cursor"`
			HasMore    bool       `json:"has_more"`
		}
		e.Get("/api/v1/regions/"+grid1+"/problems", w.w1).MustStatus(t, http.StatusOK).JSON(t, &pl)
		if pl.RegionCode != grid1 || pl.RegionName != "桃坞路第一网格" || pl.Total != 2 ||
			!slices.Equal(numbersOf(pl.Items...), numbersOf(late, fresh)) || pl.Items[0].Light != "red" || pl.Items[0].StageDeadline == nil {
			t.Fatalf("grid 1's problems: %+v", pl)
		}
		// Pages of one, the lights of the first page kept.
		e.Get("/api/v1/regions/"+street1+"/problems?limit=1", w.d1).MustStatus(t, http.StatusOK).JSON(t, &pl)
		first := pl.Items[0].Number
		if !pl.HasMore || pl.Total != 2 {
			t.Fatalf("page 1: %+v", pl)
		}
		clk.set(monday(12, 0))
		e.Get("/api/v1/regions/"+street1+"/problems?limit=1&cursor="+url.QueryEscape(pl.NextCursor), w.d1).MustStatus(t, http.StatusOK).JSON(t, &pl)
		if len(pl.Items) != 1 || pl.Items[0].Number == first || pl.HasMore {
			t.Fatalf("page 2: %+v", pl)
		}
		for name, tc := range map[string]struct{ token, code string }{
			"another worker's grid":     {w.w1, grid2},
			"a street above the worker": {w.w1, street1},
			"the other street's desk":   {w.d2, street1},
			"no such region":            {w.admin, "999999999"},
		} {
			if res := e.Get("/api/v1/regions/"+tc.code+"/problems", tc.token); res.Status != http.StatusNotFound {
				t.Errorf("%s: %d", name, res.Status)
			}
		}
		// The district supervisor reads both streets; a handler reads its department's only.
		e.Get("/api/v1/regions/"+district+"/problems", w.sup).MustStatus(t, http.StatusOK).JSON(t, &pl)
		if pl.Total != 3 {
			t.Errorf("district: %+v", pl)
		}
		e.Get("/api/v1/regions/"+district+"/problems", w.h1).MustStatus(t, http.StatusOK).JSON(t, &pl)
		if pl.Total != 0 {
			t.Errorf("handler: %+v", pl)
		}
	})
}

func TestCaseExports(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		a := w.report(w.w1, map[string]any{"category_code": "E0101", "description": "=HYPERLINK(\"x\") 垃圾, \"堆积\"", "lat": inG1.lat, "lng": inG1.lng})
		b := w.reportAt(w.w1, inG1Near, "E0101")
		w.act(w.d1, b.ID, "accept", nil, http.StatusOK)
		w.act(w.d1, b.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
		w.reportAt(w.w2, inG2, "E0101") // outside worker 1's scope

		res := e.Get("/api/v1/cases/export?sort=created_at", w.w1).MustStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="cases-`) || !strings.Contains(cd, ".csv\"") ||
			!strings.Contains(cd, "filename*=UTF-8''%E6%A1%88%E4%BB%B6-") {
			t.Errorf("content disposition %q", cd)
		}
		if !bytes.HasPrefix(res.Body, []byte("\xef\xbb\xbf")) {
			t.Fatalf("no BOM: %q", res.Body[:10])
		}
		rows, err := csv.NewReader(bytes.NewReader(res.Body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0][0] != "案件编号" || rows[0][1] != "状态" || !slices.Contains(rows[0], "红黄绿灯") || !slices.Contains(rows[0], "处置时限") {
			t.Fatalf("csv: %q", rows)
		}
		if rows[1][0] != a.Case.Number || rows[1][1] != "待受理" || rows[1][5] != "'=HYPERLINK(\"x\") 垃圾, \"堆积\"" || rows[1][16] != "绿灯" ||
			rows[2][0] != b.Number || rows[2][1] != "待签收" || rows[2][8] != "桃坞路第一网格" || rows[2][9] != "城市管理局" || rows[2][15] == "" {
			t.Errorf("csv rows: %q", rows[1:])
		}

		res = e.Get("/api/v1/cases/export?lang=en&state=dispatched", w.admin).MustStatus(t, http.StatusOK)
		rows, _ = csv.NewReader(bytes.NewReader(res.Body[3:])).ReadAll()
		if len(rows) != 2 || rows[0][0] != "Number" || rows[1][1] != "dispatched" || strings.Contains(res.Header.Get("Content-Disposition"), "filename*") {
			t.Errorf("english csv: %q", rows)
		}

		res = e.Get("/api/v1/cases/export?format=xlsx&sort=created_at", w.w1).MustStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Errorf("content type %q", ct)
		}
		f, err := excelize.OpenReader(bytes.NewReader(res.Body))
		if err != nil {
			t.Fatalf("open xlsx: %v", err)
		}
		xrows, err := f.GetRows("案件")
		if err != nil {
			t.Fatal(err)
		}
		if len(xrows) != 3 || xrows[0][0] != "案件编号" || xrows[1][0] != a.Case.Number || xrows[1][5] != "=HYPERLINK(\"x\") 垃圾, \"堆积\"" ||
			xrows[2][0] != b.Number || xrows[2][9] != "城市管理局" {
			t.Errorf("xlsx rows: %q", xrows)
		}
		if formula, _ := f.GetCellFormula("案件", "F2"); formula != "" {
			t.Errorf("a description became a formula: %q", formula)
		}

		// Over the cap (3 here): 422 before anything is streamed.
		w.reportAt(w.w1, inG1, "E0101")
		p := e.Get("/api/v1/cases/export", w.admin).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "filters") || p["extra"].(map[string]any)["count"] != float64(4) {
			t.Errorf("over the cap: %v", p)
		}
		for _, q := range []string{"format=pdf", "lang=fr", "state=lost"} {
			e.Get("/api/v1/cases/export?"+q, w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		}
	}, func(c *config.Config) { c.ExportMaxRows = 3 })
}
