package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// TestSchemasAgree proves the SQLite and PostgreSQL migrations build the same tables, columns,
// type families and nullability.
func TestSchemasAgree(t *testing.T) {
	ctx := context.Background()
	lite, err := storetest.Open(t, store.SQLite).Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := storetest.Open(t, store.Postgres).Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	index := func(cols []store.Column) map[string]string {
		m := map[string]string{}
		for _, c := range cols {
			m[c.Table+"."+c.Name] = fmt.Sprintf("%s null=%v", c.Family, c.Nullable)
		}
		return m
	}
	l, p := index(lite), index(pg)
	if len(l) == 0 {
		t.Fatal("no columns read from sqlite")
	}
	for k, v := range l {
		if p[k] != v {
			t.Errorf("%s: sqlite %q, postgres %q", k, v, p[k])
		}
	}
	for k, v := range p {
		if _, ok := l[k]; !ok {
			t.Errorf("%s: only in postgres (%s)", k, v)
		}
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestCounterCommitsWithTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.BumpCounter(ctx, "regions"); err != nil {
			t.Fatal(err)
		}
		_ = s.InTx(ctx, func(tx *store.Store) error {
			if err := tx.BumpCounter(ctx, "regions"); err != nil {
				t.Fatal(err)
			}
			return fmt.Errorf("roll back")
		})
		if err := s.BumpCounter(ctx, "regions"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Counter(ctx, "regions")
		if err != nil {
			t.Fatal(err)
		}
		if got != 2 {
			t.Fatalf("counter = %d, want 2 (the rolled-back bump must not count)", got)
		}
	})
}
