package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// registerCalendars mounts /calendars/*: any signed-in caller reads, admins write.
func (s *Server) registerCalendars(r *gin.RouterGroup) {
	r.GET("/calendars", s.requireAuth, s.listCalendars)
	r.GET("/calendars/:region_code", s.requireAuth, s.getCalendar)
	r.PUT("/calendars/:region_code", s.requireAuth, s.putCalendar)
	r.GET("/calendars/:region_code/exceptions", s.requireAuth, s.calendarExceptions)
	r.PUT("/calendars/:region_code/exceptions/:year", s.requireAuth, s.putCalendarExceptions)
	r.GET("/calendars/:region_code/stage-limits", s.requireAuth, s.stageLimits)
	r.PUT("/calendars/:region_code/stage-limits", s.requireAuth, s.putStageLimits)
	r.GET("/calendars/:region_code/supervision-rules", s.requireAuth, s.supervisionRules)
	r.PUT("/calendars/:region_code/supervision-rules", s.requireAuth, s.putSupervisionRules)
}

// ---- DTOs ----

// Calendar is a work calendar (工作日历) with the stage limits and supervision rules in force.
type Calendar struct {
	// RegionCode is the region (normally the city) whose cases follow it, or "default".
	RegionCode string `json:"region_code" example:"320600"`
	Zone       string `json:"zone" example:"Asia/Shanghai"`
	// Windows are the daily work windows, sorted.
	Windows []string `json:"windows" example:"08:30-12:00,13:30-17:30"`
	// Weekend are the weekly days off: 0 = Sunday … 6 = Saturday.
	Weekend          []int `json:"weekend" example:"0,6"`
	DailyWorkMinutes int   `json:"daily_work_minutes" example:"450"` // one work day
	// StageLimits are every stage's limit in force (the city's or the default).
	StageLimits map[string]TimeLimit `json:"stage_limits"`
	// SupervisionRules are the automatic supervision rules in force.
	SupervisionRules []SupervisionRule `json:"supervision_rules"`
	Version          int64             `json:"version" example:"3"`
	UpdatedAt        time.Time         `json:"updated_at"`
} //	@name	Calendar

// CalendarList lists the calendars, the default first.
type CalendarList struct {
	Items []Calendar `json:"items"`
} //	@name	CalendarList

// PutCalendarRequest sets a calendar's week.
type PutCalendarRequest struct {
	Zone    string   `json:"zone" example:"Asia/Shanghai"`              // IANA zone; default Asia/Shanghai
	Windows []string `json:"windows" example:"08:30-12:00,13:30-17:30"` // HH:MM-HH:MM, not overlapping
	Weekend []int    `json:"weekend" example:"0,6"`                     // 0 = Sunday … 6 = Saturday; [] for none
} //	@name	PutCalendarRequest

// CalendarException is one dated row of the holiday table.
type CalendarException struct {
	Date string `json:"date" example:"2026-02-16"` // YYYY-MM-DD in the calendar's zone
	// holiday: a day off even on a weekday (节假日); workday: a weekend day that is worked (调休上班).
	Kind string `json:"kind" enums:"holiday,workday" example:"holiday"`
	Name string `json:"name" example:"春节"`
} //	@name	CalendarException

// CalendarExceptions is a year's table of holidays and make-up workdays.
type CalendarExceptions struct {
	RegionCode string              `json:"region_code" example:"320600"`
	Year       int                 `json:"year" example:"2026"`
	Exceptions []CalendarException `json:"exceptions"`
} //	@name	CalendarExceptions

// PutCalendarExceptionsRequest replaces a year's table.
type PutCalendarExceptionsRequest struct {
	Exceptions []CalendarException `json:"exceptions"`
} //	@name	PutCalendarExceptionsRequest

// StageLimits are a city's stage limits (环节时限).
type StageLimits struct {
	RegionCode string `json:"region_code" example:"320600"`
	// StageLimits are the limits in force for accept, verify, dispatch, sign, check and close
	// (handling's comes from the category).
	StageLimits map[string]TimeLimit `json:"stage_limits"`
	Custom      []string             `json:"custom" example:"sign"` // the stages the city set itself
	Defaults    map[string]TimeLimit `json:"defaults"`
} //	@name	StageLimits

// PutStageLimitsRequest sets the stages a city overrides; the stages left out take the
// defaults.
type PutStageLimitsRequest struct {
	StageLimits map[string]TimeLimit `json:"stage_limits"`
} //	@name	PutStageLimitsRequest

// SupervisionRule raises a supervision (督办) on a case that stays too long in a stage.
type SupervisionRule struct {
	Stage string `json:"stage" enums:"sign,handle" example:"sign"`
	// elapsed: once after has run on the stage's clock (from the dispatch, pauses excluded);
	// overdue: when the stage's deadline passes.
	Trigger string     `json:"trigger" enums:"elapsed,overdue" example:"elapsed"`
	After   *TimeLimit `json:"after,omitempty"` // elapsed only
	Level   string     `json:"level" enums:"normal,yellow,red" example:"yellow"`
} //	@name	SupervisionRule

// SupervisionRules are a city's automatic supervision rules.
type SupervisionRules struct {
	RegionCode string            `json:"region_code" example:"320600"`
	Rules      []SupervisionRule `json:"rules"`  // in force
	Custom     bool              `json:"custom"` // false: the defaults apply
	Defaults   []SupervisionRule `json:"defaults"`
} //	@name	SupervisionRules

// PutSupervisionRulesRequest sets a city's rules: [] for none, null to go back to the defaults.
type PutSupervisionRulesRequest struct {
	Rules []SupervisionRule `json:"rules"`
} //	@name	PutSupervisionRulesRequest

func calendarDTO(c calendar.Calendar) Calendar {
	out := Calendar{RegionCode: c.RegionCode, Zone: c.Settings.Zone, Windows: []string{}, Weekend: []int{},
		StageLimits: limitsDTO(c.EffectiveLimits()), SupervisionRules: rulesDTO(c.EffectiveRules()), Version: c.Version, UpdatedAt: c.UpdatedAt}
	for _, w := range c.Settings.Windows {
		out.Windows = append(out.Windows, w.String())
		out.DailyWorkMinutes += int(w.Length() / time.Minute)
	}
	for _, d := range c.Settings.Weekend {
		out.Weekend = append(out.Weekend, int(d))
	}
	return out
}

func limitsDTO(m map[string]worktime.Limit) map[string]TimeLimit {
	out := make(map[string]TimeLimit, len(m))
	for k, l := range m {
		out[k] = timeLimitDTO(l)
	}
	return out
}

func rulesDTO(rs []calendar.Rule) []SupervisionRule {
	out := make([]SupervisionRule, len(rs))
	for i, r := range rs {
		out[i] = SupervisionRule{Stage: r.Stage, Trigger: string(r.Trigger), Level: string(r.Level)}
		if r.Trigger == calendar.Elapsed {
			l := timeLimitDTO(r.After)
			out[i].After = &l
		}
	}
	return out
}

func stageLimitsDTO(c calendar.Calendar) StageLimits {
	custom := make([]string, 0, len(c.StageLimits))
	for k := range c.StageLimits {
		custom = append(custom, k)
	}
	slices.Sort(custom)
	return StageLimits{RegionCode: c.RegionCode, StageLimits: limitsDTO(c.EffectiveLimits()), Custom: custom, Defaults: limitsDTO(calendar.DefaultStageLimits())}
}

func supervisionRulesDTO(c calendar.Calendar) SupervisionRules {
	return SupervisionRules{RegionCode: c.RegionCode, Rules: rulesDTO(c.EffectiveRules()), Custom: c.Rules != nil, Defaults: rulesDTO(calendar.DefaultRules())}
}

func exceptionsDTO(region string, year int, ex []worktime.Exception) CalendarExceptions {
	out := CalendarExceptions{RegionCode: region, Year: year, Exceptions: make([]CalendarException, len(ex))}
	for i, e := range ex {
		out.Exceptions[i] = CalendarException{Date: e.Date.String(), Kind: string(e.Kind), Name: e.Name}
	}
	return out
}

// settings reads the week of a PutCalendarRequest; unreadable windows are field errors.
func (in PutCalendarRequest) settings() (calendar.Settings, error) {
	var fe errs.Fields
	out := calendar.Settings{Zone: in.Zone}
	if in.Weekend != nil { // absent stays nil: the service asks for it
		out.Weekend = make([]time.Weekday, len(in.Weekend))
	}
	for i, w := range in.Windows {
		win, err := worktime.ParseWindow(w)
		if err != nil {
			fe.Add(fmt.Sprintf("windows[%d]", i), "format", "%q is not a window: write HH:MM-HH:MM, e.g. 08:30-12:00", w)
			continue
		}
		out.Windows = append(out.Windows, win)
	}
	if len(in.Windows) == 0 {
		fe.Add("windows", "required", "at least one work window is required (e.g. 08:30-12:00)")
	}
	for i, d := range in.Weekend {
		out.Weekend[i] = time.Weekday(d)
	}
	return out, fe.Err()
}

func (in PutCalendarExceptionsRequest) domain() ([]worktime.Exception, error) {
	var fe errs.Fields
	out := make([]worktime.Exception, 0, len(in.Exceptions))
	for i, e := range in.Exceptions {
		d, err := worktime.ParseDate(e.Date)
		if err != nil {
			fe.Add(fmt.Sprintf("exceptions[%d].date", i), "format", "%q is not a date: write YYYY-MM-DD", e.Date)
		}
		out = append(out, worktime.Exception{Date: d, Kind: worktime.Kind(e.Kind), Name: e.Name})
	}
	return out, fe.Err()
}

func (in PutStageLimitsRequest) domain() map[string]worktime.Limit {
	out := make(map[string]worktime.Limit, len(in.StageLimits))
	for k, l := range in.StageLimits {
		out[k] = l.domain()
	}
	return out
}

func (in PutSupervisionRulesRequest) domain() []calendar.Rule {
	if in.Rules == nil {
		return nil
	}
	out := make([]calendar.Rule, len(in.Rules))
	for i, r := range in.Rules {
		out[i] = calendar.Rule{Stage: r.Stage, Trigger: calendar.Trigger(r.Trigger), Level: calendar.Level(r.Level)}
		if r.After != nil {
			out[i].After = r.After.domain()
		}
	}
	return out
}

// ---- handlers ----

// listCalendars godoc
//
//	@Summary	List the work calendars
//	@ID			listCalendars
//	@Tags		calendars
//	@Produce	json
//	@Security	BearerAuth
//	@Success	200	{object}	CalendarList
//	@Failure	401	{object}	Problem
//	@Router		/api/v1/calendars [get]
func (s *Server) listCalendars(c *gin.Context) {
	cals, err := s.Calendars.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := CalendarList{Items: make([]Calendar, len(cals))}
	for i, x := range cals {
		out.Items[i] = calendarDTO(x)
	}
	c.JSON(http.StatusOK, out)
}

// getCalendar godoc
//
//	@Summary		Read a region's work calendar
//	@Description	A case follows the calendar of the nearest region above its grid that has one, else the "default" calendar.
//	@ID				getCalendar
//	@Tags			calendars
//	@Produce		json
//	@Security		BearerAuth
//	@Param			region_code	path		string	true	"region code (normally the city), or default"
//	@Success		200			{object}	Calendar
//	@Failure		401,404		{object}	Problem
//	@Router			/api/v1/calendars/{region_code} [get]
func (s *Server) getCalendar(c *gin.Context) {
	cal, err := s.Calendars.Get(c.Request.Context(), c.Param("region_code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, calendarDTO(cal))
}

// putCalendar godoc
//
//	@Summary		Set a region's work week (admin); creates the calendar
//	@Description	Sets the zone, work windows and weekend. A new calendar starts with a copy of the default calendar's holiday tables. Overlapping windows, a week without a workday, or a week that the stored holiday table contradicts (a make-up workday no longer on a weekend day) are 422 with one field error each.
//	@ID				putCalendar
//	@Tags			calendars
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			region_code	path		string				true	"region code (normally the city), or default"
//	@Param			body		body		PutCalendarRequest	true	"the week"
//	@Success		200			{object}	Calendar			"updated"
//	@Success		201			{object}	Calendar			"created"
//	@Failure		400,401,403,404,409,413,415,422	{object}	Problem
//	@Router			/api/v1/calendars/{region_code} [put]
func (s *Server) putCalendar(c *gin.Context) {
	var in PutCalendarRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	set, err := in.settings()
	if err != nil {
		s.fail(c, err)
		return
	}
	cal, created, err := s.Calendars.Put(c.Request.Context(), mustPrincipal(c), c.Param("region_code"), set)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, calendarDTO(cal))
}

// calendarExceptions godoc
//
//	@Summary	A year's holidays and make-up workdays (节假日与调休)
//	@ID			calendarExceptions
//	@Tags		calendars
//	@Produce	json
//	@Security	BearerAuth
//	@Param		region_code	path		string	true	"region code, or default"
//	@Param		year		query		int		false	"the year (default: this year in the calendar's zone)"
//	@Success	200			{object}	CalendarExceptions
//	@Failure	400,401,404,422	{object}	Problem
//	@Router		/api/v1/calendars/{region_code}/exceptions [get]
func (s *Server) calendarExceptions(c *gin.Context) {
	year := 0
	if q := c.Query("year"); q != "" {
		var err error
		if year, err = strconv.Atoi(q); err != nil {
			s.fail(c, errs.E(errs.BadRequest, "year must be a number such as 2026"))
			return
		}
	}
	ex, year, err := s.Calendars.Exceptions(c.Request.Context(), c.Param("region_code"), year)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, exceptionsDTO(c.Param("region_code"), year, ex))
}

// putCalendarExceptions godoc
//
//	@Summary		Replace a year's holidays and make-up workdays (admin)
//	@Description	The whole table of the year at once, as the State Council announces it (e.g. 春节 2026-02-15…23, worked 2026-02-14 and 02-28). Every date must be in the year; a repeated date, a make-up workday on a weekday, or a table that leaves the year without a workday is 422 with one field error each.
//	@ID				putCalendarExceptions
//	@Tags			calendars
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			region_code	path		string							true	"region code, or default"
//	@Param			year		path		int								true	"the year"
//	@Param			body		body		PutCalendarExceptionsRequest	true	"the year's table"
//	@Success		200			{object}	CalendarExceptions
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/calendars/{region_code}/exceptions/{year} [put]
func (s *Server) putCalendarExceptions(c *gin.Context) {
	year, err := strconv.Atoi(c.Param("year"))
	if err != nil {
		s.fail(c, errs.E(errs.BadRequest, "the year in the path must be a number such as 2026"))
		return
	}
	var in PutCalendarExceptionsRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	ex, err := in.domain()
	if err == nil {
		ex, err = s.Calendars.PutExceptions(c.Request.Context(), mustPrincipal(c), c.Param("region_code"), year, ex)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, exceptionsDTO(c.Param("region_code"), year, ex))
}

// stageLimits godoc
//
//	@Summary	A region's stage limits (环节时限)
//	@ID			stageLimits
//	@Tags		calendars
//	@Produce	json
//	@Security	BearerAuth
//	@Param		region_code	path		string	true	"region code, or default"
//	@Success	200			{object}	StageLimits
//	@Failure	401,404		{object}	Problem
//	@Router		/api/v1/calendars/{region_code}/stage-limits [get]
func (s *Server) stageLimits(c *gin.Context) {
	cal, err := s.Calendars.Get(c.Request.Context(), c.Param("region_code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, stageLimitsDTO(cal))
}

// putStageLimits godoc
//
//	@Summary		Set a region's stage limits (admin)
//	@Description	The limits of accept, verify, dispatch, sign, check and close (handling's comes from the category). Stages left out take the defaults; {} restores every default. A stage is given its deadline when it is entered, so a change applies to stages entered afterwards.
//	@ID				putStageLimits
//	@Tags			calendars
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			region_code	path		string					true	"region code, or default"
//	@Param			body		body		PutStageLimitsRequest	true	"the limits"
//	@Success		200			{object}	StageLimits
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/calendars/{region_code}/stage-limits [put]
func (s *Server) putStageLimits(c *gin.Context) {
	var in PutStageLimitsRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cal, err := s.Calendars.PutStageLimits(c.Request.Context(), mustPrincipal(c), c.Param("region_code"), in.domain())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, stageLimitsDTO(cal))
}

// supervisionRules godoc
//
//	@Summary	A region's automatic supervision rules (自动督办规则)
//	@ID			supervisionRules
//	@Tags		supervision
//	@Produce	json
//	@Security	BearerAuth
//	@Param		region_code	path		string	true	"region code, or default"
//	@Success	200			{object}	SupervisionRules
//	@Failure	401,404		{object}	Problem
//	@Router		/api/v1/calendars/{region_code}/supervision-rules [get]
func (s *Server) supervisionRules(c *gin.Context) {
	cal, err := s.Calendars.Get(c.Request.Context(), c.Param("region_code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, supervisionRulesDTO(cal))
}

// putSupervisionRules godoc
//
//	@Summary		Set a region's automatic supervision rules (admin)
//	@Description	E.g. not signed within 1 work day of the dispatch → yellow, within 2 → red; handling past its deadline → red. Rules watch the sign and handle stages (a supervision asks the lead department for a reply) and apply to stages entered after the change. [] switches automatic supervision off; null restores the defaults.
//	@ID				putSupervisionRules
//	@Tags			supervision
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			region_code	path		string						true	"region code, or default"
//	@Param			body		body		PutSupervisionRulesRequest	true	"the rules"
//	@Success		200			{object}	SupervisionRules
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/calendars/{region_code}/supervision-rules [put]
func (s *Server) putSupervisionRules(c *gin.Context) {
	var in PutSupervisionRulesRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cal, err := s.Calendars.PutRules(c.Request.Context(), mustPrincipal(c), c.Param("region_code"), in.domain())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, supervisionRulesDTO(cal))
}
