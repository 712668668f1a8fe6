package worktime_test

import (
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/worktime"
)

func TestDeadline(t *testing.T) {
	cal := china2026(t)
	midweek := midweekHolidayFixture(t)
	wh := worktime.WorkHoursLimit
	wd := worktime.WorkDaysLimit
	uh := worktime.UrgentHoursLimit
	nd := worktime.NaturalDaysLimit
	tests := []struct {
		name  string
		cal   *worktime.Calendar // china2026 when nil
		start string
		limit worktime.Limit
		want  string
	}{
		// work_hours
		{name: "lunch break: 11:50 + 1 work hour", start: "2026-03-10 11:50", limit: wh(1), want: "2026-03-10 14:20"},
		{name: "before opening", start: "2026-03-10 07:00", limit: wh(1), want: "2026-03-10 09:30"},
		{name: "received at lunch", start: "2026-03-10 12:30", limit: wh(1), want: "2026-03-10 14:30"},
		{name: "after closing", start: "2026-03-10 18:00", limit: wh(1), want: "2026-03-11 09:30"},
		{name: "Friday evening into Monday", start: "2026-03-13 17:00", limit: wh(2), want: "2026-03-16 10:00"},
		{name: "Friday after closing", start: "2026-03-13 19:00", limit: wh(1), want: "2026-03-16 09:30"},
		{name: "received on Saturday", start: "2026-03-14 10:00", limit: wh(1), want: "2026-03-16 09:30"},
		{name: "Sunday night + 8 work hours", start: "2026-03-15 23:00", limit: wh(8), want: "2026-03-17 09:00"},
		{name: "1h30m work hours", start: "2026-03-10 11:00", limit: worktime.Limit{Unit: worktime.WorkHours, Value: 1, Minutes: 30}, want: "2026-03-10 14:00"},
		{name: "boundary: runs out at the end of the morning", start: "2026-03-10 08:30", limit: worktime.Limit{Unit: worktime.WorkHours, Value: 3, Minutes: 30}, want: "2026-03-10 12:00"},
		{name: "boundary: runs out at closing", start: "2026-03-10 13:30", limit: wh(4), want: "2026-03-10 17:30"},
		{name: "boundary: a whole day of work", start: "2026-03-10 08:30", limit: worktime.Limit{Unit: worktime.WorkHours, Value: 7, Minutes: 30}, want: "2026-03-10 17:30"},
		{name: "boundary: received at 12:00", start: "2026-03-10 12:00", limit: wh(1), want: "2026-03-10 14:30"},
		{name: "boundary: received at 17:30", start: "2026-03-10 17:30", limit: wh(1), want: "2026-03-11 09:30"},
		{name: "midweek holiday (fixture)", cal: midweek, start: "2026-03-10 17:00", limit: wh(1), want: "2026-03-12 09:00"},
		{name: "Spring Festival: Friday evening onto the make-up Saturday", start: "2026-02-13 17:00", limit: wh(2), want: "2026-02-14 10:00"},
		{name: "Spring Festival: make-up Saturday evening past the holiday", start: "2026-02-14 17:00", limit: wh(1), want: "2026-02-24 09:00"},

		// work_days
		{name: "work day inside a window: same clock next workday", start: "2026-03-10 10:00", limit: wd(1), want: "2026-03-11 10:00"},
		{name: "work day Friday morning to Monday", start: "2026-03-13 10:00", limit: wd(1), want: "2026-03-16 10:00"},
		{name: "work day received in the evening: end of next workday", start: "2026-03-09 18:00", limit: wd(1), want: "2026-03-10 17:30"},
		{name: "work day received at lunch: next day's noon", start: "2026-03-09 12:30", limit: wd(1), want: "2026-03-10 12:00"},
		{name: "work day received before opening: that day's closing", start: "2026-03-10 07:00", limit: wd(1), want: "2026-03-10 17:30"},
		{name: "work day received at opening", start: "2026-03-10 08:30", limit: wd(1), want: "2026-03-10 17:30"},
		{name: "work day received on Saturday", start: "2026-03-14 10:00", limit: wd(1), want: "2026-03-16 17:30"},
		{name: "work day over a midweek holiday (fixture)", cal: midweek, start: "2026-03-10 10:00", limit: wd(1), want: "2026-03-12 10:00"},
		{name: "Spring Festival: Friday to the make-up Saturday", start: "2026-02-13 10:00", limit: wd(1), want: "2026-02-14 10:00"},
		{name: "Spring Festival: make-up Saturday to after the holiday", start: "2026-02-14 16:00", limit: wd(1), want: "2026-02-24 16:00"},
		{name: "Spring Festival: 2 work days across the holiday", start: "2026-02-13 10:00", limit: wd(2), want: "2026-02-24 10:00"},
		{name: "Spring Festival: received during the holiday", start: "2026-02-16 10:00", limit: wd(1), want: "2026-02-24 17:30"},
		{name: "Spring Festival: the second make-up Saturday", start: "2026-02-27 10:00", limit: wd(1), want: "2026-02-28 10:00"},
		{name: "illegal building: 15 work days across Spring Festival", start: "2026-02-10 09:00", limit: wd(15), want: "2026-03-09 09:00"},
		{name: "New Year: to the make-up Sunday", start: "2025-12-31 16:00", limit: wd(1), want: "2026-01-04 16:00"},
		{name: "New Year: received on the holiday Saturday", start: "2026-01-03 10:00", limit: wd(1), want: "2026-01-04 17:30"},
		{name: "National Day: make-up Sunday before", start: "2026-09-18 16:00", limit: wd(1), want: "2026-09-20 16:00"},
		{name: "National Day: Mid-Autumn weekend then two days", start: "2026-09-24 10:00", limit: wd(2), want: "2026-09-29 10:00"},
		{name: "National Day: the eve to after golden week", start: "2026-09-30 15:00", limit: wd(1), want: "2026-10-08 15:00"},
		{name: "National Day: 3 work days end on the make-up Saturday", start: "2026-09-30 10:00", limit: wd(3), want: "2026-10-10 10:00"},
		{name: "National Day: Friday to the make-up Saturday after", start: "2026-10-09 10:00", limit: wd(1), want: "2026-10-10 10:00"},

		// urgent_hours
		{name: "urgent across midnight", start: "2026-03-10 23:00", limit: uh(2), want: "2026-03-11 01:00"},
		{name: "urgent on a holiday", start: "2026-10-01 10:00", limit: uh(2), want: "2026-10-01 12:00"},
		{name: "urgent over New Year's Eve night", start: "2026-02-16 22:30", limit: uh(24), want: "2026-02-17 22:30"},
		{name: "urgent over a weekend", start: "2026-03-13 17:00", limit: uh(72), want: "2026-03-16 17:00"},
		{name: "15-minute stage limit across midnight", start: "2026-03-14 23:50", limit: worktime.Limit{Unit: worktime.UrgentHours, Minutes: 15}, want: "2026-03-15 00:05"},

		// natural_days
		{name: "natural days across a month end", start: "2026-01-30 15:00", limit: nd(3), want: "2026-02-02 15:00"},
		{name: "natural days across February's end", start: "2026-02-27 09:00", limit: nd(2), want: "2026-03-01 09:00"},
		{name: "natural days across the year end", start: "2025-12-31 20:00", limit: nd(1), want: "2026-01-01 20:00"},
		{name: "natural days through golden week", start: "2026-09-30 10:00", limit: nd(7), want: "2026-10-07 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cal
			if c == nil {
				c = cal
			}
			start, want := at(tt.start), at(tt.want)
			got := c.Deadline(start, tt.limit)
			if !got.Equal(want) {
				t.Fatalf("Deadline(%s, %s) = %s, want %s", tt.start, tt.limit, got.Format(time.DateTime), tt.want)
			}
			if got.Location() != c.Location() {
				t.Errorf("deadline in %s, want the calendar's zone %s", got.Location(), c.Location())
			}
			if utc := c.Deadline(start.UTC(), tt.limit); !utc.Equal(want) {
				t.Errorf("start given in UTC: %s, want %s", utc, want)
			}
			if used, amount := c.Used(start, got, tt.limit), c.Amount(start, tt.limit); used != amount {
				t.Errorf("Used(start, deadline) = %s, want the whole limit %s", used, amount)
			}
		})
	}
}

func TestAmount(t *testing.T) {
	cal := china2026(t)
	start := at("2026-03-10 10:00")
	tests := []struct {
		name  string
		limit worktime.Limit
		want  time.Duration
	}{
		{"urgent hours and minutes", worktime.Limit{Unit: worktime.UrgentHours, Value: 2, Minutes: 15}, hm(2, 15)},
		{"work hours", worktime.WorkHoursLimit(200), 200 * time.Hour},
		{"a work day is the daily work time", worktime.WorkDaysLimit(1), hm(7, 30)},
		{"15 work days", worktime.WorkDaysLimit(15), 15 * hm(7, 30)},
		{"natural days are 24h in Shanghai", worktime.NaturalDaysLimit(3), 72 * time.Hour},
		{"an unknown unit counts as zero", worktime.Limit{Unit: "fortnights", Value: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.Amount(start, tt.limit); got != tt.want {
				t.Fatalf("Amount(%s) = %s, want %s", tt.limit, got, tt.want)
			}
		})
	}
	if got := cal.Deadline(start, worktime.Limit{Unit: worktime.WorkHours}); !got.Equal(start) {
		t.Errorf("a zero limit is due at its start, got %s", got)
	}
}

func TestUsedFractionLight(t *testing.T) {
	cal := china2026(t)
	start := at("2026-03-10 08:30") // Tuesday; 10 work hours run out Wednesday 11:00
	limit := worktime.WorkHoursLimit(10)
	tests := []struct {
		name     string
		now      time.Time
		used     time.Duration
		fraction float64
		light    worktime.Light
	}{
		{"before the start", at("2026-03-10 08:00"), 0, 0, worktime.Green},
		{"at the start", start, 0, 0, worktime.Green},
		{"79 %", at("2026-03-11 08:54"), hm(7, 54), 0.79, worktime.Green},
		{"a second under 80 %", at("2026-03-11 08:59:59"), hm(7, 59) + 59*time.Second, float64(hm(7, 59)+59*time.Second) / float64(10*time.Hour), worktime.Green},
		{"80 % exactly", at("2026-03-11 09:00"), 8 * time.Hour, 0.8, worktime.Yellow},
		{"90 %", at("2026-03-11 10:00"), 9 * time.Hour, 0.9, worktime.Yellow},
		{"100 % exactly: the deadline", at("2026-03-11 11:00"), 10 * time.Hour, 1.0, worktime.Yellow},
		{"a nanosecond past 100 %", at("2026-03-11 11:00").Add(time.Nanosecond), 10*time.Hour + time.Nanosecond, float64(10*time.Hour+time.Nanosecond) / float64(10*time.Hour), worktime.Red},
		{"101 %", at("2026-03-11 11:06"), hm(10, 6), 1.01, worktime.Red},
		{"lunch after the deadline", at("2026-03-11 12:45"), hm(11, 0), 1.1, worktime.Red},
		{"the evening counts nothing", at("2026-03-10 22:00"), hm(7, 30), 0.75, worktime.Green},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.Used(start, tt.now, limit); got != tt.used {
				t.Fatalf("Used = %s, want %s", got, tt.used)
			}
			f := cal.Fraction(start, tt.now, limit)
			if f != tt.fraction {
				t.Errorf("Fraction = %v, want %v", f, tt.fraction)
			}
			if got := worktime.LightOf(f); got != tt.light {
				t.Errorf("LightOf(%v) = %s, want %s", f, got, tt.light)
			}
			p := cal.Progress(start, tt.now, limit, nil)
			if p.Light != tt.light || p.Used != tt.used || p.Fraction != f || !p.Deadline.Equal(at("2026-03-11 11:00")) || p.Amount != 10*time.Hour {
				t.Errorf("Progress = %+v, want light %s, used %s", p, tt.light, tt.used)
			}
		})
	}
}

func TestLightOf(t *testing.T) {
	tests := []struct {
		name     string
		fraction float64
		want     worktime.Light
	}{
		{"nothing used", 0, worktime.Green},
		{"79 %", 0.79, worktime.Green},
		{"just under 80 %", 0.7999999, worktime.Green},
		{"80 % is yellow", 0.8, worktime.Yellow},
		{"99 %", 0.99, worktime.Yellow},
		{"100 % is still yellow", 1.0, worktime.Yellow},
		{"just over 100 % is red", 1.0000001, worktime.Red},
		{"101 %", 1.01, worktime.Red},
		{"twice over", 2, worktime.Red},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := worktime.LightOf(tt.fraction); got != tt.want {
				t.Fatalf("LightOf(%v) = %s, want %s", tt.fraction, got, tt.want)
			}
		})
	}
}

func TestLightOfUsed(t *testing.T) {
	tests := []struct {
		name         string
		used, amount time.Duration
		want         worktime.Light
	}{
		// 80 % of 7ns is 5.6ns: 5 is under, 6 is over.
		{"under 80 % of an odd amount", 5, 7, worktime.Green},
		{"over 80 % of an odd amount", 6, 7, worktime.Yellow},
		{"the whole odd amount", 7, 7, worktime.Yellow},
		{"past the odd amount", 8, 7, worktime.Red},
		{"80 % of 10h", 8 * time.Hour, 10 * time.Hour, worktime.Yellow},
		{"a nanosecond under 80 % of 10h", 8*time.Hour - 1, 10 * time.Hour, worktime.Green},
		{"huge amounts do not overflow: exactly 80 %", 1 << 62, 5 << 60, worktime.Yellow},
		{"huge amounts do not overflow: just under 80 %", 1<<62 - 1, 5 << 60, worktime.Green},
		{"a zero limit at its start", 0, 0, worktime.Yellow},
		{"a zero limit after its start", 1, 0, worktime.Red},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := worktime.LightOfUsed(tt.used, tt.amount); got != tt.want {
				t.Fatalf("LightOfUsed(%d, %d) = %s, want %s", tt.used, tt.amount, got, tt.want)
			}
		})
	}
}

func TestPauses(t *testing.T) {
	cal := china2026(t)
	start := at("2026-03-12 09:00") // Thursday
	weekend := []worktime.Interval{{Start: at("2026-03-13 15:00"), End: at("2026-03-16 10:00")}}
	tests := []struct {
		name   string
		limit  worktime.Limit
		pauses []worktime.Interval
		want   string // deadline; "" for none
	}{
		{"work days without a pause", worktime.WorkDaysLimit(2), nil, "2026-03-16 09:00"},
		// The pause removes Friday 15:00–17:30 and Monday 08:30–10:00 of work (4h); 12h are
		// used by Friday 15:00, the last 3h run from Monday 10:00.
		{"work days, pause straddling a weekend", worktime.WorkDaysLimit(2), weekend, "2026-03-16 14:30"},
		{"work hours, pause straddling a weekend", worktime.WorkHoursLimit(15), weekend, "2026-03-16 14:30"},
		// 30h run before the pause (Thu 09:00 → Fri 15:00), the other 42h from Monday 10:00.
		{"urgent hours, pause straddling a weekend", worktime.UrgentHoursLimit(72), weekend, "2026-03-18 04:00"},
		{"natural days, pause straddling a weekend", worktime.NaturalDaysLimit(3), weekend, "2026-03-18 04:00"},
		{"a pause over a weekend only costs nothing in work time", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-13 18:00"), End: at("2026-03-16 08:00")}}, "2026-03-16 09:00"},
		{"overlapping pauses count once", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-15 12:00"), End: at("2026-03-16 10:00")}, weekend[0], {Start: at("2026-03-14 00:00"), End: at("2026-03-14 01:00")}}, "2026-03-16 14:30"},
		{"a pause before the start is ignored", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-01 09:00"), End: at("2026-03-12 08:00")}}, "2026-03-16 09:00"},
		{"a pause ending before it starts is ignored", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-13 15:00"), End: at("2026-03-13 10:00")}}, "2026-03-16 09:00"},
		{"a pause that began before the start", worktime.WorkHoursLimit(1),
			[]worktime.Interval{{Start: at("2026-03-11 09:00"), End: at("2026-03-12 10:00")}}, "2026-03-12 11:00"},
		{"an open pause before the time runs out: no deadline", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-13 15:00")}}, ""},
		{"an open pause after the time ran out changes nothing", worktime.WorkDaysLimit(2),
			[]worktime.Interval{{Start: at("2026-03-17 15:00")}}, "2026-03-16 09:00"},
		{"an open urgent pause: no deadline", worktime.UrgentHoursLimit(72),
			[]worktime.Interval{{Start: at("2026-03-13 15:00")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.DeadlineWithPauses(start, tt.limit, tt.pauses)
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("DeadlineWithPauses = %s, want none (zero time)", got)
				}
				return
			}
			if want := at(tt.want); !got.Equal(want) {
				t.Fatalf("DeadlineWithPauses = %s, want %s", got.Format(time.DateTime), tt.want)
			}
			if used, amount := cal.UsedWithPauses(start, got, tt.limit, tt.pauses), cal.Amount(start, tt.limit); used != amount {
				t.Errorf("UsedWithPauses(start, deadline) = %s, want %s", used, amount)
			}
		})
	}
}

func TestUsedWithPauses(t *testing.T) {
	cal := china2026(t)
	start := at("2026-03-12 09:00") // Thursday
	weekend := []worktime.Interval{{Start: at("2026-03-13 15:00"), End: at("2026-03-16 10:00")}}
	open := []worktime.Interval{{Start: at("2026-03-13 15:00")}}
	l := worktime.WorkDaysLimit(2) // 15h of work time
	tests := []struct {
		name   string
		now    string
		pauses []worktime.Interval
		used   time.Duration
		light  worktime.Light
	}{
		{"inside the pause the clock stands", "2026-03-14 12:00", weekend, 12 * time.Hour, worktime.Yellow},
		{"just before the pause", "2026-03-13 14:00", weekend, 11 * time.Hour, worktime.Green},
		{"after the pause it runs again", "2026-03-16 11:00", weekend, 13 * time.Hour, worktime.Yellow},
		{"without the pause it would be red", "2026-03-16 11:00", nil, 17 * time.Hour, worktime.Red},
		{"an open pause stops it for good", "2026-04-30 10:00", open, 12 * time.Hour, worktime.Yellow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(tt.now)
			if got := cal.UsedWithPauses(start, now, l, tt.pauses); got != tt.used {
				t.Fatalf("UsedWithPauses = %s, want %s", got, tt.used)
			}
			if got := worktime.LightOf(cal.FractionWithPauses(start, now, l, tt.pauses)); got != tt.light {
				t.Errorf("light = %s, want %s", got, tt.light)
			}
			if got := cal.Progress(start, now, l, tt.pauses).Light; got != tt.light {
				t.Errorf("Progress light = %s, want %s", got, tt.light)
			}
		})
	}
}

func TestWorkBetween(t *testing.T) {
	cal := china2026(t)
	tests := []struct {
		name string
		a, b string
		want time.Duration
	}{
		{"one working day, opening to closing and beyond", "2026-03-10 08:00", "2026-03-10 18:00", hm(7, 30)},
		{"across lunch", "2026-03-10 11:50", "2026-03-10 14:20", time.Hour},
		{"inside lunch", "2026-03-10 12:10", "2026-03-10 13:20", 0},
		{"Friday evening to Monday morning", "2026-03-13 17:00", "2026-03-16 09:00", time.Hour},
		{"an ordinary week", "2026-03-09 00:00", "2026-03-16 00:00", 5 * hm(7, 30)},
		{"Spring Festival: only the make-up Saturday", "2026-02-14 00:00", "2026-02-24 00:00", hm(7, 30)},
		{"golden week fortnight: six workdays", "2026-09-28 00:00", "2026-10-11 00:00", 6 * hm(7, 30)},
		{"reversed is zero", "2026-03-10 18:00", "2026-03-10 08:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.WorkBetween(at(tt.a), at(tt.b)); got != tt.want {
				t.Fatalf("WorkBetween = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNextWorkInstant(t *testing.T) {
	cal := china2026(t)
	tests := []struct {
		name, t, want string
	}{
		{"inside a window it is itself", "2026-03-10 10:00", "2026-03-10 10:00"},
		{"the last second of the morning", "2026-03-10 11:59:59", "2026-03-10 11:59:59"},
		{"the end of a window is not work time", "2026-03-10 12:00", "2026-03-10 13:30"},
		{"the opening itself", "2026-03-10 08:30", "2026-03-10 08:30"},
		{"Friday closing to Monday", "2026-03-13 17:30", "2026-03-16 08:30"},
		{"Friday evening to the make-up Saturday", "2026-02-13 18:00", "2026-02-14 08:30"},
		{"Spring Festival holiday to its end", "2026-02-16 10:00", "2026-02-24 08:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.NextWorkInstant(at(tt.t))
			if !got.Equal(at(tt.want)) {
				t.Fatalf("NextWorkInstant(%s) = %s, want %s", tt.t, got.Format(time.DateTime), tt.want)
			}
			if in := cal.IsWorkTime(at(tt.t)); in != (tt.t == tt.want) {
				t.Errorf("IsWorkTime(%s) = %v", tt.t, in)
			}
		})
	}
}

func TestOtherZones(t *testing.T) {
	berlin := mustZone("Europe/Berlin") // DST starts 2026-03-29 02:00 → 03:00
	office := worktime.DefaultConfig()
	office.Zone = "Europe/Berlin"
	allDay := worktime.Config{Zone: "Europe/Berlin", Windows: []worktime.Window{{Start: 0, End: 24 * 60}}, Weekend: []time.Weekday{}}
	tests := []struct {
		name   string
		cfg    worktime.Config
		start  string
		limit  worktime.Limit
		want   string
		amount time.Duration
	}{
		{"a natural day over the DST change keeps its clock time", office, "2026-03-28 10:00", worktime.NaturalDaysLimit(1), "2026-03-29 10:00", 23 * time.Hour},
		{"urgent hours are real hours over the DST change", office, "2026-03-28 10:00", worktime.UrgentHoursLimit(24), "2026-03-29 11:00", 24 * time.Hour},
		{"work windows are local clock times", office, "2026-03-27 17:00", worktime.WorkHoursLimit(1), "2026-03-30 09:00", time.Hour},
		{"a 24/7 centre counts real time through the DST night", allDay, "2026-03-28 23:00", worktime.WorkHoursLimit(3), "2026-03-29 03:00", 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := newCal(t, tt.cfg)
			start := atIn(berlin, tt.start)
			got := cal.Deadline(start, tt.limit)
			if want := atIn(berlin, tt.want); !got.Equal(want) {
				t.Fatalf("Deadline = %s, want %s", got, want)
			}
			if a := cal.Amount(start, tt.limit); a != tt.amount {
				t.Errorf("Amount = %s, want %s", a, tt.amount)
			}
			if u := cal.Used(start, got, tt.limit); u != tt.amount {
				t.Errorf("Used(start, deadline) = %s, want %s", u, tt.amount)
			}
		})
	}
}

func TestLimitTimes(t *testing.T) {
	tests := []struct {
		name  string
		limit worktime.Limit
		n     int
		want  worktime.Limit
	}{
		{"one extension doubles work days", worktime.WorkDaysLimit(15), 2, worktime.WorkDaysLimit(30)},
		{"two extensions of 1h30m", worktime.Limit{Unit: worktime.WorkHours, Value: 1, Minutes: 30}, 3, worktime.Limit{Unit: worktime.WorkHours, Value: 4, Minutes: 30}},
		{"15 minutes twice", worktime.Limit{Unit: worktime.UrgentHours, Minutes: 15}, 2, worktime.Limit{Unit: worktime.UrgentHours, Minutes: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.limit.Times(tt.n); got != tt.want {
				t.Fatalf("%s.Times(%d) = %s, want %s", tt.limit, tt.n, got, tt.want)
			}
		})
	}
}

func TestProgressOverdueOutsideWorkTime(t *testing.T) {
	cal := china2026(t)
	start := at("2026-03-13 09:00") // Friday
	l := worktime.Limit{Unit: worktime.WorkHours, Value: 7}
	tests := []struct {
		name     string
		now      string
		fraction float64
		light    worktime.Light
	}{
		{"before 80 %", "2026-03-13 14:00", 3.5 / 7, worktime.Green},
		{"80 % is reached at WarnAt", "2026-03-13 16:06", 0.8, worktime.Yellow},
		{"at the deadline", "2026-03-13 17:30", 1, worktime.Yellow},
		// Work time stands still all weekend, but the case is overdue from Friday 17:30.
		{"Friday evening after the deadline", "2026-03-13 20:00", 1, worktime.Red},
		{"Sunday", "2026-03-15 12:00", 1, worktime.Red},
		{"Monday morning", "2026-03-16 09:00", 7.5 / 7, worktime.Red},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cal.Progress(start, at(tt.now), l, nil)
			if p.Fraction != tt.fraction || p.Light != tt.light {
				t.Fatalf("Progress at %s: fraction %v light %s, want %v %s", tt.now, p.Fraction, p.Light, tt.fraction, tt.light)
			}
			if !p.WarnAt.Equal(at("2026-03-13 16:06")) || !p.Deadline.Equal(at("2026-03-13 17:30")) {
				t.Fatalf("WarnAt %s, Deadline %s", p.WarnAt, p.Deadline)
			}
		})
	}
	if w := cal.WarnAt(start, l, nil); !w.Equal(at("2026-03-13 16:06")) {
		t.Errorf("WarnAt = %s", w)
	}
}
