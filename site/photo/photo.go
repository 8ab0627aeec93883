// Package photo turns an uploaded Trace the Face photo into the JPEG
// derivatives the gallery serves.
//
// What Process guarantees:
//
//   - It reads at most MaxBytes+1 bytes of the upload, whatever the reader
//     holds behind them.
//   - It accepts only JPEG and PNG, told apart by their magic bytes; a file
//     name or Content-Type is never consulted.
//   - It reads the declared dimensions with image.DecodeConfig and refuses an
//     image over MaxPixels before any pixel is decoded, so a decompression
//     bomb costs a few kilobytes, not gigabytes.
//   - It applies the EXIF orientation of a JPEG (APP1 Exif) or PNG (eXIf
//     chunk), read with a small bounds-checked TIFF reader: a malformed EXIF
//     block is ignored, never a panic.
//   - Every derivative is freshly encoded by image/jpeg from pixels alone:
//     no EXIF, GPS, XMP, ICC, comment or other metadata of the upload
//     survives, and the original bytes are never returned or kept. (Without
//     the ICC profile, a wide-gamut photo looks a little less saturated.)
//   - Derivatives are opaque RGB (alpha is flattened onto white), keep the
//     aspect ratio and are never upscaled.
//   - The memory the decoded pixels take is estimated from the declared
//     size and colour model before decoding (4 bytes a pixel for 8-bit
//     colour, 8 for 16-bit, twice that for an interlaced PNG, which Go
//     decodes pass by pass), and all the photos being decoded at once
//     together with the scaling buffers, stay within DecodeBudget: an
//     image that alone would need more is refused (ErrTooMuchMemory), one
//     that fits waits for room. A 40-megapixel 16-bit PNG, which decodes to
//     320 MB, is refused; a 40-megapixel 8-bit photo is processed alone.
//   - A large photo is first shrunk by averaging blocks of pixels, then
//     scaled with Catmull-Rom, whose buffer would otherwise be as tall as
//     the photo (256 MB for 40 megapixels).
//
// Errors meant for the person uploading (ErrTooLarge, ErrTooManyPixels,
// ErrTooMuchMemory, ErrFormat, ErrTooSmall) may be wrapped with detail: test them with
// errors.Is.
package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // registers the PNG decoder; JPEG comes with image/jpeg
	"io"
	"runtime"
	"sync"

	"golang.org/x/image/draw"
)

// Limits.
const (
	MaxBytes  = 10 << 20   // 10 MB upload
	MaxPixels = 40_000_000 // 40 megapixels
	Quality   = 80         // JPEG quality of the derivatives
	MinSide   = 200        // shorter side, in pixels, below which a photo is refused
)

// maxSide is the largest width or height image/jpeg can encode.
const maxSide = 65535

// pixelLimit is MaxPixels; the fuzz target lowers it so that an input
// costs milliseconds, not the seconds a 40 MP photo takes. Nothing else
// changes it.
var pixelLimit = MaxPixels

// Widths of the derivatives, smallest first.
func Widths() []int { return []int{320, 640, 1280} }

// Derivative is one re-encoded JPEG.
type Derivative struct {
	Width, Height int
	JPEG          []byte
}

// Errors the site turns into a clear 4xx for staff.
var (
	ErrTooLarge      = errors.New("photo: the file is larger than 10 MB")
	ErrTooManyPixels = errors.New("photo: the image is larger than 40 megapixels")
	ErrFormat        = errors.New("photo: the file is not a JPEG or PNG image that can be read")
	ErrTooSmall      = errors.New("photo: the image is smaller than 200 pixels on its shorter side")
	ErrTooMuchMemory = errors.New("photo: the image needs too much memory to process; save it with 8 bits per colour, or smaller")
)

// Refusal says why a photo was refused, for the person who uploaded it,
// when err is one of the errors above; ok is false for any other error
// (a failure of the site, not of the photo).
func Refusal(err error) (why string, ok bool) {
	for _, r := range []struct {
		err error
		why string
	}{
		{ErrTooLarge, "the file is larger than 10 MB"},
		{ErrTooManyPixels, "the image is larger than 40 megapixels"},
		{ErrFormat, "the file is not a JPEG or PNG image that can be read"},
		{ErrTooSmall, "the image is smaller than 200 pixels on its shorter side"},
		{ErrTooMuchMemory, "the image needs too much memory to process; save it with 8 bits per colour, or smaller"},
	} {
		if errors.Is(err, r.err) {
			return r.why, true
		}
	}
	return "", false
}

// DecodeBudget is the memory, in bytes, that the decoded pixels and the
// scaling buffers of all the photos being processed at once may take
// together: a 40 MP 8-bit RGBA PNG needs about 170 MB, so it is processed
// alone. With the 64 KB bodies of every other
// route and three password checks of 19 MiB, it keeps a replica under
// 300 MB however many uploads arrive.
const DecodeBudget = 200 << 20

// decoding is the memory reserved by the photos being decoded now.
var decoding = budget{limit: DecodeBudget}

// budget is a counting semaphore of bytes.
type budget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	used  int64
	limit int64
}

func (b *budget) acquire(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cond == nil {
		b.cond = sync.NewCond(&b.mu)
	}
	for b.used+n > b.limit {
		b.cond.Wait()
	}
	b.used += n
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// decodedBytes estimates the memory image.Decode takes for an image of
// this configuration: bytes a pixel by colour model (JPEG's YCbCr counted
// as 4:4:4, its worst case), doubled for an interlaced PNG.
func decodedBytes(cfg image.Config, format string, data []byte) int64 {
	bpp := int64(8)
	switch cfg.ColorModel {
	case color.GrayModel:
		bpp = 1
	case color.Gray16Model:
		bpp = 2
	case color.YCbCrModel:
		bpp = 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		bpp = 4
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
	}
	n := int64(cfg.Width) * int64(cfg.Height) * bpp
	// The IHDR chunk's interlace method is byte 28 of a PNG.
	if format == fmtPNG && len(data) > 28 && data[28] == 1 {
		n *= 2
	}
	return n
}

const (
	fmtJPEG = "jpeg"
	fmtPNG  = "png"
)

// Process turns an upload into derivatives, smallest first.
//
// It reads at most MaxBytes+1 bytes from r (more is ErrTooLarge), accepts
// only JPEG or PNG by their magic bytes (anything else is ErrFormat), reads
// the dimensions with image.DecodeConfig and refuses more than MaxPixels
// (ErrTooManyPixels) or a shorter side under MinSide (ErrTooSmall) before
// decoding. It then decodes, applies the EXIF orientation, scales with
// Catmull-Rom to each width in Widths, flattens alpha onto white and encodes
// JPEG at Quality. An image narrower than a width gives one derivative at
// its own width instead, and none is upscaled. A read error from r is
// returned wrapped, and is none of the package's errors.
//
// Process is safe for concurrent use; it waits while the photos being
// decoded leave too little of DecodeBudget.
func Process(r io.Reader) ([]Derivative, error) {
	data, format, err := readUpload(r)
	if err != nil {
		return nil, err
	}

	// Dimensions first: nothing is decoded before they are known to be sane.
	cfg, cfgFormat, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if cfgFormat != format {
		return nil, fmt.Errorf("%w: looks like %s, decodes as %s", ErrFormat, format, cfgFormat)
	}
	if err := checkDims(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	orientation := 1
	switch format {
	case fmtJPEG:
		orientation = jpegOrientation(data)
	case fmtPNG:
		orientation = pngOrientation(data)
	}

	with, after := workBytes(cfg.Width, cfg.Height, orientation)
	need := max(decodedBytes(cfg, format, data)+with, after)
	if need > DecodeBudget {
		return nil, fmt.Errorf("%w: %d×%d needs about %d MB", ErrTooMuchMemory, cfg.Width, cfg.Height, need>>20)
	}
	decoding.acquire(need)
	defer func() {
		// A large photo's buffers are garbage now: collect them before
		// the next photo may take their room, so the budget is what the
		// process holds, not what it has yet to collect.
		if need > 32<<20 {
			runtime.GC()
		}
		decoding.release(need)
	}()

	img, imgFormat, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if imgFormat != format || img.Bounds().Dx() != cfg.Width || img.Bounds().Dy() != cfg.Height {
		return nil, fmt.Errorf("%w: the decoded image does not match its header", ErrFormat)
	}
	return derive(img, orientation)
}

// readUpload reads at most MaxBytes+1 bytes and sniffs the format.
func readUpload(r io.Reader) ([]byte, string, error) {
	var head [8]byte
	n, err := io.ReadFull(r, head[:])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return nil, "", fmt.Errorf("%w: only %d bytes", ErrFormat, n)
	case err != nil:
		return nil, "", fmt.Errorf("photo: reading the upload: %w", err)
	}
	format := sniff(head[:])
	if format == "" {
		return nil, "", fmt.Errorf("%w: unknown signature % x", ErrFormat, head[:4])
	}
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head[:]), r), MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("photo: reading the upload: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, "", ErrTooLarge
	}
	return data, format, nil
}

// sniff names the format from the magic bytes, or returns "".
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return fmtJPEG
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return fmtPNG
	}
	return ""
}

// checkDims applies the pixel limits to declared dimensions, without
// overflowing whatever the values.
func checkDims(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: declared size %d×%d", ErrFormat, w, h)
	}
	if w > pixelLimit/h { // same as w*h > pixelLimit, for positive integers
		return fmt.Errorf("%w: %d×%d", ErrTooManyPixels, w, h)
	}
	if w > maxSide || h > maxSide {
		return fmt.Errorf("%w: %d×%d (a side is longer than %d px)", ErrTooManyPixels, w, h, maxSide)
	}
	if w < MinSide || h < MinSide {
		return fmt.Errorf("%w: %d×%d", ErrTooSmall, w, h)
	}
	return nil
}

// plan returns the derivative sizes for an image that is ow×oh once
// oriented: one per width in Widths, never wider than the image, without
// duplicates.
func plan(ow, oh int) []image.Point {
	var sizes []image.Point
	for _, w := range Widths() {
		if w > ow {
			w = ow
		}
		if len(sizes) > 0 && sizes[len(sizes)-1].X >= w {
			continue
		}
		h := int((int64(oh)*int64(w)*2 + int64(ow)) / (2 * int64(ow))) // rounded
		sizes = append(sizes, image.Pt(w, max(h, 1)))
	}
	return sizes
}

// plannedSizes returns the derivative sizes of a w×h image with this EXIF
// orientation, and the largest one in the image's own orientation (before
// it is turned).
func plannedSizes(w, h, orientation int) (sizes []image.Point, sw, sh int) {
	ow, oh := w, h
	if transposes(orientation) {
		ow, oh = oh, ow
	}
	sizes = plan(ow, oh)
	top := sizes[len(sizes)-1]
	sw, sh = top.X, top.Y
	if transposes(orientation) {
		sw, sh = sh, sw
	}
	return sizes, sw, sh
}

// derive scales, orients, flattens and encodes.
func derive(img image.Image, orientation int) ([]Derivative, error) {
	sb := img.Bounds()
	// The largest derivative comes from the decoded image: scaled in the
	// image's own orientation onto white (which flattens any alpha), then
	// turned. The smaller ones are scaled from it.
	sizes, sw, sh := plannedSizes(sb.Dx(), sb.Dy(), orientation)
	largest := image.NewRGBA(image.Rect(0, 0, sw, sh))
	draw.Draw(largest, largest.Bounds(), image.White, image.Point{}, draw.Src)
	if k := shrinkFactor(sb.Dx(), sb.Dy(), sw, sh); k > 1 {
		// Catmull-Rom keeps a float64 RGBA buffer as wide as the result
		// and as tall as its source (256 MB for a 40 MP photo): average
		// k×k blocks first, and scale the smaller image.
		img = boxShrink(img, k)
		sb = img.Bounds()
		// The decoded photo is garbage now: collect it before the
		// scaling buffer is made, so the two are never held at once
		// (pixels hold no pointers, so this costs little).
		runtime.GC()
	}
	if sw == sb.Dx() && sh == sb.Dy() {
		draw.Draw(largest, largest.Bounds(), img, sb.Min, draw.Over)
	} else {
		draw.CatmullRom.Scale(largest, largest.Bounds(), img, sb, draw.Over, nil)
	}
	oriented := orient(largest, orientation)

	out := make([]Derivative, len(sizes))
	for i, size := range sizes {
		m := oriented
		if i < len(sizes)-1 {
			m = image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
			draw.CatmullRom.Scale(m, m.Bounds(), oriented, oriented.Bounds(), draw.Src, nil)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: Quality}); err != nil {
			return nil, fmt.Errorf("photo: encoding the %d px derivative: %w", size.X, err)
		}
		out[i] = Derivative{Width: size.X, Height: size.Y, JPEG: buf.Bytes()}
	}
	return out, nil
}

// shrinkFactor is the k by which a w×h image is first shrunk by averaging
// k×k blocks before it is scaled to tw×th: the result is at most about
// 1.25 times the target, never smaller than it.
func shrinkFactor(w, h, tw, th int) int {
	k := min((4*w+5*tw-1)/(5*tw), (4*h+5*th-1)/(5*th)) // ceil(w / 1.25tw)
	return max(1, min(k, w/tw, h/th))
}

// boxShrink averages k×k blocks of src into a new RGBA image (dropping the
// last w mod k columns and h mod k rows). It reads src k rows at a time
// through an RGBA strip, so it never holds a second full-size copy.
func boxShrink(src image.Image, k int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx()/k, b.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	strip := image.NewRGBA(image.Rect(0, 0, w*k, k))
	sums := make([]uint32, 4*w)
	n := uint32(k * k)
	for y := range h {
		draw.Draw(strip, strip.Bounds(), src, image.Pt(b.Min.X, b.Min.Y+y*k), draw.Src)
		clear(sums)
		for sy := range k {
			row := strip.Pix[sy*strip.Stride : sy*strip.Stride+4*w*k]
			for x := range w * k {
				d := 4 * (x / k)
				sums[d] += uint32(row[4*x])
				sums[d+1] += uint32(row[4*x+1])
				sums[d+2] += uint32(row[4*x+2])
				sums[d+3] += uint32(row[4*x+3])
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i, v := range sums {
			out[i] = uint8((v + n/2) / n)
		}
	}
	return dst
}

// workBytes estimates the memory derive needs for a w×h image besides
// the decoded one: the shrunk copy, held with the decoded image while it is
// made, then with Catmull-Rom's buffer of float64 RGBA values (as wide as
// the largest derivative and as tall as its source) and the derivative.
// It returns what is held beside the decoded image, and what after it.
func workBytes(w, h int, orientation int) (with, after int64) {
	_, sw, sh := plannedSizes(w, h, orientation)
	k := shrinkFactor(w, h, sw, sh)
	scale := 32*int64(sw)*int64(h/k) + 8*int64(sw)*int64(sh)
	if k == 1 {
		return scale, 0
	}
	shrunk := 4 * int64(w/k) * int64(h/k)
	return shrunk, shrunk + scale
}

// transposes reports whether an EXIF orientation swaps width and height.
func transposes(orientation int) bool { return orientation >= 5 && orientation <= 8 }

// orient returns src turned as EXIF orientation asks (1 to 8; anything
// else leaves it alone). src must have its origin at (0, 0).
func orient(src *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if transposes(orientation) {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for sy := 0; sy < h; sy++ {
		row := src.Pix[sy*src.Stride : sy*src.Stride+4*w]
		for sx := 0; sx < w; sx++ {
			var dx, dy int
			switch orientation {
			case 2: // mirrored left to right
				dx, dy = w-1-sx, sy
			case 3: // turned 180°
				dx, dy = w-1-sx, h-1-sy
			case 4: // mirrored top to bottom
				dx, dy = sx, h-1-sy
			case 5: // transposed
				dx, dy = sy, sx
			case 6: // to be turned 90° clockwise
				dx, dy = h-1-sy, sx
			case 7: // transversed
				dx, dy = h-1-sy, w-1-sx
			case 8: // to be turned 90° anticlockwise
				dx, dy = sy, w-1-sx
			}
			o := dy*dst.Stride + 4*dx
			copy(dst.Pix[o:o+4], row[4*sx:4*sx+4])
		}
	}
	return dst
}

// jpegOrientation returns the EXIF orientation (1 to 8) of a JPEG, or 1 if
// it has none or it cannot be read. It walks the marker segments up to the
// start of scan and reads the first APP1 segment holding Exif.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return 1
		}
		marker := b[p+1]
		switch {
		case marker == 0xFF: // fill byte
			p++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8): // no length
			p += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if n < 2 || p+2+n > len(b) {
			return 1
		}
		seg := b[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// pngOrientation returns the orientation held by a PNG eXIf chunk, or 1.
func pngOrientation(b []byte) int {
	p := 8
	for p+12 <= len(b) {
		n := uint64(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n > uint64(len(b)-p-12) {
			return 1
		}
		switch typ {
		case "eXIf":
			return tiffOrientation(b[p+8 : p+8+int(n)])
		case "IEND":
			return 1
		}
		p += 12 + int(n)
	}
	return 1
}

// tiffOrientation reads tag 0x0112 (Orientation) from IFD0 of a TIFF
// structure in either byte order. Anything out of bounds or unexpected
// gives 1.
func tiffOrientation(b []byte) int {
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(b[2:]) != 42 {
		return 1
	}
	ifd := uint64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > uint64(len(b)) {
		return 1
	}
	count := uint64(bo.Uint16(b[ifd:]))
	for i := uint64(0); i < count; i++ {
		e := ifd + 2 + 12*i
		if e+12 > uint64(len(b)) {
			return 1
		}
		entry := b[e : e+12]
		if bo.Uint16(entry) != 0x0112 {
			continue
		}
		if bo.Uint32(entry[4:]) != 1 {
			return 1
		}
		var v uint32
		switch bo.Uint16(entry[2:]) {
		case 3: // SHORT
			v = uint32(bo.Uint16(entry[8:]))
		case 4: // LONG
			v = bo.Uint32(entry[8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
