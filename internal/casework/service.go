package casework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Store is what casework keeps in the database; *store.Store implements it. Inside InCaseTx
// every method runs in that one transaction.
type Store interface {
	// InCaseTx runs fn in one transaction (joining an outer one); tx is bound to it.
	InCaseTx(ctx context.Context, fn func(tx Store) error) error

	// NextCaseNumber returns the next sequence number of a day ("20260314"), from 1.
	NextCaseNumber(ctx context.Context, day string) (int64, error)
	// CreateCase inserts c (Number set) and sets c.ID; Conflict on a repeated external_ref.
	CreateCase(ctx context.Context, c *Case) error
	// Case reads a case if r reaches it; NotFound when it does not exist or r does not reach it.
	Case(ctx context.Context, id int64, r Reach) (Case, error)
	// UpdateCase locks a case that r reaches (NotFound otherwise), applies fn and saves the
	// result with version + 1, co-handlers included; fn's error rolls everything back.
	UpdateCase(ctx context.Context, id int64, r Reach, fn func(*Case) error) (Case, error)
	// CaseByExternalRef finds the case an API key reported with its own id.
	CaseByExternalRef(ctx context.Context, apiKeyID int64, ref string) (Case, error)
	// NearbyOpenCases lists open cases of a category whose point lies in the box and that r
	// reaches, at most limit of them.
	NearbyOpenCases(ctx context.Context, categoryCode string, box Box, r Reach, limit int) ([]Case, error)

	// AppendEvent inserts e with the case's next sequence number and sets e.ID and e.Seq.
	AppendEvent(ctx context.Context, e *Event) error
	// Events lists a case's events in order.
	Events(ctx context.Context, caseID int64) ([]Event, error)

	// Category returns a class by code; NotFound when none.
	Category(ctx context.Context, code string) (category.Category, error)

	// Idempotent returns the first response recorded under a caller's key, if any.
	Idempotent(ctx context.Context, principal, key string) (Replay, bool, error)
	// SaveIdempotent records the first response under a caller's key; ErrKeyTaken when the key
	// was recorded meanwhile.
	SaveIdempotent(ctx context.Context, principal, key string, r Replay) error
	// DeleteIdempotencyKeys forgets the keys recorded before a time.
	DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)

	// BindAttachments binds a user's staged uploads to a case and event (media's contract).
	BindAttachments(ctx context.Context, caseID, eventID int64, ids []int64, uploaderUserID int64) ([]media.Attachment, error)
	// BindAttachmentsByAPIKey is BindAttachments for an API key's uploads.
	BindAttachmentsByAPIKey(ctx context.Context, caseID, eventID int64, ids []int64, apiKeyID int64) ([]media.Attachment, error)
	// CountAttachments counts a case's photos of a kind uploaded at or after since.
	CountAttachments(ctx context.Context, caseID int64, kind string, since time.Time) (int, error)
	// CaseAttachments lists a case's photos in upload order.
	CaseAttachments(ctx context.Context, caseID int64) ([]media.Attachment, error)

	ListStore // lists, inboxes, maps and exports (list.go)
	TimeStore // extension and suspension requests, supervisions, timers (time.go)
}

// Directory answers who people and departments are; *identity.Service implements it.
type Directory interface {
	UserByID(ctx context.Context, id int64) (identity.User, error)
	DepartmentByID(ctx context.Context, id int64) (identity.Department, error)
	DepartmentByCode(ctx context.Context, code string) (identity.Department, error)
}

// Places answers where a case is; an adapter over region.Service implements it.
type Places interface {
	// Locate finds the deepest region a WGS-84 point falls in (a grid, or a coarser region
	// where no grid covers the point) and its ancestors, root first; ok is false when no region
	// contains the point.
	Locate(ctx context.Context, pt geo.Point) (deepest region.Ref, ancestors []region.Ref, ok bool, err error)
	// Region returns a region by code; NotFound when none.
	Region(ctx context.Context, code string) (region.Ref, error)
	// Roots lists the top regions (normally the one city).
	Roots(ctx context.Context) ([]region.Ref, error)
	// ResponsibleDepartments lists the departments a grid's responsibility list (责任清单) names
	// for a category, the small class's entries before its 大类's.
	ResponsibleDepartments(ctx context.Context, gridCode, categoryCode string) ([]int64, error)
}

// Calendar is the work calendar deadlines are computed on; *worktime.Calendar implements it.
type Calendar interface {
	Deadline(start time.Time, l worktime.Limit) time.Time
	DeadlineWithPauses(start time.Time, l worktime.Limit, pauses []worktime.Interval) time.Time
	WarnAt(start time.Time, l worktime.Limit, pauses []worktime.Interval) time.Time
	Progress(start, now time.Time, l worktime.Limit, pauses []worktime.Interval) worktime.Progress
}

// Config tunes the workflow. DefaultConfig gives every field a value.
type Config struct {
	// StageLimits are the limits of the stages besides handling (whose limit comes from the
	// category and the urgency), used when no TimeRules are set (UseTimeRules).
	StageLimits map[Stage]worktime.Limit
	// ReopenWindow is how long after closing a case may be reopened.
	ReopenWindow time.Duration
	// DeskLevel is the level whose desk first holds a located case (a street's 受理 desk).
	DeskLevel region.Level
	// SimilarRadius is how near (metres) an open case of the same category must be to be
	// suggested as a duplicate.
	SimilarRadius float64
	// ClockSkew is how far in the future occurred_at may be (phones' clocks drift).
	ClockSkew time.Duration
	// MaxReportAge is how far in the past occurred_at may be.
	MaxReportAge time.Duration
}

// DefaultConfig: 15 work minutes to accept, dispatch and close, 30 to verify or check on site,
// one work hour to sign (DOMAIN.md §3), reopen within 7 days, street desks, 50 m duplicates.
func DefaultConfig() Config {
	limits := map[Stage]worktime.Limit{}
	for k, v := range calendar.DefaultStageLimits() {
		limits[Stage(k)] = v
	}
	return Config{
		StageLimits:   limits,
		ReopenWindow:  7 * 24 * time.Hour,
		DeskLevel:     region.LevelStreet,
		SimilarRadius: 50,
		ClockSkew:     5 * time.Minute,
		MaxReportAge:  30 * 24 * time.Hour,
	}
}

// Service reports cases and moves them through the workflow.
type Service struct {
	store  Store
	dir    Directory
	places Places
	cal    Calendar
	rules  TimeRules // per-city calendars and limits; nil: cal and cfg.StageLimits
	cfg    Config
	now    func() time.Time
}

// NewService assembles the workflow. cfg's zero fields take DefaultConfig's values.
func NewService(st Store, dir Directory, places Places, cal Calendar, cfg Config) *Service {
	def := DefaultConfig()
	if cfg.StageLimits == nil {
		cfg.StageLimits = def.StageLimits
	}
	for k, v := range def.StageLimits {
		if _, ok := cfg.StageLimits[k]; !ok {
			cfg.StageLimits[k] = v
		}
	}
	if cfg.ReopenWindow <= 0 {
		cfg.ReopenWindow = def.ReopenWindow
	}
	if !cfg.DeskLevel.Valid() {
		cfg.DeskLevel = def.DeskLevel
	}
	if cfg.SimilarRadius <= 0 {
		cfg.SimilarRadius = def.SimilarRadius
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = def.ClockSkew
	}
	if cfg.MaxReportAge <= 0 {
		cfg.MaxReportAge = def.MaxReportAge
	}
	if cal == nil {
		cal = worktime.DefaultCalendar()
	}
	s := &Service{store: st, dir: dir, places: places, cal: cal, cfg: cfg}
	s.SetClock(time.Now)
	return s
}

// SetClock replaces the service's clock (the job queue's, so that timers and deadlines agree;
// tests move it forward). Instants are kept to the microsecond, as the databases keep them.
func (s *Service) SetClock(now func() time.Time) {
	s.now = func() time.Time { return now().Truncate(time.Microsecond) }
}

// View is a case as one caller sees it.
type View struct {
	Case           Case
	AllowedActions []Action       // what this caller may do now
	Light          worktime.Light // the running stage's traffic light, "" when no clock runs
	Category       *category.Category
	// OpenSupervisions are the supervisions waiting for the department's reply (single reads
	// and action responses; lists carry the count and level on the case).
	OpenSupervisions []Supervision
}

// Get returns a case the caller may read.
func (s *Service) Get(ctx context.Context, p identity.Principal, id int64) (View, error) {
	if err := canRead(p); err != nil {
		return View{}, err
	}
	c, err := s.store.Case(ctx, id, ReachOf(p))
	if err != nil {
		return View{}, notFound(err, id)
	}
	return s.view(ctx, s.store, p, c)
}

// CanSee returns nil when p may read the case and errs.NotFound otherwise (media.CaseAccess).
func (s *Service) CanSee(ctx context.Context, p identity.Principal, caseID int64) error {
	if err := canRead(p); err != nil {
		return errs.NotFoundf("case %d not found", caseID)
	}
	if _, err := s.store.Case(ctx, caseID, ReachOf(p)); err != nil {
		return notFound(err, caseID)
	}
	return nil
}

// Events returns a case's timeline in order. API keys do not see internal comments.
func (s *Service) Events(ctx context.Context, p identity.Principal, id int64) ([]Event, error) {
	if err := canRead(p); err != nil {
		return nil, err
	}
	if _, err := s.store.Case(ctx, id, ReachOf(p)); err != nil {
		return nil, notFound(err, id)
	}
	evs, err := s.store.Events(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("case %d events: %w", id, err)
	}
	atts, err := s.store.CaseAttachments(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("case %d photos: %w", id, err)
	}
	byEvent := map[int64][]int64{}
	for _, a := range atts {
		if a.EventID != 0 {
			byEvent[a.EventID] = append(byEvent[a.EventID], a.ID)
		}
	}
	out := evs[:0]
	for _, e := range evs {
		if p.IsAPIKey() && e.Action == Comment && e.Visibility != Public {
			continue
		}
		e.AttachmentIDs = byEvent[e.ID]
		out = append(out, e)
	}
	return out, nil
}

// Views renders cases that p has already been allowed to read (a list the store filtered with
// ReachOf(p)) as p sees them, reading each category once.
func (s *Service) Views(ctx context.Context, p identity.Principal, cases []Case) ([]View, error) {
	cats := map[string]*category.Category{}
	out := make([]View, len(cases))
	now := s.now()
	for i, c := range cases {
		cat, seen := cats[c.CategoryCode]
		if !seen {
			var err error
			if cat, err = s.categoryOf(ctx, s.store, c.CategoryCode); err != nil {
				return nil, err
			}
			cats[c.CategoryCode] = cat
		}
		v := View{Case: c, Category: cat, AllowedActions: AllowedFor(&c, p, s.facts(cat)), Light: s.light(&c, now)}
		if v.AllowedActions == nil {
			v.AllowedActions = []Action{}
		}
		out[i] = v
	}
	return out, nil
}

func (s *Service) view(ctx context.Context, st Store, p identity.Principal, c Case) (View, error) {
	v := View{Case: c}
	var cat *category.Category
	if c.CategoryCode != "" {
		got, err := st.Category(ctx, c.CategoryCode)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return View{}, fmt.Errorf("case %d category: %w", c.ID, err)
		}
		if err == nil {
			cat = &got
		}
	}
	v.Category = cat
	v.AllowedActions = AllowedFor(&c, p, s.facts(cat))
	if v.AllowedActions == nil {
		v.AllowedActions = []Action{}
	}
	v.Light = s.light(&c, s.now())
	if c.OpenSupervisions > 0 {
		open, err := st.Supervisions(ctx, c.ID, true)
		if err != nil {
			return View{}, fmt.Errorf("case %d supervisions: %w", c.ID, err)
		}
		v.OpenSupervisions = open
	}
	return v, nil
}

// light is the traffic light of the running stage from its stored warning time and deadline
// (LightAt), exactly as the list filters compute it.
func (s *Service) light(c *Case, now time.Time) worktime.Light { return LightAt(c, now) }

func (s *Service) facts(cat *category.Category) Facts {
	return Facts{CheckRequired: cat == nil || cat.CheckRequired, Now: s.now().UTC(), ReopenWindow: s.cfg.ReopenWindow}
}

// canRead refuses API keys that may not read cases.
func canRead(p identity.Principal) error {
	if p.HasAPIScope("cases:read") || p.HasAPIScope("cases:write") {
		return nil
	}
	return errs.E(errs.Forbidden, "this API key lacks the cases:read scope")
}

func notFound(err error, id int64) error {
	if errs.Is(err, errs.NotFound) {
		return errs.NotFoundf("case %d not found", id)
	}
	return fmt.Errorf("read case %d: %w", id, err)
}

// principalKey names a caller for idempotency keys.
func principalKey(p identity.Principal) string {
	if p.IsAPIKey() {
		return fmt.Sprintf("api_key:%d", p.APIKeyID)
	}
	return fmt.Sprintf("user:%d", p.UserID)
}

// Replay is a recorded first response to a request sent with an Idempotency-Key.
type Replay struct {
	Operation   string // "report" or "case:<id>:<action>"
	RequestHash string
	CaseID      int64
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// ForgetIdempotencyKeys removes, every interval until ctx ends, the idempotency keys older
// than keep: a phone retries within hours, or days when it was offline, not for ever. Every
// replica may run it; deleting twice is harmless.
func (s *Service) ForgetIdempotencyKeys(ctx context.Context, every, keep time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.store.DeleteIdempotencyKeys(ctx, s.now().Add(-keep)); err != nil && ctx.Err() == nil {
			log.Warn("forget idempotency keys", "error", err)
		} else if n > 0 {
			log.Info("forgot idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ErrKeyTaken is what SaveIdempotent returns when another request recorded the key first.
var ErrKeyTaken = errs.E(errs.Conflict, "the idempotency key was used by a concurrent request")

// Idempotency asks for a request to be answered once: Render makes the body recorded (with
// Status) for replays of Key from the same caller.
type Idempotency[T any] struct {
	Key         string
	RequestHash string // a digest of the request body
	Status      int
	Render      func(T) ([]byte, error)
}

const maxIdempotencyKey = 255

func checkIdempotencyKey(key string) error {
	if len(key) == 0 || len(key) > maxIdempotencyKey {
		return fieldErr("Idempotency-Key", "length", "the Idempotency-Key must be 1–%d characters", maxIdempotencyKey)
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return fieldErr("Idempotency-Key", "format", "the Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// replayed looks a key up: a recorded response for the same operation and request is
// returned; the same key with another request is refused.
func replayed(ctx context.Context, st Store, principal, key, operation, hash string) (*Replay, error) {
	r, ok, err := st.Idempotent(ctx, principal, key)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !ok {
		return nil, nil
	}
	if r.Operation != operation || r.RequestHash != hash {
		return nil, fieldErr("Idempotency-Key", "reused",
			"this Idempotency-Key was already used for a different request; send a new key for a new request")
	}
	return &r, nil
}

// withIdempotency runs do once per key: a replay when the key was seen, otherwise do inside a
// transaction that also records the response. A concurrent request with the same key loses
// the race on the key's row and gets the winner's response.
func withIdempotency[T any](ctx context.Context, st Store, p identity.Principal, op string, idem *Idempotency[T],
	do func(tx Store) (T, int64, error)) (T, *Replay, error) {
	var zero T
	if idem == nil {
		var out T
		err := st.InCaseTx(ctx, func(tx Store) error {
			v, _, err := do(tx)
			out = v
			return err
		})
		return out, nil, err
	}
	if err := checkIdempotencyKey(idem.Key); err != nil {
		return zero, nil, err
	}
	pk := principalKey(p)
	var (
		out    T
		replay *Replay
	)
	err := st.InCaseTx(ctx, func(tx Store) error {
		r, err := replayed(ctx, tx, pk, idem.Key, op, idem.RequestHash)
		if err != nil || r != nil {
			replay = r
			return err
		}
		v, caseID, err := do(tx)
		if err != nil {
			return err
		}
		body, err := idem.Render(v)
		if err != nil {
			return fmt.Errorf("render response: %w", err)
		}
		out = v
		return tx.SaveIdempotent(ctx, pk, idem.Key, Replay{Operation: op, RequestHash: idem.RequestHash,
			CaseID: caseID, Status: idem.Status, Body: body, CreatedAt: time.Now().UTC()})
	})
	if errors.Is(err, ErrKeyTaken) {
		r, rerr := replayed(ctx, st, pk, idem.Key, op, idem.RequestHash)
		if rerr != nil {
			return zero, nil, rerr
		}
		if r != nil {
			return zero, r, nil
		}
	}
	if err != nil {
		return zero, nil, err
	}
	return out, replay, nil
}

func fieldErr(field, rule, format string, args ...any) error {
	var f errs.Fields
	f.Add(field, rule, format, args...)
	return f.Err()
}
