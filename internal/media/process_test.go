package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/media"
	mt "github.com/gridcase/gridcase/internal/media/mediatest"
)

func process(t *testing.T, data []byte) (media.Processed, error) {
	t.Helper()
	return media.NewProcessor(media.DefaultLimits).Process(context.Background(), data)
}

func mustProcess(t *testing.T, data []byte) media.Processed {
	t.Helper()
	out, err := process(t, data)
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	return out
}

// wantFieldError fails unless err is Invalid on the field "file" with the rule.
func wantFieldError(t *testing.T, err error, rule string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "file" || e.Fields[0].Rule != rule {
		t.Fatalf("error %v, want invalid file/%s", err, rule)
	}
}

func TestSniff(t *testing.T) {
	jpg := mt.JPEG(t, mt.Halves(8, 8))
	tests := []struct {
		name string
		data []byte
		want string // "" for refused
	}{
		{"jpeg", jpg, media.TypeJPEG},
		{"png", mt.PNG(t, mt.Halves(8, 8)), media.TypePNG},
		{"webp", mt.WebPLossy(t), media.TypeWebP},
		{"heic", mt.HEIC{Width: 8, Height: 8}.Bytes(), media.TypeHEIC},
		{"text file named x.jpg", []byte("this is x.jpg, honest: a photo of a pothole\n"), ""},
		{"pdf", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"), ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ""},
		{"html posing as an image", []byte("<html><script>alert(1)</script></html>"), ""},
		{"jpeg magic after junk", append([]byte("junk"), jpg...), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := media.Sniff(tc.data)
			if tc.want == "" {
				if !errs.Is(err, errs.Unsupported) {
					t.Fatalf("Sniff = %q, %v; want unsupported", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestProcessJPEGReadsEXIFThenStripsIt: the photo's own time and GPS are read, and what is
// served holds no EXIF at all.
func TestProcessJPEGReadsEXIFThenStripsIt(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			tiff := mt.PhoneEXIF(bo, 1)
			in := mt.WithAPP1(t, mt.JPEG(t, mt.Halves(64, 48)), tiff)
			out := mustProcess(t, in)

			if out.ContentType != media.TypeJPEG || out.Width != 64 || out.Height != 48 {
				t.Fatalf("got %s %d×%d", out.ContentType, out.Width, out.Height)
			}
			wantTime := time.Date(2024, 5, 5, 23, 8, 9, 0, time.UTC) // 07:08:09 +08:00
			if out.Meta.TakenAt == nil || !out.Meta.TakenAt.Equal(wantTime) {
				t.Errorf("EXIF time %v, want %v", out.Meta.TakenAt, wantTime)
			}
			if out.Meta.Lat == nil || math.Abs(*out.Meta.Lat-(32+1.0/60+12.0/3600)) > 1e-9 ||
				out.Meta.Lng == nil || math.Abs(*out.Meta.Lng-(120+51.0/60+36.0/3600)) > 1e-9 {
				t.Errorf("EXIF point %v, %v", out.Meta.Lat, out.Meta.Lng)
			}

			for _, leak := range [][]byte{
				[]byte("Exif"), {0xFF, 0xE1}, []byte("SecretPhoneMaker"), []byte("2024:05:06"),
				tiff[:8],                 // the TIFF header
				ratBytes(bo, 120, 1, 51), // the longitude's rationals
			} {
				if bytes.Contains(out.Data, leak) {
					t.Errorf("served bytes still hold %q", leak)
				}
			}
			if sum := sha256.Sum256(out.Data); hex.EncodeToString(sum[:]) != out.SHA256 {
				t.Error("SHA256 is not the digest of the served bytes")
			}
			if _, err := jpeg.Decode(bytes.NewReader(out.Data)); err != nil {
				t.Errorf("served bytes do not decode: %v", err)
			}
			thumb, err := jpeg.DecodeConfig(bytes.NewReader(out.Thumb))
			if err != nil || thumb.Width != 64 || thumb.Height != 48 {
				t.Errorf("thumbnail %+v, %v; want the 64×48 photo, not enlarged", thumb, err)
			}
		})
	}
}

func ratBytes(bo binary.ByteOrder, a, b, c uint32) []byte {
	out := make([]byte, 12)
	bo.PutUint32(out, a)
	bo.PutUint32(out[4:], b)
	bo.PutUint32(out[8:], c)
	return out
}

func TestThumbnailFitsLongSide(t *testing.T) {
	out := mustProcess(t, mt.JPEG(t, mt.Halves(1600, 900)))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out.Thumb))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != media.ThumbSide || cfg.Height != 180 {
		t.Fatalf("thumbnail %d×%d, want %d×180", cfg.Width, cfg.Height, media.ThumbSide)
	}
}

// TestOrientationApplied: a photo stored sideways with its EXIF Orientation is served upright.
// The stored picture is 40×20, mt.Red on the left, mt.Blue on the right.
func TestOrientationApplied(t *testing.T) {
	tests := []struct {
		orientation   uint16
		width, height int
		first, second color.RGBA // at (w/4, h/4) and (3w/4, 3h/4) of the result
	}{
		{1, 40, 20, mt.Red, mt.Blue},
		{3, 40, 20, mt.Blue, mt.Red},  // upside down
		{6, 20, 40, mt.Red, mt.Blue},  // turned 90° clockwise for display: the left side goes up
		{8, 20, 40, mt.Blue, mt.Red},  // turned 90° counter-clockwise: the right side goes up
		{2, 40, 20, mt.Blue, mt.Red},  // mirrored
		{5, 20, 40, mt.Red, mt.Blue},  // transposed
		{7, 20, 40, mt.Blue, mt.Red},  // transversed
		{4, 40, 20, mt.Red, mt.Blue},  // flipped vertically: left and right stay
		{99, 40, 20, mt.Red, mt.Blue}, // nonsense is ignored
	}
	for _, tc := range tests {
		t.Run("orientation "+strconv.Itoa(int(tc.orientation)), func(t *testing.T) {
			tiff := mt.TIFF(binary.BigEndian, []mt.Entry{mt.Short(binary.BigEndian, 0x0112, tc.orientation)}, nil, nil)
			out := mustProcess(t, mt.WithAPP1(t, mt.JPEG(t, mt.Halves(40, 20)), tiff))
			img, err := jpeg.Decode(bytes.NewReader(out.Data))
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != tc.width || b.Dy() != tc.height || out.Width != tc.width || out.Height != tc.height {
				t.Fatalf("served %d×%d (recorded %d×%d), want %d×%d", b.Dx(), b.Dy(), out.Width, out.Height, tc.width, tc.height)
			}
			at := func(x, y int) color.Color { return img.At(x, y) }
			if !near(at(tc.width/4, tc.height/4), tc.first) || !near(at(3*tc.width/4, 3*tc.height/4), tc.second) {
				t.Fatalf("colours %v / %v, want %v / %v", at(tc.width/4, tc.height/4), at(3*tc.width/4, 3*tc.height/4), tc.first, tc.second)
			}
		})
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return math.Abs(float64(a>>8)-float64(w)) < 60 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// TestPNGStaysPNG: a PNG is served as a PNG, without its eXIf or text chunks.
func TestPNGStaysPNG(t *testing.T) {
	tiff := mt.PhoneEXIF(binary.LittleEndian, 1)
	in := mt.WithPNGChunks(mt.PNG(t, mt.Halves(30, 10)),
		mt.PNGChunk("eXIf", tiff),
		mt.PNGChunk("tEXt", []byte("Comment\x00home address: 12 Secret Lane")))
	out := mustProcess(t, in)
	if out.ContentType != media.TypePNG {
		t.Fatalf("content type %s", out.ContentType)
	}
	if _, err := png.Decode(bytes.NewReader(out.Data)); err != nil {
		t.Fatalf("served bytes are not a PNG: %v", err)
	}
	for _, leak := range []string{"eXIf", "tEXt", "Secret", "SecretPhoneMaker"} {
		if bytes.Contains(out.Data, []byte(leak)) {
			t.Errorf("served PNG still holds %q", leak)
		}
	}
	if out.Meta.Lat == nil || out.Meta.TakenAt == nil {
		t.Errorf("the eXIf chunk's time and GPS were not read: %+v", out.Meta)
	}
}

func TestWebPDecodesAndIsServedAsJPEG(t *testing.T) {
	t.Run("lossy", func(t *testing.T) {
		out := mustProcess(t, mt.WebPLossy(t))
		if out.ContentType != media.TypeJPEG || out.Width != 1 || out.Height != 1 {
			t.Fatalf("got %s %d×%d", out.ContentType, out.Width, out.Height)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out.Data)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("transparent becomes white", func(t *testing.T) {
		out := mustProcess(t, mt.WebPTransparent(t))
		img, err := jpeg.Decode(bytes.NewReader(out.Data))
		if err != nil {
			t.Fatal(err)
		}
		if !near(img.At(0, 0), color.RGBA{255, 255, 255, 255}) {
			t.Fatalf("transparent pixel served as %v, want white", img.At(0, 0))
		}
	})
	t.Run("extended with EXIF", func(t *testing.T) {
		out := mustProcess(t, mt.WebPWithEXIF(t, mt.WebPLossy(t), mt.PhoneEXIF(binary.BigEndian, 1)))
		if out.Meta.Lat == nil || out.Meta.TakenAt == nil {
			t.Fatalf("WebP EXIF not read: %+v", out.Meta)
		}
		if bytes.Contains(out.Data, []byte("SecretPhoneMaker")) {
			t.Fatal("WebP EXIF served")
		}
	})
}

// TestDecompressionBombsRefusedBeforeDecoding: the header's size is checked before any pixel
// is decoded. Decoding 100000×100000 would need 40 GB; the test passing at all shows it was not
// tried.
func TestDecompressionBombsRefusedBeforeDecoding(t *testing.T) {
	jpg := mt.JPEG(t, mt.Halves(16, 16))
	tests := []struct {
		name string
		data []byte
	}{
		{"png 100000×100000", mt.BombPNG(100000, 100000)},
		{"png 8000×8000 (sides fine, 64 megapixels)", mt.BombPNG(8000, 8000)},
		{"png 25000×10 (one side too long)", mt.BombPNG(25000, 10)},
		{"jpeg 65000×65000", mt.WithJPEGSize(t, jpg, 65000, 65000)},
		{"heic 100000×100000", mt.HEIC{Width: 100000, Height: 100000}.Bytes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.data) > 4096 {
				t.Fatalf("the bomb is %d bytes; it should be tiny", len(tc.data))
			}
			_, err := process(t, tc.data)
			wantFieldError(t, err, "dimensions")
		})
	}
}

func TestCorruptPhotosRefused(t *testing.T) {
	jpg := mt.JPEG(t, mt.Halves(64, 64))
	pngData := mt.PNG(t, mt.Halves(64, 64))
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated jpeg", jpg[:len(jpg)/2]},
		{"jpeg header only", jpg[:20]},
		{"truncated png", pngData[:len(pngData)-30]},
		{"webp with no image", mt.WebPLossy(t)[:20]},
		{"heic without its meta box", mt.HEIC{Width: 8, Height: 8}.Bytes()[:24]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := process(t, tc.data)
			wantFieldError(t, err, "corrupt")
		})
	}
}

func TestLimits(t *testing.T) {
	jpg := mt.JPEG(t, mt.Halves(64, 64))
	p := media.NewProcessor(media.Limits{MaxBytes: int64(len(jpg) - 1), MaxPixels: 1000, MaxSide: 100})
	if _, err := p.Process(context.Background(), jpg); !errs.Is(err, errs.TooLarge) {
		t.Fatalf("oversize photo: %v, want too_large", err)
	}
	p = media.NewProcessor(media.Limits{MaxBytes: 1 << 20, MaxPixels: 64*64 - 1, MaxSide: 100})
	_, err := p.Process(context.Background(), jpg)
	wantFieldError(t, err, "dimensions")
	if _, err := process(t, nil); err == nil {
		t.Fatal("an empty file was accepted")
	}
}

// TestHEICKeptWithMetadataZeroed: HEIC is not re-encoded; its Exif and XMP items are zeroed,
// every other byte stays, and its size comes from the primary item's ispe (turned by irot).
func TestHEICKeptWithMetadataZeroed(t *testing.T) {
	tiff := mt.PhoneEXIF(binary.BigEndian, 6)
	const xmp = `<x:xmpmeta><rdf:Description exif:GPSLatitude="32,1.2N"/></x:xmpmeta>`
	in := mt.HEIC{Width: 4032, Height: 3024, Rotate: 1, TIFF: tiff, XMP: xmp}.Bytes()
	out := mustProcess(t, in)
	if out.ContentType != media.TypeHEIC || out.Width != 3024 || out.Height != 4032 {
		t.Fatalf("got %s %d×%d, want image/heic 3024×4032 (turned a quarter)", out.ContentType, out.Width, out.Height)
	}
	if out.Thumb != nil {
		t.Error("a HEIC thumbnail was made without a decoder")
	}
	if out.Meta.Lat == nil || out.Meta.TakenAt == nil {
		t.Errorf("the Exif item's time and GPS were not read: %+v", out.Meta)
	}
	for _, leak := range []string{"Exif\x00\x00MM", "SecretPhoneMaker", "GPSLatitude", "xmpmeta"} {
		if bytes.Contains(out.Data, []byte(leak)) {
			t.Errorf("served HEIC still holds %q", leak)
		}
	}
	if len(out.Data) != len(in) || !bytes.Contains(out.Data, []byte(mt.FakeHEVC)) || !bytes.Equal(out.Data[:200], in[:200]) {
		t.Error("the picture or the boxes changed; only the metadata items may")
	}
	changed := 0
	for i := range in {
		if in[i] != out.Data[i] {
			changed++
		}
	}
	if limit := 4 + 6 + len(tiff) + len(xmp); changed == 0 || changed > limit {
		t.Errorf("%d bytes changed, want between 1 and %d", changed, limit)
	}
}

func TestParseEXIF(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	cst := time.FixedZone("", 8*3600)
	tests := []struct {
		name     string
		tiff     []byte
		wantTime time.Time // zero: none
		lat, lng float64   // NaN: none
		orient   int
	}{
		{"offset given", mt.PhoneEXIF(le, 8), time.Date(2024, 5, 6, 7, 8, 9, 0, cst), 32.02, 120.86, 8},
		{"no offset: China Standard Time", mt.TIFF(be, nil, []mt.Entry{mt.ASCII(0x9003, "2023:12:31 23:59:59")}, nil),
			time.Date(2023, 12, 31, 23, 59, 59, 0, cst), math.NaN(), math.NaN(), 0},
		{"other offset", mt.TIFF(le, nil, []mt.Entry{mt.ASCII(0x9003, "2023:01:02 03:04:05"), mt.ASCII(0x9011, "-05:00")}, nil),
			time.Date(2023, 1, 2, 8, 4, 5, 0, time.UTC), math.NaN(), math.NaN(), 0},
		{"placeholder time", mt.TIFF(le, nil, []mt.Entry{mt.ASCII(0x9003, "0000:00:00 00:00:00")}, nil),
			time.Time{}, math.NaN(), math.NaN(), 0},
		{"GPS time only (UTC)", mt.TIFF(le, nil, nil, []mt.Entry{
			mt.ASCII(0x001D, "2024:02:03"), mt.Rationals(le, 0x0007, 4, 1, 5, 1, 6, 1),
			mt.ASCII(0x0001, "S"), mt.Rationals(le, 0x0002, 33, 1, 30, 1, 0, 1),
			mt.ASCII(0x0003, "W"), mt.Rationals(le, 0x0004, 70, 1, 3000, 100, 0, 1)}),
			time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), -33.5, -70.5, 0},
		{"no fix written as 0,0", mt.TIFF(be, nil, nil, []mt.Entry{
			mt.ASCII(0x0001, "N"), mt.Rationals(be, 0x0002, 0, 1, 0, 1, 0, 1),
			mt.ASCII(0x0003, "E"), mt.Rationals(be, 0x0004, 0, 1, 0, 1, 0, 1)}),
			time.Time{}, math.NaN(), math.NaN(), 0},
		{"zero denominator", mt.TIFF(be, nil, nil, []mt.Entry{
			mt.Rationals(be, 0x0002, 32, 0, 0, 1, 0, 1), mt.Rationals(be, 0x0004, 120, 1, 0, 1, 0, 1)}),
			time.Time{}, math.NaN(), math.NaN(), 0},
		{"latitude out of range", mt.TIFF(be, nil, nil, []mt.Entry{
			mt.Rationals(be, 0x0002, 95, 1, 0, 1, 0, 1), mt.Rationals(be, 0x0004, 120, 1, 0, 1, 0, 1)}),
			time.Time{}, math.NaN(), math.NaN(), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := media.ParseEXIF(tc.tiff)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantTime.IsZero() != (m.TakenAt == nil) || (m.TakenAt != nil && !m.TakenAt.Equal(tc.wantTime)) {
				t.Errorf("time %v, want %v", m.TakenAt, tc.wantTime)
			}
			if m.TakenAt != nil && m.TakenAt.Location() != time.UTC {
				t.Errorf("time not in UTC: %v", m.TakenAt)
			}
			if math.IsNaN(tc.lat) != (m.Lat == nil) || (m.Lat != nil && (math.Abs(*m.Lat-tc.lat) > 0.01 || math.Abs(*m.Lng-tc.lng) > 0.01)) {
				t.Errorf("point %v,%v, want %v,%v", m.Lat, m.Lng, tc.lat, tc.lng)
			}
			if m.Orientation != tc.orient {
				t.Errorf("orientation %d, want %d", m.Orientation, tc.orient)
			}
		})
	}
}

// TestParseEXIFSurvivesGarbage: hostile EXIF (loops, offsets past the end, huge counts) is
// refused or read partly, never a panic or a hang.
func TestParseEXIFSurvivesGarbage(t *testing.T) {
	good := mt.PhoneEXIF(binary.LittleEndian, 6)
	loop := bytes.Clone(good)
	binary.LittleEndian.PutUint32(loop[4:], 8) // IFD0 at 8, and its pointers pointed back
	cases := map[string][]byte{
		"empty":      nil,
		"short":      []byte("II*\x00"),
		"bad order":  []byte("XX*\x00\x08\x00\x00\x00"),
		"ifd past":   []byte("II*\x00\xff\xff\x00\x00"),
		"truncated":  good[:len(good)/2],
		"self loop":  loop,
		"all ones":   bytes.Repeat([]byte{0xff}, 200),
		"huge count": append([]byte("MM\x00*\x00\x00\x00\x08\xff\xff"), make([]byte, 64)...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) { _, _ = media.ParseEXIF(b) })
	}
	for i := range good {
		cut := bytes.Clone(good)
		cut[i] ^= 0xA5
		_, _ = media.ParseEXIF(cut)
	}
}

func FuzzParseEXIF(f *testing.F) {
	f.Add(mt.PhoneEXIF(binary.LittleEndian, 6))
	f.Add(mt.PhoneEXIF(binary.BigEndian, 1))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = media.ParseEXIF(b) })
}

// FuzzProcessHEIC: broken boxes are refused as corrupt, never a panic.
func FuzzProcessHEIC(f *testing.F) {
	f.Add(mt.HEIC{Width: 64, Height: 48, TIFF: mt.PhoneEXIF(binary.BigEndian, 1), XMP: "<x/>"}.Bytes())
	p := media.NewProcessor(media.DefaultLimits)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 12 {
			copy(b[4:12], "ftypheic") // keep it sniffed as HEIC so the box parser is what runs
		}
		_, _ = p.Process(context.Background(), b)
	})
}
