package discovery

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"
)

func TestQRMatchesTheLibrary(t *testing.T) {
	const url = "http://192.0.2.1:8080/"
	q, err := NewQR(url)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := qrcode.New(url, qrcode.Medium)
	bm := code.Bitmap()
	if q.Size() != len(bm) {
		t.Fatalf("size %d, want %d", q.Size(), len(bm))
	}
	for y := range bm {
		for x := range bm[y] {
			if q.Dark(x, y) != bm[y][x] {
				t.Fatalf("module (%d,%d) differs from the library's", x, y)
			}
		}
	}
	// The quiet zone is light on every side.
	for i := 0; i < q.Size(); i++ {
		for _, d := range []bool{q.Dark(i, 0), q.Dark(0, i), q.Dark(i, q.Size()-1), q.Dark(q.Size()-1, i), q.Dark(-1, i)} {
			if d {
				t.Fatal("a module of the quiet zone is dark")
			}
		}
	}
}

// The terminal rendering, read back two rows a character, gives the
// modules again.
func TestQRTerminalRoundTrip(t *testing.T) {
	q, err := NewQR("http://[2001:db8::5]:8080/")
	if err != nil {
		t.Fatal(err)
	}
	for _, ansi := range []bool{false, true} {
		out := q.Terminal(ansi)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if want := (q.Size() + 1) / 2; len(lines) != want {
			t.Fatalf("ansi=%v: %d lines, want %d", ansi, len(lines), want)
		}
		for i, line := range lines {
			if ansi {
				if !strings.HasPrefix(line, "\x1b[30;107m") || !strings.HasSuffix(line, "\x1b[0m") {
					t.Fatalf("line %d does not set and reset colours: %q", i, line)
				}
				line = strings.TrimSuffix(strings.TrimPrefix(line, "\x1b[30;107m"), "\x1b[0m")
			}
			if n := utf8.RuneCountInString(line); n != q.Size() {
				t.Fatalf("line %d has %d characters, want %d", i, n, q.Size())
			}
			for x, r := range []rune(line) {
				top := r == '█' || r == '▀'
				bottom := r == '█' || r == '▄'
				if top != q.Dark(x, 2*i) || bottom != q.Dark(x, 2*i+1) {
					t.Fatalf("ansi=%v: character %q at line %d column %d does not match the modules", ansi, r, i, x)
				}
			}
		}
	}
}

// The SVG is well-formed XML whose path covers exactly the dark modules.
func TestQRSVG(t *testing.T) {
	q, err := NewQR("http://stembox.local:8080/")
	if err != nil {
		t.Fatal(err)
	}
	svg := q.SVG(`http://x/?a=<b>&"c"`)
	var doc struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
		Label   string `xml:"aria-label,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("SVG is not XML: %v\n%s", err, svg)
	}
	if doc.Label != `http://x/?a=<b>&"c"` {
		t.Errorf("label = %q: not escaped and restored", doc.Label)
	}
	n := q.Size()
	dark := make([]bool, n*n)
	for _, cmd := range strings.Split(doc.Path.D, "z") {
		if cmd == "" {
			continue
		}
		var x, y, run, back int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &run, &back); err != nil || run != back || run < 1 {
			t.Fatalf("path command %q: %v", cmd, err)
		}
		for i := 0; i < run; i++ {
			if dark[y*n+x+i] {
				t.Fatalf("module (%d,%d) drawn twice", x+i, y)
			}
			dark[y*n+x+i] = true
		}
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark[y*n+x] != q.Dark(x, y) {
				t.Fatalf("SVG module (%d,%d) = %v, want %v", x, y, dark[y*n+x], q.Dark(x, y))
			}
		}
	}
}
