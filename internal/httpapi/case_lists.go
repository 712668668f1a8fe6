package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

// registerCaseLists mounts the case lists: the list with filters and delta sync, map points,
// the caller's inbox, a region's problem list and the exports.
func (s *Server) registerCaseLists(r *gin.RouterGroup) {
	r.GET("/cases", s.requireAuth, s.listCases)
	r.GET("/cases.geojson", s.requireAuth, s.casesGeoJSON)
	r.GET("/cases/export", s.requireAuth, s.exportCases)
	r.GET("/me/tasks", s.requireAuth, s.myTasks)
	r.GET("/regions/:code/problems", s.requireAuth, s.regionProblems)
}

// mapMaxFeatures caps a map answer (GRIDCASE_MAP_MAX_FEATURES, 5,000 by default): more
// points than that help nobody on one screen.
func (s *Server) mapMaxFeatures() int {
	if s.Config.MapMaxFeatures > 0 {
		return s.Config.MapMaxFeatures
	}
	return 5000
}

// CaseList is a page of cases. In a delta sync (updated_since, or a cursor it gave) the items
// are the cases changed since, oldest change first, and a cancelled or merged case comes as a
// tombstone that carries only id, number, state, deleted (true), duplicate_of and updated_at:
// drop it from the phone (or point it at duplicate_of).
type CaseList struct {
	Items []Case `json:"items"`
	// NextCursor continues the list (absent at its end). A delta sync always has one: keep it
	// and send it as cursor next time to get what changed since.
	NextCursor string `json:"next_cursor,omitempty" example:"eyJvIjoiLXVwZGF0ZWRfYXQiLCJpIjo0Mn0"`
	HasMore    bool   `json:"has_more" example:"true"`
	Sync       bool   `json:"sync" example:"false"` // a delta sync page
} //	@name	CaseList

// CaseTombstone is what a delta sync sends for a cancelled or merged case.
type CaseTombstone struct {
	ID          int64     `json:"id" example:"1024"`
	Number      string    `json:"number" example:"GC20260316-000042"`
	State       string    `json:"state" example:"cancelled"`
	Deleted     bool      `json:"deleted" example:"true"`
	DuplicateOf int64     `json:"duplicate_of,omitempty" example:"1000"` // merged into this case
	UpdatedAt   time.Time `json:"updated_at"`
} //	@name	CaseTombstone

// caseListBody is CaseList as written: its items are cases or, in a delta sync, tombstones.
type caseListBody struct {
	Items      []any  `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	HasMore    bool   `json:"has_more"`
	Sync       bool   `json:"sync"`
}

// listCases godoc
//
//	@Summary		List cases
//	@Description	The cases in the caller's data scope that match every given filter, a page at a time (keyset cursor: stable while cases are added). Repeatable filters take several values, repeated or comma-separated. Times are RFC 3339, or a date (YYYY-MM-DD, Asia/Shanghai midnight); _from is inclusive, _to exclusive. q matches a part of the description, address or number (a substring scan: narrow it with other filters on big lists).
//	@Description	Delta sync for phones: send updated_since (RFC 3339; 1970-01-01T00:00:00Z for everything) to get the cases changed at or after it, oldest change first, cancelled and merged ones as tombstones (see CaseList), and next_cursor; store next_cursor and send it as cursor (with the same filters) to continue, now or on the next sync. Changes appear a few seconds after they commit.
//	@ID				listCases
//	@Tags			cases
//	@Produce		json
//	@Security		BearerAuth
//	@Param			state			query		[]string	false	"states"	collectionFormat(multi)
//	@Param			category		query		[]string	false	"small classes (E0101), 大类 (E01) or types (E, C)"	collectionFormat(multi)
//	@Param			region			query		string		false	"a region code: the cases in its subtree (by grid; by desk for a case without a grid)"
//	@Param			grid			query		[]string	false	"grid codes"	collectionFormat(multi)
//	@Param			department		query		int			false	"lead or active co-handling department id"
//	@Param			assignee		query		string		false	"the grid worker sent to verify or check: a user id or me"
//	@Param			reporter		query		string		false	"the reporting user: a user id or me"
//	@Param			source			query		[]string	false	"sources"	collectionFormat(multi)
//	@Param			overdue			query		bool		false	"true: open cases past their stage deadline; false: open cases not past it"
//	@Param			light			query		[]string	false	"traffic lights of the running stage"	collectionFormat(multi)
//	@Param			created_from	query		string		false	"created at or after"
//	@Param			created_to		query		string		false	"created before"
//	@Param			updated_from	query		string		false	"changed at or after"
//	@Param			updated_to		query		string		false	"changed before"
//	@Param			q				query		string		false	"text in the description, address or number (at most 100 characters)"
//	@Param			bbox			query		string		false	"minLng,minLat,maxLng,maxLat (WGS-84): cases with a point inside"
//	@Param			sort			query		string		false	"order, the id breaking ties (default -updated_at)"	Enums(-updated_at, updated_at, -created_at, created_at, stage_deadline, -stage_deadline)
//	@Param			limit			query		int			false	"page size (default 50, at most 200)"
//	@Param			cursor			query		string		false	"the next_cursor of the previous page"
//	@Param			updated_since	query		string		false	"start a delta sync from this time"
//	@Success		200				{object}	CaseList
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/cases [get]
func (s *Server) listCases(c *gin.Context) {
	in, err := caseListInput(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Cases.List(c.Request.Context(), mustPrincipal(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := caseListBody{Items: make([]any, len(page.Items)), NextCursor: page.Next, HasMore: page.HasMore, Sync: page.Sync}
	for i, v := range page.Items {
		if cs := v.Case; page.Sync && cs.DeletedAt != nil {
			out.Items[i] = CaseTombstone{ID: cs.ID, Number: cs.Number, State: string(cs.State), Deleted: true, DuplicateOf: cs.DuplicateOf, UpdatedAt: cs.UpdatedAt}
			continue
		}
		out.Items[i] = caseDTO(v)
	}
	c.JSON(http.StatusOK, out)
}

// CaseFeatureCollection is a GeoJSON FeatureCollection (RFC 7946) of case points.
type CaseFeatureCollection struct {
	Type     string        `json:"type" example:"FeatureCollection"`
	Features []CaseFeature `json:"features"`
	// Truncated: more cases matched than limit; the most recently changed are here. Zoom in
	// (bbox) or filter.
	Truncated bool `json:"truncated" example:"false"`
	Limit     int  `json:"limit" example:"5000"`
} //	@name	CaseFeatureCollection

// CaseFeature is one case on a map.
type CaseFeature struct {
	Type       string            `json:"type" example:"Feature"`
	ID         int64             `json:"id" example:"1024"`
	Geometry   CasePoint         `json:"geometry"`
	Properties CaseFeatureFields `json:"properties"`
} //	@name	CaseFeature

// CasePoint is a GeoJSON Point: [longitude, latitude] in WGS-84.
type CasePoint struct {
	Type        string     `json:"type" example:"Point"`
	Coordinates [2]float64 `json:"coordinates" swaggertype:"array,number" example:"120.8637,32.0106"`
} //	@name	CasePoint

// CaseFeatureFields are a case feature's properties.
type CaseFeatureFields struct {
	ID            int64      `json:"id" example:"1024"`
	Number        string     `json:"number" example:"GC20260316-000042"`
	State         string     `json:"state" example:"handling"`
	CategoryCode  string     `json:"category_code,omitempty" example:"E0101"`
	CategoryName  string     `json:"category_name,omitempty" example:"暴露垃圾"`
	Urgency       string     `json:"urgency" example:"normal"`
	Stage         string     `json:"stage" example:"handle"`
	Light         string     `json:"light,omitempty" enums:"green,yellow,red" example:"yellow"`
	StageDeadline *time.Time `json:"stage_deadline,omitempty"`
} //	@name	CaseFeatureFields

// casesGeoJSON godoc
//
//	@Summary		Cases as map points (GeoJSON)
//	@Description	The cases with a point that match the filters of GET /cases (and bbox), as a GeoJSON FeatureCollection of Points, at most 5,000, most recently changed first; truncated says whether more matched. Cases without a point are left out.
//	@ID				casesGeoJSON
//	@Tags			cases
//	@Produce		application/geo+json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			bbox			query		string		false	"minLng,minLat,maxLng,maxLat (WGS-84)"
//	@Param			state			query		[]string	false	"states"	collectionFormat(multi)
//	@Param			category		query		[]string	false	"small classes, 大类 or types"	collectionFormat(multi)
//	@Param			region			query		string		false	"region subtree"
//	@Param			grid			query		[]string	false	"grid codes"	collectionFormat(multi)
//	@Param			department		query		int			false	"lead or active co-handling department id"
//	@Param			assignee		query		string		false	"a user id or me"
//	@Param			reporter		query		string		false	"a user id or me"
//	@Param			source			query		[]string	false	"sources"	collectionFormat(multi)
//	@Param			overdue			query		bool		false	"open cases past (true) or within (false) their stage deadline"
//	@Param			light			query		[]string	false	"traffic lights"	collectionFormat(multi)
//	@Param			created_from	query		string		false	"created at or after"
//	@Param			created_to		query		string		false	"created before"
//	@Param			updated_from	query		string		false	"changed at or after"
//	@Param			updated_to		query		string		false	"changed before"
//	@Param			q				query		string		false	"text in the description, address or number"
//	@Success		200				{object}	CaseFeatureCollection
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/cases.geojson [get]
func (s *Server) casesGeoJSON(c *gin.Context) {
	in, err := caseListInput(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	views, truncated, err := s.Cases.Map(c.Request.Context(), mustPrincipal(c), in, s.mapMaxFeatures())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := CaseFeatureCollection{Type: "FeatureCollection", Features: make([]CaseFeature, 0, len(views)), Truncated: truncated, Limit: s.mapMaxFeatures()}
	for _, v := range views {
		cs := v.Case
		f := CaseFeature{Type: "Feature", ID: cs.ID, Geometry: CasePoint{Type: "Point", Coordinates: [2]float64{cs.Point.Lng, cs.Point.Lat}},
			Properties: CaseFeatureFields{ID: cs.ID, Number: cs.Number, State: string(cs.State), CategoryCode: cs.CategoryCode,
				Urgency: string(cs.Urgency), Stage: string(cs.Stage), Light: string(v.Light), StageDeadline: cs.StageDeadline}}
		if v.Category != nil {
			f.Properties.CategoryName = v.Category.Name
		}
		out.Features = append(out.Features, f)
	}
	writeGeoJSON(c, http.StatusOK, out)
}

// Task is one case in an inbox (待办) and what to do about it.
type Task struct {
	Case Case `json:"case"`
	// Reason says why the case waits for the caller: verify, check, grid_check (a fix in your
	// grid nobody was sent to check), sign, handle, co_handle (协办), accept, dispatch,
	// request_check, close, overdue (督办).
	Reason string `json:"reason" enums:"verify,check,grid_check,sign,handle,co_handle,accept,dispatch,request_check,close,overdue" example:"sign"`
	// NextAction is the action that moves it on (POST /cases/{id}/{next_action}); supervise
	// arrives with supervision.
	NextAction string `json:"next_action" example:"sign"`
	CoHandler  bool   `json:"co_handler" example:"false"` // the caller's department assists, another leads
} //	@name	Task

// TaskList is the caller's inbox, most urgent first.
type TaskList struct {
	Items     []Task `json:"items"`
	Total     int64  `json:"total" example:"12"`        // every case waiting
	Truncated bool   `json:"truncated" example:"false"` // items holds the first limit of them
} //	@name	TaskList

// myTasks godoc
//
//	@Summary		My inbox (待办)
//	@Description	What waits for the caller, most urgent first (red, yellow, green; then the nearest stage deadline). A grid worker: the verifications and checks they were sent to, and fixes in their grids nobody was sent to check. A handler: cases dispatched to their department (to sign) and those it handles, and those it co-handles (co_handler). A dispatcher: what waits at their desk (their scope's region; the top desk for a city-wide dispatcher or an admin): to accept, dispatch, send a checker, close. A supervisor: the overdue (red) cases in scope.
//	@ID				myTasks
//	@Tags			tasks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			limit	query		int	false	"at most this many (default 100, at most 500)"
//	@Success		200		{object}	TaskList
//	@Failure		401,403,422	{object}	Problem
//	@Router			/api/v1/me/tasks [get]
func (s *Server) myTasks(c *gin.Context) {
	var f errs.Fields
	limit := queryInt(c, &f, "limit", 0)
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.Cases.Tasks(c.Request.Context(), mustPrincipal(c), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := TaskList{Items: make([]Task, len(list.Items)), Total: list.Total, Truncated: list.Truncated}
	for i, t := range list.Items {
		out.Items[i] = Task{Case: caseDTO(t.View), Reason: t.Reason, NextAction: string(t.NextAction), CoHandler: t.CoHandler}
	}
	c.JSON(http.StatusOK, out)
}

// RegionProblems is a region's problem list (问题清单).
type RegionProblems struct {
	RegionCode  string `json:"region_code" example:"320613001001001"`
	RegionName  string `json:"region_name" example:"桃坞路第一网格"`
	RegionLevel string `json:"region_level" example:"grid"`
	Total       int64  `json:"total" example:"7"` // open cases in the subtree that the caller reads
	// Items: open cases, most urgent first, each with its stage, stage_deadline and light.
	Items      []Case `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	HasMore    bool   `json:"has_more" example:"false"`
} //	@name	RegionProblems

// regionProblems godoc
//
//	@Summary		A region's problem list (问题清单)
//	@Description	The second list of 一网两单: the open cases of a grid (or of any region's subtree) that the caller may read, most urgent first (red, yellow, green; then the nearest stage deadline), with their stage, deadline and light. A region outside the caller's scope is 404. The cursor keeps the lights of the first page, so no case moves between pages.
//	@ID				regionProblems
//	@Tags			cases
//	@Produce		json
//	@Security		BearerAuth
//	@Param			code	path		string	true	"region code"
//	@Param			limit	query		int		false	"page size (default 50, at most 200)"
//	@Param			cursor	query		string	false	"the next_cursor of the previous page"
//	@Success		200		{object}	RegionProblems
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/regions/{code}/problems [get]
func (s *Server) regionProblems(c *gin.Context) {
	var f errs.Fields
	limit := queryInt(c, &f, "limit", 0)
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.Cases.Problems(c.Request.Context(), mustPrincipal(c), c.Param("code"), c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := RegionProblems{RegionCode: list.Region.Code, RegionName: list.Region.Name, RegionLevel: string(list.Region.Level),
		Total: list.Total, Items: make([]Case, len(list.Items)), NextCursor: list.Next, HasMore: list.HasMore}
	for i, v := range list.Items {
		out.Items[i] = caseDTO(v)
	}
	c.JSON(http.StatusOK, out)
}

// ---- query parameters ----

// caseListInput reads the filters, sort and paging of a case list from the query string;
// every malformed parameter is reported at once (422).
func caseListInput(c *gin.Context) (casework.ListInput, error) {
	var (
		f  errs.Fields
		in casework.ListInput
	)
	p := mustPrincipal(c)
	for _, v := range queryList(c, "state") {
		in.States = append(in.States, casework.State(v))
	}
	in.Categories = queryList(c, "category")
	in.RegionCode = c.Query("region")
	in.GridCodes = queryList(c, "grid")
	in.DepartmentID = queryID(c, &f, "department", 0)
	in.AssigneeUserID = queryID(c, &f, "assignee", p.UserID)
	in.ReporterUserID = queryID(c, &f, "reporter", p.UserID)
	for _, v := range queryList(c, "source") {
		in.Sources = append(in.Sources, casework.Source(v))
	}
	if c.Query("overdue") != "" {
		b := queryBool(c, &f, "overdue")
		in.Overdue = &b
	}
	for _, v := range queryList(c, "light") {
		in.Lights = append(in.Lights, worktime.Light(v))
	}
	in.CreatedFrom = queryTime(c, &f, "created_from")
	in.CreatedTo = queryTime(c, &f, "created_to")
	in.UpdatedFrom = queryTime(c, &f, "updated_from")
	in.UpdatedTo = queryTime(c, &f, "updated_to")
	in.Text = c.Query("q")
	if v := c.Query("bbox"); v != "" {
		in.BBox = queryBBox(&f, v)
	}
	in.Sort = c.Query("sort")
	in.Limit = queryInt(c, &f, "limit", 0)
	in.Cursor = c.Query("cursor")
	if c.Query("updated_since") != "" {
		t := queryTime(c, &f, "updated_since")
		in.UpdatedSince = &t
	}
	return in, f.Err()
}

// queryList reads a repeatable parameter: repeated (state=a&state=b) or comma-separated.
func queryList(c *gin.Context, name string) []string {
	var out []string
	for _, v := range c.QueryArray(name) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// queryID reads a positive id; "me" stands for the caller (me is 0 when "me" is not allowed).
func queryID(c *gin.Context, f *errs.Fields, name string, me int64) int64 {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	if v == "me" && me != 0 {
		return me
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		if me != 0 {
			f.Add(name, "type", "%s must be a user id or me", name)
		} else {
			f.Add(name, "type", "%s must be a positive id", name)
		}
	}
	return id
}

// chinaTime is the zone a bare date is read in (China has one zone and no daylight saving).
var chinaTime = time.FixedZone("CST", 8*3600)

// queryTime reads an RFC 3339 time or a date (midnight in China).
func queryTime(c *gin.Context, f *errs.Fields, name string) time.Time {
	v := c.Query(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, chinaTime); err == nil {
		return t.UTC()
	}
	f.Add(name, "format", "%s must be an RFC 3339 time (2026-03-16T09:00:00+08:00) or a date (2026-03-16)", name)
	return time.Time{}
}

// queryBBox reads minLng,minLat,maxLng,maxLat.
func queryBBox(f *errs.Fields, v string) *casework.Box {
	parts := strings.Split(v, ",")
	var n [4]float64
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		var err error
		n[i], err = strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		ok = err == nil
	}
	if !ok {
		f.Add("bbox", "format", "bbox is four numbers: minLng,minLat,maxLng,maxLat")
		return nil
	}
	return &casework.Box{MinLng: n[0], MinLat: n[1], MaxLng: n[2], MaxLat: n[3]}
}
