package worktime

import (
	"fmt"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// Unit is how a time limit is counted.
type Unit string

// The four units of DOMAIN.md §3.
const (
	UrgentHours Unit = "urgent_hours" // 紧急工作时: continuous clock, nights and holidays included
	WorkHours   Unit = "work_hours"   // 工作时: work windows on workdays only
	WorkDays    Unit = "work_days"    // 工作日: N × the daily work time, on the work clock
	NaturalDays Unit = "natural_days" // 自然日: calendar days, continuous clock
)

// Units lists every unit, in a stable order.
func Units() []Unit { return []Unit{UrgentHours, WorkHours, WorkDays, NaturalDays} }

// Valid reports whether u is one of the four units.
func (u Unit) Valid() bool {
	switch u {
	case UrgentHours, WorkHours, WorkDays, NaturalDays:
		return true
	}
	return false
}

// Hourly reports whether u is counted in hours (and may carry minutes).
func (u Unit) Hourly() bool { return u == UrgentHours || u == WorkHours }

// OnWorkClock reports whether u counts only work time (work_hours, work_days).
func (u Unit) OnWorkClock() bool { return u == WorkHours || u == WorkDays }

// The largest values Validate accepts: generous (a year of days, over a year of hours) while
// keeping every computation bounded.
const (
	MaxHours = 9999
	MaxDays  = 999
)

// Limit is a time limit (时限): Value units, plus Minutes for the hour units, so that stage
// limits such as 15 minutes ({UrgentHours, 0, 15}) or 1.5 work hours ({WorkHours, 1, 30}) are
// exact.
type Limit struct {
	Unit    Unit
	Value   int
	Minutes int // 0–59, hour units only
}

// UrgentHoursLimit is a limit of h urgent hours.
func UrgentHoursLimit(h int) Limit { return Limit{Unit: UrgentHours, Value: h} }

// WorkHoursLimit is a limit of h work hours.
func WorkHoursLimit(h int) Limit { return Limit{Unit: WorkHours, Value: h} }

// WorkDaysLimit is a limit of n work days.
func WorkDaysLimit(n int) Limit { return Limit{Unit: WorkDays, Value: n} }

// NaturalDaysLimit is a limit of n calendar days.
func NaturalDaysLimit(n int) Limit { return Limit{Unit: NaturalDays, Value: n} }

// Validate checks a limit as input (fields "unit", "value", "minutes"): a known unit, a positive
// total, minutes only with hours, at most MaxHours hours or MaxDays days.
func (l Limit) Validate() error {
	var fe errs.Fields
	if !l.Unit.Valid() {
		fe.Add("unit", "enum", "unit must be one of urgent_hours, work_hours, work_days, natural_days")
	}
	max := MaxDays
	if l.Unit.Hourly() {
		max = MaxHours
	}
	switch {
	case l.Value < 0 || l.Value > max:
		fe.Add("value", "range", "value must be 0 to %d", max)
	case l.Value == 0 && l.Minutes == 0:
		fe.Add("value", "positive", "a time limit must be longer than zero")
	}
	switch {
	case l.Minutes != 0 && l.Unit.Valid() && !l.Unit.Hourly():
		fe.Add("minutes", "hours_only", "minutes are only allowed with urgent_hours and work_hours")
	case l.Minutes < 0 || l.Minutes > 59:
		fe.Add("minutes", "range", "minutes must be 0 to 59")
	}
	return fe.Err()
}

// Times returns the limit n times over: an extension (延期) adds one original limit, so a case
// with k approved extensions runs against l.Times(1+k).
func (l Limit) Times(n int) Limit {
	if l.Unit.Hourly() {
		total := (l.Value*60 + l.Minutes) * n
		return Limit{Unit: l.Unit, Value: total / 60, Minutes: total % 60}
	}
	return Limit{Unit: l.Unit, Value: l.Value * n}
}

func (l Limit) String() string {
	if l.Minutes != 0 {
		return fmt.Sprintf("%dh%02dm %s", l.Value, l.Minutes, l.Unit)
	}
	return fmt.Sprintf("%d %s", l.Value, l.Unit)
}

// hours is the length of an hour-unit limit.
func (l Limit) hours() time.Duration {
	return time.Duration(l.Value)*time.Hour + time.Duration(l.Minutes)*time.Minute
}

// Light is the traffic light of a running limit.
type Light string

// The lights.
const (
	Green  Light = "green"  // under 80 % used
	Yellow Light = "yellow" // 80 % to 100 % used, both included
	Red    Light = "red"    // past 100 %: overdue
)

// LightOf returns the light of a fraction used: green below 0.8, yellow from 0.8 to 1.0 both
// included, red above 1.0.
func LightOf(fraction float64) Light {
	switch {
	case fraction > 1:
		return Red
	case fraction >= 0.8:
		return Yellow
	}
	return Green
}

// LightOfUsed is LightOf(used ÷ amount) decided exactly on the durations, with no rounding at
// the edges: yellow from 5·used ≥ 4·amount, red from used > amount.
func LightOfUsed(used, amount time.Duration) Light {
	switch {
	case used > amount:
		return Red
	case amount > 0 && used >= amount-amount/5: // ⌈4·amount/5⌉ = amount − ⌊amount/5⌋, no overflow
		return Yellow
	case amount <= 0:
		return Yellow // a zero limit at its start: used up, not exceeded
	}
	return Green
}
