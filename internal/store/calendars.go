package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// calendarRow is a row of calendars (migration 00008).
type calendarRow struct {
	ID               int64 `gorm:"primaryKey"`
	RegionCode       string
	Zone             string
	Windows          string
	Weekend          string
	StageLimits      *string
	SupervisionRules *string
	Version          int64
	UpdatedAt        time.Time
	UpdatedBy        *int64
}

func (calendarRow) TableName() string { return "calendars" }

type calendarExceptionRow struct {
	CalendarID int64  `gorm:"primaryKey"`
	Day        string `gorm:"primaryKey"`
	Kind       string
	Name       string
}

func (calendarExceptionRow) TableName() string { return "calendar_exceptions" }

// limitJSON and ruleJSON are how stage limits and supervision rules are kept in their JSON
// columns.
type limitJSON struct {
	Unit    string `json:"unit"`
	Value   int    `json:"value"`
	Minutes int    `json:"minutes,omitempty"`
}

type ruleJSON struct {
	Stage   string     `json:"stage"`
	Trigger string     `json:"trigger"`
	After   *limitJSON `json:"after,omitempty"`
	Level   string     `json:"level"`
}

func (r calendarRow) domain() (calendar.Calendar, error) {
	c := calendar.Calendar{ID: r.ID, RegionCode: r.RegionCode, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC(), UpdatedBy: caseDeref(r.UpdatedBy)}
	c.Settings.Zone = r.Zone
	for _, w := range strings.Split(r.Windows, ",") {
		if w == "" {
			continue
		}
		win, err := worktime.ParseWindow(w)
		if err != nil {
			return c, fmt.Errorf("calendar %s: %w", r.RegionCode, err)
		}
		c.Settings.Windows = append(c.Settings.Windows, win)
	}
	c.Settings.Weekend = []time.Weekday{}
	for _, d := range strings.Split(r.Weekend, ",") {
		if d == "" {
			continue
		}
		n, err := strconv.Atoi(d)
		if err != nil {
			return c, fmt.Errorf("calendar %s: weekend %q: %w", r.RegionCode, r.Weekend, err)
		}
		c.Settings.Weekend = append(c.Settings.Weekend, time.Weekday(n))
	}
	if r.StageLimits != nil && *r.StageLimits != "" {
		var m map[string]limitJSON
		if err := json.Unmarshal([]byte(*r.StageLimits), &m); err != nil {
			return c, fmt.Errorf("calendar %s stage limits: %w", r.RegionCode, err)
		}
		c.StageLimits = make(map[string]worktime.Limit, len(m))
		for k, l := range m {
			c.StageLimits[k] = worktime.Limit{Unit: worktime.Unit(l.Unit), Value: l.Value, Minutes: l.Minutes}
		}
	}
	if r.SupervisionRules != nil {
		var rs []ruleJSON
		if err := json.Unmarshal([]byte(*r.SupervisionRules), &rs); err != nil {
			return c, fmt.Errorf("calendar %s supervision rules: %w", r.RegionCode, err)
		}
		c.Rules = make([]calendar.Rule, len(rs))
		for i, x := range rs {
			c.Rules[i] = calendar.Rule{Stage: x.Stage, Trigger: calendar.Trigger(x.Trigger), Level: calendar.Level(x.Level)}
			if x.After != nil {
				c.Rules[i].After = worktime.Limit{Unit: worktime.Unit(x.After.Unit), Value: x.After.Value, Minutes: x.After.Minutes}
			}
		}
	}
	return c, nil
}

func calendarRowOf(c calendar.Calendar) (calendarRow, error) {
	r := calendarRow{ID: c.ID, RegionCode: c.RegionCode, Zone: c.Settings.Zone, Version: c.Version,
		UpdatedAt: utc(c.UpdatedAt), UpdatedBy: caseNullID(c.UpdatedBy)}
	ws := make([]string, len(c.Settings.Windows))
	for i, w := range c.Settings.Windows {
		ws[i] = w.String()
	}
	r.Windows = strings.Join(ws, ",")
	ds := make([]string, len(c.Settings.Weekend))
	for i, d := range c.Settings.Weekend {
		ds[i] = strconv.Itoa(int(d))
	}
	r.Weekend = strings.Join(ds, ",")
	if len(c.StageLimits) > 0 {
		m := make(map[string]limitJSON, len(c.StageLimits))
		for k, l := range c.StageLimits {
			m[k] = limitJSON{Unit: string(l.Unit), Value: l.Value, Minutes: l.Minutes}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return r, fmt.Errorf("encode stage limits: %w", err)
		}
		s := string(b)
		r.StageLimits = &s
	}
	if c.Rules != nil {
		rs := make([]ruleJSON, len(c.Rules))
		for i, x := range c.Rules {
			rs[i] = ruleJSON{Stage: x.Stage, Trigger: string(x.Trigger), Level: string(x.Level)}
			if x.Trigger == calendar.Elapsed {
				rs[i].After = &limitJSON{Unit: string(x.After.Unit), Value: x.After.Value, Minutes: x.After.Minutes}
			}
		}
		b, err := json.Marshal(rs)
		if err != nil {
			return r, fmt.Errorf("encode supervision rules: %w", err)
		}
		s := string(b)
		r.SupervisionRules = &s
	}
	return r, nil
}

// InCalendarTx runs fn in one transaction (calendar.Store).
func (s *Store) InCalendarTx(ctx context.Context, fn func(tx calendar.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}

// Calendars lists every calendar.
func (s *Store) Calendars(ctx context.Context) ([]calendar.Calendar, error) {
	var rows []calendarRow
	if err := s.conn(ctx).Order("region_code").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list calendars")
	}
	out := make([]calendar.Calendar, 0, len(rows))
	for _, r := range rows {
		c, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// CalendarByRegion reads a region's calendar, under a row lock when lock is set.
func (s *Store) CalendarByRegion(ctx context.Context, regionCode string, lock bool) (calendar.Calendar, error) {
	q := s.conn(ctx).Where("region_code = ?", regionCode)
	if lock {
		q = s.forUpdate(q)
	}
	var rows []calendarRow
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return calendar.Calendar{}, s.translate(err, "read calendar")
	}
	if len(rows) == 0 {
		return calendar.Calendar{}, errs.NotFoundf("no calendar for %s", regionCode)
	}
	return rows[0].domain()
}

// SaveCalendar inserts a new calendar (ID 0) or updates one with version + 1.
func (s *Store) SaveCalendar(ctx context.Context, c *calendar.Calendar) error {
	if c.ID == 0 {
		c.Version = 1
		r, err := calendarRowOf(*c)
		if err != nil {
			return err
		}
		if err := s.conn(ctx).Create(&r).Error; err != nil {
			return s.translate(err, "create calendar")
		}
		c.ID = r.ID
		return nil
	}
	c.Version++
	r, err := calendarRowOf(*c)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&calendarRow{}).Where("id = ?", c.ID).Select("*").Omit("id", "region_code").Updates(&r)
	if res.Error != nil {
		return s.translate(res.Error, "update calendar")
	}
	if res.RowsAffected != 1 {
		return errs.NotFoundf("calendar %d not found", c.ID)
	}
	return nil
}

// CalendarExceptions lists a calendar's exceptions of a year (all when year is 0), by date.
func (s *Store) CalendarExceptions(ctx context.Context, calendarID int64, year int) ([]worktime.Exception, error) {
	q := s.conn(ctx).Where("calendar_id = ?", calendarID)
	if year != 0 {
		q = q.Where("day >= ? AND day < ?", fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-01-01", year+1))
	}
	var rows []calendarExceptionRow
	if err := q.Order("day").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list calendar exceptions")
	}
	out := make([]worktime.Exception, 0, len(rows))
	for _, r := range rows {
		d, err := worktime.ParseDate(r.Day)
		if err != nil {
			return nil, fmt.Errorf("calendar %d: %w", calendarID, err)
		}
		out = append(out, worktime.Exception{Date: d, Kind: worktime.Kind(r.Kind), Name: r.Name})
	}
	return out, nil
}

// ReplaceCalendarExceptions makes ex the calendar's table for the year.
func (s *Store) ReplaceCalendarExceptions(ctx context.Context, calendarID int64, year int, ex []worktime.Exception) error {
	return s.InTx(ctx, func(tx *Store) error {
		err := tx.conn(ctx).Where("calendar_id = ? AND day >= ? AND day < ?", calendarID,
			fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-01-01", year+1)).Delete(&calendarExceptionRow{}).Error
		if err != nil {
			return tx.translate(err, "replace calendar exceptions")
		}
		if len(ex) == 0 {
			return nil
		}
		rows := make([]calendarExceptionRow, len(ex))
		for i, e := range ex {
			rows[i] = calendarExceptionRow{CalendarID: calendarID, Day: e.Date.String(), Kind: string(e.Kind), Name: e.Name}
		}
		if err := tx.conn(ctx).CreateInBatches(rows, 200).Error; err != nil {
			return tx.translate(err, "replace calendar exceptions")
		}
		return nil
	})
}
