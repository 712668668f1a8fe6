package region

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// Config sets up a Service.
type Config struct {
	Log *slog.Logger
	Now func() time.Time // the clock; time.Now by default
}

// Service manages regions and grids and answers locate queries from a spatial index that it
// keeps fresh: a write reloads it at once, and Watch picks up other replicas' writes.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	idx      atomic.Pointer[index]
	reloadMu sync.Mutex
}

// NewService builds the service on st and loads the index.
func NewService(ctx context.Context, st Store, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("region: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{store: st, log: cfg.Log, now: cfg.Now}
	s.idx.Store(newIndex(-1, s.now()))
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// RegionPath returns the materialized path of a region ("/320600/320613/320613001/"), from
// memory when the index knows it; NotFound for an unknown code. Identity resolves data scopes
// with it.
func (s *Service) RegionPath(ctx context.Context, code string) (string, error) {
	if e, ok := s.idx.Load().byCode[code]; ok {
		return e.ref.Path, nil
	}
	if !IsDigits(code) {
		return "", errs.NotFoundf("no region %q", code)
	}
	rs, err := s.store.RegionsByCodes(ctx, []string{code}, false)
	if err != nil {
		return "", err
	}
	if len(rs) == 0 {
		return "", errs.NotFoundf("no region %s", code)
	}
	return rs[0].Path, nil
}

// Detail is a region with its boundary and its ancestors.
type Detail struct {
	Region
	Ancestors []Ref // root first
}

// Get returns one region with its boundary and ancestors; NotFound when none (retired
// regions are found too).
func (s *Service) Get(ctx context.Context, code string) (Detail, error) {
	if !IsDigits(code) {
		return Detail{}, errs.NotFoundf("no region %q", code)
	}
	r, err := s.store.RegionByCode(ctx, code)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Detail{}, errs.NotFoundf("no region %s", code)
		}
		return Detail{}, err
	}
	d := Detail{Region: r}
	if codes := AncestorCodes(r.Path); len(codes) > 0 {
		as, err := s.store.RegionsByCodes(ctx, codes, false)
		if err != nil {
			return Detail{}, err
		}
		byCode := make(map[string]Region, len(as))
		for _, a := range as {
			byCode[a.Code] = a
		}
		for _, c := range codes {
			if a, ok := byCode[c]; ok {
				d.Ancestors = append(d.Ancestors, a.Ref())
			}
		}
	}
	return d, nil
}

// Children lists the regions directly under code ("" for the roots), in force now unless
// includeRetired.
func (s *Service) Children(ctx context.Context, code string, includeRetired bool) ([]Region, error) {
	p, err := s.List(ctx, ListQuery{Parent: code, IncludeRetired: includeRetired, Limit: MaxListLimit})
	return p.Regions, err
}

// Subtree lists the regions of one level under code (code itself when it is of that level),
// in force now unless includeRetired, in code order and without boundaries: e.g. every grid
// of a street, for statistics or a dispatcher's desk. NotFound for an unknown code.
func (s *Service) Subtree(ctx context.Context, code string, level Level, includeRetired bool) ([]Region, error) {
	if !level.Valid() {
		return nil, errs.Fields{{Field: "level", Rule: "enum", Message: "level must be one of city, district, street, community, grid"}}.Err()
	}
	path, err := s.RegionPath(ctx, code)
	if err != nil {
		return nil, err
	}
	f := Filter{Under: path, Levels: []Level{level}}
	if !includeRetired {
		now := s.now().UTC()
		f.ValidAt = &now
	}
	return s.store.ListRegions(ctx, f)
}

// List limits.
const (
	DefaultListLimit = 500
	MaxListLimit     = 5000
)

// ListQuery selects regions for a list.
type ListQuery struct {
	// Parent: the children of this region, or with Level or Q its whole subtree; "" for the
	// roots, or with Level or Q everything.
	Parent         string
	Level          Level
	Q              string // a part of the name (名称包含)
	IncludeRetired bool
	WithBoundary   bool
	After          string // the last code of the previous page
	Limit          int    // DefaultListLimit when 0, at most MaxListLimit
}

// Page is one page of regions in code order; Next is the After of the next page, "" on the
// last.
type Page struct {
	Regions []Region
	Next    string
}

// List returns regions: the children of a parent (the roots without one), or with a level or
// a name search the parent's subtree (everything without one). Retired regions are left out
// unless asked for. NotFound when the parent does not exist.
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	var f errs.Fields
	if q.Level != "" && !q.Level.Valid() {
		f.Add("level", "enum", "level must be one of city, district, street, community, grid")
	}
	if q.Limit < 0 || q.Limit > MaxListLimit {
		f.Add("limit", "range", "limit must be between 1 and %d", MaxListLimit)
	}
	if q.After != "" && !IsDigits(q.After) {
		f.Add("after", "digits", "after must be a region code")
	}
	q.Q = strings.TrimSpace(q.Q)
	if len([]rune(q.Q)) > 50 {
		f.Add("q", "length", "q must be at most 50 characters")
	}
	if err := f.Err(); err != nil {
		return Page{}, err
	}
	if q.Limit == 0 {
		q.Limit = DefaultListLimit
	}
	filter := Filter{After: q.After, Limit: q.Limit + 1, WithBoundary: q.WithBoundary, NameContains: q.Q}
	if q.Level != "" {
		filter.Levels = []Level{q.Level}
	}
	if !q.IncludeRetired {
		now := s.now().UTC()
		filter.ValidAt = &now
	}
	var parent *Detail
	if q.Parent != "" {
		d, err := s.Get(ctx, q.Parent)
		if err != nil {
			return Page{}, err
		}
		parent = &d
	}
	switch {
	case q.Level != "" || q.Q != "":
		if parent != nil {
			filter.Under = parent.Path
		}
	case parent != nil:
		filter.Parent, filter.HasParent = parent.Code, true
	default:
		filter.Parent, filter.HasParent = "", true
	}
	rs, err := s.store.ListRegions(ctx, filter)
	if err != nil {
		return Page{}, err
	}
	p := Page{Regions: rs}
	if len(rs) > q.Limit {
		p.Regions = rs[:q.Limit]
		p.Next = p.Regions[q.Limit-1].Code
	}
	return p, nil
}

// Node is a region in a tree with its children.
type Node struct {
	Region
	Children []*Node
}

// Tree limits.
const (
	DefaultTreeDepth = 2
	MaxTreeNodes     = 20000
)

// Tree returns the region root with depth levels below it (the cities when root is ""),
// nested; regions in force now unless includeRetired. Invalid when the tree would hold more
// than MaxTreeNodes regions: ask for less depth or a smaller root.
func (s *Service) Tree(ctx context.Context, root string, depth int, includeRetired bool) ([]*Node, error) {
	if depth < 0 || depth > len(Levels)-1 {
		return nil, errs.Fields{{Field: "depth", Rule: "range", Message: "depth must be between 0 and 4"}}.Err()
	}
	f := Filter{Limit: MaxTreeNodes + 1}
	if !includeRetired {
		now := s.now().UTC()
		f.ValidAt = &now
	}
	top := 1
	if root != "" {
		d, err := s.Get(ctx, root)
		if err != nil {
			return nil, err
		}
		f.Under = d.Path
		top = d.Level.Depth()
	}
	for l := top; l <= min(top+depth, len(Levels)); l++ {
		f.Levels = append(f.Levels, Levels[l-1])
	}
	rs, err := s.store.ListRegions(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(rs) > MaxTreeNodes {
		return nil, errs.Fields{{Field: "depth", Rule: "too_large", Message: "the tree holds more than 20000 regions; ask for less depth or a smaller root"}}.Err()
	}
	nodes := make(map[string]*Node, len(rs))
	var roots []*Node
	for _, r := range rs {
		nodes[r.Code] = &Node{Region: r}
	}
	for _, r := range rs {
		n := nodes[r.Code]
		if p, ok := nodes[r.ParentCode]; ok && r.Code != root {
			p.Children = append(p.Children, n)
		} else if r.Level.Depth() == top {
			roots = append(roots, n)
		}
	}
	return roots, nil
}
