// Package mediatest makes test photos in Go, byte by byte where a real encoder would not
// write what a phone writes: EXIF APP1 segments, eXIf chunks, WebP EXIF chunks, HEIC boxes,
// and decompression bombs.
package mediatest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"time"
)

// The colours of Halves.
var (
	Red  = color.RGBA{255, 0, 0, 255}
	Blue = color.RGBA{0, 0, 255, 255}
)

// Halves returns a w×h picture, Red on the left half and Blue on the right.
func Halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := Red
			if x >= w/2 {
				c = Blue
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// JPEG encodes img at quality 95.
func JPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PNG encodes img.
func PNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WithAPP1 inserts an EXIF APP1 segment holding tiff right after the JPEG's SOI marker.
func WithAPP1(t testing.TB, jpg, tiff []byte) []byte {
	t.Helper()
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// ---- TIFF (EXIF) ----

// Entry is one TIFF IFD entry.
type Entry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// ASCII is a NUL-terminated text entry.
func ASCII(tag uint16, s string) Entry {
	b := append([]byte(s), 0)
	return Entry{tag: tag, typ: 2, count: uint32(len(b)), data: b}
}

// Short is a SHORT entry.
func Short(bo binary.ByteOrder, tag, v uint16) Entry {
	b := make([]byte, 2)
	bo.PutUint16(b, v)
	return Entry{tag: tag, typ: 3, count: 1, data: b}
}

// Rationals holds rationals given as numerator, denominator pairs.
func Rationals(bo binary.ByteOrder, tag uint16, nd ...uint32) Entry {
	b := make([]byte, 4*len(nd))
	for i, v := range nd {
		bo.PutUint32(b[4*i:], v)
	}
	return Entry{tag: tag, typ: 5, count: uint32(len(nd) / 2), data: b}
}

// TIFF lays out IFD0 and, when given, the Exif and GPS IFDs (pointed to from IFD0),
// followed by the values that do not fit in an Entry.
func TIFF(bo binary.ByteOrder, ifd0, exif, gps []Entry) []byte {
	ifds := [][]Entry{append([]Entry{}, ifd0...)}
	ptr := map[int]uint16{}
	if exif != nil {
		ifds[0] = append(ifds[0], Entry{tag: 0x8769, typ: 4, count: 1})
		ptr[len(ifds)] = 0x8769
		ifds = append(ifds, exif)
	}
	if gps != nil {
		ifds[0] = append(ifds[0], Entry{tag: 0x8825, typ: 4, count: 1})
		ptr[len(ifds)] = 0x8825
		ifds = append(ifds, gps)
	}
	offs := make([]int, len(ifds))
	off := 8
	for i, d := range ifds {
		offs[i] = off
		off += 2 + 12*len(d) + 4
	}
	for i, tag := range ptr {
		for j := range ifds[0] {
			if ifds[0][j].tag == tag {
				ifds[0][j].data = make([]byte, 4)
				bo.PutUint32(ifds[0][j].data, uint32(offs[i]))
			}
		}
	}
	out := make([]byte, off)
	if bo == binary.LittleEndian {
		copy(out, "II")
	} else {
		copy(out, "MM")
	}
	bo.PutUint16(out[2:], 42)
	bo.PutUint32(out[4:], 8)
	for i, d := range ifds {
		p := offs[i]
		bo.PutUint16(out[p:], uint16(len(d)))
		for k, e := range d {
			q := p + 2 + 12*k
			bo.PutUint16(out[q:], e.tag)
			bo.PutUint16(out[q+2:], e.typ)
			bo.PutUint32(out[q+4:], e.count)
			if len(e.data) <= 4 {
				copy(out[q+8:], e.data)
			} else {
				bo.PutUint32(out[q+8:], uint32(len(out)))
				out = append(out, e.data...)
				if len(out)%2 == 1 {
					out = append(out, 0)
				}
			}
		}
	}
	return out
}

// What PhoneEXIF writes.
const (
	PhoneMaker = "SecretPhoneMaker"
	PhoneLat   = 32 + 1.0/60 + 12.0/3600   // 32°1'12"N
	PhoneLng   = 120 + 51.0/60 + 36.0/3600 // 120°51'36"E
)

// PhoneTakenAt is PhoneEXIF's capture time: 2024:05:06 07:08:09 at +08:00.
var PhoneTakenAt = time.Date(2024, 5, 5, 23, 8, 9, 0, time.UTC)

// PhoneEXIF is what a phone in Nantong writes: a make, the orientation, the capture time with
// its offset, and GPS 32°1'12"N 120°51'36"E.
func PhoneEXIF(bo binary.ByteOrder, orientation uint16) []byte {
	return TIFF(bo,
		[]Entry{ASCII(0x010F, PhoneMaker), Short(bo, 0x0112, orientation)},
		[]Entry{ASCII(0x9003, "2024:05:06 07:08:09"), ASCII(0x9011, "+08:00")},
		[]Entry{
			ASCII(0x0001, "N"), Rationals(bo, 0x0002, 32, 1, 1, 1, 12, 1),
			ASCII(0x0003, "E"), Rationals(bo, 0x0004, 120, 1, 51, 1, 36, 1),
		})
}

// ---- PNG ----

// PNGChunk is a chunk with its length and CRC.
func PNGChunk(typ string, data []byte) []byte {
	out := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(out, uint32(len(data)))
	copy(out[4:], typ)
	out = append(out, data...)
	crc := crc32.ChecksumIEEE(out[4:])
	return binary.BigEndian.AppendUint32(out, crc)
}

// WithPNGChunks inserts chunks right after a PNG's IHDR.
func WithPNGChunks(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 12 + 13
	out := append([]byte{}, p[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[ihdrEnd:]...)
}

// BombPNG declares a w×h RGB picture in a file of a few dozen bytes.
func BombPNG(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, PNGChunk("IHDR", ihdr)...)
	out = append(out, PNGChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, PNGChunk("IEND", nil)...)
}

// WithJPEGSize rewrites the size in a baseline JPEG's SOF0 header.
func WithJPEGSize(t testing.TB, jpg []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(jpg)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// ---- WebP ----

// WebPLossy is a 1×1 grey lossy WebP (VP8).
func WebPLossy(t testing.TB) []byte {
	return b64(t, "UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
}

// WebPTransparent is a 1×1 fully transparent lossless WebP (VP8L).
func WebPTransparent(t testing.TB) []byte {
	return b64(t, "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func riffChunk(fourcc string, data []byte) []byte {
	out := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(data)))
	out = append(out, data...)
	if len(data)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// WebPWithEXIF wraps a simple 1×1 WebP in the extended (VP8X) format with an EXIF chunk.
func WebPWithEXIF(t testing.TB, simple, tiff []byte) []byte {
	t.Helper()
	vp8x := make([]byte, 10)
	vp8x[0] = 0x08 // EXIF present; canvas 1×1 (stored minus one)
	body := append([]byte("WEBP"), riffChunk("VP8X", vp8x)...)
	body = append(body, simple[12:]...) // the image chunk of the simple file
	body = append(body, riffChunk("EXIF", tiff)...)
	return append(riffChunkRaw("RIFF", len(body)), body...)
}

func riffChunkRaw(fourcc string, n int) []byte {
	out := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(n))
	return out
}

// ---- HEIC ----

func isoBox(typ string, payload ...[]byte) []byte {
	n := 8
	for _, p := range payload {
		n += len(p)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, p := range payload {
		out = append(out, p...)
	}
	return out
}

func fullBox(typ string, version byte, flags uint32, payload ...[]byte) []byte {
	head := []byte{version, byte(flags >> 16), byte(flags >> 8), byte(flags)}
	return isoBox(typ, append([][]byte{head}, payload...)...)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// HEIC is a structurally faithful HEIC (ftyp, meta with hdlr, pitm, iinf, iloc, iprp,
// and mdat) whose primary item is a stand-in HEVC bitstream, with an Exif item and an XMP item.
type HEIC struct {
	Width, Height uint32
	Rotate        byte // irot angle in quarter turns
	TIFF          []byte
	XMP           string
}

const FakeHEVC = "not-really-hevc-but-the-boxes-do-not-care"

func (h HEIC) Bytes() []byte {
	exifPayload := append(u32(6), append([]byte("Exif\x00\x00"), h.TIFF...)...)
	items := [][]byte{[]byte(FakeHEVC), exifPayload, []byte(h.XMP)}
	build := func(mdatStart uint32) []byte {
		infe := func(id uint16, typ string, extra ...[]byte) []byte {
			return fullBox("infe", 2, 0, append([][]byte{u16(id), u16(0), []byte(typ), {0}}, extra...)...)
		}
		iloc := [][]byte{{0x44, 0x00}, u16(uint16(len(items)))}
		off := mdatStart
		for i, it := range items {
			iloc = append(iloc, u16(uint16(i+1)), u16(0), u16(1), u32(off), u32(uint32(len(it))))
			off += uint32(len(it))
		}
		meta := fullBox("meta", 0, 0,
			fullBox("hdlr", 0, 0, u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
			fullBox("pitm", 0, 0, u16(1)),
			fullBox("iinf", 0, 0, u16(3), infe(1, "hvc1"), infe(2, "Exif"), infe(3, "mime", []byte("application/rdf+xml\x00"))),
			fullBox("iloc", 0, 0, iloc...),
			isoBox("iprp",
				isoBox("ipco", fullBox("ispe", 0, 0, u32(h.Width), u32(h.Height)), isoBox("irot", []byte{h.Rotate})),
				fullBox("ipma", 0, 0, u32(1), u16(1), []byte{2, 0x81, 0x02})),
		)
		ftyp := isoBox("ftyp", []byte("heic"), u32(0), []byte("mif1"), []byte("heic"))
		return append(ftyp, meta...)
	}
	head := build(0)
	head = build(uint32(len(head) + 8))
	return append(head, isoBox("mdat", items...)...)
}
