package media_test

import (
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"testing"

	"github.com/gridcase/gridcase/internal/media"
	mt "github.com/gridcase/gridcase/internal/media/mediatest"
)

// BenchmarkProcessPhoneJPEG measures one upload's CPU: a 12-megapixel phone photo (4032×3024,
// stored sideways) decoded, turned, re-encoded and thumbnailed.
func BenchmarkProcessPhoneJPEG(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4032, 3024), image.YCbCrSubsampleRatio420)
	for y := 0; y < 3024; y++ {
		for x := 0; x < 4032; x++ {
			yy, cb, cr := color.RGBToYCbCr(uint8(x/16), uint8(y/12), uint8((x*y)%251))
			img.Y[img.YOffset(x, y)] = yy
			img.Cb[img.COffset(x, y)], img.Cr[img.COffset(x, y)] = cb, cr
		}
	}
	photo := mt.WithAPP1(b, mt.JPEG(b, img), mt.PhoneEXIF(binary.BigEndian, 6))
	p := media.NewProcessor(media.DefaultLimits)
	b.SetBytes(int64(len(photo)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Process(context.Background(), photo); err != nil {
			b.Fatal(err)
		}
	}
}
