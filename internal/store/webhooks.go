package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/events"
)

// Webhook endpoints, deliveries and attempts (migration 00006).

type webhookEndpointRow struct {
	ID                      int64  `gorm:"primaryKey"`
	URL                     string `gorm:"column:url"`
	Description             string
	Secret                  string
	PreviousSecret          *string
	PreviousSecretExpiresAt *time.Time
	EventTypes              string
	RegionCode              *string
	RegionPath              *string
	Active                  bool
	DisabledReason          *string
	CreatedBy               *int64
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

func (webhookEndpointRow) TableName() string { return "webhook_endpoints" }

func (r webhookEndpointRow) domain() events.Endpoint {
	e := events.Endpoint{
		ID: r.ID, URL: r.URL, Description: r.Description,
		SealedSecret: r.Secret, SealedPreviousSecret: whDeref(r.PreviousSecret), PreviousSecretExpiresAt: utcPtr(r.PreviousSecretExpiresAt),
		RegionCode: whDeref(r.RegionCode), RegionPath: whDeref(r.RegionPath),
		Active: r.Active, DisabledReason: whDeref(r.DisabledReason), CreatedBy: whDeref(r.CreatedBy),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.EventTypes != "" {
		e.EventTypes = strings.Split(r.EventTypes, ",")
	}
	return e
}

func webhookEndpointRowOf(e events.Endpoint) webhookEndpointRow {
	return webhookEndpointRow{
		ID: e.ID, URL: e.URL, Description: e.Description,
		Secret: e.SealedSecret, PreviousSecret: whNullString(e.SealedPreviousSecret), PreviousSecretExpiresAt: utcPtr(e.PreviousSecretExpiresAt),
		EventTypes: strings.Join(e.EventTypes, ","), RegionCode: whNullString(e.RegionCode), RegionPath: whNullString(e.RegionPath),
		Active: e.Active, DisabledReason: whNullString(e.DisabledReason), CreatedBy: whNullID(e.CreatedBy),
		CreatedAt: utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt),
	}
}

type webhookDeliveryRow struct {
	ID                  int64 `gorm:"primaryKey"`
	EndpointID          int64
	FeedSeq             *int64
	EventType           string
	WebhookID           string
	Payload             string
	Replays             int
	Attempts            int
	Status              string
	LastStatusCode      *int
	LastLatencyMs       *int64
	LastError           *string
	LastResponseExcerpt *string
	NextAttemptAt       *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

func (r webhookDeliveryRow) domain() events.Delivery {
	d := events.Delivery{
		ID: r.ID, EndpointID: r.EndpointID, FeedSeq: whDeref(r.FeedSeq), EventType: r.EventType, WebhookID: r.WebhookID,
		Payload: []byte(r.Payload), Replays: r.Replays, Attempts: r.Attempts, Status: events.DeliveryStatus(r.Status),
		LastStatusCode: whDeref(r.LastStatusCode), LastError: whDeref(r.LastError), LastResponseExcerpt: whDeref(r.LastResponseExcerpt),
		NextAttemptAt: utcPtr(r.NextAttemptAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.LastLatencyMs != nil {
		d.LastLatency = time.Duration(*r.LastLatencyMs) * time.Millisecond
	}
	return d
}

func webhookDeliveryRowOf(d events.Delivery) webhookDeliveryRow {
	r := webhookDeliveryRow{
		ID: d.ID, EndpointID: d.EndpointID, FeedSeq: whNullID(d.FeedSeq), EventType: d.EventType, WebhookID: d.WebhookID,
		Payload: string(d.Payload), Replays: d.Replays, Attempts: d.Attempts, Status: string(d.Status),
		LastError: whNullString(d.LastError), LastResponseExcerpt: whNullString(d.LastResponseExcerpt),
		NextAttemptAt: utcPtr(d.NextAttemptAt), CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
	}
	if d.LastStatusCode != 0 {
		r.LastStatusCode = &d.LastStatusCode
	}
	if d.Attempts > 0 {
		ms := d.LastLatency.Milliseconds()
		r.LastLatencyMs = &ms
	}
	return r
}

type webhookAttemptRow struct {
	ID              int64 `gorm:"primaryKey"`
	DeliveryID      int64
	Attempt         int
	URL             string `gorm:"column:url"`
	StatusCode      *int
	LatencyMs       int64
	Error           *string
	ResponseExcerpt *string
	CreatedAt       time.Time
}

func (webhookAttemptRow) TableName() string { return "webhook_attempts" }

func (r webhookAttemptRow) domain() events.Attempt {
	return events.Attempt{
		ID: r.ID, DeliveryID: r.DeliveryID, Attempt: r.Attempt, URL: r.URL, StatusCode: whDeref(r.StatusCode),
		Latency: time.Duration(r.LatencyMs) * time.Millisecond, Error: whDeref(r.Error), ResponseExcerpt: whDeref(r.ResponseExcerpt),
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// CreateWebhookEndpoint inserts e and sets its id.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *events.Endpoint) error {
	r := webhookEndpointRowOf(*e)
	r.ID = 0
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return s.translate(err, "create webhook endpoint")
	}
	e.ID = r.ID
	return nil
}

// WebhookEndpoint reads one endpoint; NotFound when none.
func (s *Store) WebhookEndpoint(ctx context.Context, id int64) (events.Endpoint, error) {
	var r webhookEndpointRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return events.Endpoint{}, s.translate(err, "read webhook endpoint")
	}
	return r.domain(), nil
}

// WebhookEndpoints lists endpoints, oldest first: all when regionPath is "", otherwise those
// scoped to that subtree.
func (s *Store) WebhookEndpoints(ctx context.Context, regionPath string, activeOnly bool) ([]events.Endpoint, error) {
	q := s.conn(ctx).Model(&webhookEndpointRow{})
	if regionPath != "" {
		lo, hi := pathRange(regionPath)
		q = q.Where("region_path >= ? AND region_path < ?", lo, hi)
	}
	if activeOnly {
		q = q.Where("active = ?", true)
	}
	var rows []webhookEndpointRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list webhook endpoints")
	}
	out := make([]events.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateWebhookEndpoint loads the endpoint under a row lock, applies fn and saves it.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id int64, fn func(*events.Endpoint) error) (events.Endpoint, error) {
	var out events.Endpoint
	err := s.InTx(ctx, func(tx *Store) error {
		var r webhookEndpointRow
		if err := tx.forUpdate(tx.conn(ctx)).Where("id = ?", id).Take(&r).Error; err != nil {
			return tx.translate(err, "read webhook endpoint")
		}
		e := r.domain()
		if err := fn(&e); err != nil {
			return err
		}
		e.ID = id
		nr := webhookEndpointRowOf(e)
		if err := tx.conn(ctx).Select("*").Updates(&nr).Error; err != nil {
			return tx.translate(err, "update webhook endpoint")
		}
		out = e
		return nil
	})
	return out, err
}

// DeleteWebhookEndpoint deletes an endpoint with its deliveries and attempts.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	res := s.conn(ctx).Where("id = ?", id).Delete(&webhookEndpointRow{})
	if res.Error != nil {
		return s.translate(res.Error, "delete webhook endpoint")
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("webhook endpoint %d not found", id)
	}
	return nil
}

// CreateWebhookDelivery inserts d and sets its id.
func (s *Store) CreateWebhookDelivery(ctx context.Context, d *events.Delivery) error {
	r := webhookDeliveryRowOf(*d)
	r.ID = 0
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return s.translate(err, "create webhook delivery")
	}
	d.ID = r.ID
	return nil
}

// WebhookDelivery reads one delivery (without its attempts); NotFound when none.
func (s *Store) WebhookDelivery(ctx context.Context, id int64) (events.Delivery, error) {
	var r webhookDeliveryRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return events.Delivery{}, s.translate(err, "read webhook delivery")
	}
	return r.domain(), nil
}

// WebhookDeliveries lists an endpoint's deliveries, newest first, with their attempts.
func (s *Store) WebhookDeliveries(ctx context.Context, f events.DeliveryFilter) ([]events.Delivery, error) {
	q := s.conn(ctx).Where("endpoint_id = ?", f.EndpointID)
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var rows []webhookDeliveryRow
	if err := q.Order("id DESC").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list webhook deliveries")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]events.Delivery, len(rows))
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		out[i], ids[i], at[r.ID] = r.domain(), r.ID, i
	}
	var arows []webhookAttemptRow
	if err := s.conn(ctx).Where("delivery_id IN ?", ids).Order("delivery_id, attempt").Find(&arows).Error; err != nil {
		return nil, s.translate(err, "list webhook attempts")
	}
	for _, a := range arows {
		i := at[a.DeliveryID]
		out[i].AttemptLog = append(out[i].AttemptLog, a.domain())
	}
	return out, nil
}

// UpdateWebhookDelivery loads the delivery under a row lock, applies fn and saves it.
func (s *Store) UpdateWebhookDelivery(ctx context.Context, id int64, fn func(*events.Delivery) error) (events.Delivery, error) {
	var out events.Delivery
	err := s.InTx(ctx, func(tx *Store) error {
		var r webhookDeliveryRow
		if err := tx.forUpdate(tx.conn(ctx)).Where("id = ?", id).Take(&r).Error; err != nil {
			return tx.translate(err, "read webhook delivery")
		}
		d := r.domain()
		if err := fn(&d); err != nil {
			return err
		}
		d.ID = id
		nr := webhookDeliveryRowOf(d)
		if err := tx.conn(ctx).Select("*").Updates(&nr).Error; err != nil {
			return tx.translate(err, "update webhook delivery")
		}
		out = d
		return nil
	})
	return out, err
}

// AddWebhookAttempt records one attempt and sets its id.
func (s *Store) AddWebhookAttempt(ctx context.Context, a *events.Attempt) error {
	r := webhookAttemptRow{
		DeliveryID: a.DeliveryID, Attempt: a.Attempt, URL: a.URL, LatencyMs: a.Latency.Milliseconds(),
		Error: whNullString(a.Error), ResponseExcerpt: whNullString(a.ResponseExcerpt), CreatedAt: utc(a.CreatedAt),
	}
	if a.StatusCode != 0 {
		r.StatusCode = &a.StatusCode
	}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return s.translate(err, "record webhook attempt")
	}
	a.ID = r.ID
	return nil
}

// PruneWebhookDeliveries deletes finished deliveries (succeeded or dead) last changed before
// the time, with their attempts, and says how many.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("updated_at < ? AND status IN ?", utc(before), []string{string(events.Succeeded), string(events.Dead)}).
		Delete(&webhookDeliveryRow{})
	if res.Error != nil {
		return 0, s.translate(res.Error, "prune webhook deliveries")
	}
	return res.RowsAffected, nil
}

// WebhookRegionPath resolves a region code to its path; NotFound when none.
func (s *Store) WebhookRegionPath(ctx context.Context, code string) (string, error) {
	var paths []string
	if err := s.conn(ctx).Raw(`SELECT path FROM regions WHERE code = ?`, code).Scan(&paths).Error; err != nil {
		return "", s.translate(err, "read region")
	}
	if len(paths) == 0 {
		return "", s.translate(gorm.ErrRecordNotFound, "read region")
	}
	return paths[0], nil
}

func whDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func whNullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func whNullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

var _ events.Store = (*Store)(nil)
