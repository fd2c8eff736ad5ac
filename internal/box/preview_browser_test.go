package box_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/school"
)

// TestBrowserPreviewWhileTyping types a formula into a textarea with
// data-preview in a real Chromium and waits for web/static/preview.js to
// show it rendered by the box; then, with the box stopped, the preview says
// it is not available offline. The studio's editor pages (which carry such
// textareas) are not part of this test: it adds one to the teach page.
func TestBrowserPreviewWhileTyping(t *testing.T) {
	browsertest.Need(t)
	o := newOffBox(t) // a box that can be stopped
	base := o.url("")
	const pw = "preview-pw-12"
	if _, err := o.db().CreateUser(context.Background(), "", school.RoleTeacher, "nazira", "Назира", auth.Hash(pw)); err != nil {
		t.Fatal(err)
	}
	br := startBrowser(t, 120*time.Second)
	tb := br.tab(t, "teacher", chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.open(base+"/lang/ru?next=/login", "/login")
	tb.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "nazira"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
	)
	tb.submit(`form[action^="/login"] button[type=submit]`, "/teach")
	// A textarea as the studio's editor has one, inside a form with the
	// page's CSRF token, and preview.js loaded as a page loads it.
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(function(){
		var csrf = document.querySelector('input[name="csrf"]').value;
		var f = document.createElement('form');
		f.innerHTML = '<input type="hidden" name="csrf" value="' + csrf + '"><textarea id="src" lang="tg" data-preview="out"></textarea><div id="out"></div>';
		document.querySelector('main').appendChild(f);
		var js = document.querySelector('script[src*="/static/"]').getAttribute('src').replace(/[^\/]*$/, 'preview.js');
		var s = document.createElement('script'); s.src = js; document.body.appendChild(s);
		var css = document.createElement('link'); css.rel = 'stylesheet'; css.href = js.replace(/preview\.js$/, 'vendor/katex/katex.min.css');
		document.head.appendChild(css);
		return true;
	})()`)); err != nil {
		t.Fatalf("add a textarea: %v", err)
	}
	tb.waitJS(`window.stemboxPreview !== undefined`)
	tb.do(chromedp.SendKeys(chromedp.CSS(`#src`), `Суръат $v = \frac{s}{t}$ ва $\href{http://x}{y}$`))
	tb.waitJS(`document.querySelector('#out .katex mfrac') !== null`)
	tb.waitText(`#out .tex-error`, `\href нельзя использовать в формуле`)
	if got := tb.attr(`#out .preview`, "lang"); got != "tg" {
		t.Errorf("preview's lang %q, want the textarea's tg", got)
	}
	shots := browsertest.NewShots(t, "preview", "")
	(&shooter{shots}).take(tb, "typed")

	// The box goes away: the next keystrokes say the preview is offline.
	o.stop()
	tb.do(chromedp.SendKeys(chromedp.CSS(`#src`), ` $x^2$`))
	tb.waitText(`#out`, "Предпросмотр недоступен без связи с сервером")
}
