package worktime_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/worktime"
)

func randomLimit(rng *rand.Rand, u worktime.Unit) worktime.Limit {
	if u.Hourly() {
		l := worktime.Limit{Unit: u, Value: rng.IntN(250), Minutes: rng.IntN(60)}
		if l.Value == 0 && l.Minutes == 0 {
			l.Minutes = 1
		}
		return l
	}
	return worktime.Limit{Unit: u, Value: 1 + rng.IntN(40)}
}

// randomStart lies between 2025-12-20 and 2026-12-31; one in three is on a half hour, so that
// window boundaries are hit often.
func randomStart(rng *rand.Rand, i int) time.Time {
	t := at("2025-12-20 00:00").Add(time.Duration(rng.Int64N(int64(376 * 24 * time.Hour))))
	if i%3 == 0 {
		t = t.Truncate(30 * time.Minute) // Shanghai is UTC+8: half hours align locally
	}
	return t
}

func randomPauses(rng *rand.Rand, start time.Time) []worktime.Interval {
	ps := make([]worktime.Interval, rng.IntN(4))
	for k := range ps {
		from := start.Add(time.Duration(rng.Int64N(int64(30*24*time.Hour))) - 3*24*time.Hour)
		ps[k] = worktime.Interval{Start: from, End: from.Add(time.Duration(rng.Int64N(int64(6 * 24 * time.Hour))))}
	}
	return ps
}

// TestProperties checks, for random starts, limits and pauses in all four units, that the
// deadline uses exactly the whole limit and no less time would, that it grows with the value,
// that pauses only delay it, and that the light follows WarnAt and Deadline.
func TestProperties(t *testing.T) {
	cal := china2026(t)
	rng := rand.New(rand.NewPCG(2026, 4))
	for i := range 4000 {
		u := worktime.Units()[i%4]
		start, l := randomStart(rng, i), randomLimit(rng, u)
		amount := cal.Amount(start, l)
		due := cal.Deadline(start, l)
		if used := cal.Used(start, due, l); used != amount {
			t.Fatalf("%s from %s: Used(start, Deadline = %s) = %s, want %s", l, start, due, used, amount)
		}
		if used := cal.Used(start, due.Add(-time.Nanosecond), l); used != amount-time.Nanosecond {
			t.Fatalf("%s from %s: the deadline %s is not the earliest instant (a nanosecond before, %s used of %s)", l, start, due, used, amount)
		}

		more := l
		more.Value++
		if next := cal.Deadline(start, more); !next.After(due) {
			t.Fatalf("%s from %s: Deadline(%s) = %s is not after %s", l, start, more, next, due)
		}
		if u.Hourly() && l.Minutes < 59 {
			more = l
			more.Minutes++
			if next := cal.Deadline(start, more); !next.After(due) {
				t.Fatalf("%s from %s: a minute more is not later", l, start)
			}
		}

		ps := randomPauses(rng, start)
		pdue := cal.DeadlineWithPauses(start, l, ps)
		if pdue.Before(due) {
			t.Fatalf("%s from %s with pauses %v: %s is before the unpaused %s", l, start, ps, pdue, due)
		}
		if used := cal.UsedWithPauses(start, pdue, l, ps); used != amount {
			t.Fatalf("%s from %s with pauses %v: used %s at the deadline %s, want %s", l, start, ps, used, pdue, amount)
		}

		now := start.Add(time.Duration(rng.Int64N(int64(pdue.Sub(start)*3/2 + time.Hour))))
		p := cal.Progress(start, now, l, ps)
		want := worktime.Green
		switch {
		case now.After(p.Deadline):
			want = worktime.Red
		case !now.Before(p.WarnAt):
			want = worktime.Yellow
		}
		if p.Light != want || !p.Deadline.Equal(pdue) {
			t.Fatalf("%s from %s with pauses %v at %s: %+v, want light %s", l, start, ps, now, p, want)
		}
		if now.Before(p.Deadline) && worktime.LightOf(p.Fraction) != p.Light {
			t.Fatalf("%s at %s: LightOf(%v) = %s but Progress says %s", l, now, p.Fraction, worktime.LightOf(p.Fraction), p.Light)
		}
	}
}

// TestWorkClockAgainstMinuteWalk compares the work clock with a slow, independent oracle that
// walks minute by minute through the official 2026 table and the default windows.
func TestWorkClockAgainstMinuteWalk(t *testing.T) {
	cal := china2026(t)
	kind := map[string]worktime.Kind{}
	for _, e := range worktime.ChinaHolidays2026() {
		kind[e.Date.String()] = e.Kind
	}
	working := func(m time.Time) bool { // is the minute starting at m work time?
		if k, ok := kind[m.Format(time.DateOnly)]; ok {
			if k == worktime.Holiday {
				return false
			}
		} else if wd := m.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false
		}
		mod := m.Hour()*60 + m.Minute()
		return (mod >= 8*60+30 && mod < 12*60) || (mod >= 13*60+30 && mod < 17*60+30)
	}
	walk := func(start time.Time, minutes int) time.Time {
		t := start
		for minutes > 0 {
			if working(t) {
				minutes--
			}
			t = t.Add(time.Minute)
		}
		return t
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 400 {
		start := randomStart(rng, i).Truncate(time.Minute)
		var l worktime.Limit
		var minutes int
		if i%2 == 0 {
			l = worktime.Limit{Unit: worktime.WorkHours, Value: rng.IntN(20), Minutes: 1 + rng.IntN(59)}
			minutes = l.Value*60 + l.Minutes
		} else {
			l = worktime.WorkDaysLimit(1 + rng.IntN(3))
			minutes = l.Value * 450
		}
		got, want := cal.Deadline(start, l), walk(start, minutes)
		if !got.Equal(want) {
			t.Fatalf("%s from %s: Deadline = %s, the minute walk says %s", l, start.Format(time.DateTime), got.Format(time.DateTime), want.Format(time.DateTime))
		}
	}
}
