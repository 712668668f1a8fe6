package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/events"
)

func (s *Server) registerWebhooks(r *gin.RouterGroup) {
	r.GET("/webhooks", s.requireAuth, s.listWebhooks)
	r.POST("/webhooks", s.requireAuth, s.createWebhook)
	r.GET("/webhooks/:id", s.requireAuth, s.getWebhook)
	r.PATCH("/webhooks/:id", s.requireAuth, s.updateWebhook)
	r.DELETE("/webhooks/:id", s.requireAuth, s.deleteWebhook)
	r.POST("/webhooks/:id/rotate-secret", s.requireAuth, s.rotateWebhookSecret)
	r.POST("/webhooks/:id/test", s.requireAuth, s.testWebhook)
	r.GET("/webhooks/:id/deliveries", s.requireAuth, s.listWebhookDeliveries)
	r.POST("/webhooks/deliveries/:id/replay", s.requireAuth, s.replayWebhookDelivery)
}

// WebhookEndpoint is a registered receiver, without its secret.
type WebhookEndpoint struct {
	ID          int64  `json:"id" example:"3"`
	URL         string `json:"url" example:"https://hotline.example.cn/gridcase/events"`
	Description string `json:"description" example:"12345 热线回传"`
	// EventTypes filters what is sent (e.g. case.dispatch, or case.* for every case event);
	// empty: every type.
	EventTypes []string `json:"event_types" example:"case.dispatch,case.close"`
	// RegionCode limits the endpoint to cases in that region's subtree; absent: everywhere.
	RegionCode string `json:"region_code,omitempty" example:"320613"`
	Active     bool   `json:"active" example:"true"`
	// DisabledReason says why the endpoint was switched off (e.g. the receiver answered 410).
	DisabledReason string `json:"disabled_reason,omitempty" example:""`
	// PreviousSecretExpiresAt: after a rotation the old secret signs too, until then.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" example:"2026-03-15T08:00:00Z"`
	CreatedBy               int64      `json:"created_by,omitempty" example:"1"`
	CreatedAt               time.Time  `json:"created_at" example:"2026-03-14T08:00:00Z"`
	UpdatedAt               time.Time  `json:"updated_at" example:"2026-03-14T08:00:00Z"`
} //	@name	WebhookEndpoint

func webhookDTO(e events.Endpoint) WebhookEndpoint {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	return WebhookEndpoint{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: types, RegionCode: e.RegionCode,
		Active: e.Active, DisabledReason: e.DisabledReason, PreviousSecretExpiresAt: e.PreviousSecretExpiresAt,
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// WebhookEndpointList is every endpoint, oldest first.
type WebhookEndpointList struct {
	Items []WebhookEndpoint `json:"items"`
} //	@name	WebhookEndpointList

// WebhookWithSecret is an endpoint with its signing secret, shown this once.
type WebhookWithSecret struct {
	WebhookEndpoint
	// Secret signs every message (Standard Webhooks): keep it in the receiver to verify
	// webhook-signature. It is not shown again; rotate it to get a new one.
	Secret string `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2DOhXkLCIcE="`
} //	@name	WebhookWithSecret

// CreateWebhookRequest registers an endpoint.
type CreateWebhookRequest struct {
	// URL receives POSTs: http or https, no user info; hosts resolving to loopback, private
	// or link-local addresses are refused unless the operator allowed them.
	URL         string   `json:"url" example:"https://hotline.example.cn/gridcase/events" binding:"required"`
	Description string   `json:"description,omitempty" example:"12345 热线回传"`
	EventTypes  []string `json:"event_types,omitempty" example:"case.dispatch,case.close"`
	RegionCode  string   `json:"region_code,omitempty" example:"320613"`
} //	@name	CreateWebhookRequest

// UpdateWebhookRequest changes an endpoint; absent fields stay as they are.
type UpdateWebhookRequest struct {
	URL         *string   `json:"url,omitempty" example:"https://hotline.example.cn/gridcase/v2/events"`
	Description *string   `json:"description,omitempty" example:"12345 热线回传"`
	EventTypes  *[]string `json:"event_types,omitempty" example:"case.*"`
	// RegionCode "" removes the region scope.
	RegionCode *string `json:"region_code,omitempty" example:"320613"`
	Active     *bool   `json:"active,omitempty" example:"true"`
} //	@name	UpdateWebhookRequest

// WebhookAttempt is one HTTP attempt of a delivery.
type WebhookAttempt struct {
	Attempt    int    `json:"attempt" example:"1"`
	URL        string `json:"url" example:"https://hotline.example.cn/gridcase/events"`
	StatusCode int    `json:"status_code,omitempty" example:"500"`
	LatencyMs  int64  `json:"latency_ms" example:"182"`
	// Error is why the attempt failed without an answer (timeout, refused address …).
	Error string `json:"error,omitempty" example:""`
	// ResponseExcerpt is the start of the receiver's answer (at most 2 KiB).
	ResponseExcerpt string    `json:"response_excerpt,omitempty" example:"internal error"`
	CreatedAt       time.Time `json:"created_at" example:"2026-03-14T08:31:03Z"`
} //	@name	WebhookAttempt

// WebhookDelivery is one message to one endpoint with its attempts.
type WebhookDelivery struct {
	ID         int64  `json:"id" example:"88"`
	EndpointID int64  `json:"endpoint_id" example:"3"`
	FeedSeq    int64  `json:"feed_seq,omitempty" example:"1024"`
	EventType  string `json:"event_type" example:"case.dispatch"`
	// WebhookID is the webhook-id header: the same on every retry and replay.
	WebhookID string `json:"webhook_id" example:"msg_5f0c2d9e8a7b4c3d2e1f0a9b8c7d6e5f"`
	// Status: pending, succeeded, failed (another attempt is scheduled) or dead.
	Status              string           `json:"status" example:"failed"`
	Attempts            int              `json:"attempts" example:"2"`
	Replays             int              `json:"replays" example:"0"`
	LastStatusCode      int              `json:"last_status_code,omitempty" example:"500"`
	LastLatencyMs       int64            `json:"last_latency_ms,omitempty" example:"182"`
	LastError           string           `json:"last_error,omitempty" example:""`
	LastResponseExcerpt string           `json:"last_response_excerpt,omitempty" example:"internal error"`
	NextAttemptAt       *time.Time       `json:"next_attempt_at,omitempty" example:"2026-03-14T08:32:03Z"`
	Payload             json.RawMessage  `json:"payload" swaggertype:"object"`
	CreatedAt           time.Time        `json:"created_at" example:"2026-03-14T08:31:02Z"`
	UpdatedAt           time.Time        `json:"updated_at" example:"2026-03-14T08:31:03Z"`
	AttemptLog          []WebhookAttempt `json:"attempt_log"`
} //	@name	WebhookDelivery

func webhookDeliveryDTO(d events.Delivery) WebhookDelivery {
	out := WebhookDelivery{ID: d.ID, EndpointID: d.EndpointID, FeedSeq: d.FeedSeq, EventType: d.EventType, WebhookID: d.WebhookID,
		Status: string(d.Status), Attempts: d.Attempts, Replays: d.Replays, LastStatusCode: d.LastStatusCode,
		LastLatencyMs: d.LastLatency.Milliseconds(), LastError: d.LastError, LastResponseExcerpt: d.LastResponseExcerpt,
		NextAttemptAt: d.NextAttemptAt, Payload: json.RawMessage(d.Payload), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		AttemptLog: make([]WebhookAttempt, len(d.AttemptLog))}
	for i, a := range d.AttemptLog {
		out.AttemptLog[i] = WebhookAttempt{Attempt: a.Attempt, URL: a.URL, StatusCode: a.StatusCode, LatencyMs: a.Latency.Milliseconds(),
			Error: a.Error, ResponseExcerpt: a.ResponseExcerpt, CreatedAt: a.CreatedAt}
	}
	return out
}

// WebhookDeliveryList is one page of deliveries, newest first.
type WebhookDeliveryList struct {
	Items []WebhookDelivery `json:"items"`
	// NextBefore asks for the next (older) page as before=NextBefore; absent on the last page.
	NextBefore int64 `json:"next_before,omitempty" example:"40"`
} //	@name	WebhookDeliveryList

// listWebhooks godoc
//
//	@Summary		List webhook endpoints
//	@Description	Admins only; oldest first; secrets are never shown again.
//	@ID				listWebhooks
//	@Tags			webhooks
//	@Produce		json
//	@Security		BearerAuth
//	@Success		200	{object}	WebhookEndpointList
//	@Failure		401,403	{object}	Problem
//	@Router			/api/v1/webhooks [get]
func (s *Server) listWebhooks(c *gin.Context) {
	list, err := s.Events.Endpoints(c.Request.Context(), mustPrincipal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := WebhookEndpointList{Items: make([]WebhookEndpoint, len(list))}
	for i, e := range list {
		out.Items[i] = webhookDTO(e)
	}
	c.JSON(http.StatusOK, out)
}

// createWebhook godoc
//
//	@Summary		Register a webhook endpoint
//	@Description	Admins only. The answer carries the signing secret, once. URLs whose host resolves to a loopback, private, link-local (metadata) or otherwise internal address are refused with 422 unless the host is in GRIDCASE_WEBHOOK_ALLOW_HOSTS.
//	@ID				createWebhook
//	@Tags			webhooks
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		CreateWebhookRequest	true	"the endpoint"
//	@Success		201		{object}	WebhookWithSecret
//	@Failure		400,401,403,409,413,415,422	{object}	Problem
//	@Router			/api/v1/webhooks [post]
func (s *Server) createWebhook(c *gin.Context) {
	var req CreateWebhookRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	created, err := s.Events.CreateEndpoint(c.Request.Context(), mustPrincipal(c), events.NewEndpoint{
		URL: req.URL, Description: req.Description, EventTypes: req.EventTypes, RegionCode: req.RegionCode})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/api/v1/webhooks/"+strconv.FormatInt(created.Endpoint.ID, 10))
	c.JSON(http.StatusCreated, WebhookWithSecret{WebhookEndpoint: webhookDTO(created.Endpoint), Secret: created.Secret})
}

// getWebhook godoc
//
//	@Summary	Read a webhook endpoint
//	@ID			getWebhook
//	@Tags		webhooks
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		int	true	"endpoint id"
//	@Success	200	{object}	WebhookEndpoint
//	@Failure	401,403,404	{object}	Problem
//	@Router		/api/v1/webhooks/{id} [get]
func (s *Server) getWebhook(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.Events.Endpoint(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookDTO(e))
}

// updateWebhook godoc
//
//	@Summary		Change a webhook endpoint
//	@Description	Admins only. Absent fields stay; switching an endpoint back on (active: true) clears why it was switched off.
//	@ID				updateWebhook
//	@Tags			webhooks
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id		path		int						true	"endpoint id"
//	@Param			body	body		UpdateWebhookRequest	true	"the changes"
//	@Success		200		{object}	WebhookEndpoint
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/webhooks/{id} [patch]
func (s *Server) updateWebhook(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req UpdateWebhookRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.Events.UpdateEndpoint(c.Request.Context(), mustPrincipal(c), id, events.EndpointPatch{
		URL: req.URL, Description: req.Description, EventTypes: req.EventTypes, RegionCode: req.RegionCode, Active: req.Active})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookDTO(e))
}

// deleteWebhook godoc
//
//	@Summary		Delete a webhook endpoint
//	@Description	Admins only. Its delivery log goes with it; queued deliveries are dropped.
//	@ID				deleteWebhook
//	@Tags			webhooks
//	@Security		BearerAuth
//	@Param			id	path	int	true	"endpoint id"
//	@Success		204
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/webhooks/{id} [delete]
func (s *Server) deleteWebhook(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Events.DeleteEndpoint(c.Request.Context(), mustPrincipal(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhookSecret godoc
//
//	@Summary		Rotate a webhook endpoint's secret
//	@Description	Admins only. Returns the new secret, once. The old one keeps signing beside it (two v1 signatures in webhook-signature) for GRIDCASE_WEBHOOK_SECRET_GRACE (24 h), so the receiver can switch without losing a message.
//	@ID				rotateWebhookSecret
//	@Tags			webhooks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"endpoint id"
//	@Success		200	{object}	WebhookWithSecret
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/webhooks/{id}/rotate-secret [post]
func (s *Server) rotateWebhookSecret(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.Events.RotateSecret(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, WebhookWithSecret{WebhookEndpoint: webhookDTO(r.Endpoint), Secret: r.Secret})
}

// testWebhook godoc
//
//	@Summary		Send a test message
//	@Description	Admins only. Queues a signed webhook.ping message to the endpoint (even a switched-off one) and answers at once with its delivery; the deliveries log shows what the receiver answered.
//	@ID				testWebhook
//	@Tags			webhooks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"endpoint id"
//	@Success		202	{object}	WebhookDelivery
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/webhooks/{id}/test [post]
func (s *Server) testWebhook(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Events.Ping(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, webhookDeliveryDTO(d))
}

// listWebhookDeliveries godoc
//
//	@Summary		List an endpoint's deliveries
//	@Description	Admins only. Newest first, each with every attempt (status, latency, error, the start of the answer).
//	@ID				listWebhookDeliveries
//	@Tags			webhooks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id		path		int		true	"endpoint id"
//	@Param			status	query		string	false	"pending, succeeded, failed or dead"
//	@Param			before	query		int		false	"deliveries older than this id (from next_before)"
//	@Param			limit	query		int		false	"page size (1–200, default 50)"
//	@Success		200		{object}	WebhookDeliveryList
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/webhooks/{id}/deliveries [get]
func (s *Server) listWebhookDeliveries(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var f errs.Fields
	filter := events.DeliveryFilter{EndpointID: id, Status: events.DeliveryStatus(c.Query("status")),
		Before: webhookQueryInt(c, &f, "before"), Limit: int(webhookQueryInt(c, &f, "limit"))}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.Events.Deliveries(c.Request.Context(), mustPrincipal(c), filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := WebhookDeliveryList{Items: make([]WebhookDelivery, len(list))}
	for i, d := range list {
		out.Items[i] = webhookDeliveryDTO(d)
	}
	pageSize := filter.Limit
	if pageSize == 0 {
		pageSize = 50
	}
	if n := len(list); n > 0 && n == pageSize {
		out.NextBefore = list[n-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// replayWebhookDelivery godoc
//
//	@Summary		Replay a delivery
//	@Description	Admins only. Sends the same message again (same body, same webhook-id) with a fresh round of attempts and the full retry schedule; a round still in progress is superseded. Receivers deduplicate on webhook-id.
//	@ID				replayWebhookDelivery
//	@Tags			webhooks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"delivery id"
//	@Success		202	{object}	WebhookDelivery
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/webhooks/deliveries/{id}/replay [post]
func (s *Server) replayWebhookDelivery(c *gin.Context) {
	id, err := webhookIDParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Events.Replay(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, webhookDeliveryDTO(d))
}

// webhookIDParam reads the positive integer path parameter id; anything else names nothing.
func webhookIDParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no such id %q", c.Param("id"))
	}
	return id, nil
}

// webhookQueryInt reads an optional integer query parameter.
func webhookQueryInt(c *gin.Context, f *errs.Fields, name string) int64 {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.Add(name, "type", "%s must be an integer", name)
	}
	return n
}
