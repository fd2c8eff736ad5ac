package picture

import (
	"image"
	"image/draw"
	"math"
)

// resize returns src scaled to w×h (never larger than src) with a
// Catmull-Rom filter widened by the scale factor, so that a photo scaled
// down several times is smooth and not aliased, computed in premultiplied
// RGBA.
//
// It is separable and streams: each source row is converted to RGBA and
// filtered horizontally once, into a ring of as many rows as the vertical
// filter spans; so beside src and the result it holds only a few rows.
// (golang.org/x/image/draw's Kernel.Scale holds a float64 ×4 buffer of
// w × src's height, 280 MB for a 40 MP photo, which the box cannot pay.)
func resize(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == sw && h == sh {
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
		return dst
	}
	cols, rows := weights(sw, w), weights(sh, h)
	taps, end := 0, 0 // the ring must hold every row from a span's first to the last one filtered
	for _, r := range rows {
		end = max(end, r.first+len(r.w))
		taps = max(taps, end-r.first)
	}
	line := image.NewRGBA(image.Rect(0, 0, sw, 1)) // one source row as RGBA
	ring := make([][]float32, taps)                // rows filtered horizontally: row y in ring[y%taps]
	for i := range ring {
		ring[i] = make([]float32, 4*w)
	}
	next := 0 // the next source row to filter horizontally
	acc := make([]float32, 4*w)
	for y, r := range rows {
		for ; next < r.first+len(r.w); next++ {
			draw.Draw(line, line.Bounds(), src, image.Pt(b.Min.X, b.Min.Y+next), draw.Src)
			filterRow(ring[next%taps], line.Pix, cols)
		}
		clear(acc)
		for k, wt := range r.w {
			row := ring[(r.first+k)%taps]
			for i, v := range row {
				acc[i] += wt * v
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := 0; x < w; x++ {
			a := clamp8(acc[4*x+3])
			out[4*x+3] = a
			for c := range 3 { // premultiplied: a colour is never above its alpha
				out[4*x+c] = min(clamp8(acc[4*x+c]), a)
			}
		}
	}
	return dst
}

func filterRow(dst []float32, pix []uint8, cols []span) {
	for x, c := range cols {
		var r, g, b, a float32
		p := pix[4*c.first:]
		for k, wt := range c.w {
			r += wt * float32(p[4*k])
			g += wt * float32(p[4*k+1])
			b += wt * float32(p[4*k+2])
			a += wt * float32(p[4*k+3])
		}
		dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = r, g, b, a
	}
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// span is one output pixel's source pixels: first, and their weights.
type span struct {
	first int
	w     []float32
}

// weights maps n source pixels onto m ≤ n output pixels: each output pixel
// takes the source pixels under a Catmull-Rom kernel stretched by n/m,
// weights normalised to sum to one.
func weights(n, m int) []span {
	scale := max(float64(n)/float64(m), 1)
	support := 2 * scale
	out := make([]span, m)
	var ws []float64
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(int(math.Floor(center-support)), 0)
		hi := min(int(math.Ceil(center+support)), n)
		ws = ws[:0]
		sum := 0.0
		for j := lo; j < hi; j++ {
			v := catmullRom((float64(j) + 0.5 - center) / scale)
			ws = append(ws, v)
			sum += v
		}
		for len(ws) > 1 && ws[0] == 0 { // drop zero weights at the ends
			ws, lo = ws[1:], lo+1
		}
		for len(ws) > 1 && ws[len(ws)-1] == 0 {
			ws = ws[:len(ws)-1]
		}
		s := span{first: lo, w: make([]float32, len(ws))}
		for k, v := range ws {
			s.w[k] = float32(v / sum)
		}
		out[i] = s
	}
	return out
}

func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

// orient turns a picture stored with EXIF orientation o (1–8) upright.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 { // 5–8 swap the sides
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // mirrored, turned
				sx, sy = y, x
			case 6: // stored turned left: turn right
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8: // stored turned right: turn left
				sx, sy = w-1-y, x
			}
			copy(dst.Pix[dst.PixOffset(x, y):][:4], src.Pix[src.PixOffset(sx, sy):][:4])
		}
	}
	return dst
}
