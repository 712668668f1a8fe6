package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/stats"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// TestScanHistories: the cases a statistics period needs, each with its history up to the
// period's end, narrowed by place, department and worker.
func TestScanHistories(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cst := time.FixedZone("CST", 8*3600)
		at := func(v string) time.Time {
			tm, err := time.ParseInLocation("2006-01-02 15:04", v, cst)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		now := at("2026-04-10 09:00")
		dept := identity.Department{Code: "cgj", Name: "城市管理局", Active: true, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateDepartment(ctx, &dept); err != nil {
			t.Fatal(err)
		}
		worker := identity.User{Username: "w", DisplayName: "网格员甲", PasswordHash: "x", Role: identity.RoleGridWorker,
			Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{"320613001001001"}}, Active: true,
			CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
		if err := s.CreateUser(ctx, &worker); err != nil {
			t.Fatal(err)
		}
		var regions []*region.Region
		for _, r := range [][3]string{
			{"320600", "南通市", ""}, {"320613", "崇川区", "320600"}, {"320613001", "和平桥街道", "320613"},
			{"320613001001", "桃坞路社区", "320613001"}, {"320613001001001", "桃坞路第一网格", "320613001001"},
			{"320613002", "任港街道", "320613"}, {"320613002001", "任港社区", "320613002"},
			{"320613002001001", "任港第一网格", "320613002001"},
		} {
			lv := map[int]region.Level{6: region.LevelDistrict, 9: region.LevelStreet, 12: region.LevelCommunity, 15: region.LevelGrid}[len(r[0])]
			path := "/" + r[0] + "/"
			if r[2] == "" {
				lv = region.LevelCity
			} else {
				for _, p := range regions {
					if p.Code == r[2] {
						path = p.Path + r[0] + "/"
					}
				}
			}
			regions = append(regions, &region.Region{Code: r[0], Name: r[1], Level: lv, ParentCode: r[2], Path: path, ValidFrom: at("2020-01-01 00:00")})
		}
		if err := s.SaveRegions(ctx, regions, nil, nil); err != nil {
			t.Fatal(err)
		}
		street1, street2 := "/320600/320613/320613001/", "/320600/320613/320613002/"
		grid1 := street1 + "320613001001/320613001001001/"
		grid2 := street2 + "320613002001/320613002001001/"
		type evSpec struct {
			action casework.Action
			when   string
			data   map[string]any
			dept   int64
			actor  int64
		}
		n := 0
		mk := func(path, grid, desk string, evs ...evSpec) int64 {
			t.Helper()
			n++
			first := at(evs[0].when)
			c := casework.Case{State: casework.Reported, Version: 1, Urgency: "normal", Description: "x", Source: casework.SourceHotline,
				GridCode: grid, RegionPath: path, DeskRegionPath: desk, OccurredAt: first, CreatedAt: first, UpdatedAt: first,
				Stage: casework.StageAccept, StageStartedAt: first, Number: fmt.Sprintf("GC-%d", n)}
			if err := s.CreateCase(ctx, &c); err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				ev := casework.Event{CaseID: c.ID, Action: e.action, ToState: casework.Reported, ActorRole: identity.RoleDispatcher,
					CreatedAt: at(e.when), Data: e.data, TargetDepartmentID: e.dept, ActorUserID: e.actor}
				if err := s.AppendEvent(ctx, &ev); err != nil {
					t.Fatal(err)
				}
			}
			return c.ID
		}
		dl := func(v string) map[string]any {
			return map[string]any{"handle_deadline": at(v).UTC().Format(time.RFC3339), "handle_limit": "1 work_days"}
		}
		// In March, street 1.
		inMarch := mk(grid1, "320613001001001", street1,
			evSpec{action: casework.ReportAction, when: "2026-02-28 23:00"},
			evSpec{action: casework.Accept, when: "2026-03-01 00:00"}, // the first instant
			evSpec{action: casework.Evaluate, when: "2026-03-31 23:59", data: map[string]any{"satisfaction": 4}},
			evSpec{action: casework.Comment, when: "2026-04-01 00:00"}) // the end: not read
		// February only, but its deadline falls in March: due without being touched.
		carried := mk(grid1, "320613001001001", street1,
			evSpec{action: casework.ReportAction, when: "2026-02-20 09:00"},
			evSpec{action: casework.Dispatch, when: "2026-02-20 10:00", data: dl("2026-03-02 16:20"), dept: dept.ID})
		// February only, deadline in February.
		mk(grid1, "320613001001001", street1,
			evSpec{action: casework.ReportAction, when: "2026-02-10 09:00"},
			evSpec{action: casework.Dispatch, when: "2026-02-10 10:00", data: dl("2026-02-11 10:00"), dept: dept.ID})
		// A deadline recorded in April (after the period) is not read.
		mk(grid1, "320613001001001", street1,
			evSpec{action: casework.ReportAction, when: "2026-02-10 09:00"},
			evSpec{action: casework.Dispatch, when: "2026-04-02 10:00", data: dl("2026-03-30 10:00"), dept: dept.ID})
		// Street 2, and an unplaced case held by street 2's desk.
		other := mk(grid2, "320613002001001", street2, evSpec{action: casework.ReportAction, when: "2026-03-05 09:00"})
		unplaced := mk("", "", street2, evSpec{action: casework.ReportAction, when: "2026-03-06 09:00"})
		// The worker acted on a street-2 case.
		acted := mk(grid2, "320613002001001", street2,
			evSpec{action: casework.ReportAction, when: "2026-03-07 09:00"},
			evSpec{action: casework.Check, when: "2026-03-07 10:00", actor: worker.ID})

		scan := func(sc stats.Scan) map[int64]stats.History {
			t.Helper()
			sc.From, sc.To = at("2026-03-01 00:00"), at("2026-04-01 00:00")
			sc.DeadlineFrom, sc.DeadlineTo = sc.From, sc.To
			out := map[int64]stats.History{}
			last := int64(0)
			err := s.ScanHistories(ctx, sc, func(h *stats.History) error {
				if h.CaseID <= last {
					t.Errorf("case %d after %d: not in case order", h.CaseID, last)
				}
				last = h.CaseID
				cp := *h
				cp.Events = slices.Clone(h.Events)
				out[h.CaseID] = cp
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		ids := func(m map[int64]stats.History) []int64 {
			var out []int64
			for id := range m {
				out = append(out, id)
			}
			slices.Sort(out)
			return out
		}

		all := scan(stats.Scan{})
		if got, want := ids(all), []int64{inMarch, carried, other, unplaced, acted}; !slices.Equal(got, want) {
			t.Fatalf("cases %v, want %v", got, want)
		}
		h := all[inMarch]
		if len(h.Events) != 3 || h.Events[1].Action != casework.Accept || !h.Events[1].At.Equal(at("2026-03-01 00:00")) ||
			h.Events[2].Satisfaction != 4 || h.RegionPath != grid1 || h.GridCode != "320613001001001" || h.Source != casework.SourceHotline {
			t.Fatalf("history: %+v", h)
		}
		c := all[carried]
		if len(c.Events) != 2 || c.Events[1].HandleDeadline == nil || !c.Events[1].HandleDeadline.Equal(at("2026-03-02 16:20")) ||
			c.Events[1].HandleLimit != "1 work_days" || c.Events[1].DepartmentID != dept.ID {
			t.Fatalf("carried history: %+v", c.Events)
		}

		if got, want := ids(scan(stats.Scan{RegionPath: street1})), []int64{inMarch, carried}; !slices.Equal(got, want) {
			t.Errorf("street 1: %v, want %v", got, want)
		}
		if got, want := ids(scan(stats.Scan{RegionPath: street2})), []int64{other, unplaced, acted}; !slices.Equal(got, want) {
			t.Errorf("street 2 (with its unplaced case): %v, want %v", got, want)
		}
		if got, want := ids(scan(stats.Scan{DepartmentID: dept.ID})), []int64{carried}; !slices.Equal(got, want) {
			t.Errorf("department: %v, want %v", got, want)
		}
		if got, want := ids(scan(stats.Scan{WorkerID: worker.ID, GridCodes: []string{"320613001001001"}})), []int64{inMarch, carried, acted}; !slices.Equal(got, want) {
			t.Errorf("worker: %v, want %v", got, want)
		}

		ws, err := s.GridWorkers(ctx, street1, 0)
		if err != nil || len(ws) != 1 || ws[0].ID != worker.ID || ws[0].Name != "网格员甲" || !slices.Equal(ws[0].Grids, []string{"320613001001001"}) {
			t.Fatalf("grid workers of street 1: %+v, %v", ws, err)
		}
		if ws, _ := s.GridWorkers(ctx, street2, 0); len(ws) != 0 {
			t.Fatalf("grid workers of street 2: %+v", ws)
		}
		streets, err := s.RegionsAt(ctx, "/320600/320613/", region.LevelStreet, at("2026-03-01 00:00"), at("2026-04-01 00:00"))
		if err != nil || len(streets) != 2 || streets[0].Code != "320613001" || streets[1].Name != "任港街道" {
			t.Fatalf("streets: %+v, %v", streets, err)
		}
		refs, err := s.RegionRefs(ctx, []string{"320613001001001", "999"})
		if err != nil || len(refs) != 1 || refs[0].Level != region.LevelGrid || refs[0].Path != grid1 {
			t.Fatalf("refs: %+v, %v", refs, err)
		}
		names, err := s.DepartmentNames(ctx, []int64{dept.ID, 999})
		if err != nil || names[dept.ID] != "城市管理局" || len(names) != 1 {
			t.Fatalf("department names: %v, %v", names, err)
		}
	})
}
