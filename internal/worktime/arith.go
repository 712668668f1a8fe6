package worktime

import (
	"math"
	"slices"
	"time"
)

// Interval is a pause of the clock (挂账) from Start to End; a zero End means still paused.
type Interval struct {
	Start, End time.Time
}

// Progress is the state of one running limit at one instant.
type Progress struct {
	WarnAt   time.Time     // when 80 % is used: the light turns yellow (zero: never, the clock stopped)
	Deadline time.Time     // when 100 % is used; after it the light is red (zero: never)
	Amount   time.Duration // the limit in its own measure (see Amount)
	Used     time.Duration // how much of Amount is used
	Fraction float64       // Used ÷ Amount
	Light    Light         // the case's light: see the package documentation
}

// endOfTime stands for "no end" in the continuous clock.
var endOfTime = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// at returns the instant of clock time m on date d in the calendar's zone (m = 24:00 is the
// next midnight).
func (c *Calendar) at(d Date, m Clock) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(m)/60, int(m)%60, 0, 0, c.loc)
}

// Amount is the size of l in its own measure for a clock started at start: the hours of an
// hour limit, N × DailyWork for work days, and for natural days the wall time from start to the
// same local clock time N dates later (N × 24h in Asia/Shanghai). An invalid limit counts as
// zero.
func (c *Calendar) Amount(start time.Time, l Limit) time.Duration {
	switch l.Unit {
	case UrgentHours, WorkHours:
		return l.hours()
	case WorkDays:
		return time.Duration(l.Value) * c.daily
	case NaturalDays:
		s := start.In(c.loc)
		return s.AddDate(0, 0, l.Value).Sub(s)
	}
	return 0
}

// Deadline is the earliest instant at which l, started at start, is used up. See the package
// documentation for the rules of each unit.
func (c *Calendar) Deadline(start time.Time, l Limit) time.Time {
	return c.DeadlineWithPauses(start, l, nil)
}

// DeadlineWithPauses is Deadline with the clock stopped during the pauses. It returns the zero
// time when an open pause (zero End) begins before the time runs out.
func (c *Calendar) DeadlineWithPauses(start time.Time, l Limit, pauses []Interval) time.Time {
	start = start.In(c.loc)
	return c.after(start, c.Amount(start, l), l.Unit.OnWorkClock(), c.pauses(pauses, start))
}

// WarnAt is the earliest instant at which 80 % of l is used, rounded up to the nanosecond: when
// the light turns yellow and a warning timer should fire. Like DeadlineWithPauses it is zero when
// an open pause begins before then.
func (c *Calendar) WarnAt(start time.Time, l Limit, pauses []Interval) time.Time {
	start = start.In(c.loc)
	amount := c.Amount(start, l)
	return c.after(start, amount-amount/5, l.Unit.OnWorkClock(), c.pauses(pauses, start))
}

// after is the earliest instant at which amount of clock time has run from start.
func (c *Calendar) after(start time.Time, amount time.Duration, work bool, ps []pause) time.Time {
	remaining := amount
	if remaining <= 0 {
		return start
	}
	var due time.Time
	c.pieces(start, work, ps, func(a, b time.Time) bool {
		if d := b.Sub(a); d < remaining {
			remaining -= d
			return true
		}
		due = a.Add(remaining)
		return false
	})
	return due
}

// Used is how much of l's own measure passed between start and now: work time for work_hours
// and work_days, wall time for urgent_hours and natural_days. It is zero when now is not after
// start.
func (c *Calendar) Used(start, now time.Time, l Limit) time.Duration {
	return c.UsedWithPauses(start, now, l, nil)
}

// UsedWithPauses is Used without the time inside the pauses.
func (c *Calendar) UsedWithPauses(start, now time.Time, l Limit, pauses []Interval) time.Duration {
	start, now = start.In(c.loc), now.In(c.loc)
	return c.used(start, now, l.Unit.OnWorkClock(), c.pauses(pauses, start))
}

// Fraction is Used ÷ Amount: 0.8 is the yellow line, 1.0 the deadline. A zero limit gives 1 at
// its start and +Inf after.
func (c *Calendar) Fraction(start, now time.Time, l Limit) float64 {
	return c.FractionWithPauses(start, now, l, nil)
}

// FractionWithPauses is Fraction with the clock stopped during the pauses.
func (c *Calendar) FractionWithPauses(start, now time.Time, l Limit, pauses []Interval) float64 {
	return fraction(c.UsedWithPauses(start, now, l, pauses), c.Amount(start, l))
}

// Progress computes the warning time, deadline, usage, fraction and light of l at now in one
// call. Its light is LightOfUsed(Used, Amount), except that it is red as soon as now is past the
// deadline, even while no work time runs: a case due Friday 17:30 is red on Friday evening,
// although its work-time usage stays at exactly 100 % until Monday 08:30.
func (c *Calendar) Progress(start, now time.Time, l Limit, pauses []Interval) Progress {
	start, now = start.In(c.loc), now.In(c.loc)
	ps := c.pauses(pauses, start)
	work := l.Unit.OnWorkClock()
	p := Progress{Amount: c.Amount(start, l)}
	p.WarnAt = c.after(start, p.Amount-p.Amount/5, work, ps)
	p.Deadline = c.after(start, p.Amount, work, ps)
	p.Used = c.used(start, now, work, ps)
	p.Fraction = fraction(p.Used, p.Amount)
	p.Light = LightOfUsed(p.Used, p.Amount)
	if !p.Deadline.IsZero() && now.After(p.Deadline) {
		p.Light = Red
	}
	return p
}

func fraction(used, amount time.Duration) float64 {
	if amount <= 0 {
		if used <= 0 {
			return 1
		}
		return math.Inf(1)
	}
	return float64(used) / float64(amount)
}

// WorkBetween is the work time (inside windows on workdays) between a and b; zero when b is not
// after a.
func (c *Calendar) WorkBetween(a, b time.Time) time.Duration {
	return c.used(a.In(c.loc), b.In(c.loc), true, nil)
}

// NextWorkInstant is the earliest instant at or after t inside a work window: t itself during
// work time, else the start of the next window (12:00 → 13:30, Friday 17:30 → Monday 08:30).
func (c *Calendar) NextWorkInstant(t time.Time) time.Time {
	var next time.Time
	c.pieces(t.In(c.loc), true, nil, func(a, _ time.Time) bool {
		next = a
		return false
	})
	return next
}

// IsWorkTime reports whether t lies inside a work window of a workday.
func (c *Calendar) IsWorkTime(t time.Time) bool { return c.NextWorkInstant(t).Equal(t) }

func (c *Calendar) used(start, now time.Time, work bool, ps []pause) time.Duration {
	if !now.After(start) {
		return 0
	}
	var used time.Duration
	c.pieces(start, work, ps, func(a, b time.Time) bool {
		if !a.Before(now) {
			return false
		}
		if !b.Before(now) {
			used += now.Sub(a)
			return false
		}
		used += b.Sub(a)
		return true
	})
	return used
}

// pause is a normalised Interval.
type pause struct {
	start, end time.Time // end is meaningless when open
	open       bool
}

// pauses sorts and merges the intervals, in the calendar's zone, dropping the empty ones and
// those over before from.
func (c *Calendar) pauses(in []Interval, from time.Time) []pause {
	if len(in) == 0 {
		return nil
	}
	ps := make([]pause, 0, len(in))
	for _, iv := range in {
		p := pause{start: iv.Start.In(c.loc), end: iv.End.In(c.loc), open: iv.End.IsZero()}
		if !p.open && (!p.end.After(p.start) || !p.end.After(from)) {
			continue
		}
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b pause) int { return a.start.Compare(b.start) })
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 && (out[n-1].open || !p.start.After(out[n-1].end)) {
			last := &out[n-1]
			switch {
			case last.open:
			case p.open:
				last.open = true
			case p.end.After(last.end):
				last.end = p.end
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// pieces calls fn with each stretch [a, b) from from on during which the clock runs, in time
// order: inside work windows of workdays when work is set, always otherwise, and never inside a
// pause. It stops when fn returns false or when an open pause stops the clock for good. The
// work walk steps day by day and window by window; the calendar's validation guarantees a
// workday in every year, so a consumer waiting for enough work time is always served.
func (c *Calendar) pieces(from time.Time, work bool, ps []pause, fn func(a, b time.Time) bool) {
	i := 0
	// emit passes on the parts of [a, b) outside the pauses and reports whether to go on.
	emit := func(a, b time.Time) bool {
		for a.Before(b) {
			for i < len(ps) && !ps[i].open && !ps[i].end.After(a) {
				i++
			}
			if i == len(ps) || !ps[i].start.Before(b) {
				return fn(a, b)
			}
			p := ps[i]
			if p.start.After(a) && !fn(a, p.start) {
				return false
			}
			if p.open {
				return false
			}
			a = p.end
		}
		return true
	}
	if !work {
		emit(from, endOfTime)
		return
	}
	for d := DateOf(from); ; d = d.next() {
		if !c.IsWorkday(d) {
			continue
		}
		for _, w := range c.windows {
			ws, we := c.at(d, w.Start), c.at(d, w.End)
			if !we.After(from) || !we.After(ws) { // before from, or swallowed by a DST jump
				continue
			}
			if ws.Before(from) {
				ws = from
			}
			if !emit(ws, we) {
				return
			}
		}
	}
}
