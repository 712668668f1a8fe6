package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

var caseT0 = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

func caseDepartment(t *testing.T, s *store.Store, code string) identity.Department {
	t.Helper()
	d := identity.Department{Code: code, Name: "部门 " + code, Active: true, CreatedAt: caseT0, UpdatedAt: caseT0}
	if err := s.CreateDepartment(context.Background(), &d); err != nil {
		t.Fatalf("create department %s: %v", code, err)
	}
	return d
}

func caseCategory(t *testing.T, s *store.Store) category.Category {
	t.Helper()
	c := category.Catalogue()[0]
	c.CreatedAt, c.UpdatedAt = caseT0, caseT0
	if err := s.CreateCategory(context.Background(), &c); err != nil {
		t.Fatalf("create category: %v", err)
	}
	return c
}

// newCase inserts a reported case with its report event, as casework does.
func newCase(t *testing.T, s *store.Store, number, grid, path string, p *casework.Point, cat string) casework.Case {
	t.Helper()
	ctx := context.Background()
	deadline := caseT0.Add(15 * time.Minute)
	c := casework.Case{
		Number: number, State: casework.Reported, Version: 1, CategoryCode: cat, Urgency: category.Normal,
		Description: "暴露垃圾", Point: p, GridCode: grid, RegionPath: path, DeskRegionCode: "320613001", DeskRegionPath: "/320600/320613/320613001/",
		Source: casework.SourceHotline, OccurredAt: caseT0, CreatedAt: caseT0, UpdatedAt: caseT0,
		Stage: casework.StageAccept, StageStartedAt: caseT0, StageDeadline: &deadline,
		StageLimit: &worktime.Limit{Unit: worktime.WorkHours, Minutes: 15},
	}
	err := s.InCaseTx(ctx, func(tx casework.Store) error {
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		e := casework.Event{CaseID: c.ID, Action: casework.ReportAction, ToState: casework.Reported, ActorRole: identity.RoleAdmin, CreatedAt: caseT0}
		return tx.AppendEvent(ctx, &e)
	})
	if err != nil {
		t.Fatalf("create case: %v", err)
	}
	return c
}

func TestCaseStoreRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cat := caseCategory(t, s)
		got, err := s.Category(ctx, cat.Code)
		if err != nil || got.Name != cat.Name || got.NormalLimit != cat.NormalLimit || got.UrgentLimit != cat.UrgentLimit ||
			!slices.Equal(got.Keywords, cat.Keywords) || got.DefaultDepartment != cat.DefaultDepartment || !got.Active {
			t.Fatalf("category round trip: %+v, %v", got, err)
		}
		c := newCase(t, s, "GC20260316-000001", "320613001001001", "/320600/320613/320613001/320613001001/320613001001001/",
			&casework.Point{Lat: 32.0, Lng: 120.9}, cat.Code)
		read, err := s.Case(ctx, c.ID, casework.Reach{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if read.Number != c.Number || read.Point == nil || read.Point.Lat != 32.0 || read.StageLimit == nil ||
			read.StageLimit.Minutes != 15 || !read.StageDeadline.Equal(*c.StageDeadline) || read.CategoryCode != cat.Code ||
			read.Version != 1 || read.DeskRegionPath != c.DeskRegionPath {
			t.Fatalf("case round trip: %+v", read)
		}
		evs, err := s.Events(ctx, c.ID)
		if err != nil || len(evs) != 1 || evs[0].Seq != 1 || evs[0].FromState != "" || evs[0].ToState != casework.Reported {
			t.Fatalf("events: %+v, %v", evs, err)
		}
	})
}

func TestUpdateCaseWritesCaseAndEventTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		lead, co := caseDepartment(t, s, "cgj"), caseDepartment(t, s, "scjg")
		c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
		now := caseT0.Add(time.Hour)

		// A successful action: state, version, co-handlers and the event commit together.
		err := s.InCaseTx(ctx, func(tx casework.Store) error {
			_, err := tx.UpdateCase(ctx, c.ID, casework.Reach{All: true}, func(c *casework.Case) error {
				c.State, c.LeadDepartmentID, c.CoHandlerIDs, c.UpdatedAt = casework.Dispatched, lead.ID, []int64{co.ID}, now
				e := casework.Event{CaseID: c.ID, Action: casework.Dispatch, FromState: casework.Reported, ToState: casework.Dispatched,
					TargetDepartmentID: lead.ID, ActorRole: identity.RoleDispatcher, Data: map[string]any{"co_handler_department_ids": []int64{co.ID}}, CreatedAt: now}
				return tx.AppendEvent(ctx, &e)
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Case(ctx, c.ID, casework.Reach{All: true})
		if got.State != casework.Dispatched || got.Version != 2 || !slices.Equal(got.CoHandlerIDs, []int64{co.ID}) {
			t.Fatalf("after update: %+v", got)
		}

		// A failing action after its event was appended: nothing of it stays.
		boom := errors.New("boom")
		err = s.InCaseTx(ctx, func(tx casework.Store) error {
			_, err := tx.UpdateCase(ctx, c.ID, casework.Reach{All: true}, func(c *casework.Case) error {
				c.State = casework.Handling
				e := casework.Event{CaseID: c.ID, Action: casework.Sign, FromState: casework.Dispatched, ToState: casework.Handling, ActorRole: identity.RoleHandler, CreatedAt: now}
				if err := tx.AppendEvent(ctx, &e); err != nil {
					return err
				}
				return boom
			})
			return err
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failing update: %v", err)
		}
		got, _ = s.Case(ctx, c.ID, casework.Reach{All: true})
		evs, _ := s.Events(ctx, c.ID)
		if got.State != casework.Dispatched || got.Version != 2 || len(evs) != 2 || evs[1].Action != casework.Dispatch ||
			evs[1].Data["co_handler_department_ids"] == nil {
			t.Fatalf("a failed update left traces: %+v, %+v", got, evs)
		}

		// Returning clears the co-handlers, but they keep reading the case (history).
		_, err = s.UpdateCase(ctx, c.ID, casework.Reach{All: true}, func(c *casework.Case) error {
			c.State, c.LeadDepartmentID, c.CoHandlerIDs = casework.Filed, 0, nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.Case(ctx, c.ID, casework.Reach{All: true})
		if len(got.CoHandlerIDs) != 0 || got.Version != 3 {
			t.Fatalf("after return: %+v", got)
		}
		for _, d := range []int64{lead.ID, co.ID} {
			if _, err := s.Case(ctx, c.ID, casework.Reach{DepartmentID: d}); err != nil {
				t.Errorf("department %d lost sight of the case it handled: %v", d, err)
			}
		}
		other := caseDepartment(t, s, "hbj")
		if _, err := s.Case(ctx, c.ID, casework.Reach{DepartmentID: other.ID}); !errs.Is(err, errs.NotFound) {
			t.Errorf("another department reads the case: %v", err)
		}
	})
}

func TestCaseEventsAreImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
		db, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			fmt.Sprintf(`UPDATE case_events SET note = 'rewritten' WHERE case_id = %d`, c.ID),
			fmt.Sprintf(`DELETE FROM case_events WHERE case_id = %d`, c.ID),
		} {
			if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "immutable") {
				t.Errorf("%s: %v, want the immutability trigger to refuse", q, err)
			}
		}
	})
}

func TestUpdateCaseRespectsReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		grid := "320613001001001"
		path := "/320600/320613/320613001/320613001001/320613001001001/"
		c := newCase(t, s, "GC20260316-000001", grid, path, nil, "")
		tests := []struct {
			name  string
			reach casework.Reach
			sees  bool
		}{
			{"all", casework.Reach{All: true}, true},
			{"street subtree", casework.Reach{RegionPaths: []string{"/320600/320613/320613001/"}}, true},
			{"district subtree", casework.Reach{RegionPaths: []string{"/320600/320613/"}}, true},
			{"sibling street", casework.Reach{RegionPaths: []string{"/320600/320613/320613002/"}}, false},
			{"prefix that is not an ancestor", casework.Reach{RegionPaths: []string{"/320600/32061/"}}, false},
			{"own grid", casework.Reach{GridCodes: []string{grid}}, true},
			{"other grid", casework.Reach{GridCodes: []string{"320613001001002"}}, false},
			{"nothing", casework.Reach{}, false},
		}
		for _, tt := range tests {
			_, err := s.Case(ctx, c.ID, tt.reach)
			if (err == nil) != tt.sees {
				t.Errorf("%s: read error %v, want sees=%v", tt.name, err, tt.sees)
			}
			_, err = s.UpdateCase(ctx, c.ID, tt.reach, func(*casework.Case) error { return nil })
			if (err == nil) != tt.sees || (err != nil && !errs.Is(err, errs.NotFound)) {
				t.Errorf("%s: update error %v, want sees=%v", tt.name, err, tt.sees)
			}
		}
		// The desk clause: an unplaced case is visible to the desk that holds it.
		u := newCase(t, s, "GC20260316-000002", "", "", nil, "")
		if _, err := s.Case(ctx, u.ID, casework.Reach{RegionPaths: []string{"/320600/320613/320613001/"}}); err != nil {
			t.Errorf("the desk cannot read its unplaced case: %v", err)
		}
	})
}

func TestCaseNumbersAndIdempotencyKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var (
			mu  sync.Mutex
			got []int64
			wg  sync.WaitGroup
		)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.InCaseTx(ctx, func(tx casework.Store) error {
					n, err := tx.NextCaseNumber(ctx, "20260316")
					mu.Lock()
					got = append(got, n)
					mu.Unlock()
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		slices.Sort(got)
		if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8}) {
			t.Fatalf("numbers %v", got)
		}
		if n, _ := s.NextCaseNumber(ctx, "20260317"); n != 1 {
			t.Fatalf("a new day starts at %d", n)
		}

		r := casework.Replay{Operation: "report", RequestHash: "h", Status: 201, Body: []byte(`{"id":1}`), CreatedAt: caseT0}
		if err := s.SaveIdempotent(ctx, "user:1", "k1", r); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveIdempotent(ctx, "user:1", "k1", r); !errors.Is(err, casework.ErrKeyTaken) {
			t.Fatalf("second save: %v", err)
		}
		if err := s.SaveIdempotent(ctx, "user:2", "k1", r); err != nil {
			t.Fatalf("another caller's key: %v", err)
		}
		back, ok, err := s.Idempotent(ctx, "user:1", "k1")
		if err != nil || !ok || string(back.Body) != `{"id":1}` || back.Status != 201 || back.Operation != "report" {
			t.Fatalf("read back: %+v %v %v", back, ok, err)
		}
		if n, err := s.DeleteIdempotencyKeys(ctx, caseT0.Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("delete: %d %v", n, err)
		}
	})
}

func TestNearbyOpenCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cat := caseCategory(t, s)
		p := casework.Point{Lat: 32.0, Lng: 120.9}
		a := newCase(t, s, "GC20260316-000001", "", "", &casework.Point{Lat: 32.0001, Lng: 120.9001}, cat.Code)
		newCase(t, s, "GC20260316-000002", "", "", &casework.Point{Lat: 32.01, Lng: 120.9}, cat.Code) // ~1.1 km away
		newCase(t, s, "GC20260316-000003", "", "", &casework.Point{Lat: 32.0001, Lng: 120.9}, "")     // no category
		got, err := s.NearbyOpenCases(ctx, cat.Code, casework.BoxAround(p, 50), casework.Reach{All: true}, 10)
		if err != nil || len(got) != 1 || got[0].ID != a.ID {
			t.Fatalf("nearby: %+v, %v", got, err)
		}
		if d := casework.Distance(p, *got[0].Point); d < 10 || d > 20 {
			t.Fatalf("distance %f", d)
		}
	})
}

func TestUpdateCaseUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
		const n = 6
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := s.UpdateCase(ctx, c.ID, casework.Reach{All: true}, func(c *casework.Case) error {
					if c.State != casework.Reported {
						return errs.E(errs.Conflict, "state is %s", c.State)
					}
					c.State, c.Description = casework.Filed, fmt.Sprint("winner ", i)
					return nil
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errs.Is(err, errs.Conflict):
					lost++
				default:
					t.Errorf("update %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		got, _ := s.Case(ctx, c.ID, casework.Reach{All: true})
		if won != 1 || lost != n-1 || got.Version != 2 {
			t.Fatalf("won %d, lost %d, version %d", won, lost, got.Version)
		}
	})
}
