package photo

import (
	"image"
	"image/color"
	"math"
)

// Silhouette draws a demo image: an abstract head-and-shoulders silhouette (never a face: no eyes, mouth
// or features), in soft colours picked deterministically from seed, w×h, with a diagonal "DEMO" band
// drawn as simple geometric strokes (no font files needed). Used by `familylinks seed-demo`.
//
// The same seed and size always give the same image.
// A non-positive w or h gives an empty image.
func Silhouette(seed int64, w, h int) image.Image {
	w, h = max(w, 0), max(h, 0)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == 0 || h == 0 {
		return img
	}

	rng := splitmix(uint64(seed))
	hue := float64(rng.next()%360) / 360
	shift := float64(20+rng.next()%40) / 360
	bg := hsl(hue, 0.35, 0.86)
	figure := hsl(math.Mod(hue+shift, 1), 0.22, 0.56)
	band := color.RGBA{255, 255, 255, 255}
	ink := hsl(math.Mod(hue+shift, 1), 0.30, 0.34)

	s := float64(min(w, h))
	cx := float64(w) / 2
	// Proportions, with a little seeded variety.
	headY := float64(h)*0.40 + s*(float64(rng.next()%7)-3)/100
	headRX := s * (0.15 + float64(rng.next()%4)/100)
	headRY := headRX * 1.25
	neckW := headRX * 0.75
	shoulderTop := headY + headRY*0.85
	shoulderRX := s * (0.40 + float64(rng.next()%6)/100)
	shoulderRY := s * 0.22

	inFigure := func(x, y float64) bool {
		dx, dy := (x-cx)/headRX, (y-headY)/headRY
		if dx*dx+dy*dy <= 1 { // head
			return true
		}
		if math.Abs(x-cx) <= neckW/2 && y >= headY && y <= shoulderTop+shoulderRY { // neck
			return true
		}
		cy := shoulderTop + shoulderRY // shoulders: a rounded top, straight down to the edge
		if y >= cy {
			return math.Abs(x-cx) <= shoulderRX
		}
		dx, dy = (x-cx)/shoulderRX, (y-cy)/shoulderRY
		return dx*dx+dy*dy <= 1
	}

	// The band runs from the bottom-left corner to the top-right one.
	diag := math.Hypot(float64(w), float64(h))
	ux, uy := float64(w)/diag, -float64(h)/diag // along the band
	vx, vy := -uy, ux                           // across it, pointing down-right
	mx, my := float64(w)/2, float64(h)/2
	bandHalf := s * 0.09
	unit := bandHalf * 1.2 / 7 // letter grid: 5 units wide, 7 tall
	const letterGap = 2.0
	textStart := -(4*5 + 3*letterGap) / 2 * unit
	stroke := unit * 0.55

	inLetters := func(u, v float64) bool {
		// Into letter grid coordinates: gx to the right, gy down.
		gx := (u - textStart) / unit
		gy := v/unit + 3.5
		if gy < -1 || gy > 8 || gx < -1 || gx > 4*5+3*letterGap+1 {
			return false
		}
		r := stroke / unit
		for i, strokes := range demoLetters {
			lx := gx - float64(i)*(5+letterGap)
			if lx < -1 || lx > 6 {
				continue
			}
			for _, line := range strokes {
				for k := 0; k+1 < len(line); k++ {
					if segDist(lx, gy, line[k], line[k+1]) <= r {
						return true
					}
				}
			}
		}
		return false
	}

	// Two-by-two supersampling softens the edges.
	offsets := [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, b float64
			for _, o := range offsets {
				px, py := float64(x)+o[0], float64(y)+o[1]
				c := bg
				if inFigure(px, py) {
					c = figure
				}
				u := (px-mx)*ux + (py-my)*uy
				v := (px-mx)*vx + (py-my)*vy
				if math.Abs(v) <= bandHalf {
					c = mix(c, band, 0.55)
					if inLetters(u, v) {
						c = ink
					}
				}
				r += float64(c.R)
				g += float64(c.G)
				b += float64(c.B)
			}
			i := img.PixOffset(x, y)
			img.Pix[i+0] = uint8(r/4 + 0.5)
			img.Pix[i+1] = uint8(g/4 + 0.5)
			img.Pix[i+2] = uint8(b/4 + 0.5)
			img.Pix[i+3] = 255
		}
	}
	return img
}

type point struct{ x, y float64 }

// demoLetters are D, E, M and O as polylines on a 5×7 grid, y down.
var demoLetters = [4][][]point{
	{{{0, 0}, {0, 7}}, {{0, 0}, {3, 0}, {5, 2}, {5, 5}, {3, 7}, {0, 7}}},
	{{{5, 0}, {0, 0}, {0, 7}, {5, 7}}, {{0, 3.5}, {4, 3.5}}},
	{{{0, 7}, {0, 0}, {2.5, 3.5}, {5, 0}, {5, 7}}},
	{{{1, 0}, {4, 0}, {5, 1}, {5, 6}, {4, 7}, {1, 7}, {0, 6}, {0, 1}, {1, 0}}},
}

// segDist is the distance from (x, y) to the segment a–b.
func segDist(x, y float64, a, b point) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((x-a.x)*dx+(y-a.y)*dy)/l))
	}
	return math.Hypot(x-(a.x+t*dx), y-(a.y+t*dy))
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	f := func(p, q uint8) uint8 { return uint8(float64(p)*(1-t) + float64(q)*t + 0.5) }
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 255}
}

// hsl converts hue, saturation and lightness (all 0 to 1) to a colour.
func hsl(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	hp := h * 6
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return color.RGBA{to(r), to(g), to(b), 255}
}

// splitmix is SplitMix64: a tiny generator whose output is fixed by its
// definition, so demo images never change between Go releases.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133b111f
	return z ^ (z >> 31)
}
