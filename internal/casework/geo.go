package casework

import "math"

// earthRadius is the mean Earth radius in metres (IUGG).
const earthRadius = 6371008.8

// Box is a latitude/longitude rectangle, the cheap prefilter before an exact distance.
type Box struct {
	MinLat, MaxLat, MinLng, MaxLng float64
}

// BoxAround returns a box that holds every point within radius metres of p (a little more
// near the poles, never less).
func BoxAround(p Point, radius float64) Box {
	dLat := radius / earthRadius * 180 / math.Pi
	cos := math.Cos(p.Lat * math.Pi / 180)
	dLng := 180.0
	if cos > 1e-6 {
		dLng = math.Min(180, dLat/cos)
	}
	return Box{MinLat: p.Lat - dLat, MaxLat: p.Lat + dLat, MinLng: p.Lng - dLng, MaxLng: p.Lng + dLng}
}

// Distance is the great-circle (haversine) distance between two WGS-84 points in metres.
func Distance(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
