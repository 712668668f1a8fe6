package media

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/geo"
	"github.com/gridcase/gridcase/internal/identity"
)

// Store is what the media service needs of the database (*store.Store).
type Store interface {
	CreateAttachment(ctx context.Context, a Attachment) (Attachment, error)
	Attachment(ctx context.Context, id int64) (Attachment, error)
	CaseAttachments(ctx context.Context, caseID int64) ([]Attachment, error)
	DeleteStagedAttachments(ctx context.Context, cutoff time.Time, limit int) ([]Attachment, error)
}

// API key grants for photos: those of the cases they belong to.
const (
	ScopeRead  = identity.ScopeCasesRead
	ScopeWrite = identity.ScopeCasesWrite
)

// Service takes in, lists and serves photos.
type Service struct {
	Store  Store
	Blobs  *Blobs
	Proc   *Processor
	Access CaseAccess
	Log    *slog.Logger
	Now    func() time.Time
}

// NewService assembles the service.
func NewService(st Store, blobs *Blobs, proc *Processor, access CaseAccess, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: st, Blobs: blobs, Proc: proc, Access: access, Log: log, Now: time.Now}
}

// Upload is one photo as the phone sent it.
type Upload struct {
	CaseID       int64 // 0: staged, to be bound by a case action (report, feedback, check …)
	Kind         Kind
	Data         []byte
	OriginalName string
	TakenAt      *time.Time
	Lat, Lng     *float64
	CoordSys     string // of Lat/Lng: wgs84 (default), gcj02 or bd09
}

// Upload checks, strips and stores a photo. With a CaseID the caller must see the case
// (errs.NotFound otherwise) and the photo is bound to it at once ("photos may arrive after the
// report"); without one it is staged: visible to its uploader only until a case action binds it.
func (s *Service) Upload(ctx context.Context, p identity.Principal, in Upload) (Attachment, error) {
	if !p.HasAPIScope(ScopeWrite) {
		return Attachment{}, errs.E(errs.Forbidden, "this API key may not upload photos (it needs %s)", ScopeWrite)
	}
	a, err := s.validate(in)
	if err != nil {
		return Attachment{}, err
	}
	if in.CaseID != 0 {
		if err := s.Access.CanSee(ctx, p, in.CaseID); err != nil {
			return Attachment{}, err
		}
	}
	out, err := s.Proc.Process(ctx, in.Data)
	if err != nil {
		return Attachment{}, err
	}
	a.ContentType, a.Size, a.Width, a.Height, a.SHA256 = out.ContentType, int64(len(out.Data)), out.Width, out.Height, out.SHA256
	a.EXIFTakenAt, a.EXIFLat, a.EXIFLng = out.Meta.TakenAt, out.Meta.Lat, out.Meta.Lng
	if p.IsAPIKey() {
		a.UploadedByAPIKeyID = p.APIKeyID
	} else {
		a.UploadedByUserID = p.UserID
	}
	a.BlobKey = NewKey("photos")
	if err := s.Blobs.Put(ctx, a.BlobKey, out.Data, out.ContentType); err != nil {
		return Attachment{}, err
	}
	if out.Thumb != nil {
		a.ThumbKey = NewKey("thumbs")
		if err := s.Blobs.Put(ctx, a.ThumbKey, out.Thumb, ThumbType); err != nil {
			s.deleteBlobs(a)
			return Attachment{}, err
		}
	}
	a.CreatedAt = s.Now()
	saved, err := s.Store.CreateAttachment(ctx, a)
	if err != nil {
		s.deleteBlobs(a)
		return Attachment{}, fmt.Errorf("save photo: %w", err)
	}
	return saved, nil
}

// validate checks the fields the phone sent and converts its point to WGS-84.
func (s *Service) validate(in Upload) (Attachment, error) {
	var f errs.Fields
	if in.Kind == "" {
		f.Required("kind", true)
	} else if !in.Kind.Valid() {
		f.Add("kind", "enum", "kind must be one of before, after, evidence, not %q", in.Kind)
	}
	a := Attachment{CaseID: in.CaseID, Kind: in.Kind, TakenAt: in.TakenAt, OriginalName: cleanName(in.OriginalName)}
	if in.TakenAt != nil && in.TakenAt.After(s.Now().Add(24*time.Hour)) {
		f.Add("taken_at", "past", "taken_at is more than a day in the future")
	}
	cs, err := geo.ParseCoordSys(in.CoordSys)
	if err != nil {
		f.Add("coord_sys", "enum", "%v", err)
	}
	switch {
	case (in.Lat == nil) != (in.Lng == nil):
		f.Add("lat", "pair", "send lat and lng together, or neither")
	case in.Lat != nil:
		pt := geo.Point{Lat: *in.Lat, Lng: *in.Lng}
		if bad := pt.Check(); len(bad) > 0 {
			f = append(f, bad...)
		} else if err == nil {
			w := geo.ToWGS84(pt, cs)
			a.Lat, a.Lng, a.CoordSys = &w.Lat, &w.Lng, string(cs)
		}
	}
	if err := f.Err(); err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// cleanName keeps a printable base name of at most 200 bytes, for people to read.
func cleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return strings.TrimSpace(name)
}

func (s *Service) deleteBlobs(a Attachment) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range []string{a.BlobKey, a.ThumbKey} {
		if k == "" {
			continue
		}
		if err := s.Blobs.Delete(ctx, k); err != nil {
			s.Log.Warn("orphan photo blob left behind", slog.String("key", k), slog.Any("error", err))
		}
	}
}

// Get returns a photo's metadata if p may see it: a staged photo only by its uploader, a bound
// one by whoever sees its case. Otherwise errs.NotFound.
func (s *Service) Get(ctx context.Context, p identity.Principal, id int64) (Attachment, error) {
	if !p.HasAPIScope(ScopeRead) {
		return Attachment{}, errs.E(errs.Forbidden, "this API key may not read photos (it needs %s)", ScopeRead)
	}
	a, err := s.Store.Attachment(ctx, id)
	if err != nil {
		return Attachment{}, err
	}
	if a.Staged() {
		if !a.UploadedBy(p) {
			return Attachment{}, errs.NotFoundf("attachment %d not found", id)
		}
		return a, nil
	}
	if err := s.Access.CanSee(ctx, p, a.CaseID); err != nil {
		if errs.Is(err, errs.NotFound) {
			return Attachment{}, errs.NotFoundf("attachment %d not found", id)
		}
		return Attachment{}, err
	}
	return a, nil
}

// Content is an open photo or thumbnail; the caller closes Body.
type Content struct {
	Attachment  Attachment
	Body        io.ReadCloser
	Size        int64
	ContentType string
	ETag        string // quoted, for the ETag header
}

// Open returns the served bytes of a photo (thumb false) or its thumbnail, with the same
// visibility as Get. A photo without a thumbnail (HEIC) is errs.NotFound for thumb.
func (s *Service) Open(ctx context.Context, p identity.Principal, id int64, thumb bool) (Content, error) {
	a, err := s.Get(ctx, p, id)
	if err != nil {
		return Content{}, err
	}
	key, ct, etag := a.BlobKey, a.ContentType, `"`+a.SHA256+`"`
	if thumb {
		if !a.HasThumbnail() {
			return Content{}, errs.NotFoundf("attachment %d has no thumbnail (%s photos are kept as sent)", id, a.ContentType)
		}
		key, ct, etag = a.ThumbKey, ThumbType, `"`+a.SHA256+`-thumb"`
	}
	body, size, err := s.Blobs.Open(ctx, key)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Content{}, errs.Wrap(errs.Internal, err, "photo %d: its bytes are missing from storage", id)
		}
		return Content{}, err
	}
	return Content{Attachment: a, Body: body, Size: size, ContentType: ct, ETag: etag}, nil
}

// List returns a case's photos if p sees the case.
func (s *Service) List(ctx context.Context, p identity.Principal, caseID int64) ([]Attachment, error) {
	if !p.HasAPIScope(ScopeRead) {
		return nil, errs.E(errs.Forbidden, "this API key may not read photos (it needs %s)", ScopeRead)
	}
	if err := s.Access.CanSee(ctx, p, caseID); err != nil {
		return nil, err
	}
	return s.Store.CaseAttachments(ctx, caseID)
}

// PurgeStaged deletes staged photos older than age that no case took, with their blobs, and
// returns how many it deleted. A phone that staged a photo and never sent its report leaves
// such photos; run it now and then (e.g. daily with age 7 days).
func (s *Service) PurgeStaged(ctx context.Context, age time.Duration) (int, error) {
	total := 0
	for {
		gone, err := s.Store.DeleteStagedAttachments(ctx, s.Now().Add(-age), 500)
		if err != nil {
			return total, err
		}
		for _, a := range gone {
			s.deleteBlobs(a)
		}
		total += len(gone)
		if len(gone) < 500 {
			return total, nil
		}
	}
}

// Close releases the blob bucket.
func (s *Service) Close() error { return s.Blobs.Close() }
