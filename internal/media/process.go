package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"runtime"

	"github.com/disintegration/imaging"
	"github.com/gabriel-vasile/mimetype"
	"golang.org/x/image/webp"

	"github.com/gridcase/gridcase/internal/errs"
)

// Formats accepted from phones, as sniffed from the bytes.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypeHEIC = "image/heic"
	TypeHEIF = "image/heif"
)

// Limits bound what an upload may cost.
type Limits struct {
	MaxBytes  int64 // the file as sent
	MaxPixels int64 // width × height, read from the header before decoding
	MaxSide   int   // the longer side, read from the header before decoding
}

// DefaultLimits are the limits when none are configured.
var DefaultLimits = Limits{MaxBytes: 15 << 20, MaxPixels: 50_000_000, MaxSide: 20_000}

// Quality and thumbnail size of what gridcase serves.
const (
	JPEGQuality  = 85
	ThumbSide    = 320 // the long side of a thumbnail, in pixels
	ThumbQuality = 80
	ThumbType    = TypeJPEG
)

// Processed is a photo made ready to serve.
type Processed struct {
	Data          []byte // what is served: re-encoded (JPEG, PNG) or stripped (HEIC)
	ContentType   string
	Width, Height int
	SHA256        string // hex digest of Data
	Thumb         []byte // JPEG, nil for HEIC
	Meta          Meta   // the photo's own EXIF time and GPS, read before stripping
}

// Processor checks, decodes and re-encodes photos. Decoding a 50-megapixel photo takes some
// 200 MB, so at most one decode per CPU runs at once; the others wait their turn.
type Processor struct {
	limits Limits
	slots  chan struct{}
}

// NewProcessor returns a Processor with the limits (zero fields take DefaultLimits').
func NewProcessor(l Limits) *Processor {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	return &Processor{limits: l, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

// Limits returns the processor's limits.
func (p *Processor) Limits() Limits { return p.limits }

// Sniff returns the accepted type of data from its bytes (never from a name or a header), or an
// errs.Unsupported error naming what it is instead.
func Sniff(data []byte) (string, error) {
	m := mimetype.Detect(data)
	for _, t := range []string{TypeJPEG, TypePNG, TypeWebP, TypeHEIC, TypeHEIF} {
		if m.Is(t) {
			return t, nil
		}
	}
	return "", errs.E(errs.Unsupported, "a photo must be JPEG, PNG, WebP or HEIC; this file is %s", m.String())
}

func invalidFile(rule, format string, args ...any) error {
	var f errs.Fields
	f.Add("file", rule, format, args...)
	return f.Err()
}

// Process checks data against the limits, reads its EXIF time and GPS, and returns the bytes
// to serve (with no EXIF: re-encoded after applying the EXIF orientation; HEIC with its
// metadata items zeroed), their digest and size, and a thumbnail.
func (p *Processor) Process(ctx context.Context, data []byte) (Processed, error) {
	if int64(len(data)) > p.limits.MaxBytes {
		return Processed{}, errs.E(errs.TooLarge, "the photo is larger than %d bytes", p.limits.MaxBytes)
	}
	if len(data) == 0 {
		return Processed{}, invalidFile("required", "the file is empty")
	}
	typ, err := Sniff(data)
	if err != nil {
		return Processed{}, err
	}
	if typ == TypeHEIC || typ == TypeHEIF {
		return p.processHEIC(data, typ)
	}
	var (
		decodeConfig func([]byte) (image.Config, error)
		decode       func([]byte) (image.Image, error)
		exifBlock    []byte
	)
	switch typ {
	case TypeJPEG:
		decodeConfig = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
		exifBlock = jpegEXIF(data)
	case TypePNG:
		decodeConfig = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
		exifBlock = pngEXIF(data)
	case TypeWebP:
		decodeConfig = func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }
		exifBlock = webpEXIF(data)
	}
	// The header first: a few kilobytes can declare a picture that takes gigabytes to decode.
	cfg, err := decodeConfig(data)
	if err != nil {
		return Processed{}, invalidFile("corrupt", "the photo cannot be read: its header is corrupt or truncated")
	}
	if err := p.checkSize(cfg.Width, cfg.Height); err != nil {
		return Processed{}, err
	}
	var meta Meta
	if exifBlock != nil {
		meta, _ = ParseEXIF(exifBlock) // broken EXIF loses its metadata, not the photo
	}

	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return Processed{}, errs.Wrap(errs.Unavailable, ctx.Err(), "request cancelled")
	}
	img, err := decode(data)
	if err != nil {
		return Processed{}, invalidFile("corrupt", "the photo cannot be read: it is corrupt or truncated")
	}
	img = orient(img, meta.Orientation)
	var out bytes.Buffer
	outType := TypeJPEG
	if typ == TypePNG {
		outType = TypePNG
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, opaque(img), &jpeg.Options{Quality: JPEGQuality})
	}
	if err != nil {
		return Processed{}, errs.Wrap(errs.Internal, err, "re-encode photo")
	}
	thumb, err := thumbnail(img)
	if err != nil {
		return Processed{}, err
	}
	sum := sha256.Sum256(out.Bytes())
	b := img.Bounds()
	return Processed{
		Data: out.Bytes(), ContentType: outType, Width: b.Dx(), Height: b.Dy(),
		SHA256: hex.EncodeToString(sum[:]), Thumb: thumb, Meta: meta,
	}, nil
}

func (p *Processor) checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return invalidFile("corrupt", "the photo declares no size")
	}
	if w > p.limits.MaxSide || h > p.limits.MaxSide || int64(w)*int64(h) > p.limits.MaxPixels {
		return invalidFile("dimensions", "the photo is %d×%d pixels; at most %d pixels a side and %d in all are accepted",
			w, h, p.limits.MaxSide, p.limits.MaxPixels)
	}
	return nil
}

// processHEIC keeps a HEIC as sent but with its Exif and XMP items zeroed; it has no
// thumbnail, since no pure-Go decoder exists.
func (p *Processor) processHEIC(data []byte, typ string) (Processed, error) {
	info, err := parseHEIC(data)
	if err != nil {
		return Processed{}, invalidFile("corrupt", "the HEIC photo cannot be read: %s", heicReason(err))
	}
	if err := p.checkSize(info.width, info.height); err != nil {
		return Processed{}, err
	}
	var meta Meta
	if info.exif != nil {
		meta, _ = ParseEXIF(info.exif)
	}
	meta.Orientation = 0 // HEIC turns with its irot property, which stays
	out := stripHEIC(data, info)
	sum := sha256.Sum256(out)
	return Processed{
		Data: out, ContentType: typ, Width: info.width, Height: info.height,
		SHA256: hex.EncodeToString(sum[:]), Meta: meta,
	}, nil
}

func heicReason(err error) string {
	if errors.Is(err, errHEIC) {
		return err.Error()
	}
	return "malformed HEIC"
}

// orient turns stored pixels upright as EXIF Orientation says (imaging rotates
// counter-clockwise).
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// opaque flattens transparency onto white before JPEG, which has no alpha (a transparent WebP
// sticker would otherwise turn black).
func opaque(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img // every decoded JPEG, and a turned one (NRGBA with full alpha)
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

// thumbnail fits img into ThumbSide × ThumbSide (never enlarging) as a JPEG.
func thumbnail(img image.Image) ([]byte, error) {
	t := imaging.Fit(img, ThumbSide, ThumbSide, imaging.Lanczos)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, opaque(t), &jpeg.Options{Quality: ThumbQuality}); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "encode thumbnail")
	}
	return buf.Bytes(), nil
}
