package demo

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestRegionsHierarchy(t *testing.T) {
	rs, err := Regions()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]Region{}
	levels := map[string]int{}
	for _, r := range rs {
		if _, dup := seen[r.Code]; dup {
			t.Fatalf("duplicate code %s", r.Code)
		}
		if r.ParentCode != "" {
			if _, ok := seen[r.ParentCode]; !ok {
				t.Fatalf("%s comes before its parent %s", r.Code, r.ParentCode)
			}
		}
		seen[r.Code] = r
		levels[r.Level]++
	}
	if levels["district"] != 8 || levels["street"] != 136 || levels["community"] != 2005 {
		t.Fatalf("levels %v", levels)
	}
	if levels["grid"] < 4000 {
		t.Fatalf("only %d grids", levels["grid"])
	}
	// Every grid lies inside its district's (or host district's) boundary, and 15-digit codes.
	for _, r := range rs {
		if r.Level != "grid" {
			continue
		}
		if len(r.Code) != 15 || r.Code[:12] != r.ParentCode {
			t.Fatalf("grid code %s under %s", r.Code, r.ParentCode)
		}
		district := r.Code[:6]
		if h, ok := gridHost[district]; ok {
			district = h
		}
		b := seen[district].Boundary
		c := r.Boundary.Bound().Center()
		in := false
		switch v := b.(type) {
		case orb.Polygon:
			in = planar.PolygonContains(v, c)
		case orb.MultiPolygon:
			in = planar.MultiPolygonContains(v, c)
		}
		if !in {
			t.Fatalf("grid %s centre %v outside district %s", r.Code, c, district)
		}
	}
	if _, ok := seen["320613"].Boundary.(orb.MultiPolygon); !ok {
		t.Fatal("崇川区 should be the union of the old 崇川 and 港闸 boundaries")
	}
}

func TestHilbertIsAPermutation(t *testing.T) {
	const n = 16
	seen := map[uint64]bool{}
	for x := uint64(0); x < n; x++ {
		for y := uint64(0); y < n; y++ {
			d := hilbert(n, x, y)
			if d >= n*n || seen[d] {
				t.Fatalf("hilbert(%d,%d)=%d repeats or overflows", x, y, d)
			}
			seen[d] = true
		}
	}
}
