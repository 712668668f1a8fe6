package stats

import (
	"slices"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/identity"
)

// Grouping is what the rows of a table are.
type Grouping string

// The groupings.
const (
	ByRegion     Grouping = "region"     // regions at one level of a subtree (街道, 社区 …)
	ByDepartment Grouping = "department" // handling departments (职能部门)
	ByGrid       Grouping = "grid"       // grids (网格)
	ByWorker     Grouping = "worker"     // grid workers (网格员)
	ByCategory   Grouping = "category"   // categories (小类, or 大类 with level major)
)

// Groupings lists the groupings in the order the API documents them.
var Groupings = []Grouping{ByRegion, ByDepartment, ByGrid, ByWorker, ByCategory}

// Valid reports whether g is a known grouping.
func (g Grouping) Valid() bool { return slices.Contains(Groupings, g) }

// caseKeyed reports whether the rows of g are a property of the case itself (its place or
// category), so that every figure of a case lands in exactly one row.
func (g Grouping) caseKeyed() bool { return g == ByRegion || g == ByGrid || g == ByCategory }

// Category levels for the category grouping.
const (
	CategoryMinor = "minor" // 小类: E0101
	CategoryMajor = "major" // 大类: E01
)

// Query asks for one table. Dates are YYYY-MM-DD in the city's zone; both are included.
type Query struct {
	Grouping Grouping
	From, To string // default: the current month
	// RegionCode narrows to a subtree; default the caller's scope root (everything for admin).
	RegionCode string
	// Level: for the region grouping district|street|community|grid (default: one below the
	// root); for the category grouping minor|major (default minor).
	Level string
}

// Table is the answer to a Query.
type Table struct {
	Grouping   Grouping
	Level      string
	From, To   string    // the dates, both included
	Start, End time.Time // the period as instants: [Start, End)
	Zone       string
	RegionCode string // "" for everything
	RegionName string
	Columns    []Column // the figures that apply to the grouping, in display order
	Rows       []Row    // ordered by key (or name), never by a figure
	Total      Row      // the figures over every row's cases, each case counted once
	// GeneratedAt is when the table was computed; a period that has not ended yet can change.
	GeneratedAt time.Time
}

// Row is the figures of one group. Counts are of distinct cases unless said otherwise; a rate
// is nil when its base is zero.
type Row struct {
	Key  string // region or grid code, department or user id, category code; "" for none
	Name string

	Reported     int // 上报数: report events
	Filed        int // 立案数: accept or self_handle events
	Dispatched   int // 派遣数: dispatch events
	Returned     int // 回退数: return events
	Reworked     int // 返工数: failed checks
	Closed       int // 结案数: close or self_handle events
	ClosedOnTime int // 按期结案数
	Due          int // 应结案数
	Suspended    int // 挂账数 (of the filed, or for a department of the dispatched)
	// ClosedDispatched are the closed cases that had been dispatched; AccuratelyDispatched
	// those of them never returned nor dispatched to a second department (准确派遣数).
	ClosedDispatched     int
	AccuratelyDispatched int
	SelfHandled          int // 自行处置数
	MissedReports        int // 漏报数

	OnTimeClosureRate    *float64 // 按期结案率 = ClosedOnTime ÷ Due
	ClosureRate          *float64 // 结案率 = Closed ÷ (Filed − Suspended); department: Dispatched − Suspended
	ReworkRate           *float64 // 返工率 = Reworked ÷ Filed; department: ÷ Dispatched
	AccurateDispatchRate *float64 // 准确派遣率 = AccuratelyDispatched ÷ ClosedDispatched
	ReturnRate           *float64 // 回退率 = Returned ÷ Dispatched

	HandlingRounds   int      // feedback events (处置反馈) whose time is averaged
	AvgHandlingHours *float64 // 平均处置时长: dispatch (or rework) to feedback
	// Stages is the average time spent in each stage, from the events that left it.
	Stages map[casework.Stage]StageTime

	OverdueCount     int      // 超期数: stages left past their deadline (events)
	OvertimeMultiple *float64 // 超时倍数: (used − limit) ÷ limit, averaged over OverdueCount

	Evaluations      int      // 评价数
	Satisfied        int      // evaluations of 4 or 5
	SatisfactionRate *float64 // 满意率 = Satisfied ÷ Evaluations
	AvgSatisfaction  *float64 // 平均满意度 (1–5)

	Reports          int      // 上报数 by grid workers
	ValidReports     int      // 有效上报数: grid workers' reports filed
	ValidReportRate  *float64 // 有效上报率 = ValidReports ÷ Reports
	Verifies         int      // 核实数
	VerifiesOnTime   int
	OnTimeVerifyRate *float64 // 按时核实率
	Checks           int      // 核查数
	ChecksOnTime     int
	OnTimeCheckRate  *float64 // 按时核查率
}

// StageTime is the time spent in one stage over the events that left it.
type StageTime struct {
	Count    int
	AvgHours float64
}

// Event is one entry of a case's log, as statistics read it.
type Event struct {
	Seq          int
	Action       casework.Action
	From, To     casework.State
	Stage        casework.Stage // the stage the event left, "" when none
	ActorUserID  int64
	ActorRole    identity.Role
	DepartmentID int64 // target_department_id
	TimeUsed     int64 // seconds in the stage left
	Overdue      bool  // the stage left was past its deadline
	At           time.Time

	// From the event's data: the handling deadline and limit it set (dispatch, rework, and any
	// later event that moves the deadline), and an evaluation's satisfaction.
	HandleDeadline *time.Time
	HandleLimit    string
	Satisfaction   int
}

// History is one case's place, category and log up to the end of a period, in order.
type History struct {
	CaseID       int64
	RegionPath   string // the grid's path, "" when unplaced
	GridCode     string
	CategoryCode string
	Source       casework.Source
	Events       []Event
}

// Scan selects the histories a table needs: every case with an event in [From, To), and every
// case whose recorded handling deadline falls in [DeadlineFrom, DeadlineTo) (a case can be due
// without anyone touching it), each read up to To. The other fields narrow the cases.
type Scan struct {
	From, To                 time.Time
	DeadlineFrom, DeadlineTo time.Time // zero: no deadline search

	// RegionPath: cases placed in the subtree, or unplaced and held by a desk in it; "" for all.
	RegionPath string
	// DepartmentID: only cases with an event that targeted the department.
	DepartmentID int64
	// WorkerID and GridCodes: only cases in these grids or with an event by the worker.
	WorkerID  int64
	GridCodes []string
}

// Worker is a grid worker and the grids they patrol now.
type Worker struct {
	ID     int64
	Name   string
	Active bool
	Grids  []string
}
