package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/worktime"
)

// fastJobs lets idle workers look for due jobs every 50 ms, so that a timer made due by
// RunDue runs at once.
func fastJobs(c *config.Config) { c.JobsPollInterval = 50 * time.Millisecond }

// defaultCal is the default calendar the first start stores: the default week with the 2026
// national holidays.
func defaultCal(t *testing.T) *worktime.Calendar {
	t.Helper()
	cfg := worktime.DefaultConfig()
	cfg.Exceptions = worktime.ChinaHolidays2026()
	cal, err := worktime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// oneWorkDay is E0101's (暴露垃圾) normal handling limit.
var oneWorkDay = worktime.WorkDaysLimit(1)

// clockView is the time part of a case.
type clockView struct {
	ID                   int64      `json:"id"`
	Number               string     `json:"number"`
	State                string     `json:"state"`
	Version              int64      `json:"version"`
	Stage                string     `json:"stage"`
	Light                string     `json:"light"`
	StageStartedAt       time.Time  `json:"stage_started_at"`
	StageDeadline        *time.Time `json:"stage_deadline"`
	StageWarnAt          *time.Time `json:"stage_warn_at"`
	HandleDeadline       *time.Time `json:"handle_deadline"`
	DispatchedAt         *time.Time `json:"dispatched_at"`
	Extensions           int        `json:"extensions"`
	ExtensionPending     bool       `json:"extension_pending"`
	SuspensionPending    bool       `json:"suspension_pending"`
	SuspendedAt          *time.Time `json:"suspended_at"`
	SuspendedUntil       *time.Time `json:"suspended_until"`
	ResumedAt            *time.Time `json:"resumed_at"`
	OpenSupervisionCount int        `json:"open_supervision_count"`
	SupervisionLevel     string     `json:"supervision_level"`
	OpenSupervisions     []struct {
		ID     int64  `json:"id"`
		Level  string `json:"level"`
		Source string `json:"source"`
		Rule   string `json:"rule"`
		Note   string `json:"note"`
	} `json:"open_supervisions"`
	AllowedActions []string `json:"allowed_actions"`
}

func (w *world) timeOf(token string, id int64) clockView {
	w.t.Helper()
	var c clockView
	w.e.Get(fmt.Sprintf("/api/v1/cases/%d", id), token).MustStatus(w.t, http.StatusOK).JSON(w.t, &c)
	return c
}

// timed posts an action and returns the case (200) or the problem.
func (w *world) timed(token string, id int64, action string, body any, want int) (clockView, map[string]any) {
	w.t.Helper()
	res := w.e.Post(fmt.Sprintf("/api/v1/cases/%d/%s", id, action), token, body).MustStatus(w.t, want)
	var c clockView
	if want == http.StatusOK {
		res.JSON(w.t, &c)
		return c, nil
	}
	return c, res.Map(w.t)
}

// dispatched reports an exposed-rubbish case in grid 1 and dispatches it to 城管.
func (w *world) dispatched() clockView {
	w.t.Helper()
	c := w.reportAt(w.w1, inG1, "E0101")
	w.act(w.d1, c.ID, "accept", nil, http.StatusOK)
	w.act(w.d1, c.ID, "dispatch", map[string]any{"department_id": w.cgj}, http.StatusOK)
	return w.timeOf(w.d1, c.ID)
}

// handling is dispatched, then signed by 城管.
func (w *world) handling() clockView {
	w.t.Helper()
	c := w.dispatched()
	out, _ := w.timed(w.h1, c.ID, "sign", nil, http.StatusOK)
	return out
}

// now is the service's time (the job queue's clock).
func now(e *apptest.Env) time.Time { return e.App.Jobs.Clock().Now() }

// advance moves the clock forward and lets every timer that came due run.
func advance(t *testing.T, e *apptest.Env, d time.Duration) {
	t.Helper()
	e.App.Jobs.Clock().Advance(d)
	settle(t, e)
}

// advanceTo moves the clock to just after at.
func advanceTo(t *testing.T, e *apptest.Env, at time.Time) {
	t.Helper()
	advance(t, e, at.Sub(now(e))+time.Second)
}

// settle makes due jobs available (as River's scheduler would) until no case timer is due
// and unfinished: the timers a timer schedules (a resumption's) run too. It waits on the
// queue's state, never for the clock.
func settle(t *testing.T, e *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	limit := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.App.Jobs.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		jobs, err := e.App.Jobs.Jobs(ctx, "case_timer", rivertype.JobStateAvailable, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled)
		if err != nil {
			t.Fatal(err)
		}
		due := 0
		for _, j := range jobs {
			if j.State == rivertype.JobStateRetryable && len(j.Errors) > 0 {
				t.Fatalf("timer job %d failed: %s", j.ID, j.Errors[len(j.Errors)-1].Error)
			}
			if !j.ScheduledAt.After(now(e)) {
				due++
			}
		}
		if due == 0 {
			return
		}
		if time.Now().After(limit) {
			t.Fatalf("%d timer jobs still due", due)
		}
		time.Sleep(20 * time.Millisecond) // waits for the workers, not for time to pass
	}
}

func eventsOf(evs []eventView, action string) []eventView {
	var out []eventView
	for _, ev := range evs {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

func sameInstant(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || got.Sub(want).Abs() >= time.Millisecond {
		t.Fatalf("%s = %v, want %s", what, got, want.UTC())
	}
}

func TestCaseExtension(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		cal := defaultCal(t)
		c := w.handling()
		sameInstant(t, "handle deadline", c.HandleDeadline, cal.Deadline(*c.DispatchedAt, oneWorkDay))
		sameInstant(t, "stage deadline", c.StageDeadline, *c.HandleDeadline)
		sameInstant(t, "warn at", c.StageWarnAt, cal.WarnAt(*c.DispatchedAt, oneWorkDay, nil))
		if !slices.Contains(c.AllowedActions, "request-extension") || c.Light != "green" {
			t.Fatalf("handling: %+v", c)
		}

		_, p := w.timed(w.h1, c.ID, "request-extension", map[string]any{}, http.StatusUnprocessableEntity)
		if !hasField(p, "reason") {
			t.Fatalf("a request without a reason: %v", p)
		}
		w.timed(w.d1, c.ID, "request-extension", map[string]any{"reason": "x"}, http.StatusForbidden)
		c, _ = w.timed(w.h1, c.ID, "request-extension", map[string]any{"reason": "需协调产权单位"}, http.StatusOK)
		if !c.ExtensionPending || c.Extensions != 0 || slices.Contains(c.AllowedActions, "request-extension") {
			t.Fatalf("requested: %+v", c)
		}
		_, p = w.timed(w.h1, c.ID, "request-extension", map[string]any{"reason": "again"}, http.StatusConflict)
		if p["extra"].(map[string]any)["state"] != "handling" {
			t.Fatalf("a second request: %v", p)
		}
		w.timed(w.h1, c.ID, "approve-extension", nil, http.StatusForbidden) // not its own request

		// Each approval adds one original limit, counted from the dispatch on the calendar.
		c, _ = w.timed(w.d1, c.ID, "approve-extension", map[string]any{"note": "同意"}, http.StatusOK)
		if c.Extensions != 1 || c.ExtensionPending {
			t.Fatalf("approved: %+v", c)
		}
		sameInstant(t, "deadline after one extension", c.HandleDeadline, cal.Deadline(*c.DispatchedAt, oneWorkDay.Times(2)))
		sameInstant(t, "stage deadline after one extension", c.StageDeadline, *c.HandleDeadline)
		sameInstant(t, "warn at after one extension", c.StageWarnAt, cal.WarnAt(*c.DispatchedAt, oneWorkDay.Times(2), nil))

		w.timed(w.h1, c.ID, "request-extension", map[string]any{"reason": "仍需协调"}, http.StatusOK)
		_, p = w.timed(w.h1, c.ID, "deny-extension", map[string]any{}, http.StatusForbidden)
		_, p = w.timed(w.sup, c.ID, "deny-extension", map[string]any{}, http.StatusUnprocessableEntity)
		if !hasField(p, "reason") {
			t.Fatalf("a denial without a reason: %v", p)
		}
		c, _ = w.timed(w.sup, c.ID, "approve-extension", nil, http.StatusOK)
		if c.Extensions != 2 {
			t.Fatalf("second approval: %+v", c)
		}
		sameInstant(t, "deadline after two extensions", c.HandleDeadline, cal.Deadline(*c.DispatchedAt, oneWorkDay.Times(3)))

		// A third is refused at the request.
		_, p = w.timed(w.h1, c.ID, "request-extension", map[string]any{"reason": "第三次"}, http.StatusConflict)
		if detail, _ := p["detail"].(string); !containsAll(detail, "extended 2 times") {
			t.Fatalf("a third request: %v", p)
		}
		var reqs struct {
			Items []struct{ Kind, Status string }
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/requests", c.ID), w.h1).MustStatus(t, http.StatusOK).JSON(t, &reqs)
		if len(reqs.Items) != 2 || reqs.Items[0].Status != "approved" || reqs.Items[1].Status != "approved" {
			t.Fatalf("requests: %+v", reqs)
		}
		evs := w.events(w.d1, c.ID)
		if got := eventsOf(evs, "approve-extension"); len(got) != 2 || got[1].Data["extension"] != float64(2) {
			t.Fatalf("approval events: %+v", got)
		}

		// Two requests at once on another case: exactly one is recorded, the other is 409.
		c2 := w.handling()
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.Post(fmt.Sprintf("/api/v1/cases/%d/request-extension", c2.ID), w.h1, map[string]any{"reason": fmt.Sprintf("请求 %d", i)}).Status
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict {
			t.Fatalf("concurrent requests: %v", statuses)
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/requests", c2.ID), w.h1).MustStatus(t, http.StatusOK).JSON(t, &reqs)
		if len(reqs.Items) != 1 || reqs.Items[0].Status != "pending" {
			t.Fatalf("requests after the race: %+v", reqs)
		}

		// The deadline passes before the approval: the approval is refused, the denial works.
		c3 := w.handling()
		w.timed(w.h1, c3.ID, "request-extension", map[string]any{"reason": "需要更多时间"}, http.StatusOK)
		advanceTo(t, e, *c3.StageDeadline)
		_, p = w.timed(w.sup, c3.ID, "approve-extension", nil, http.StatusConflict)
		if detail, _ := p["detail"].(string); !containsAll(detail, "overdue", "deny") {
			t.Fatalf("approval after the deadline: %v", p)
		}
		c3, _ = w.timed(w.sup, c3.ID, "deny-extension", map[string]any{"reason": "已超期"}, http.StatusOK)
		if c3.ExtensionPending || c3.Extensions != 0 || c3.Light != "red" {
			t.Fatalf("denied: %+v", c3)
		}
		// And an overdue case cannot even ask.
		_, p = w.timed(w.h1, c3.ID, "request-extension", map[string]any{"reason": "再申请"}, http.StatusConflict)
		if detail, _ := p["detail"].(string); !containsAll(detail, "overdue") {
			t.Fatalf("a request when overdue: %v", p)
		}
	}, fastJobs)
}

func TestCaseSuspension(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		cal := defaultCal(t)
		c := w.handling()
		deadline := *c.HandleDeadline

		_, p := w.timed(w.h1, c.ID, "request-suspension", map[string]any{"reason": "待汛期结束"}, http.StatusUnprocessableEntity)
		if !hasField(p, "until") {
			t.Fatalf("no until: %v", p)
		}
		_, p = w.timed(w.h1, c.ID, "request-suspension", map[string]any{"reason": "太久", "until": now(e).Add(400 * 24 * time.Hour)}, http.StatusUnprocessableEntity)
		if !hasField(p, "until") {
			t.Fatalf("400 days: %v", p)
		}
		until := now(e).Add(10 * 24 * time.Hour).Truncate(time.Second)
		c, _ = w.timed(w.h1, c.ID, "request-suspension", map[string]any{"reason": "需待汛期结束后施工", "until": until}, http.StatusOK)
		if !c.SuspensionPending || c.State != "handling" {
			t.Fatalf("requested: %+v", c)
		}
		w.timed(w.h1, c.ID, "approve-suspension", nil, http.StatusForbidden)
		c, _ = w.timed(w.sup, c.ID, "approve-suspension", map[string]any{"note": "同意挂账"}, http.StatusOK)
		if c.State != "suspended" || c.Stage != "none" || c.Light != "" || c.StageDeadline != nil || c.SuspendedAt == nil ||
			c.SuspensionPending || !slices.Contains(c.AllowedActions, "comment") {
			t.Fatalf("suspended: %+v", c)
		}
		sameInstant(t, "suspended until", c.SuspendedUntil, until)
		pause := []worktime.Interval{{Start: *c.SuspendedAt, End: until}}
		want := cal.DeadlineWithPauses(*c.DispatchedAt, oneWorkDay, pause)
		sameInstant(t, "the projected deadline", c.HandleDeadline, want)
		if !want.After(deadline) {
			t.Fatalf("the pause did not move the deadline: %s, was %s", want, deadline)
		}
		w.timed(w.h1, c.ID, "request-suspension", map[string]any{"reason": "again", "until": until}, http.StatusConflict)
		w.timed(w.h1, c.ID, "feedback", map[string]any{"note": "x"}, http.StatusConflict)

		// The clock passes the end: the case resumes by itself, its deadline moved by the paused
		// work time.
		advanceTo(t, e, until)
		c = w.timeOf(w.d1, c.ID)
		if c.State != "handling" || c.Stage != "handle" || c.Light == "" {
			t.Fatalf("after the end: %+v", c)
		}
		sameInstant(t, "resumed at", c.ResumedAt, until)
		sameInstant(t, "the deadline after the pause", c.HandleDeadline, want)
		sameInstant(t, "the stage deadline after the pause", c.StageDeadline, want)
		evs := w.events(w.d1, c.ID)
		resumed := eventsOf(evs, "auto_resume")
		if len(resumed) != 1 || resumed[0].FromState != "suspended" || resumed[0].ToState != "handling" || resumed[0].ActorRole != "system" {
			t.Fatalf("auto_resume events: %+v", resumed)
		}
		// Once per case.
		_, p = w.timed(w.h1, c.ID, "request-suspension", map[string]any{"reason": "再挂账", "until": now(e).Add(24 * time.Hour)}, http.StatusConflict)
		if detail, _ := p["detail"].(string); !containsAll(detail, "once") {
			t.Fatalf("a second suspension: %v", p)
		}

		// Resumed by hand: the pause ends then, and the timer at the planned end does nothing.
		c2 := w.handling()
		until2 := now(e).Add(3 * 24 * time.Hour)
		w.timed(w.h1, c2.ID, "request-suspension", map[string]any{"reason": "等待材料", "until": until2}, http.StatusOK)
		c2, _ = w.timed(w.d1, c2.ID, "approve-suspension", nil, http.StatusOK)
		advance(t, e, 26*time.Hour)
		if got := w.timeOf(w.d1, c2.ID); got.State != "suspended" {
			t.Fatalf("resumed before its end: %+v", got)
		}
		c2, _ = w.timed(w.h1, c2.ID, "resume", map[string]any{"note": "材料已到"}, http.StatusOK)
		if c2.State != "handling" || c2.ResumedAt == nil {
			t.Fatalf("resumed by hand: %+v", c2)
		}
		sameInstant(t, "the deadline after a manual resume", c2.HandleDeadline,
			cal.DeadlineWithPauses(*c2.DispatchedAt, oneWorkDay, []worktime.Interval{{Start: *c2.SuspendedAt, End: *c2.ResumedAt}}))
		advanceTo(t, e, until2)
		evs = w.events(w.d1, c2.ID)
		if len(eventsOf(evs, "auto_resume")) != 0 || len(eventsOf(evs, "resume")) != 1 {
			t.Fatalf("events after a manual resume: %+v", evs)
		}

		// A denied request leaves the case handling; a request lapses when the case is returned.
		c3 := w.handling()
		w.timed(w.h1, c3.ID, "request-suspension", map[string]any{"reason": "x", "until": now(e).Add(time.Hour)}, http.StatusOK)
		w.timed(w.d1, c3.ID, "deny-suspension", map[string]any{}, http.StatusUnprocessableEntity)
		c3, _ = w.timed(w.d1, c3.ID, "deny-suspension", map[string]any{"reason": "不符合挂账条件"}, http.StatusOK)
		if c3.State != "handling" || c3.SuspensionPending {
			t.Fatalf("denied: %+v", c3)
		}
		w.timed(w.h1, c3.ID, "request-extension", map[string]any{"reason": "x"}, http.StatusOK)
		w.act(w.h1, c3.ID, "return", map[string]any{"reason": "不属于本部门职责"}, http.StatusOK)
		var reqs struct {
			Items []struct{ Kind, Status string }
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/requests", c3.ID), w.d1).MustStatus(t, http.StatusOK).JSON(t, &reqs)
		if len(reqs.Items) != 2 || reqs.Items[0].Status != "denied" || reqs.Items[1].Status != "lapsed" {
			t.Fatalf("requests: %+v", reqs)
		}
		if got := w.timeOf(w.d1, c3.ID); got.ExtensionPending {
			t.Fatalf("a returned case still waits: %+v", got)
		}
	}, fastJobs)
}

func TestCaseSupervisionByHand(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		c := w.dispatched()
		_, p := w.timed(w.sup, c.ID, "supervise", map[string]any{"level": "orange", "note": ""}, http.StatusUnprocessableEntity)
		if !hasField(p, "level") || !hasField(p, "note") {
			t.Fatalf("bad supervision: %v", p)
		}
		w.timed(w.d1, c.ID, "supervise", map[string]any{"level": "yellow", "note": "请尽快签收"}, http.StatusForbidden)
		c, _ = w.timed(w.sup, c.ID, "supervise", map[string]any{"level": "yellow", "note": "请尽快签收"}, http.StatusOK)
		if c.State != "dispatched" || c.OpenSupervisionCount != 1 || c.SupervisionLevel != "yellow" || len(c.OpenSupervisions) != 1 ||
			c.OpenSupervisions[0].Source != "manual" || c.OpenSupervisions[0].Note != "请尽快签收" {
			t.Fatalf("supervised: %+v", c)
		}
		c, _ = w.timed(w.sup, c.ID, "supervise", map[string]any{"level": "red", "note": "今日必须签收"}, http.StatusOK)
		if c.OpenSupervisionCount != 2 || c.SupervisionLevel != "red" {
			t.Fatalf("red: %+v", c)
		}
		// The department replies: another department may not, a reply needs a note.
		w.timed(w.h2, c.ID, "reply-supervision", map[string]any{"note": "x"}, http.StatusNotFound) // not its case
		w.timed(w.sup, c.ID, "reply-supervision", map[string]any{"note": "x"}, http.StatusForbidden)
		_, p = w.timed(w.h1, c.ID, "reply-supervision", map[string]any{}, http.StatusUnprocessableEntity)
		if !hasField(p, "note") {
			t.Fatalf("a reply without a note: %v", p)
		}
		first := c.OpenSupervisions[0].ID
		_, p = w.timed(w.h1, c.ID, "reply-supervision", map[string]any{"note": "x", "supervision_id": first + 100}, http.StatusUnprocessableEntity)
		if !hasField(p, "supervision_id") {
			t.Fatalf("a reply to an unknown supervision: %v", p)
		}
		c, _ = w.timed(w.h1, c.ID, "reply-supervision", map[string]any{"note": "已安排签收", "supervision_id": first}, http.StatusOK)
		if c.OpenSupervisionCount != 1 || c.SupervisionLevel != "red" {
			t.Fatalf("one replied: %+v", c)
		}
		c, _ = w.timed(w.h1, c.ID, "reply-supervision", map[string]any{"note": "已签收处置"}, http.StatusOK)
		if c.OpenSupervisionCount != 0 || c.SupervisionLevel != "" || len(c.OpenSupervisions) != 0 ||
			slices.Contains(c.AllowedActions, "reply-supervision") {
			t.Fatalf("all replied: %+v", c)
		}
		w.timed(w.h1, c.ID, "reply-supervision", map[string]any{"note": "again"}, http.StatusConflict)

		var list struct {
			Items []struct {
				Level, Reply string
				RepliedAt    *time.Time `json:"replied_at"`
			}
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/supervisions", c.ID), w.sup).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].Reply != "已安排签收" || list.Items[1].Reply != "已签收处置" || list.Items[1].RepliedAt == nil {
			t.Fatalf("supervisions: %+v", list)
		}
		e.Get(fmt.Sprintf("/api/v1/cases/%d/supervisions", c.ID), w.w2).MustStatus(t, http.StatusNotFound)
		evs := w.events(w.d1, c.ID)
		if len(eventsOf(evs, "supervise")) != 2 || len(eventsOf(evs, "reply-supervision")) != 2 || evs[len(evs)-1].ToState != "dispatched" {
			t.Fatalf("events: %+v", evs)
		}
	}, fastJobs)
}

// TestCaseTimers: warnings, overdue and automatic supervision fire when the clock passes their
// instants, exactly once, with nobody polling; a moved deadline leaves the old timer idle.
func TestCaseTimers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		cal := defaultCal(t)
		c := w.dispatched()
		if c.Stage != "sign" || c.Light != "green" || c.StageWarnAt == nil {
			t.Fatalf("dispatched: %+v", c)
		}
		sameInstant(t, "sign deadline", c.StageDeadline, cal.Deadline(*c.DispatchedAt, worktime.WorkHoursLimit(1)))

		advanceTo(t, e, *c.StageWarnAt)
		evs := w.events(w.d1, c.ID)
		warns := eventsOf(evs, "warn")
		if len(warns) != 1 || warns[0].Data["stage"] != "sign" || warns[0].ActorRole != "system" || warns[0].ToState != "dispatched" {
			t.Fatalf("warn events: %+v", evs)
		}
		if got := w.timeOf(w.d1, c.ID); got.Light != "yellow" {
			t.Fatalf("light after the warning: %s", got.Light)
		}

		advanceTo(t, e, *c.StageDeadline)
		evs = w.events(w.d1, c.ID)
		if od := eventsOf(evs, "overdue"); len(od) != 1 || od[0].Data["stage"] != "sign" {
			t.Fatalf("overdue events: %+v", evs)
		}
		if got := w.timeOf(w.d1, c.ID); got.Light != "red" || got.OpenSupervisionCount != 0 {
			t.Fatalf("after the sign deadline: %+v", got)
		}

		// Not signed within 1 work day of the dispatch → yellow; within 2 → red (default rules).
		advanceTo(t, e, cal.Deadline(*c.DispatchedAt, worktime.WorkDaysLimit(1)))
		got := w.timeOf(w.d1, c.ID)
		if got.OpenSupervisionCount != 1 || got.SupervisionLevel != "yellow" || got.OpenSupervisions[0].Source != "auto" {
			t.Fatalf("after 1 work day unsigned: %+v", got)
		}
		advanceTo(t, e, cal.Deadline(*c.DispatchedAt, worktime.WorkDaysLimit(2)))
		got = w.timeOf(w.d1, c.ID)
		if got.OpenSupervisionCount != 2 || got.SupervisionLevel != "red" {
			t.Fatalf("after 2 work days unsigned: %+v", got)
		}
		// Signing now: handling's own limit (from the dispatch) is already spent, so it enters
		// overdue, which raises a red supervision at once.
		w.timed(w.h1, c.ID, "sign", nil, http.StatusOK)
		settle(t, e)
		evs = w.events(w.d1, c.ID)
		if od := eventsOf(evs, "overdue"); len(od) != 2 || od[1].Data["stage"] != "handle" {
			t.Fatalf("overdue events after signing late: %+v", od)
		}
		auto := eventsOf(evs, "auto_supervise")
		if len(auto) != 3 || auto[0].Data["level"] != "yellow" || auto[1].Data["level"] != "red" || auto[2].Data["level"] != "red" ||
			auto[2].TargetDepartmentID != w.cgj {
			t.Fatalf("automatic supervisions: %+v", auto)
		}
		if len(eventsOf(evs, "warn")) != 2 { // sign's, then handling's (due long ago, fired once)
			t.Fatalf("warn events: %+v", eventsOf(evs, "warn"))
		}

		// Moving the clock on fires nothing more: every timer fired exactly once.
		before := len(w.events(w.d1, c.ID))
		advance(t, e, 20*24*time.Hour)
		if after := len(w.events(w.d1, c.ID)); after != before {
			t.Fatalf("%d events after moving on, were %d", after, before)
		}

		// An extension approved before the deadline: the old timers do nothing, the new
		// deadline fires later.
		c2 := w.handling()
		w.timed(w.h1, c2.ID, "request-extension", map[string]any{"reason": "需要协调"}, http.StatusOK)
		c2, _ = w.timed(w.sup, c2.ID, "approve-extension", nil, http.StatusOK)
		oldDeadline := cal.Deadline(*c2.DispatchedAt, oneWorkDay)
		advanceTo(t, e, oldDeadline)
		evs = w.events(w.d1, c2.ID)
		if len(eventsOf(evs, "overdue")) != 0 || len(eventsOf(evs, "warn")) != 0 || w.timeOf(w.d1, c2.ID).Light != "green" {
			t.Fatalf("after the old deadline: %+v", evs)
		}
		advanceTo(t, e, *c2.StageDeadline)
		evs = w.events(w.d1, c2.ID)
		od, warns := eventsOf(evs, "overdue"), eventsOf(evs, "warn")
		if len(od) != 1 || len(warns) != 1 || od[0].Data["due_at"] != c2.StageDeadline.UTC().Format(time.RFC3339) {
			t.Fatalf("after the new deadline: %+v", evs)
		}
		if got := w.timeOf(w.d1, c2.ID); got.SupervisionLevel != "red" {
			t.Fatalf("handling overdue raises red: %+v", got)
		}
	}, fastJobs)
}

// TestCaseTimerSurvivesRestart: a timer left in the queue when the process stops fires in the
// next process on the same database.
func TestCaseTimerSurvivesRestart(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			e := apptest.New(t, d, fastJobs)
			w := newWorld(t, e)
			c := w.dispatched()
			if err := e.App.Close(); err != nil {
				t.Fatal(err)
			}
			// A new process on the same database and data directory (so the tokens still verify).
			e2 := apptest.New(t, d, fastJobs, func(cfg *config.Config) {
				cfg.DatabaseURL, cfg.DataDir = e.App.Config.DatabaseURL, e.App.Config.DataDir
			})
			w2 := *w
			w2.e = e2
			advanceTo(t, e2, *c.StageDeadline)
			evs := w2.events(w.d1, c.ID)
			if len(eventsOf(evs, "warn")) != 1 || len(eventsOf(evs, "overdue")) != 1 {
				t.Fatalf("events after the restart: %+v", evs)
			}
		})
	}
}

// TestCaseTimersTwoRunners: two processes working one PostgreSQL queue fire each timer once,
// even when both run the same timer.
func TestCaseTimersTwoRunners(t *testing.T) {
	e := apptest.New(t, store.Postgres, fastJobs)
	e2 := apptest.New(t, store.Postgres, fastJobs, func(cfg *config.Config) {
		cfg.DatabaseURL, cfg.DataDir = e.App.Config.DatabaseURL, e.App.Config.DataDir
	})
	w := newWorld(t, e)
	var cases []clockView
	for range 5 {
		cases = append(cases, w.dispatched())
	}
	last := cases[len(cases)-1]
	d := last.StageDeadline.Sub(now(e)) + time.Second
	e.App.Jobs.Clock().Advance(d)
	e2.App.Jobs.Clock().Advance(d)
	var wg sync.WaitGroup
	for _, env := range []*apptest.Env{e, e2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := env.App.Jobs.RunDue(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	settle(t, e)
	settle(t, e2)
	for _, c := range cases {
		evs := w.events(w.d1, c.ID)
		if len(eventsOf(evs, "warn")) != 1 || len(eventsOf(evs, "overdue")) != 1 {
			t.Fatalf("case %d: %+v", c.ID, evs)
		}
	}
	// The same timer run by both processes at once still acts once.
	c := w.dispatched()
	timer := timerOf(t, e, c.ID, "warn")
	e.App.Jobs.Clock().Advance(c.StageWarnAt.Sub(now(e)) + time.Second)
	e2.App.Jobs.Clock().Advance(c.StageWarnAt.Sub(now(e2)) + time.Second)
	errs := make([]error, 2)
	for i, env := range []*apptest.Env{e, e2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = env.App.Cases.FireTimer(context.Background(), timer)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	settle(t, e)
	if n := len(eventsOf(w.events(w.d1, c.ID), "warn")); n != 1 {
		t.Fatalf("%d warn events", n)
	}
}

// timerOf finds the queued timer of a kind for a case.
func timerOf(t *testing.T, e *apptest.Env, caseID int64, kind string) casework.Timer {
	t.Helper()
	jobs, err := e.App.Jobs.Jobs(context.Background(), "case_timer")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		var a store.CaseTimerArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		if a.CaseID == caseID && a.TimerKind == kind {
			return a.Timer()
		}
	}
	t.Fatalf("no %s timer for case %d", kind, caseID)
	return casework.Timer{}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
