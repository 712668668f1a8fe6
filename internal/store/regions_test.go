package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

func regionAt(code, name string, level region.Level, parent, parentPath string, from time.Time) *region.Region {
	return &region.Region{Code: code, Name: name, Level: level, ParentCode: parent, Path: region.PathOf(parentPath, code),
		CoordSys: geo.WGS84, ValidFrom: from}
}

func TestRegionStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		city := regionAt("320600", "南通市", region.LevelCity, "", "", from)
		box := orb.Polygon{{{120.8, 32.0}, {120.9, 32.0}, {120.9, 32.1}, {120.8, 32.0}}}
		city.Boundary, city.Center = box, &geo.Point{Lat: 32.03, Lng: 120.87}
		district := regionAt("320613", "崇川区", region.LevelDistrict, "320600", city.Path, from)
		street := regionAt("320613001", "100%_街道", region.LevelStreet, "320613", district.Path, from)
		other := regionAt("320612", "通州区", region.LevelDistrict, "320600", city.Path, from)
		// A district whose path sorts right after 320613's subtree: the range must stop short of it.
		after := regionAt("3206130", "边界", region.LevelDistrict, "320600", city.Path, from)
		if err := s.SaveRegions(ctx, []*region.Region{city, district, street, other, after}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if city.ID == 0 || street.ID == 0 || city.CreatedAt.IsZero() {
			t.Fatalf("ids and times not set: %+v", city)
		}
		if n, _ := s.Counter(ctx, region.CounterName); n != 1 {
			t.Fatalf("counter %d after one save", n)
		}

		got, err := s.RegionByCode(ctx, "320600")
		if err != nil || !orb.Equal(got.Boundary, box) || got.Bound == nil || got.Bound.Max != (orb.Point{120.9, 32.1}) || got.Center.Lat != 32.03 || !got.ValidFrom.Equal(from) {
			t.Fatalf("read back %+v %v", got, err)
		}
		if _, err := s.RegionByCode(ctx, "999999"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown: %v", err)
		}

		list := func(f region.Filter) []string {
			t.Helper()
			rs, err := s.ListRegions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, r := range rs {
				if !f.WithBoundary && r.Boundary != nil {
					t.Fatal("boundary loaded for a list")
				}
				codes = append(codes, r.Code)
			}
			return codes
		}
		eq := func(name string, got []string, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: %v, want %v", name, got, want)
				}
			}
		}
		eq("roots", list(region.Filter{HasParent: true}), "320600")
		eq("children", list(region.Filter{HasParent: true, Parent: "320600"}), "320612", "320613", "3206130")
		eq("subtree", list(region.Filter{Under: district.Path}), "320613", "320613001")
		eq("level in subtree", list(region.Filter{Under: city.Path, Levels: []region.Level{region.LevelStreet}}), "320613001")
		eq("name with LIKE wildcards", list(region.Filter{NameContains: "%_"}), "320613001")
		eq("name wildcard not special", list(region.Filter{NameContains: "_区"}))
		eq("after", list(region.Filter{After: "320612", Limit: 1}), "320613")

		// Retiring the district retires its street with it, not its neighbours.
		retired := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
		r, err := s.UpdateRegion(ctx, "320613", func(r *region.Region) error {
			r.ValidTo = &retired
			return nil
		})
		if err != nil || r.ValidTo == nil {
			t.Fatalf("retire: %+v %v", r, err)
		}
		now := time.Now()
		eq("valid now", list(region.Filter{ValidAt: &now}), "320600", "320612", "3206130")
		if st, _ := s.RegionByCode(ctx, "320613001"); st.ValidTo == nil || !st.ValidTo.Equal(retired) {
			t.Fatalf("street not retired with its district: %v", st.ValidTo)
		}
		if n, _ := s.Counter(ctx, region.CounterName); n != 2 {
			t.Fatalf("counter %d after the update", n)
		}

		// A failed save writes nothing and does not bump the counter.
		dup := regionAt("320612", "重复", region.LevelDistrict, "320600", city.Path, from)
		fresh := regionAt("320614", "海门区", region.LevelDistrict, "320600", city.Path, from)
		if err := s.SaveRegions(ctx, []*region.Region{fresh, dup}, nil, nil); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("duplicate code: %v", err)
		}
		if rs, _ := s.RegionsByCodes(ctx, []string{"320614"}, false); len(rs) != 0 {
			t.Fatal("half an import was written")
		}
		if n, _ := s.Counter(ctx, region.CounterName); n != 2 {
			t.Fatalf("counter %d after a failed save", n)
		}
		orphan := regionAt("320699001", "无主", region.LevelStreet, "320699", "/320600/320699/", from)
		if err := s.SaveRegions(ctx, []*region.Region{orphan}, nil, nil); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("missing parent row: %v", err)
		}
		if _, err := s.UpdateRegion(ctx, "999999", func(*region.Region) error { return nil }); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("update unknown: %v", err)
		}

		var scanned int
		if err := s.ScanRegions(ctx, func(r region.Region) error {
			scanned++
			if r.Code == "320600" && r.Boundary == nil {
				t.Error("scan without boundary")
			}
			return nil
		}); err != nil || scanned != 5 {
			t.Fatalf("scan %d %v", scanned, err)
		}
	})
}
