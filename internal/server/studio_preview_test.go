package server_test

import (
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/web"
)

// previewOf posts text to the preview as teacher, with the CSRF token of
// the teach page.
func previewOf(t *testing.T, d *device, csrf, text, lang string) response {
	t.Helper()
	return d.postForm("/teach/studio/preview", url.Values{"csrf": {csrf}, "text": {text}, "lang": {lang}})
}

func TestPreviewRendersFormulasAsPacksDo(t *testing.T) {
	b := mustRunServer(t)
	d := b.teacher(t, "en")
	csrf := d.csrf("/teach")
	r := previewOf(t, d, csrf, "Speed is $v = \\frac{s}{t}$.\n\n$$E = mc^2$$\n\n![A ramp](media/ab12.png)", "tg")
	wantStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	wantContains(t, r, `class="katex"`, `class="katex-display"`, "<mfrac>", `lang="tg"`,
		`src="/teach/studio/media/ab12.png"`, `alt="A ramp"`)
	wantLacks(t, r, "tex-error")
}

func TestPreviewShowsRefusedTeXInThePagesLanguage(t *testing.T) {
	b := mustRunServer(t)
	for _, tc := range []struct {
		lang           string
		href, undef    string
		mistake, other string
	}{
		{"en", "is not allowed in a formula", "a command KaTeX does not know", "This formula has a mistake.", "is not closed"},
		{"ru", "нельзя использовать в формуле", "команда, которую KaTeX не знает", "В формуле ошибка.", "не закрыт"},
		{"tg", "дар формула иҷозат нест", "фармоне, ки KaTeX намедонад", "Дар формула хато ҳаст.", "баста нашудааст"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			d := b.teacher(t, tc.lang)
			csrf := d.csrf("/teach")
			r := previewOf(t, d, csrf, "Good $x^2$, a link $\\href{http://evil}{x}$, a typo $\\fraq{1}{2}$, half $\\frac{1}{$.\n\n$$a+b", "en")
			wantStatus(t, r, 200)
			wantContains(t, r, `class="katex"`, `\href`, tc.href, `\fraq`, tc.undef, tc.mistake, tc.other)
			if n := strings.Count(r.body, `class="tex-error"`); n != 4 {
				t.Errorf("%d formulas shown as errors, want 4:\n%s", n, r.body)
			}
			if tc.lang != "en" {
				// KaTeX's English words may only be in the tooltip.
				shown := regexp.MustCompile(`title="[^"]*"`).ReplaceAllString(r.body, "")
				for _, en := range []string{"not allowed", "Undefined", "KaTeX parse error", "mistake"} {
					if strings.Contains(shown, en) {
						t.Errorf("%s preview shows English %q:\n%s", tc.lang, en, shown)
					}
				}
			}
		})
	}
}

func TestPreviewEscapesRawHTML(t *testing.T) {
	b := mustRunServer(t)
	d := b.teacher(t, "en")
	r := previewOf(t, d, d.csrf("/teach"), "<script>alert(1)</script> <img src=x onerror=alert(2)> $\\text{<b>}$ [x](javascript:alert(3))", "en")
	wantStatus(t, r, 200)
	wantLacks(t, r, "<script>", "<img src=x", "<b>", `href="javascript:`)
	wantContains(t, r, "&lt;script&gt;")
	// Inline HTML, and HTML inside a formula, are text too.
	r = previewOf(t, d, d.csrf("/teach"), "A <em onclick=x>word</em> and $\\text{<b>bold</b>}$.", "en")
	wantStatus(t, r, 200)
	wantContains(t, r, "&lt;em onclick=x&gt;", `class="katex"`)
	wantLacks(t, r, "<em", "<b>", "tex-error")
	// A javascript: link is refused, as a pack build refuses it.
	r = previewOf(t, d, d.csrf("/teach"), "[click](javascript:alert(3))", "en")
	wantStatus(t, r, 200)
	wantContains(t, r, "the link javascript:alert(3) is not allowed")
	wantLacks(t, r, "href=")
}

func TestPreviewRefusesTooLongText(t *testing.T) {
	b := mustRunServer(t)
	d := b.teacher(t, "ru")
	csrf := d.csrf("/teach")
	r := previewOf(t, d, csrf, strings.Repeat("a", 20<<10), "ru")
	wantStatus(t, r, 200)
	r = previewOf(t, d, csrf, strings.Repeat("a", 20<<10+1), "ru")
	wantStatus(t, r, 413)
	wantContains(t, r, "не более 20 КБ")
	r = previewOf(t, d, csrf, strings.Repeat("ж", 40<<10), "ru") // past the form's limit too
	wantStatus(t, r, 413)
	wantContains(t, r, "не более 20 КБ")
}

func TestPreviewIsForSignedInTeachersWithTheirForm(t *testing.T) {
	b := mustRunServer(t)
	anon := b.device(t, "tg")
	r := anon.postForm("/teach/studio/preview", url.Values{"text": {"$x$"}})
	wantStatus(t, r, 403)
	wantLacks(t, r, "katex")
	d := b.teacher(t, "en")
	d.csrf("/teach")
	r = previewOf(t, d, "not-the-token", "$x$", "en")
	wantStatus(t, r, 403)
	wantLacks(t, r, "katex")
	wantContains(t, r, "reload the page")
}

// preview.js says "not available offline" by itself, when the box cannot
// answer: its words must be the catalogue's.
func TestPreviewScriptSpeaksTheCataloguesWords(t *testing.T) {
	js, err := fs.ReadFile(web.Static, "static/preview.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ru", "tg"} {
		want := fmt.Sprintf("%s: '%s'", lang, i18n.T(lang, "preview.offline"))
		if !strings.Contains(string(js), want) {
			t.Errorf("preview.js lacks %s", want)
		}
	}
}
