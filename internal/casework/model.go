package casework

import (
	"slices"
	"time"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/identity"
)

// Source is the channel a case came in by.
type Source string

// The sources.
const (
	SourceGridWorker Source = "grid_worker" // 网格员巡查上报
	SourceResident   Source = "resident"    // 群众举报
	SourceHotline    Source = "hotline"     // 12345 热线
	SourceVideo      Source = "video"       // 视频智能发现
	SourceIntegrator Source = "integrator"  // another system through the API
	SourceLeader     Source = "leader"      // 领导交办
)

// Sources lists the valid sources.
var Sources = []Source{SourceGridWorker, SourceResident, SourceHotline, SourceVideo, SourceIntegrator, SourceLeader}

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources, s) }

// Point is a WGS-84 position.
type Point struct {
	Lat, Lng float64
}

// Case is one case (案卷). Zero values stand for "none": CategoryCode "", GridCode "" (outside
// every grid), LeadDepartmentID 0 and so on.
type Case struct {
	ID      int64
	Number  string // human number, e.g. GC20260314-000123
	State   State
	Version int64 // optimistic concurrency: +1 on every change

	CategoryCode string
	Urgency      category.Urgency
	Description  string
	Address      string
	Point        *Point // WGS-84, nil when only an address was given
	OrigPoint    *Point // as sent, in OrigCoordSys
	OrigCoordSys string

	GridCode       string // the grid the point falls in, "" when outside every grid
	RegionPath     string // the grid's path ("/320600/…/<grid>/"), "" when unplaced
	DeskRegionCode string // whose desk holds the case
	DeskRegionPath string

	Source           Source
	ReporterUserID   int64
	ReporterAPIKeyID int64
	ExternalRef      string // the integrator's own id

	OccurredAt   time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FiledAt      *time.Time
	DispatchedAt *time.Time // the last (re)dispatch: the handling clock's start
	ClosedAt     *time.Time

	LeadDepartmentID int64
	CoHandlerIDs     []int64 // active co-handling departments (协办), sorted
	AssigneeUserID   int64   // the grid worker asked to verify or check
	DuplicateOf      int64
	SelfHandled      bool
	Verified         *bool

	ReworkCount int
	ReturnCount int
	ReopenCount int

	Stage          Stage
	StageStartedAt time.Time
	StageDeadline  *time.Time
	// StageWarnAt is when 80 % of the stage's limit is used: the light turns yellow (the
	// calendar's WarnAt for the same start and limit as StageDeadline); nil when no clock runs.
	StageWarnAt    *time.Time
	StageLimit     *category.Limit // the limit StageDeadline was computed from
	HandleDeadline *time.Time      // the handling limit's end, set at dispatch

	// The handling clock (docs/time-rules.md): the original limit of the current dispatch and
	// the extensions applied to it; the case's approved extensions (at most 2) and suspensions
	// (at most 1); a request waiting for a decision; the suspension's pause.
	HandleLimit       *category.Limit
	HandleExtensions  int
	Extensions        int
	ExtensionPending  bool
	Suspensions       int
	SuspensionPending bool
	SuspendedAt       *time.Time
	SuspendedUntil    *time.Time // the planned end
	ResumedAt         *time.Time
	// OpenSupervisions counts the supervisions (督办) waiting for the department's reply;
	// SupervisionLevel is the highest of them ("" when none).
	OpenSupervisions int
	SupervisionLevel string

	Satisfaction      *int
	EvaluationComment string
	EvaluatedAt       *time.Time

	DeletedAt *time.Time // tombstone for delta sync: cancelled or merged
}

// Visibility says who may read a comment.
type Visibility string

// The visibilities.
const (
	Internal Visibility = "internal" // staff only
	Public   Visibility = "public"   // also the reporter's channel (integrators, residents)
)

// Event is one immutable entry of a case's log (流转记录).
type Event struct {
	ID        int64
	CaseID    int64
	Seq       int // 1, 2, … per case
	Action    Action
	FromState State // "" for the report
	ToState   State
	Stage     Stage // the stage left by this action ("" when it left none)

	ActorUserID   int64
	ActorAPIKeyID int64
	ActorRole     identity.Role

	TargetDepartmentID int64
	TargetRegionCode   string
	TargetUserID       int64

	Note       string
	Reason     string
	Visibility Visibility
	Data       map[string]any // extras (co-handlers, result, satisfaction, attachment ids …)

	// AttachmentIDs are the photos that came with the action (read from the attachments, not
	// stored on the event).
	AttachmentIDs []int64

	TimeUsedSeconds int64 // time spent in the stage left
	Overdue         bool  // that stage was past its deadline
	CreatedAt       time.Time
}

// Similar is an open case of the same category near a new report (a duplicate suggestion).
type Similar struct {
	ID       int64
	Number   string
	State    State
	Distance float64 // metres
}

// Reach is a caller's data scope as a filter over cases (数据权限). A case is readable when any
// clause matches; All reads everything. The store turns it into SQL so that lists and single
// reads apply the same rule.
type Reach struct {
	All bool
	// RegionPaths: region_path or desk_region_path inside one of these subtrees.
	RegionPaths []string
	// GridCodes: grid_code is one of these.
	GridCodes []string
	// DepartmentID: the lead or a co-handler is (or was) this department, or an event targeted it.
	DepartmentID int64
	// UserID: reported by, or assigned to, this user.
	UserID int64
	// APIKeyID: reported through this key.
	APIKeyID int64
}

// ReachOf is p's data scope over cases:
//   - admin, or any ScopeAll user: everything;
//   - dispatcher, supervisor (ScopeRegion): cases whose grid, or whose desk, is in the subtree
//     (the desk clause keeps unplaced cases visible to the desk that holds them);
//   - handler (ScopeDepartment): cases their department leads or co-handles, now or before;
//   - grid worker (ScopeGrids): cases in their grids;
//   - every user also reads what they reported and what they are assigned to;
//   - an API key: its region subtree (everything when it has none) and its own reports.
func ReachOf(p identity.Principal) Reach {
	if p.IsAPIKey() {
		if p.Scope.Kind == identity.ScopeAll || (p.Scope.Kind == "" && p.Scope.RegionPath == "") {
			return Reach{All: true}
		}
		r := Reach{APIKeyID: p.APIKeyID}
		if p.Scope.RegionPath != "" {
			r.RegionPaths = []string{p.Scope.RegionPath}
		}
		return r
	}
	if p.Is(identity.RoleAdmin) || p.Scope.Kind == identity.ScopeAll {
		return Reach{All: true}
	}
	r := Reach{UserID: p.UserID}
	switch p.Scope.Kind {
	case identity.ScopeRegion:
		if p.Scope.RegionPath != "" {
			r.RegionPaths = []string{p.Scope.RegionPath}
		}
	case identity.ScopeDepartment:
		r.DepartmentID = p.Scope.DepartmentID
	case identity.ScopeGrids:
		r.GridCodes = slices.Clone(p.Scope.GridCodes)
	}
	return r
}
