package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLargePhotoSizes comes first so that, being the slowest test, it
// starts first among the parallel ones.
func TestLargePhotoSizes(t *testing.T) {
	t.Parallel()
	big := image.NewGray(image.Rect(0, 0, 3000, 2000))
	for y := range 2000 {
		for x := range 3000 {
			big.Pix[y*big.Stride+x] = uint8(x * 255 / 2999)
		}
	}
	ds := mustProcess(t, encodeJPEG(t, big))
	want := [][2]int{{320, 213}, {640, 427}, {1280, 853}}
	got := sizes(ds)
	if len(got) != len(want) {
		t.Fatalf("sizes %v, want %v", got, want)
	}
	for i := range got {
		if got[i][0] != want[i][0] || absInt(got[i][1]-want[i][1]) > 1 {
			t.Errorf("sizes %v, want %v (heights ±1)", got, want)
		}
	}
	// The picture is scaled, not cropped: the gradient keeps its ends.
	m := decodeDerivative(t, ds[0])
	if l, r := grey(m, 2, 100), grey(m, 317, 100); l > 20 || r < 230 {
		t.Errorf("left edge %d, right edge %d: want near 0 and 255", l, r)
	}
}

func grey(m image.Image, x, y int) int {
	r, _, _, _ := m.At(x, y).RGBA()
	return int(r >> 8)
}

func TestGPSAndExifAreStripped(t *testing.T) {
	t.Parallel()
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		in := withExif(t, encodeJPEG(t, halves(700, 400)), gpsTIFF(bo, 1))
		for _, s := range []string{"Exif", "GPS", testMake} {
			if !bytes.Contains(in, []byte(s)) {
				t.Fatalf("test input lacks %q", s)
			}
		}
		latitude := rationals(bo, 52, 1, 31, 1, 1234, 100)
		if !bytes.Contains(in, latitude) {
			t.Fatal("test input lacks the latitude")
		}

		ds := mustProcess(t, in)
		if got := sizes(ds); len(got) != 3 {
			t.Fatalf("sizes %v, want three derivatives", got)
		}
		for _, d := range ds {
			checkClean(t, d)
			for _, s := range [][]byte{[]byte("Exif"), []byte("GPS"), []byte(testMake), latitude} {
				if bytes.Contains(d.JPEG, s) {
					t.Errorf("%d px derivative contains %q", d.Width, s)
				}
			}
			if bytes.Contains(d.JPEG, in[len(in)-66:len(in)-2]) {
				t.Errorf("%d px derivative carries the original's scan data", d.Width)
			}
		}
	}
}

func TestOrientationSixTurnsClockwise(t *testing.T) {
	in := withExif(t, encodeJPEG(t, halves(400, 200)), buildTIFF(binary.BigEndian, []tiffEntry{orientationEntry(binary.BigEndian, 6)}, nil))
	ds := mustProcess(t, in)
	if got := sizes(ds); len(got) != 1 || got[0] != [2]int{200, 400} {
		t.Fatalf("sizes %v, want one 200×400 derivative", got)
	}
	m := decodeDerivative(t, ds[0])
	if c := colourAt(m, 100, 50); c != "red" {
		t.Errorf("top is %s, want red", c)
	}
	if c := colourAt(m, 100, 350); c != "blue" {
		t.Errorf("bottom is %s, want blue", c)
	}
}

func TestOrientationThreeAndEight(t *testing.T) {
	for _, tc := range []struct {
		o     uint16
		sizes [][2]int
		red   image.Point // where red must be in the largest derivative
		blue  image.Point
	}{
		{3, [][2]int{{320, 160}, {400, 200}}, image.Pt(300, 100), image.Pt(100, 100)},
		{8, [][2]int{{200, 400}}, image.Pt(100, 350), image.Pt(100, 50)},
	} {
		in := withExif(t, encodeJPEG(t, halves(400, 200)), buildTIFF(binary.LittleEndian, []tiffEntry{orientationEntry(binary.LittleEndian, tc.o)}, nil))
		ds := mustProcess(t, in)
		if got := sizes(ds); !equalSizes(got, tc.sizes) {
			t.Fatalf("orientation %d: sizes %v, want %v", tc.o, got, tc.sizes)
		}
		m := decodeDerivative(t, ds[len(ds)-1])
		if c := colourAt(m, tc.red.X, tc.red.Y); c != "red" {
			t.Errorf("orientation %d: %v is %s, want red", tc.o, tc.red, c)
		}
		if c := colourAt(m, tc.blue.X, tc.blue.Y); c != "blue" {
			t.Errorf("orientation %d: %v is %s, want blue", tc.o, tc.blue, c)
		}
	}
}

// TestAllOrientations tells mirror images apart with four coloured
// quadrants: each row is top-left, top-right, bottom-left, bottom-right as
// the photo must look.
func TestAllOrientations(t *testing.T) {
	t.Parallel()
	want := map[uint16][4]string{
		1: {"red", "blue", "green", "yellow"},
		2: {"blue", "red", "yellow", "green"},
		3: {"yellow", "green", "blue", "red"},
		4: {"green", "yellow", "red", "blue"},
		5: {"red", "green", "blue", "yellow"},
		6: {"green", "red", "yellow", "blue"},
		7: {"yellow", "blue", "green", "red"},
		8: {"blue", "yellow", "red", "green"},
	}
	src := encodeJPEG(t, quadrants(400, 240))
	for o := uint16(1); o <= 8; o++ {
		bo := binary.ByteOrder(binary.LittleEndian)
		if o%2 == 0 {
			bo = binary.BigEndian
		}
		ds := mustProcess(t, withExif(t, src, buildTIFF(bo, []tiffEntry{orientationEntry(bo, o)}, nil)))
		d := ds[len(ds)-1]
		wantW, wantH := 400, 240
		if o >= 5 {
			wantW, wantH = 240, 400
		}
		if d.Width != wantW || d.Height != wantH {
			t.Fatalf("orientation %d: largest is %d×%d, want %d×%d", o, d.Width, d.Height, wantW, wantH)
		}
		m := decodeDerivative(t, d)
		w, h := d.Width, d.Height
		got := [4]string{colourAt(m, w/4, h/4), colourAt(m, 3*w/4, h/4), colourAt(m, w/4, 3*h/4), colourAt(m, 3*w/4, 3*h/4)}
		if got != want[o] {
			t.Errorf("orientation %d: quadrants %v, want %v", o, got, want[o])
		}
	}
}

func TestExifFoundAfterJFIFAndXMP(t *testing.T) {
	jpg := encodeJPEG(t, halves(400, 200))
	jpg = withExif(t, jpg, buildTIFF(binary.BigEndian, []tiffEntry{orientationEntry(binary.BigEndian, 6)}, nil))
	jpg = withAPP1(t, jpg, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	jpg = append(append(append([]byte{}, jpg[:2]...), app0...), jpg[2:]...)
	ds := mustProcess(t, jpg)
	if got := sizes(ds); len(got) != 1 || got[0] != [2]int{200, 400} {
		t.Fatalf("sizes %v, want one 200×400 derivative", got)
	}
	if c := colourAt(decodeDerivative(t, ds[0]), 100, 50); c != "red" {
		t.Errorf("top is %s, want red", c)
	}
}

func TestPNGeXIfOrientation(t *testing.T) {
	p := withPNGChunk(t, encodePNG(t, halves(400, 200)), pngChunk("eXIf", buildTIFF(binary.LittleEndian, []tiffEntry{orientationEntry(binary.LittleEndian, 6)}, nil)))
	ds := mustProcess(t, p)
	if got := sizes(ds); len(got) != 1 || got[0] != [2]int{200, 400} {
		t.Fatalf("sizes %v, want one 200×400 derivative", got)
	}
	if c := colourAt(decodeDerivative(t, ds[0]), 100, 50); c != "red" {
		t.Errorf("top is %s, want red", c)
	}
}

func TestDecompressionBombIsRefusedBeforeDecoding(t *testing.T) {
	jpegBomb := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	sof := bytes.Index(jpegBomb, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no SOF0")
	}
	binary.BigEndian.PutUint16(jpegBomb[sof+5:], 60000) // height
	binary.BigEndian.PutUint16(jpegBomb[sof+7:], 60000) // width

	for name, bomb := range map[string][]byte{
		"png 100000×100000": bombPNG(t, 100000, 100000),
		"png 70000×600":     bombPNG(t, 70000, 600),
		"png 8001×5000":     bombPNG(t, 8001, 5000),
		"jpeg 60000×60000":  jpegBomb,
	} {
		if len(bomb) > 1000 {
			t.Fatalf("%s: bomb is %d bytes, want tiny", name, len(bomb))
		}
		const runs = 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range runs {
			_, err := Process(bytes.NewReader(bomb))
			if !errors.Is(err, ErrTooManyPixels) {
				t.Fatalf("%s: err = %v, want ErrTooManyPixels", name, err)
			}
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / runs
		if perRun > 256<<10 {
			t.Errorf("%s: allocated %d bytes per run; decoding must not have started", name, perRun)
		}
		if elapsed > 2*time.Second {
			t.Errorf("%s: %d runs took %v", name, runs, elapsed)
		}
		allocs := testing.AllocsPerRun(10, func() { Process(bytes.NewReader(bomb)) })
		if allocs > 100 {
			t.Errorf("%s: %v allocations per run", name, allocs)
		}
	}
}

func TestLimitsAreOverflowSafe(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want error
	}{
		{8000, 5000, nil},
		{5000, 8000, nil},
		{8001, 5000, ErrTooManyPixels},
		{math.MaxInt, math.MaxInt, ErrTooManyPixels},
		{math.MaxInt, 1, ErrTooManyPixels},
		{1 << 32, 1 << 32, ErrTooManyPixels}, // product wraps to 0 in int64
		{200, 65535, nil},
		{200, 65536, ErrTooManyPixels}, // image/jpeg cannot encode the derivative
		{200, 200, nil},
		{199, 1000, ErrTooSmall},
		{1000, 199, ErrTooSmall},
		{0, 1000, ErrFormat},
		{-5, -5, ErrFormat},
	} {
		if err := checkDims(tc.w, tc.h); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("checkDims(%d, %d) = %v, want %v", tc.w, tc.h, err, tc.want)
		}
	}
}

// zeroTail yields a JPEG's first bytes, then zeros for ever, counting what
// it hands out.
type zeroTail struct {
	head []byte
	n    int64
}

func (z *zeroTail) Read(p []byte) (int, error) {
	k := 0
	if z.n < int64(len(z.head)) {
		k = copy(p, z.head[z.n:])
	}
	clear(p[k:])
	z.n += int64(len(p))
	return len(p), nil
}

func TestTooLargeStopsReading(t *testing.T) {
	t.Parallel()
	r := &zeroTail{head: encodeJPEG(t, halves(400, 200))[:200]}
	_, err := Process(r)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if r.n > MaxBytes+1 {
		t.Errorf("read %d bytes, want at most %d", r.n, MaxBytes+1)
	}
}

func TestSizeLimitBoundary(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, halves(400, 300))
	padded := make([]byte, MaxBytes) // a JPEG followed by zeros after EOI
	copy(padded, jpg)
	if _, err := Process(bytes.NewReader(padded)); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
	// One byte more is TestTooLargeStopsReading.
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadErrorIsNotBlamedOnTheFile(t *testing.T) {
	_, err := Process(io.MultiReader(bytes.NewReader([]byte("\x89PNG\r\n\x1a\nabc")), failingReader{}))
	if err == nil || isPublicError(err) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("err = %v, want the read error", err)
	}
}

// Decoders for formats Process must refuse, registered in this test binary
// to show that Process does not go by what happens to be registered.
func init() {
	fake := func(io.Reader) (image.Image, error) { return image.NewRGBA(image.Rect(0, 0, 400, 400)), nil }
	fakeConfig := func(io.Reader) (image.Config, error) {
		return image.Config{ColorModel: color.RGBAModel, Width: 400, Height: 400}, nil
	}
	image.RegisterFormat("gif", "GIF8?a", fake, fakeConfig)
	image.RegisterFormat("webp", "RIFF????WEBPVP8", fake, fakeConfig)
}

func TestFormatsRefused(t *testing.T) {
	jpg := encodeJPEG(t, quadrants(400, 400))
	pngBytes := encodePNG(t, quadrants(400, 400))
	sof := bytes.Index(jpg, []byte{0xFF, 0xDA})
	corruptCRC := append([]byte{}, pngBytes...)
	corruptCRC[29] ^= 0xFF // last byte of the IHDR CRC

	for name, b := range map[string][]byte{
		"gif":                         []byte("GIF89a\x90\x01\x90\x01\x80\x00\x00" + strings.Repeat("\x00", 64)),
		"webp":                        []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + strings.Repeat("\x00", 64)),
		"text":                        []byte("Name: Amina\nLast seen: somewhere\n"),
		"html pretending to be image": []byte("<html><img src=x></html>"),
		"empty":                       nil,
		"one byte":                    {0xFF},
		"png signature only":          []byte("\x89PNG\r\n\x1a\n"),
		"jpeg SOI only":               {0xFF, 0xD8, 0xFF},
		"jpeg magic then junk":        append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("junk"), 100)...),
		"jpeg truncated in header":    jpg[:40],
		"jpeg truncated in scan":      jpg[:sof+(len(jpg)-sof)/2],
		"jpeg without EOI and half":   jpg[:len(jpg)*3/4],
		"png truncated":               pngBytes[:len(pngBytes)/2],
		"png bad IHDR CRC":            corruptCRC,
		"bmp":                         append([]byte("BM"), make([]byte, 100)...),
	} {
		ds, err := Process(bytes.NewReader(b))
		if !errors.Is(err, ErrFormat) || ds != nil {
			t.Errorf("%s: (%d derivatives, %v), want ErrFormat", name, len(ds), err)
		}
	}
}

func TestDerivativeSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []byte
		want [][2]int
	}{
		{"500×400 jpeg", encodeJPEG(t, halves(500, 400)), [][2]int{{320, 256}, {500, 400}}},
		{"640×480 png", encodePNG(t, halves(640, 480)), [][2]int{{320, 240}, {640, 480}}},
		{"200×200 jpeg", encodeJPEG(t, halves(200, 200)), [][2]int{{200, 200}}},
	} {
		ds := mustProcess(t, tc.in)
		got := sizes(ds)
		if len(got) != len(tc.want) {
			t.Errorf("%s: sizes %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i][0] != tc.want[i][0] || absInt(got[i][1]-tc.want[i][1]) > 1 {
				t.Errorf("%s: sizes %v, want %v (heights ±1)", tc.name, got, tc.want)
			}
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want [][2]int
	}{
		{3000, 2000, [][2]int{{320, 213}, {640, 427}, {1280, 853}}},
		{1280, 720, [][2]int{{320, 180}, {640, 360}, {1280, 720}}},
		{1281, 720, [][2]int{{320, 180}, {640, 360}, {1280, 719}}},
		{640, 480, [][2]int{{320, 240}, {640, 480}}},
		{500, 400, [][2]int{{320, 256}, {500, 400}}},
		{320, 5000, [][2]int{{320, 5000}}},
		{200, 300, [][2]int{{200, 300}}},
		{65535, 200, [][2]int{{320, 1}, {640, 2}, {1280, 4}}},
	} {
		var got [][2]int
		for _, p := range plan(tc.w, tc.h) {
			got = append(got, [2]int{p.X, p.Y})
		}
		if !equalSizes(got, tc.want) {
			t.Errorf("plan(%d, %d) = %v, want %v", tc.w, tc.h, got, tc.want)
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, b := range [][]byte{encodeJPEG(t, halves(199, 400)), encodePNG(t, halves(400, 150))} {
		if _, err := Process(bytes.NewReader(b)); !errors.Is(err, ErrTooSmall) {
			t.Errorf("err = %v, want ErrTooSmall", err)
		}
	}
}

func TestAlphaIsFlattenedOntoWhite(t *testing.T) {
	t.Parallel()
	m := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			switch {
			case x < 200: // transparent, with a colour that must not show
				m.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 0})
			default:
				m.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255})
			}
		}
	}
	for y := 250; y < 300; y++ { // half-transparent black: grey on white
		for x := 0; x < 200; x++ {
			m.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 128})
		}
	}
	ds := mustProcess(t, encodePNG(t, m))
	if got := sizes(ds); !equalSizes(got, [][2]int{{320, 240}, {400, 300}}) {
		t.Fatalf("sizes %v", got)
	}
	for _, d := range ds {
		out := decodeDerivative(t, d)
		s := float64(d.Width) / 400
		if c := colourAt(out, int(100*s), int(100*s)); c != "white" {
			t.Errorf("%d px: transparent area is %s, want white", d.Width, c)
		}
		if c := colourAt(out, int(300*s), int(100*s)); c != "blue" {
			t.Errorf("%d px: opaque area is %s, want blue", d.Width, c)
		}
		r, g, b, _ := out.At(int(100*s), int(275*s)).RGBA()
		for _, v := range []uint32{r >> 8, g >> 8, b >> 8} {
			if v < 110 || v > 145 {
				t.Errorf("%d px: half-transparent black is (%d, %d, %d), want grey near 127", d.Width, r>>8, g>>8, b>>8)
				break
			}
		}
	}
}

func TestPNGColourModels(t *testing.T) {
	t.Parallel()
	r := image.Rect(0, 0, 300, 200)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{0, 0, 0, 0}, red})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 2)
	}
	for name, m := range map[string]image.Image{
		"gray":     image.NewGray(r),
		"gray16":   image.NewGray16(r),
		"rgba64":   image.NewRGBA64(r),
		"nrgba64":  image.NewNRGBA64(r),
		"paletted": pal,
	} {
		ds, err := Process(bytes.NewReader(encodePNG(t, m)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := sizes(ds); !equalSizes(got, [][2]int{{300, 200}}) {
			t.Errorf("%s: sizes %v", name, got)
		}
	}
}

func TestMalformedExifIsIgnored(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	good := buildTIFF(le, []tiffEntry{{tag: 0x010F, typ: 2, count: 4, data: []byte("Cam\x00")}, orientationEntry(le, 6)}, nil)
	set := func(b []byte, off int, v []byte) []byte {
		c := append([]byte{}, b...)
		copy(c[off:], v)
		return c
	}
	const ifd0 = 8
	const entry2 = ifd0 + 2 + 12 // the orientation entry
	cases := map[string][]byte{
		"truncated IFD":               good[:entry2+6],
		"IFD offset past the end":     set(good, 4, le.AppendUint32(nil, 0xFFFFFFF0)),
		"IFD offset into the header":  set(good, 4, le.AppendUint32(nil, 2)),
		"IFD offset just past end":    set(good, 4, le.AppendUint32(nil, uint32(len(good)-1))),
		"entry count huge":            set(good[:entry2], ifd0, le.AppendUint16(nil, 0xFFFF)),
		"byte order unknown":          set(good, 0, []byte("XX")),
		"magic not 42":                set(good, 2, le.AppendUint16(nil, 43)),
		"orientation 0":               set(good, entry2+8, le.AppendUint16(nil, 0)),
		"orientation 9":               set(good, entry2+8, le.AppendUint16(nil, 9)),
		"orientation 65535":           set(good, entry2+8, le.AppendUint16(nil, 0xFFFF)),
		"orientation as ASCII":        set(good, entry2+2, le.AppendUint16(nil, 2)),
		"orientation count huge":      set(good, entry2+4, le.AppendUint32(nil, 0xFFFFFFFF)),
		"TIFF header only":            good[:8],
		"shorter than a TIFF header":  good[:5],
		"no TIFF at all":              nil,
		"mixed byte order":            set(good, 0, []byte("MM")),
		"random bytes":                bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 40),
		"IFD offset 0xFFFFFFFF":       set(good, 4, []byte{0xFF, 0xFF, 0xFF, 0xFF}),
		"entry count huge and offset": set(set(good, 4, le.AppendUint32(nil, uint32(len(good)-2))), len(good)-2, []byte{0xFF, 0xFF}),
	}
	jpg := encodeJPEG(t, halves(320, 200))
	asStored := [][2]int{{320, 200}}
	for name, tiff := range cases {
		if tiffOrientation(tiff) != 1 {
			t.Errorf("%s: orientation %d, want 1", name, tiffOrientation(tiff))
		}
		ds, err := Process(bytes.NewReader(withExif(t, jpg, tiff)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, d := range ds {
			checkClean(t, d)
		}
		if got := sizes(ds); !equalSizes(got, asStored) {
			t.Errorf("%s: sizes %v, want the photo as stored", name, got)
		}
	}
	// An APP1 that says "Exif" without the two NUL bytes is not EXIF.
	ds := mustProcess(t, withAPP1(t, jpg, append([]byte("Exif"), good...)))
	if got := sizes(ds); !equalSizes(got, asStored) {
		t.Errorf("Exif without NULs: sizes %v", got)
	}
	if tiffOrientation(good) != 6 {
		t.Fatalf("the well-formed case reads as %d, want 6", tiffOrientation(good))
	}
}

// TestOrientationReadersOnEveryPrefix feeds every prefix of files holding
// EXIF to the readers: none may panic.
func TestOrientationReadersOnEveryPrefix(t *testing.T) {
	tiff := gpsTIFF(binary.BigEndian, 6)
	jpg := withExif(t, encodeJPEG(t, halves(16, 16)), tiff)
	p := withPNGChunk(t, encodePNG(t, halves(16, 16)), pngChunk("eXIf", tiff))
	if jpegOrientation(jpg) != 6 || pngOrientation(p) != 6 || tiffOrientation(tiff) != 6 {
		t.Fatal("orientation not found in the whole files")
	}
	for i := range len(jpg) {
		jpegOrientation(jpg[:i])
	}
	for i := range len(p) {
		pngOrientation(p[:i])
	}
	for i := range len(tiff) {
		tiffOrientation(tiff[:i])
	}
}

func TestConcurrentProcessing(t *testing.T) {
	in := withExif(t, encodeJPEG(t, quadrants(400, 300)), gpsTIFF(binary.LittleEndian, 8))
	want := mustProcess(t, in)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := Process(bytes.NewReader(in))
			if err != nil {
				t.Error(err)
				return
			}
			for i := range got {
				if !bytes.Equal(got[i].JPEG, want[i].JPEG) {
					t.Error("concurrent runs gave different derivatives")
				}
			}
		})
	}
	wg.Wait()
}

func TestSilhouette(t *testing.T) {
	t.Parallel()
	a := Silhouette(42, 300, 500)
	if b := a.Bounds(); b != image.Rect(0, 0, 300, 500) {
		t.Fatalf("bounds %v, want 300×500", b)
	}
	if !bytes.Equal(a.(*image.RGBA).Pix, Silhouette(42, 300, 500).(*image.RGBA).Pix) {
		t.Error("the same seed gave different images")
	}
	if bytes.Equal(a.(*image.RGBA).Pix, Silhouette(43, 300, 500).(*image.RGBA).Pix) {
		t.Error("different seeds gave the same image")
	}
	if !a.(*image.RGBA).Opaque() {
		t.Error("silhouette is not opaque")
	}
	// The figure is in the middle, the background at the top corners.
	if a.At(150, 480) == a.At(5, 5) {
		t.Error("no figure at the bottom centre")
	}
	for _, size := range [][2]int{{0, 0}, {-3, 10}, {1, 1}} {
		if b := Silhouette(1, size[0], size[1]).Bounds(); b.Dx() != max(size[0], 0) || b.Dy() != max(size[1], 0) {
			t.Errorf("Silhouette(%v) bounds %v", size, b)
		}
	}

	ds := mustProcess(t, encodePNG(t, Silhouette(7, 400, 500)))
	if got := sizes(ds); !equalSizes(got, [][2]int{{320, 400}, {400, 500}}) {
		t.Errorf("sizes %v", got)
	}
}

func equalSizes(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// pngHeader is the start of a PNG declaring w×h pixels of the given bit
// depth and colour type, with no pixel data: enough for DecodeConfig.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestDecodeBudget: a 40-megapixel 16-bit PNG would decode to 320 MB and
// is refused before a pixel is decoded; the same size in 8 bits fits the
// budget and goes on to decoding (which this header-only file then fails).
func TestDecodeBudget(t *testing.T) {
	if _, err := Process(bytes.NewReader(pngHeader(6400, 6250, 16, 6))); !errors.Is(err, ErrTooMuchMemory) {
		t.Errorf("40 MP 16-bit RGBA PNG: %v, want ErrTooMuchMemory", err)
	}
	if _, err := Process(bytes.NewReader(pngHeader(6400, 6250, 8, 6))); errors.Is(err, ErrTooMuchMemory) || !errors.Is(err, ErrFormat) {
		t.Errorf("40 MP 8-bit RGBA PNG without pixels: %v, want ErrFormat from decoding", err)
	}
}

// TestBudgetWaits: photos decoding at once never reserve more than the
// budget together; one that does not fit waits until another is done.
func TestBudgetWaits(t *testing.T) {
	b := budget{limit: 100}
	b.acquire(60)
	got := make(chan bool)
	go func() { b.acquire(60); got <- true }()
	select {
	case <-got:
		t.Fatal("160 of 100 reserved at once")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(60)
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the second photo never got its turn")
	}
	if b.used != 60 {
		t.Errorf("used %d, want 60", b.used)
	}
}
