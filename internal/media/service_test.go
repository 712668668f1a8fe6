package media_test

import (
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
	mt "github.com/gridcase/gridcase/internal/media/mediatest"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

// TestServiceStagedLifecycle: a staged photo is stored and served to its uploader, and deleted
// with its blobs once it waited longer than StagedRetention.
func TestServiceStagedLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		u := identity.User{Username: "wang", DisplayName: "王", PasswordHash: "x", Role: identity.RoleGridWorker,
			Scope: identity.Scope{Kind: identity.ScopeAll}, Active: true, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		blobs, err := media.OpenBlobs(ctx, "mem://")
		if err != nil {
			t.Fatal(err)
		}
		svc := media.NewService(s, blobs, media.NewProcessor(media.DefaultLimits), media.RowAccess{Load: s.CaseScopeRow}, nil)
		defer svc.Close()
		p := u.Principal()

		photo := mt.WithAPP1(t, mt.JPEG(t, mt.Halves(40, 30)), mt.PhoneEXIF(binary.LittleEndian, 1))
		a, err := svc.Upload(ctx, p, media.Upload{Kind: media.KindAfter, Data: photo, OriginalName: `C:\DCIM\IMG_1.JPG`})
		if err != nil {
			t.Fatal(err)
		}
		if a.OriginalName != "IMG_1.JPG" || a.EXIFLat == nil || !a.HasThumbnail() || a.UploadedByUserID != u.ID {
			t.Fatalf("uploaded %+v", a)
		}
		c, err := svc.Open(ctx, p, a.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		thumb, _ := io.ReadAll(c.Body)
		c.Body.Close()
		if c.ContentType != media.ThumbType || len(thumb) == 0 || c.ETag != `"`+a.SHA256+`-thumb"` {
			t.Fatalf("thumbnail %s %d bytes %s", c.ContentType, len(thumb), c.ETag)
		}

		if n, err := svc.PurgeStaged(ctx, media.StagedRetention); err != nil || n != 0 {
			t.Fatalf("purged a fresh photo: %d, %v", n, err)
		}
		svc.Now = func() time.Time { return now.Add(media.StagedRetention + time.Hour) }
		if n, err := svc.PurgeStaged(ctx, media.StagedRetention); err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		if _, err := svc.Get(ctx, p, a.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("purged photo: %v", err)
		}
		for _, k := range []string{a.BlobKey, a.ThumbKey} {
			if _, _, err := blobs.Open(ctx, k); !errs.Is(err, errs.NotFound) {
				t.Fatalf("blob %s survived the purge: %v", k, err)
			}
		}
	})
}
