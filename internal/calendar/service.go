package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/worktime"
)

// Store keeps calendars; *store.Store implements it. Inside InCalendarTx every method runs in
// that one transaction.
type Store interface {
	InCalendarTx(ctx context.Context, fn func(tx Store) error) error
	// Calendars lists every calendar (without exceptions).
	Calendars(ctx context.Context) ([]Calendar, error)
	// CalendarByRegion reads a region's calendar, locking its row when lock is set (PostgreSQL);
	// NotFound when it has none.
	CalendarByRegion(ctx context.Context, regionCode string, lock bool) (Calendar, error)
	// SaveCalendar inserts c (ID 0; sets ID and Version 1) or updates it with version + 1.
	SaveCalendar(ctx context.Context, c *Calendar) error
	// CalendarExceptions lists a calendar's exceptions of a year (every year for 0), by date.
	CalendarExceptions(ctx context.Context, calendarID int64, year int) ([]worktime.Exception, error)
	// ReplaceCalendarExceptions makes ex the calendar's table for the year.
	ReplaceCalendarExceptions(ctx context.Context, calendarID int64, year int, ex []worktime.Exception) error
	BumpCounter(ctx context.Context, name string) error
	Counter(ctx context.Context, name string) (int64, error)
}

// Regions tells whether a region exists (NotFound when not).
type Regions interface {
	RegionExists(ctx context.Context, code string) error
}

// Service reads and edits calendars and answers which rules apply where.
type Service struct {
	store    Store
	regions  Regions
	log      *slog.Logger
	now      func() time.Time
	snap     atomic.Pointer[snapshot]
	reloadMu sync.Mutex
}

// snapshot is every calendar's rules as of a change counter value.
type snapshot struct {
	version int64
	rules   map[string]Rules // by region code
}

// NewService loads every calendar and returns the service.
func NewService(ctx context.Context, st Store, regions Regions, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, regions: regions, log: log, now: time.Now}
	s.snap.Store(&snapshot{version: -1, rules: map[string]Rules{}})
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SetClock replaces the service's clock (the default year of an exception list).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// RulesFor returns the rules that apply at a region path ("/320600/320613/…/"): those of the
// nearest region on the path with a calendar of its own, else the default calendar's, else
// BuiltinRules. It reads memory only.
func (s *Service) RulesFor(regionPath string) Rules {
	snap := s.snap.Load()
	codes := strings.Split(strings.Trim(regionPath, "/"), "/")
	for i := len(codes) - 1; i >= 0; i-- {
		if r, ok := snap.rules[codes[i]]; ok && codes[i] != "" {
			return r
		}
	}
	if r, ok := snap.rules[DefaultRegion]; ok {
		return r
	}
	return BuiltinRules()
}

// Reload reads every calendar and swaps the in-memory rules.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	// The counter first: a change committed while we read is seen again by the next refresh.
	version, err := s.store.Counter(ctx, CounterName)
	if err != nil {
		return fmt.Errorf("reload calendars: %w", err)
	}
	cals, err := s.store.Calendars(ctx)
	if err != nil {
		return fmt.Errorf("reload calendars: %w", err)
	}
	snap := &snapshot{version: version, rules: make(map[string]Rules, len(cals))}
	for _, c := range cals {
		ex, err := s.store.CalendarExceptions(ctx, c.ID, 0)
		if err != nil {
			return fmt.Errorf("reload calendar %s: %w", c.RegionCode, err)
		}
		wc, err := worktime.New(c.Settings.config(ex))
		if err != nil { // validated on every write; a bad row must not stop the service
			s.log.Error("stored calendar is invalid; its cases follow the default calendar", "region", c.RegionCode, "error", err)
			continue
		}
		snap.rules[c.RegionCode] = Rules{RegionCode: c.RegionCode, Calendar: wc, StageLimits: c.EffectiveLimits(), Supervision: c.EffectiveRules()}
	}
	s.snap.Store(snap)
	return nil
}

// Refresh reloads when another replica (or a write here) changed a calendar since the last
// load, and reports whether it did.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	v, err := s.store.Counter(ctx, CounterName)
	if err != nil {
		return false, fmt.Errorf("refresh calendars: %w", err)
	}
	if v == s.snap.Load().version {
		return false, nil
	}
	return true, s.Reload(ctx)
}

// Watch refreshes every interval until ctx ends; every replica runs it, so a calendar edited
// through one applies on all within the interval.
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
				s.log.Warn("calendar refresh failed", "error", err)
			}
		}
	}
}

// afterWrite reloads at once on the replica that wrote; on failure the counter has moved, so
// the next refresh tries again.
func (s *Service) afterWrite(ctx context.Context) {
	if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("calendar reload after a write failed; the next refresh retries", "error", err)
	}
}

// EnsureDefault stores the default calendar (default settings and the national holidays of
// 2026) unless it exists, and reports whether it created it. The first start calls it.
func (s *Service) EnsureDefault(ctx context.Context) (bool, error) {
	created := false
	err := s.store.InCalendarTx(ctx, func(tx Store) error {
		_, err := tx.CalendarByRegion(ctx, DefaultRegion, true)
		if err == nil || !errs.Is(err, errs.NotFound) {
			return err
		}
		c := Calendar{RegionCode: DefaultRegion, Settings: normalised(DefaultSettings()), UpdatedAt: s.now().UTC()}
		if err := tx.SaveCalendar(ctx, &c); err != nil {
			return err
		}
		for y, ex := range byYear(worktime.ChinaHolidays2026()) {
			if err := tx.ReplaceCalendarExceptions(ctx, c.ID, y, ex); err != nil {
				return err
			}
		}
		created = true
		return tx.BumpCounter(ctx, CounterName)
	})
	if errs.Is(err, errs.Conflict) { // another replica created it meanwhile
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create the default calendar: %w", err)
	}
	if created {
		s.afterWrite(ctx)
	}
	return created, nil
}

// List returns every calendar, the default first.
func (s *Service) List(ctx context.Context) ([]Calendar, error) {
	cals, err := s.store.Calendars(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	slices.SortStableFunc(cals, func(a, b Calendar) int {
		switch {
		case a.RegionCode == DefaultRegion:
			return -1
		case b.RegionCode == DefaultRegion:
			return 1
		}
		return strings.Compare(a.RegionCode, b.RegionCode)
	})
	return cals, nil
}

// Get returns a region's own calendar.
func (s *Service) Get(ctx context.Context, regionCode string) (Calendar, error) {
	c, err := s.store.CalendarByRegion(ctx, regionCode, false)
	if errs.Is(err, errs.NotFound) {
		return Calendar{}, s.noCalendar(regionCode)
	}
	if err != nil {
		return Calendar{}, fmt.Errorf("read calendar %s: %w", regionCode, err)
	}
	return c, nil
}

func (s *Service) noCalendar(regionCode string) error {
	if regionCode == DefaultRegion {
		return errs.NotFoundf("there is no default calendar yet; PUT /calendars/default creates it")
	}
	return errs.NotFoundf("region %s has no calendar of its own (its cases follow the nearest region above it with one, or the default); PUT /calendars/%s creates it", regionCode, regionCode)
}

// Put sets a calendar's zone, windows and weekend, creating the calendar when the region has
// none (with a copy of the default calendar's holiday tables). It validates the week with
// every stored exception (a make-up workday must stay on a weekend day). It reports whether
// it created the calendar.
func (s *Service) Put(ctx context.Context, p identity.Principal, regionCode string, in Settings) (Calendar, bool, error) {
	if err := admin(p); err != nil {
		return Calendar{}, false, err
	}
	if err := s.regionExists(ctx, regionCode); err != nil {
		return Calendar{}, false, err
	}
	if err := validSettings(in); err != nil {
		return Calendar{}, false, err
	}
	var (
		out     Calendar
		created bool
	)
	err := s.store.InCalendarTx(ctx, func(tx Store) error {
		c, err := tx.CalendarByRegion(ctx, regionCode, true)
		var ex []worktime.Exception
		switch {
		case errs.Is(err, errs.NotFound):
			created = true
			c = Calendar{RegionCode: regionCode}
			if ex, err = s.inheritedExceptions(ctx, tx, regionCode); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if ex, err = tx.CalendarExceptions(ctx, c.ID, 0); err != nil {
				return err
			}
		}
		if _, err := worktime.New(in.config(ex)); err != nil {
			return withTable(err)
		}
		c.Settings, c.UpdatedAt, c.UpdatedBy = normalised(in), s.now().UTC(), p.UserID
		if err := tx.SaveCalendar(ctx, &c); err != nil {
			return err
		}
		if created {
			for y, yex := range byYear(ex) {
				if err := tx.ReplaceCalendarExceptions(ctx, c.ID, y, yex); err != nil {
					return err
				}
			}
		}
		out = c
		return tx.BumpCounter(ctx, CounterName)
	})
	if err != nil {
		return Calendar{}, false, wrap(err, "save calendar "+regionCode)
	}
	s.afterWrite(ctx)
	return out, created, nil
}

// validSettings checks a week on its own (worktime.New); the weekend must be given, [] for
// a centre staffed every day.
func validSettings(in Settings) error {
	var fe errs.Fields
	if in.Weekend == nil {
		fe.Add("weekend", "required", "weekend is required: the weekly days off, e.g. [0, 6] (Sunday, Saturday), or [] for a centre staffed every day")
	}
	if _, err := worktime.New(in.config(nil)); err != nil {
		e, ok := errs.As(err)
		if !ok {
			return err
		}
		fe = append(fe, e.Fields...)
	}
	return fe.Err()
}

// inheritedExceptions is the holiday table a new calendar starts with: the default
// calendar's, or the built-in 2026 table when there is none (or for the default itself).
func (s *Service) inheritedExceptions(ctx context.Context, tx Store, regionCode string) ([]worktime.Exception, error) {
	if regionCode != DefaultRegion {
		def, err := tx.CalendarByRegion(ctx, DefaultRegion, false)
		if err == nil {
			return tx.CalendarExceptions(ctx, def.ID, 0)
		}
		if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	return worktime.ChinaHolidays2026(), nil
}

// withTable turns the field errors that the stored holiday table raises against new settings
// into errors on "exceptions", so that the caller is not pointed at indexes it never sent.
func withTable(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid {
		return err
	}
	var fe errs.Fields
	for _, f := range e.Fields {
		if strings.HasPrefix(f.Field, "exceptions") {
			f.Field, f.Message = "exceptions", "with the stored holiday table: "+f.Message
		}
		fe = append(fe, f)
	}
	return fe.Err()
}

// normalised returns the settings as the calendar keeps them (windows sorted, zone named).
func normalised(in Settings) Settings {
	wc, err := worktime.New(in.config(nil))
	if err != nil {
		return in
	}
	cfg := wc.Config()
	return Settings{Zone: cfg.Zone, Windows: cfg.Windows, Weekend: cfg.Weekend}
}

// Exceptions lists a calendar's holidays and make-up workdays of a year (0: the current year
// in the calendar's zone); it returns the year listed.
func (s *Service) Exceptions(ctx context.Context, regionCode string, year int) ([]worktime.Exception, int, error) {
	c, err := s.Get(ctx, regionCode)
	if err != nil {
		return nil, 0, err
	}
	if year == 0 {
		year = s.now().In(location(c.Settings.Zone)).Year()
	}
	if err := checkYear(year); err != nil {
		return nil, 0, err
	}
	ex, err := s.store.CalendarExceptions(ctx, c.ID, year)
	if err != nil {
		return nil, 0, fmt.Errorf("read calendar %s exceptions: %w", regionCode, err)
	}
	return ex, year, nil
}

// PutExceptions replaces a year's table of holidays and make-up workdays. Every date must lie
// in the year; the table is validated with the calendar's week (worktime.New: no repeated
// date, make-up workdays on weekend days, at least one workday left in the year …).
func (s *Service) PutExceptions(ctx context.Context, p identity.Principal, regionCode string, year int, ex []worktime.Exception) ([]worktime.Exception, error) {
	if err := admin(p); err != nil {
		return nil, err
	}
	if err := checkYear(year); err != nil {
		return nil, err
	}
	var fe errs.Fields
	if len(ex) > 366 {
		fe.Add("exceptions", "max", "a year has at most 366 dates")
	}
	for i, e := range ex {
		if e.Date.Valid() && e.Date.Year != year {
			fe.Add(fmt.Sprintf("exceptions[%d].date", i), "year", "%s is not in %d", e.Date, year)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out []worktime.Exception
	err := s.store.InCalendarTx(ctx, func(tx Store) error {
		c, err := tx.CalendarByRegion(ctx, regionCode, true)
		if errs.Is(err, errs.NotFound) {
			return s.noCalendar(regionCode)
		}
		if err != nil {
			return err
		}
		wc, err := worktime.New(c.Settings.config(ex))
		if err != nil {
			return err
		}
		out = wc.Config().Exceptions // trimmed and sorted
		if out == nil {
			out = []worktime.Exception{}
		}
		if err := tx.ReplaceCalendarExceptions(ctx, c.ID, year, out); err != nil {
			return err
		}
		c.UpdatedAt, c.UpdatedBy = s.now().UTC(), p.UserID
		if err := tx.SaveCalendar(ctx, &c); err != nil {
			return err
		}
		return tx.BumpCounter(ctx, CounterName)
	})
	if err != nil {
		return nil, wrap(err, fmt.Sprintf("save calendar %s exceptions of %d", regionCode, year))
	}
	s.afterWrite(ctx)
	return out, nil
}

// PutStageLimits sets the stage limits a city overrides (nil or empty: every default).
func (s *Service) PutStageLimits(ctx context.Context, p identity.Principal, regionCode string, limits map[string]worktime.Limit) (Calendar, error) {
	if err := admin(p); err != nil {
		return Calendar{}, err
	}
	if err := ValidateStageLimits(limits); err != nil {
		return Calendar{}, err
	}
	return s.update(ctx, p, regionCode, func(c *Calendar) { c.StageLimits = maps.Clone(limits) })
}

// PutRules sets a city's supervision rules (an empty list: no automatic supervision; nil:
// back to DefaultRules).
func (s *Service) PutRules(ctx context.Context, p identity.Principal, regionCode string, rules []Rule) (Calendar, error) {
	if err := admin(p); err != nil {
		return Calendar{}, err
	}
	if err := ValidateRules(rules); err != nil {
		return Calendar{}, err
	}
	return s.update(ctx, p, regionCode, func(c *Calendar) { c.Rules = slices.Clone(rules) })
}

func (s *Service) update(ctx context.Context, p identity.Principal, regionCode string, change func(*Calendar)) (Calendar, error) {
	var out Calendar
	err := s.store.InCalendarTx(ctx, func(tx Store) error {
		c, err := tx.CalendarByRegion(ctx, regionCode, true)
		if errs.Is(err, errs.NotFound) {
			return s.noCalendar(regionCode)
		}
		if err != nil {
			return err
		}
		change(&c)
		c.UpdatedAt, c.UpdatedBy = s.now().UTC(), p.UserID
		if err := tx.SaveCalendar(ctx, &c); err != nil {
			return err
		}
		out = c
		return tx.BumpCounter(ctx, CounterName)
	})
	if err != nil {
		return Calendar{}, wrap(err, "save calendar "+regionCode)
	}
	s.afterWrite(ctx)
	return out, nil
}

func (s *Service) regionExists(ctx context.Context, code string) error {
	if code == DefaultRegion {
		return nil
	}
	if s.regions == nil {
		return errs.NotFoundf("there is no region %s", code)
	}
	if err := s.regions.RegionExists(ctx, code); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("there is no region %s", code)
		}
		return fmt.Errorf("read region %s: %w", code, err)
	}
	return nil
}

func admin(p identity.Principal) error {
	if p.IsAPIKey() || !p.Is(identity.RoleAdmin) {
		return errs.E(errs.Forbidden, "only an admin may edit calendars")
	}
	return nil
}

func checkYear(y int) error {
	if y < 1970 || y > 9999 {
		var fe errs.Fields
		fe.Add("year", "range", "year must be 1970–9999")
		return fe.Err()
	}
	return nil
}

func byYear(ex []worktime.Exception) map[int][]worktime.Exception {
	out := map[int][]worktime.Exception{}
	for _, e := range ex {
		out[e.Date.Year] = append(out[e.Date.Year], e)
	}
	return out
}

func location(zone string) *time.Location {
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		return loc
	}
	loc, _ := time.LoadLocation(worktime.DefaultZone)
	return loc
}

// wrap keeps domain errors as they are and wraps the others with the operation.
func wrap(err error, op string) error {
	if _, ok := errs.As(err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
