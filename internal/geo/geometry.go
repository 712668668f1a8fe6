package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/gridcase/gridcase/internal/errs"
)

// Boundary rules, named in field errors so that a caller can tell them apart.
const (
	RuleType             = "type"              // not a Polygon or MultiPolygon
	RuleFormat           = "format"            // not readable as GeoJSON coordinates
	RuleEmpty            = "empty"             // no rings or no polygons
	RulePosition         = "position"          // a position with fewer than two numbers
	RuleRange            = "range"             // a longitude or latitude out of range
	RuleClosed           = "closed"            // a ring whose first and last positions differ
	RuleMinPositions     = "min_positions"     // a ring of fewer than four positions
	RuleSelfIntersection = "self_intersection" // a ring that crosses itself or overlaps itself
	RuleHoleOutside      = "hole_outside"      // a hole that is not inside its polygon
)

// maxProblems bounds how many problems one geometry reports.
const maxProblems = 10

// ParseBoundary reads a GeoJSON geometry that must be a Polygon or MultiPolygon and validates
// it. Field names in the errors are relative to the geometry ("coordinates[0][2]"); prefix
// them with where the geometry sits.
func ParseBoundary(raw []byte) (orb.Geometry, errs.Fields) {
	var f errs.Fields
	var doc struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		f.Add("", RuleFormat, "the geometry is not a GeoJSON object: %v", err)
		return nil, f
	}
	coords := bytes.TrimSpace(doc.Coordinates)
	if len(coords) == 0 || bytes.Equal(coords, []byte("null")) {
		if doc.Type != "Polygon" && doc.Type != "MultiPolygon" {
			f.Add("type", RuleType, "the geometry must be a Polygon or MultiPolygon, not %q", doc.Type)
		} else {
			f.Add("coordinates", RuleEmpty, "the %s has no coordinates", doc.Type)
		}
		return nil, f
	}
	var g orb.Geometry
	switch doc.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(coords, &c); err != nil {
			f.Add("coordinates", RuleFormat, "Polygon coordinates must be an array of rings of [lng, lat] positions: %v", err)
			return nil, f
		}
		p, ok := polygonFrom(&f, "coordinates", c)
		if !ok {
			return nil, f
		}
		g = p
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(coords, &c); err != nil {
			f.Add("coordinates", RuleFormat, "MultiPolygon coordinates must be an array of polygons of rings of [lng, lat] positions: %v", err)
			return nil, f
		}
		if len(c) == 0 {
			f.Add("coordinates", RuleEmpty, "the MultiPolygon has no polygons")
			return nil, f
		}
		mp := make(orb.MultiPolygon, 0, len(c))
		for i, pc := range c {
			p, ok := polygonFrom(&f, fmt.Sprintf("coordinates[%d]", i), pc)
			if !ok {
				return nil, f
			}
			mp = append(mp, p)
		}
		g = mp
	default:
		f.Add("type", RuleType, "the geometry must be a Polygon or MultiPolygon, not %q", doc.Type)
		return nil, f
	}
	if f = Validate(g); len(f) > 0 {
		return nil, f
	}
	return CleanGeometry(g), nil
}

// CleanGeometry applies Clean to every ring of a Polygon or MultiPolygon.
func CleanGeometry(g orb.Geometry) orb.Geometry {
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = Clean(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Polygon:
		return poly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = poly(p)
		}
		return out
	}
	return g
}

// polygonFrom converts decoded coordinates, reporting positions with fewer than two numbers.
func polygonFrom(f *errs.Fields, field string, c [][][]float64) (orb.Polygon, bool) {
	if len(c) == 0 {
		f.Add(field, RuleEmpty, "the polygon has no rings")
		return nil, false
	}
	p := make(orb.Polygon, len(c))
	for i, rc := range c {
		r := make(orb.Ring, len(rc))
		for j, pos := range rc {
			if len(pos) < 2 {
				f.Add(fmt.Sprintf("%s[%d][%d]", field, i, j), RulePosition, "a position needs a longitude and a latitude, got %d numbers", len(pos))
				return nil, false
			}
			r[j] = orb.Point{pos[0], pos[1]} // an altitude, if any, is dropped
		}
		p[i] = r
	}
	return p, true
}

// Validate checks a Polygon or MultiPolygon: coordinates in range, every ring closed with at
// least four positions (three distinct corners once repeated corners and spikes are dropped,
// see Clean), no ring crossing itself or running back along itself, and every hole inside
// its polygon. Holes are allowed, and so are a ring pinched at a single point and an edge
// retraced exactly backwards (a zero-width cut): real boundaries carry both.
func Validate(g orb.Geometry) errs.Fields {
	var f errs.Fields
	switch g := g.(type) {
	case orb.Polygon:
		validatePolygon(&f, "coordinates", "the polygon", g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			f.Add("coordinates", RuleEmpty, "the MultiPolygon has no polygons")
		}
		for i, p := range g {
			validatePolygon(&f, fmt.Sprintf("coordinates[%d]", i), fmt.Sprintf("polygon %d", i), p)
			if len(f) >= maxProblems {
				break
			}
		}
	case nil:
		f.Add("", RuleEmpty, "no geometry")
	default:
		f.Add("type", RuleType, "the geometry must be a Polygon or MultiPolygon, not %s", g.GeoJSONType())
	}
	return f
}

func validatePolygon(f *errs.Fields, field, name string, p orb.Polygon) {
	if len(p) == 0 {
		f.Add(field, RuleEmpty, "%s has no rings", name)
		return
	}
	ok := true
	for i, r := range p {
		ringName := fmt.Sprintf("the outer ring of %s", name)
		if i > 0 {
			ringName = fmt.Sprintf("hole %d of %s", i, name)
		}
		if !validateRing(f, fmt.Sprintf("%s[%d]", field, i), ringName, r) {
			ok = false
		}
		if len(*f) >= maxProblems {
			return
		}
	}
	if !ok {
		return
	}
	shell := p[0].Bound()
	for i, h := range p[1:] {
		// A hole must lie inside its shell: checked on one of its corners and its extent (a
		// full ring-versus-ring crossing test is beyond what boundaries from a map need).
		if !shell.Contains(h.Bound().Min) || !shell.Contains(h.Bound().Max) || !planar.RingContains(p[0], h[0]) {
			f.Add(fmt.Sprintf("%s[%d]", field, i+1), RuleHoleOutside, "hole %d of %s lies outside its outer ring", i+1, name)
		}
	}
}

// validateRing checks one ring and reports whether it passed.
func validateRing(f *errs.Fields, field, name string, r orb.Ring) bool {
	before := len(*f)
	for j, pt := range r {
		lng, lat := pt[0], pt[1]
		if math.IsNaN(lng) || math.IsInf(lng, 0) || math.IsNaN(lat) || math.IsInf(lat, 0) ||
			lng < -180 || lng > 180 || lat < -90 || lat > 90 {
			f.Add(fmt.Sprintf("%s[%d]", field, j), RuleRange, "position %d of %s, [%g, %g], is out of range: longitude must be within ±180 and latitude within ±90", j, name, lng, lat)
			return false
		}
	}
	if len(r) < 4 {
		f.Add(field, RuleMinPositions, "%s has %d positions; a ring needs at least 4 (the first repeated last)", name, len(r))
		return false
	}
	if r[0] != r[len(r)-1] {
		f.Add(field, RuleClosed, "%s is not closed: its first position %v differs from its last %v", name, [2]float64(r[0]), [2]float64(r[len(r)-1]))
		return false
	}
	pts := Clean(r)
	if len(pts) < 4 {
		f.Add(field, RuleMinPositions, "%s has fewer than 3 distinct corners", name)
		return false
	}
	if i, j, at, found := selfIntersection(pts); found {
		f.Add(field, RuleSelfIntersection, "%s crosses itself: its edge %d meets its edge %d near [%.7f, %.7f]", name, i, j, at[0], at[1])
	}
	return len(*f) == before
}

// Clean drops what carries no area from a closed ring: repeated corners and spikes (a corner
// where the ring runs out along a line and straight back, A→B→A). Boundaries exported with
// quantised coordinates (ECharts' maps, simplified shapes) are full of both; they are
// harmless to a point-in-polygon test but would read as the ring touching itself. The result
// is closed; a ring that collapses entirely comes back with fewer than four positions.
func Clean(r orb.Ring) orb.Ring {
	if len(r) == 0 {
		return r
	}
	pts := make([]orb.Point, 0, len(r))
	for _, p := range r {
		if len(pts) > 0 && pts[len(pts)-1] == p {
			continue
		}
		pts = append(pts, p)
	}
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1] // work on the cycle of distinct corners
	}
	for changed := true; changed && len(pts) >= 3; {
		changed = false
		out := make([]orb.Point, 0, len(pts))
		n := len(pts)
		for i := 0; i < n; i++ {
			prev, cur, next := pts[(i+n-1)%n], pts[i], pts[(i+1)%n]
			if len(out) > 0 {
				prev = out[len(out)-1]
			}
			if cur == prev || isSpike(prev, cur, next) {
				changed = true
				continue
			}
			out = append(out, cur)
		}
		pts = out
	}
	if len(pts) == 0 {
		return orb.Ring{}
	}
	return append(orb.Ring(pts), pts[0])
}

// isSpike reports whether the ring, coming from prev through cur to next, turns straight back.
func isSpike(prev, cur, next orb.Point) bool {
	if prev == next {
		return true
	}
	if orient(prev, cur, next) != 0 {
		return false
	}
	return (cur[0]-prev[0])*(next[0]-cur[0])+(cur[1]-prev[1])*(next[1]-cur[1]) < 0
}

type segment struct {
	a, b       orb.Point
	minX, maxX float64
	minY, maxY float64
	i          int
}

// selfIntersection finds two edges of a closed ring (pts[0] == pts[len-1]) that cross, or
// that run along each other (including neighbours folding back in a spike). Edges that only
// touch at one point, or one edge retracing another exactly, are accepted (see edgesMeet). Edges are swept in order of their left end, so a ring of a few
// thousand corners is checked in milliseconds.
func selfIntersection(pts []orb.Point) (i, j int, at orb.Point, found bool) {
	n := len(pts) - 1 // edges
	segs := make([]segment, n)
	for k := 0; k < n; k++ {
		a, b := pts[k], pts[k+1]
		segs[k] = segment{a: a, b: b, minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0]),
			minY: math.Min(a[1], b[1]), maxY: math.Max(a[1], b[1]), i: k}
	}
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	sort.Slice(order, func(x, y int) bool { return segs[order[x]].minX < segs[order[y]].minX })
	for x := 0; x < n; x++ {
		s := &segs[order[x]]
		for y := x + 1; y < n; y++ {
			t := &segs[order[y]]
			if t.minX > s.maxX {
				break
			}
			if t.minY > s.maxY || t.maxY < s.minY {
				continue
			}
			lo, hi := s.i, t.i
			if lo > hi {
				lo, hi = hi, lo
			}
			adjacent := hi-lo == 1 || (lo == 0 && hi == n-1)
			if p, ok := edgesMeet(s, t, adjacent); ok {
				return lo, hi, p, true
			}
		}
	}
	return 0, 0, orb.Point{}, false
}

// orient is the sign of the cross product (b-a)×(c-a): >0 left turn, <0 right, 0 collinear.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// onSegment reports whether c, collinear with a-b, lies within a-b's extent.
func onSegment(a, b, c orb.Point) bool {
	return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
}

// edgesMeet tests two edges. Neighbours (adjacent) share a corner by construction and only
// fail when they overlap along a line (a spike); other edges fail when they cross or share a
// stretch of line.
func edgesMeet(s, t *segment, adjacent bool) (orb.Point, bool) {
	if adjacent {
		// Find the shared corner and the two far ends.
		var shared, p, q orb.Point
		switch {
		case s.b == t.a:
			shared, p, q = s.b, s.a, t.b
		case t.b == s.a:
			shared, p, q = s.a, s.b, t.a
		default:
			shared, p, q = s.b, s.a, t.b
		}
		if orient(p, shared, q) == 0 {
			// Collinear neighbours overlap when the ring turns back on itself.
			d := (shared[0]-p[0])*(q[0]-shared[0]) + (shared[1]-p[1])*(q[1]-shared[1])
			if d < 0 {
				return shared, true
			}
		}
		return orb.Point{}, false
	}
	a, b, c, d := s.a, s.b, t.a, t.b
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	if o1*o2 < 0 && o3*o4 < 0 {
		return intersectionPoint(a, b, c, d), true // a proper crossing
	}
	if o1 == 0 && o2 == 0 && !(a == d && b == c) {
		// All four collinear: refused when they share a stretch, not just an end, unless
		// one edge retraces the other exactly (a zero-width cut, which quantised maps make
		// of a narrow passage and which leaves inside and outside unambiguous).
		axis := 0
		if math.Abs(b[0]-a[0]) < math.Abs(b[1]-a[1]) {
			axis = 1
		}
		lo := math.Max(math.Min(a[axis], b[axis]), math.Min(c[axis], d[axis]))
		hi := math.Min(math.Max(a[axis], b[axis]), math.Max(c[axis], d[axis]))
		if hi > lo {
			mid := lo + (hi-lo)/2
			if axis == 0 {
				return orb.Point{mid, a[1] + (mid-a[0])*(b[1]-a[1])/(b[0]-a[0])}, true
			}
			return orb.Point{a[0] + (mid-a[1])*(b[0]-a[0])/(b[1]-a[1]), mid}, true
		}
	}
	// Touching at a single point (a ring pinched at a corner) is accepted: it encloses no
	// ambiguity for deciding which side a point is on, and real boundaries carry it.
	return orb.Point{}, false
}

func intersectionPoint(a, b, c, d orb.Point) orb.Point {
	den := (a[0]-b[0])*(c[1]-d[1]) - (a[1]-b[1])*(c[0]-d[0])
	if den == 0 {
		return a
	}
	t := ((a[0]-c[0])*(c[1]-d[1]) - (a[1]-c[1])*(c[0]-d[0])) / den
	return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}

// Transform returns a copy of g with every position converted from cs to WGS-84.
func Transform(g orb.Geometry, cs CoordSys) orb.Geometry {
	if cs == WGS84 || cs == "" {
		return g
	}
	conv := func(r orb.Ring) orb.Ring {
		out := make(orb.Ring, len(r))
		for i, p := range r {
			out[i] = ToWGS84(FromOrb(p), cs).Orb()
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = conv(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Polygon:
		return poly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = poly(p)
		}
		return out
	}
	return g
}

// MarshalBoundary writes g as a GeoJSON geometry object.
func MarshalBoundary(g orb.Geometry) ([]byte, error) {
	var doc struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}
	switch g := g.(type) {
	case orb.Polygon:
		doc.Type, doc.Coordinates = "Polygon", polygonCoords(g)
	case orb.MultiPolygon:
		cs := make([][][][2]float64, len(g))
		for i, p := range g {
			cs[i] = polygonCoords(p)
		}
		doc.Type, doc.Coordinates = "MultiPolygon", cs
	default:
		return nil, fmt.Errorf("marshal boundary: %T is not a polygon", g)
	}
	return json.Marshal(doc)
}

func polygonCoords(p orb.Polygon) [][][2]float64 {
	out := make([][][2]float64, len(p))
	for i, r := range p {
		rc := make([][2]float64, len(r))
		for j, pt := range r {
			rc[j] = [2]float64(pt)
		}
		out[i] = rc
	}
	return out
}

// Covers reports whether the point lies in g or on its boundary (a point on the edge of a hole
// counts as inside, like one on the outer ring: boundaries belong to both sides).
func Covers(g orb.Geometry, pt orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return polygonCovers(g, pt)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonCovers(p, pt) {
				return true
			}
		}
	}
	return false
}

func polygonCovers(p orb.Polygon, pt orb.Point) bool {
	if len(p) == 0 || !planar.RingContains(p[0], pt) {
		return false
	}
	for _, h := range p[1:] {
		if planar.RingContains(h, pt) && !onRing(h, pt) {
			return false
		}
	}
	return true
}

func onRing(r orb.Ring, pt orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		if orient(r[i], r[i+1], pt) == 0 && onSegment(r[i], r[i+1], pt) {
			return true
		}
	}
	return false
}

// LabelPoint returns a point inside g fit for a label or a map marker: the centroid of its
// largest polygon when that lies inside, otherwise the middle of the widest stretch of that
// polygon along the horizontal line through the centroid.
func LabelPoint(g orb.Geometry) orb.Point {
	var largest orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		largest = g
	case orb.MultiPolygon:
		best := -1.0
		for _, p := range g {
			if a := math.Abs(planar.Area(p)); a > best {
				best, largest = a, p
			}
		}
	}
	if len(largest) == 0 {
		return orb.Point{}
	}
	c, _ := planar.CentroidArea(largest)
	if polygonCovers(largest, c) {
		return c
	}
	// Scan the line y = c.y: collect crossings with every ring, pair them up, keep the widest.
	y := c[1]
	var xs []float64
	for _, r := range largest {
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if (a[1] > y) != (b[1] > y) {
				xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	sort.Float64s(xs)
	bestW, best := -1.0, largest[0][0]
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > bestW {
			bestW, best = w, orb.Point{(xs[i] + xs[i+1]) / 2, y}
		}
	}
	return best
}

// DecodeBoundary reads a stored Polygon or MultiPolygon (written by MarshalBoundary after
// ParseBoundary accepted it) without validating it again.
func DecodeBoundary(raw []byte) (orb.Geometry, error) {
	var doc struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode boundary: %w", err)
	}
	f := errs.Fields{}
	switch doc.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(doc.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("decode boundary: %w", err)
		}
		if p, ok := polygonFrom(&f, "coordinates", c); ok {
			return p, nil
		}
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(doc.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("decode boundary: %w", err)
		}
		mp := make(orb.MultiPolygon, 0, len(c))
		for _, pc := range c {
			p, ok := polygonFrom(&f, "coordinates", pc)
			if !ok {
				break
			}
			mp = append(mp, p)
		}
		if len(f) == 0 {
			return mp, nil
		}
	default:
		return nil, fmt.Errorf("decode boundary: %q is not a polygon type", doc.Type)
	}
	return nil, fmt.Errorf("decode boundary: %v", f.Err())
}
