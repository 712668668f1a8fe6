package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/store"
)

type feedItem struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	parsed    struct {
		Seq   int64 `json:"seq"`
		Event struct {
			ID     int64  `json:"id"`
			CaseID int64  `json:"case_id"`
			Action string `json:"action"`
		} `json:"event"`
		Case struct {
			ID           int64  `json:"id"`
			Number       string `json:"number"`
			State        string `json:"state"`
			CategoryCode string `json:"category_code"`
			CategoryName string `json:"category_name"`
			GridCode     string `json:"grid_code"`
			RegionPath   string `json:"region_path"`
		} `json:"case"`
	}
}

type feedPage struct {
	Items   []feedItem `json:"items"`
	Next    int64      `json:"next"`
	HasMore bool       `json:"has_more"`
}

func readFeed(t *testing.T, e *apptest.Env, token string, after int64, limit int) feedPage {
	t.Helper()
	var p feedPage
	e.Get(fmt.Sprintf("/api/v1/events?after=%d&limit=%d", after, limit), token).MustStatus(t, http.StatusOK).JSON(t, &p)
	for i := range p.Items {
		if err := json.Unmarshal(p.Items[i].Data, &p.Items[i].parsed); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// readAll follows the feed to its end, page by page.
func readAll(t *testing.T, e *apptest.Env, token string, after int64, limit int) ([]feedItem, int64) {
	t.Helper()
	var all []feedItem
	for {
		p := readFeed(t, e, token, after, limit)
		all = append(all, p.Items...)
		if p.Next < after {
			t.Fatalf("the cursor went back from %d to %d", after, p.Next)
		}
		after = p.Next
		if !p.HasMore {
			return all, after
		}
	}
}

func TestEventFeed(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := apptest.New(t, d, fastEvents())
		w := newWorld(t, e)
		c1 := w.reportAt(w.w1, inG1, "E0101")
		w.act(w.d1, c1.ID, "accept", map[string]any{"note": "立案"}, http.StatusOK)
		w.act(w.d1, c1.ID, "comment", map[string]any{"note": "内部", "visibility": "internal"}, http.StatusOK)
		c2 := w.reportAt(w.w2, inG2, "E0101")
		eventually(t, "4 published events", func() bool { return len(readFeed(t, e, w.admin, 0, 100).Items) == 4 })

		all, head := readAll(t, e, w.admin, 0, 3)
		if len(all) != 4 || head != 4 {
			t.Fatalf("admin: %d events, head %d", len(all), head)
		}
		for i, it := range all {
			if it.Seq != int64(i+1) || it.parsed.Seq != it.Seq || it.Type != "case."+it.parsed.Event.Action || it.parsed.Case.Number == "" ||
				it.parsed.Case.CategoryName == "" || it.parsed.Case.RegionPath == "" {
				t.Fatalf("item %d: %+v", i, it.parsed)
			}
		}
		if all[0].Type != "case.report" || all[1].Type != "case.accept" || all[2].Type != "case.comment" || all[3].parsed.Case.ID != c2.ID {
			t.Fatalf("order: %s %s %s %s", all[0].Type, all[1].Type, all[2].Type, all[3].Type)
		}
		if all[1].parsed.Case.State != "filed" || all[0].parsed.Case.GridCode != grid1 {
			t.Fatalf("case: %+v", all[1].parsed.Case)
		}

		// A street desk reads its street's cases only, and its cursor still reaches the head.
		mine, next := readAll(t, e, w.d2, 0, 100)
		if len(mine) != 1 || mine[0].parsed.Case.ID != c2.ID || next != 4 {
			t.Fatalf("street 2 desk: %d events, next %d", len(mine), next)
		}
		if p := readFeed(t, e, w.d1, 4, 10); len(p.Items) != 0 || p.Next != 4 || p.HasMore {
			t.Fatalf("at the head: %+v", p)
		}

		// API keys need events:read, and do not see internal comments.
		var k struct{ Key string }
		e.Post("/api/v1/api-keys", w.admin, map[string]any{"name": "dashboard", "scopes": []string{"events:read", "cases:read"}}).
			MustStatus(t, http.StatusCreated).JSON(t, &k)
		got, _ := readAll(t, e, k.Key, 0, 100)
		if len(got) != 3 {
			t.Fatalf("API key: %d events, want 3 (no internal comment)", len(got))
		}
		for _, it := range got {
			if it.Type == "case.comment" {
				t.Fatal("an API key read an internal comment")
			}
		}
		var k2 struct{ Key string }
		e.Post("/api/v1/api-keys", w.admin, map[string]any{"name": "cases only", "scopes": []string{"cases:read"}}).
			MustStatus(t, http.StatusCreated).JSON(t, &k2)
		e.Get("/api/v1/events", k2.Key).MustStatus(t, http.StatusForbidden)

		e.Get("/api/v1/events", "-").MustStatus(t, http.StatusUnauthorized)
		e.Get("/api/v1/events?after=-1", w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/events?limit=0", w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/events?limit=1001", w.admin).MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/events?after=x", w.admin).MustStatus(t, http.StatusUnprocessableEntity)
	})
}

// sseMessage is one server-sent event.
type sseMessage struct {
	ID, Event, Data string
	Comment         string
}

// openStream connects to /api/v1/stream and returns its messages as they come. The stream
// is read with a plain client: the spec harness reads a body to its end, and a stream has
// none (its errors, which do end, are checked through the harness below).
func openStream(t *testing.T, e *apptest.Env, token string, header map[string]string) (<-chan sseMessage, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.Server.URL+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseMessage, 100)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var m sseMessage
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m != (sseMessage{}) {
					out <- m
				}
				m = sseMessage{}
			case strings.HasPrefix(line, ":"):
				m.Comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				m.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.Data = line[6:]
			}
		}
	}()
	return out, cancel
}

// next returns the next message that is an event (skipping comments), failing after a while.
func nextEvent(t *testing.T, ch <-chan sseMessage) sseMessage {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("the stream ended")
			}
			if m.Event != "" {
				return m
			}
		case <-timeout:
			t.Fatal("no event on the stream")
		}
	}
}

func TestEventStream(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := apptest.New(t, d, fastEvents())
		w := newWorld(t, e)
		c0 := w.reportAt(w.w1, inG1, "E0101") // before anyone listens
		eventually(t, "the first event", func() bool { return len(readFeed(t, e, w.admin, 0, 10).Items) == 1 })

		admin, stopAdmin := openStream(t, e, w.admin, nil)
		defer stopAdmin()
		first := <-admin
		if !strings.Contains(first.Comment, "stream from seq 1") {
			t.Fatalf("first message: %+v", first)
		}
		desk2, stopDesk2 := openStream(t, e, w.d2, nil)
		defer stopDesk2()
		<-desk2

		c1 := w.reportAt(w.w1, inG1, "E0101")
		m := nextEvent(t, admin)
		var item feedItem
		if err := json.Unmarshal([]byte(m.Data), &item); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(item.Data, &item.parsed); err != nil {
			t.Fatal(err)
		}
		if m.ID != "2" || m.Event != "case.report" || item.Seq != 2 || item.parsed.Case.ID != c1.ID {
			t.Fatalf("streamed: %+v %+v", m, item.parsed)
		}

		// Street 2's desk sees its own case, not street 1's.
		c2 := w.reportAt(w.w2, inG2, "E0101")
		m = nextEvent(t, desk2)
		if m.ID != "3" || !strings.Contains(m.Data, fmt.Sprintf(`"case":{"id":%d,`, c2.ID)) {
			t.Fatalf("desk 2 got %+v", m)
		}
		if m := nextEvent(t, admin); m.ID != "3" {
			t.Fatalf("admin got %+v", m)
		}

		// Idle streams get heartbeats.
		deadline := time.After(10 * time.Second)
		for beat := false; !beat; {
			select {
			case m := <-admin:
				beat = m.Comment == "keep-alive"
			case <-deadline:
				t.Fatal("no heartbeat")
			}
		}

		// Resuming with Last-Event-ID replays what came after it, in order.
		again, stopAgain := openStream(t, e, w.admin, map[string]string{"Last-Event-ID": "0"})
		defer stopAgain()
		for i, want := range []int64{c0.ID, c1.ID, c2.ID} {
			m := nextEvent(t, again)
			if m.ID != strconv.Itoa(i+1) || !strings.Contains(m.Data, fmt.Sprintf(`"case":{"id":%d,`, want)) {
				t.Fatalf("resumed message %d: %+v", i+1, m)
			}
		}

		e.Get("/api/v1/stream", "-").MustStatus(t, http.StatusUnauthorized)
		e.Do(apptest.Req{Method: http.MethodGet, Path: "/api/v1/stream", Token: w.admin, Header: map[string]string{"Last-Event-ID": "abc"}}).
			MustStatus(t, http.StatusUnprocessableEntity)
		e.Get("/api/v1/stream?after=-5", w.admin).MustStatus(t, http.StatusUnprocessableEntity)

		// A stream outlives the server's write timeout (which would otherwise cut it).
		strict := httptest.NewUnstartedServer(e.App.Server.Handler())
		strict.Config.WriteTimeout = 200 * time.Millisecond
		strict.Start()
		defer strict.Close()
		long, stopLong := openStream(t, &apptest.Env{T: t, App: e.App, Server: strict}, w.admin, nil)
		defer stopLong()
		<-long
		time.Sleep(700 * time.Millisecond) // several write timeouts
		c3 := w.reportAt(w.w1, inG1, "E0101")
		if m := nextEvent(t, long); !strings.Contains(m.Data, fmt.Sprintf(`"case":{"id":%d,`, c3.ID)) {
			t.Fatalf("after the write timeout: %+v", m)
		}

		// Shutting the service down ends every stream.
		e.App.Events.Close()
		for _, ch := range []<-chan sseMessage{admin, desk2, again} {
			timeout := time.After(10 * time.Second)
		drain:
			for {
				select {
				case _, ok := <-ch:
					if !ok {
						break drain
					}
				case <-timeout:
					t.Fatal("a stream outlived the shutdown")
				}
			}
		}
	})
}
