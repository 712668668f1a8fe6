package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"
)

// Meta is what a photo's own EXIF says about it, read before the EXIF is stripped.
type Meta struct {
	TakenAt     *time.Time // DateTimeOriginal, or the GPS UTC stamp
	Lat, Lng    *float64   // GPS, WGS-84
	Orientation int        // 1–8 (0 when absent): how to turn the stored pixels for display
}

// China has kept UTC+8 all year since 1991, so a fixed zone is exact for the photos gridcase
// sees; EXIF times without an offset (most phones before 2018) are read in it.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// TIFF tags read from EXIF (CIPA DC-008).
const (
	tagOrientation        = 0x0112
	tagExifIFD            = 0x8769
	tagGPSIFD             = 0x8825
	tagDateTimeOriginal   = 0x9003
	tagOffsetTimeOriginal = 0x9011
	tagGPSLatitudeRef     = 0x0001
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
	tagGPSTimeStamp       = 0x0007
	tagGPSDateStamp       = 0x001D
)

// TIFF field types and their sizes.
var tiffTypeSize = map[uint16]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

var errEXIF = errors.New("malformed EXIF")

// tiffField is one IFD entry with its value bytes.
type tiffField struct {
	typ   uint16
	count uint32
	value []byte
}

// tiffReader walks a TIFF structure (the body of an EXIF block) with bounds checks throughout:
// the EXIF of a photo is input from the street and may be broken or hostile.
type tiffReader struct {
	b     []byte
	order binary.ByteOrder
}

func newTIFFReader(b []byte) (*tiffReader, uint32, error) {
	if len(b) < 8 {
		return nil, 0, errEXIF
	}
	var order binary.ByteOrder
	switch {
	case b[0] == 'I' && b[1] == 'I':
		order = binary.LittleEndian
	case b[0] == 'M' && b[1] == 'M':
		order = binary.BigEndian
	default:
		return nil, 0, errEXIF
	}
	if order.Uint16(b[2:]) != 42 {
		return nil, 0, errEXIF
	}
	return &tiffReader{b: b, order: order}, order.Uint32(b[4:]), nil
}

// ifd reads the entries of the IFD at off.
func (r *tiffReader) ifd(off uint32) (map[uint16]tiffField, error) {
	if off < 8 || uint64(off)+2 > uint64(len(r.b)) {
		return nil, errEXIF
	}
	n := int(r.order.Uint16(r.b[off:]))
	if n > 512 || int(off)+2+12*n > len(r.b) {
		return nil, errEXIF
	}
	out := make(map[uint16]tiffField, n)
	for i := 0; i < n; i++ {
		e := r.b[int(off)+2+12*i:]
		tag, typ, count := r.order.Uint16(e), r.order.Uint16(e[2:]), r.order.Uint32(e[4:])
		size, ok := tiffTypeSize[typ]
		if !ok || count > 1<<20 {
			continue
		}
		total := uint64(size) * uint64(count)
		var v []byte
		if total <= 4 {
			v = e[8 : 8+total]
		} else {
			p := uint64(r.order.Uint32(e[8:]))
			if p+total > uint64(len(r.b)) {
				continue
			}
			v = r.b[p : p+total]
		}
		out[tag] = tiffField{typ: typ, count: count, value: v}
	}
	return out, nil
}

func (r *tiffReader) uint(f tiffField) (uint32, bool) {
	switch {
	case f.typ == 3 && len(f.value) >= 2:
		return uint32(r.order.Uint16(f.value)), true
	case f.typ == 4 && len(f.value) >= 4:
		return r.order.Uint32(f.value), true
	}
	return 0, false
}

func (r *tiffReader) rationals(f tiffField) ([]float64, bool) {
	if f.typ != 5 || len(f.value) < 8 {
		return nil, false
	}
	out := make([]float64, 0, len(f.value)/8)
	for i := 0; i+8 <= len(f.value); i += 8 {
		num, den := r.order.Uint32(f.value[i:]), r.order.Uint32(f.value[i+4:])
		if den == 0 {
			return nil, false
		}
		out = append(out, float64(num)/float64(den))
	}
	return out, true
}

func ascii(f tiffField) string {
	if f.typ != 2 && f.typ != 7 {
		return ""
	}
	s, _, _ := strings.Cut(string(f.value), "\x00")
	return strings.TrimSpace(s)
}

// ParseEXIF reads a TIFF-structured EXIF block (what follows "Exif\0\0" in a JPEG APP1
// segment). It returns what it could read; a malformed block yields an error and no data.
func ParseEXIF(b []byte) (Meta, error) {
	r, off, err := newTIFFReader(b)
	if err != nil {
		return Meta{}, err
	}
	ifd0, err := r.ifd(off)
	if err != nil {
		return Meta{}, err
	}
	var m Meta
	if f, ok := ifd0[tagOrientation]; ok {
		if v, ok := r.uint(f); ok && v >= 1 && v <= 8 {
			m.Orientation = int(v)
		}
	}
	if f, ok := ifd0[tagExifIFD]; ok {
		if p, ok := r.uint(f); ok {
			if exif, err := r.ifd(p); err == nil {
				m.TakenAt = exifTime(ascii(exif[tagDateTimeOriginal]), ascii(exif[tagOffsetTimeOriginal]))
			}
		}
	}
	if f, ok := ifd0[tagGPSIFD]; ok {
		if p, ok := r.uint(f); ok {
			if gps, err := r.ifd(p); err == nil {
				m.Lat, m.Lng = gpsPoint(r, gps)
				if m.TakenAt == nil {
					m.TakenAt = gpsTime(r, gps)
				}
			}
		}
	}
	return m, nil
}

// exifTime reads "2006:01:02 15:04:05" with an optional "+08:00" offset; without one the time
// is read as China Standard Time.
func exifTime(s, offset string) *time.Time {
	if len(s) < 19 {
		return nil
	}
	loc := chinaStandardTime
	if len(offset) == 6 && (offset[0] == '+' || offset[0] == '-') {
		if o, err := time.Parse("-07:00", offset); err == nil {
			_, secs := o.Zone()
			loc = time.FixedZone("", secs)
		}
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", s[:19], loc)
	if err != nil || t.Year() < 1990 {
		return nil // "0000:00:00 00:00:00" and other placeholders
	}
	u := t.UTC()
	return &u
}

// gpsPoint reads latitude and longitude; (0, 0) is what cameras write without a fix.
func gpsPoint(r *tiffReader, gps map[uint16]tiffField) (lat, lng *float64) {
	la, ok1 := r.rationals(gps[tagGPSLatitude])
	lo, ok2 := r.rationals(gps[tagGPSLongitude])
	if !ok1 || !ok2 || len(la) < 3 || len(lo) < 3 {
		return nil, nil
	}
	y := la[0] + la[1]/60 + la[2]/3600
	x := lo[0] + lo[1]/60 + lo[2]/3600
	if strings.EqualFold(ascii(gps[tagGPSLatitudeRef]), "S") {
		y = -y
	}
	if strings.EqualFold(ascii(gps[tagGPSLongitudeRef]), "W") {
		x = -x
	}
	if math.IsNaN(x) || math.IsNaN(y) || y < -90 || y > 90 || x < -180 || x > 180 || (x == 0 && y == 0) {
		return nil, nil
	}
	return &y, &x
}

// gpsTime reads the GPS date and time stamps, which are UTC.
func gpsTime(r *tiffReader, gps map[uint16]tiffField) *time.Time {
	d := ascii(gps[tagGPSDateStamp])
	hms, ok := r.rationals(gps[tagGPSTimeStamp])
	if d == "" || !ok || len(hms) < 3 {
		return nil
	}
	day, err := time.ParseInLocation("2006:01:02", d, time.UTC)
	if err != nil || day.Year() < 1990 || hms[0] >= 24 || hms[1] >= 60 || hms[2] >= 61 {
		return nil
	}
	t := day.Add(time.Duration(hms[0]*float64(time.Hour) + hms[1]*float64(time.Minute) + hms[2]*float64(time.Second)))
	return &t
}

var exifHeader = []byte("Exif\x00\x00")

// jpegEXIF returns the TIFF body of a JPEG's EXIF APP1 segment, or nil.
func jpegEXIF(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			i += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more metadata
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, exifHeader) {
			return seg[len(exifHeader):]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the body of a PNG's eXIf chunk, or nil.
func pngEXIF(b []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil
	}
	for i := len(sig); i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || n > len(b)-i-12 {
			return nil
		}
		if typ == "eXIf" {
			return b[i+8 : i+8+n]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil // eXIf must come before the image data
		}
		i += 12 + n
	}
	return nil
}

// webpEXIF returns the body of a WebP's EXIF chunk, or nil.
func webpEXIF(b []byte) []byte {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil
	}
	for i := 12; i+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		if n < 0 || n > len(b)-i-8 {
			return nil
		}
		if string(b[i:i+4]) == "EXIF" {
			return bytes.TrimPrefix(b[i+8:i+8+n], exifHeader)
		}
		i += 8 + n + n&1
	}
	return nil
}
