package discovery

import (
	"fmt"
	"html"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QR is a QR code as modules, with the 4-module quiet zone a reader needs
// around it.
type QR struct {
	size int
	dark []bool
}

// NewQR encodes text (a URL) at the medium error-correction level, which
// survives a smudged projector screen and keeps the code small.
func NewQR(text string) (*QR, error) {
	code, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("discovery: QR code: %w", err)
	}
	bm := code.Bitmap() // call once: the library encodes anew on every call
	q := &QR{size: len(bm), dark: make([]bool, len(bm)*len(bm))}
	for y, row := range bm {
		if len(row) != q.size {
			return nil, fmt.Errorf("discovery: QR code: row %d has %d modules, not %d", y, len(row), q.size)
		}
		copy(q.dark[y*q.size:], row)
	}
	return q, nil
}

// Size is the number of modules on a side, quiet zone included.
func (q *QR) Size() int { return q.size }

// Dark says whether the module at column x, row y is dark.
func (q *QR) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= q.size || y >= q.size {
		return false // the quiet zone goes on forever
	}
	return q.dark[y*q.size+x]
}

// Terminal draws the code with half-block characters, two rows of modules
// a line, so it is square in a terminal. The characters draw dark modules;
// with ansi, every line also sets black on white, so the code reads right on
// a dark terminal too. Without it, a dark terminal shows the code inverted,
// which most phone cameras still read.
func (q *QR) Terminal(ansi bool) string {
	var b strings.Builder
	for y := 0; y < q.size; y += 2 {
		if ansi {
			b.WriteString("\x1b[30;107m")
		}
		for x := 0; x < q.size; x++ {
			switch top, bottom := q.Dark(x, y), q.Dark(x, y+1); {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		if ansi {
			b.WriteString("\x1b[0m")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// SVG draws the code as an SVG image, one module a unit, dark runs of each
// row as one rectangle of a single path; label says what it encodes, for
// screen readers. It scales to any size without blurring.
func (q *QR) SVG(label string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		q.size, q.size, html.EscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, q.size, q.size)
	for y := 0; y < q.size; y++ {
		for x := 0; x < q.size; {
			if !q.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for q.Dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}
