package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

// FuzzProcess: whatever the bytes, Process must not panic, must refuse with
// one of the package's errors or return clean derivatives: bare JPEGs (no
// EXIF, APP1 or comment), at most len(Widths()) of them, widths increasing
// and never past the largest width, the image's aspect ratio kept (turned
// or not), never upscaled, each within the upload size limit. Seeds in
// testdata/fuzz/FuzzProcess add truncated files and a JPEG declaring
// 65500×65500 pixels.
//
// Inputs are held to 300,000 pixels (pixelLimit): the fuzzer soon turns a
// seed's header into a valid picture of millions of pixels, which costs
// seconds to scale, and so a few dozen inputs in a run; the 40 MP limit
// itself is TestDecompressionBombIsRefusedBeforeDecoding's and the abuse
// bench's.
func FuzzProcess(f *testing.F) {
	pixelLimit = 300_000
	f.Cleanup(func() { pixelLimit = MaxPixels })
	be, le := binary.BigEndian, binary.LittleEndian
	jpg := encodeJPEG(f, quadrants(200, 240))
	f.Add(jpg)
	f.Add(withExif(f, jpg, gpsTIFF(be, 6)))
	f.Add(withExif(f, jpg, gpsTIFF(le, 3)))
	p := encodePNG(f, quadrants(240, 200))
	f.Add(p)
	f.Add(withPNGChunk(f, p, pngChunk("eXIf", gpsTIFF(le, 8))))
	f.Add(bombPNG(f, 100000, 100000))
	f.Add(bombPNG(f, 200, 70000))        // one side past what JPEG can hold
	f.Add(jpg[:len(jpg)/2])              // cut off in the scan
	f.Add(p[:len(p)-20])                 // cut off before IEND
	f.Add(encodeJPEG(f, gray(700, 200))) // three derivatives, from a small image: each input stays cheap
	f.Add(encodePNG(f, paletted(220, 300)))
	f.Add(encodePNG(f, image.NewNRGBA64(image.Rect(0, 0, 210, 205))))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Process(bytes.NewReader(data))
		if err != nil {
			if !isPublicError(err) {
				t.Fatalf("error %v is none of the package's errors", err)
			}
			if ds != nil {
				t.Fatal("derivatives returned with an error")
			}
			return
		}
		if len(ds) == 0 || len(ds) > len(Widths()) {
			t.Fatalf("%d derivatives", len(ds))
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("accepted, but its header does not decode: %v", err)
		}
		widest := Widths()[len(Widths())-1]
		for i, d := range ds {
			// checkClean: a bare JPEG header, no "Exif" before the scan
			// data and no EXIF header anywhere. (A bare four-byte "Exif"
			// can turn up by chance in entropy-coded data.)
			checkClean(t, d)
			if i > 0 && d.Width <= ds[i-1].Width {
				t.Fatalf("widths not increasing: %v", sizes(ds))
			}
			if d.Width > widest || len(d.JPEG) > MaxBytes {
				t.Fatalf("derivative %d×%d of %d bytes is past the limits", d.Width, d.Height, len(d.JPEG))
			}
			if !keepsShape(d, cfg.Width, cfg.Height) && !keepsShape(d, cfg.Height, cfg.Width) {
				t.Fatalf("derivative %d×%d of a %d×%d image: upscaled or out of shape", d.Width, d.Height, cfg.Width, cfg.Height)
			}
		}
	})
}

// keepsShape reports whether d is the w×h image scaled down, its height
// rounded to the nearest pixel.
func keepsShape(d Derivative, w, h int) bool {
	if d.Width > w || d.Height > h {
		return false
	}
	diff := int64(d.Height)*int64(w) - int64(h)*int64(d.Width) // w·(height − exact height)
	return diff <= int64(w) && diff >= -int64(w)
}

// gray is a w×h grey gradient.
func gray(w, h int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	return m
}

// paletted is a w×h two-colour paletted image.
func paletted(w, h int) *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{red, blue})
	for i := range m.Pix {
		m.Pix[i] = uint8(i % 2)
	}
	return m
}
