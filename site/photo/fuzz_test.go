package photo

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzProcess: whatever the bytes, Process must not panic, must refuse with
// one of the package's errors or return clean derivatives.
func FuzzProcess(f *testing.F) {
	be, le := binary.BigEndian, binary.LittleEndian
	jpg := encodeJPEG(f, quadrants(200, 240))
	f.Add(jpg)
	f.Add(withExif(f, jpg, gpsTIFF(be, 6)))
	f.Add(withExif(f, jpg, gpsTIFF(le, 3)))
	p := encodePNG(f, quadrants(240, 200))
	f.Add(p)
	f.Add(withPNGChunk(f, p, pngChunk("eXIf", gpsTIFF(le, 8))))
	f.Add(bombPNG(f, 100000, 100000))
	f.Add([]byte("GIF89a"))
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
		for i, d := range ds {
			// checkClean: a bare JPEG header, no "Exif" before the scan
			// data and no EXIF header anywhere. (A bare four-byte "Exif"
			// can turn up by chance in entropy-coded data.)
			checkClean(t, d)
			if i > 0 && d.Width <= ds[i-1].Width {
				t.Fatalf("widths not increasing: %v", sizes(ds))
			}
		}
	})
}
