package httpapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
)

// registerRegions mounts /regions/* and the grid teams and responsibility lists under them.
// Reading needs sign-in (any role, or an API key granted regions:read); writing is for admins
// (regions) or admins and in-scope dispatchers (teams, responsibility lists).
func (s *Server) registerRegions(r *gin.RouterGroup) {
	read := []gin.HandlerFunc{s.requireAuth, s.requireRegionsRead}
	write := []gin.HandlerFunc{s.requireAuth}
	with := func(hs []gin.HandlerFunc, h ...gin.HandlerFunc) []gin.HandlerFunc {
		return append(append([]gin.HandlerFunc{}, hs...), h...)
	}
	r.GET("/regions", with(read, s.listRegions)...)
	r.POST("/regions", with(write, s.createRegion)...)
	r.GET("/regions/tree", with(read, s.regionTree)...)
	r.GET("/regions/locate", with(read, s.locateRegion)...)
	r.POST("/regions/import", with(write, withBodyLimit(s.Config.MaxImportBytes), s.importRegions)...)
	r.GET("/regions/:code", with(read, s.getRegion)...)
	r.PATCH("/regions/:code", with(write, s.updateRegion)...)
	s.registerGrids(r, read, write)
}

// requireRegionsRead refuses an API key that was not granted regions:read (users pass).
func (s *Server) requireRegionsRead(c *gin.Context) {
	if p, ok := principalOf(c); ok && !p.HasAPIScope(identity.ScopeRegionsRead) {
		s.fail(c, errs.E(errs.Forbidden, "this API key lacks the %s scope", identity.ScopeRegionsRead))
		return
	}
	c.Next()
}

// ---- DTOs ----

// Region is a place in the hierarchy. Lists leave the boundary out (has_boundary says whether
// there is one); one region, or format=geojson, carries it.
type Region struct {
	Code       string `json:"code" example:"320613001"`
	Name       string `json:"name" example:"和平桥街道"`
	Level      string `json:"level" enums:"city,district,street,community,grid" example:"street"`
	ParentCode string `json:"parent_code,omitempty" example:"320613"`
	// Path is "/" + the codes of the ancestors and the region + "/": a subtree is a prefix.
	Path        string `json:"path" example:"/320600/320613/320613001/"`
	HasBoundary bool   `json:"has_boundary" example:"true"`
	// BBox is the boundary's extent in WGS-84: [min_lng, min_lat, max_lng, max_lat].
	BBox   []float64 `json:"bbox,omitempty" example:"120.8,32.0,120.9,32.1"`
	Center *GeoPoint `json:"center,omitempty"`
	// Boundary is a GeoJSON Polygon or MultiPolygon in WGS-84.
	Boundary *GeoJSONGeometry `json:"boundary,omitempty"`
	// CoordSys is the system the boundary was sent in (it is stored converted to WGS-84).
	CoordSys  string     `json:"coord_sys" enums:"wgs84,gcj02,bd09" example:"wgs84"`
	ValidFrom time.Time  `json:"valid_from" example:"2020-06-01T00:00:00Z"`
	ValidTo   *time.Time `json:"valid_to,omitempty" example:"2030-01-01T00:00:00Z"`
	// Retired is true once valid_to has passed: kept for old cases, left out of lists and locate.
	Retired   bool      `json:"retired" example:"false"`
	CreatedAt time.Time `json:"created_at" example:"2026-03-01T08:30:00Z"`
	UpdatedAt time.Time `json:"updated_at" example:"2026-03-01T08:30:00Z"`
} //	@name	Region

// RegionRef names a region without its boundary.
type RegionRef struct {
	Code       string `json:"code" example:"320613"`
	Name       string `json:"name" example:"崇川区"`
	Level      string `json:"level" enums:"city,district,street,community,grid" example:"district"`
	ParentCode string `json:"parent_code,omitempty" example:"320600"`
	Path       string `json:"path" example:"/320600/320613/"`
} //	@name	RegionRef

// RegionDetail is one region with its boundary and its ancestors (root first).
type RegionDetail struct {
	Region
	Ancestors []RegionRef `json:"ancestors"`
} //	@name	RegionDetail

// RegionList is a page of regions in code order; pass next_after as after for the next page.
type RegionList struct {
	Items     []Region `json:"items"`
	NextAfter string   `json:"next_after,omitempty" example:"320613001001050"`
} //	@name	RegionList

// RegionTreeNode is a region with its children.
type RegionTreeNode struct {
	Region
	Children []RegionTreeNode `json:"children"`
} //	@name	RegionTreeNode

// RegionTree is a nested tree of regions.
type RegionTree struct {
	Items []RegionTreeNode `json:"items"`
} //	@name	RegionTree

// GeoPoint is a position in degrees.
type GeoPoint struct {
	Lat float64 `json:"lat" example:"32.0116"`
	Lng float64 `json:"lng" example:"120.8642"`
} //	@name	GeoPoint

// GeoJSONGeometry is a GeoJSON (RFC 7946) Polygon or MultiPolygon.
type GeoJSONGeometry struct {
	Type string `json:"type" enums:"Polygon,MultiPolygon" example:"Polygon"`
	// Coordinates are rings of [lng, lat] positions (a Polygon) or polygons of them.
	Coordinates []any `json:"coordinates"`
} //	@name	GeoJSONGeometry

// RegionLocation is where a point is: the deepest region in force containing it (a grid when
// grids are drawn there) and its ancestors, root first.
type RegionLocation struct {
	Region     RegionRef   `json:"region"`
	Ancestors  []RegionRef `json:"ancestors"`
	PointWGS84 GeoPoint    `json:"point_wgs84"`
	// Point and CoordSys are what was sent.
	Point    GeoPoint `json:"point"`
	CoordSys string   `json:"coord_sys" enums:"wgs84,gcj02,bd09" example:"gcj02"`
} //	@name	RegionLocation

// CreateRegionRequest creates one region.
type CreateRegionRequest struct {
	// Code is GB/T 2260 style: 6 digits (city, district), 9 (street), 12 (community), 15 (grid),
	// each starting with its parent's (a district shares its city's first four).
	Code       string `json:"code" example:"320613001"`
	Name       string `json:"name" example:"和平桥街道"`
	Level      string `json:"level" enums:"city,district,street,community,grid" example:"street"`
	ParentCode string `json:"parent_code,omitempty" example:"320613"`
	// Boundary is a GeoJSON Polygon or MultiPolygon in coord_sys.
	Boundary json.RawMessage `json:"boundary,omitempty" swaggertype:"object"`
	CoordSys string          `json:"coord_sys,omitempty" enums:"wgs84,gcj02,bd09" example:"wgs84"`
	// ValidFrom defaults to now.
	ValidFrom *time.Time `json:"valid_from,omitempty" example:"2020-06-01T00:00:00Z"`
} //	@name	CreateRegionRequest

// UpdateRegionRequest changes a region; absent fields stay. Code, level and parent never
// change: retire the region and create another.
type UpdateRegionRequest struct {
	Name *string `json:"name,omitempty" example:"和平桥街道"`
	// Boundary replaces the boundary (in coord_sys); null removes it.
	Boundary json.RawMessage `json:"boundary,omitempty" swaggertype:"object"`
	CoordSys string          `json:"coord_sys,omitempty" enums:"wgs84,gcj02,bd09" example:"wgs84"`
	// ValidTo retires the region and its whole subtree at this time; null brings it back.
	ValidTo json.RawMessage `json:"valid_to,omitempty" swaggertype:"string" format:"date-time" example:"2020-06-01T00:00:00+08:00"`
} //	@name	UpdateRegionRequest

// RegionImportReport sums up an import, with one result per feature in file order.
type RegionImportReport struct {
	Total     int                  `json:"total" example:"120"`
	Created   int                  `json:"created" example:"100"`
	Updated   int                  `json:"updated" example:"15"`
	Unchanged int                  `json:"unchanged" example:"3"`
	Invalid   int                  `json:"invalid" example:"2"`
	DryRun    bool                 `json:"dry_run" example:"false"`
	Features  []RegionImportResult `json:"features"`
} //	@name	RegionImportReport

// RegionImportResult is what the import did with one feature.
type RegionImportResult struct {
	Index  int            `json:"index" example:"4"`
	Code   string         `json:"code,omitempty" example:"320613002"`
	Status string         `json:"status" enums:"created,updated,unchanged,invalid" example:"invalid"`
	Errors []ProblemField `json:"errors,omitempty"`
} //	@name	RegionImportResult

// ---- mapping ----

func regionDTO(r region.Region, now time.Time) Region {
	out := Region{Code: r.Code, Name: r.Name, Level: string(r.Level), ParentCode: r.ParentCode, Path: r.Path,
		HasBoundary: r.HasBoundary(), CoordSys: string(r.CoordSys), ValidFrom: r.ValidFrom, ValidTo: r.ValidTo,
		Retired: r.ValidTo != nil && !now.Before(*r.ValidTo), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.Bound != nil {
		out.BBox = []float64{r.Bound.Min[0], r.Bound.Min[1], r.Bound.Max[0], r.Bound.Max[1]}
	}
	if r.Center != nil {
		out.Center = &GeoPoint{Lat: r.Center.Lat, Lng: r.Center.Lng}
	}
	if r.Boundary != nil {
		if b, err := geo.MarshalBoundary(r.Boundary); err == nil {
			var g GeoJSONGeometry
			if json.Unmarshal(b, &g) == nil {
				out.Boundary = &g
			}
		}
	}
	return out
}

func refDTO(r region.Ref) RegionRef {
	return RegionRef{Code: r.Code, Name: r.Name, Level: string(r.Level), ParentCode: r.ParentCode, Path: r.Path}
}

func refsDTO(rs []region.Ref) []RegionRef {
	out := make([]RegionRef, len(rs))
	for i, r := range rs {
		out[i] = refDTO(r)
	}
	return out
}

func treeDTO(ns []*region.Node, now time.Time) []RegionTreeNode {
	out := make([]RegionTreeNode, len(ns))
	for i, n := range ns {
		out[i] = RegionTreeNode{Region: regionDTO(n.Region, now), Children: treeDTO(n.Children, now)}
	}
	return out
}

// geoJSONFeature renders a region as a GeoJSON Feature whose properties are its fields.
func geoJSONFeature(r Region) map[string]any {
	var geometry any
	if r.Boundary != nil {
		geometry = r.Boundary
	}
	props := map[string]any{"code": r.Code, "name": r.Name, "level": r.Level, "path": r.Path, "coord_sys": r.CoordSys,
		"valid_from": r.ValidFrom, "retired": r.Retired}
	if r.ParentCode != "" {
		props["parent_code"] = r.ParentCode
	}
	if r.ValidTo != nil {
		props["valid_to"] = r.ValidTo
	}
	if r.Center != nil {
		props["center"] = r.Center
	}
	f := map[string]any{"type": "Feature", "id": r.Code, "geometry": geometry, "properties": props}
	if r.BBox != nil {
		f["bbox"] = r.BBox
	}
	return f
}

const geoJSONType = "application/geo+json"

// wantsGeoJSON reads ?format= (json or geojson) and the Accept header.
func wantsGeoJSON(c *gin.Context) (bool, error) {
	switch c.Query("format") {
	case "geojson":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), geoJSONType), nil
	}
	return false, errs.Fields{{Field: "format", Rule: "enum", Message: "format must be json or geojson"}}.Err()
}

func writeGeoJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, geoJSONType, b)
}

// queryBool reads an optional boolean query parameter into f.
func queryBool(c *gin.Context, f *errs.Fields, name string) bool {
	v := c.Query(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		f.Add(name, "type", "%s must be true or false", name)
	}
	return b
}

// queryInt reads an optional integer query parameter into f.
func queryInt(c *gin.Context, f *errs.Fields, name string, def int) int {
	v := c.Query(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.Add(name, "type", "%s must be an integer", name)
	}
	return n
}

// ---- handlers ----

// listRegions godoc
//
//	@Summary		List regions
//	@Description	The children of parent (the cities without one); with level or q, the parent's whole subtree at that level or matching the name (everything without a parent). Regions in force now unless include_retired. Boundaries are left out; with format=geojson or Accept: application/geo+json the answer is a GeoJSON FeatureCollection (RFC 7946) with the boundaries, each feature's properties carrying the Region fields, and next_after as a foreign member.
//	@ID				listRegions
//	@Tags			regions
//	@Produce		json
//	@Produce		application/geo+json
//	@Security		BearerAuth
//	@Param			parent			query		string	false	"parent region code"
//	@Param			level			query		string	false	"only this level (in the parent's subtree)"	Enums(city, district, street, community, grid)
//	@Param			q				query		string	false	"part of the name"
//	@Param			include_retired	query		bool	false	"include retired regions"
//	@Param			format			query		string	false	"json (default) or geojson"	Enums(json, geojson)
//	@Param			after			query		string	false	"the next_after of the previous page"
//	@Param			limit			query		int		false	"page size (default 500, at most 5000)"
//	@Success		200				{object}	RegionList
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/regions [get]
func (s *Server) listRegions(c *gin.Context) {
	var f errs.Fields
	gj, err := wantsGeoJSON(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := region.ListQuery{Parent: c.Query("parent"), Level: region.Level(c.Query("level")), Q: c.Query("q"),
		IncludeRetired: queryBool(c, &f, "include_retired"), WithBoundary: gj, After: c.Query("after"), Limit: queryInt(c, &f, "limit", 0)}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Regions.List(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := time.Now()
	out := RegionList{Items: make([]Region, len(page.Regions)), NextAfter: page.Next}
	for i, r := range page.Regions {
		out.Items[i] = regionDTO(r, now)
	}
	if gj {
		features := make([]any, len(out.Items))
		for i, r := range out.Items {
			features[i] = geoJSONFeature(r)
		}
		fc := map[string]any{"type": "FeatureCollection", "features": features}
		if page.Next != "" {
			fc["next_after"] = page.Next
		}
		writeGeoJSON(c, http.StatusOK, fc)
		return
	}
	c.JSON(http.StatusOK, out)
}

// getRegion godoc
//
//	@Summary		Get one region
//	@Description	The region with its boundary and its ancestors (root first); retired regions too. With format=geojson or Accept: application/geo+json, a GeoJSON Feature whose properties carry the Region fields and the ancestors.
//	@ID				getRegion
//	@Tags			regions
//	@Produce		json
//	@Produce		application/geo+json
//	@Security		BearerAuth
//	@Param			code		path		string	true	"region code"
//	@Param			format		query		string	false	"json (default) or geojson"	Enums(json, geojson)
//	@Success		200			{object}	RegionDetail
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/regions/{code} [get]
func (s *Server) getRegion(c *gin.Context) {
	gj, err := wantsGeoJSON(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Regions.Get(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := RegionDetail{Region: regionDTO(d.Region, time.Now()), Ancestors: refsDTO(d.Ancestors)}
	if gj {
		f := geoJSONFeature(out.Region)
		f["properties"].(map[string]any)["ancestors"] = out.Ancestors
		writeGeoJSON(c, http.StatusOK, f)
		return
	}
	c.JSON(http.StatusOK, out)
}

// regionTree godoc
//
//	@Summary		The region tree
//	@Description	The region root and depth levels below it, nested (all cities when root is absent). Boundaries are left out. At most 20,000 regions: ask for less depth or a smaller root.
//	@ID				regionTree
//	@Tags			regions
//	@Produce		json
//	@Security		BearerAuth
//	@Param			root			query		string	false	"root region code"
//	@Param			depth			query		int		false	"levels below the root, 0–4 (default 2)"
//	@Param			include_retired	query		bool	false	"include retired regions"
//	@Success		200				{object}	RegionTree
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/regions/tree [get]
func (s *Server) regionTree(c *gin.Context) {
	var f errs.Fields
	depth := queryInt(c, &f, "depth", region.DefaultTreeDepth)
	retired := queryBool(c, &f, "include_retired")
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	nodes, err := s.Regions.Tree(c.Request.Context(), c.Query("root"), depth, retired)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, RegionTree{Items: treeDTO(nodes, time.Now())})
}

// locateRegion godoc
//
//	@Summary		Locate a point
//	@Description	The deepest region in force whose boundary contains the point (a grid where grids are drawn), with its ancestors. A point on an edge shared by two regions goes to the smaller code. Answered from memory. GCJ-02 (AMap, Tencent) and BD-09 (Baidu) input is converted to WGS-84 first; 404 when no region contains the point.
//	@ID				locateRegion
//	@Tags			regions
//	@Produce		json
//	@Security		BearerAuth
//	@Param			lat			query		number	true	"latitude, −90 to 90"
//	@Param			lng			query		number	true	"longitude, −180 to 180"
//	@Param			coord_sys	query		string	false	"the point's coordinate system (default wgs84)"	Enums(wgs84, gcj02, bd09)
//	@Success		200			{object}	RegionLocation
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/regions/locate [get]
func (s *Server) locateRegion(c *gin.Context) {
	var f errs.Fields
	coord := func(name string) float64 {
		v := c.Query(name)
		if v == "" {
			f.Required(name, true)
			return 0
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.Add(name, "type", "%s must be a number", name)
		}
		return x
	}
	p := geo.Point{Lat: coord("lat"), Lng: coord("lng")}
	cs, err := geo.ParseCoordSys(c.Query("coord_sys"))
	if err != nil {
		f.Add("coord_sys", "enum", "%v", err)
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	loc, err := s.Regions.LocateAs(c.Request.Context(), p, cs)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, RegionLocation{Region: refDTO(loc.Region), Ancestors: refsDTO(loc.Ancestors),
		PointWGS84: GeoPoint{Lat: loc.Point.Lat, Lng: loc.Point.Lng}, Point: GeoPoint{Lat: loc.Input.Lat, Lng: loc.Input.Lng},
		CoordSys: string(loc.CoordSys)})
}

// createRegion godoc
//
//	@Summary		Create a region
//	@Description	Admin only. The code must fit the level and nest in the parent's; the parent must exist one level up (a city has none). The boundary, if any, must be a valid Polygon or MultiPolygon (closed rings of at least four positions, not crossing themselves); repeated corners and zero-area spikes are dropped, and it is stored in WGS-84.
//	@ID				createRegion
//	@Tags			regions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		CreateRegionRequest	true	"the region"
//	@Success		201		{object}	Region
//	@Failure		400,401,403,409,413,415,422	{object}	Problem
//	@Router			/api/v1/regions [post]
func (s *Server) createRegion(c *gin.Context) {
	var req CreateRegionRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.Regions.Create(c.Request.Context(), mustPrincipal(c), region.Draft{
		Code: req.Code, Name: req.Name, Level: region.Level(req.Level), ParentCode: req.ParentCode,
		Boundary: nonNull(req.Boundary), CoordSys: req.CoordSys, ValidFrom: req.ValidFrom,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/regions/"+r.Code)
	c.JSON(http.StatusCreated, regionDTO(r, time.Now()))
}

// nonNull returns nil for an absent or JSON null value.
func nonNull(raw json.RawMessage) []byte {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return raw
}

// updateRegion godoc
//
//	@Summary		Change a region
//	@Description	Admin only. Rename it, replace or remove (null) its boundary, or retire it at valid_to (its whole subtree with it: regions are never deleted, so old cases keep their place); valid_to null brings it back when its parent is in force.
//	@ID				updateRegion
//	@Tags			regions
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			code	path		string				true	"region code"
//	@Param			body	body		UpdateRegionRequest	true	"the changes"
//	@Success		200		{object}	Region
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/regions/{code} [patch]
func (s *Server) updateRegion(c *gin.Context) {
	var req UpdateRegionRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u := region.Update{Name: req.Name, CoordSys: req.CoordSys}
	if req.Boundary != nil {
		u.SetBoundary, u.Boundary = true, nonNull(req.Boundary)
	}
	if req.ValidTo != nil {
		u.SetValidTo = true
		if nonNull(req.ValidTo) != nil {
			var t time.Time
			if err := json.Unmarshal(req.ValidTo, &t); err != nil {
				s.fail(c, errs.Fields{{Field: "valid_to", Rule: "format", Message: "valid_to must be an RFC 3339 time or null"}}.Err())
				return
			}
			u.ValidTo = &t
		}
	}
	r, err := s.Regions.Update(c.Request.Context(), mustPrincipal(c), c.Param("code"), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, regionDTO(r, time.Now()))
}

// importRegions godoc
//
//	@Summary		Import regions from GeoJSON
//	@Description	Admin only. The body is a GeoJSON FeatureCollection (at most GRIDCASE_MAX_IMPORT_BYTES, 20 MiB by default) whose features carry the properties code, name, level and parent_code (and optionally valid_from, valid_to, coord_sys) and a Polygon or MultiPolygon geometry or null. Idempotent on code: each feature is created, updated or unchanged. Parents may come after their children. Invalid features (a bad code or geometry, a parent neither stored nor valid in the file) are reported one by one and left out; the valid ones are saved together. Missing level and parent_code are read from the code.
//	@ID				importRegions
//	@Tags			regions
//	@Accept			json
//	@Accept			application/geo+json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			coord_sys	query		string	false	"coordinate system of features without their own coord_sys (default wgs84)"	Enums(wgs84, gcj02, bd09)
//	@Param			dry_run		query		bool	false	"check and report without writing"
//	@Param			body		body		object	true	"a GeoJSON FeatureCollection"
//	@Success		200			{object}	RegionImportReport
//	@Failure		400,401,403,409,413,415,422	{object}	Problem
//	@Router			/api/v1/regions/import [post]
func (s *Server) importRegions(c *gin.Context) {
	var f errs.Fields
	dryRun := queryBool(c, &f, "dry_run")
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != geoJSONType) {
			s.fail(c, errs.E(errs.Unsupported, "send the FeatureCollection as application/geo+json or application/json"))
			return
		}
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	body, err := peekBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	rep, err := s.Regions.Import(c.Request.Context(), mustPrincipal(c), bytes.NewReader(body),
		region.ImportOptions{CoordSys: c.Query("coord_sys"), DryRun: dryRun})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := RegionImportReport{Total: rep.Total, Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged,
		Invalid: rep.Invalid, DryRun: rep.DryRun, Features: make([]RegionImportResult, len(rep.Features))}
	for i, fr := range rep.Features {
		r := RegionImportResult{Index: fr.Index, Code: fr.Code, Status: string(fr.Status)}
		for _, e := range fr.Errors {
			r.Errors = append(r.Errors, ProblemField{Field: e.Field, Rule: e.Rule, Message: e.Message})
		}
		out.Features[i] = r
	}
	c.JSON(http.StatusOK, out)
}
