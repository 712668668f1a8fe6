package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/category"
)

// The test city: one district with two streets, a community and a grid in each. Points:
// inG1 and inG2 fall in the grids, inStreet1 in street 1 but no grid, nowhere in no region.
const (
	city, district        = "320600", "320613"
	street1, street2      = "320613001", "320613002"
	community1, community = "320613001001", "320613002001"
	grid1, grid2          = "320613001001001", "320613002001001"
	password              = "a-good-password-1"
)

type point struct{ lat, lng float64 }

var (
	inG1      = point{32.0100, 120.8600}
	inG1Near  = point{32.0102, 120.8602} // about 28 m from inG1
	inG2      = point{32.0100, 120.9400}
	inStreet1 = point{32.0800, 120.8600}
	nowhere   = point{30.0000, 110.0000}
)

// world is the test city with its people, signed in.
type world struct {
	t     *testing.T
	e     *apptest.Env
	admin string
	// d1, d2: desks of street 1 and 2; dd: the district desk; sup: a district supervisor;
	// h1 (城管 cgj), h2 (市场监管 scjg): handlers; w1, w1b (grid 1), w2 (grid 2): grid workers.
	d1, d2, dd, sup, h1, h2, w1, w1b, w2 string
	cgj, scjg                            int64
	w1ID, w1bID, w2ID                    int64
}

func box(minLng, minLat, maxLng, maxLat float64) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": [][][]float64{{
		{minLng, minLat}, {maxLng, minLat}, {maxLng, maxLat}, {minLng, maxLat}, {minLng, minLat}}}}
}

func newWorld(t *testing.T, e *apptest.Env) *world {
	t.Helper()
	w := &world{t: t, e: e, admin: e.AdminToken()}
	for _, r := range []map[string]any{
		{"code": city, "name": "南通市", "level": "city", "boundary": box(120.80, 31.95, 121.00, 32.10)},
		{"code": district, "name": "崇川区", "level": "district", "parent_code": city, "boundary": box(120.80, 31.95, 121.00, 32.10)},
		{"code": street1, "name": "和平桥街道", "level": "street", "parent_code": district, "boundary": box(120.80, 31.95, 120.90, 32.10)},
		{"code": street2, "name": "任港街道", "level": "street", "parent_code": district, "boundary": box(120.90, 31.95, 121.00, 32.10)},
		{"code": community1, "name": "桃坞路社区", "level": "community", "parent_code": street1, "boundary": box(120.80, 31.95, 120.90, 32.05)},
		{"code": community, "name": "任港社区", "level": "community", "parent_code": street2, "boundary": box(120.90, 31.95, 121.00, 32.05)},
		{"code": grid1, "name": "桃坞路第一网格", "level": "grid", "parent_code": community1, "boundary": box(120.85, 32.00, 120.87, 32.02)},
		{"code": grid2, "name": "任港第一网格", "level": "grid", "parent_code": community, "boundary": box(120.93, 32.00, 120.95, 32.02)},
	} {
		e.Post("/api/v1/regions", w.admin, r).MustStatus(t, http.StatusCreated)
	}
	w.cgj = w.department("cgj", "城市管理局")
	w.scjg = w.department("scjg", "市场监督管理局")
	if _, err := e.App.Categories.Load(context.Background(), category.Catalogue()); err != nil {
		t.Fatal(err)
	}
	w.d1, _ = w.user("desk1", "dispatcher", map[string]any{"region_code": street1})
	w.d2, _ = w.user("desk2", "dispatcher", map[string]any{"region_code": street2})
	w.dd, _ = w.user("deskdistrict", "dispatcher", map[string]any{"region_code": district})
	w.sup, _ = w.user("supervisor", "supervisor", map[string]any{"region_code": district})
	w.h1, _ = w.user("handler1", "handler", map[string]any{"department_id": w.cgj})
	w.h2, _ = w.user("handler2", "handler", map[string]any{"department_id": w.scjg})
	w.w1, w.w1ID = w.user("worker1", "grid_worker", map[string]any{"grid_codes": []string{grid1}})
	w.w1b, w.w1bID = w.user("worker1b", "grid_worker", map[string]any{"grid_codes": []string{grid1}})
	w.w2, w.w2ID = w.user("worker2", "grid_worker", map[string]any{"grid_codes": []string{grid2}})
	return w
}

func (w *world) department(code, name string) int64 {
	w.t.Helper()
	var d struct{ ID int64 }
	w.e.Post("/api/v1/departments", w.admin, map[string]any{"code": code, "name": name}).MustStatus(w.t, http.StatusCreated).JSON(w.t, &d)
	return d.ID
}

func (w *world) user(username, role string, scope map[string]any) (string, int64) {
	w.t.Helper()
	var u struct{ ID int64 }
	w.e.Post("/api/v1/users", w.admin, map[string]any{"username": username, "display_name": username, "password": password,
		"role": role, "scope": scope}).MustStatus(w.t, http.StatusCreated).JSON(w.t, &u)
	return w.e.Login(username, password), u.ID
}

// caseView is the part of a Case the tests read.
type caseView struct {
	ID                     int64    `json:"id"`
	Number                 string   `json:"number"`
	State                  string   `json:"state"`
	Version                int64    `json:"version"`
	CategoryCode           string   `json:"category_code"`
	GridCode               string   `json:"grid_code"`
	DeskRegionCode         string   `json:"desk_region_code"`
	LeadDepartmentID       int64    `json:"lead_department_id"`
	CoHandlerDepartmentIDs []int64  `json:"co_handler_department_ids"`
	AssigneeUserID         int64    `json:"assignee_user_id"`
	DuplicateOf            int64    `json:"duplicate_of"`
	SelfHandled            bool     `json:"self_handled"`
	Verified               *bool    `json:"verified"`
	ReworkCount            int      `json:"rework_count"`
	ReturnCount            int      `json:"return_count"`
	ReopenCount            int      `json:"reopen_count"`
	Stage                  string   `json:"stage"`
	StageDeadline          *string  `json:"stage_deadline"`
	HandleDeadline         *string  `json:"handle_deadline"`
	Light                  string   `json:"light"`
	Satisfaction           *int     `json:"satisfaction"`
	Deleted                bool     `json:"deleted"`
	AllowedActions         []string `json:"allowed_actions"`
}

type reportView struct {
	Case        caseView `json:"case"`
	GridUnknown bool     `json:"grid_unknown"`
	Similar     []struct {
		ID       int64   `json:"id"`
		Distance float64 `json:"distance_m"`
	} `json:"similar"`
}

func (w *world) report(token string, body map[string]any) reportView {
	w.t.Helper()
	var r reportView
	w.e.Post("/api/v1/cases", token, body).MustStatus(w.t, http.StatusCreated).JSON(w.t, &r)
	return r
}

func (w *world) reportAt(token string, p point, cat string) caseView {
	w.t.Helper()
	return w.report(token, map[string]any{"category_code": cat, "description": "小区门口垃圾堆积", "lat": p.lat, "lng": p.lng}).Case
}

// act posts an action and decodes the case when the status is 200.
func (w *world) act(token string, id int64, action string, body any, want int) (caseView, map[string]any) {
	w.t.Helper()
	res := w.e.Post(fmt.Sprintf("/api/v1/cases/%d/%s", id, action), token, body).MustStatus(w.t, want)
	var c caseView
	if want == http.StatusOK {
		res.JSON(w.t, &c)
		return c, nil
	}
	return c, res.Map(w.t)
}

func (w *world) get(token string, id int64, want int) caseView {
	w.t.Helper()
	var c caseView
	res := w.e.Get(fmt.Sprintf("/api/v1/cases/%d", id), token).MustStatus(w.t, want)
	if want == http.StatusOK {
		res.JSON(w.t, &c)
	}
	return c
}

// photo uploads a staged photo of a kind and returns its id.
func (w *world) photo(token, kind, path string) int64 {
	w.t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := 0; x < 32; x++ {
		img.Set(x, x%24, color.RGBA{R: uint8(x * 8), G: 120, B: 30, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		w.t.Fatal(err)
	}
	body, ct := apptest.Multipart(map[string]string{"kind": kind}, "file", "photo.png", buf.Bytes())
	var a struct{ ID int64 }
	w.e.Do(apptest.Req{Method: http.MethodPost, Path: path, Token: token, Body: body, Header: map[string]string{"Content-Type": ct}}).
		MustStatus(w.t, http.StatusCreated).JSON(w.t, &a)
	return a.ID
}

type eventView struct {
	Seq                int            `json:"seq"`
	Action             string         `json:"action"`
	FromState          string         `json:"from_state"`
	ToState            string         `json:"to_state"`
	Stage              string         `json:"stage"`
	ActorRole          string         `json:"actor_role"`
	TargetDepartmentID int64          `json:"target_department_id"`
	TargetUserID       int64          `json:"target_user_id"`
	TargetRegionCode   string         `json:"target_region_code"`
	Reason             string         `json:"reason"`
	Visibility         string         `json:"visibility"`
	Data               map[string]any `json:"data"`
	AttachmentIDs      []int64        `json:"attachment_ids"`
	TimeUsedSeconds    int64          `json:"time_used_seconds"`
}

func (w *world) events(token string, id int64) []eventView {
	w.t.Helper()
	var l struct{ Items []eventView }
	w.e.Get(fmt.Sprintf("/api/v1/cases/%d/events", id), token).MustStatus(w.t, http.StatusOK).JSON(w.t, &l)
	return l.Items
}

func TestCaseFullCycle(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		c := w.reportAt(w.w1, inG1, "E0101")
		if c.State != "reported" || c.GridCode != grid1 || c.DeskRegionCode != street1 || c.Stage != "accept" || c.StageDeadline == nil ||
			!slices.Equal(c.AllowedActions, []string{"cancel", "comment"}) || c.Number == "" || c.Version != 1 {
			t.Fatalf("reported: %+v", c)
		}
		if got := w.get(w.d1, c.ID, http.StatusOK); !slices.Contains(got.AllowedActions, "accept") || slices.Contains(got.AllowedActions, "sign") {
			t.Fatalf("the street desk's actions: %v", got.AllowedActions)
		}

		c, _ = w.act(w.d1, c.ID, "accept", map[string]any{"urgency": "urgent", "note": "符合立案条件"}, http.StatusOK)
		if c.State != "filed" || c.Stage != "dispatch" {
			t.Fatalf("accepted: %+v", c)
		}
		var prop struct {
			Rule                 string `json:"rule"`
			ProposedDepartmentID int64  `json:"proposed_department_id"`
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/dispatch-proposal", c.ID), w.d1).MustStatus(t, http.StatusOK).JSON(t, &prop)
		if prop.Rule != "locality_first" || prop.ProposedDepartmentID != w.cgj {
			t.Fatalf("proposal: %+v (cgj is %d)", prop, w.cgj)
		}

		c, _ = w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj, "co_handler_department_ids": []int64{w.scjg}}, http.StatusOK)
		if c.State != "dispatched" || c.LeadDepartmentID != w.cgj || !slices.Equal(c.CoHandlerDepartmentIDs, []int64{w.scjg}) ||
			c.HandleDeadline == nil || c.Stage != "sign" {
			t.Fatalf("dispatched: %+v", c)
		}
		// The co-handler reads and comments; it may not sign.
		w.get(w.h2, c.ID, http.StatusOK)
		w.act(w.h2, c.ID, "comment", map[string]any{"note": "市场监管配合"}, http.StatusOK)
		w.act(w.h2, c.ID, "sign", nil, http.StatusForbidden)

		c, _ = w.act(w.h1, c.ID, "sign", nil, http.StatusOK)
		if c.State != "handling" || c.Stage != "handle" || c.Light == "" {
			t.Fatalf("signed: %+v", c)
		}
		_, p := w.act(w.h1, c.ID, "feedback", map[string]any{"note": "已清运"}, http.StatusUnprocessableEntity)
		if !hasField(p, "attachment_ids") {
			t.Fatalf("feedback without a photo: %v", p)
		}
		after := w.photo(w.h1, "after", "/api/v1/attachments")
		c, _ = w.act(w.h1, c.ID, "feedback", map[string]any{"note": "已清运", "attachment_ids": []int64{after}}, http.StatusOK)
		if c.State != "handled" || c.Stage != "check" {
			t.Fatalf("fed back: %+v", c)
		}
		c, _ = w.act(w.d1, c.ID, "request-check", map[string]any{"assignee_user_id": w.w1bID}, http.StatusOK)
		if c.AssigneeUserID != w.w1bID {
			t.Fatalf("check requested: %+v", c)
		}
		w.act(w.w1, c.ID, "check", map[string]any{"result": "pass"}, http.StatusForbidden) // not the one asked
		_, p = w.act(w.w1b, c.ID, "check", map[string]any{"result": "fail"}, http.StatusUnprocessableEntity)
		if !hasField(p, "reason") {
			t.Fatalf("a failed check without a reason: %v", p)
		}
		c, _ = w.act(w.w1b, c.ID, "check", map[string]any{"result": "fail", "reason": "仍有垃圾残留"}, http.StatusOK)
		if c.State != "handling" || c.ReworkCount != 1 || c.LeadDepartmentID != w.cgj || c.AssigneeUserID != 0 {
			t.Fatalf("rework: %+v", c)
		}
		// The rework's after photo arrives on its own (weak signal), then the feedback.
		w.photo(w.h1, "after", fmt.Sprintf("/api/v1/cases/%d/attachments", c.ID))
		c, _ = w.act(w.h1, c.ID, "feedback", map[string]any{"note": "已二次清理"}, http.StatusOK)
		c, _ = w.act(w.w1, c.ID, "check", map[string]any{"result": "pass"}, http.StatusOK) // none asked: a worker of the grid
		if c.State != "checked" || c.Stage != "close" {
			t.Fatalf("checked: %+v", c)
		}
		c, _ = w.act(w.d1, c.ID, "close", nil, http.StatusOK)
		if c.State != "closed" || c.Stage != "none" || c.StageDeadline != nil {
			t.Fatalf("closed: %+v", c)
		}
		c, _ = w.act(w.w1, c.ID, "evaluate", map[string]any{"satisfaction": 5, "comment": "处理及时"}, http.StatusOK)
		if c.Satisfaction == nil || *c.Satisfaction != 5 || c.Version != 12 {
			t.Fatalf("evaluated: %+v", c)
		}
		_, p = w.act(w.w1, c.ID, "evaluate", map[string]any{"satisfaction": 4}, http.StatusConflict)
		if p["extra"].(map[string]any)["state"] != "closed" {
			t.Fatalf("second evaluation: %v", p)
		}

		evs := w.events(w.d1, c.ID)
		want := []struct{ action, from, to, stage string }{
			{"report", "", "reported", ""},
			{"accept", "reported", "filed", "accept"},
			{"dispatch", "filed", "dispatched", "dispatch"},
			{"comment", "dispatched", "dispatched", ""},
			{"sign", "dispatched", "handling", "sign"},
			{"feedback", "handling", "handled", "handle"},
			{"request-check", "handled", "handled", ""},
			{"check", "handled", "handling", "check"},
			{"feedback", "handling", "handled", "handle"},
			{"check", "handled", "checked", "check"},
			{"close", "checked", "closed", "close"},
			{"evaluate", "closed", "closed", ""},
		}
		if len(evs) != len(want) {
			t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
		}
		for i, ev := range evs {
			wv := want[i]
			if ev.Seq != i+1 || ev.Action != wv.action || ev.FromState != wv.from || ev.ToState != wv.to || ev.Stage != wv.stage {
				t.Errorf("event %d: %+v, want %+v", i+1, ev, wv)
			}
		}
		if evs[2].TargetDepartmentID != w.cgj || evs[6].TargetUserID != w.w1bID || evs[7].TargetDepartmentID != w.cgj ||
			evs[7].Data["rework"] != true || evs[7].Reason != "仍有垃圾残留" {
			t.Errorf("targets: dispatch %+v, request-check %+v, failed check %+v", evs[2], evs[6], evs[7])
		}
		if !slices.Equal(evs[5].AttachmentIDs, []int64{after}) || evs[0].ActorRole != "grid_worker" || evs[2].ActorRole != "dispatcher" {
			t.Errorf("feedback photos %v, actors %s %s", evs[5].AttachmentIDs, evs[0].ActorRole, evs[2].ActorRole)
		}
		if evs[11].Data["satisfaction"] != float64(5) || evs[11].Visibility != "public" {
			t.Errorf("evaluation event %+v", evs[11])
		}

		// Reopen within the window: back to the desk for a new dispatch.
		w.act(w.h1, c.ID, "reopen", map[string]any{"reason": "问题复发"}, http.StatusForbidden)
		c, _ = w.act(w.sup, c.ID, "reopen", map[string]any{"reason": "问题复发"}, http.StatusOK)
		if c.State != "filed" || c.ReopenCount != 1 || c.LeadDepartmentID != 0 || c.Satisfaction != nil {
			t.Fatalf("reopened: %+v", c)
		}
	})
}

func hasField(problem map[string]any, field string) bool {
	list, _ := problem["errors"].([]any)
	for _, f := range list {
		if m, ok := f.(map[string]any); ok && m["field"] == field {
			return true
		}
	}
	return false
}

func TestCaseSidePaths(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)

		t.Run("return", func(t *testing.T) {
			c := w.reportAt(w.w1, inG1, "E0501")
			w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
			w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.scjg}, http.StatusOK)
			_, p := w.act(w.h2, c.ID, "return", map[string]any{}, http.StatusUnprocessableEntity)
			if !hasField(p, "reason") {
				t.Fatalf("return without a reason: %v", p)
			}
			c, _ = w.act(w.h2, c.ID, "return", map[string]any{"reason": "占道经营属城管职责"}, http.StatusOK)
			if c.State != "filed" || c.ReturnCount != 1 || c.LeadDepartmentID != 0 || c.Stage != "dispatch" {
				t.Fatalf("returned: %+v", c)
			}
			w.get(w.h2, c.ID, http.StatusOK)                    // it handled the case: still readable
			w.act(w.h2, c.ID, "sign", nil, http.StatusConflict) // but not its case any more
			c, _ = w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
			w.act(w.h1, c.ID, "sign", nil, http.StatusOK)
		})

		t.Run("reject", func(t *testing.T) {
			c := w.reportAt(w.w1, inG1, "E0101")
			_, p := w.act(w.d1, c.ID, "reject", nil, http.StatusUnprocessableEntity)
			if !hasField(p, "reason") {
				t.Fatalf("reject without reason: %v", p)
			}
			c, _ = w.act(w.d1, c.ID, "reject", map[string]any{"reason": "不属于受理范围"}, http.StatusOK)
			if c.State != "rejected" || c.Stage != "none" || !slices.Equal(c.AllowedActions, []string{"comment"}) {
				t.Fatalf("rejected: %+v", c)
			}
		})

		t.Run("verify", func(t *testing.T) {
			c := w.reportAt(w.d1, inG1, "E0101")
			_, p := w.act(w.d1, c.ID, "request-verification", map[string]any{"assignee_user_id": w.w2ID}, http.StatusUnprocessableEntity)
			if !hasField(p, "assignee_user_id") {
				t.Fatalf("a worker of another grid: %v", p)
			}
			c, _ = w.act(w.d1, c.ID, "request-verification", map[string]any{"assignee_user_id": w.w1bID}, http.StatusOK)
			if c.State != "verifying" || c.Stage != "verify" {
				t.Fatalf("verifying: %+v", c)
			}
			w.get(w.w1b, c.ID, http.StatusOK)
			w.act(w.w1, c.ID, "verify", map[string]any{"result": "confirmed"}, http.StatusForbidden)
			c, _ = w.act(w.w1b, c.ID, "verify", map[string]any{"result": "confirmed", "note": "属实"}, http.StatusOK)
			if c.State != "reported" || c.Verified == nil || !*c.Verified || c.AssigneeUserID != 0 {
				t.Fatalf("verified: %+v", c)
			}
		})

		t.Run("merge", func(t *testing.T) {
			a := w.reportAt(w.w1, inG1, "E0104")
			r := w.report(w.w1b, map[string]any{"category_code": "E0104", "description": "楼道堆物", "lat": inG1Near.lat, "lng": inG1Near.lng})
			if len(r.Similar) != 1 || r.Similar[0].ID != a.ID || r.Similar[0].Distance < 20 || r.Similar[0].Distance > 40 {
				t.Fatalf("similar: %+v", r.Similar)
			}
			_, p := w.act(w.d1, r.Case.ID, "merge", map[string]any{"duplicate_of": r.Case.ID}, http.StatusUnprocessableEntity)
			if !hasField(p, "duplicate_of") {
				t.Fatalf("merge into itself: %v", p)
			}
			b, _ := w.act(w.d1, r.Case.ID, "merge", map[string]any{"duplicate_of": a.ID}, http.StatusOK)
			if b.State != "cancelled" || b.DuplicateOf != a.ID || !b.Deleted {
				t.Fatalf("merged: %+v", b)
			}
			_, p = w.act(w.d1, a.ID, "merge", map[string]any{"duplicate_of": b.ID}, http.StatusUnprocessableEntity)
			if !hasField(p, "duplicate_of") {
				t.Fatalf("merge into a cancelled case: %v", p)
			}
		})

		t.Run("escalate and hand down", func(t *testing.T) {
			c := w.reportAt(w.w1, inG1, "E0304")
			_, p := w.act(w.d1, c.ID, "escalate", nil, http.StatusUnprocessableEntity)
			if !hasField(p, "note") {
				t.Fatalf("escalate without a note: %v", p)
			}
			c, _ = w.act(w.d1, c.ID, "escalate", map[string]any{"note": "违建需区级协调"}, http.StatusOK)
			if c.DeskRegionCode != district || c.State != "reported" {
				t.Fatalf("escalated: %+v", c)
			}
			if got := w.get(w.d1, c.ID, http.StatusOK); len(got.AllowedActions) != 1 || got.AllowedActions[0] != "comment" {
				t.Fatalf("the street desk may still act: %v", got.AllowedActions)
			}
			w.act(w.d1, c.ID, "accept", nil, http.StatusForbidden)
			c, _ = w.act(w.dd, c.ID, "escalate", map[string]any{"note": "报市级"}, http.StatusOK)
			if c.DeskRegionCode != city {
				t.Fatalf("escalated twice: %+v", c)
			}
			w.act(w.admin, c.ID, "escalate", map[string]any{"note": "again"}, http.StatusConflict) // the top desk
			w.act(w.admin, c.ID, "hand-down", map[string]any{"target_region_code": street2}, http.StatusUnprocessableEntity)
			c, _ = w.act(w.admin, c.ID, "hand-down", map[string]any{"target_region_code": street1, "note": "请街道处理"}, http.StatusOK)
			if c.DeskRegionCode != street1 {
				t.Fatalf("handed down: %+v", c)
			}
			w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
			evs := w.events(w.d1, c.ID)
			if evs[1].Action != "escalate" || evs[1].TargetRegionCode != district || evs[3].Action != "hand-down" || evs[3].TargetRegionCode != street1 {
				t.Fatalf("events: %+v", evs)
			}
		})

		t.Run("self-handled", func(t *testing.T) {
			res := e.Post("/api/v1/cases", w.w1, map[string]any{"category_code": "E0201", "description": "小广告已清除",
				"lat": inG1.lat, "lng": inG1.lng, "self_handled": true}).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
			if !hasField(res, "attachment_ids") {
				t.Fatalf("self-handled without a photo: %v", res)
			}
			before := w.photo(w.w1, "before", "/api/v1/attachments")
			res = e.Post("/api/v1/cases", w.w1, map[string]any{"category_code": "E0201", "description": "小广告已清除",
				"lat": inG1.lat, "lng": inG1.lng, "self_handled": true, "attachment_ids": []int64{before}}).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
			if !hasField(res, "attachment_ids") {
				t.Fatalf("self-handled with only a before photo: %v", res)
			}
			after := w.photo(w.w1, "after", "/api/v1/attachments")
			res = e.Post("/api/v1/cases", w.w1, map[string]any{"category_code": "C0101", "description": "井盖",
				"lat": inG1.lat, "lng": inG1.lng, "self_handled": true, "attachment_ids": []int64{after}}).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
			if !hasField(res, "self_handled") {
				t.Fatalf("self-handling a class that forbids it: %v", res)
			}
			e.Post("/api/v1/cases", w.d1, map[string]any{"category_code": "E0201", "description": "x", "lat": inG1.lat, "lng": inG1.lng,
				"self_handled": true, "attachment_ids": []int64{after}}).MustStatus(t, http.StatusForbidden)
			r := w.report(w.w1, map[string]any{"category_code": "E0201", "description": "小广告已清除", "lat": inG1.lat, "lng": inG1.lng,
				"self_handled": true, "attachment_ids": []int64{before, after}})
			if r.Case.State != "closed" || !r.Case.SelfHandled || r.Case.Stage != "none" {
				t.Fatalf("self-handled: %+v", r.Case)
			}
			evs := w.events(w.w1, r.Case.ID)
			if len(evs) != 2 || evs[0].Action != "report" || evs[1].Action != "self_handle" || evs[1].FromState != "reported" ||
				evs[1].ToState != "closed" || len(evs[0].AttachmentIDs) != 2 {
				t.Fatalf("self-handled events: %+v", evs)
			}
		})

		t.Run("outside every grid", func(t *testing.T) {
			r := w.report(w.w1, map[string]any{"category_code": "E0101", "description": "城外垃圾", "lat": nowhere.lat, "lng": nowhere.lng})
			if !r.GridUnknown || r.Case.GridCode != "" || r.Case.DeskRegionCode != city {
				t.Fatalf("unplaced: %+v", r)
			}
			w.get(w.d1, r.Case.ID, http.StatusNotFound) // the street desk does not hold it
			w.get(w.w1, r.Case.ID, http.StatusOK)       // the reporter reads it
			w.act(w.admin, r.Case.ID, "accept", map[string]any{"grid_code": "320613001001999"}, http.StatusUnprocessableEntity)
			c, _ := w.act(w.admin, r.Case.ID, "accept", map[string]any{"grid_code": grid1}, http.StatusOK)
			if c.GridCode != grid1 || c.DeskRegionCode != street1 || c.State != "filed" {
				t.Fatalf("placed: %+v", c)
			}
			w.get(w.d1, c.ID, http.StatusOK)

			r = w.report(w.w1, map[string]any{"description": "街道里但不在网格", "lat": inStreet1.lat, "lng": inStreet1.lng})
			if !r.GridUnknown || r.Case.DeskRegionCode != street1 {
				t.Fatalf("in a street, no grid: %+v", r)
			}
			_, p := w.act(w.d1, r.Case.ID, "accept", nil, http.StatusUnprocessableEntity)
			if !hasField(p, "category_code") {
				t.Fatalf("accept without a category: %v", p)
			}
			r = w.report(w.d1, map[string]any{"description": "只有地址", "address": "崇川区工农路 88 号", "source": "hotline"})
			if !r.GridUnknown || r.Case.DeskRegionCode != city {
				t.Fatalf("address only: %+v", r)
			}
		})
	})
}

func TestCaseConflictsScopeAndRaces(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		c := w.reportAt(w.w1, inG1, "E0101")

		// 409 names the state and the actions allowed there.
		_, p := w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusConflict)
		extra, _ := p["extra"].(map[string]any)
		allowed, _ := extra["allowed_actions"].([]any)
		if extra["state"] != "reported" || len(allowed) == 0 || allowed[0] != "accept" {
			t.Fatalf("conflict problem: %v", p)
		}

		// Out of scope is 404 before anything else, even for an action the caller could never do.
		w.get(w.w2, c.ID, http.StatusNotFound)
		w.get(w.d2, c.ID, http.StatusNotFound)
		w.get(w.h1, c.ID, http.StatusNotFound) // not dispatched to 城管 yet
		w.act(w.d2, c.ID, "accept", nil, http.StatusNotFound)
		w.act(w.w2, c.ID, "comment", map[string]any{"note": "x"}, http.StatusNotFound)
		e.Get(fmt.Sprintf("/api/v1/cases/%d/events", c.ID), w.w2).MustStatus(t, http.StatusNotFound)
		w.get(w.dd, c.ID, http.StatusOK)  // the district sees its streets
		w.get(w.w1b, c.ID, http.StatusOK) // another worker of the grid too

		// A grid worker may not accept (403: they see it but may not act).
		w.act(w.w1, c.ID, "accept", nil, http.StatusForbidden)

		// Stale If-Match → 412; the current one works.
		res := e.Do(apptest.Req{Method: http.MethodPost, Path: fmt.Sprintf("/api/v1/cases/%d/accept", c.ID), Token: w.d1,
			JSON: map[string]any{}, Header: map[string]string{"If-Match": `"7"`}}).MustStatus(t, http.StatusPreconditionFailed)
		if res.Map(t)["extra"].(map[string]any)["version"] != float64(1) {
			t.Fatalf("412 does not give the current version: %s", res.Body)
		}
		etag := e.Get(fmt.Sprintf("/api/v1/cases/%d", c.ID), w.d1).Header.Get("ETag")
		e.Do(apptest.Req{Method: http.MethodPost, Path: fmt.Sprintf("/api/v1/cases/%d/accept", c.ID), Token: w.d1,
			JSON: map[string]any{}, Header: map[string]string{"If-Match": etag}}).MustStatus(t, http.StatusOK)

		// Two desks dispatching at once: exactly one wins, the other learns the state.
		statuses := make([]int, 2)
		bodies := make([]map[string]any, 2)
		var wg sync.WaitGroup
		for i, tok := range []string{w.d1, w.dd} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := e.Post(fmt.Sprintf("/api/v1/cases/%d/dispatch", c.ID), tok, map[string]any{"department_id": w.cgj})
				statuses[i] = res.Status
				if res.Status == http.StatusConflict {
					bodies[i] = res.Map(t)
				}
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict {
			t.Fatalf("concurrent dispatch: %v", statuses)
		}
		for _, b := range bodies {
			if b != nil && b["extra"].(map[string]any)["state"] != "dispatched" {
				t.Fatalf("the loser's problem: %v", b)
			}
		}
		if evs := w.events(w.d1, c.ID); len(evs) != 3 || evs[2].Action != "dispatch" {
			t.Fatalf("events after the race: %+v", evs)
		}
		w.get(w.h2, c.ID, http.StatusNotFound) // a handler of another department
		w.get(w.h1, c.ID, http.StatusOK)
	})
}

func TestCaseIdempotentReport(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		body := map[string]any{"category_code": "E0101", "description": "垃圾", "lat": inG1.lat, "lng": inG1.lng}
		send := func(key string, b any) *apptest.Response {
			return e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/cases", Token: w.w1, JSON: b,
				Header: map[string]string{"Idempotency-Key": key}})
		}
		first := send("phone-42-0001", body).MustStatus(t, http.StatusCreated)
		again := send("phone-42-0001", body).MustStatus(t, http.StatusCreated)
		if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the retry differs:\n%s\n%s", first.Body, again.Body)
		}
		other := map[string]any{"category_code": "E0101", "description": "另一处垃圾", "lat": inG1.lat, "lng": inG1.lng}
		p := send("phone-42-0001", other).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "Idempotency-Key") {
			t.Fatalf("a reused key: %v", p)
		}
		// Another caller's same key is theirs.
		e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/cases", Token: w.w1b, JSON: body,
			Header: map[string]string{"Idempotency-Key": "phone-42-0001"}}).MustStatus(t, http.StatusCreated)

		// Retries racing each other still make one case.
		var wg sync.WaitGroup
		ids := make([]int64, 4)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r reportView
				res := send("phone-42-0002", body)
				if res.Status == http.StatusCreated {
					res.JSON(t, &r)
					ids[i] = r.Case.ID
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id == 0 || id != ids[0] {
				t.Fatalf("racing retries made cases %v", ids)
			}
		}

		// An action retried with its key is answered once.
		var r reportView
		first.JSON(t, &r)
		act := func() *apptest.Response {
			return e.Do(apptest.Req{Method: http.MethodPost, Path: fmt.Sprintf("/api/v1/cases/%d/comment", r.Case.ID), Token: w.w1,
				JSON: map[string]any{"note": "补充：现场有异味"}, Header: map[string]string{"Idempotency-Key": "c-1"}})
		}
		a1, a2 := act().MustStatus(t, http.StatusOK), act().MustStatus(t, http.StatusOK)
		if !bytes.Equal(a1.Body, a2.Body) || len(w.events(w.w1, r.Case.ID)) != 2 {
			t.Fatalf("a retried comment was applied twice")
		}
	})
}

func TestCategoriesAPI(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		var tree struct {
			Majors []struct {
				Type, Code, Name string
				Categories       []struct{ Code string }
			}
		}
		e.Get("/api/v1/categories?view=tree", w.w1).MustStatus(t, http.StatusOK).JSON(t, &tree)
		if len(tree.Majors) != 15 || tree.Majors[0].Type != "component" || tree.Majors[0].Name != "公用设施" {
			t.Fatalf("tree: %+v", tree.Majors)
		}
		var flat struct{ Items []struct{ Code, Name string } }
		e.Get("/api/v1/categories?type=event&q=纠纷", w.d1).MustStatus(t, http.StatusOK).JSON(t, &flat)
		if len(flat.Items) < 3 || flat.Items[0].Code != "E0701" {
			t.Fatalf("search: %+v", flat.Items)
		}
		var cat struct {
			Name        string
			NormalLimit struct {
				Value int
				Unit  string
			} `json:"normal_limit"`
		}
		e.Get("/api/v1/categories/E0304", w.w1).MustStatus(t, http.StatusOK).JSON(t, &cat)
		if cat.Name != "违法建设" || cat.NormalLimit.Value != 15 || cat.NormalLimit.Unit != "work_days" {
			t.Fatalf("违法建设: %+v", cat)
		}
		e.Get("/api/v1/categories/E9999", w.w1).MustStatus(t, http.StatusNotFound)

		newCat := map[string]any{"code": "E0107", "type": "event", "major_code": "01", "major_name": "市容环境", "name": "绿地脏乱",
			"default_department": "cgj", "normal_limit": map[string]any{"value": 2, "unit": "work_days"}}
		e.Post("/api/v1/categories", w.d1, newCat).MustStatus(t, http.StatusForbidden)
		e.Post("/api/v1/categories", w.admin, newCat).MustStatus(t, http.StatusCreated)
		e.Post("/api/v1/categories", w.admin, newCat).MustStatus(t, http.StatusConflict)
		bad := map[string]any{"code": "C0199", "type": "event", "major_code": "01", "major_name": "x", "name": "y",
			"default_department": "nope", "normal_limit": map[string]any{"value": 0, "unit": "weeks"}}
		p := e.Post("/api/v1/categories", w.admin, bad).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "code") || !hasField(p, "normal_limit.unit") {
			t.Fatalf("bad category: %v", p)
		}
		e.Do(apptest.Req{Method: http.MethodPatch, Path: "/api/v1/categories/E0107", Token: w.admin,
			JSON: map[string]any{"active": false}}).MustStatus(t, http.StatusOK)
		p = e.Post("/api/v1/cases", w.w1, map[string]any{"category_code": "E0107", "description": "x", "lat": inG1.lat, "lng": inG1.lng}).
			MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "category_code") {
			t.Fatalf("report in an inactive class: %v", p)
		}
		p = e.Post("/api/v1/cases", w.w1, map[string]any{"category_code": "E0999", "description": "x"}).
			MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "category_code") || !hasField(p, "lat") {
			t.Fatalf("unknown category, no place: %v", p)
		}
	})
}

func TestCaseFromAnIntegrator(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		key := func(scopes ...string) string {
			var k struct{ Key string }
			e.Post("/api/v1/api-keys", w.admin, map[string]any{"name": "12345 热线", "scopes": scopes}).MustStatus(t, http.StatusCreated).JSON(t, &k)
			return k.Key
		}
		hotline, reader := key("cases:read", "cases:write"), key("cases:read")

		body := map[string]any{"description": "市民反映小区门口垃圾堆积", "lat": inG1.lat, "lng": inG1.lng, "coord_sys": "gcj02",
			"source": "hotline", "external_ref": "12345-20260316-0001"}
		e.Post("/api/v1/cases", reader, body).MustStatus(t, http.StatusForbidden)
		r := w.report(hotline, body)
		if r.Case.State != "reported" || r.Case.GridCode != grid1 {
			t.Fatalf("reported: %+v", r)
		}
		p := e.Post("/api/v1/cases", hotline, body).MustStatus(t, http.StatusConflict).Map(t)
		if extra, _ := p["extra"].(map[string]any); extra["case_id"] != float64(r.Case.ID) {
			t.Fatalf("a repeated external_ref: %v", p)
		}
		p = e.Post("/api/v1/cases", w.w1, body).MustStatus(t, http.StatusUnprocessableEntity).Map(t)
		if !hasField(p, "external_ref") || !hasField(p, "source") {
			t.Fatalf("a grid worker sending external_ref and source hotline: %v", p)
		}

		w.act(hotline, r.Case.ID, "comment", map[string]any{"note": "市民补充：已有异味"}, http.StatusOK)
		w.act(w.d1, r.Case.ID, "comment", map[string]any{"note": "内部：请网格员先看"}, http.StatusOK)
		w.act(hotline, r.Case.ID, "accept", nil, http.StatusForbidden)
		w.act(reader, r.Case.ID, "comment", map[string]any{"note": "x"}, http.StatusForbidden)
		evs := w.events(hotline, r.Case.ID)
		if len(evs) != 2 || evs[1].Action != "comment" || evs[1].Visibility != "public" {
			t.Fatalf("the integrator's timeline: %+v", evs)
		}
		if len(w.events(w.d1, r.Case.ID)) != 3 {
			t.Fatal("the desk does not see the internal comment")
		}
		// Another integrator's case is someone else's: comment is 403 (a city-wide key reads it).
		other := w.reportAt(w.w1, inG1, "E0101")
		w.act(hotline, other.ID, "comment", map[string]any{"note": "x"}, http.StatusForbidden)

		c, _ := w.act(hotline, r.Case.ID, "cancel", map[string]any{"reason": "市民撤诉"}, http.StatusOK)
		if c.State != "cancelled" || !c.Deleted {
			t.Fatalf("cancelled: %+v", c)
		}
	})
}
