// Package calendar keeps the time rules of each city as its admins edit them: the work calendar
// (工作日历: zone, work windows, weekend, and the yearly table of holidays and make-up workdays
// 调休), the stage limits (环节时限) and the automatic supervision rules (自动督办规则). The
// arithmetic itself is package worktime's; casework asks RulesFor for the rules of a case's
// place and computes its deadlines with them.
//
// A calendar belongs to a region (normally the city) or is the default one (region code
// "default"). A case follows the calendar of the nearest region above its grid that has one,
// and the default calendar otherwise. Every replica keeps all calendars in memory and reloads
// them when the "calendars" change counter moves (a write here reloads at once).
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// DefaultRegion is the region code of the default calendar, which cases outside every city
// with a calendar of its own follow.
const DefaultRegion = "default"

// CounterName is the change counter every calendar write bumps.
const CounterName = "calendars"

// The stages whose limits a city configures (the handling limit comes from the category).
const (
	StageAccept   = "accept"   // 受理: a desk accepts or rejects a report
	StageVerify   = "verify"   // 核实: a grid worker verifies on site
	StageDispatch = "dispatch" // 派遣: a desk dispatches a filed case
	StageSign     = "sign"     // 签收: the department signs
	StageHandle   = "handle"   // 处置: the limit comes from the category
	StageCheck    = "check"    // 核查: a grid worker checks the fix on site
	StageClose    = "close"    // 结案: a desk closes
)

// LimitStages lists the stages with a configurable limit, in workflow order.
var LimitStages = []string{StageAccept, StageVerify, StageDispatch, StageSign, StageCheck, StageClose}

// DefaultStageLimits: 15 work minutes to accept, dispatch and close, 30 to verify or check on
// site, one work hour to sign (DOMAIN.md §3: centres staffed around the clock use 15 minutes to
// accept or dispatch and 30 for a field check).
func DefaultStageLimits() map[string]worktime.Limit {
	return map[string]worktime.Limit{
		StageAccept:   {Unit: worktime.WorkHours, Minutes: 15},
		StageVerify:   {Unit: worktime.WorkHours, Minutes: 30},
		StageDispatch: {Unit: worktime.WorkHours, Minutes: 15},
		StageSign:     {Unit: worktime.WorkHours, Value: 1},
		StageCheck:    {Unit: worktime.WorkHours, Minutes: 30},
		StageClose:    {Unit: worktime.WorkHours, Minutes: 15},
	}
}

// Level is a supervision level (督办级别).
type Level string

// The levels.
const (
	LevelNormal Level = "normal" // 一般督办
	LevelYellow Level = "yellow" // 黄牌督办
	LevelRed    Level = "red"    // 红牌督办
)

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l == LevelNormal || l == LevelYellow || l == LevelRed }

// Rank orders the levels: normal 1, yellow 2, red 3 (0 for none).
func (l Level) Rank() int {
	switch l {
	case LevelNormal:
		return 1
	case LevelYellow:
		return 2
	case LevelRed:
		return 3
	}
	return 0
}

// Trigger says when a supervision rule fires.
type Trigger string

// The triggers.
const (
	// Elapsed fires once After has run on the stage's clock (from the dispatch, for both
	// department stages), pauses excluded.
	Elapsed Trigger = "elapsed"
	// Overdue fires when the stage's deadline passes (an extension moves it).
	Overdue Trigger = "overdue"
)

// RuleStages are the stages a supervision rule may watch: the department's, since a
// supervision asks the lead department for a reply.
var RuleStages = []string{StageSign, StageHandle}

// MaxRules bounds a city's supervision rules.
const MaxRules = 20

// Rule raises a supervision (督办) of Level on a case that stays too long in Stage: e.g. not
// signed within 1 work day → yellow.
type Rule struct {
	Stage   string
	Trigger Trigger
	After   worktime.Limit // Elapsed only
	Level   Level
}

func (r Rule) String() string {
	if r.Trigger == Overdue {
		return fmt.Sprintf("%s overdue → %s", r.Stage, r.Level)
	}
	return fmt.Sprintf("%s after %s → %s", r.Stage, r.After, r.Level)
}

// DefaultRules: not signed within 1 work day of the dispatch → yellow, within 2 → red; the
// handling deadline passed → red.
func DefaultRules() []Rule {
	return []Rule{
		{Stage: StageSign, Trigger: Elapsed, After: worktime.WorkDaysLimit(1), Level: LevelYellow},
		{Stage: StageSign, Trigger: Elapsed, After: worktime.WorkDaysLimit(2), Level: LevelRed},
		{Stage: StageHandle, Trigger: Overdue, Level: LevelRed},
	}
}

// Settings are a calendar's week: zone, work windows and weekend days.
type Settings struct {
	Zone    string
	Windows []worktime.Window
	Weekend []time.Weekday
}

// DefaultSettings are worktime's defaults: Asia/Shanghai, 08:30–12:00 and 13:30–17:30,
// Saturday and Sunday off.
func DefaultSettings() Settings {
	c := worktime.DefaultConfig()
	return Settings{Zone: c.Zone, Windows: c.Windows, Weekend: c.Weekend}
}

func (s Settings) config(ex []worktime.Exception) worktime.Config {
	return worktime.Config{Zone: s.Zone, Windows: s.Windows, Weekend: s.Weekend, Exceptions: ex}
}

// Calendar is one stored calendar as admins edit it. StageLimits holds only the stages the
// city set (the others take DefaultStageLimits); Rules is nil while the city keeps
// DefaultRules (an empty, non-nil list means no automatic supervision).
type Calendar struct {
	ID          int64
	RegionCode  string
	Settings    Settings
	StageLimits map[string]worktime.Limit
	Rules       []Rule
	Version     int64
	UpdatedAt   time.Time
	UpdatedBy   int64
}

// EffectiveLimits returns the limit of every configurable stage: the city's, else the default.
func (c Calendar) EffectiveLimits() map[string]worktime.Limit {
	out := DefaultStageLimits()
	for k, v := range c.StageLimits {
		out[k] = v
	}
	return out
}

// EffectiveRules returns the city's rules, or the defaults when it set none.
func (c Calendar) EffectiveRules() []Rule {
	if c.Rules == nil {
		return DefaultRules()
	}
	return slices.Clone(c.Rules)
}

// Rules are the time rules that apply to a case: its calendar, every stage limit and the
// supervision rules.
type Rules struct {
	RegionCode  string // the calendar's region ("default" for the default calendar)
	Calendar    *worktime.Calendar
	StageLimits map[string]worktime.Limit // complete
	Supervision []Rule
}

// BuiltinRules are the rules used before any calendar is stored: the default settings with
// the national holidays of 2026, the default limits and rules.
func BuiltinRules() Rules {
	cal, err := worktime.New(DefaultSettings().config(worktime.ChinaHolidays2026()))
	if err != nil {
		panic("calendar: the built-in calendar is invalid: " + err.Error())
	}
	return Rules{RegionCode: DefaultRegion, Calendar: cal, StageLimits: DefaultStageLimits(), Supervision: DefaultRules()}
}

// ValidateStageLimits checks a city's stage limits (fields "stage_limits.<stage>[.unit|value|minutes]").
func ValidateStageLimits(in map[string]worktime.Limit) error {
	var fe errs.Fields
	for _, st := range sortedKeys(in) {
		field := "stage_limits." + st
		if !slices.Contains(LimitStages, st) {
			if st == StageHandle {
				fe.Add(field, "stage", "the handling limit comes from the case's category (处置时限), not from the calendar")
			} else {
				fe.Add(field, "stage", "stage must be one of %s", strings.Join(LimitStages, ", "))
			}
			continue
		}
		prefixed(&fe, field, in[st].Validate())
	}
	return fe.Err()
}

// ValidateRules checks supervision rules (fields "rules[i].stage|trigger|after|level").
func ValidateRules(in []Rule) error {
	var fe errs.Fields
	if len(in) > MaxRules {
		fe.Add("rules", "max", "at most %d rules", MaxRules)
	}
	seen := map[string]int{}
	for i, r := range in {
		field := fmt.Sprintf("rules[%d]", i)
		if !slices.Contains(RuleStages, r.Stage) {
			fe.Add(field+".stage", "enum", "stage must be sign or handle: a supervision asks the lead department for a reply")
		}
		if !r.Level.Valid() {
			fe.Add(field+".level", "enum", "level must be normal, yellow or red")
		}
		switch r.Trigger {
		case Elapsed:
			prefixed(&fe, field+".after", r.After.Validate())
		case Overdue:
			if r.After != (worktime.Limit{}) {
				fe.Add(field+".after", "overdue", "an overdue rule fires at the stage's deadline and takes no after")
			}
		default:
			fe.Add(field+".trigger", "enum", "trigger must be elapsed or overdue")
		}
		key := r.String()
		if j, dup := seen[key]; dup {
			fe.Add(field, "duplicate", "the same rule as rules[%d]", j)
		} else {
			seen[key] = i
		}
	}
	return fe.Err()
}

// prefixed copies the field errors of err under prefix ("unit" → "stage_limits.sign.unit").
func prefixed(fe *errs.Fields, prefix string, err error) {
	if err == nil {
		return
	}
	e, ok := errs.As(err)
	if !ok {
		fe.Add(prefix, "invalid", "%v", err)
		return
	}
	for _, f := range e.Fields {
		*fe = append(*fe, errs.FieldError{Field: prefix + "." + f.Field, Rule: f.Rule, Message: f.Message})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
