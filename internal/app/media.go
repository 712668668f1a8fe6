package app

import (
	"context"
	"fmt"

	"github.com/gridcase/gridcase/internal/media"
)

// assembleMedia opens the photo store (GRIDCASE_BLOB_URL, by default DataDir/blobs) and builds
// the photo service. Who sees a case's photos starts as media.RowAccess (the case row and the
// caller's data scope); assembleCasework then hands the question to the case workflow
// (casework.Service.CanSee), which knows the full rules.
func (a *App) assembleMedia(ctx context.Context) error {
	u, err := media.BlobURL(a.Config.BlobURL, a.Config.DataDir)
	if err != nil {
		return err
	}
	blobs, err := media.OpenBlobs(ctx, u)
	if err != nil {
		return fmt.Errorf("photo storage: %w", err)
	}
	proc := media.NewProcessor(media.Limits{
		MaxBytes:  a.Config.MaxUploadBytes,
		MaxPixels: a.Config.MaxImagePixels,
		MaxSide:   media.DefaultLimits.MaxSide,
	})
	a.Media = media.NewService(a.Store, blobs, proc, media.RowAccess{Load: a.Store.CaseScopeRow}, a.Log)
	if a.Jobs != nil {
		a.Media.RegisterJobs(a.Jobs)
	}
	return nil
}
