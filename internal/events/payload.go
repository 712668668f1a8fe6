package events

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
)

// The wire format of a published event: the body of a webhook, an item of the feed and the
// data of a server-sent event are the same JSON (docs/webhooks.md is its contract). These are
// wire types, not domain types: the domain's casework.Event and casework.Case carry no tags.
// The HTTP layer documents the same shapes (httpapi.EventBody, httpapi.CaseSummary), converted
// from these by Go struct conversion, so the two cannot drift apart.

// PingType is the type of the message POST /webhooks/{id}/test sends.
const PingType = "webhook.ping"

// EventType names a case action as an event type: "case." + the action with "-" as "_"
// (Standard Webhooks asks for [a-zA-Z0-9_] between the dots), e.g. case.dispatch,
// case.request_verification, case.hand_down.
func EventType(a casework.Action) string {
	return "case." + strings.ReplaceAll(string(a), "-", "_")
}

// Message is one published event.
type Message struct {
	// Type is the event type, e.g. case.dispatch (see docs/webhooks.md for the list).
	Type string `json:"type" example:"case.dispatch"`
	// Timestamp is when the event happened (not when it was delivered).
	Timestamp time.Time   `json:"timestamp" example:"2026-03-14T08:31:02.123456Z"`
	Data      MessageData `json:"data"`
}

// MessageData is a message's data: the event and its case, or for a ping the endpoint.
type MessageData struct {
	// Seq is the event's position in the feed (GET /api/v1/events?after=); absent in a ping.
	Seq        int64        `json:"seq,omitempty" example:"1024"`
	Event      *EventBody   `json:"event,omitempty"`
	Case       *CaseSummary `json:"case,omitempty"`
	EndpointID int64        `json:"endpoint_id,omitempty" example:"3"`
}

// EventBody is one entry of a case's log (流转记录).
type EventBody struct {
	ID        int64  `json:"id" example:"5120"`
	CaseID    int64  `json:"case_id" example:"812"`
	CaseSeq   int    `json:"case_seq" example:"4"` // 1, 2, … within the case
	Action    string `json:"action" example:"dispatch"`
	FromState string `json:"from_state,omitempty" example:"filed"`
	ToState   string `json:"to_state" example:"dispatched"`
	// Stage is the stage this action left; TimeUsedSeconds and Overdue are about it.
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
}

// CaseSummary is the case an event belongs to: in a webhook as it was when the event was
// published, in the feed and the stream as it is when read.
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
}

// MessageOf renders a published (or about to be published) event.
func MessageOf(seq int64, e casework.Event, c casework.Case, categoryName string) Message {
	body := EventBody{
		ID: e.ID, CaseID: e.CaseID, CaseSeq: e.Seq, Action: string(e.Action), FromState: string(e.FromState), ToState: string(e.ToState),
		Stage: string(e.Stage), ActorRole: string(e.ActorRole), ActorUserID: e.ActorUserID, ActorAPIKeyID: e.ActorAPIKeyID,
		TargetDepartmentID: e.TargetDepartmentID, TargetRegionCode: e.TargetRegionCode, TargetUserID: e.TargetUserID,
		Note: e.Note, Reason: e.Reason, Visibility: string(e.Visibility), Data: e.Data,
		TimeUsedSeconds: e.TimeUsedSeconds, Overdue: e.Overdue, CreatedAt: e.CreatedAt.UTC(),
	}
	cs := CaseSummary{
		ID: c.ID, Number: c.Number, State: string(c.State), CategoryCode: c.CategoryCode, CategoryName: categoryName,
		Urgency: string(c.Urgency), Description: c.Description, Address: c.Address,
		GridCode: c.GridCode, RegionPath: c.RegionPath, DeskRegionCode: c.DeskRegionCode, Source: string(c.Source),
		ExternalRef: c.ExternalRef, LeadDepartment: c.LeadDepartmentID, Stage: string(c.Stage),
		StageDeadline: c.StageDeadline, HandleDeadline: c.HandleDeadline,
		OccurredAt: c.OccurredAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt,
	}
	if c.Point != nil {
		lat, lng := c.Point.Lat, c.Point.Lng
		cs.Lat, cs.Lng = &lat, &lng
	}
	return Message{Type: EventType(e.Action), Timestamp: e.CreatedAt.UTC(), Data: MessageData{Seq: seq, Event: &body, Case: &cs}}
}

// Marshal encodes a message compactly (the bytes that are signed and sent).
func (m Message) Marshal() []byte {
	b, err := json.Marshal(m)
	if err != nil { // only maps of odd values in Event.Data could fail; send without them
		m.Data.Event.Data = nil
		b, _ = json.Marshal(m)
	}
	return b
}

// visibleToIntegrators reports whether an integrator (an API key, a webhook) may see the event: internal
// comments are for staff only, as in case reads.
func visibleToIntegrators(e casework.Event) bool {
	return !(e.Action == casework.Comment && e.Visibility != casework.Public)
}
