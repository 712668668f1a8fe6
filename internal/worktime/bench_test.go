package worktime_test

import (
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/worktime"
)

var sink time.Time

func benchDeadline(b *testing.B, start string, l worktime.Limit, pauses []worktime.Interval) {
	cal := china2026(b)
	s := at(start)
	b.ReportAllocs()
	for b.Loop() {
		sink = cal.DeadlineWithPauses(s, l, pauses)
	}
}

// 15 work days across Spring Festival: the illegal-building limit.
func BenchmarkDeadlineWorkDays(b *testing.B) {
	benchDeadline(b, "2026-02-10 09:00", worktime.WorkDaysLimit(15), nil)
}

func BenchmarkDeadlineWorkHours200(b *testing.B) {
	benchDeadline(b, "2026-09-01 09:00", worktime.WorkHoursLimit(200), nil)
}

func BenchmarkDeadlineWorkHours2(b *testing.B) {
	benchDeadline(b, "2026-03-13 17:00", worktime.WorkHoursLimit(2), nil)
}

func BenchmarkDeadlineUrgentHours(b *testing.B) {
	benchDeadline(b, "2026-03-13 17:00", worktime.UrgentHoursLimit(2), nil)
}

func BenchmarkDeadlineNaturalDays(b *testing.B) {
	benchDeadline(b, "2026-01-30 15:00", worktime.NaturalDaysLimit(30), nil)
}

func BenchmarkDeadlineWorkDaysWithPauses(b *testing.B) {
	benchDeadline(b, "2026-03-12 09:00", worktime.WorkDaysLimit(15), []worktime.Interval{
		{Start: at("2026-03-13 15:00"), End: at("2026-03-16 10:00")},
		{Start: at("2026-03-20 09:00"), End: at("2026-03-27 09:00")},
	})
}

// A case open for a whole year: the worst Used a list page computes.
func BenchmarkUsedWorkDaysYear(b *testing.B) {
	cal := china2026(b)
	start, now := at("2026-01-01 09:00"), at("2026-12-31 16:00")
	l := worktime.WorkDaysLimit(15)
	var d time.Duration
	b.ReportAllocs()
	for b.Loop() {
		d = cal.Used(start, now, l)
	}
	_ = d
}

// Progress of a typical open case: what a list computes per row.
func BenchmarkProgressWorkDays(b *testing.B) {
	cal := china2026(b)
	start, now := at("2026-03-10 10:00"), at("2026-03-20 11:00")
	l := worktime.WorkDaysLimit(5)
	var p worktime.Progress
	b.ReportAllocs()
	for b.Loop() {
		p = cal.Progress(start, now, l, nil)
	}
	_ = p
}
