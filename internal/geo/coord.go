// Package geo holds the coordinate systems a point may arrive in (WGS-84 from phones, GCJ-02
// from AMap and Tencent, BD-09 from Baidu) with the public conversion formulas, and the
// validation of GeoJSON region boundaries. It is pure Go and knows nothing of storage or HTTP.
package geo

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"

	"github.com/gridcase/gridcase/internal/errs"
)

// CoordSys names a geographic coordinate system (坐标系).
type CoordSys string

// The coordinate systems gridcase accepts. Everything is stored in WGS-84 (天地图's CGCS2000
// is within centimetres of it).
const (
	WGS84 CoordSys = "wgs84" // GPS, phones, 天地图
	GCJ02 CoordSys = "gcj02" // 国测局 "Mars" coordinates: AMap (高德), Tencent
	BD09  CoordSys = "bd09"  // Baidu: GCJ-02 with a further offset
)

// CoordSystems lists the accepted values of coord_sys.
var CoordSystems = []CoordSys{WGS84, GCJ02, BD09}

// ParseCoordSys reads a coord_sys value; empty means WGS-84. Case and a dash are forgiven
// ("GCJ-02" is gcj02).
func ParseCoordSys(s string) (CoordSys, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "")
	switch norm {
	case "", "wgs84", "cgcs2000":
		return WGS84, nil
	case "gcj02":
		return GCJ02, nil
	case "bd09", "bd09ll":
		return BD09, nil
	}
	return "", fmt.Errorf("coord_sys %q is not one of wgs84, gcj02, bd09", s)
}

// Point is a position in degrees.
type Point struct {
	Lat float64
	Lng float64
}

// Orb returns the point as an orb point (x = longitude, y = latitude).
func (p Point) Orb() orb.Point { return orb.Point{p.Lng, p.Lat} }

// FromOrb converts an orb point (x = longitude, y = latitude).
func FromOrb(o orb.Point) Point { return Point{Lat: o[1], Lng: o[0]} }

// Check reports out-of-range or non-finite coordinates as field errors named lat and lng.
func (p Point) Check() errs.Fields {
	var f errs.Fields
	checkDegrees(&f, "lat", p.Lat, 90)
	checkDegrees(&f, "lng", p.Lng, 180)
	return f
}

func checkDegrees(f *errs.Fields, field string, v, limit float64) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		f.Add(field, "finite", "%s must be a finite number", field)
	case v < -limit || v > limit:
		f.Add(field, "range", "%s must be between %g and %g, not %g", field, -limit, limit, v)
	}
}

// OutOfChina reports whether p lies outside the rectangle the GCJ-02 offset is applied in;
// outside it all three systems coincide.
func OutOfChina(p Point) bool {
	return p.Lng < 72.004 || p.Lng > 137.8347 || p.Lat < 0.8293 || p.Lat > 55.8271
}

// The Krasovsky 1940 ellipsoid the GCJ-02 offset is computed on.
const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323
	bdXPi       = math.Pi * 3000.0 / 180.0
)

func offsetLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func offsetLng(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}

// WGS84ToGCJ02 applies the GCJ-02 offset (the public "eviltransform" formula).
func WGS84ToGCJ02(p Point) Point {
	if OutOfChina(p) {
		return p
	}
	dLat := offsetLat(p.Lng-105.0, p.Lat-35.0)
	dLng := offsetLng(p.Lng-105.0, p.Lat-35.0)
	radLat := p.Lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sqrtMagic) * math.Pi)
	dLng = (dLng * 180.0) / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return Point{Lat: p.Lat + dLat, Lng: p.Lng + dLng}
}

// inverseTolerance is how close (in degrees) an inverted point must map back onto its input;
// 1e-9° is about 0.1 mm, well inside the required 1e-7°.
const inverseTolerance = 1e-9

// GCJ02ToWGS84 inverts the offset by fixed-point iteration until the forward transform of
// the result lands within 1e-9° of p (usually three or four rounds).
func GCJ02ToWGS84(p Point) Point {
	if OutOfChina(p) {
		return p
	}
	w := p
	for range 30 {
		g := WGS84ToGCJ02(w)
		dLat, dLng := g.Lat-p.Lat, g.Lng-p.Lng
		if math.Abs(dLat) < inverseTolerance && math.Abs(dLng) < inverseTolerance {
			break
		}
		w.Lat -= dLat
		w.Lng -= dLng
	}
	return w
}

// GCJ02ToBD09 applies Baidu's further offset.
func GCJ02ToBD09(p Point) Point {
	if OutOfChina(p) {
		return p
	}
	x, y := p.Lng, p.Lat
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return Point{Lat: z*math.Sin(theta) + 0.006, Lng: z*math.Cos(theta) + 0.0065}
}

// BD09ToGCJ02 removes Baidu's offset: the public closed-form inverse, refined by iteration
// so that a round trip is exact to 1e-9°.
func BD09ToGCJ02(p Point) Point {
	if OutOfChina(p) {
		return p
	}
	x, y := p.Lng-0.0065, p.Lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	g := Point{Lat: z * math.Sin(theta), Lng: z * math.Cos(theta)}
	for range 10 {
		b := GCJ02ToBD09(g)
		dLat, dLng := b.Lat-p.Lat, b.Lng-p.Lng
		if math.Abs(dLat) < inverseTolerance && math.Abs(dLng) < inverseTolerance {
			break
		}
		g.Lat -= dLat
		g.Lng -= dLng
	}
	return g
}

// ToWGS84 converts p from cs to WGS-84.
func ToWGS84(p Point, cs CoordSys) Point {
	switch cs {
	case GCJ02:
		return GCJ02ToWGS84(p)
	case BD09:
		return GCJ02ToWGS84(BD09ToGCJ02(p))
	}
	return p
}

// FromWGS84 converts a WGS-84 point to cs (for showing it on a Chinese basemap).
func FromWGS84(p Point, cs CoordSys) Point {
	switch cs {
	case GCJ02:
		return WGS84ToGCJ02(p)
	case BD09:
		return GCJ02ToBD09(WGS84ToGCJ02(p))
	}
	return p
}
