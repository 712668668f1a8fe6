package region

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
)

// ImportStatus is what an import did with one feature.
type ImportStatus string

// The statuses.
const (
	ImportCreated   ImportStatus = "created"
	ImportUpdated   ImportStatus = "updated"
	ImportUnchanged ImportStatus = "unchanged"
	ImportInvalid   ImportStatus = "invalid"
)

// FeatureResult is the outcome for one feature of an import file.
type FeatureResult struct {
	Index  int // the feature's position in the file, from 0
	Code   string
	Status ImportStatus
	Errors []errs.FieldError // for ImportInvalid
}

// ImportReport sums up an import.
type ImportReport struct {
	Total     int
	Created   int
	Updated   int
	Unchanged int
	Invalid   int
	DryRun    bool
	Features  []FeatureResult // one per feature, in file order
}

// ImportOptions adjust an import.
type ImportOptions struct {
	// CoordSys is the coordinate system of features that do not name their own
	// (properties.coord_sys); "" is WGS-84.
	CoordSys string
	// DryRun checks and reports without writing.
	DryRun bool
	// Progress, when set, is called as features are checked ("checking") and saved
	// ("saving"), with how many are done of how many.
	Progress func(stage string, done, total int)
}

// Import stages reported to Progress.
const (
	StageChecking = "checking"
	StageSaving   = "saving"
)

// importFeature is one GeoJSON feature of an import file.
type importFeature struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Geometry   json.RawMessage            `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Import reads a GeoJSON FeatureCollection whose features carry the properties code, name,
// level and parent_code (and optionally valid_from, valid_to, coord_sys) with a Polygon or
// MultiPolygon geometry (or none), and creates or updates one region per feature (admin only).
//
// It is idempotent on code: a feature equal to the stored region is unchanged. Parents may
// come after their children in the file. Invalid features are reported one by one with their
// errors and left out; the valid ones are saved together in one transaction. A feature whose
// parent is neither stored nor a valid feature of the file is invalid. When level or
// parent_code is missing it is read from the code (9, 12, 15 digits: street, community, grid,
// under the code's prefix; 6 digits ending in 00: a city; other 6 digits: a district under
// its first four digits + 00).
//
// Invalid when the body is not a FeatureCollection; BadRequest when it is not JSON.
func (s *Service) Import(ctx context.Context, p identity.Principal, r io.Reader, opts ImportOptions) (ImportReport, error) {
	if err := mayEditRegions(p); err != nil {
		return ImportReport{}, err
	}
	if _, err := geo.ParseCoordSys(opts.CoordSys); err != nil {
		return ImportReport{}, errs.Fields{{Field: "coord_sys", Rule: "enum", Message: err.Error()}}.Err()
	}
	features, err := readFeatureCollection(r)
	if err != nil {
		return ImportReport{}, err
	}
	now := s.now().UTC()
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	rep := ImportReport{Total: len(features), DryRun: opts.DryRun, Features: make([]FeatureResult, len(features))}

	// 1. Each feature on its own.
	drafts := make([]*Region, len(features))
	firstAt := map[string]int{}
	for i, raw := range features {
		res := &rep.Features[i]
		res.Index = i
		var f errs.Fields
		r := s.shapeFeature(&f, raw, opts.CoordSys, now)
		res.Code = r.Code
		if j, dup := firstAt[r.Code]; dup && r.Code != "" {
			f.Add("code", "unique", "code %s is also feature %d of this file", r.Code, j)
		} else if r.Code != "" {
			firstAt[r.Code] = i
		}
		if len(f) > 0 {
			res.Status, res.Errors = ImportInvalid, f
		} else {
			drafts[i] = r
		}
		if (i+1)%100 == 0 || i+1 == len(features) {
			progress(StageChecking, i+1, len(features))
		}
	}

	// 2. Against what is stored, parents first.
	var codes []string
	for _, r := range drafts {
		if r != nil {
			codes = append(codes, r.Code)
			if r.ParentCode != "" {
				codes = append(codes, r.ParentCode)
			}
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	stored := map[string]Region{}
	if len(codes) > 0 {
		rs, err := s.store.RegionsByCodes(ctx, codes, true)
		if err != nil {
			return ImportReport{}, err
		}
		for _, r := range rs {
			stored[r.Code] = r
		}
	}
	order := make([]int, 0, len(drafts))
	for i, r := range drafts {
		if r != nil {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return drafts[order[a]].Level.Depth() < drafts[order[b]].Level.Depth()
	})
	planned := map[string]*Region{} // valid features by code: the parents of later ones
	invalidAt := map[string]int{}
	for i, r := range rep.Features {
		if r.Status == ImportInvalid && r.Code != "" {
			if _, seen := invalidAt[r.Code]; !seen {
				invalidAt[r.Code] = i
			}
		}
	}
	var creates, updates []*Region
	for _, i := range order {
		r, res := drafts[i], &rep.Features[i]
		var f errs.Fields
		old, exists := stored[r.Code]
		if exists {
			// What the file does not say about validity stays as stored: re-importing an old
			// file never brings a retired region back.
			if !hasProp(features[i], "valid_from") {
				r.ValidFrom = old.ValidFrom
			}
			if !hasProp(features[i], "valid_to") {
				r.ValidTo = old.ValidTo
			}
		}
		checkValidity(&f, r)
		var parent *Region
		if r.ParentCode != "" {
			if pr, ok := planned[r.ParentCode]; ok {
				parent = pr
			} else if pr, ok := stored[r.ParentCode]; ok {
				parent = &pr
			}
		}
		if parent == nil && r.ParentCode != "" {
			if j, ok := invalidAt[r.ParentCode]; ok {
				f.Add("parent_code", "exists", "parent region %s is feature %d of this file, which is invalid", r.ParentCode, j)
			} else {
				f.Add("parent_code", "exists", "parent region %s is neither stored nor a feature of this file", r.ParentCode)
			}
		} else {
			checkParentOf(&f, r, parent, now)
		}
		if exists && len(f) == 0 {
			if old.Level != r.Level {
				f.Add("level", "immutable", "region %s is a %s; a level never changes (retire it and create another)", r.Code, old.Level)
			}
			if old.ParentCode != r.ParentCode {
				f.Add("parent_code", "immutable", "region %s is under %s; a parent never changes (retire it and create another)", r.Code, old.ParentCode)
			}
		}
		if len(f) > 0 {
			res.Status, res.Errors = ImportInvalid, f
			invalidAt[r.Code] = i
			continue
		}
		planned[r.Code] = r
		switch {
		case !exists:
			res.Status = ImportCreated
			creates = append(creates, r)
		case sameRegion(old, *r):
			res.Status = ImportUnchanged
		default:
			res.Status = ImportUpdated
			r.ID, r.CreatedAt = old.ID, old.CreatedAt
			updates = append(updates, r)
		}
	}
	for _, res := range rep.Features {
		switch res.Status {
		case ImportCreated:
			rep.Created++
		case ImportUpdated:
			rep.Updated++
		case ImportUnchanged:
			rep.Unchanged++
		case ImportInvalid:
			rep.Invalid++
		}
	}

	// 3. Save the valid ones together.
	if opts.DryRun || len(creates)+len(updates) == 0 {
		return rep, nil
	}
	total, done := len(creates)+len(updates), 0
	err = s.store.SaveRegions(ctx, creates, updates, func() {
		done++
		if done%100 == 0 || done == total {
			progress(StageSaving, done, total)
		}
	})
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			return ImportReport{}, errs.Wrap(errs.Conflict, err, "regions changed while the file was imported; run the import again")
		}
		return ImportReport{}, err
	}
	s.afterWrite(ctx)
	return rep, nil
}

// readFeatureCollection decodes the envelope and leaves the features raw.
func readFeatureCollection(r io.Reader) ([]importFeature, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&fc); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ) && typ.Field == "":
			return nil, errs.Fields{{Field: "type", Rule: "feature_collection", Message: "the body must be a GeoJSON FeatureCollection object"}}.Err()
		case errors.As(err, &typ):
			return nil, errs.Fields{{Field: typ.Field, Rule: "type", Message: fmt.Sprintf("%s must be %s", typ.Field, typ.Type)}}.Err()
		case errors.As(err, &syntax):
			return nil, errs.Wrap(errs.BadRequest, err, "malformed JSON at byte %d", syntax.Offset)
		case errors.Is(err, io.EOF):
			return nil, errs.E(errs.BadRequest, "the body is empty; send a GeoJSON FeatureCollection")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, errs.E(errs.BadRequest, "malformed JSON: the body ends early")
		}
		return nil, fmt.Errorf("read feature collection: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, errs.Fields{{Field: "type", Rule: "feature_collection", Message: fmt.Sprintf("the body must be a GeoJSON FeatureCollection, not %q", fc.Type)}}.Err()
	}
	if fc.Features == nil {
		return nil, errs.Fields{{Field: "features", Rule: "required", Message: "a FeatureCollection needs a features array"}}.Err()
	}
	out := make([]importFeature, len(fc.Features))
	for i, raw := range fc.Features {
		// A feature that is not an object is reported as invalid with the others.
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			out[i] = importFeature{Type: "invalid"}
		}
	}
	return out, nil
}

// shapeFeature turns one feature into a draft region, reporting what is wrong with it.
func (s *Service) shapeFeature(f *errs.Fields, ft importFeature, defaultCS string, now time.Time) *Region {
	if ft.Type != "Feature" {
		f.Add("type", "feature", "each feature must be a GeoJSON Feature object")
		return &Region{}
	}
	d := Draft{CoordSys: defaultCS}
	d.Code = propString(f, ft.Properties, "code")
	if d.Code == "" && len(ft.ID) > 0 {
		d.Code = scalarString(ft.ID)
	}
	d.Name = propString(f, ft.Properties, "name")
	d.Level = Level(propString(f, ft.Properties, "level"))
	d.ParentCode = propString(f, ft.Properties, "parent_code")
	if cs := propString(f, ft.Properties, "coord_sys"); cs != "" {
		d.CoordSys = cs
	}
	d.ValidFrom = propTime(f, ft.Properties, "valid_from")
	d.ValidTo = propTime(f, ft.Properties, "valid_to")
	if d.Level == "" {
		d.Level = levelFromCode(d.Code)
	}
	if d.ParentCode == "" {
		d.ParentCode = parentFromCode(d.Code, d.Level)
	}
	if g := bytes.TrimSpace(ft.Geometry); len(g) > 0 && !bytes.Equal(g, []byte("null")) {
		d.Boundary = g
	}
	return s.shape(f, d, "geometry", now)
}

// propString reads a string property; a number is taken as its digits (codes often come as
// numbers from spreadsheets). Absent or null is "".
func propString(f *errs.Fields, props map[string]json.RawMessage, key string) string {
	raw, ok := props[key]
	if !ok {
		return ""
	}
	s, ok := scalarOK(raw)
	if !ok {
		f.Add(key, "type", "property %s must be a string", key)
	}
	return strings.TrimSpace(s)
}

func scalarString(raw json.RawMessage) string {
	s, _ := scalarOK(raw)
	return s
}

func scalarOK(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		return n.String(), true
	}
	return "", false
}

// propTime reads an RFC 3339 time or a date (taken as midnight in China, UTC+8).
func propTime(f *errs.Fields, props map[string]json.RawMessage, key string) *time.Time {
	s := propString(f, props, key)
	if s == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, chinaZone); err == nil {
		return &t
	}
	f.Add(key, "format", "%s must be an RFC 3339 time or a date (2020-06-01), not %q", key, s)
	return nil
}

// chinaZone is China Standard Time; dates without a time are read in it.
var chinaZone = time.FixedZone("CST", 8*3600)

func hasProp(ft importFeature, key string) bool {
	raw, ok := ft.Properties[key]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// levelFromCode infers a level from the code's length (see Import).
func levelFromCode(code string) Level {
	if !IsDigits(code) {
		return ""
	}
	switch len(code) {
	case 6:
		if strings.HasSuffix(code, "00") {
			return LevelCity
		}
		return LevelDistrict
	case 9:
		return LevelStreet
	case 12:
		return LevelCommunity
	case 15:
		return LevelGrid
	}
	return ""
}

// parentFromCode infers the parent's code (see Import); "" for a city or an unknown form.
func parentFromCode(code string, level Level) string {
	if !IsDigits(code) || len(code) != level.CodeLen() {
		return ""
	}
	switch level {
	case LevelDistrict:
		return code[:4] + "00"
	case LevelStreet, LevelCommunity, LevelGrid:
		return code[:level.Parent().CodeLen()]
	}
	return ""
}

// sameRegion reports whether saving r would change nothing of the stored region.
func sameRegion(old, r Region) bool {
	if old.Name != r.Name || old.CoordSys != r.CoordSys || !old.ValidFrom.Equal(r.ValidFrom) {
		return false
	}
	if (old.ValidTo == nil) != (r.ValidTo == nil) || (old.ValidTo != nil && !old.ValidTo.Equal(*r.ValidTo)) {
		return false
	}
	if (old.Boundary == nil) != (r.Boundary == nil) {
		return false
	}
	return old.Boundary == nil || orb.Equal(old.Boundary, r.Boundary)
}
