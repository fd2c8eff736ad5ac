package katex_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/katex"
)

// MustNew returns a Renderer or fails the test.
func MustNew(tb testing.TB) *katex.Renderer {
	tb.Helper()
	r, err := katex.New()
	if err != nil {
		tb.Fatalf("katex.New: %v", err)
	}
	return r
}

func TestRender(t *testing.T) {
	r := MustNew(t)
	tests := []struct {
		name    string
		tex     string
		display bool
		want    []string // substrings of the HTML
	}{
		{"fraction", `v = \frac{s}{t}`, false, []string{`class="mfrac"`, `<mfrac>`, `<mi>s</mi>`}},
		{"sqrt", `\sqrt{2}`, false, []string{`sqrt"`, `<msqrt>`}},
		{"superscript", `E = mc^2`, false, []string{`class="msupsub"`, `<msup><mi>c</mi><mn>2</mn></msup>`}},
		{"subscript", `v_0`, false, []string{`<msub><mi>v</mi><mn>0</mn></msub>`}},
		{"cyrillic text", `v = 5\,\text{м/с}`, false, []string{`<mtext>м/с</mtext>`, `>м</span>`, `>с</span>`}},
		{"tajik text", `\text{ҳ} = 2`, false, []string{`<mtext>ҳ</mtext>`}},
		{"cyrillic in math", `F = 10\,Н`, false, []string{`Н`}},
		{"display", `F = m a`, true, []string{`<span class="katex-display">`, `display="block"`}},
		{"tex annotation escaped", `a < b`, false, []string{`<annotation encoding="application/x-tex">a &lt; b</annotation>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Render(tt.tex, tt.display)
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.tex, err)
			}
			if !strings.HasPrefix(got, `<span class="katex`) {
				t.Errorf("Render(%q) = %.80q…, want it to start with a katex span", tt.tex, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tt.tex, got, w)
				}
			}
			if strings.Contains(got, "katex-error") {
				t.Errorf("Render(%q) contains a katex-error span: %q", tt.tex, got)
			}
			if !tt.display && strings.Contains(got, "katex-display") {
				t.Errorf("Render(%q, false) is display math: %q", tt.tex, got)
			}
		})
	}
}

func TestRenderError(t *testing.T) {
	r := MustNew(t)
	tests := []struct {
		tex  string
		want string // substring of the message after "KaTeX parse error: "
	}{
		{`\frac{1}{`, "Unexpected end of input"},
		{`x^}`, "Expected group after '^'"},
		{`\notacommand{x}`, `Undefined control sequence: \notacommand`},
	}
	for _, tt := range tests {
		got, err := r.Render(tt.tex, false)
		var pe *katex.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Render(%q) = %q, %v; want a *katex.ParseError", tt.tex, got, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "KaTeX parse error: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Render(%q) error = %q, want \"KaTeX parse error: …%s…\"", tt.tex, err, tt.want)
		}
	}
}

// TestRenderUntrusted checks that commands trust refuses are errors rather
// than KaTeX's red text.
func TestRenderUntrusted(t *testing.T) {
	r := MustNew(t)
	for _, tex := range []string{
		`\href{https://example.org}{x}`,
		`\url{https://example.org}`,
		`\htmlClass{evil}{x}`,
		`\htmlId{evil}{x}`,
		`\htmlStyle{color:red}{x}`,
		`\htmlData{a=b}{x}`,
		`\includegraphics[height=1em]{https://example.org/x.png}`,
	} {
		got, err := r.Render(tex, false)
		var pe *katex.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Render(%q) = %.60q…, %v; want a *katex.ParseError", tex, got, err)
			continue
		}
		cmd := tex[:strings.IndexAny(tex, "[{")]
		if want := cmd + " is not allowed in a formula"; err.Error() != want {
			t.Errorf("Render(%q) error = %q, want %q", tex, err, want)
		}
	}
	// The refusal of one call does not leak into the next.
	if _, err := r.Render(`x`, false); err != nil {
		t.Errorf("Render(x) after a refused command: %v", err)
	}
}

// TestRenderConsole checks the console shim: \message writes to console.log.
func TestRenderConsole(t *testing.T) {
	r := MustNew(t)
	if _, err := r.Render(`\message{hello} x`, false); err != nil {
		t.Errorf(`Render(\message{hello} x): %v, want no error`, err)
	}
}

func TestRenderConcurrent(t *testing.T) {
	r := MustNew(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 6 {
				tex := fmt.Sprintf(`\frac{%d}{%d} + \text{м/с}`, g, i)
				got, err := r.Render(tex, i%2 == 0)
				if err != nil {
					errs <- fmt.Errorf("Render(%q): %w", tex, err)
					return
				}
				if want := fmt.Sprintf("<mn>%d</mn>", i); !strings.Contains(got, want) {
					errs <- fmt.Errorf("Render(%q) lacks %q: mixed up with another call?", tex, want)
					return
				}
			}
			if _, err := r.Render(`\frac{`, false); err == nil {
				errs <- errors.New(`Render(\frac{) gave no error`)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVersion(t *testing.T) {
	if got := katex.Version(); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(got) {
		t.Errorf("Version() = %q, want a semantic version", got)
	}
	// New checks katex.version against VERSION, so this only has to succeed.
	MustNew(t)
}

// TestVendoredStylesheet checks that the stylesheet the box serves is the
// same KaTeX version as the renderer and that it names only woff2 fonts, all
// present.
func TestVendoredStylesheet(t *testing.T) {
	dir := filepath.Join("..", "..", "web", "static", "vendor", "katex")
	v, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(v)), katex.Version(); got != want {
		t.Errorf("web KaTeX version = %q, want %q (run make vendor-katex)", got, want)
	}
	css, err := os.ReadFile(filepath.Join(dir, "katex.min.css"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(css), `"`+katex.Version()+`"`) {
		t.Errorf("katex.min.css does not carry version %s", katex.Version())
	}
	urls := regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(string(css), -1)
	if len(urls) == 0 {
		t.Fatal("katex.min.css names no fonts")
	}
	for _, m := range urls {
		u := strings.Trim(m[1], `"'`)
		if !strings.HasSuffix(u, ".woff2") {
			t.Errorf("katex.min.css names %s, want only .woff2 fonts", u)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(u))); err != nil {
			t.Errorf("katex.min.css names %s: %v", u, err)
		}
	}
}

func TestRenderCached(t *testing.T) {
	r := MustNew(t)
	inline, err := r.Render(`x^2`, false)
	if err != nil {
		t.Fatal(err)
	}
	display, err := r.Render(`x^2`, true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Render(`x^2`, false)
	if err != nil {
		t.Fatal(err)
	}
	if again != inline {
		t.Errorf("second Render(x^2, false) = %q, want %q", again, inline)
	}
	if display == inline {
		t.Error("Render(x^2, true) = Render(x^2, false): display mode not part of the cache key")
	}
	if _, err := r.Render(`\frac{`, false); err == nil {
		t.Error(`Render(\frac{) gave no error`)
	}
	if _, err := r.Render(`\frac{`, false); err == nil {
		t.Error(`second Render(\frac{) gave no error: errors must not be cached as results`)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := katex.New(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	r := MustNew(b)
	formulas := []struct {
		tex     string
		display bool
	}{
		{`v = \frac{s}{t}`, false},
		{`a = \frac{v - v_0}{t}`, true},
		{`F = m a`, false},
		{`s = v_0 t + \frac{a t^2}{2}`, true},
		{`v = 20\,\text{м/с}`, false},
	}
	for i := 0; b.Loop(); i++ {
		for _, f := range formulas {
			// A new formula every time, so the cache does not answer.
			if _, err := r.Render(fmt.Sprintf("%s + %d", f.tex, i), f.display); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(formulas)), "µs/formula")
}
