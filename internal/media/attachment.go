// Package media takes in the photos of a case (照片: before, after, evidence): it sniffs what a
// file really is, refuses what is not a photo or is too large, reads the photo's own capture
// time and GPS point, re-encodes it so that what is served carries no EXIF or GPS, makes a
// thumbnail and keeps the bytes in blob storage (a directory by default, S3-compatible storage
// by configuration).
//
// It is pure Go (no cgo): JPEG, PNG and WebP are decoded and re-encoded; HEIC, which has no
// pure-Go decoder, is kept as sent except that its Exif and XMP items are zeroed, and it has no
// thumbnail.
package media

import (
	"context"
	"slices"
	"time"

	"github.com/gridcase/gridcase/internal/identity"
)

// Kind says what a photo shows in the case's story.
type Kind string

// The kinds of photo.
const (
	KindBefore   Kind = "before"   // 处置前: the problem as found
	KindAfter    Kind = "after"    // 处置后: the problem fixed (feedback, self-handling)
	KindEvidence Kind = "evidence" // 佐证: anything else that supports the case
)

// Kinds lists the valid kinds.
var Kinds = []Kind{KindBefore, KindAfter, KindEvidence}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Attachment is one stored photo. A staged upload has CaseID 0 until a case action binds it.
type Attachment struct {
	ID      int64
	CaseID  int64 // 0 while staged
	EventID int64 // the case event that brought it, 0 when none
	Kind    Kind

	ContentType string // of the served bytes: image/jpeg, image/png or image/heic
	Size        int64  // bytes served
	Width       int    // after the EXIF orientation was applied
	Height      int
	SHA256      string // hex digest of the served bytes
	BlobKey     string
	ThumbKey    string // "" when there is no thumbnail (HEIC)

	OriginalName string // the file name the phone sent, for people only (never trusted)

	// What the phone said when it uploaded: the time and point of the photo, converted to
	// WGS-84; CoordSys records the system the point was sent in.
	TakenAt  *time.Time
	Lat, Lng *float64
	CoordSys string

	// What the photo's own EXIF said before it was stripped (GPS is WGS-84 by the EXIF spec).
	EXIFTakenAt *time.Time
	EXIFLat     *float64
	EXIFLng     *float64

	UploadedByUserID   int64 // 0 when an API key uploaded it
	UploadedByAPIKeyID int64 // 0 when a user uploaded it
	CreatedAt          time.Time
}

// Staged reports whether the photo waits to be bound to a case.
func (a Attachment) Staged() bool { return a.CaseID == 0 }

// HasThumbnail reports whether a thumbnail was made.
func (a Attachment) HasThumbnail() bool { return a.ThumbKey != "" }

// UploadedBy reports whether p is the one who uploaded a.
func (a Attachment) UploadedBy(p identity.Principal) bool {
	if p.IsAPIKey() {
		return a.UploadedByAPIKeyID != 0 && a.UploadedByAPIKeyID == p.APIKeyID
	}
	return p.UserID != 0 && a.UploadedByUserID == p.UserID
}

// CaseAccess answers whether a caller may see a case. casework.Service satisfies it; until it
// does, RowAccess does from the case row. CanSee returns an errs.NotFound error when the case
// does not exist or is outside p's data scope.
type CaseAccess interface {
	CanSee(ctx context.Context, p identity.Principal, caseID int64) error
}
