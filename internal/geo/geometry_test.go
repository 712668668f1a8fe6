package geo

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseBoundary(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		rule  string // "" = valid
		field string
	}{
		{"square", `{"type":"Polygon","coordinates":[[[120,32],[120.01,32],[120.01,32.01],[120,32.01],[120,32]]]}`, "", ""},
		{"with altitude", `{"type":"Polygon","coordinates":[[[120,32,5],[120.01,32,5],[120.01,32.01,5],[120,32]]]}`, "", ""},
		{"with a hole", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[4,2],[2,2]]]}`, "", ""},
		{"repeated corner tolerated", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,1],[0,0]]]}`, "", ""},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}`, "", ""},
		{"concave (not self-intersecting)", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[2,1],[0,4],[0,0]]]}`, "", ""},
		{"point", `{"type":"Point","coordinates":[1,2]}`, RuleType, "type"},
		{"feature instead of geometry", `{"type":"Feature","geometry":null}`, RuleType, "type"},
		{"not json object", `[1,2]`, RuleFormat, ""},
		{"strings in coordinates", `{"type":"Polygon","coordinates":[[["a","b"]]]}`, RuleFormat, "coordinates"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, RuleEmpty, "coordinates"},
		{"no coordinates", `{"type":"Polygon"}`, RuleEmpty, "coordinates"},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, RuleEmpty, "coordinates"},
		{"one-number position", `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}`, RulePosition, "coordinates[0][1]"},
		{"unclosed", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, RuleClosed, "coordinates[0]"},
		{"three positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, RuleMinPositions, "coordinates[0]"},
		{"degenerate after repeats", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[0,0]]]}`, RuleMinPositions, "coordinates[0]"},
		{"nothing but a spike", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[1,0],[0,0]]]}`, RuleMinPositions, "coordinates[0]"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, RuleRange, "coordinates[0][2]"},
		{"longitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, RuleRange, "coordinates[0][1]"},
		{"bow tie", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, RuleSelfIntersection, "coordinates[0]"},
		{"pinched at a shared corner", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]]}`, "", ""},
		{"corner touching another edge", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[2,0],[0,4],[0,0]]]}`, "", ""},
		{"spike is dropped", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,1],[2,3],[2,1],[0,1],[0,0]]]}`, "", ""},
		{"spike folded back along an edge is dropped", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[3,0],[1,0],[1,1],[0,0]]]}`, "", ""},
		{"zero-width cut retraced exactly", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,6],[3,6],[3,7],[4,7],[4,6],[3,6],[0,6],[0,0]]]}`, "", ""},
		{"edges share a stretch", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,1],[2,1],[2,0],[1,0],[1,2],[0,2],[0,0]]]}`, RuleSelfIntersection, "coordinates[0]"},
		{"figure eight crossing", `{"type":"Polygon","coordinates":[[[0,0],[2,2],[4,0],[4,2],[2,0],[0,2],[0,0]]]}`, RuleSelfIntersection, "coordinates[0]"},
		{"bad hole in second polygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]],[[5.2,5.1],[5.3,5.1],[5.3,5.2],[5.25,5.3]]]]}`, RuleClosed, "coordinates[1][1]"},
		{"hole outside", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[20,20],[20,24],[24,24],[24,20],[20,20]]]}`, RuleHoleOutside, "coordinates[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, fields := ParseBoundary([]byte(tt.json))
			if tt.rule == "" {
				if len(fields) > 0 || g == nil {
					t.Fatalf("want valid, got %v", fields)
				}
				return
			}
			if len(fields) == 0 {
				t.Fatalf("want %s error at %q, got valid", tt.rule, tt.field)
			}
			if fields[0].Rule != tt.rule || fields[0].Field != tt.field {
				t.Fatalf("got %s at %q (%s), want %s at %q", fields[0].Rule, fields[0].Field, fields[0].Message, tt.rule, tt.field)
			}
			if fields[0].Message == "" {
				t.Fatal("no message")
			}
		})
	}
}

func TestSelfIntersectionMessageNamesTheRing(t *testing.T) {
	_, f := ParseBoundary([]byte(`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,1],[1,0],[0,1],[0,0]]]]}`))
	if len(f) != 1 || !strings.Contains(f[0].Message, "outer ring of polygon 1") || !strings.Contains(f[0].Message, "crosses itself") {
		t.Fatalf("message does not name the ring: %v", f)
	}
}

// circle returns a closed ring of n corners; with wobble it stays simple but is jagged.
func circle(n int, wobble bool) orb.Ring {
	r := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		rad := 0.1
		if wobble && i%2 == 1 {
			rad = 0.09
		}
		r = append(r, orb.Point{120.9 + rad*math.Cos(a), 32 + rad*math.Sin(a)})
	}
	return append(r, r[0])
}

func TestLargeRingsValidate(t *testing.T) {
	good := orb.Polygon{circle(5000, true)}
	if f := Validate(good); len(f) > 0 {
		t.Fatalf("5,000-corner simple ring refused: %v", f)
	}
	bad := circle(5000, true)
	bad[1000], bad[3500] = bad[3500], bad[1000] // two corners swapped across the ring
	if f := Validate(orb.Polygon{bad}); len(f) != 1 || f[0].Rule != RuleSelfIntersection {
		t.Fatalf("crossing in a 5,000-corner ring: %v", f)
	}
}

func BenchmarkValidate5000(b *testing.B) {
	p := orb.Polygon{circle(5000, true)}
	for b.Loop() {
		if f := Validate(p); len(f) > 0 {
			b.Fatal(f)
		}
	}
}

func TestCoversBoundariesAndHoles(t *testing.T) {
	donut := orb.Polygon{
		{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
		{{4, 4}, {4, 6}, {6, 6}, {6, 4}, {4, 4}},
	}
	tests := []struct {
		name string
		pt   orb.Point
		want bool
	}{
		{"inside", orb.Point{2, 2}, true},
		{"on outer edge", orb.Point{10, 5}, true},
		{"on outer corner", orb.Point{0, 0}, true},
		{"in hole", orb.Point{5, 5}, false},
		{"on hole edge", orb.Point{4, 5}, true},
		{"outside", orb.Point{11, 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Covers(donut, tt.pt); got != tt.want {
				t.Fatalf("Covers(%v) = %v", tt.pt, got)
			}
		})
	}
	mp := orb.MultiPolygon{donut, {{{20, 20}, {21, 20}, {21, 21}, {20, 21}, {20, 20}}}}
	if !Covers(mp, orb.Point{20.5, 20.5}) || Covers(mp, orb.Point{15, 15}) {
		t.Fatal("multipolygon cover")
	}
}

func TestTransformAndMarshal(t *testing.T) {
	p := orb.Polygon{{{120.86, 32.01}, {120.87, 32.01}, {120.87, 32.02}, {120.86, 32.01}}}
	g := Transform(p, GCJ02).(orb.Polygon)
	want := ToWGS84(Point{32.01, 120.86}, GCJ02)
	if !near(FromOrb(g[0][0]), want, 1e-12) {
		t.Fatalf("transformed %v, want %+v", g[0][0], want)
	}
	if p[0][0] != (orb.Point{120.86, 32.01}) {
		t.Fatal("Transform changed its input")
	}
	b, err := MarshalBoundary(orb.MultiPolygon{p})
	if err != nil {
		t.Fatal(err)
	}
	back, f := ParseBoundary(b)
	if len(f) > 0 || !orb.Equal(back, orb.MultiPolygon{p}) {
		t.Fatalf("round trip: %s → %v %v", b, back, f)
	}
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	if doc["type"] != "MultiPolygon" {
		t.Fatalf("marshal: %s", b)
	}
}

func TestLabelPointInsideConcaveShape(t *testing.T) {
	// A U shape whose centroid falls in the notch.
	u := orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {7, 10}, {7, 2}, {3, 2}, {3, 10}, {0, 10}, {0, 0}}}
	lp := LabelPoint(u)
	if !Covers(u, lp) {
		t.Fatalf("label point %v is outside the U", lp)
	}
	sq := orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}
	if lp := LabelPoint(sq); fmt.Sprint(lp) != "[1 1]" {
		t.Fatalf("square label %v", lp)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		in   orb.Ring
		want orb.Ring
	}{
		{"already clean", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		{"repeats", orb.Ring{{0, 0}, {0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 0}}, orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		{"spike", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {1, 3}, {1, 1}, {0, 1}, {0, 0}}, orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
		{"spike across the closing corner", orb.Ring{{5, 0}, {0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}, {5, 0}}, orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
		{"collapses", orb.Ring{{0, 0}, {1, 0}, {0, 0}}, orb.Ring{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in)
			if len(got) < 4 && len(tt.want) == 0 {
				return
			}
			// Compare as cycles: the start corner may move.
			if len(got) != len(tt.want) || !sameCycle(got[:len(got)-1], tt.want[:len(tt.want)-1]) || got[0] != got[len(got)-1] {
				t.Fatalf("Clean = %v, want %v", got, tt.want)
			}
		})
	}
}

func sameCycle(a, b orb.Ring) bool {
	if len(a) != len(b) {
		return false
	}
	for off := range a {
		ok := true
		for i := range a {
			if a[(i+off)%len(a)] != b[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Real boundaries: the districts of Nantong as ECharts ships them (quantised to 1/1024°, full
// of repeated corners, spikes, pinches and retraced cuts) must all be accepted. A trimmed copy of one ring's
// troubled stretch is enough to prove it.
func TestQuantisedBoundaryAccepted(t *testing.T) {
	ring := `[[120.9072265625,32.0517578125],[120.9072265625,32.0517578125],[120.908203125,32.0517578125],
	[120.91015625,32.05078125],[120.91015625,32.05078125],[120.9091796875,32.0498046875],[120.9091796875,32.0458984375],
	[120.9091796875,32.0458984375],[120.91015625,32.0458984375],[120.9091796875,32.0458984375],[120.9111328125,32.0458984375],
	[120.9111328125,32.0458984375],[120.912109375,32.044921875],[120.912109375,32.040],[120.90,32.040],
	[120.9072265625,32.0517578125]]`
	g, f := ParseBoundary([]byte(`{"type":"Polygon","coordinates":[` + ring + `]}`))
	if len(f) > 0 {
		t.Fatalf("refused: %v", f)
	}
	if n := len(g.(orb.Polygon)[0]); n >= 16 {
		t.Fatalf("nothing cleaned: %d positions", n)
	}
}
