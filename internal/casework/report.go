package casework

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/region"
)

// Limits on report text, in characters.
const (
	MaxDescription = 2000
	MaxAddress     = 200
	MaxExternalRef = 64
	MaxNote        = 2000
	MaxAttachments = 20
	similarLimit   = 10
)

// ReportInput is a new case as sent. Lat and Lng come together; a point or an address is
// required.
type ReportInput struct {
	CategoryCode  string // optional: a desk sets it when filing
	Description   string
	Lat, Lng      *float64
	CoordSys      string // wgs84 (default), gcj02, bd09
	Address       string
	Urgency       string // normal (default) or urgent
	OccurredAt    *time.Time
	Source        string // default from the caller's role
	ExternalRef   string // an integrator's own id
	SelfHandled   bool   // 自行处置: the reporting grid worker fixed it (needs an after photo)
	AttachmentIDs []int64
	Idempotency   *Idempotency[ReportResult]
}

// ReportResult is what a report answers.
type ReportResult struct {
	View
	// Located is false when the case has no grid: its point is outside every grid or it has
	// only an address. A desk places it.
	Located bool
	// Similar are open cases of the same category within the radius (duplicate suggestions).
	Similar []Similar
	// Replay, when set, is the recorded first response to this Idempotency-Key: send it as is.
	Replay *Replay
}

// Report files a new case (信息采集). Who: any user, and API keys with cases:write.
func (s *Service) Report(ctx context.Context, p identity.Principal, in ReportInput) (ReportResult, error) {
	if p.IsAPIKey() && !p.HasAPIScope("cases:write") {
		return ReportResult{}, errs.E(errs.Forbidden, "this API key lacks the cases:write scope")
	}
	if in.SelfHandled && (p.IsAPIKey() || !p.Is(identity.RoleGridWorker)) {
		return ReportResult{}, errs.E(errs.Forbidden, "only a grid worker may report a case as self-handled (自行处置)")
	}
	if in.Idempotency != nil {
		// A retry is answered before anything else, even if the catalogue changed meanwhile.
		if err := checkIdempotencyKey(in.Idempotency.Key); err != nil {
			return ReportResult{}, err
		}
		r, err := replayed(ctx, s.store, principalKey(p), in.Idempotency.Key, "report", in.Idempotency.RequestHash)
		if err != nil || r != nil {
			return ReportResult{Replay: r}, err
		}
	}
	now := s.now().UTC()
	c, cat, err := s.newCase(ctx, p, in, now)
	if err != nil {
		return ReportResult{}, err
	}
	located, err := s.place(ctx, &c)
	if err != nil {
		return ReportResult{}, err
	}
	s.enterStage(&c, StageAccept, now, nil)

	res, replay, err := withIdempotency(ctx, s.store, p, "report", in.Idempotency, func(tx Store) (ReportResult, int64, error) {
		r, err := s.report(ctx, tx, p, c, cat, in, located, now)
		return r, r.Case.ID, err
	})
	if errs.Is(err, errs.Conflict) && in.ExternalRef != "" && p.IsAPIKey() {
		if prev, perr := s.store.CaseByExternalRef(ctx, p.APIKeyID, in.ExternalRef); perr == nil {
			return ReportResult{}, errs.E(errs.Conflict, "a case with external_ref %q was already reported: %s", in.ExternalRef, prev.Number).
				With("case_id", prev.ID).With("number", prev.Number)
		}
	}
	if err != nil {
		return ReportResult{}, err
	}
	if replay != nil {
		return ReportResult{Replay: replay}, nil
	}
	return res, nil
}

func (s *Service) report(ctx context.Context, tx Store, p identity.Principal, c Case, cat *category.Category,
	in ReportInput, located bool, now time.Time) (ReportResult, error) {
	day := now.In(s.zone()).Format("20060102")
	seq, err := tx.NextCaseNumber(ctx, day)
	if err != nil {
		return ReportResult{}, fmt.Errorf("number case: %w", err)
	}
	c.Number = fmt.Sprintf("GC%s-%06d", day, seq)
	if err := tx.CreateCase(ctx, &c); err != nil {
		return ReportResult{}, fmt.Errorf("create case: %w", err)
	}
	ev := s.event(p, &c, ReportAction, "", Reported, now)
	ev.Visibility = Public
	ev.Data = map[string]any{"source": string(c.Source)}
	if c.CategoryCode != "" {
		ev.Data["category_code"] = c.CategoryCode
	}
	if !located {
		ev.Data["grid_unknown"] = true
	}
	if err := tx.AppendEvent(ctx, &ev); err != nil {
		return ReportResult{}, fmt.Errorf("log report: %w", err)
	}
	bound, err := bind(ctx, tx, p, c.ID, ev.ID, in.AttachmentIDs)
	if err != nil {
		return ReportResult{}, err
	}
	if in.SelfHandled {
		if !slices.ContainsFunc(bound, func(a media.Attachment) bool { return a.Kind == media.KindAfter }) {
			return ReportResult{}, fieldErr("attachment_ids", "after_photo", "a self-handled report needs at least one photo of kind after (处置后)")
		}
		c, err = tx.UpdateCase(ctx, c.ID, Reach{All: true}, func(c *Case) error {
			sh := s.event(p, c, SelfHandle, Reported, Closed, now)
			s.leaveStage(c, &sh, now)
			c.State, c.SelfHandled, c.ClosedAt, c.UpdatedAt = Closed, true, &now, now
			c.FiledAt = &now
			s.enterStage(c, StageNone, now, nil)
			return tx.AppendEvent(ctx, &sh)
		})
		if err != nil {
			return ReportResult{}, fmt.Errorf("self-handle case: %w", err)
		}
	}
	if err := s.scheduleTimers(ctx, tx, timerState{}, &c); err != nil {
		return ReportResult{}, err
	}
	var similar []Similar
	if c.State.Open() && c.CategoryCode != "" && c.Point != nil {
		if similar, err = s.similar(ctx, tx, p, &c); err != nil {
			return ReportResult{}, err
		}
	}
	v, err := s.view(ctx, tx, p, c)
	if err != nil {
		return ReportResult{}, err
	}
	if similar == nil {
		similar = []Similar{}
	}
	return ReportResult{View: v, Located: located, Similar: similar}, nil
}

// newCase validates a report and builds the case (not yet placed in a grid).
func (s *Service) newCase(ctx context.Context, p identity.Principal, in ReportInput, now time.Time) (Case, *category.Category, error) {
	var f errs.Fields
	c := Case{State: Reported, Version: 1, CreatedAt: now, UpdatedAt: now, OccurredAt: now}
	c.Description = strings.TrimSpace(in.Description)
	switch {
	case c.Description == "":
		f.Required("description", true)
	case utf8.RuneCountInString(c.Description) > MaxDescription:
		f.Add("description", "max", "description must be at most %d characters", MaxDescription)
	}
	c.Address = strings.TrimSpace(in.Address)
	if utf8.RuneCountInString(c.Address) > MaxAddress {
		f.Add("address", "max", "address must be at most %d characters", MaxAddress)
	}
	switch {
	case (in.Lat == nil) != (in.Lng == nil):
		f.Add("lng", "together", "send lat and lng together")
	case in.Lat != nil:
		sent := geo.Point{Lat: *in.Lat, Lng: *in.Lng}
		cs, err := geo.ParseCoordSys(in.CoordSys)
		if err != nil {
			f.Add("coord_sys", "enum", "coord_sys must be wgs84, gcj02 or bd09")
		}
		if pf := sent.Check(); len(pf) > 0 {
			f = append(f, pf...)
		} else if err == nil {
			w := geo.ToWGS84(sent, cs)
			c.Point = &Point{Lat: w.Lat, Lng: w.Lng}
			c.OrigPoint = &Point{Lat: sent.Lat, Lng: sent.Lng}
			c.OrigCoordSys = string(cs)
		}
	case c.Address == "":
		f.Add("lat", "point_or_address", "give a point (lat, lng) or an address")
	}
	c.Urgency = category.Urgency(in.Urgency)
	if c.Urgency == "" {
		c.Urgency = category.Normal
	} else if !c.Urgency.Valid() {
		f.Add("urgency", "enum", "urgency must be normal or urgent")
	}
	if in.OccurredAt != nil {
		o := in.OccurredAt.UTC()
		switch {
		case o.After(now.Add(s.cfg.ClockSkew)):
			f.Add("occurred_at", "future", "occurred_at is in the future")
		case o.Before(now.Add(-s.cfg.MaxReportAge)):
			f.Add("occurred_at", "too_old", "occurred_at is more than %s ago; report what is current", humanDuration(s.cfg.MaxReportAge))
		default:
			c.OccurredAt = o
		}
	}
	c.Source = s.source(p, Source(in.Source), &f)
	c.ExternalRef = strings.TrimSpace(in.ExternalRef)
	if c.ExternalRef != "" {
		if len(c.ExternalRef) > MaxExternalRef || strings.ContainsAny(c.ExternalRef, "\r\n\t") {
			f.Add("external_ref", "format", "external_ref must be at most %d characters on one line", MaxExternalRef)
		}
		if !p.IsAPIKey() {
			f.Add("external_ref", "api_key_only", "external_ref is an integrator's own id; only API keys send it")
		}
	}
	if len(in.AttachmentIDs) > MaxAttachments {
		f.Add("attachment_ids", "max", "at most %d photos per action", MaxAttachments)
	}
	var cat *category.Category
	if in.CategoryCode != "" {
		got, err := s.store.Category(ctx, in.CategoryCode)
		switch {
		case errs.Is(err, errs.NotFound):
			f.Add("category_code", "exists", "there is no category %q", in.CategoryCode)
		case err != nil:
			return Case{}, nil, fmt.Errorf("read category: %w", err)
		case !got.Active:
			f.Add("category_code", "active", "category %s (%s) no longer takes new reports", got.Code, got.Name)
		default:
			cat = &got
			c.CategoryCode = got.Code
		}
	}
	if in.SelfHandled {
		switch {
		case in.CategoryCode == "":
			f.Add("category_code", "required", "a self-handled report needs its category")
		case cat != nil && !cat.SelfHandleAllowed:
			f.Add("self_handled", "not_allowed", "category %s (%s) may not be self-handled", cat.Code, cat.Name)
		}
		if len(in.AttachmentIDs) == 0 {
			f.Add("attachment_ids", "after_photo", "a self-handled report needs at least one photo of kind after (处置后)")
		}
	}
	if err := f.Err(); err != nil {
		return Case{}, nil, err
	}
	if p.IsAPIKey() {
		c.ReporterAPIKeyID = p.APIKeyID
	} else {
		c.ReporterUserID = p.UserID
	}
	return c, cat, nil
}

// source decides the channel: grid workers report as grid_worker, API keys as integrator
// (or the channel they relay: hotline, video, resident), desks as what they say (hotline by
// default, leader for supervisors).
func (s *Service) source(p identity.Principal, want Source, f *errs.Fields) Source {
	if want != "" && !want.Valid() {
		f.Add("source", "enum", "source must be one of grid_worker, resident, hotline, video, integrator, leader")
		return ""
	}
	switch {
	case p.IsAPIKey():
		if want == "" {
			return SourceIntegrator
		}
		if want == SourceGridWorker || want == SourceLeader {
			f.Add("source", "api_key", "an API key reports as integrator, hotline, video or resident")
		}
		return want
	case p.Is(identity.RoleGridWorker):
		if want != "" && want != SourceGridWorker {
			f.Add("source", "grid_worker", "a grid worker's reports have source grid_worker")
		}
		return SourceGridWorker
	case want != "":
		return want
	case p.Is(identity.RoleSupervisor):
		return SourceLeader
	}
	return SourceHotline
}

// place finds the case's grid and desk from its point. A point outside every grid (or no
// point) leaves the grid unknown; the desk is then the one of the region the point is in, or
// the top desk.
func (s *Service) place(ctx context.Context, c *Case) (bool, error) {
	if s.places == nil {
		return false, nil
	}
	if c.Point != nil {
		deepest, ancestors, ok, err := s.places.Locate(ctx, geo.Point{Lat: c.Point.Lat, Lng: c.Point.Lng})
		if err != nil {
			return false, fmt.Errorf("locate case: %w", err)
		}
		if ok {
			d := s.deskOf(deepest, ancestors)
			c.DeskRegionCode, c.DeskRegionPath = d.Code, d.Path
			if deepest.Level == region.LevelGrid {
				c.GridCode, c.RegionPath = deepest.Code, deepest.Path
				return true, nil
			}
			return false, nil
		}
	}
	roots, err := s.places.Roots(ctx)
	if err != nil {
		return false, fmt.Errorf("find the top desk: %w", err)
	}
	if len(roots) == 1 {
		c.DeskRegionCode, c.DeskRegionPath = roots[0].Code, roots[0].Path
	}
	return false, nil
}

// deskOf is the desk that first holds a case found in region r: the deepest of r and its
// ancestors no lower than the desk level (a street's desk; the district's where the tree has
// no streets, or where the point is in a district but no street).
func (s *Service) deskOf(r region.Ref, ancestors []region.Ref) region.Ref {
	depth := s.cfg.DeskLevel.Depth()
	desk := region.Ref{}
	for _, a := range append(slices.Clone(ancestors), r) {
		if a.Level.Depth() <= depth {
			desk = a
		}
	}
	if desk.Code == "" {
		return r
	}
	return desk
}

// similar lists open cases of the same category within the radius that the caller may read,
// nearest first.
func (s *Service) similar(ctx context.Context, tx Store, p identity.Principal, c *Case) ([]Similar, error) {
	box := BoxAround(*c.Point, s.cfg.SimilarRadius)
	near, err := tx.NearbyOpenCases(ctx, c.CategoryCode, box, ReachOf(p), 100)
	if err != nil {
		return nil, fmt.Errorf("find similar cases: %w", err)
	}
	out := []Similar{}
	for _, o := range near {
		if o.ID == c.ID || o.Point == nil {
			continue
		}
		if d := Distance(*c.Point, *o.Point); d <= s.cfg.SimilarRadius {
			out = append(out, Similar{ID: o.ID, Number: o.Number, State: o.State, Distance: math.Round(d*10) / 10})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Distance < out[j].Distance })
	if len(out) > similarLimit {
		out = out[:similarLimit]
	}
	return out, nil
}

func (s *Service) zone() *time.Location {
	if z, ok := s.cal.(interface{ Location() *time.Location }); ok && z.Location() != nil {
		return z.Location()
	}
	return time.UTC
}

// bind binds staged uploads of the caller to the case and event.
func bind(ctx context.Context, tx Store, p identity.Principal, caseID, eventID int64, ids []int64) ([]media.Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var (
		out []media.Attachment
		err error
	)
	if p.IsAPIKey() {
		out, err = tx.BindAttachmentsByAPIKey(ctx, caseID, eventID, ids, p.APIKeyID)
	} else {
		out, err = tx.BindAttachments(ctx, caseID, eventID, ids, p.UserID)
	}
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return nil, err
		}
		return nil, fmt.Errorf("attach photos: %w", err)
	}
	return out, nil
}
