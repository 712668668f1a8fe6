package app

import (
	"context"
	"fmt"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/worktime"
)

// assembleCasework builds the category catalogue and the case workflow on the store, the
// identity directory, the region index and the work calendar, and lets the photo service ask
// the workflow who may see a case. It runs after identity, regions and media.
func (a *App) assembleCasework() error {
	a.Categories = category.NewService(a.Store, a.Identity)
	cfg := worktime.DefaultConfig()
	cfg.Exceptions = worktime.ChinaHolidays2026()
	cal, err := worktime.New(cfg)
	if err != nil {
		return fmt.Errorf("work calendar: %w", err)
	}
	wc := casework.DefaultConfig()
	wc.ReopenWindow = a.Config.ReopenWindow
	wc.DeskLevel = region.Level(a.Config.DeskLevel)
	a.Cases = casework.NewService(a.Store, a.Identity, places{a.Regions}, cal, wc)
	if a.Media != nil {
		a.Media.Access = a.Cases
	}
	return nil
}

// places answers casework's questions about where a case is from the region service.
type places struct{ r *region.Service }

func (p places) Locate(ctx context.Context, pt geo.Point) (region.Ref, []region.Ref, bool, error) {
	loc, err := p.r.Locate(ctx, pt)
	if errs.Is(err, errs.NotFound) {
		return region.Ref{}, nil, false, nil
	}
	if err != nil {
		return region.Ref{}, nil, false, err
	}
	return loc.Region, loc.Ancestors, true, nil
}

func (p places) Region(ctx context.Context, code string) (region.Ref, error) {
	d, err := p.r.Get(ctx, code)
	if err != nil {
		return region.Ref{}, err
	}
	return d.Region.Ref(), nil
}

func (p places) Roots(ctx context.Context) ([]region.Ref, error) {
	rs, err := p.r.Children(ctx, "", false)
	if err != nil {
		return nil, err
	}
	out := make([]region.Ref, len(rs))
	for i, r := range rs {
		out[i] = r.Ref()
	}
	return out, nil
}

func (p places) ResponsibleDepartments(ctx context.Context, gridCode, categoryCode string) ([]int64, error) {
	r, err := p.r.ResponsibleFor(ctx, gridCode, categoryCode)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.DepartmentID == 0 {
		return nil, nil
	}
	return []int64{r.DepartmentID}, nil
}
