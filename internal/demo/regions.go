// Package demo builds the Nantong demo city: its real districts, streets and communities
// (internal/demo/data, see ATTRIBUTION.md), synthetic grids inside the district boundaries,
// departments, the category catalogue and one user per role.
package demo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

//go:embed data/*.csv data/*.geojson
var dataFS embed.FS

// CityCode and CityName name the demo city.
const (
	CityCode = "320600"
	CityName = "南通市"
)

// oldBoundary maps a current district code to the codes of the pre-2020 boundaries that make it.
var oldBoundary = map[string][]string{
	"320612": {"320612"},
	"320613": {"320602", "320611"}, // 崇川区 absorbed 港闸区 in 2020
	"320614": {"320684"},           // 海门市 → 海门区
	"320623": {"320623"},
	"320681": {"320681"},
	"320682": {"320682"},
	"320685": {"320621"}, // 海安县 → 海安市
	// 320671 南通经济技术开发区 has no boundary of its own in the source; its grids are laid in
	// 崇川区's boundary, next to those of 崇川区's own communities.
}

// gridHost says whose boundary a district's grids are laid in when it has none of its own.
var gridHost = map[string]string{"320671": "320613"}

// Grid cell size in degrees: about 380 m × 400 m at Nantong's latitude.
const (
	cellLng = 0.004
	cellLat = 0.0036
)

// Region is one feature of the demo hierarchy.
type Region struct {
	Code, Name, Level, ParentCode string
	Boundary                      orb.Geometry // nil when unknown
}

// Regions returns the demo hierarchy, parents first: the city, its districts with boundaries,
// streets, communities, and their grids (3 for a residents' committee 社区, 2 for a village 村,
// while the district has room).
func Regions() ([]Region, error) {
	districts, err := readCSV("data/districts.csv")
	if err != nil {
		return nil, err
	}
	streets, err := readCSV("data/streets.csv")
	if err != nil {
		return nil, err
	}
	communities, err := readCSV("data/communities.csv")
	if err != nil {
		return nil, err
	}
	bounds, err := oldBoundaries()
	if err != nil {
		return nil, err
	}
	out := []Region{{Code: CityCode, Name: CityName, Level: "city"}}
	for _, d := range districts {
		var g orb.Geometry
		if olds, ok := oldBoundary[d[0]]; ok {
			var mp orb.MultiPolygon
			for _, o := range olds {
				mp = append(mp, polygons(bounds[o])...)
			}
			if len(mp) == 1 {
				g = mp[0]
			} else {
				g = mp
			}
		}
		out = append(out, Region{Code: d[0], Name: d[1], Level: "district", ParentCode: CityCode, Boundary: g})
	}
	for _, s := range streets {
		out = append(out, Region{Code: s[0], Name: s[1], Level: "street", ParentCode: s[2]})
	}
	byDistrict := map[string][][]string{}
	for _, c := range communities {
		out = append(out, Region{Code: c[0], Name: c[1], Level: "community", ParentCode: c[2]})
		byDistrict[c[0][:6]] = append(byDistrict[c[0][:6]], c)
	}

	// Lay grids: each host boundary's cells in Hilbert order, shared out among the communities
	// of the districts it hosts, in code order, so a community's grids are neighbours.
	hosts := map[string][]string{}
	for _, d := range districts {
		h := d[0]
		if gh, ok := gridHost[h]; ok {
			h = gh
		}
		hosts[h] = append(hosts[h], d[0])
	}
	hostCodes := make([]string, 0, len(hosts))
	for h := range hosts {
		hostCodes = append(hostCodes, h)
	}
	sort.Strings(hostCodes)
	boundaryOf := map[string]orb.Geometry{}
	for _, r := range out {
		if r.Level == "district" && r.Boundary != nil {
			boundaryOf[r.Code] = r.Boundary
		}
	}
	for _, h := range hostCodes {
		b, ok := boundaryOf[h]
		if !ok {
			continue
		}
		cells := cellsInside(b)
		var comms [][]string
		for _, d := range hosts[h] {
			comms = append(comms, byDistrict[d]...)
		}
		sort.Slice(comms, func(i, j int) bool { return comms[i][0] < comms[j][0] })
		next := 0
		for _, c := range comms {
			n := 2
			if strings.Contains(c[1], "社区") || strings.Contains(c[1], "居委会") {
				n = 3
			}
			for i := 1; i <= n && next < len(cells); i++ {
				out = append(out, Region{
					Code:       fmt.Sprintf("%s%03d", c[0], i),
					Name:       fmt.Sprintf("%s第%d网格", strings.TrimSuffix(strings.TrimSuffix(c[1], "居委会"), "村委会"), i),
					Level:      "grid",
					ParentCode: c[0],
					Boundary:   cells[next],
				})
				next++
			}
		}
	}
	return out, nil
}

// FeatureCollection renders regions as the GeoJSON that POST /api/v1/regions/import and
// `gridcase import regions` take.
func FeatureCollection(rs []Region) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, r := range rs {
		f := geojson.NewFeature(r.Boundary)
		if r.Boundary == nil {
			f.Geometry = nil
		}
		f.Properties = geojson.Properties{"code": r.Code, "name": r.Name, "level": r.Level}
		if r.ParentCode != "" {
			f.Properties["parent_code"] = r.ParentCode
		}
		fc.Append(f)
	}
	return fc
}

func readCSV(name string) ([][]string, error) {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read demo %s: %w", name, err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse demo %s: %w", name, err)
	}
	return rows[1:], nil
}

func oldBoundaries() (map[string]orb.Geometry, error) {
	b, err := dataFS.ReadFile("data/districts.geojson")
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("parse demo boundaries: %w", err)
	}
	out := map[string]orb.Geometry{}
	for _, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		out[code] = cleanGeometry(f.Geometry)
	}
	return out, nil
}

func polygons(g orb.Geometry) []orb.Polygon {
	switch v := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{v}
	case orb.MultiPolygon:
		return v
	}
	return nil
}

// cleanGeometry drops repeated consecutive points (the source has some) and closes rings.
func cleanGeometry(g orb.Geometry) orb.Geometry {
	cleanRing := func(r orb.Ring) orb.Ring {
		out := make(orb.Ring, 0, len(r))
		for i, p := range r {
			if i > 0 && p == out[len(out)-1] {
				continue
			}
			out = append(out, p)
		}
		if len(out) > 0 && out[0] != out[len(out)-1] {
			out = append(out, out[0])
		}
		return out
	}
	cleanPoly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, 0, len(p))
		for _, r := range p {
			if r = cleanRing(r); len(r) >= 4 {
				out = append(out, r)
			}
		}
		return out
	}
	switch v := g.(type) {
	case orb.Polygon:
		return cleanPoly(v)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, 0, len(v))
		for _, p := range v {
			if p = cleanPoly(p); len(p) > 0 {
				out = append(out, p)
			}
		}
		return out
	}
	return g
}

// cellsInside returns the lattice cells wholly inside g, in Hilbert-curve order. Corners are
// tested with the even-odd rule against the crossings of each lattice row line, so the cost
// is one pass over the edges per row rather than per cell.
func cellsInside(g orb.Geometry) []orb.Polygon {
	bound := g.Bound()
	var rings []orb.Ring
	for _, p := range polygons(g) {
		rings = append(rings, p...)
	}
	x0 := math.Floor(bound.Min[0]/cellLng) * cellLng
	y0 := math.Floor(bound.Min[1]/cellLat) * cellLat
	nx := int(math.Ceil((bound.Max[0]-x0)/cellLng)) + 1
	ny := int(math.Ceil((bound.Max[1]-y0)/cellLat)) + 1
	// insideRow[j][i] reports whether lattice corner (i, j) lies inside g.
	insideRow := make([][]bool, ny)
	for j := range ny {
		y := round6(y0 + float64(j)*cellLat)
		var xs []float64
		for _, r := range rings {
			for k := 0; k+1 < len(r); k++ {
				a, b := r[k], r[k+1]
				if (a[1] <= y && y < b[1]) || (b[1] <= y && y < a[1]) {
					xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
				}
			}
		}
		sort.Float64s(xs)
		row := make([]bool, nx)
		c := 0
		for i := range nx {
			x := round6(x0 + float64(i)*cellLng)
			for c < len(xs) && xs[c] < x {
				c++
			}
			row[i] = c%2 == 1
		}
		insideRow[j] = row
	}
	type cell struct {
		h    uint64
		poly orb.Polygon
	}
	var cells []cell
	for j := 0; j+1 < ny; j++ {
		for i := 0; i+1 < nx; i++ {
			if !(insideRow[j][i] && insideRow[j][i+1] && insideRow[j+1][i] && insideRow[j+1][i+1]) {
				continue
			}
			minX, minY := round6(x0+float64(i)*cellLng), round6(y0+float64(j)*cellLat)
			maxX, maxY := round6(x0+float64(i+1)*cellLng), round6(y0+float64(j+1)*cellLat)
			ring := orb.Ring{{minX, minY}, {maxX, minY}, {maxX, maxY}, {minX, maxY}, {minX, minY}}
			cells = append(cells, cell{h: hilbert(1<<12, uint64(i), uint64(j)), poly: orb.Polygon{ring}})
		}
	}
	sort.Slice(cells, func(a, b int) bool { return cells[a].h < cells[b].h })
	out := make([]orb.Polygon, len(cells))
	for i, c := range cells {
		out[i] = c.poly
	}
	return out
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// hilbert maps (x, y) in an n×n grid (n a power of two) to its distance along the Hilbert
// curve, so that consecutive cells are neighbours.
func hilbert(n, x, y uint64) uint64 {
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x, y = s-1-x, s-1-y
			}
			x, y = y, x
		}
	}
	return d
}
