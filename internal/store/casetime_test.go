package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gridcase/gridcase/internal/calendar"
	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/jobs"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

// TestCaseTimeColumnsRoundTrip: the handling clock, the request flags, the pause and the
// supervision counts are saved with the case.
func TestCaseTimeColumnsRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
		from, until := caseT0.Add(time.Hour), caseT0.Add(48*time.Hour)
		limit := worktime.WorkDaysLimit(15)
		_, err := s.UpdateCase(ctx, c.ID, casework.Reach{All: true}, func(c *casework.Case) error {
			c.HandleLimit, c.HandleExtensions, c.Extensions, c.ExtensionPending = &limit, 1, 2, true
			c.Suspensions, c.SuspensionPending, c.SuspendedAt, c.SuspendedUntil = 1, true, &from, &until
			c.OpenSupervisions, c.SupervisionLevel = 2, "red"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Case(ctx, c.ID, casework.Reach{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.HandleLimit == nil || *got.HandleLimit != limit || got.HandleExtensions != 1 || got.Extensions != 2 || !got.ExtensionPending ||
			got.Suspensions != 1 || !got.SuspensionPending || !got.SuspendedAt.Equal(from) || !got.SuspendedUntil.Equal(until) ||
			got.ResumedAt != nil || got.OpenSupervisions != 2 || got.SupervisionLevel != "red" {
			t.Fatalf("round trip: %+v", got)
		}
	})
}

func TestCaseRequestsAndSupervisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
		r := casework.Request{CaseID: c.ID, Kind: casework.ExtensionRequest, Reason: "需协调", RequestedAt: caseT0}
		if err := s.AddRequest(ctx, &r); err != nil || r.ID == 0 {
			t.Fatalf("add: %v", err)
		}
		// One pending request of a kind per case, whatever the caller checked.
		again := casework.Request{CaseID: c.ID, Kind: casework.ExtensionRequest, Reason: "again", RequestedAt: caseT0}
		if err := s.AddRequest(ctx, &again); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second pending request: %v", err)
		}
		until := caseT0.Add(24 * time.Hour)
		sus := casework.Request{CaseID: c.ID, Kind: casework.SuspensionRequest, Reason: "待汛期结束", Until: &until, RequestedAt: caseT0}
		if err := s.AddRequest(ctx, &sus); err != nil {
			t.Fatal(err)
		}
		d, err := s.DecideRequest(ctx, c.ID, casework.ExtensionRequest, casework.RequestApproved, 0, caseT0.Add(time.Minute), "同意")
		if err != nil || d.ID != r.ID || d.Status != casework.RequestApproved || d.DecidedAt == nil || d.DecisionNote != "同意" {
			t.Fatalf("decide: %+v %v", d, err)
		}
		if _, err := s.DecideRequest(ctx, c.ID, casework.ExtensionRequest, casework.RequestDenied, 0, caseT0, ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deciding twice: %v", err)
		}
		if err := s.LapseRequests(ctx, c.ID, caseT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		all, err := s.Requests(ctx, c.ID)
		if err != nil || len(all) != 2 || all[1].Status != casework.RequestLapsed || !all[1].Until.Equal(until) {
			t.Fatalf("requests: %+v %v", all, err)
		}

		for _, l := range []calendar.Level{calendar.LevelYellow, calendar.LevelRed} {
			sv := casework.Supervision{CaseID: c.ID, Level: l, Source: casework.SupervisionAuto, Rule: "r", Note: "督办", CreatedAt: caseT0}
			if err := s.AddSupervision(ctx, &sv); err != nil || sv.ID == 0 {
				t.Fatalf("add supervision: %v", err)
			}
		}
		open, _ := s.Supervisions(ctx, c.ID, true)
		if n, err := s.ReplySupervisions(ctx, c.ID, open[0].ID, "已处置", 0, caseT0); err != nil || n != 1 {
			t.Fatalf("reply one: %d %v", n, err)
		}
		if n, err := s.ReplySupervisions(ctx, c.ID, open[0].ID, "again", 0, caseT0); err != nil || n != 0 {
			t.Fatalf("reply to a replied one: %d %v", n, err)
		}
		if n, err := s.ReplySupervisions(ctx, c.ID, 0, "全部回复", 0, caseT0); err != nil || n != 1 {
			t.Fatalf("reply to all: %d %v", n, err)
		}
		svs, err := s.Supervisions(ctx, c.ID, false)
		if err != nil || len(svs) != 2 || svs[0].Reply != "已处置" || svs[1].Reply != "全部回复" || svs[1].RepliedAt == nil {
			t.Fatalf("supervisions: %+v %v", svs, err)
		}
	})
}

// TestCaseTimersAreUniqueJobs: scheduling a timer again (a retried transaction, another
// replica) inserts no second job, a rolled-back transaction none, and a timer's key is
// recorded once.
func TestCaseTimersAreUniqueJobs(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			s, err := store.Open(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c := newCase(t, s, "GC20260316-000001", "", "", nil, "")
			r, err := jobs.New(ctx, s, jobs.Config{DatabaseURL: url, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Stop(context.Background()) })

			at := time.Now().Add(time.Hour).UTC()
			warn := casework.Timer{CaseID: c.ID, Kind: casework.TimerWarn, Stage: casework.StageSign, Entry: caseT0, At: at}
			over := warn
			over.Kind, over.At = casework.TimerOverdue, at.Add(time.Minute)
			for range 2 {
				if err := s.InTx(ctx, func(tx *store.Store) error { return tx.ScheduleTimers(ctx, []casework.Timer{warn, over}) }); err != nil {
					t.Fatal(err)
				}
			}
			_ = s.InTx(ctx, func(tx *store.Store) error {
				later := warn
				later.At = at.Add(time.Hour)
				if err := tx.ScheduleTimers(ctx, []casework.Timer{later}); err != nil {
					t.Fatal(err)
				}
				return errs.E(errs.Conflict, "roll back")
			})
			list, err := r.Jobs(ctx, "case_timer")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].State != rivertype.JobStateScheduled || list[0].ScheduledAt.Sub(at).Abs() >= time.Millisecond {
				t.Fatalf("jobs: %d %+v", len(list), list)
			}
			for i, want := range []bool{true, false} {
				first, err := s.MarkTimerFired(ctx, c.ID, warn.Key(), caseT0)
				if err != nil || first != want {
					t.Fatalf("mark %d: %v %v", i, first, err)
				}
			}
			if first, err := s.MarkTimerFired(ctx, c.ID, over.Key(), caseT0); err != nil || !first {
				t.Fatalf("another key: %v %v", first, err)
			}
		})
	}
}
