package tour

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/browsertest"
)

// page is a tiny page of the audit's tests: a phone-sized document in lang.
func page(lang, body string) string {
	return `<!doctype html><html lang="` + lang + `"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0;font:16px/1.5 sans-serif;color:#111;background:#fff} a,button{display:inline-block;min-width:44px;min-height:44px}</style>
</head><body><main>` + body + `</main></body></html>`
}

// TestAudit runs the audit on a 360×640 phone over pages that each have one
// fault, and over clean pages that look like them: each fault is found, by
// its check, and nothing is found on the clean ones.
func TestAudit(t *testing.T) {
	browsertest.Need(t)
	b := browsertest.Start(t, 90*time.Second)
	ctx, cancel := chromedp.NewContext(b.Ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, lang, body string
		want             string // the check that must be found; "" for a clean page
	}{
		{"side scroll", "en", `<div style="width:500px;height:10px"></div>`, CheckSideScroll},
		{"element too wide", "en", `<div style="overflow:hidden"><p>ok</p></div><div style="position:absolute;left:200px;width:300px">wide</div>`, CheckTooWide},
		{"wide inside a scrolling box", "en", `<div style="overflow-x:auto"><table><tr><td style="min-width:900px">a long row</td></tr></table></div>`, ""},
		{"text cut by overflow", "en", `<p style="width:100px;overflow:hidden;white-space:nowrap">a very long line of text that cannot fit</p>`, CheckCutOff},
		{"text cut by an ellipsis", "en", `<p style="width:100px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">another long line that is cut short</p>`, CheckCutOff},
		{"text that fits its box", "en", `<p style="width:300px;overflow:hidden;white-space:nowrap">short</p>`, ""},
		{"small button", "en", `<button style="min-height:0;min-width:0;height:30px;width:80px;padding:0">Go</button>`, CheckTapTarget},
		{"small link alone", "en", `<p><a href="#" style="min-height:0;display:inline">Home</a></p>`, CheckTapTarget},
		{"link in running text", "en", `<p>Read <a href="#" style="min-height:0;display:inline">the guide</a> before you start.</p>`, ""},
		{"radio in a big label", "en", `<label style="display:block;min-height:48px"><input type="radio" name="x"> one</label>`, ""},
		{"a small link in a closed details", "en", `<details><summary style="min-height:44px">More</summary><p><a href="#" style="min-height:0;display:inline">Export</a></p></details>`, ""},
		{"big targets", "en", `<a href="#">Home</a> <button>Go</button>`, ""},
		{"%d shown", "en", `<h1>Players: %d</h1>`, CheckPlaceholder},
		{"%!v(MISSING) shown", "en", `<p>Score %!d(string=x)</p>`, CheckPlaceholder},
		{"%s in a placeholder attribute", "en", `<input placeholder="Name %s" style="min-height:44px;width:200px">`, CheckPlaceholder},
		{"a percentage", "en", `<p>75% done, 50% solved</p>`, ""},
		{"English on a Tajik page", "tg", `<h1>Синфҳо</h1><button>Save</button>`, CheckEnglish},
		{"English on a Russian page", "ru", `<p>Ученики: <span>Players</span></p>`, CheckEnglish},
		{"English in an aria-label", "ru", `<button aria-label="Close">×</button>`, CheckEnglish},
		{"English content and names", "ru", `<h1>Классы</h1><article lang="en"><p>Next, the students answer.</p></article><p data-user>Anna Smith, class 7A</p><p data-content>Exercise: Speed</p><code>save()</code>`, ""},
		{"an address with English in it", "ru", `<p>Откройте http://10.0.0.1/student/ABC или /live/new</p>`, ""},
		{"English meant to be there", "ru", `<p data-audit-skip="english">Столбцы: name, gender</p>`, ""},
		{"a skip of another check", "ru", `<p data-audit-skip="contrast">Save</p>`, CheckEnglish},
		{"English on an English page", "en", `<button>Save</button>`, ""},
		{"grey on white", "en", `<p style="color:#aaa">hard to read</p>`, CheckContrast},
		{"white on yellow", "en", `<div style="background:#f0c000"><p style="color:#fff">hard to read</p></div>`, CheckContrast},
		{"half-transparent text", "en", `<p style="color:rgba(0,0,0,.3)">faint</p>`, CheckContrast},
		{"large text at 3:1", "en", `<h1 style="font-size:32px;color:#888">big</h1>`, ""},
		{"dark on light", "en", `<div style="background:#0b6e4f"><p style="color:#fff">fine</p></div><p style="color:#555">also fine</p>`, ""},
		{"a disabled button", "en", `<button disabled style="color:#bbb">Later</button>`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := "data:text/html;charset=utf-8," + url.PathEscape(page(c.lang, c.body))
			if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
				t.Fatal(err)
			}
			fs, err := Audit(ctx, Options{Phone: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			found := false
			for _, f := range fs {
				got = append(got, f.String())
				if f.Check == c.want {
					found = true
				}
			}
			switch {
			case c.want == "" && len(fs) > 0:
				t.Errorf("a clean page has findings:\n%s", strings.Join(got, "\n"))
			case c.want != "" && !found:
				t.Errorf("want a %s finding, got %q", c.want, got)
			}
		})
	}
}

// TestAuditPhoneOnly checks that tap targets are checked on phones only.
func TestAuditPhoneOnly(t *testing.T) {
	browsertest.Need(t)
	b := browsertest.Start(t, 60*time.Second)
	u := "data:text/html;charset=utf-8," + url.PathEscape(page("en", `<button style="min-height:0;height:20px">Go</button>`))
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	fs, err := Audit(b.Ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("on a laptop a small button is no finding, got %v", fs)
	}
}

func TestWordPatterns(t *testing.T) {
	for _, w := range wordPatterns() {
		if strings.Contains(w, " ") {
			t.Errorf("pattern %q has a bare space", w)
		}
	}
}

// TestAuditScope checks that a scope leaves out what is outside it, but
// not the page's side scroll.
func TestAuditScope(t *testing.T) {
	browsertest.Need(t)
	b := browsertest.Start(t, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		body, scope string
		want        []string
	}{
		{`<header><button style="min-height:0;height:20px">Go</button></header><main><p>fine</p></main>`, "", []string{CheckTapTarget}},
		{`<header><button style="min-height:0;height:20px">Go</button></header><main><p>fine</p></main>`, "main", nil},
		{`<header><div style="width:600px">wide</div></header><main><p>fine</p></main>`, "main", []string{CheckSideScroll}},
	} {
		u := "data:text/html;charset=utf-8," + url.PathEscape(strings.Replace(page("en", ""), "<main></main>", c.body, 1))
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(u)); err != nil {
			t.Fatal(err)
		}
		fs, err := Audit(b.Ctx, Options{Phone: true, Scope: c.scope})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.Check)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("scope %q over %s: found %q, want %q", c.scope, c.body, got, c.want)
		}
	}
}
