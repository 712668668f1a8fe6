// Command loadgen fills a database with synthetic cases spread over the demo city's grids
// and times the case list queries on it: the figures and plans behind the indexes of
// migration 00007 (docs/case-lists.md).
//
//	go run ./cmd/loadgen -db postgres://postgres@127.0.0.1:5432/gridcase_load -n 1000000 -explain
//	go run ./cmd/loadgen -db /tmp/gridcase_load.db -n 200000
//
// The database is dropped (PostgreSQL) or removed (SQLite) first and, unless -keep, at the
// end; its name must contain "load" so that a typo cannot drop a real one.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		stop()
		os.Exit(1)
	}
}
