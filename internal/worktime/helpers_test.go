package worktime_test

import (
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/worktime"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at reads "2006-01-02 15:04" or "2006-01-02 15:04:05" in Asia/Shanghai.
func at(s string) time.Time { return atIn(shanghai, s) }

func atIn(loc *time.Location, s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04", time.DateTime} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	panic("bad time in test: " + s)
}

// newCal builds a calendar or fails the test.
func newCal(t testing.TB, cfg worktime.Config) *worktime.Calendar {
	t.Helper()
	c, err := worktime.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// china2026 is the default calendar with the official 2026 holiday table.
func china2026(t testing.TB) *worktime.Calendar {
	t.Helper()
	cfg := worktime.DefaultConfig()
	cfg.Exceptions = worktime.ChinaHolidays2026()
	return newCal(t, cfg)
}

// midweekHolidayFixture is a TEST FIXTURE, not an official schedule: the 2026 calendar plus a
// one-day local holiday on Wednesday 2026-03-11.
func midweekHolidayFixture(t testing.TB) *worktime.Calendar {
	t.Helper()
	cfg := worktime.DefaultConfig()
	cfg.Exceptions = append(worktime.ChinaHolidays2026(),
		worktime.Exception{Date: worktime.Date{Year: 2026, Month: time.March, Day: 11}, Kind: worktime.Holiday, Name: "测试假日"})
	return newCal(t, cfg)
}

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }
