package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/app/apptest"
	"github.com/gridcase/gridcase/internal/config"
	mt "github.com/gridcase/gridcase/internal/media/mediatest"
)

type attachmentJSON struct {
	ID           int64      `json:"id"`
	CaseID       int64      `json:"case_id"`
	EventID      int64      `json:"event_id"`
	Kind         string     `json:"kind"`
	ContentType  string     `json:"content_type"`
	Size         int64      `json:"size"`
	Width        int        `json:"width"`
	Height       int        `json:"height"`
	SHA256       string     `json:"sha256"`
	URL          string     `json:"url"`
	ThumbnailURL string     `json:"thumbnail_url"`
	OriginalName string     `json:"original_name"`
	TakenAt      *time.Time `json:"taken_at"`
	Lat          *float64   `json:"lat"`
	Lng          *float64   `json:"lng"`
	CoordSys     string     `json:"coord_sys"`
	ExifTakenAt  *time.Time `json:"exif_taken_at"`
	ExifLat      *float64   `json:"exif_lat"`
	ExifLng      *float64   `json:"exif_lng"`
	UploadedBy   int64      `json:"uploaded_by_user_id"`
}

// upload posts a multipart photo.
func upload(t *testing.T, e *apptest.Env, path, token string, fields map[string]string, name string, data []byte) *apptest.Response {
	t.Helper()
	body, ct := apptest.Multipart(fields, "file", name, data)
	return e.Do(apptest.Req{Method: http.MethodPost, Path: path, Token: token, Body: body, Header: map[string]string{"Content-Type": ct}})
}

// pathOf strips the public URL from a link the API returned.
func pathOf(t *testing.T, e *apptest.Env, link string) string {
	t.Helper()
	base := e.App.Config.PublicURL
	if !strings.HasPrefix(link, base+"/api/v1/") {
		t.Fatalf("link %q is not under %s", link, base)
	}
	return strings.TrimPrefix(link, base)
}

// attUser creates a user through the API and signs them in.
func attUser(t *testing.T, e *apptest.Env, admin, username, role string, scope map[string]any) string {
	t.Helper()
	const pw = "a-long-enough-password"
	e.Post("/api/v1/users", admin, map[string]any{
		"username": username, "display_name": username, "password": pw, "role": role, "scope": scope,
	}).MustStatus(t, http.StatusCreated)
	return e.Login(username, pw)
}

// phonePhoto is a 64×48 JPEG with a phone's EXIF (maker, time, GPS), stored sideways
// (Orientation 6), so that it is served 48×64.
func phonePhoto(t *testing.T) []byte {
	t.Helper()
	return mt.WithAPP1(t, mt.JPEG(t, mt.Halves(64, 48)), mt.PhoneEXIF(binary.BigEndian, 6))
}

func TestStagedUploadMetadataContentThumbnail(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		photo := phonePhoto(t)
		res := upload(t, e, "/api/v1/attachments", admin, map[string]string{
			"kind": "before", "taken_at": "2026-03-16T08:58:00+08:00", "lat": "32.0153", "lng": "120.8611", "coord_sys": "gcj02",
		}, "../../IMG_2031.JPG", photo).MustStatus(t, http.StatusCreated)
		var a attachmentJSON
		res.JSON(t, &a)
		if a.ID == 0 || a.CaseID != 0 || a.UploadedBy == 0 || a.Kind != "before" || a.ContentType != "image/jpeg" || a.Width != 48 || a.Height != 64 {
			t.Fatalf("uploaded %+v", a)
		}
		if a.OriginalName != "IMG_2031.JPG" || a.CoordSys != "gcj02" || a.TakenAt == nil || !a.TakenAt.Equal(time.Date(2026, 3, 16, 0, 58, 0, 0, time.UTC)) {
			t.Fatalf("phone fields %+v", a)
		}
		// GCJ-02 is some hundreds of metres off WGS-84 in China; the stored point is WGS-84.
		if a.Lat == nil || *a.Lat == 32.0153 || math.Abs(*a.Lat-32.0153) > 0.01 || math.Abs(*a.Lng-120.8611) > 0.01 {
			t.Fatalf("point %v,%v: want WGS-84 converted from GCJ-02", a.Lat, a.Lng)
		}
		if a.ExifTakenAt == nil || !a.ExifTakenAt.Equal(mt.PhoneTakenAt) || a.ExifLat == nil || math.Abs(*a.ExifLat-mt.PhoneLat) > 1e-6 || math.Abs(*a.ExifLng-mt.PhoneLng) > 1e-6 {
			t.Fatalf("EXIF metadata %v %v %v", a.ExifTakenAt, a.ExifLat, a.ExifLng)
		}
		if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, fmt.Sprintf("/api/v1/attachments/%d", a.ID)) {
			t.Fatalf("Location %q", loc)
		}

		var got attachmentJSON
		e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), admin).MustStatus(t, http.StatusOK).JSON(t, &got)
		if got.ID != a.ID || got.SHA256 != a.SHA256 || got.URL != a.URL {
			t.Fatalf("metadata %+v, uploaded %+v", got, a)
		}

		content := e.Get(pathOf(t, e, a.URL), admin).MustStatus(t, http.StatusOK)
		if ct := content.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Fatalf("content type %q", ct)
		}
		sum := sha256.Sum256(content.Body)
		if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(content.Body)) != a.Size || content.Header.Get("ETag") != `"`+a.SHA256+`"` {
			t.Fatalf("served %d bytes, ETag %s; recorded %d bytes, sha256 %s", len(content.Body), content.Header.Get("ETag"), a.Size, a.SHA256)
		}
		if !strings.Contains(content.Header.Get("Cache-Control"), "private") || content.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("headers %v", content.Header)
		}
		for _, leak := range []string{"Exif", mt.PhoneMaker, "2024:05:06"} {
			if bytes.Contains(content.Body, []byte(leak)) {
				t.Fatalf("served photo holds %q", leak)
			}
		}
		img, err := jpeg.Decode(bytes.NewReader(content.Body))
		if err != nil || img.Bounds().Dx() != 48 || img.Bounds().Dy() != 64 {
			t.Fatalf("served photo does not decode upright: %v", err)
		}

		e.Do(apptest.Req{Method: http.MethodGet, Path: pathOf(t, e, a.URL), Token: admin,
			Header: map[string]string{"If-None-Match": `W/"x", "` + a.SHA256 + `"`}}).MustStatus(t, http.StatusNotModified)

		thumb := e.Get(pathOf(t, e, a.ThumbnailURL), admin).MustStatus(t, http.StatusOK)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb.Body))
		if err != nil || thumb.Header.Get("Content-Type") != "image/jpeg" || cfg.Width != 48 || cfg.Height != 64 {
			t.Fatalf("thumbnail %+v %v", cfg, err)
		}
	})
}

// TestUploadRefusals: what is not a photo, too large, a bomb, broken or badly described is
// refused with the right status, and nothing is stored.
func TestUploadRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		jpg := mt.JPEG(t, mt.Halves(32, 32))
		big := noiseJPEG(t, 900, 900) // some hundreds of kilobytes
		tests := []struct {
			name   string
			fields map[string]string
			file   string
			data   []byte
			status int
			field  string
		}{
			{"pdf", map[string]string{"kind": "before"}, "scan.pdf", []byte("%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"), http.StatusUnsupportedMediaType, ""},
			{"text named .jpg", map[string]string{"kind": "before"}, "x.jpg", []byte("not a photo at all, just words\n"), http.StatusUnsupportedMediaType, ""},
			{"body too large", map[string]string{"kind": "before"}, "big.jpg", big, http.StatusRequestEntityTooLarge, ""},
			{"file one byte too large", map[string]string{"kind": "before"}, "big.jpg", bytes.Repeat([]byte{0xFF}, 200<<10+1), http.StatusRequestEntityTooLarge, ""},
			{"bomb", map[string]string{"kind": "before"}, "bomb.png", mt.BombPNG(100000, 100000), http.StatusUnprocessableEntity, "file"},
			{"truncated", map[string]string{"kind": "before"}, "half.jpg", jpg[:len(jpg)/2], http.StatusUnprocessableEntity, "file"},
			{"no kind", map[string]string{}, "a.jpg", jpg, http.StatusUnprocessableEntity, "kind"},
			{"bad kind", map[string]string{"kind": "selfie"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "kind"},
			{"lat without lng", map[string]string{"kind": "after", "lat": "32"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "lat"},
			{"lat out of range", map[string]string{"kind": "after", "lat": "132", "lng": "120"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "lat"},
			{"lat not a number", map[string]string{"kind": "after", "lat": "north", "lng": "120"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "lat"},
			{"bad coord_sys", map[string]string{"kind": "after", "lat": "32", "lng": "120", "coord_sys": "mars"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "coord_sys"},
			{"bad taken_at", map[string]string{"kind": "after", "taken_at": "yesterday"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "taken_at"},
			{"unknown field", map[string]string{"kind": "after", "case": "7"}, "a.jpg", jpg, http.StatusUnprocessableEntity, "case"},
			{"no file", map[string]string{"kind": "after"}, "", nil, http.StatusUnprocessableEntity, "file"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				body, ct := apptest.Multipart(tc.fields, map[bool]string{true: "file"}[tc.file != ""], tc.file, tc.data)
				res := e.Do(apptest.Req{Method: http.MethodPost, Path: "/api/v1/attachments", Token: admin, Body: body,
					Header: map[string]string{"Content-Type": ct}}).MustStatus(t, tc.status)
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("content type %q", res.Header.Get("Content-Type"))
				}
				if tc.field != "" {
					var p struct {
						Errors []struct{ Field, Rule string } `json:"errors"`
					}
					res.JSON(t, &p)
					if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
						t.Fatalf("errors %+v, want field %s", p.Errors, tc.field)
					}
				}
			})
		}
		// Nothing refused was stored.
		var files []string
		_ = filepath.WalkDir(filepath.Join(e.App.Config.DataDir, "blobs"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if len(files) != 0 {
			t.Fatalf("refused uploads left blobs: %v", files)
		}
		// A JSON body is not an upload.
		e.Post("/api/v1/attachments", admin, map[string]string{"kind": "before"}).MustStatus(t, http.StatusUnsupportedMediaType)
		// No one signed in.
		upload(t, e, "/api/v1/attachments", "-", map[string]string{"kind": "before"}, "a.jpg", jpg).MustStatus(t, http.StatusUnauthorized)
	}, func(c *config.Config) { c.MaxUploadBytes = 200 << 10 })
}

// noiseJPEG is a w×h JPEG of random pixels: large for its size, like a real photo.
func noiseJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	_, _ = rand.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return mt.JPEG(t, img)
}

// TestUploadLargerThanDefaultBodyLimit: a phone photo of several megabytes passes, although
// the default body limit (1 MiB) is smaller; the upload routes raise it.
func TestUploadLargerThanDefaultBodyLimit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		photo := noiseJPEG(t, 1400, 1400)
		if len(photo) <= int(e.App.Config.MaxBodyBytes) {
			t.Fatalf("the test photo is %d bytes, not over the default body limit", len(photo))
		}
		var a attachmentJSON
		upload(t, e, "/api/v1/attachments", e.AdminToken(), map[string]string{"kind": "evidence"}, "big.jpg", photo).
			MustStatus(t, http.StatusCreated).JSON(t, &a)
		if a.Width != 1400 || a.Height != 1400 {
			t.Fatalf("uploaded %+v", a)
		}
	})
}

func TestStagedUploadVisibleToItsUploaderOnly(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		other := attUser(t, e, admin, "zhao.lead", "supervisor", map[string]any{"kind": "all"})
		var a attachmentJSON
		upload(t, e, "/api/v1/attachments", other, map[string]string{"kind": "before"}, "p.png", mt.PNG(t, mt.Halves(10, 10))).
			MustStatus(t, http.StatusCreated).JSON(t, &a)
		if a.ContentType != "image/png" {
			t.Fatalf("a PNG is served as %s", a.ContentType)
		}
		e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), other).MustStatus(t, http.StatusOK)
		e.Get(pathOf(t, e, a.URL), other).MustStatus(t, http.StatusOK)
		// Even an admin with every scope does not see someone else's staged photo.
		for _, p := range []string{"", "/content", "/thumbnail"} {
			e.Get(fmt.Sprintf("/api/v1/attachments/%d%s", a.ID, p), admin).MustStatus(t, http.StatusNotFound)
		}
		e.Get("/api/v1/attachments/999999", admin).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/attachments/abc", admin).MustStatus(t, http.StatusNotFound)
	})
}

// TestHEICUpload: a HEIC is kept (no decoder in pure Go), its metadata zeroed, without a
// thumbnail.
func TestHEICUpload(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		in := mt.HEIC{Width: 4032, Height: 3024, TIFF: mt.PhoneEXIF(binary.BigEndian, 1), XMP: "<x:xmpmeta>GPS</x:xmpmeta>"}.Bytes()
		var a attachmentJSON
		upload(t, e, "/api/v1/attachments", admin, map[string]string{"kind": "after"}, "IMG.HEIC", in).
			MustStatus(t, http.StatusCreated).JSON(t, &a)
		if a.ContentType != "image/heic" || a.Width != 4032 || a.ThumbnailURL != "" || a.ExifLat == nil {
			t.Fatalf("HEIC upload %+v", a)
		}
		body := e.Get(pathOf(t, e, a.URL), admin).MustStatus(t, http.StatusOK)
		if body.Header.Get("Content-Type") != "image/heic" || bytes.Contains(body.Body, []byte(mt.PhoneMaker)) || bytes.Contains(body.Body, []byte("xmpmeta")) {
			t.Fatal("HEIC served with its metadata, or as the wrong type")
		}
		e.Get(fmt.Sprintf("/api/v1/attachments/%d/thumbnail", a.ID), admin).MustStatus(t, http.StatusNotFound)
	})
}

type caseReportJSON struct {
	Case struct {
		ID int64 `json:"id"`
	} `json:"case"`
}

// TestCaseAttachments: photos bound by a report, and uploaded to the case later, are listed
// with the case and served to whoever sees it; a caller out of the case's scope gets 404 for
// all of them.
func TestCaseAttachments(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		attRegions(t, e, admin)
		outsider := attUser(t, e, admin, "qian.desk", "dispatcher", map[string]any{"kind": "region", "region_code": "320613002"})
		lead := attUser(t, e, admin, "sun.lead", "supervisor", map[string]any{"kind": "all"})

		var staged attachmentJSON
		upload(t, e, "/api/v1/attachments", admin, map[string]string{"kind": "before"}, "a.jpg", phonePhoto(t)).
			MustStatus(t, http.StatusCreated).JSON(t, &staged)
		var rep caseReportJSON
		e.Post("/api/v1/cases", admin, map[string]any{
			"description": "井盖缺失，路口东侧", "address": "崇川区工农路 88 号", "source": "hotline", "attachment_ids": []int64{staged.ID},
		}).MustStatus(t, http.StatusCreated).JSON(t, &rep)
		caseID := rep.Case.ID
		casePath := fmt.Sprintf("/api/v1/cases/%d/attachments", caseID)

		// Photos may arrive after the report.
		var later attachmentJSON
		upload(t, e, casePath, admin, map[string]string{"kind": "evidence"}, "b.png", mt.PNG(t, mt.Halves(20, 10))).
			MustStatus(t, http.StatusCreated).JSON(t, &later)
		if later.CaseID != caseID || later.EventID != 0 {
			t.Fatalf("uploaded to the case: %+v", later)
		}

		var list struct{ Items []attachmentJSON }
		e.Get(casePath, lead).MustStatus(t, http.StatusOK).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID != staged.ID || list.Items[1].ID != later.ID {
			t.Fatalf("case photos %+v", list.Items)
		}
		if list.Items[0].CaseID != caseID || list.Items[0].EventID == 0 {
			t.Fatalf("the reported photo is not bound to the report event: %+v", list.Items[0])
		}
		// Bound: whoever sees the case sees the photo, not only its uploader.
		e.Get(pathOf(t, e, list.Items[0].URL), lead).MustStatus(t, http.StatusOK)

		// Out of scope: 404 for the case's photos, their bytes, and uploads to it.
		e.Get(casePath, outsider).MustStatus(t, http.StatusNotFound)
		for _, a := range list.Items {
			e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), outsider).MustStatus(t, http.StatusNotFound)
			e.Get(pathOf(t, e, a.URL), outsider).MustStatus(t, http.StatusNotFound)
		}
		upload(t, e, casePath, outsider, map[string]string{"kind": "evidence"}, "c.jpg", phonePhoto(t)).MustStatus(t, http.StatusNotFound)
		upload(t, e, "/api/v1/cases/999999/attachments", admin, map[string]string{"kind": "evidence"}, "c.jpg", phonePhoto(t)).MustStatus(t, http.StatusNotFound)
		e.Get("/api/v1/cases/999999/attachments", admin).MustStatus(t, http.StatusNotFound)

		// A staged photo can be bound once: a second report naming it is refused.
		res := e.Post("/api/v1/cases", admin, map[string]any{
			"description": "另一处井盖", "address": "崇川区工农路 90 号", "source": "hotline", "attachment_ids": []int64{staged.ID},
		}).MustStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.Body), "attachment_ids") {
			t.Fatalf("refusal does not name attachment_ids: %s", res.Body)
		}
	})
}

// attRegions creates two streets of one district, so that a dispatcher can be scoped to one.
func attRegions(t *testing.T, e *apptest.Env, admin string) {
	t.Helper()
	for _, r := range []map[string]string{
		{"code": "320600", "name": "南通市", "level": "city"},
		{"code": "320613", "name": "崇川区", "level": "district", "parent_code": "320600"},
		{"code": "320613001", "name": "和平桥街道", "level": "street", "parent_code": "320613"},
		{"code": "320613002", "name": "任港街道", "level": "street", "parent_code": "320613"},
	} {
		e.Post("/api/v1/regions", admin, r).MustStatus(t, http.StatusCreated)
	}
}

// TestAPIKeyUploads: an integrator's key needs cases:write to upload; its staged photos are
// visible to that key only.
func TestAPIKeyUploads(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.AdminToken()
		key := func(scopes ...string) string {
			var k struct {
				Key string `json:"key"`
			}
			e.Post("/api/v1/api-keys", admin, map[string]any{"name": "video AI " + strings.Join(scopes, " "), "scopes": scopes}).
				MustStatus(t, http.StatusCreated).JSON(t, &k)
			return k.Key
		}
		reader, writer := key("cases:read"), key("cases:read", "cases:write")
		photo := phonePhoto(t)
		upload(t, e, "/api/v1/attachments", reader, map[string]string{"kind": "evidence"}, "v.jpg", photo).MustStatus(t, http.StatusForbidden)
		var a attachmentJSON
		upload(t, e, "/api/v1/attachments", writer, map[string]string{"kind": "evidence"}, "v.jpg", photo).
			MustStatus(t, http.StatusCreated).JSON(t, &a)
		if a.UploadedBy != 0 {
			t.Fatalf("a key's upload names a user: %+v", a)
		}
		e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), writer).MustStatus(t, http.StatusOK)
		e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), reader).MustStatus(t, http.StatusNotFound)
		e.Get(fmt.Sprintf("/api/v1/attachments/%d", a.ID), admin).MustStatus(t, http.StatusNotFound)
	})
}
