package geo

import (
	"math"
	"testing"
)

func near(a, b Point, tol float64) bool {
	return math.Abs(a.Lat-b.Lat) <= tol && math.Abs(a.Lng-b.Lng) <= tol
}

// Reference values: the public formulas as published (wandergis/coordtransform's README gives
// the 116.404, 39.915 pair), recomputed independently for the other points.
func TestForwardTransforms(t *testing.T) {
	tests := []struct {
		name string
		wgs  Point
		gcj  Point
		bd   Point
	}{
		{"coordtransform README point", Point{39.915, 116.404}, Point{39.91640428150164, 116.41024449916938}, Point{39.922699552216216, 116.41662724378733}},
		{"Tiananmen", Point{39.9087, 116.3975}, Point{39.91010349934476, 116.40374357265176}, Point{39.91644274963076, 116.4101165864734}},
		{"Nantong, Haohe", Point{32.0116, 120.8642}, Point{32.009449649755766, 120.86844692617106}, Point{32.0154739859311, 120.87491980037652}},
		{"Paris (outside China)", Point{48.8584, 2.2945}, Point{48.8584, 2.2945}, Point{48.8584, 2.2945}},
		{"Tokyo (outside the box)", Point{35.6812, 139.7671}, Point{35.6812, 139.7671}, Point{35.6812, 139.7671}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WGS84ToGCJ02(tt.wgs); !near(got, tt.gcj, 1e-9) {
				t.Errorf("WGS84ToGCJ02 = %+v, want %+v", got, tt.gcj)
			}
			if got := FromWGS84(tt.wgs, BD09); !near(got, tt.bd, 1e-9) {
				t.Errorf("FromWGS84(bd09) = %+v, want %+v", got, tt.bd)
			}
			if got := GCJ02ToBD09(tt.gcj); !near(got, tt.bd, 1e-9) {
				t.Errorf("GCJ02ToBD09 = %+v, want %+v", got, tt.bd)
			}
			// The inverses land back on the WGS-84 point within 1e-7° (about 1 cm).
			if got := ToWGS84(tt.gcj, GCJ02); !near(got, tt.wgs, 1e-7) {
				t.Errorf("ToWGS84(gcj02) = %+v, want %+v", got, tt.wgs)
			}
			if got := ToWGS84(tt.bd, BD09); !near(got, tt.wgs, 1e-7) {
				t.Errorf("ToWGS84(bd09) = %+v, want %+v", got, tt.wgs)
			}
			if got := BD09ToGCJ02(tt.bd); !near(got, tt.gcj, 1e-7) {
				t.Errorf("BD09ToGCJ02 = %+v, want %+v", got, tt.gcj)
			}
		})
	}
}

// The published closed-form BD-09 inverse for the README point; ours refines it, so it must
// agree to the formula's own precision (about 1e-5°).
func TestBD09InverseAgreesWithPublishedFormula(t *testing.T) {
	got := BD09ToGCJ02(Point{39.915, 116.404})
	want := Point{39.90865673957631, 116.39762729119315}
	if !near(got, want, 2e-5) {
		t.Fatalf("BD09ToGCJ02 = %+v, want about %+v", got, want)
	}
}

func TestRoundTripsAcrossChina(t *testing.T) {
	for lat := 18.0; lat <= 53; lat += 2.5 {
		for lng := 74.0; lng <= 134; lng += 3.5 {
			w := Point{lat, lng}
			for _, cs := range CoordSystems {
				if got := ToWGS84(FromWGS84(w, cs), cs); !near(got, w, 1e-6) {
					t.Fatalf("%s round trip of %+v = %+v", cs, w, got)
				}
			}
			if g := WGS84ToGCJ02(w); near(g, w, 1e-4) {
				t.Fatalf("no GCJ-02 offset applied at %+v", w)
			}
		}
	}
}

func TestParseCoordSys(t *testing.T) {
	tests := []struct {
		in      string
		want    CoordSys
		wantErr bool
	}{
		{"", WGS84, false},
		{"wgs84", WGS84, false},
		{"WGS-84", WGS84, false},
		{"gcj02", GCJ02, false},
		{"GCJ-02", GCJ02, false},
		{"bd09", BD09, false},
		{"bd09ll", BD09, false},
		{"mercator", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCoordSys(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseCoordSys(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestPointCheck(t *testing.T) {
	tests := []struct {
		name   string
		p      Point
		fields []string
	}{
		{"ok", Point{32, 120.9}, nil},
		{"poles and antimeridian", Point{-90, 180}, nil},
		{"lat too big", Point{90.0001, 0}, []string{"lat:range"}},
		{"lng too small", Point{0, -180.5}, []string{"lng:range"}},
		{"both", Point{100, 200}, []string{"lat:range", "lng:range"}},
		{"NaN", Point{math.NaN(), 0}, []string{"lat:finite"}},
		{"Inf", Point{0, math.Inf(1)}, []string{"lng:finite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Check()
			if len(got) != len(tt.fields) {
				t.Fatalf("Check() = %v, want %v", got, tt.fields)
			}
			for i, f := range got {
				if f.Field+":"+f.Rule != tt.fields[i] {
					t.Fatalf("Check()[%d] = %s:%s, want %s", i, f.Field, f.Rule, tt.fields[i])
				}
			}
		})
	}
}
