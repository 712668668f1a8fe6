package httpapi

import (
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/stats"
)

func (s *Server) registerStats(r *gin.RouterGroup) {
	r.GET("/stats/:grouping", s.requireAuth, s.statsTable)
	r.GET("/stats/:grouping/export", s.requireAuth, s.statsExport)
}

// StatsTable is an assessment table (考核统计): one row per region, department, grid, grid
// worker or category, computed from the case event log for a period. docs/assessment.md
// defines every figure.
type StatsTable struct {
	Grouping string `json:"grouping" enums:"region,department,grid,worker,category" example:"region"`
	// Level is the region level of the rows (region grouping) or minor|major (category).
	Level string `json:"level,omitempty" example:"street"`
	// From and To are the period's first and last days, both included, in TimeZone.
	From     string    `json:"from" example:"2026-03-01"`
	To       string    `json:"to" example:"2026-03-31"`
	Start    time.Time `json:"start" example:"2026-02-28T16:00:00Z"` // the period as instants: [start, end)
	End      time.Time `json:"end" example:"2026-03-31T16:00:00Z"`
	TimeZone string    `json:"time_zone" example:"Asia/Shanghai"`
	// RegionCode is the subtree the table covers; absent for everything.
	RegionCode string `json:"region_code,omitempty" example:"320613"`
	RegionName string `json:"region_name,omitempty" example:"崇川区"`
	// Columns are the figures that apply to this grouping, in display order (the exports'
	// columns); the rows' other figures are zero or absent.
	Columns []StatsColumn `json:"columns"`
	// Rows are ordered by code or name, never by a figure.
	Rows []StatsRow `json:"rows"`
	// Total counts each case once, even when it appears in several rows (a case dispatched to
	// two departments).
	Total       StatsRow  `json:"total"`
	GeneratedAt time.Time `json:"generated_at" example:"2026-04-01T01:00:00Z"`
} //	@name	StatsTable

// StatsColumn names a figure for display.
type StatsColumn struct {
	ID   string `json:"id" example:"on_time_closure_rate"` // the row field; stage_hours.<stage> for a stage's time
	Name string `json:"name" example:"按期结案率"`
	// NameEN is the English header.
	NameEN string `json:"name_en" example:"On-time closure rate"`
	Kind   string `json:"kind" enums:"count,rate,hours,multiple,score" example:"rate"`
} //	@name	StatsColumn

// StatsRow is the figures of one group. Counts are of distinct cases with the event in the
// period; rates are fractions (0.8333 = 83.33 %) and absent when their base is zero.
type StatsRow struct {
	// Key is the region or grid code, department or user id, or category code; "" for the
	// cases without one (unplaced, uncategorised) and for the total.
	Key  string `json:"key" example:"320613001"`
	Name string `json:"name" example:"和平桥街道"`

	Reported             int `json:"reported" example:"120"`             // 上报数
	Filed                int `json:"filed" example:"100"`                // 立案数
	Dispatched           int `json:"dispatched" example:"90"`            // 派遣数
	Returned             int `json:"returned" example:"4"`               // 回退数
	Reworked             int `json:"reworked" example:"3"`               // 返工数
	Closed               int `json:"closed" example:"85"`                // 结案数
	ClosedOnTime         int `json:"closed_on_time" example:"80"`        // 按期结案数
	Due                  int `json:"due" example:"88"`                   // 应结案数
	Suspended            int `json:"suspended" example:"1"`              // 挂账数
	ClosedDispatched     int `json:"closed_dispatched" example:"70"`     // closed cases that had been dispatched
	AccuratelyDispatched int `json:"accurately_dispatched" example:"66"` // 准确派遣数
	SelfHandled          int `json:"self_handled" example:"15"`          // 自行处置数
	MissedReports        int `json:"missed_reports" example:"2"`         // 漏报数
	Reports              int `json:"reports" example:"60"`               // grid workers' reports
	ValidReports         int `json:"valid_reports" example:"55"`         // 有效上报数
	Verifies             int `json:"verifies" example:"10"`              // 核实数
	VerifiesOnTime       int `json:"verifies_on_time" example:"9"`       // 按时核实数
	Checks               int `json:"checks" example:"70"`                // 核查数
	ChecksOnTime         int `json:"checks_on_time" example:"68"`        // 按时核查数
	HandlingRounds       int `json:"handling_rounds" example:"75"`       // feedbacks averaged in avg_handling_hours
	OverdueCount         int `json:"overdue_count" example:"6"`          // 超期数 (stages)
	Evaluations          int `json:"evaluations" example:"40"`           // 评价数
	Satisfied            int `json:"satisfied" example:"36"`             // evaluations of 4 or 5

	OnTimeClosureRate    *float64 `json:"on_time_closure_rate,omitempty" example:"0.9091"`   // 按期结案率
	ClosureRate          *float64 `json:"closure_rate,omitempty" example:"0.8586"`           // 结案率
	ReworkRate           *float64 `json:"rework_rate,omitempty" example:"0.03"`              // 返工率
	AccurateDispatchRate *float64 `json:"accurate_dispatch_rate,omitempty" example:"0.9429"` // 准确派遣率
	ReturnRate           *float64 `json:"return_rate,omitempty" example:"0.0444"`            // 回退率
	AvgHandlingHours     *float64 `json:"avg_handling_hours,omitempty" example:"18.5"`       // 平均处置时长(小时)
	OvertimeMultiple     *float64 `json:"overtime_multiple,omitempty" example:"0.42"`        // 超时倍数
	SatisfactionRate     *float64 `json:"satisfaction_rate,omitempty" example:"0.9"`         // 满意率
	AvgSatisfaction      *float64 `json:"avg_satisfaction,omitempty" example:"4.45"`         // 平均满意度 (1–5)
	ValidReportRate      *float64 `json:"valid_report_rate,omitempty" example:"0.9167"`      // 有效上报率
	OnTimeVerifyRate     *float64 `json:"on_time_verify_rate,omitempty" example:"0.9"`       // 按时核实率
	OnTimeCheckRate      *float64 `json:"on_time_check_rate,omitempty" example:"0.9714"`     // 按时核查率

	// StageHours is the average time in each stage, over the events that left it in the period.
	StageHours StatsStageHours `json:"stage_hours"`
} //	@name	StatsRow

// StatsStageHours is the average time (hours) spent in each stage; a stage nobody left in the
// period is absent.
type StatsStageHours struct {
	Accept   *StatsStage `json:"accept,omitempty"`   // 受理
	Verify   *StatsStage `json:"verify,omitempty"`   // 核实
	Dispatch *StatsStage `json:"dispatch,omitempty"` // 派遣
	Sign     *StatsStage `json:"sign,omitempty"`     // 签收
	Handle   *StatsStage `json:"handle,omitempty"`   // 处置 (from signing, or from a rework, to the feedback)
	Check    *StatsStage `json:"check,omitempty"`    // 核查
	Close    *StatsStage `json:"close,omitempty"`    // 结案
} //	@name	StatsStageHours

// StatsStage is the time spent in one stage.
type StatsStage struct {
	Count    int     `json:"count" example:"85"` // events that left the stage in the period
	AvgHours float64 `json:"avg_hours" example:"0.21"`
} //	@name	StatsStage

// statsTable godoc
//
//	@Summary		Assessment statistics (考核统计)
//	@Description	One row per region (at a level of the subtree), department, grid, grid worker or category, for a period of days in the city's time zone (default: this month), computed from the case event log; docs/assessment.md defines every figure. Scope: admins everything; dispatchers and supervisors their subtree; a handler only its department's row (grouping department); a grid worker only their own row (grouping worker): there is no ranking of grid workers for grid workers. API keys need cases:read and do not get the worker grouping.
//	@ID				getStats
//	@Tags			stats
//	@Produce		json
//	@Security		BearerAuth
//	@Param			grouping	path		string	true	"what the rows are"	Enums(region, department, grid, worker, category)
//	@Param			from		query		string	false	"first day, YYYY-MM-DD (default: the first of this month)"
//	@Param			to			query		string	false	"last day, included (default: the end of from's month)"
//	@Param			region		query		string	false	"region subtree (default: your scope)"
//	@Param			level		query		string	false	"region grouping: district|street|community|grid (default one below the region); category grouping: minor|major"
//	@Success		200			{object}	StatsTable
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/stats/{grouping} [get]
func (s *Server) statsTable(c *gin.Context) {
	t, err := s.Stats.Table(c.Request.Context(), mustPrincipal(c), statsQuery(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, statsTableDTO(t))
}

func statsQuery(c *gin.Context) stats.Query {
	return stats.Query{Grouping: stats.Grouping(c.Param("grouping")), From: c.Query("from"), To: c.Query("to"),
		RegionCode: c.Query("region"), Level: c.Query("level")}
}

func statsTableDTO(t stats.Table) StatsTable {
	out := StatsTable{Grouping: string(t.Grouping), Level: t.Level, From: t.From, To: t.To, Start: t.Start.UTC(), End: t.End.UTC(),
		TimeZone: t.Zone, RegionCode: t.RegionCode, RegionName: t.RegionName, Rows: make([]StatsRow, len(t.Rows)),
		Total: statsRowDTO(t.Total), GeneratedAt: t.GeneratedAt, Columns: make([]StatsColumn, len(t.Columns))}
	for i, col := range t.Columns {
		out.Columns[i] = StatsColumn{ID: col.ID, Name: col.ZH, NameEN: col.EN, Kind: string(col.Kind)}
	}
	for i, r := range t.Rows {
		out.Rows[i] = statsRowDTO(r)
	}
	return out
}

func statsRowDTO(r stats.Row) StatsRow {
	return StatsRow{
		Key: r.Key, Name: r.Name, Reported: r.Reported, Filed: r.Filed, Dispatched: r.Dispatched, Returned: r.Returned,
		Reworked: r.Reworked, Closed: r.Closed, ClosedOnTime: r.ClosedOnTime, Due: r.Due, Suspended: r.Suspended,
		ClosedDispatched: r.ClosedDispatched, AccuratelyDispatched: r.AccuratelyDispatched, SelfHandled: r.SelfHandled,
		MissedReports: r.MissedReports, Reports: r.Reports, ValidReports: r.ValidReports, Verifies: r.Verifies,
		VerifiesOnTime: r.VerifiesOnTime, Checks: r.Checks, ChecksOnTime: r.ChecksOnTime, HandlingRounds: r.HandlingRounds,
		OverdueCount: r.OverdueCount, Evaluations: r.Evaluations, Satisfied: r.Satisfied,
		OnTimeClosureRate: roundTo(r.OnTimeClosureRate, 4), ClosureRate: roundTo(r.ClosureRate, 4), ReworkRate: roundTo(r.ReworkRate, 4),
		AccurateDispatchRate: roundTo(r.AccurateDispatchRate, 4), ReturnRate: roundTo(r.ReturnRate, 4),
		AvgHandlingHours: roundTo(r.AvgHandlingHours, 2), OvertimeMultiple: roundTo(r.OvertimeMultiple, 2),
		SatisfactionRate: roundTo(r.SatisfactionRate, 4), AvgSatisfaction: roundTo(r.AvgSatisfaction, 2),
		ValidReportRate: roundTo(r.ValidReportRate, 4), OnTimeVerifyRate: roundTo(r.OnTimeVerifyRate, 4),
		OnTimeCheckRate: roundTo(r.OnTimeCheckRate, 4),
		StageHours: StatsStageHours{
			Accept: stageDTO(r, casework.StageAccept), Verify: stageDTO(r, casework.StageVerify),
			Dispatch: stageDTO(r, casework.StageDispatch), Sign: stageDTO(r, casework.StageSign),
			Handle: stageDTO(r, casework.StageHandle), Check: stageDTO(r, casework.StageCheck), Close: stageDTO(r, casework.StageClose),
		},
	}
}

func stageDTO(r stats.Row, st casework.Stage) *StatsStage {
	t, ok := r.Stages[st]
	if !ok {
		return nil
	}
	return &StatsStage{Count: t.Count, AvgHours: math.Round(t.AvgHours*100) / 100}
}

// roundTo keeps d decimals of an optional figure.
func roundTo(v *float64, d int) *float64 {
	if v == nil {
		return nil
	}
	p := math.Pow(10, float64(d))
	r := math.Round(*v*p) / p
	return &r
}
