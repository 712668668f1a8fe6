package region_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// Synthetic city for the benchmarks: 100 × 100 grids of about 400 m (0.0036° of latitude,
// 0.0042° of longitude at 32°N) in 100 communities of 10 × 10 grids, 10 streets, one district
// and one city: 10,112 regions, all with boundaries.
const (
	benchSide  = 100
	benchDLat  = 0.0036
	benchDLng  = 0.0042
	benchLat0  = 31.9
	benchLng0  = 120.6
	benchGrids = benchSide * benchSide
)

func benchFile() string {
	var fs []string
	box := func(i0, j0, n int) string {
		return string(square(benchLng0+float64(j0)*benchDLng, benchLat0+float64(i0)*benchDLat,
			benchLng0+float64(j0+n)*benchDLng, benchLat0+float64(i0+n)*benchDLat))
	}
	fs = append(fs, featureJSON("320600", "南通市", "city", "", box(-10, -10, benchSide+20)))
	fs = append(fs, featureJSON("320613", "崇川区", "district", "320600", box(0, 0, benchSide)))
	for st := 0; st < 10; st++ {
		street := fmt.Sprintf("320613%03d", st+1)
		// A street is a band of 10 × 100 grids.
		fs = append(fs, featureJSON(street, "街道", "street", "320613", string(square(benchLng0, benchLat0+float64(st*10)*benchDLat,
			benchLng0+benchSide*benchDLng, benchLat0+float64(st*10+10)*benchDLat))))
		for cm := 0; cm < 10; cm++ {
			community := fmt.Sprintf("%s%03d", street, cm+1)
			fs = append(fs, featureJSON(community, "社区", "community", street, box(st*10, cm*10, 10)))
			for g := 0; g < 100; g++ {
				i, j := st*10+g/10, cm*10+g%10
				fs = append(fs, featureJSON(fmt.Sprintf("%s%03d", community, g+1), "网格", "grid", community, box(i, j, 1)))
			}
		}
	}
	return collection(fs...)
}

func benchService(b *testing.B) (*region.Service, *store.Store) {
	b.Helper()
	s := storetest.Open(b, store.SQLite)
	svc := newService(b, s)
	rep, err := svc.Import(context.Background(), admin, strings.NewReader(benchFile()), region.ImportOptions{})
	if err != nil || rep.Created != benchGrids+112 {
		b.Fatalf("import: %+v %v", rep.Invalid, err)
	}
	if st := svc.Stats(); st.Shapes != benchGrids+112 {
		b.Fatalf("index holds %d shapes", st.Shapes)
	}
	return svc, s
}

// BenchmarkLocate measures locate over 10,000 grids, at random points inside the grid area
// (every one lands in a grid, behind four enclosing levels).
func BenchmarkLocate(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]geo.Point, 4096)
	for i := range pts {
		pts[i] = geo.Point{Lat: benchLat0 + rng.Float64()*benchSide*benchDLat, Lng: benchLng0 + rng.Float64()*benchSide*benchDLng}
	}
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		loc, err := svc.Locate(ctx, pts[i%len(pts)])
		if err != nil || loc.Region.Level != region.LevelGrid {
			b.Fatalf("%+v: %+v %v", pts[i%len(pts)], loc.Region, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLocateParallel is BenchmarkLocate from every core at once (the index is shared
// and lock-free).
func BenchmarkLocateParallel(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
		for pb.Next() {
			p := geo.Point{Lat: benchLat0 + rng.Float64()*benchSide*benchDLat, Lng: benchLng0 + rng.Float64()*benchSide*benchDLng}
			if _, err := svc.Locate(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkReload measures rebuilding the index of 10,112 regions from SQLite: what every
// replica pays after a region write.
func BenchmarkReload(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := svc.Reload(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport measures importing the 10,112-region synthetic city into an empty SQLite
// database (parse, validate, one transaction, index reload).
func BenchmarkImport(b *testing.B) {
	file := benchFile()
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		b.StopTimer()
		svc := newService(b, storetest.Open(b, store.SQLite))
		b.StartTimer()
		rep, err := svc.Import(context.Background(), admin, strings.NewReader(file), region.ImportOptions{})
		if err != nil || rep.Created != benchGrids+112 {
			b.Fatalf("import: %d created, %v", rep.Created, err)
		}
	}
}
