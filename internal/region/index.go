package region

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
)

// entry is one region in the index. Every region has one (ancestor chains need names); only
// those with a boundary that is not already retired are in the tree.
type entry struct {
	ref       Ref
	depth     int
	validFrom int64 // unix nanoseconds
	validTo   int64 // unix nanoseconds; math.MaxInt64 when open
	geom      orb.Geometry
}

func (e *entry) validAt(ns int64) bool { return e.validFrom <= ns && ns < e.validTo }

// index answers locate queries from memory: an R-tree over the boundaries' extents, then an
// exact point-in-polygon test on the few candidates. It is immutable once built; a reload
// builds a new one and swaps it in.
type index struct {
	version int64 // the "regions" counter when it was built
	byCode  map[string]*entry
	tree    rtree.RTreeG[*entry]
	shapes  int
	built   time.Time
}

func newIndex(version int64, now time.Time) *index {
	return &index{version: version, byCode: map[string]*entry{}, built: now}
}

// add puts r in the index; its boundary goes in the tree unless r was retired before now.
func (ix *index) add(r Region, now time.Time) {
	e := &entry{ref: r.Ref(), depth: r.Level.Depth(), validFrom: r.ValidFrom.UnixNano(), validTo: math.MaxInt64, geom: r.Boundary}
	if r.ValidTo != nil {
		e.validTo = r.ValidTo.UnixNano()
	}
	ix.byCode[r.Code] = e
	if r.Boundary == nil || e.validTo <= now.UnixNano() {
		e.geom = nil // retired for good: nothing will locate in it again
		return
	}
	b := r.Boundary.Bound()
	ix.tree.Insert([2]float64(b.Min), [2]float64(b.Max), e)
	ix.shapes++
}

// maxCandidates sizes the stack buffer for candidates; a point rarely lies in more than one
// box per level.
const maxCandidates = 16

// locate returns the deepest region in force at ns whose boundary covers pt. A point on an
// edge shared by two regions of the same level goes to the smaller code.
func (ix *index) locate(pt orb.Point, ns int64) *entry {
	var buf [maxCandidates]*entry
	cands := buf[:0]
	ix.tree.Search([2]float64(pt), [2]float64(pt), func(_, _ [2]float64, e *entry) bool {
		if e.validAt(ns) {
			cands = append(cands, e)
		}
		return true
	})
	// Deepest first, then smallest code: an insertion sort, the lists are tiny.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && before(cands[j], cands[j-1]); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	for _, e := range cands {
		if geo.Covers(e.geom, pt) {
			return e
		}
	}
	return nil
}

func before(a, b *entry) bool {
	if a.depth != b.depth {
		return a.depth > b.depth
	}
	return a.ref.Code < b.ref.Code
}

// ancestors returns the chain above e, root first.
func (ix *index) ancestors(e *entry) []Ref {
	var chain []Ref
	for code := e.ref.ParentCode; code != ""; {
		p, ok := ix.byCode[code]
		if !ok || len(chain) > len(Levels) {
			break
		}
		chain = append(chain, p.ref)
		code = p.ref.ParentCode
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// Location is where a point is: the deepest region in force that contains it and the chain
// of its ancestors.
type Location struct {
	Region    Ref
	Ancestors []Ref // root first
	// Point is the point in WGS-84; Input and CoordSys are what was sent.
	Point    geo.Point
	Input    geo.Point
	CoordSys geo.CoordSys
}

// At returns the region of the location at a level (itself or an ancestor).
func (l Location) At(level Level) (Ref, bool) {
	if l.Region.Level == level {
		return l.Region, true
	}
	for _, a := range l.Ancestors {
		if a.Level == level {
			return a, true
		}
	}
	return Ref{}, false
}

// GridCode is the code of the grid the point is in, "" when it is in no grid.
func (l Location) GridCode() string {
	if r, ok := l.At(LevelGrid); ok {
		return r.Code
	}
	return ""
}

// Locate finds the deepest region in force now whose boundary contains p (WGS-84), with its
// ancestors. It answers from memory and never touches the database. NotFound when no region
// contains the point; Invalid for coordinates out of range.
func (s *Service) Locate(ctx context.Context, p geo.Point) (Location, error) {
	return s.LocateAs(ctx, p, geo.WGS84)
}

// LocateAs is Locate for a point in coordinate system cs (wgs84, gcj02 or bd09).
func (s *Service) LocateAs(_ context.Context, p geo.Point, cs geo.CoordSys) (Location, error) {
	if err := p.Check().Err(); err != nil {
		return Location{}, err
	}
	w := geo.ToWGS84(p, cs)
	ix := s.idx.Load()
	e := ix.locate(w.Orb(), s.now().UnixNano())
	if e == nil {
		return Location{}, errs.E(errs.NotFound, "no region contains the point %.6f, %.6f", p.Lat, p.Lng).
			With("point_wgs84", map[string]float64{"lat": w.Lat, "lng": w.Lng})
	}
	return Location{Region: e.ref, Ancestors: ix.ancestors(e), Point: w, Input: p, CoordSys: cs}, nil
}

// IndexStats describes the loaded index.
type IndexStats struct {
	Version int64     // the "regions" change counter it reflects
	Regions int       // regions known (for names and ancestors)
	Shapes  int       // boundaries in the spatial tree
	Built   time.Time // when it was built
}

// Stats describes the loaded index.
func (s *Service) Stats() IndexStats {
	ix := s.idx.Load()
	return IndexStats{Version: ix.version, Regions: len(ix.byCode), Shapes: ix.shapes, Built: ix.built}
}

// Reload rebuilds the index from the database and swaps it in. Locate keeps answering from
// the old index meanwhile.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	// Read the counter first: a change committed while we scan is then seen again on the
	// next refresh, never missed.
	version, err := s.store.Counter(ctx, CounterName)
	if err != nil {
		return fmt.Errorf("reload region index: %w", err)
	}
	now := s.now()
	ix := newIndex(version, now)
	if err := s.store.ScanRegions(ctx, func(r Region) error {
		ix.add(r, now)
		return nil
	}); err != nil {
		return fmt.Errorf("reload region index: %w", err)
	}
	s.idx.Store(ix)
	s.log.Info("region index loaded", "version", version, "regions", len(ix.byCode), "shapes", ix.shapes, "duration", time.Since(start))
	return nil
}

// Refresh reloads the index when another replica (or a write here) changed regions since it
// was built, and reports whether it did.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	v, err := s.store.Counter(ctx, CounterName)
	if err != nil {
		return false, fmt.Errorf("refresh region index: %w", err)
	}
	if v == s.idx.Load().version {
		return false, nil
	}
	return true, s.Reload(ctx)
}

// Watch refreshes the index every interval until ctx ends; App.Start runs it on every
// replica so that a boundary changed through one is located by all within the interval.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("region index refresh failed", "error", err)
			}
		}
	}
}

// afterWrite reloads the index at once on the replica that wrote. A failure is logged: the
// counter has moved, so the next refresh tries again.
func (s *Service) afterWrite(ctx context.Context) {
	if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("region index reload after a write failed; the next refresh retries", "error", err)
	}
}
