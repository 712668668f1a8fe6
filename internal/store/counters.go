package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

type changeCounterRow struct {
	Name      string `gorm:"primaryKey"`
	Value     int64
	UpdatedAt time.Time
}

func (changeCounterRow) TableName() string { return "change_counters" }

// BumpCounter increments the named change counter (inside the caller's transaction, so the
// bump commits with the change it announces).
func (s *Store) BumpCounter(ctx context.Context, name string) error {
	now := time.Now().UTC()
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.Assignments(map[string]any{"value": clause.Expr{SQL: "change_counters.value + 1"}, "updated_at": now}),
	}).Create(&changeCounterRow{Name: name, Value: 1, UpdatedAt: now}).Error
	return s.translate(err, "bump counter "+name)
}

// Counter returns the named change counter, 0 when never bumped.
func (s *Store) Counter(ctx context.Context, name string) (int64, error) {
	var rows []changeCounterRow
	if err := s.conn(ctx).Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
		return 0, s.translate(err, "read counter "+name)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].Value, nil
}
