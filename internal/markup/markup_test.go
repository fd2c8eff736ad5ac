package markup_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/markup"
)

var (
	sharedOnce sync.Once
	shared     *markup.Renderer
	sharedErr  error
)

// MustRenderer returns a Renderer shared by the tests of this package (a
// katex.Renderer is safe for concurrent use and costs some ms to make).
func MustRenderer(tb testing.TB) *markup.Renderer {
	tb.Helper()
	sharedOnce.Do(func() {
		k, err := katex.New()
		shared, sharedErr = markup.New(k), err
	})
	if sharedErr != nil {
		tb.Fatalf("katex.New: %v", sharedErr)
	}
	return shared
}

// MustRead returns the contents of a file in testdata.
func MustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// katexSpan matches the HTML KaTeX makes of one formula, capturing whether it
// is display math and its TeX (from the MathML annotation, HTML-escaped).
var katexSpan = regexp.MustCompile(`(?s)<span class="katex(-display)?">(?:<span class="katex">)?<span class="katex-mathml">.*?<annotation encoding="application/x-tex">(.*?)</annotation>`)

// formulas lists the formulas in html as "$tex$" or "$$tex$$".
func formulas(html string) []string {
	var fs []string
	for _, m := range katexSpan.FindAllStringSubmatch(html, -1) {
		if m[1] != "" {
			fs = append(fs, "$$"+m[2]+"$$")
		} else {
			fs = append(fs, "$"+m[2]+"$")
		}
	}
	return fs
}

// resolveMedia is a ResolveLink like the pack builder's: media/ paths must be
// in files and move under /media/p/, web links stay as they are.
func resolveMedia(files ...string) func(string) (string, error) {
	return func(dest string) (string, error) {
		if strings.HasPrefix(dest, "https://") || strings.HasPrefix(dest, "http://") {
			return dest, nil
		}
		for _, f := range files {
			if dest == f {
				return "/media/p/" + strings.TrimPrefix(dest, "media/"), nil
			}
		}
		return "", fmt.Errorf("no file %s in the pack", dest)
	}
}

func TestLesson(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		opt       markup.Options
		wantTitle string
		want      []string // substrings of the HTML
		wantNot   []string // strings the HTML must not contain
		wantMath  []string // the formulas in the HTML, in order (nil: not checked)
	}{
		{
			name:      "title removed and formulas",
			src:       "# Speed\n\nSpeed is $v = \\frac{s}{t}$.\n",
			wantTitle: "Speed",
			want:      []string{"<p>Speed is <span class=\"katex\">", "</span>.</p>"},
			wantNot:   []string{"<h1", "Speed</h1>", "$"},
			wantMath:  []string{`$v = \frac{s}{t}$`},
		},
		{
			name:      "title is not the first block",
			src:       "Intro.\n\n# Title *with* `code` and $v_0$\n\nText.\n",
			wantTitle: "Title with code and v_0",
			want:      []string{"<p>Intro.</p>", "<p>Text.</p>"},
			wantNot:   []string{"<h1"},
		},
		{
			name:      "byte order mark",
			src:       "\ufeff# Скорость\n\nText.\n",
			wantTitle: "Скорость",
			want:      []string{"<p>Text.</p>"},
			wantNot:   []string{"\ufeff"},
		},
		{
			name:      "setext title",
			src:       "Forces\n======\n\nText.\n",
			wantTitle: "Forces",
			wantNot:   []string{"<h1"},
		},
		{
			name:      "second level-1 heading stays",
			src:       "# One\n\n# Two\n",
			wantTitle: "One",
			want:      []string{`<h1 id="two">Two</h1>`},
		},
		{
			name:      "display math on its own lines is a block",
			src:       "# T\n\nBefore\n$$\nF = m a\n$$\nafter.\n",
			want:      []string{"<p>Before</p>\n<span class=\"katex-display\">", "</span>\n<p>after.</p>"},
			wantNot:   []string{"<p><span class=\"katex-display\">", "Before\n</p>"},
			wantMath:  []string{`$$F = m a$$`},
			wantTitle: "T",
		},
		{
			name:      "display math paragraph",
			src:       "# T\n\n$$E = mc^2$$\n\nText.\n",
			want:      []string{"<span class=\"katex-display\">", "</span>\n<p>Text.</p>"},
			wantNot:   []string{"<p><span"},
			wantMath:  []string{`$$E = mc^2$$`},
			wantTitle: "T",
		},
		{
			name:      "display math inside a line stays in its paragraph",
			src:       "# T\n\nso $$a = b$$ holds.\n",
			want:      []string{"<p>so <span class=\"katex-display\">", "</span> holds.</p>"},
			wantMath:  []string{`$$a = b$$`},
			wantTitle: "T",
		},
		{
			name:      "display math in a list and a quote",
			src:       "# T\n\n- $$x^2$$\n- y\n\n> $$z$$\n",
			want:      []string{"<li>\n<span class=\"katex-display\">", "<blockquote>\n<span class=\"katex-display\">"},
			wantMath:  []string{`$$x^2$$`, `$$z$$`},
			wantTitle: "T",
		},
		{
			name:      "inline formula over two lines",
			src:       "# T\n\nunits: $\\text{m/s} \\cdot \\text{s} =\n\\text{m}$ and more.\n",
			want:      []string{"units: <span class=\"katex\">", "</span> and more."},
			wantMath:  []string{"$\\text{m/s} \\cdot \\text{s} =\n\\text{m}$"},
			wantTitle: "T",
		},
		{
			name:      "code span and code block keep dollars",
			src:       "# T\n\nRun `echo $HOME and $x$` now.\n\n```\nprice = $5 + $x$\n```\n\n    $$y$$\n",
			want:      []string{"<code>echo $HOME and $x$</code>", "<pre><code>price = $5 + $x$\n</code></pre>", "<pre><code>$$y$$\n</code></pre>"},
			wantNot:   []string{"katex"},
			wantTitle: "T",
		},
		{
			name:      "escaped and lone dollars",
			src:       "# T\n\nIt costs \\$5, from $5 to $10, and $\\$3 + x$.\n",
			want:      []string{"It costs $5, from $5 to $10, and <span class=\"katex\">"},
			wantMath:  []string{`$\$3 + x$`},
			wantTitle: "T",
		},
		{
			name:      "dollar next to a space or a digit does not close",
			src:       "# T\n\n$a $b$ and $1$2 and $ c$\n",
			want:      []string{"<p>$a <span class=\"katex\">", "</span> and $1$2 and $ c$</p>"},
			wantMath:  []string{`$b$`},
			wantTitle: "T",
		},
		{
			name:      "emphasis characters inside a formula",
			src:       "# T\n\n$a_1 * b_2 * c$ and *em*\n",
			want:      []string{"<em>em</em>"},
			wantNot:   []string{"<em>1"},
			wantMath:  []string{`$a_1 * b_2 * c$`},
			wantTitle: "T",
		},
		{
			name:      "raw HTML is escaped",
			src:       "# T\n\nHi <script>alert(1)</script> <b onclick=\"x()\">b</b>.\n\n<script>\nalert(2)\n</script>\n\n<div>block</div>\n",
			want:      []string{"Hi &lt;script&gt;alert(1)&lt;/script&gt; &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt;.", "<p>&lt;script&gt;\nalert(2)\n&lt;/script&gt;</p>", "<p>&lt;div&gt;block&lt;/div&gt;</p>"},
			wantNot:   []string{"<script", "<b ", "<div"},
			wantTitle: "T",
		},
		{
			name:      "HTML comments are dropped",
			src:       "# T\n\n<!-- translator: check this -->\n\nText <!-- inline note --> here.\n",
			want:      []string{"<p>Text  here.</p>"},
			wantNot:   []string{"translator", "note", "&lt;!--"},
			wantTitle: "T",
		},
		{
			name:      "dangerous link destinations are dropped",
			src:       "# T\n\n[x](javascript:alert(1)) ![y](data:text/html;base64,xx)\n",
			want:      []string{`<a href="">x</a>`, `<img src="" alt="y" loading="lazy">`},
			wantNot:   []string{"javascript", "data:"},
			wantTitle: "T",
		},
		{
			name:      "images are lazy and keep alt text",
			src:       "# T\n\n![A ball on a *slope*](media/slope.svg \"The slope\")\n",
			opt:       markup.Options{ResolveLink: resolveMedia("media/slope.svg")},
			want:      []string{`<p><img src="/media/p/slope.svg" alt="A ball on a slope" title="The slope" loading="lazy"></p>`},
			wantTitle: "T",
		},
		{
			name: "links go through ResolveLink",
			src: "# T\n\nSee [the figure](media/fig.svg), [the web](https://example.org/a?b=1&c=2), " +
				"<https://example.org/auto> and [ref][r].\n\n[r]: media/fig.svg\n",
			opt: markup.Options{ResolveLink: resolveMedia("media/fig.svg")},
			want: []string{`<a href="/media/p/fig.svg">the figure</a>`, `<a href="https://example.org/a?b=1&amp;c=2">the web</a>`,
				`<a href="https://example.org/auto">https://example.org/auto</a>`, `<a href="/media/p/fig.svg">ref</a>`},
			wantTitle: "T",
		},
		{
			name:      "headings get stable unique ids",
			src:       "# T\n\n## Units of *speed*\n\n## Единицы измерения\n\n### Units of speed\n\n## $v$ = s/t!\n\n## ...\n",
			want:      []string{`<h2 id="units-of-speed">`, `<h2 id="единицы-измерения">`, `<h3 id="units-of-speed-2">`, `<h2 id="v-s-t">`, `<h2 id="section">`},
			wantTitle: "T",
		},
		{
			name:      "table with formulas",
			src:       "# T\n\n| Body | $v$, m/s |\n|---|--:|\n| walker | $1{,}5$ |\n",
			want:      []string{"<table>", `<th align="right"><span class="katex">`, `<td align="right"><span class="katex">`},
			wantMath:  []string{`$v$`, `$1{,}5$`},
			wantTitle: "T",
		},
	}
	r := MustRenderer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := r.Lesson([]byte(tt.src), tt.opt)
			if err != nil {
				t.Fatalf("Lesson: %v", err)
			}
			if doc.Title != tt.wantTitle {
				t.Errorf("Title = %q, want %q", doc.Title, tt.wantTitle)
			}
			checkHTML(t, doc.HTML, tt.want, tt.wantNot, tt.wantMath)
		})
	}
}

// checkHTML checks html for the wanted substrings and formulas; the
// formulas' markup is left out of the substring checks.
func checkHTML(t *testing.T, html string, want, wantNot, wantMath []string) {
	t.Helper()
	text := stripKaTeX(html)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("HTML lacks %q:\n%s", w, text)
		}
	}
	for _, w := range wantNot {
		if strings.Contains(text, w) {
			t.Errorf("HTML contains %q:\n%s", w, text)
		}
	}
	if wantMath != nil {
		got := formulas(html)
		if strings.Join(got, "\n") != strings.Join(wantMath, "\n") {
			t.Errorf("formulas = %q, want %q", got, wantMath)
		}
	}
}

// stripKaTeX replaces the inside of every KaTeX formula with "…", so that
// tests can look at the markup around it.
func stripKaTeX(html string) string {
	var b strings.Builder
	for {
		i := strings.Index(html, `<span class="katex`)
		if i < 0 {
			b.WriteString(html)
			return b.String()
		}
		b.WriteString(html[:i])
		// Find the span's end by counting nested spans.
		depth, j := 0, i
		for {
			open := strings.Index(html[j:], "<span")
			end := strings.Index(html[j:], "</span>")
			if open >= 0 && open < end {
				depth++
				j += open + len("<span")
				continue
			}
			depth--
			j += end + len("</span>")
			if depth == 0 {
				break
			}
		}
		outer := html[i:j]
		if strings.HasPrefix(outer, `<span class="katex-display">`) {
			b.WriteString(`<span class="katex-display">…</span>`)
		} else {
			b.WriteString(`<span class="katex">…</span>`)
		}
		html = html[j:]
	}
}

func TestLessonCyrillic(t *testing.T) {
	tests := []struct {
		file      string
		wantTitle string
		want      []string
		wantMath  []string
	}{
		{
			file:      "speed.ru.md",
			wantTitle: "Скорость",
			want: []string{"<p>Скорость показывает, какой путь", `<h2 id="единицы-измерения">Единицы измерения</h2>`,
				"проходит за секунду</p>\n<span class=\"katex-display\">",
				`<img src="/media/p/bus.svg" alt="Автобус на дороге" loading="lazy">`, "<td>Пешеход</td>"},
			wantMath: []string{`$v = \frac{s}{t}$`, `$s$`, `$t$`, `$\text{м/с}$`, `$72\,\text{км/ч}$`,
				`$$v = \frac{72\,000\,\text{м}}{3600\,\text{с}} = 20\,\text{м/с}.$$`, `$\text{м/с}$`, `$1{,}5$`, `$340$`},
		},
		{
			file:      "speed.tg.md",
			wantTitle: "Суръат",
			want:      []string{"Суръат нишон медиҳад, ки ҷисм", `<h2 id="воҳидҳои-ченак">Воҳидҳои ченак</h2>`, "дода мешаванд.</p>\n<span class=\"katex-display\">"},
			wantMath: []string{`$v = \frac{s}{t}$`, `$\text{м/с}$`, `$F = m \cdot a$`, `$m$`, `$a$`, `$\text{ҳ}$`,
				`$\text{ғ, қ, ҷ, ӣ, ӯ}$`, `$$F = 10\,\text{Н}$$`},
		},
	}
	r := MustRenderer(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := r.Lesson(MustRead(t, tt.file), markup.Options{ResolveLink: resolveMedia("media/bus.svg")})
			if err != nil {
				t.Fatalf("Lesson: %v", err)
			}
			if doc.Title != tt.wantTitle {
				t.Errorf("Title = %q, want %q", doc.Title, tt.wantTitle)
			}
			checkHTML(t, doc.HTML, tt.want, nil, tt.wantMath)
			// The Cyrillic in \text{} is set as text, not as an error.
			if strings.Contains(doc.HTML, "katex-error") || strings.Contains(doc.HTML, "#cc0000") {
				t.Errorf("HTML has a KaTeX error: %s", doc.HTML)
			}
		})
	}
}

func TestLessonErrors(t *testing.T) {
	errResolve := errors.New("no such file")
	tests := []struct {
		name string
		src  string
		opt  markup.Options
		want string // the whole error message, or its start when it ends in "…"
	}{
		{
			name: "no title",
			src:  "## Only a subheading\n\nText.\n",
			want: "markup: no title: a lesson starts with a level-1 heading, # Title",
		},
		{
			name: "empty source",
			src:  "",
			want: "markup: no title: …",
		},
		{
			name: "title inside a quote does not count",
			src:  "> # Quoted\n",
			want: "markup: no title: …",
		},
		{
			name: "empty title",
			src:  "Intro\n\n#\n",
			want: "markup: line 3: the title heading is empty",
		},
		{
			name: "bad inline formula",
			src:  "# Title\n\nOne.\n\nTwo\nthree $x$ and\nfour $\\frac{1}{$ five.\n",
			want: `markup: line 7: formula "\frac{1}{": KaTeX parse error: …`,
		},
		{
			name: "bad display formula names its first line",
			src:  "# Title\n\n$$\nx^{2\n$$\n",
			want: `markup: line 3: formula "x^{2": KaTeX parse error: …`,
		},
		{
			name: "bad formula in a table",
			src:  "# T\n\n| a |\n|---|\n| $\\sqrt[$ |\n",
			want: `markup: line 5: formula "\sqrt[": KaTeX parse error: …`,
		},
		{
			name: "untrusted command",
			src:  "# T\n\n$\\href{https://example.org}{x}$\n",
			want: `markup: line 3: formula "\href{https://example.org}{x}": \href is not allowed in a formula`,
		},
		{
			name: "unclosed display math",
			src:  "# T\n\nText\n$$ x = 1\n\nMore.\n",
			want: "markup: line 4: $$ without a closing $$ in its paragraph",
		},
		{
			name: "link resolver error",
			src:  "# T\n\nText.\n\n![A bus](media/missing.svg)\n",
			opt:  markup.Options{ResolveLink: func(string) (string, error) { return "", errResolve }},
			want: `markup: line 5: image "media/missing.svg": no such file`,
		},
		{
			name: "link resolver error for a link",
			src:  "# T\n\n[x](../outside.md)\n",
			opt:  markup.Options{ResolveLink: resolveMedia()},
			want: `markup: line 3: link "../outside.md": no file ../outside.md in the pack`,
		},
		{
			name: "image without alt text",
			src:  "# T\n\n![](media/bus.svg)\n",
			want: `markup: line 3: image "media/bus.svg" has no alt text: …`,
		},
	}
	r := MustRenderer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := r.Lesson([]byte(tt.src), tt.opt)
			if err == nil {
				t.Fatalf("Lesson = %+v, want error %q", doc, tt.want)
			}
			checkError(t, err, tt.want)
		})
	}
	// The resolver's error is wrapped, not replaced.
	_, err := r.Lesson([]byte("# T\n\n![A](x.svg)\n"), markup.Options{ResolveLink: func(string) (string, error) { return "", errResolve }})
	if !errors.Is(err, errResolve) {
		t.Errorf("Lesson error %v does not wrap the resolver's error", err)
	}
	// A KaTeX error is a *katex.ParseError.
	_, err = r.Lesson([]byte("# T\n\n$x^$\n"), markup.Options{})
	var pe *katex.ParseError
	if !errors.As(err, &pe) {
		t.Errorf("Lesson error %v does not wrap a *katex.ParseError", err)
	}
}

// checkError checks err's message: want is all of it, or its start when it
// ends in "…".
func checkError(t *testing.T, err error, want string) {
	t.Helper()
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("error = %q, want it to start with %q", err, prefix)
		}
		return
	}
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestInline(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		want     string // whole result, formulas stripped to <span class="katex">…</span>
		wantMath []string
	}{
		{"plain", "60 km/h", "60 km/h", nil},
		{"empty", "", "", nil},
		{"formula without <p>", "Use $v = s/t$.", `Use <span class="katex">…</span>.`, []string{`$v = s/t$`}},
		{"cyrillic", "Используйте $v = s/t$, ответ в $\\text{м/с}$.", `Используйте <span class="katex">…</span>, ответ в <span class="katex">…</span>.`,
			[]string{`$v = s/t$`, `$\text{м/с}$`}},
		{"markdown", "A *bus* travels `120 km`.", "A <em>bus</em> travels <code>120 km</code>.", nil},
		{"two lines, one paragraph", "first\nsecond", "first\nsecond", nil},
		{"two paragraphs keep <p>", "First.\n\nSecond $x$.", "<p>First.</p>\n<p>Second <span class=\"katex\">…</span>.</p>", []string{`$x$`}},
		{"display alone", "$$F = ma$$", `<span class="katex-display">…</span>`, []string{`$$F = ma$$`}},
		{"list", "- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>", nil},
		{"script escaped", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", nil},
		{"inline script escaped", "x <script>alert(1)</script>", "x &lt;script&gt;alert(1)&lt;/script&gt;", nil},
		{"escaped dollar", "costs \\$5", "costs $5", nil},
		{"image", "![Весы](media/scales.svg)", `<img src="/media/p/scales.svg" alt="Весы" loading="lazy">`, nil},
	}
	r := MustRenderer(t)
	opt := markup.Options{ResolveLink: resolveMedia("media/scales.svg")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Inline(tt.src, opt)
			if err != nil {
				t.Fatalf("Inline(%q): %v", tt.src, err)
			}
			if s := stripKaTeX(got); s != tt.want {
				t.Errorf("Inline(%q) = %q, want %q", tt.src, s, tt.want)
			}
			if fs := formulas(got); strings.Join(fs, "\n") != strings.Join(tt.wantMath, "\n") {
				t.Errorf("Inline(%q) formulas = %q, want %q", tt.src, fs, tt.wantMath)
			}
		})
	}
}

func TestInlineErrors(t *testing.T) {
	r := MustRenderer(t)
	tests := []struct {
		src  string
		opt  markup.Options
		want string
	}{
		{"Bad $x^$ here", markup.Options{}, `markup: line 1: formula "x^": KaTeX parse error: …`},
		{"Line one\n\nline $\\frac{a}$ three", markup.Options{}, `markup: line 3: formula "\frac{a}": KaTeX parse error: …`},
		{"See ![a map](media/map.svg)", markup.Options{ResolveLink: resolveMedia()}, `markup: line 1: image "media/map.svg": no file media/map.svg in the pack`},
	}
	for _, tt := range tests {
		got, err := r.Inline(tt.src, tt.opt)
		if err == nil {
			t.Errorf("Inline(%q) = %q, want error %q", tt.src, got, tt.want)
			continue
		}
		checkError(t, err, tt.want)
	}
}

// TestConcurrent renders from several goroutines at once (run with -race).
func TestConcurrent(t *testing.T) {
	r := MustRenderer(t)
	src := MustRead(t, "speed.ru.md")
	want, err := r.Lesson(src, markup.Options{ResolveLink: resolveMedia("media/bus.svg")})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := r.Lesson(src, markup.Options{ResolveLink: resolveMedia("media/bus.svg")})
			if err != nil || got != want {
				t.Errorf("concurrent Lesson = %.60q…, %v; want the same as alone", got.HTML, err)
			}
			if _, err := r.Inline("$x^$", markup.Options{}); err == nil {
				t.Error("concurrent Inline($x^$) gave no error")
			}
		})
	}
	wg.Wait()
}

func TestFormulaErrorRendersTheRest(t *testing.T) {
	r := MustRenderer(t)
	var got []string
	opt := markup.Options{FormulaError: func(tex string, display bool, err error) string {
		got = append(got, fmt.Sprintf("%s|%v|%v", tex, display, err != nil))
		return `<span class="bad">!</span>`
	}}
	html, err := r.Inline("Good $x^2$, bad $\\frac{1}{$ and $\\href{http://x}{y}$.\n\n$$a+\n", opt)
	if err != nil {
		t.Fatalf("with FormulaError: %v, want the rest rendered", err)
	}
	if n := strings.Count(html, `<span class="bad">!</span>`); n != 3 {
		t.Errorf("%d formulas replaced, want 3; html:\n%s", n, html)
	}
	if !strings.Contains(html, `class="katex"`) || !strings.Contains(html, "Good") {
		t.Errorf("the good formula or text is missing:\n%s", html)
	}
	want := []string{`\frac{1}{|false|true`, `\href{http://x}{y}|false|true`, "a+|true|true"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("FormulaError got %q, want %q", got, want)
	}
	if _, err := r.Inline("bad $\\frac{1}{$", markup.Options{}); err == nil {
		t.Error("without FormulaError a bad formula rendered, want an error (pack builds fail)")
	}
}
