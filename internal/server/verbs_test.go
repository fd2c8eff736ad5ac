package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/mitstem/stembox/internal/studio"
)

// routePatterns reads the route table off the package's source: the
// pattern of every mux.HandleFunc and mux.Handle call outside tests, so
// that a page added anywhere is walked by TestNoUnformattedVerbs without
// anyone listing it.
func routePatterns(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				p, _ := strconv.Unquote(lit.Value)
				out = append(out, p)
			}
			return true
		})
	}
	if len(out) < 40 {
		t.Fatalf("found only %d routes in the source: %q", len(out), out)
	}
	return out
}

// verbRE finds what fmt leaves of a message it could not format: a verb
// left as it is (%d, %s, %.1f) or fmt's complaint (%!d(MISSING), %!(EXTRA…).
var verbRE = regexp.MustCompile(`%(!|\.?[0-9]*[dsvqf])`)

// visibleText is what a reader sees of a page: its text and the
// attributes read aloud or shown (title, alt, placeholder, aria-label,
// value), without scripts, styles, and the hidden message templates that
// scripts format themselves (data-i18n, data-m).
func visibleText(page string) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(page))
	skip := 0 // depth inside script, style or a data-m template
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				return b.String() + " %!(bad HTML)"
			}
			return b.String()
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, more := z.TagName()
			attrs := map[string]string{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			_, template := attrs["data-m"]
			if skip > 0 || string(name) == "script" || string(name) == "style" || template {
				skip++
				continue
			}
			for _, a := range []string{"title", "alt", "placeholder", "aria-label", "value", "label"} {
				b.WriteString(" " + attrs[a])
			}
		case xhtml.EndTagToken:
			if skip > 0 {
				skip--
			}
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}

// Every page of the box, in every language, for each kind of viewer: no
// message is shown with its format verbs unfilled ("Иштирокчиён: %d")
// or with fmt's complaint about its arguments.
func TestNoUnformattedVerbs(t *testing.T) {
	box := mustRunLiveServerWith(t)
	s := seedSchool(t, box)
	teacherA := s.device(t, "en")
	teacherA.signIn("aziza", password)
	student := s.device(t, "en")
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}}), 303)
	form := url.Values{"choice": {"1"}, "id": {formID(t, student.get("/packs/mini/sets/speed/1"))}}
	wantStatus(t, student.postForm("/packs/mini/sets/speed/1", form), 303)
	live := createLive(t, teacherA, adhocForm())
	wantStatus(t, box.device(t, "en").postForm("/live/join", url.Values{"code": {live}, "nickname": {"Ali"}}), 303)
	admin := s.device(t, "en")
	admin.signIn("admin", password)
	pack, _ := s.lib.Pack("mini")
	draft, err := s.db.CreateDraft(t.Context(), s.teacherA.ID, studio.KindSet, studio.Doc{Title: studio.Text{"en": "Mine"}, Languages: []string{"en", "tg"},
		Items: []studio.Item{{ID: "q1", Type: "numeric", Prompt: studio.Text{"en": "2+2"}, Answer: 4}, {ID: "q2", Type: "choice", Choices: make([]studio.Choice, 2)}}})
	if err != nil {
		t.Fatal(err)
	}

	values := map[string]string{"{pack}": "mini", "{set}": "speed", "{lesson}": "speed", "{n}": "1", "{class}": s.classA.ID,
		"{student}": s.studentsA[0].ID, "{user}": s.teacherA.ID, "{lang}": "ru", "{name}": pack.Name, "{path...}": "media/graph.svg",
		"{app}": "none", "{id}": draft.ID} // this pack has no app: its page is the 404; an app's own page is checked below

	checked := 0
	for _, pattern := range routePatterns(t) {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || (method != "GET" && method != "") || strings.HasSuffix(path, "/ws") || strings.HasPrefix(path, "/static/") {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		code := live
		if strings.HasPrefix(path, "/student/") {
			code = s.classA.Code
		}
		path = strings.ReplaceAll(path, "{code}", code)
		for k, v := range values {
			path = strings.ReplaceAll(path, k, v)
		}
		if strings.Contains(path, "{") {
			t.Errorf("route %q: no test value for its %s", pattern, path)
			continue
		}
		for _, viewer := range []struct {
			name string
			d    *device
		}{{"admin", admin}, {"teacher", teacherA}, {"student", student}, {"guest", box.device(t, "")}} {
			for _, lang := range []string{"tg", "ru", "en"} {
				req, _ := http.NewRequest("GET", box.URL+path, nil)
				req.AddCookie(&http.Cookie{Name: "stembox_lang", Value: lang})
				r := viewer.d.do(req)
				if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
					continue
				}
				checked++
				text := visibleText(r.body)
				if m := verbRE.FindAllStringIndex(text, -1); m != nil {
					for _, at := range m {
						t.Errorf("GET %s as %s in %s (%d): %q", path, viewer.name, lang, r.StatusCode,
							text[max(0, at[0]-40):min(len(text), at[1]+20)])
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d pages checked", checked)
	}
	// An app's full-screen page, in a box whose pack has one.
	apps := runAppBox(t)
	for _, lang := range []string{"tg", "ru", "en"} {
		req, _ := http.NewRequest("GET", apps.URL+"/packs/mini/apps/big", nil)
		req.AddCookie(&http.Cookie{Name: "stembox_lang", Value: lang})
		r := apps.device(t, lang).do(req)
		if r.StatusCode != 200 {
			t.Fatalf("the app's page in %s: %d", lang, r.StatusCode)
		}
		if m := verbRE.FindString(visibleText(r.body)); m != "" {
			t.Errorf("GET /packs/mini/apps/big in %s: %q", lang, m)
		}
	}
	// The test itself: it sees what it is for.
	for _, page := range []string{"<h2>Иштирокчиён: %d</h2>", "<p>3 %!d(string=x)</p>", `<img alt="%s">`} {
		if !verbRE.MatchString(visibleText(page)) {
			t.Errorf("%s: no unformatted verb found", page)
		}
	}
	for _, page := range []string{`<a href="/lang/ru?next=%2fteach%d0%b0">x</a>`, `<span hidden data-m="w">%d left</span>`, `<div data-i18n="{&quot;a&quot;:&quot;%d&quot;}">50% off</div>`} {
		if verbRE.MatchString(visibleText(page)) {
			t.Errorf("%s: a verb found where none is shown", page)
		}
	}
}
