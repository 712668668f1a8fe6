package store

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/events"
)

// The published event feed (migration 00006): event_outbox holds the ids of case events not
// yet published (a trigger on case_events fills it in the event's transaction); the publisher
// moves them to event_feed with consecutive sequence numbers.

// feedPublisherLockKey is the PostgreSQL advisory lock that makes one transaction at a time
// the feed's publisher.
var feedPublisherLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("gridcase event feed publisher"))
	return int64(h.Sum64() >> 1)
}()

type eventFeedRow struct {
	Seq         int64 `gorm:"primaryKey;autoIncrement:false"`
	EventID     int64
	CaseID      int64
	PublishedAt time.Time
}

func (eventFeedRow) TableName() string { return "event_feed" }

// InEventsTx runs fn in one transaction (joining the caller's, if any).
func (s *Store) InEventsTx(ctx context.Context, fn func(tx events.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}

// LockFeedPublisher makes the current transaction the only publisher until it ends: an
// advisory transaction lock on PostgreSQL; on SQLite the transaction already holds the
// database's write lock (it began IMMEDIATE).
func (s *Store) LockFeedPublisher(ctx context.Context) error {
	if !s.inTx {
		return errors.New("lock feed publisher: not in a transaction")
	}
	if s.dialect != Postgres {
		return nil
	}
	return s.translate(s.conn(ctx).Exec(`SELECT pg_advisory_xact_lock(?)`, feedPublisherLockKey).Error, "lock feed publisher")
}

// HasUnpublishedEvents reports whether the outbox holds an event.
func (s *Store) HasUnpublishedEvents(ctx context.Context) (bool, error) {
	var ids []int64
	if err := s.conn(ctx).Raw(`SELECT event_id FROM event_outbox LIMIT 1`).Scan(&ids).Error; err != nil {
		return false, s.translate(err, "read event outbox")
	}
	return len(ids) > 0, nil
}

// UnpublishedEvents returns up to limit outbox events, oldest id first, with their cases.
func (s *Store) UnpublishedEvents(ctx context.Context, limit int) ([]events.Outboxed, error) {
	var ids []int64
	if err := s.conn(ctx).Raw(`SELECT event_id FROM event_outbox ORDER BY event_id LIMIT ?`, limit).Scan(&ids).Error; err != nil {
		return nil, s.translate(err, "read event outbox")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	evs, cases, names, err := s.eventsWithCases(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]events.Outboxed, 0, len(ids))
	for _, id := range ids {
		e, ok := evs[id]
		if !ok {
			continue
		}
		c := cases[e.CaseID]
		out = append(out, events.Outboxed{Event: e, Case: c, CategoryName: names[c.CategoryCode]})
	}
	return out, nil
}

// AppendFeed gives the events the next sequence numbers in order, takes them out of the
// outbox and returns the numbers. Call it under LockFeedPublisher.
func (s *Store) AppendFeed(ctx context.Context, eventIDs, caseIDs []int64, at time.Time) ([]int64, error) {
	if len(eventIDs) == 0 {
		return nil, nil
	}
	head, err := s.FeedHead(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]eventFeedRow, len(eventIDs))
	seqs := make([]int64, len(eventIDs))
	for i, id := range eventIDs {
		seqs[i] = head + int64(i) + 1
		rows[i] = eventFeedRow{Seq: seqs[i], EventID: id, CaseID: caseIDs[i], PublishedAt: utc(at)}
	}
	if err := s.conn(ctx).CreateInBatches(rows, 200).Error; err != nil {
		return nil, s.translate(err, "append to the event feed")
	}
	if err := s.conn(ctx).Exec(`DELETE FROM event_outbox WHERE event_id IN ?`, eventIDs).Error; err != nil {
		return nil, s.translate(err, "clear the event outbox")
	}
	return seqs, nil
}

// FeedHead is the highest published sequence number, 0 when none.
func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	var head int64
	if err := s.conn(ctx).Raw(`SELECT COALESCE(MAX(seq), 0) FROM event_feed`).Scan(&head).Error; err != nil {
		return 0, s.translate(err, "read the event feed head")
	}
	return head, nil
}

// Feed returns the published events after q.After that q.Reach may read (the same rule as
// case reads), in order, and the cursor to read on from. The head is read first: every event
// numbered up to it has committed (the publisher numbers them in one transaction at a time),
// so when the page is not full the cursor can skip to the head past events out of reach.
func (s *Store) Feed(ctx context.Context, q events.FeedQuery) ([]events.FeedItem, int64, error) {
	head, err := s.FeedHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	if q.After >= head {
		return nil, max(q.After, head), nil
	}
	var rows []eventFeedRow
	tx := s.conn(ctx).Table("event_feed").
		Select("event_feed.seq, event_feed.event_id, event_feed.case_id, event_feed.published_at").
		Joins("JOIN cases ON cases.id = event_feed.case_id").
		Where("event_feed.seq > ? AND event_feed.seq <= ?", q.After, head)
	if q.PublicOnly {
		tx = tx.Joins("JOIN case_events fe ON fe.id = event_feed.event_id").
			Where("NOT (fe.action = ? AND fe.visibility <> ?)", string(casework.Comment), string(casework.Public))
	}
	tx = s.scopeCases(tx, q.Reach)
	if err := tx.Order("event_feed.seq").Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, 0, s.translate(err, "read the event feed")
	}
	next := head
	if len(rows) == q.Limit && len(rows) > 0 {
		next = rows[len(rows)-1].Seq
	}
	if len(rows) == 0 {
		return nil, next, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.EventID
	}
	evs, cases, names, err := s.eventsWithCases(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]events.FeedItem, 0, len(rows))
	for _, r := range rows {
		e := evs[r.EventID]
		c := cases[r.CaseID]
		out = append(out, events.FeedItem{Seq: r.Seq, PublishedAt: r.PublishedAt.UTC(), Event: e, Case: c, CategoryName: names[c.CategoryCode]})
	}
	return out, next, nil
}

// eventsWithCases loads events by id, their cases and the cases' category names.
func (s *Store) eventsWithCases(ctx context.Context, ids []int64) (map[int64]casework.Event, map[int64]casework.Case, map[string]string, error) {
	var erows []caseEventRow
	if err := s.conn(ctx).Where("id IN ?", ids).Find(&erows).Error; err != nil {
		return nil, nil, nil, s.translate(err, "read case events")
	}
	evs := make(map[int64]casework.Event, len(erows))
	caseIDs := make([]int64, 0, len(erows))
	for _, r := range erows {
		e, err := r.domain()
		if err != nil {
			return nil, nil, nil, err
		}
		evs[e.ID] = e
		caseIDs = append(caseIDs, e.CaseID)
	}
	var crows []caseRow
	if len(caseIDs) > 0 {
		if err := s.conn(ctx).Where("id IN ?", caseIDs).Find(&crows).Error; err != nil {
			return nil, nil, nil, s.translate(err, "read cases")
		}
	}
	cases := make(map[int64]casework.Case, len(crows))
	codes := make([]string, 0, len(crows))
	for _, r := range crows {
		c := r.domain()
		cases[c.ID] = c
		if c.CategoryCode != "" {
			codes = append(codes, c.CategoryCode)
		}
	}
	names := map[string]string{}
	if len(codes) > 0 {
		var cats []struct {
			Code string
			Name string
		}
		if err := s.conn(ctx).Raw(`SELECT code, name FROM categories WHERE code IN ?`, codes).Scan(&cats).Error; err != nil {
			return nil, nil, nil, s.translate(err, "read category names")
		}
		for _, c := range cats {
			names[c.Code] = c.Name
		}
	}
	return evs, cases, names, nil
}
