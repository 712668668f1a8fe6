package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gridcase/gridcase/internal/demo"
)

// seedDemo loads the Nantong demo city unless it is already there, and prints its logins.
func (a *App) seedDemo(ctx context.Context, stdout io.Writer) error {
	svc := demo.Services{Identity: a.Identity, Regions: a.Regions, Categories: a.Categories}
	done, err := demo.Seeded(ctx, svc)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if done {
		return nil
	}
	start := time.Now()
	fmt.Fprintln(stdout, "loading the demo city (first start only)…")
	sum, err := demo.Seed(ctx, svc, func(line string) { fmt.Fprintln(stdout, "  "+line) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo city loaded in %s: %d regions (%d grids), %d departments, %d categories\n",
		time.Since(start).Round(100*time.Millisecond), sum.Regions, sum.Grids, sum.Departments, sum.Categories)
	if len(sum.Users) > 0 {
		fmt.Fprintf(stdout, "demo logins (password %q):\n", demo.Password)
		for _, u := range sum.Users {
			fmt.Fprintf(stdout, "  %-11s %-12s %s\n", u.Username, u.Role, u.DisplayName)
		}
	}
	return nil
}
