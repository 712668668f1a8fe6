package worktime_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

func TestNewRefuses(t *testing.T) {
	def := worktime.DefaultConfig()
	win := func(s string) worktime.Window {
		w, err := worktime.ParseWindow(s)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	day := func(y int, m time.Month, d int) worktime.Date { return worktime.Date{Year: y, Month: m, Day: d} }
	// Every weekday of 2027 a holiday: the year has no workday at all.
	var no2027 []worktime.Exception
	for d := day(2027, time.January, 1); d.Year == 2027; d = d.AddDays(1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			no2027 = append(no2027, worktime.Exception{Date: d, Kind: worktime.Holiday, Name: "全年停工"})
		}
	}
	with := func(f func(*worktime.Config)) worktime.Config {
		cfg := worktime.DefaultConfig()
		cfg.Exceptions = worktime.ChinaHolidays2026()
		f(&cfg)
		return cfg
	}
	type fieldRule struct{ field, rule string }
	tests := []struct {
		name    string
		cfg     worktime.Config
		want    []fieldRule
		message string // a part of the first field's message
	}{
		{"overlapping windows", with(func(c *worktime.Config) { c.Windows = []worktime.Window{win("08:30-12:00"), win("11:00-14:00")} }),
			[]fieldRule{{"windows[1]", "overlap"}}, "11:00-14:00 (windows[1]) overlaps window 08:30-12:00 (windows[0])"},
		{"a window inside another, unsorted", with(func(c *worktime.Config) {
			c.Windows = []worktime.Window{win("13:30-17:30"), win("08:00-18:00"), win("09:00-10:00")}
		}), []fieldRule{{"windows[2]", "overlap"}, {"windows[0]", "overlap"}}, "09:00-10:00 (windows[2]) overlaps window 08:00-18:00 (windows[1])"},
		{"window end before start", with(func(c *worktime.Config) { c.Windows = []worktime.Window{win("12:00-08:30")} }),
			[]fieldRule{{"windows[0]", "order"}}, "must end after it starts"},
		{"empty window", with(func(c *worktime.Config) { c.Windows = []worktime.Window{win("08:30-08:30")} }),
			[]fieldRule{{"windows[0]", "order"}}, "08:30-08:30"},
		{"window past midnight", with(func(c *worktime.Config) { c.Windows = []worktime.Window{{Start: 22 * 60, End: 25 * 60}} }),
			[]fieldRule{{"windows[0]", "range"}}, "within one day"},
		{"no window", with(func(c *worktime.Config) { c.Windows = nil }),
			[]fieldRule{{"windows", "required"}}, "at least one"},
		{"a year with no workday", with(func(c *worktime.Config) { c.Exceptions = append(c.Exceptions, no2027...) }),
			[]fieldRule{{"exceptions", "no_workday"}}, "2027"},
		{"a week with no workday", with(func(c *worktime.Config) {
			c.Weekend = []time.Weekday{0, 1, 2, 3, 4, 5, 6}
			c.Exceptions = nil
		}), []fieldRule{{"weekend", "no_workday"}}, "at least one workday"},
		{"duplicate dates", with(func(c *worktime.Config) {
			c.Exceptions = append(c.Exceptions, worktime.Exception{Date: day(2026, time.October, 1), Kind: worktime.Holiday, Name: "国庆节"})
		}), []fieldRule{{"exceptions[39].date", "duplicate"}}, "2026-10-01 is already listed as exceptions[31] (国庆节)"},
		{"a make-up workday on a weekday", with(func(c *worktime.Config) {
			c.Exceptions = append(c.Exceptions, worktime.Exception{Date: day(2026, time.March, 10), Kind: worktime.Workday, Name: "调休"})
		}), []fieldRule{{"exceptions[39].date", "not_weekend"}}, "2026-03-10 is a Tuesday"},
		{"an impossible date", with(func(c *worktime.Config) {
			c.Exceptions = []worktime.Exception{{Date: day(2026, time.February, 30), Kind: worktime.Holiday, Name: "x"}}
		}), []fieldRule{{"exceptions[0].date", "date"}}, "not a valid date"},
		{"unknown kind and no name", with(func(c *worktime.Config) {
			c.Exceptions = []worktime.Exception{{Date: day(2026, time.March, 10), Kind: "strike", Name: "  "}}
		}), []fieldRule{{"exceptions[0].kind", "enum"}, {"exceptions[0].name", "required"}}, "kind must be"},
		{"a name too long", with(func(c *worktime.Config) {
			c.Exceptions = []worktime.Exception{{Date: day(2026, time.March, 10), Kind: worktime.Holiday, Name: strings.Repeat("节", 65)}}
		}), []fieldRule{{"exceptions[0].name", "max_length"}}, "longer than 64"},
		{"duplicate weekend day", with(func(c *worktime.Config) { c.Weekend = []time.Weekday{6, 0, 6} }),
			[]fieldRule{{"weekend[2]", "duplicate"}}, "Saturday is listed twice"},
		{"weekend day out of range", with(func(c *worktime.Config) { c.Weekend = []time.Weekday{7} }),
			[]fieldRule{{"weekend[0]", "weekday"}}, "got 7"},
		{"unknown zone", with(func(c *worktime.Config) { c.Zone = "Asia/Nowhere" }),
			[]fieldRule{{"zone", "zone"}}, "Asia/Nowhere"},
		{"the server's Local zone", with(func(c *worktime.Config) { c.Zone = "Local" }),
			[]fieldRule{{"zone", "zone"}}, "not the server's Local"},
		{"several problems at once", worktime.Config{Zone: def.Zone, Windows: []worktime.Window{win("17:00-09:00")}, Weekend: []time.Weekday{6, 6}},
			[]fieldRule{{"windows[0]", "order"}, {"weekend[1]", "duplicate"}}, "17:00-09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := worktime.New(tt.cfg)
			if err == nil {
				t.Fatalf("New accepted the calendar (%d windows)", len(c.Windows()))
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("err = %v, want an *errs.Error with code invalid", err)
			}
			var got []fieldRule
			for _, f := range e.Fields {
				got = append(got, fieldRule{f.Field, f.Rule})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("fields = %v, want %v (%v)", got, tt.want, err)
			}
			if !strings.Contains(e.Fields[0].Message, tt.message) {
				t.Errorf("message %q does not say %q", e.Fields[0].Message, tt.message)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	win := func(s string) worktime.Window {
		w, err := worktime.ParseWindow(s)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	t.Run("the default calendar", func(t *testing.T) {
		c := worktime.DefaultCalendar()
		if c.Location().String() != "Asia/Shanghai" || c.DailyWork() != hm(7, 30) {
			t.Fatalf("zone %s, daily work %s", c.Location(), c.DailyWork())
		}
		if !c.IsWeekend(time.Saturday) || !c.IsWeekend(time.Sunday) || c.IsWeekend(time.Monday) {
			t.Fatal("default weekend is not Saturday and Sunday")
		}
		if _, ok := c.ExceptionOn(worktime.Date{Year: 2026, Month: time.October, Day: 1}); ok {
			t.Fatal("the default calendar must have no holidays")
		}
	})
	t.Run("an empty zone is Asia/Shanghai", func(t *testing.T) {
		cfg := worktime.DefaultConfig()
		cfg.Zone = ""
		if got := newCal(t, cfg).Location().String(); got != "Asia/Shanghai" {
			t.Fatalf("zone %s", got)
		}
	})
	t.Run("unsorted touching windows are sorted", func(t *testing.T) {
		cfg := worktime.DefaultConfig()
		cfg.Windows = []worktime.Window{win("13:00-17:00"), win("08:00–12:00"), win("12:00-13:00")}
		c := newCal(t, cfg)
		want := []worktime.Window{win("08:00-12:00"), win("12:00-13:00"), win("13:00-17:00")}
		if !reflect.DeepEqual(c.Windows(), want) {
			t.Fatalf("windows = %v, want %v", c.Windows(), want)
		}
		if got := c.Deadline(at("2026-03-10 11:30"), worktime.WorkHoursLimit(1)); !got.Equal(at("2026-03-10 12:30")) {
			t.Fatalf("touching windows leave no gap: deadline %s", got)
		}
	})
	t.Run("the official 2026 table", func(t *testing.T) {
		c := china2026(t)
		for _, tt := range []struct {
			date    string
			workday bool
			name    string
		}{
			{"2026-01-01", false, "元旦"}, {"2026-01-04", true, "元旦调休"},
			{"2026-02-14", true, "春节调休"}, {"2026-02-17", false, "春节"}, {"2026-02-23", false, "春节"},
			{"2026-02-24", true, ""}, {"2026-02-28", true, "春节调休"},
			{"2026-04-06", false, "清明节"}, {"2026-05-05", false, "劳动节"}, {"2026-05-09", true, "劳动节调休"},
			{"2026-06-19", false, "端午节"}, {"2026-09-20", true, "国庆节调休"}, {"2026-09-25", false, "中秋节"},
			{"2026-10-07", false, "国庆节"}, {"2026-10-10", true, "国庆节调休"}, {"2026-10-11", false, ""},
		} {
			d, err := worktime.ParseDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.IsWorkday(d); got != tt.workday {
				t.Errorf("IsWorkday(%s) = %v", tt.date, got)
			}
			if e, _ := c.ExceptionOn(d); e.Name != tt.name {
				t.Errorf("%s is %q, want %q", tt.date, e.Name, tt.name)
			}
		}
	})
	t.Run("Config round trip", func(t *testing.T) {
		c := china2026(t)
		again := newCal(t, c.Config())
		if !reflect.DeepEqual(again.Config(), c.Config()) {
			t.Fatal("New(c.Config()).Config() differs")
		}
		if len(c.Config().Exceptions) != len(worktime.ChinaHolidays2026()) {
			t.Fatal("exceptions lost")
		}
	})
	t.Run("a 24/7 centre: work hours are urgent hours", func(t *testing.T) {
		c := newCal(t, worktime.Config{Windows: []worktime.Window{win("00:00-24:00")}, Weekend: []time.Weekday{}})
		start := at("2026-02-16 22:10")
		for _, h := range []int{1, 5, 49, 300} {
			a := c.Deadline(start, worktime.WorkHoursLimit(h))
			b := c.Deadline(start, worktime.UrgentHoursLimit(h))
			if !a.Equal(b) {
				t.Fatalf("%d h: work %s, urgent %s", h, a, b)
			}
		}
	})
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"clock", "08:30", true}, {"end of day", "24:00", true}, {"past the day", "24:01", false},
		{"bad minutes", "08:60", false}, {"sign", "+8:30", false}, {"short", "8:30", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := worktime.ParseClock(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseClock(%q) = %v, %v", tt.in, c, err)
			}
			if tt.ok && c.String() != tt.in {
				t.Fatalf("String() = %s", c)
			}
		})
	}
	if _, err := worktime.ParseWindow("08:30"); err == nil {
		t.Error("ParseWindow accepted a single clock")
	}
	if _, err := worktime.ParseDate("2026-02-30"); err == nil {
		t.Error("ParseDate accepted February 30")
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name   string
		limit  worktime.Limit
		fields []string
	}{
		{"work days", worktime.WorkDaysLimit(15), nil},
		{"15 minutes", worktime.Limit{Unit: worktime.UrgentHours, Minutes: 15}, nil},
		{"unknown unit", worktime.Limit{Unit: "weeks", Value: 1}, []string{"unit"}},
		{"zero", worktime.WorkHoursLimit(0), []string{"value"}},
		{"negative", worktime.WorkDaysLimit(-1), []string{"value"}},
		{"too many days", worktime.NaturalDaysLimit(worktime.MaxDays + 1), []string{"value"}},
		{"too many hours", worktime.UrgentHoursLimit(worktime.MaxHours + 1), []string{"value"}},
		{"minutes on days", worktime.Limit{Unit: worktime.WorkDays, Value: 1, Minutes: 30}, []string{"minutes"}},
		{"60 minutes", worktime.Limit{Unit: worktime.WorkHours, Value: 1, Minutes: 60}, []string{"minutes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limit.Validate()
			var got []string
			if e, ok := errs.As(err); ok {
				if e.Code != errs.Invalid {
					t.Fatalf("code %s", e.Code)
				}
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Fatalf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}
