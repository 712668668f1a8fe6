package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/events"
)

func (s *Server) registerEvents(r *gin.RouterGroup) {
	r.GET("/events", s.requireAuth, s.listEvents)
	r.GET("/stream", s.requireAuth, s.streamEvents)
}

// EventFeedItem is one published event: the same JSON as a webhook's body, plus its place in
// the feed.
type EventFeedItem struct {
	// Seq is the event's position in the feed: strictly increasing, without gaps in the
	// feed as a whole (a caller skips over what is out of its scope).
	Seq         int64     `json:"seq" example:"1024"`
	PublishedAt time.Time `json:"published_at" example:"2026-03-14T08:31:02.500000Z"`
	// Type is the event type, e.g. case.dispatch.
	Type string `json:"type" example:"case.dispatch"`
	// Timestamp is when the event happened.
	Timestamp time.Time        `json:"timestamp" example:"2026-03-14T08:31:02.123456Z"`
	Data      EventMessageData `json:"data"`
} //	@name	EventFeedItem

// EventMessageData is a published event's data: the event and its case (a webhook's data is
// the same).
type EventMessageData struct {
	// Seq is the event's position in the feed.
	Seq   int64        `json:"seq,omitempty" example:"1024"`
	Event *EventBody   `json:"event,omitempty"`
	Case  *CaseSummary `json:"case,omitempty"`
	// EndpointID is set in a webhook.ping message only.
	EndpointID int64 `json:"endpoint_id,omitempty" example:"3"`
} //	@name	EventMessageData

// EventBody is one entry of a case's log (流转记录). Same fields as events.EventBody, the
// webhook wire type (converted, so they cannot drift apart).
type EventBody struct {
	ID        int64  `json:"id" example:"5120"`
	CaseID    int64  `json:"case_id" example:"812"`
	CaseSeq   int    `json:"case_seq" example:"4"`
	Action    string `json:"action" example:"dispatch"`
	FromState string `json:"from_state,omitempty" example:"filed"`
	ToState   string `json:"to_state" example:"dispatched"`
	// Stage is the stage this action left; time_used_seconds and overdue are about it.
	Stage              string         `json:"stage,omitempty" example:"dispatch"`
	ActorRole          string         `json:"actor_role" example:"dispatcher"`
	ActorUserID        int64          `json:"actor_user_id,omitempty" example:"7"`
	ActorAPIKeyID      int64          `json:"actor_api_key_id,omitempty" example:"0"`
	TargetDepartmentID int64          `json:"target_department_id,omitempty" example:"12"`
	TargetRegionCode   string         `json:"target_region_code,omitempty" example:""`
	TargetUserID       int64          `json:"target_user_id,omitempty" example:"0"`
	Note               string         `json:"note,omitempty" example:"请尽快处理"`
	Reason             string         `json:"reason,omitempty" example:""`
	Visibility         string         `json:"visibility" example:"internal"`
	Data               map[string]any `json:"data,omitempty" swaggertype:"object"`
	TimeUsedSeconds    int64          `json:"time_used_seconds" example:"540"`
	Overdue            bool           `json:"overdue" example:"false"`
	CreatedAt          time.Time      `json:"created_at" example:"2026-03-14T08:31:02.123456Z"`
} //	@name	EventBody

// CaseSummary is the case of an event. Same fields as events.CaseSummary.
type CaseSummary struct {
	ID             int64      `json:"id" example:"812"`
	Number         string     `json:"number" example:"GC20260314-000123"`
	State          string     `json:"state" example:"dispatched"`
	CategoryCode   string     `json:"category_code,omitempty" example:"E0101"`
	CategoryName   string     `json:"category_name,omitempty" example:"暴露垃圾"`
	Urgency        string     `json:"urgency" example:"normal"`
	Description    string     `json:"description" example:"小区门口垃圾堆积"`
	Address        string     `json:"address,omitempty" example:"崇川区南大街 12 号"`
	Lat            *float64   `json:"lat,omitempty" example:"32.0101"`
	Lng            *float64   `json:"lng,omitempty" example:"120.8633"`
	GridCode       string     `json:"grid_code,omitempty" example:"320613001001001"`
	RegionPath     string     `json:"region_path,omitempty" example:"/320600/320613/320613001/320613001001/320613001001001/"`
	DeskRegionCode string     `json:"desk_region_code,omitempty" example:"320613001"`
	Source         string     `json:"source" example:"grid_worker"`
	ExternalRef    string     `json:"external_ref,omitempty" example:"12345-2026-0001"`
	LeadDepartment int64      `json:"lead_department_id,omitempty" example:"12"`
	Stage          string     `json:"stage" example:"sign"`
	StageDeadline  *time.Time `json:"stage_deadline,omitempty" example:"2026-03-14T09:31:02Z"`
	HandleDeadline *time.Time `json:"handle_deadline,omitempty" example:"2026-03-15T17:30:00Z"`
	OccurredAt     time.Time  `json:"occurred_at" example:"2026-03-14T08:00:00Z"`
	CreatedAt      time.Time  `json:"created_at" example:"2026-03-14T08:05:00Z"`
	UpdatedAt      time.Time  `json:"updated_at" example:"2026-03-14T08:31:02Z"`
	ClosedAt       *time.Time `json:"closed_at,omitempty" example:"2026-03-15T10:00:00Z"`
} //	@name	CaseSummary

func eventMessageDataDTO(d events.MessageData) EventMessageData {
	out := EventMessageData{Seq: d.Seq, EndpointID: d.EndpointID}
	if d.Event != nil {
		e := EventBody(*d.Event)
		out.Event = &e
	}
	if d.Case != nil {
		c := CaseSummary(*d.Case)
		out.Case = &c
	}
	return out
}

func eventFeedItemDTO(it events.FeedItem) EventFeedItem {
	m := events.MessageOf(it.Seq, it.Event, it.Case, it.CategoryName)
	return EventFeedItem{Seq: it.Seq, PublishedAt: it.PublishedAt, Type: m.Type, Timestamp: m.Timestamp, Data: eventMessageDataDTO(m.Data)}
}

// EventFeed is one page of the feed.
type EventFeed struct {
	Items []EventFeedItem `json:"items"`
	// Next is the cursor for the next call (after=next). It can be past the last item: the
	// feed skips what is outside the caller's scope. Store it once the items are processed.
	Next int64 `json:"next" example:"1030"`
	// HasMore: the page is full, ask again at once.
	HasMore bool `json:"has_more" example:"false"`
} //	@name	EventFeed

// listEvents godoc
//
//	@Summary		Read the event feed
//	@Description	Published case events after a cursor, in order, in the caller's scope (admins everything; others what they may read of cases; an API key needs events:read and does not see internal comments). The feed is monotonic: an event committed late is numbered when it is published, never behind a cursor already handed out. Poll with after=next.
//	@ID				listEvents
//	@Tags			events
//	@Produce		json
//	@Security		BearerAuth
//	@Param			after	query		int	false	"cursor: the next value of the previous page (0 or absent: from the start)"
//	@Param			limit	query		int	false	"page size (1–1000, default 100)"
//	@Success		200		{object}	EventFeed
//	@Failure		401,403,422	{object}	Problem
//	@Router			/api/v1/events [get]
func (s *Server) listEvents(c *gin.Context) {
	var f errs.Fields
	after := webhookQueryInt(c, &f, "after")
	limit := int(webhookQueryInt(c, &f, "limit"))
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if c.Query("limit") == "" {
		limit = 100
	}
	page, err := s.Events.Feed(c.Request.Context(), mustPrincipal(c), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := EventFeed{Items: make([]EventFeedItem, len(page.Items)), Next: page.Next, HasMore: page.HasMore}
	for i, it := range page.Items {
		out.Items[i] = eventFeedItemDTO(it)
	}
	c.JSON(http.StatusOK, out)
}

// streamEvents godoc
//
//	@Summary		Stream case events (server-sent events)
//	@Description	A text/event-stream of published case events in the caller's scope, for the web console: each message has "id: <seq>", "event: <type>" and "data: <the EventFeedItem JSON>". Idle streams get a ": keep-alive" comment every 15 s. To resume after a disconnect send Last-Event-ID (the last id received; browsers' EventSource does it by itself) or after=<seq>; without either the stream starts at the present. Send the token in the Authorization header (use a fetch-based SSE client; EventSource cannot set headers).
//	@ID				streamEvents
//	@Tags			events
//	@Produce		text/event-stream,json
//	@Security		BearerAuth
//	@Param			Last-Event-ID	header		int		false	"resume after this seq"
//	@Param			after			query		int		false	"resume after this seq (when the header cannot be set)"
//	@Success		200				{string}	string	"the event stream"
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/stream [get]
func (s *Server) streamEvents(c *gin.Context) {
	after, err := streamCursor(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	sub, err := s.Events.Subscribe(c.Request.Context(), mustPrincipal(c), after)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The server's timeouts are for ordinary requests: a write deadline left in place would
	// cut the stream when it passes.
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	fmt.Fprintf(c.Writer, "retry: 3000\n: stream from seq %d\n\n", sub.Cursor())
	c.Writer.Flush()
	err = sub.Run(c.Request.Context(), func(items []events.FeedItem) error { return writeSSE(c.Writer, items) })
	if err != nil {
		s.log.DebugContext(c.Request.Context(), "event stream ended", "request_id", requestID(c), "error", err)
	}
}

// writeSSE writes events as server-sent event messages (a keep-alive comment when there are
// none) and flushes them.
func writeSSE(w gin.ResponseWriter, items []events.FeedItem) error {
	if len(items) == 0 {
		if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
			return err
		}
	}
	for _, it := range items {
		dto := eventFeedItemDTO(it)
		b, err := json.Marshal(dto)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", dto.Seq, dto.Type, b); err != nil {
			return err
		}
	}
	w.Flush()
	return nil
}

// streamCursor reads where a stream resumes: Last-Event-ID, else after=, else -1 (now).
func streamCursor(c *gin.Context) (int64, error) {
	name, v := "Last-Event-ID", strings.TrimSpace(c.GetHeader("Last-Event-ID"))
	if v == "" {
		name, v = "after", c.Query("after")
	}
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		var f errs.Fields
		f.Add(name, "type", "%s must be a seq from the feed (a non-negative integer)", name)
		return 0, f.Err()
	}
	return n, nil
}
