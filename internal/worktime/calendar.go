package worktime

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve in containers without a zone database.
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
)

// DefaultZone is the zone of a calendar whose Config names none.
const DefaultZone = "Asia/Shanghai"

// MaxNameLen is the longest exception name, in characters.
const MaxNameLen = 64

// Clock is a time of day in minutes after midnight, 0 (00:00) to 1440 (24:00, the end of the day).
type Clock int

// ClockOf returns the clock time h:m.
func ClockOf(h, m int) Clock { return Clock(h*60 + m) }

// ParseClock reads "HH:MM" (00:00 to 24:00).
func ParseClock(s string) (Clock, error) {
	digit := func(i int) (int, bool) { return int(s[i] - '0'), s[i] >= '0' && s[i] <= '9' }
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("parse clock %q: want HH:MM", s)
	}
	h1, ok1 := digit(0)
	h2, ok2 := digit(1)
	m1, ok3 := digit(3)
	m2, ok4 := digit(4)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, fmt.Errorf("parse clock %q: want HH:MM", s)
	}
	h, m := h1*10+h2, m1*10+m2
	c := ClockOf(h, m)
	if m > 59 || c > 24*60 {
		return 0, fmt.Errorf("parse clock %q: out of 00:00–24:00", s)
	}
	return c, nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Window is a daily stretch of work time [Start, End) in the calendar's zone.
type Window struct {
	Start, End Clock
}

// ParseWindow reads "HH:MM-HH:MM" (an en dash or "~" also separates).
func ParseWindow(s string) (Window, error) {
	s = strings.NewReplacer("–", "-", "~", "-", " ", "").Replace(s)
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("parse window %q: want HH:MM-HH:MM", s)
	}
	start, err := ParseClock(a)
	if err != nil {
		return Window{}, fmt.Errorf("parse window: %w", err)
	}
	end, err := ParseClock(b)
	if err != nil {
		return Window{}, fmt.Errorf("parse window: %w", err)
	}
	return Window{Start: start, End: end}, nil
}

func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }

// Length is the work time the window holds on an ordinary day.
func (w Window) Length() time.Duration { return time.Duration(w.End-w.Start) * time.Minute }

// Date is a civil date (no zone: it is read in the calendar's zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Valid reports whether d is a real date between the years 1970 and 9999.
func (d Date) Valid() bool {
	if d.Year < 1970 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// next is AddDays(1) without the time package, for the hot loops.
func (d Date) next() Date {
	if d.Day < 28 || d.Day < daysIn(d.Year, d.Month) {
		d.Day++
		return d
	}
	d.Day = 1
	if d.Month == time.December {
		d.Month = time.January
		d.Year++
	} else {
		d.Month++
	}
	return d
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Kind says what an exception does to its date.
type Kind string

// The exception kinds.
const (
	Holiday Kind = "holiday" // 节假日: a day off, even on a weekday
	Workday Kind = "workday" // 调休上班: a weekend day that is worked
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Holiday || k == Workday }

// Exception is one dated row of the holiday table.
type Exception struct {
	Date Date
	Kind Kind
	Name string // e.g. 春节, 国庆节, 春节调休
}

// Config is the editable description of a calendar; New validates it.
type Config struct {
	Zone       string         // IANA zone name; "" means DefaultZone
	Windows    []Window       // at least one, not overlapping, any order
	Weekend    []time.Weekday // days off every week; empty for a centre staffed every day
	Exceptions []Exception    // holidays and make-up workdays, any order
}

// DefaultConfig returns Asia/Shanghai, 08:30–12:00 and 13:30–17:30, Saturday and Sunday off and
// no holidays (admins add each year's table).
func DefaultConfig() Config {
	return Config{
		Zone:    DefaultZone,
		Windows: []Window{{ClockOf(8, 30), ClockOf(12, 0)}, {ClockOf(13, 30), ClockOf(17, 30)}},
		Weekend: []time.Weekday{time.Saturday, time.Sunday},
	}
}

// DefaultCalendar returns the calendar of DefaultConfig.
func DefaultCalendar() *Calendar {
	c, err := New(DefaultConfig())
	if err != nil {
		panic("worktime: the default calendar is invalid: " + err.Error())
	}
	return c
}

// Calendar is a validated, immutable work calendar, safe for concurrent use. Build it with New
// or DefaultCalendar; the zero Calendar is not usable.
type Calendar struct {
	zone       string
	loc        *time.Location
	windows    []Window // sorted, not overlapping
	weekend    [7]bool
	exceptions map[Date]Exception
	daily      time.Duration // the nominal work time of one workday
}

// New validates cfg and builds its calendar. The problems found are reported together as an
// *errs.Error with code errs.Invalid and one field error each (fields "zone", "windows",
// "windows[i]", "weekend", "weekend[i]", "exceptions[i].date|kind|name", and "exceptions" for a
// year left without a workday).
func New(cfg Config) (*Calendar, error) {
	var fe errs.Fields
	c := &Calendar{zone: cfg.Zone, exceptions: make(map[Date]Exception, len(cfg.Exceptions))}
	if c.zone == "" {
		c.zone = DefaultZone
	}
	if c.zone == "Local" {
		fe.Add("zone", "zone", "zone must name a place (e.g. Asia/Shanghai), not the server's Local setting")
	} else if loc, err := time.LoadLocation(c.zone); err != nil {
		fe.Add("zone", "zone", "unknown time zone %q", c.zone)
	} else {
		c.loc = loc
	}
	c.windows = validWindows(cfg.Windows, &fe)
	for _, w := range c.windows {
		c.daily += w.Length()
	}
	weekendOK := c.setWeekend(cfg.Weekend, &fe)
	c.setExceptions(cfg.Exceptions, weekendOK, &fe)
	if weekendOK { // with no valid weekend every year would be reported
		years := map[int]bool{}
		for d := range c.exceptions {
			years[d.Year] = true
		}
		for _, y := range slices.Sorted(maps.Keys(years)) {
			if !c.hasWorkday(y) {
				fe.Add("exceptions", "no_workday", "the table leaves %d without a single workday", y)
			}
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// setWeekend records the weekend days and reports whether they are valid and leave a workday.
func (c *Calendar) setWeekend(days []time.Weekday, fe *errs.Fields) bool {
	ok := true
	for i, wd := range days {
		field := fmt.Sprintf("weekend[%d]", i)
		switch {
		case wd < time.Sunday || wd > time.Saturday:
			fe.Add(field, "weekday", "weekend day must be 0 (Sunday) to 6 (Saturday), got %d", int(wd))
			ok = false
		case c.weekend[wd]:
			fe.Add(field, "duplicate", "%s is listed twice", wd)
		default:
			c.weekend[wd] = true
		}
	}
	if !slices.Contains(c.weekend[:], false) {
		fe.Add("weekend", "no_workday", "a week must keep at least one workday")
		ok = false
	}
	return ok
}

// setExceptions records the valid exceptions; a make-up workday is checked against the weekend
// only when the weekend itself is valid.
func (c *Calendar) setExceptions(in []Exception, weekendOK bool, fe *errs.Fields) {
	firstAt := map[Date]int{}
	for i, e := range in {
		field := fmt.Sprintf("exceptions[%d]", i)
		ok := true
		if !e.Date.Valid() {
			fe.Add(field+".date", "date", "%s is not a valid date (years 1970–9999)", e.Date)
			ok = false
		} else if j, dup := firstAt[e.Date]; dup {
			fe.Add(field+".date", "duplicate", "%s is already listed as exceptions[%d] (%s)", e.Date, j, in[j].Name)
			ok = false
		} else {
			firstAt[e.Date] = i
		}
		if !e.Kind.Valid() {
			fe.Add(field+".kind", "enum", "kind must be %q or %q", Holiday, Workday)
			ok = false
		}
		e.Name = strings.TrimSpace(e.Name)
		switch {
		case e.Name == "":
			fe.Add(field+".name", "required", "name is required (e.g. 春节, 春节调休)")
		case utf8.RuneCountInString(e.Name) > MaxNameLen:
			fe.Add(field+".name", "max_length", "name is longer than %d characters", MaxNameLen)
		}
		if ok && weekendOK && e.Kind == Workday && !c.weekend[e.Date.Weekday()] {
			fe.Add(field+".date", "not_weekend", "%s is a %s, already a workday: a make-up workday must fall on a weekend day", e.Date, e.Date.Weekday())
			ok = false
		}
		if ok {
			c.exceptions[e.Date] = e
		}
	}
}

// validWindows checks the windows and returns them sorted.
func validWindows(in []Window, fe *errs.Fields) []Window {
	if len(in) == 0 {
		fe.Add("windows", "required", "at least one work window is required (e.g. 08:30-12:00)")
		return nil
	}
	type indexed struct {
		Window
		i int
	}
	var ws []indexed
	for i, w := range in {
		field := fmt.Sprintf("windows[%d]", i)
		switch {
		case w.Start < 0 || w.End > 24*60:
			fe.Add(field, "range", "window %s must lie within one day (00:00-24:00)", w)
		case w.End <= w.Start:
			fe.Add(field, "order", "window %s must end after it starts", w)
		default:
			ws = append(ws, indexed{w, i})
		}
	}
	slices.SortStableFunc(ws, func(a, b indexed) int { return cmpInt(int(a.Start), int(b.Start)) })
	out := make([]Window, 0, len(ws))
	var last indexed // the last window kept: sorted and disjoint, it ends latest
	for k, w := range ws {
		if k > 0 && w.Start < last.End {
			fe.Add(fmt.Sprintf("windows[%d]", w.i), "overlap", "window %s (windows[%d]) overlaps window %s (windows[%d])", w.Window, w.i, last.Window, last.i)
			continue
		}
		out = append(out, w.Window)
		last = w
	}
	return out
}

func (c *Calendar) hasWorkday(year int) bool {
	for d := (Date{year, time.January, 1}); d.Year == year; d = d.next() {
		if c.IsWorkday(d) {
			return true
		}
	}
	return false
}

// Location is the calendar's zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Windows returns the work windows, sorted.
func (c *Calendar) Windows() []Window { return slices.Clone(c.windows) }

// DailyWork is the work time of one workday (the sum of the windows): the size of one work day.
func (c *Calendar) DailyWork() time.Duration { return c.daily }

// IsWeekend reports whether wd is a weekly day off.
func (c *Calendar) IsWeekend(wd time.Weekday) bool { return c.weekend[wd] }

// IsWorkday reports whether d is worked: a make-up workday, or neither weekend nor holiday.
func (c *Calendar) IsWorkday(d Date) bool {
	if e, ok := c.exceptions[d]; ok {
		return e.Kind == Workday
	}
	return !c.weekend[d.Weekday()]
}

// ExceptionOn returns the exception listed for d, if any.
func (c *Calendar) ExceptionOn(d Date) (Exception, bool) {
	e, ok := c.exceptions[d]
	return e, ok
}

// Config returns the calendar's description, normalised (windows and exceptions sorted, zone
// named): New(c.Config()) builds an equal calendar.
func (c *Calendar) Config() Config {
	cfg := Config{Zone: c.zone, Windows: c.Windows(), Weekend: []time.Weekday{}}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if c.weekend[wd] {
			cfg.Weekend = append(cfg.Weekend, wd)
		}
	}
	for _, e := range c.exceptions {
		cfg.Exceptions = append(cfg.Exceptions, e)
	}
	slices.SortFunc(cfg.Exceptions, func(a, b Exception) int { return a.Date.Compare(b.Date) })
	return cfg
}
