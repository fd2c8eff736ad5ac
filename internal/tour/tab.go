package tour

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// tab is one user's tab, in a browser context of its own (its cookies);
// its methods end the tour on any error.
type tab struct {
	t    *tour
	name string
	lang string // the language its user reads
	size Size   // the screen its user has
	ctx  context.Context
}

// newTab opens a tab for a user of lang on a screen of size.
func (t *tour) newTab(name, lang string, size Size) *tab {
	ctx, _ := chromedp.NewContext(t.browser, chromedp.WithNewBrowserContext())
	tb := &tab{t: t, name: name, lang: lang, size: size, ctx: ctx}
	tb.do(emulate(size))
	// The language first, as a user picks it on the first page.
	tb.open("/lang/" + lang + "?next=/")
	return tb
}

func emulate(s Size) chromedp.Action[chromedp.Void] {
	if s.Phone {
		return chromedp.EmulateViewport(s.Width, s.Height, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(s.Width, s.Height)
}

func (tb *tab) failf(format string, args ...any) {
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	text, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ""`))
	tb.t.failf("%s on %s: %s\nthe page says:\n%s", tb.name, loc, fmt.Sprintf(format, args...), text)
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.failf("%v", err)
	}
}

// open loads a path of the box and wants a page (a 2xx status).
func (tb *tab) open(path string) { tb.follow(chromedp.Navigate(tb.t.base + path)) }

// follow runs steps that load a page and wants it to load with a 2xx status.
// A step that loads no page (a script took the form over) fails after 30 s.
func (tb *tab) follow(steps ...chromedp.Action[chromedp.Void]) {
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.failf("loading a page: %v", err)
	}
	if resp == nil || resp.Status < 200 || resp.Status > 299 {
		var status int64
		if resp != nil {
			status = resp.Status
		}
		tb.failf("status %d", status)
	}
}

// submit clicks a button that sends a form, and waits for the next page.
func (tb *tab) submit(css string) {
	tb.waitJS(fmt.Sprintf(`!!document.querySelector(%q)`, css))
	if tb.size.Phone {
		tb.follow(chromedp.Tap(chromedp.CSS(css)))
		return
	}
	tb.follow(chromedp.Click(chromedp.CSS(css)))
}

// click clicks (or, on a phone, taps) what css names once it is there and
// enabled, on the same page.
func (tb *tab) click(css string) {
	tb.waitJS(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e && !e.disabled && e.getClientRects().length > 0})()`, css))
	if tb.size.Phone {
		tb.do(chromedp.Tap(chromedp.CSS(css)))
		return
	}
	tb.do(chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// typeIn types text into the field css names.
func (tb *tab) typeIn(css, text string) {
	tb.do(chromedp.WaitVisible(chromedp.CSS(css)), chromedp.SendKeys(chromedp.CSS(css), text))
}

// js evaluates an expression for its value.
func js[T any](tb *tab, expr string) T {
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.failf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits up to 20 s for a condition to hold.
func (tb *tab) waitJS(cond string) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!!(function(){try{return `+cond+`}catch(e){return false}})()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.failf("waited 20 s for %s", cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// path is the tab's path and query now.
func (tb *tab) path() string {
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.failf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.failf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// settle waits for two frames, so that a change of size is laid out.
func (tb *tab) settle() {
	tb.do(chromedp.Evaluate[chromedp.Void](`new Promise(function(r){requestAnimationFrame(function(){requestAnimationFrame(r)})})`, chromedp.EvalAwaitPromise))
}

// capture shows the tab's page in every language at every size: for each
// a screenshot and an audit. It loads the page again for each language (a
// page of a POST's answer cannot be loaded again: see captureHere), and
// leaves the tab as it was, in its user's language and size. ready is a
// JavaScript condition the page must meet before it is looked at ("" for
// none).
func (tb *tab) capture(name, ready string) {
	t := tb.t
	t.step++
	t.rep.Pages++
	path := tb.path()
	// The user's own language last, so that the tab is left in it.
	var langs []string
	for _, l := range t.cfg.Langs {
		if l != tb.lang {
			langs = append(langs, l)
		}
	}
	langs = append(langs, tb.lang)
	t.logf("%02d %s (%s), %s", t.step, name, path, tb.name)
	for _, lang := range langs {
		tb.do(emulate(Sizes[0]))
		tb.open("/lang/" + lang + "?next=" + url.QueryEscape(path))
		tb.look(name, path, lang, ready)
	}
	tb.do(emulate(tb.size))
	tb.settle()
}

// captureHere is capture for the page as it is, in its user's language
// only: the answer to a POST.
func (tb *tab) captureHere(name, ready string) {
	t := tb.t
	t.step++
	t.rep.Pages++
	path := tb.path()
	t.logf("%02d %s (%s, after a form), %s", t.step, name, path, tb.name)
	tb.look(name, path, tb.lang, ready)
	tb.do(emulate(tb.size))
	tb.settle()
}

// look takes the screenshots and audits of the page in view at each size.
func (tb *tab) look(name, path, lang, ready string) {
	t := tb.t
	if ready != "" {
		tb.waitJS(ready)
	}
	for _, s := range Sizes {
		tb.do(emulate(s))
		tb.settle()
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			tb.failf("screenshot of %s: %v", name, err)
		}
		file := filepath.Join(t.cfg.Out, fmt.Sprintf("%02d-%s-%s-%s.png", t.step, name, s.Name, lang))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.failf("%v", err)
		}
		t.rep.Shots++
		fs, err := Audit(tb.ctx, Options{Phone: s.Phone, Scope: t.cfg.Scope})
		if err != nil {
			tb.failf("%v", err)
		}
		for _, f := range fs {
			f.Page, f.Size, f.Lang = fmt.Sprintf("%02d-%s %s", t.step, name, strings.SplitN(path, "?", 2)[0]), s.Name, lang
			t.rep.Findings = append(t.rep.Findings, f)
		}
	}
}
