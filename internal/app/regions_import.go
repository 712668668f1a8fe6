package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
)

const importUsage = "usage: gridcase import regions [-coord-sys wgs84|gcj02|bd09] [-dry-run] FILE.geojson"

// cliPrincipal is who the command line acts as: whoever may run it may change the database.
var cliPrincipal = identity.Principal{Username: "cli", DisplayName: "command line", Role: identity.RoleAdmin,
	Scope: identity.Scope{Kind: identity.ScopeAll}}

// importRegionsCommand imports a GeoJSON FeatureCollection of regions with the same service
// code as POST /api/v1/regions/import: a progress bar on a terminal, plain lines otherwise,
// then a summary with every invalid feature's errors. It fails (exit status 1) when any
// feature was invalid; the valid ones are kept.
func importRegionsCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "regions" {
		return errors.New(importUsage)
	}
	fs := flag.NewFlagSet("import regions", flag.ContinueOnError)
	fs.SetOutput(stdout)
	coordSys := fs.String("coord-sys", "wgs84", "coordinate system of features without a coord_sys property")
	dryRun := fs.Bool("dry-run", false, "check and report without writing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(importUsage)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import regions: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import regions: %w", err)
	}

	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	svc, err := region.NewService(ctx, s, region.Config{Log: log})
	if err != nil {
		return err
	}

	p := newProgress(stdout)
	fmt.Fprintf(stdout, "reading %s (%.1f MB)\n", path, float64(info.Size())/(1<<20))
	start := time.Now()
	rep, err := svc.Import(ctx, cliPrincipal, bufio.NewReaderSize(f, 1<<20), region.ImportOptions{
		CoordSys: *coordSys, DryRun: *dryRun, Progress: p.update,
	})
	p.finish()
	if err != nil {
		return fmt.Errorf("import regions from %s: %w", path, err)
	}
	printImportReport(stdout, rep, time.Since(start))
	if rep.Invalid > 0 {
		if rep.DryRun {
			return fmt.Errorf("%d of %d features are invalid; nothing was written (dry run)", rep.Invalid, rep.Total)
		}
		return fmt.Errorf("%d of %d features were invalid and left out; the others were imported", rep.Invalid, rep.Total)
	}
	return nil
}

func printImportReport(w io.Writer, rep region.ImportReport, took time.Duration) {
	verb := "imported"
	if rep.DryRun {
		verb = "checked (dry run, nothing written)"
	}
	fmt.Fprintf(w, "%s %d features in %s: %d created, %d updated, %d unchanged, %d invalid\n",
		verb, rep.Total, took.Round(time.Millisecond), rep.Created, rep.Updated, rep.Unchanged, rep.Invalid)
	for _, fr := range rep.Features {
		if fr.Status != region.ImportInvalid {
			continue
		}
		code := fr.Code
		if code == "" {
			code = "no code"
		}
		fmt.Fprintf(w, "  feature %d (%s) is invalid:\n", fr.Index, code)
		for _, e := range fr.Errors {
			fmt.Fprintf(w, "    %s [%s]: %s\n", e.Field, e.Rule, e.Message)
		}
	}
}

// progress draws the import's progress: a bar redrawn in place on a terminal, or a plain
// line per stage and per tenth otherwise (for logs and pipes).
type progress struct {
	w        io.Writer
	tty      bool
	width    int
	stage    string
	lastTick int
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, width: 30}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 60 {
			p.width = min(50, cols-40)
		}
	}
	return p
}

func (p *progress) update(stage string, done, total int) {
	if total <= 0 {
		return
	}
	if p.tty {
		if stage != p.stage && p.drawn {
			fmt.Fprintln(p.w)
		}
		p.stage, p.drawn = stage, true
		filled := p.width * done / total
		fmt.Fprintf(p.w, "\r%-8s [%s%s] %d/%d %3d%%", stage, strings.Repeat("█", filled), strings.Repeat("░", p.width-filled), done, total, 100*done/total)
		return
	}
	tick := 10 * done / total
	if stage != p.stage {
		p.stage, p.lastTick = stage, -1
	}
	if tick != p.lastTick {
		p.lastTick = tick
		fmt.Fprintf(p.w, "%s %d/%d features\n", stage, done, total)
	}
}

func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
