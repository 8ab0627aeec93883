package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Colours of the test patterns.
var (
	red    = color.RGBA{255, 0, 0, 255}
	blue   = color.RGBA{0, 0, 255, 255}
	green  = color.RGBA{0, 255, 0, 255}
	yellow = color.RGBA{255, 255, 0, 255}
)

var namedColours = map[string]color.RGBA{"red": red, "blue": blue, "green": green, "yellow": yellow, "white": {255, 255, 255, 255}}

// halves is a w×h image, red on the left half and blue on the right.
func halves(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := red
			if x >= w/2 {
				c = blue
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// quadrants is a w×h image: red top left, blue top right, green bottom
// left, yellow bottom right.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := [2][2]color.RGBA{{red, blue}, {green, yellow}}[btoi(y >= h/2)][btoi(x >= w/2)]
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tiffEntry is one IFD entry; data is the value already in the TIFF's byte
// order. An entry with tag 0x8825 and no data points at the GPS IFD.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// buildTIFF lays out a TIFF structure: header, IFD0, an optional GPS IFD,
// then the values too long to sit in their entries.
func buildTIFF(bo binary.ByteOrder, ifd0, gps []tiffEntry) []byte {
	if gps != nil {
		ifd0 = append(ifd0, tiffEntry{tag: 0x8825, typ: 4, count: 1})
	}
	ifd0Off := 8
	gpsOff := ifd0Off + 2 + 12*len(ifd0) + 4
	dataOff := gpsOff
	if gps != nil {
		dataOff += 2 + 12*len(gps) + 4
	}
	out := make([]byte, dataOff)
	if bo == binary.ByteOrder(binary.LittleEndian) {
		copy(out, "II")
	} else {
		copy(out, "MM")
	}
	bo.PutUint16(out[2:], 42)
	bo.PutUint32(out[4:], uint32(ifd0Off))
	var extra []byte
	writeIFD := func(off int, entries []tiffEntry) {
		bo.PutUint16(out[off:], uint16(len(entries)))
		for i, e := range entries {
			p := off + 2 + 12*i
			bo.PutUint16(out[p:], e.tag)
			bo.PutUint16(out[p+2:], e.typ)
			bo.PutUint32(out[p+4:], e.count)
			switch {
			case e.tag == 0x8825 && e.data == nil:
				bo.PutUint32(out[p+8:], uint32(gpsOff))
			case len(e.data) <= 4:
				copy(out[p+8:p+12], e.data)
			default:
				bo.PutUint32(out[p+8:], uint32(dataOff+len(extra)))
				extra = append(extra, e.data...)
			}
		}
	}
	writeIFD(ifd0Off, ifd0)
	if gps != nil {
		writeIFD(gpsOff, gps)
	}
	return append(out, extra...)
}

func short(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 2)
	bo.PutUint16(b, v)
	return b
}

func rationals(bo binary.ByteOrder, v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		bo.PutUint32(b[4*i:], x)
	}
	return b
}

func orientationEntry(bo binary.ByteOrder, o uint16) tiffEntry {
	return tiffEntry{tag: 0x0112, typ: 3, count: 1, data: short(bo, o)}
}

// Values in the GPS test EXIF, looked for in the output.
const (
	testMake          = "FamilyLinksTestCam"
	testGPSMethodText = "ASCII\x00\x00\x00GPS-FIX"
)

// gpsTIFF is an EXIF TIFF with a camera make, the orientation and a GPS
// IFD holding a latitude and a longitude.
func gpsTIFF(bo binary.ByteOrder, orientation uint16) []byte {
	ifd0 := []tiffEntry{
		{tag: 0x010F, typ: 2, count: uint32(len(testMake) + 1), data: []byte(testMake + "\x00")},
		orientationEntry(bo, orientation),
	}
	gps := []tiffEntry{
		{tag: 0x0000, typ: 1, count: 4, data: []byte{2, 3, 0, 0}},
		{tag: 0x0001, typ: 2, count: 2, data: []byte("N\x00")},
		{tag: 0x0002, typ: 5, count: 3, data: rationals(bo, 52, 1, 31, 1, 1234, 100)},
		{tag: 0x0003, typ: 2, count: 2, data: []byte("E\x00")},
		{tag: 0x0004, typ: 5, count: 3, data: rationals(bo, 13, 1, 24, 1, 5678, 100)},
		{tag: 0x001B, typ: 7, count: uint32(len(testGPSMethodText)), data: []byte(testGPSMethodText)},
	}
	return buildTIFF(bo, ifd0, gps)
}

// withAPP1 inserts an APP1 segment holding payload right after SOI.
func withAPP1(t testing.TB, jpg, payload []byte) []byte {
	t.Helper()
	if len(payload)+2 > 0xFFFF {
		t.Fatal("APP1 payload too long")
	}
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func withExif(t testing.TB, jpg, tiff []byte) []byte {
	return withAPP1(t, jpg, append([]byte("Exif\x00\x00"), tiff...))
}

// pngChunk frames a PNG chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withPNGChunk inserts a chunk right after IHDR.
func withPNGChunk(t testing.TB, p []byte, chunk []byte) []byte {
	t.Helper()
	const afterIHDR = 8 + 12 + 13
	if string(p[12:16]) != "IHDR" {
		t.Fatal("not a PNG starting with IHDR")
	}
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, p[afterIHDR:]...)
}

// bombPNG declares w×h RGBA pixels and carries a tiny IDAT.
func bombPNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8 bits, RGBA, deflate, no filter, no interlace
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1024))
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// segment is one marker segment of a JPEG header.
type segment struct {
	marker byte
	data   []byte
}

// jpegHeader walks the marker segments of a JPEG from SOI to SOS, failing
// the test on anything malformed. end is where the entropy-coded data starts.
func jpegHeader(t testing.TB, b []byte) (segs []segment, end int) {
	t.Helper()
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		t.Fatalf("does not start with SOI: % x", b[:min(len(b), 4)])
	}
	if b[len(b)-2] != 0xFF || b[len(b)-1] != 0xD9 {
		t.Fatalf("does not end with EOI")
	}
	for p := 2; ; {
		if p+4 > len(b) || b[p] != 0xFF {
			t.Fatalf("bad marker at %d", p)
		}
		m := b[p+1]
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if n < 2 || p+2+n > len(b) {
			t.Fatalf("bad length %d for marker %#x", n, m)
		}
		segs = append(segs, segment{m, b[p+4 : p+2+n]})
		if m == 0xDA {
			return segs, p + 2 + n
		}
		p += 2 + n
	}
}

// checkClean fails unless a derivative is a bare JPEG: SOI, then DQT or a
// JFIF APP0, no other application segment and no comment, and nothing of
// the EXIF left anywhere.
func checkClean(t testing.TB, d Derivative) {
	t.Helper()
	segs, end := jpegHeader(t, d.JPEG)
	first := segs[0]
	if first.marker != 0xDB && !(first.marker == 0xE0 && bytes.HasPrefix(first.data, []byte("JFIF\x00"))) {
		t.Errorf("segment after SOI is %#x, want DQT or JFIF APP0", first.marker)
	}
	for _, s := range segs {
		if s.marker >= 0xE1 && s.marker <= 0xEF || s.marker == 0xFE {
			t.Errorf("derivative carries segment %#x (%q…)", s.marker, s.data[:min(len(s.data), 8)])
		}
	}
	if bytes.Contains(d.JPEG[:end], []byte("Exif")) || bytes.Contains(d.JPEG, []byte("Exif\x00\x00")) {
		t.Error(`derivative contains "Exif"`)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(d.JPEG))
	if err != nil {
		t.Fatalf("derivative does not decode: %v", err)
	}
	if cfg.Width != d.Width || cfg.Height != d.Height {
		t.Errorf("derivative is %d×%d, says %d×%d", cfg.Width, cfg.Height, d.Width, d.Height)
	}
}

func decodeDerivative(t testing.TB, d Derivative) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(d.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// colourAt names the test colour nearest to the pixel at x, y.
func colourAt(m image.Image, x, y int) string {
	r, g, b, _ := m.At(x, y).RGBA()
	best, bestD := "", -1
	for name, c := range namedColours {
		dr, dg, db := int(r>>8)-int(c.R), int(g>>8)-int(c.G), int(b>>8)-int(c.B)
		d := dr*dr + dg*dg + db*db
		if bestD < 0 || d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

func isPublicError(err error) bool {
	return errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooManyPixels) ||
		errors.Is(err, ErrFormat) || errors.Is(err, ErrTooSmall)
}

func mustProcess(t testing.TB, b []byte) []Derivative {
	t.Helper()
	ds, err := Process(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	for _, d := range ds {
		checkClean(t, d)
	}
	return ds
}

func sizes(ds []Derivative) [][2]int {
	var s [][2]int
	for _, d := range ds {
		s = append(s, [2]int{d.Width, d.Height})
	}
	return s
}
