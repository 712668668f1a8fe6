package stats

import (
	"github.com/gridcase/gridcase/internal/casework"
)

// Kind says how a column's value reads.
type Kind string

// The kinds.
const (
	Count    Kind = "count"    // a whole number
	Rate     Kind = "rate"     // a fraction, shown as a percentage
	Hours    Kind = "hours"    // hours with two decimals
	Multiple Kind = "multiple" // a plain number with two decimals
	Score    Kind = "score"    // an average satisfaction, 1–5
)

// Column is one figure of a table as it is shown and exported.
type Column struct {
	ID    string // the JSON name of the figure ("stage_hours.accept" for a stage's time)
	ZH    string // the Chinese header (the default of the exports)
	EN    string
	Kind  Kind
	Value func(Row) (float64, bool) // false: no value (a rate without a base)
}

func count(id, zh, en string, v func(Row) int) Column {
	return Column{ID: id, ZH: zh, EN: en, Kind: Count, Value: func(r Row) (float64, bool) { return float64(v(r)), true }}
}

func optional(id, zh, en string, k Kind, v func(Row) *float64) Column {
	return Column{ID: id, ZH: zh, EN: en, Kind: k, Value: func(r Row) (float64, bool) {
		if p := v(r); p != nil {
			return *p, true
		}
		return 0, false
	}}
}

func stageColumn(st casework.Stage, zh, en string) Column {
	return Column{ID: "stage_hours." + string(st), ZH: zh, EN: en, Kind: Hours, Value: func(r Row) (float64, bool) {
		t, ok := r.Stages[st]
		return t.AvgHours, ok
	}}
}

// The columns, by name.
var (
	colReported     = count("reported", "上报数", "Reported", func(r Row) int { return r.Reported })
	colFiled        = count("filed", "立案数", "Filed", func(r Row) int { return r.Filed })
	colDispatched   = count("dispatched", "派遣数", "Dispatched", func(r Row) int { return r.Dispatched })
	colReturned     = count("returned", "回退数", "Returned", func(r Row) int { return r.Returned })
	colReworked     = count("reworked", "返工数", "Reworked", func(r Row) int { return r.Reworked })
	colClosed       = count("closed", "结案数", "Closed", func(r Row) int { return r.Closed })
	colClosedOnTime = count("closed_on_time", "按期结案数", "Closed on time", func(r Row) int { return r.ClosedOnTime })
	colDue          = count("due", "应结案数", "Due", func(r Row) int { return r.Due })
	colSuspended    = count("suspended", "挂账数", "Suspended", func(r Row) int { return r.Suspended })
	colClosedDisp   = count("closed_dispatched", "派遣结案数", "Closed after dispatch", func(r Row) int { return r.ClosedDispatched })
	colAccurate     = count("accurately_dispatched", "准确派遣数", "Accurately dispatched", func(r Row) int { return r.AccuratelyDispatched })
	colOnTimeRate   = optional("on_time_closure_rate", "按期结案率", "On-time closure rate", Rate, func(r Row) *float64 { return r.OnTimeClosureRate })
	colClosureRate  = optional("closure_rate", "结案率", "Closure rate", Rate, func(r Row) *float64 { return r.ClosureRate })
	colReworkRate   = optional("rework_rate", "返工率", "Rework rate", Rate, func(r Row) *float64 { return r.ReworkRate })
	colAccurateRate = optional("accurate_dispatch_rate", "准确派遣率", "Accurate dispatch rate", Rate, func(r Row) *float64 { return r.AccurateDispatchRate })
	colReturnRate   = optional("return_rate", "回退率", "Return rate", Rate, func(r Row) *float64 { return r.ReturnRate })
	colHandling     = optional("avg_handling_hours", "平均处置时长(小时)", "Average handling time (h)", Hours, func(r Row) *float64 { return r.AvgHandlingHours })
	colOverdue      = count("overdue_count", "超期数", "Overdue stages", func(r Row) int { return r.OverdueCount })
	colMultiple     = optional("overtime_multiple", "超时倍数", "Overtime multiple", Multiple, func(r Row) *float64 { return r.OvertimeMultiple })
	colEvaluations  = count("evaluations", "评价数", "Evaluations", func(r Row) int { return r.Evaluations })
	colSatisfied    = count("satisfied", "满意数", "Satisfied", func(r Row) int { return r.Satisfied })
	colSatRate      = optional("satisfaction_rate", "满意率", "Satisfaction rate", Rate, func(r Row) *float64 { return r.SatisfactionRate })
	colAvgSat       = optional("avg_satisfaction", "平均满意度", "Average satisfaction", Score, func(r Row) *float64 { return r.AvgSatisfaction })
	colSelfHandled  = count("self_handled", "自行处置数", "Self-handled", func(r Row) int { return r.SelfHandled })
	colMissed       = count("missed_reports", "漏报数", "Missed reports", func(r Row) int { return r.MissedReports })
	colReports      = count("reports", "上报数", "Reports", func(r Row) int { return r.Reports })
	colValid        = count("valid_reports", "有效上报数", "Valid reports", func(r Row) int { return r.ValidReports })
	colValidRate    = optional("valid_report_rate", "有效上报率", "Valid-report rate", Rate, func(r Row) *float64 { return r.ValidReportRate })
	colVerifies     = count("verifies", "核实数", "Verifications", func(r Row) int { return r.Verifies })
	colVerifiesOK   = count("verifies_on_time", "按时核实数", "Verified on time", func(r Row) int { return r.VerifiesOnTime })
	colVerifyRate   = optional("on_time_verify_rate", "按时核实率", "On-time verification rate", Rate, func(r Row) *float64 { return r.OnTimeVerifyRate })
	colChecks       = count("checks", "核查数", "Checks", func(r Row) int { return r.Checks })
	colChecksOK     = count("checks_on_time", "按时核查数", "Checked on time", func(r Row) int { return r.ChecksOnTime })
	colCheckRate    = optional("on_time_check_rate", "按时核查率", "On-time check rate", Rate, func(r Row) *float64 { return r.OnTimeCheckRate })

	colStage = map[casework.Stage]Column{
		casework.StageAccept:   stageColumn(casework.StageAccept, "平均受理时长(小时)", "Average accept time (h)"),
		casework.StageVerify:   stageColumn(casework.StageVerify, "平均核实时长(小时)", "Average verify time (h)"),
		casework.StageDispatch: stageColumn(casework.StageDispatch, "平均派遣时长(小时)", "Average dispatch time (h)"),
		casework.StageSign:     stageColumn(casework.StageSign, "平均签收时长(小时)", "Average sign time (h)"),
		casework.StageHandle:   stageColumn(casework.StageHandle, "平均处置环节时长(小时)", "Average handle-stage time (h)"),
		casework.StageCheck:    stageColumn(casework.StageCheck, "平均核查时长(小时)", "Average check time (h)"),
		casework.StageClose:    stageColumn(casework.StageClose, "平均结案时长(小时)", "Average close time (h)"),
	}
)

// ColumnsFor lists the figures that apply to a grouping, in display order. Figures not listed
// are zero (or absent) in its rows: a department has no reports, a grid worker no closures.
func ColumnsFor(g Grouping) []Column {
	switch g {
	case ByDepartment:
		return []Column{colDispatched, colReturned, colReworked, colClosed, colClosedOnTime, colDue, colSuspended,
			colClosedDisp, colAccurate, colOnTimeRate, colClosureRate, colReworkRate, colAccurateRate, colReturnRate,
			colHandling, colStage[casework.StageSign], colStage[casework.StageHandle], colOverdue, colMultiple,
			colEvaluations, colSatisfied, colSatRate, colAvgSat}
	case ByWorker:
		return []Column{colReports, colValid, colValidRate, colVerifies, colVerifiesOK, colVerifyRate,
			colChecks, colChecksOK, colCheckRate, colStage[casework.StageVerify], colStage[casework.StageCheck],
			colOverdue, colMultiple, colSelfHandled, colMissed}
	}
	cols := []Column{colReported, colFiled, colDispatched, colReturned, colReworked, colClosed, colClosedOnTime, colDue,
		colSuspended, colClosedDisp, colAccurate, colOnTimeRate, colClosureRate, colReworkRate, colAccurateRate,
		colReturnRate, colHandling}
	for _, st := range Stages {
		cols = append(cols, colStage[st])
	}
	return append(cols, colOverdue, colMultiple, colEvaluations, colSatisfied, colSatRate, colAvgSat,
		colSelfHandled, colMissed)
}

// KeyHeaders are the headers of a grouping's key and name columns.
func KeyHeaders(g Grouping, lang string) (key, name string) {
	zh := map[Grouping][2]string{
		ByRegion: {"区域代码", "区域"}, ByDepartment: {"部门编号", "部门"}, ByGrid: {"网格编码", "网格"},
		ByWorker: {"用户编号", "网格员"}, ByCategory: {"类别代码", "类别"},
	}
	en := map[Grouping][2]string{
		ByRegion: {"Region code", "Region"}, ByDepartment: {"Department id", "Department"}, ByGrid: {"Grid code", "Grid"},
		ByWorker: {"User id", "Grid worker"}, ByCategory: {"Category code", "Category"},
	}
	h := zh[g]
	if lang == "en" {
		h = en[g]
	}
	return h[0], h[1]
}

// NoKeyName names the row without a key (unplaced cases, no category) and the total row.
func NoKeyName(g Grouping, lang string) (none, total string) {
	if lang == "en" {
		if g == ByCategory {
			return "(no category)", "Total"
		}
		return "(unplaced)", "Total"
	}
	if g == ByCategory {
		return "(未分类)", "合计"
	}
	return "(未定位)", "合计"
}
