package store_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
	"github.com/gridcase/gridcase/internal/worktime"
)

var attT0 = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

func attUser(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	u := identity.User{Username: name, DisplayName: name, PasswordHash: "x", Role: identity.RoleGridWorker,
		Scope: identity.Scope{Kind: identity.ScopeAll}, Active: true, CreatedAt: attT0, UpdatedAt: attT0, PasswordChangedAt: attT0}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u.ID
}

// attCase inserts a reported case with its report event and returns their ids.
func attCase(t *testing.T, s *store.Store, number string, reporter int64) (caseID, eventID int64) {
	t.Helper()
	ctx := context.Background()
	c := casework.Case{
		Number: number, State: casework.Reported, Version: 1, Urgency: category.Normal, Description: "井盖缺失",
		GridCode: "320613001001", RegionPath: "/320600/320613/320613001/320613001001/",
		Source: casework.SourceGridWorker, ReporterUserID: reporter, OccurredAt: attT0, CreatedAt: attT0, UpdatedAt: attT0,
		Stage: casework.StageAccept, StageStartedAt: attT0, StageLimit: &worktime.Limit{Unit: worktime.WorkHours, Minutes: 15},
	}
	err := s.InCaseTx(ctx, func(tx casework.Store) error {
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		e := casework.Event{CaseID: c.ID, Action: casework.ReportAction, ToState: casework.Reported, ActorRole: identity.RoleGridWorker, CreatedAt: attT0}
		if err := tx.AppendEvent(ctx, &e); err != nil {
			return err
		}
		eventID = e.ID
		return nil
	})
	if err != nil {
		t.Fatalf("create case: %v", err)
	}
	return c.ID, eventID
}

// staged inserts a photo the user uploaded, waiting to be bound.
func staged(t *testing.T, s *store.Store, kind media.Kind, uploader int64, at time.Time) media.Attachment {
	t.Helper()
	lat, lng := 32.02, 120.86
	a, err := s.CreateAttachment(context.Background(), media.Attachment{
		Kind: kind, ContentType: media.TypeJPEG, Size: 1234, Width: 640, Height: 480,
		SHA256: fmt.Sprintf("%064x", uploader), BlobKey: media.NewKey("photos"), ThumbKey: media.NewKey("thumbs"),
		OriginalName: "IMG_0001.JPG", TakenAt: &at, Lat: &lat, Lng: &lng, CoordSys: "gcj02",
		EXIFTakenAt: &at, EXIFLat: &lat, EXIFLng: &lng,
		UploadedByUserID: uploader, CreatedAt: at,
	})
	if err != nil {
		t.Fatalf("create attachment: %v", err)
	}
	return a
}

func TestAttachmentRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := attUser(t, s, "wang")
		local := attT0.In(time.FixedZone("CST", 8*3600))
		a := staged(t, s, media.KindBefore, u, local)
		got, err := s.Attachment(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Staged() || got.Kind != media.KindBefore || got.UploadedByUserID != u || got.UploadedByAPIKeyID != 0 ||
			got.ThumbKey == "" || got.CoordSys != "gcj02" || got.OriginalName != "IMG_0001.JPG" || got.Width != 640 {
			t.Fatalf("round trip: %+v", got)
		}
		if !got.TakenAt.Equal(attT0) || got.TakenAt.Location() != time.UTC || !got.CreatedAt.Equal(attT0) || !got.EXIFTakenAt.Equal(attT0) {
			t.Fatalf("times: %v %v %v", got.TakenAt, got.CreatedAt, got.EXIFTakenAt)
		}
		if math.Abs(*got.Lat-32.02) > 1e-9 || math.Abs(*got.EXIFLng-120.86) > 1e-9 {
			t.Fatalf("points: %v %v", *got.Lat, *got.EXIFLng)
		}
		if _, err := s.Attachment(ctx, a.ID+100); !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing attachment: %v", err)
		}
		// A photo from no one, or from two at once, is refused by the schema.
		bad := a
		bad.ID, bad.BlobKey, bad.ThumbKey, bad.UploadedByAPIKeyID = 0, media.NewKey("photos"), "", 999999
		if _, err := s.CreateAttachment(ctx, bad); err == nil {
			t.Fatal("an attachment with a user and an API key as uploader was stored")
		}
	})
}

func TestBindAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wang, li := attUser(t, s, "wang"), attUser(t, s, "li")
		caseID, eventID := attCase(t, s, "GC20260316-000001", wang)
		other, _ := attCase(t, s, "GC20260316-000002", wang)
		before := staged(t, s, media.KindBefore, wang, attT0)
		after := staged(t, s, media.KindAfter, wang, attT0.Add(time.Minute))
		lis := staged(t, s, media.KindAfter, li, attT0)

		// Someone else's photo in the list: nothing is bound.
		_, err := s.BindAttachments(ctx, caseID, eventID, []int64{before.ID, lis.ID}, wang)
		wantAttachmentIDsError(t, err)
		if a, _ := s.Attachment(ctx, before.ID); !a.Staged() {
			t.Fatal("a photo was bound although the bind failed")
		}
		// An id that does not exist.
		_, err = s.BindAttachments(ctx, caseID, eventID, []int64{before.ID + 1000}, wang)
		wantAttachmentIDsError(t, err)

		// The uploader's own photos, in the order asked, a duplicate counted once.
		got, err := s.BindAttachments(ctx, caseID, eventID, []int64{after.ID, before.ID, after.ID}, wang)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != after.ID || got[1].ID != before.ID || got[0].CaseID != caseID || got[0].EventID != eventID {
			t.Fatalf("bound %+v", got)
		}
		// Bound once: binding again, to this or another case, is refused.
		_, err = s.BindAttachments(ctx, other, 0, []int64{before.ID}, wang)
		wantAttachmentIDsError(t, err)

		list, err := s.CaseAttachments(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		if ids := []int64{list[0].ID, list[1].ID}; len(list) != 2 || !slices.Equal(ids, []int64{before.ID, after.ID}) {
			t.Fatalf("case attachments %v, want before then after", ids)
		}
		if none, _ := s.BindAttachments(ctx, caseID, eventID, nil, wang); none != nil {
			t.Fatalf("binding nothing returned %v", none)
		}
		// Bound without an event (an upload to the case itself).
		lis2, err := s.BindAttachments(ctx, other, 0, []int64{lis.ID}, li)
		if err != nil || lis2[0].EventID != 0 || lis2[0].CaseID != other {
			t.Fatalf("bind without event: %+v, %v", lis2, err)
		}
	})
}

func wantAttachmentIDsError(t *testing.T, err error) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "attachment_ids" {
		t.Fatalf("error %v, want invalid attachment_ids", err)
	}
}

// TestBindAttachmentsJoinsCallersTransaction: casework binds inside its own transaction, so a
// rolled-back action leaves the photos staged.
func TestBindAttachmentsJoinsCallersTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wang := attUser(t, s, "wang")
		caseID, eventID := attCase(t, s, "GC20260316-000001", wang)
		a := staged(t, s, media.KindAfter, wang, attT0)
		_ = s.InTx(ctx, func(tx *store.Store) error {
			if _, err := tx.BindAttachments(ctx, caseID, eventID, []int64{a.ID}, wang); err != nil {
				t.Fatal(err)
			}
			return fmt.Errorf("the action failed later")
		})
		if got, _ := s.Attachment(ctx, a.ID); !got.Staged() {
			t.Fatal("the bind survived its transaction's rollback")
		}
	})
}

// TestBindAttachmentsConcurrently: two actions binding the same staged photo at once: one
// wins, the other is refused, the photo belongs to one case.
func TestBindAttachmentsConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wang := attUser(t, s, "wang")
		c1, e1 := attCase(t, s, "GC20260316-000001", wang)
		c2, e2 := attCase(t, s, "GC20260316-000002", wang)
		a := staged(t, s, media.KindAfter, wang, attT0)
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, ce := range [][2]int64{{c1, e1}, {c2, e2}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.InTx(ctx, func(tx *store.Store) error {
					_, err := tx.BindAttachments(ctx, ce[0], ce[1], []int64{a.ID}, wang)
					return err
				})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range results {
			if err == nil {
				ok++
			} else if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Conflict) {
				t.Fatalf("loser got %v, want invalid or conflict", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d binds succeeded, want exactly 1: %v", ok, results)
		}
		got, _ := s.Attachment(ctx, a.ID)
		if got.CaseID != c1 && got.CaseID != c2 {
			t.Fatalf("photo bound to %d", got.CaseID)
		}
	})
}

func TestCountAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wang := attUser(t, s, "wang")
		caseID, eventID := attCase(t, s, "GC20260316-000001", wang)
		var ids []int64
		for i, k := range []media.Kind{media.KindBefore, media.KindAfter, media.KindAfter, media.KindEvidence} {
			ids = append(ids, staged(t, s, k, wang, attT0.Add(time.Duration(i)*time.Hour)).ID)
		}
		staged(t, s, media.KindAfter, wang, attT0) // staged, not counted
		if _, err := s.BindAttachments(ctx, caseID, eventID, ids, wang); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			kind  string
			since time.Time
			want  int
		}{
			{"", time.Time{}, 4},
			{"after", time.Time{}, 2},
			{"after", attT0.Add(90 * time.Minute), 1},
			{"after", attT0.Add(2 * time.Hour), 1}, // at since counts
			{"after", attT0.Add(3 * time.Hour), 0},
			{"before", attT0.In(time.FixedZone("CST", 8*3600)), 1},
			{"evidence", time.Time{}, 1},
		}
		for _, tc := range tests {
			n, err := s.CountAttachments(ctx, caseID, tc.kind, tc.since)
			if err != nil || n != tc.want {
				t.Errorf("CountAttachments(%q, %v) = %d, %v; want %d", tc.kind, tc.since, n, err, tc.want)
			}
		}
	})
}

func TestDeleteStagedAttachmentsAndCaseScopeRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wang := attUser(t, s, "wang")
		caseID, eventID := attCase(t, s, "GC20260316-000001", wang)
		old := staged(t, s, media.KindBefore, wang, attT0.Add(-48*time.Hour))
		bound := staged(t, s, media.KindBefore, wang, attT0.Add(-48*time.Hour))
		fresh := staged(t, s, media.KindBefore, wang, attT0)
		if _, err := s.BindAttachments(ctx, caseID, eventID, []int64{bound.ID}, wang); err != nil {
			t.Fatal(err)
		}
		gone, err := s.DeleteStagedAttachments(ctx, attT0.Add(-24*time.Hour), 100)
		if err != nil || len(gone) != 1 || gone[0].ID != old.ID || gone[0].BlobKey != old.BlobKey {
			t.Fatalf("deleted %+v, %v; want only the old staged photo", gone, err)
		}
		for _, id := range []int64{bound.ID, fresh.ID} {
			if _, err := s.Attachment(ctx, id); err != nil {
				t.Fatalf("attachment %d: %v", id, err)
			}
		}

		sc, err := s.CaseScopeRow(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		if sc.GridCode != "320613001001" || sc.RegionPath != "/320600/320613/320613001/320613001001/" || sc.ReporterUserID != wang || sc.LeadDepartmentID != 0 {
			t.Fatalf("case scope %+v", sc)
		}
		if _, err := s.CaseScopeRow(ctx, caseID+100); !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing case: %v", err)
		}
	})
}
