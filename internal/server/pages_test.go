package server_test

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogueAndLanguages(t *testing.T) {
	box := mustRunServer(t)
	ru := box.device(t, "ru-RU,ru;q=0.9")
	r := ru.get("/")
	wantStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want UTF-8 HTML", ct)
	}
	wantContains(t, r, `<html lang="ru">`, `<meta charset="utf-8">`, "Уроки и упражнения", "Мини-пакет", "Физика", "Классы: 7", "2 урока", "7 упражнений", `href="/packs/mini"`)

	// Choosing Tajik on the device is remembered; the pack has no Tajik, so
	// it is shown in Russian, and the page says so.
	r = ru.get("/lang/tg?next=/packs/mini")
	wantStatus(t, r, 303)
	if loc := r.Header.Get("Location"); loc != "/packs/mini" {
		t.Errorf("language switch redirects to %q, want back to the page", loc)
	}
	r = ru.get("/packs/mini")
	wantContains(t, r, `<html lang="tg">`, "Ҳамаи дарсҳо", `<h1 lang="ru">Мини-пакет</h1>`, "«Тоҷикӣ» дастрас нест", "тарҷумаи пешнавис")

	// The switch never redirects off the box.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		r = ru.get("/lang/en?next=" + next)
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%s redirects to %q, want /", next, loc)
		}
	}
}

func TestPackListsLessonsInOrder(t *testing.T) {
	box := mustRunServer(t)
	r := box.device(t, "en").get("/packs/mini")
	wantStatus(t, r, 200)
	speed, force := strings.Index(r.body, "/lessons/speed"), strings.Index(r.body, "/lessons/force")
	if speed < 0 || force < 0 || speed > force {
		t.Errorf("lessons not listed in pack order (speed at %d, force at %d)", speed, force)
	}
	wantContains(t, r, "Practice (5)", "More exercises", "/packs/mini/sets/quiz")
}

func TestLessonPage(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	r := d.get("/packs/mini/lessons/speed")
	wantStatus(t, r, 200)
	wantContains(t, r, "<h1>Speed</h1>", `class="katex`, "katex.min.css", "Lesson 1 of 2", "Practice (5)", `rel="next"`, "&lt;script&gt;")
	wantLacks(t, r, "<script>", "pack:media") // the lesson's own <script> is escaped; the page loads only its own script files
	if len(r.body) > 100<<10 {
		t.Errorf("lesson page is %d bytes, over the 100 KB budget", len(r.body))
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got := r.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("Referrer-Policy = %q, want same-origin (no-referrer makes Chromium send Origin: null on form posts)", got)
	}
	if r.Header.Get("X-Frame-Options") != "" {
		t.Error("X-Frame-Options sent: CSP frame-ancestors replaces it")
	}
	etag := r.Header.Get("Etag")
	if etag == "" || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and revalidation", etag, r.Header.Get("Cache-Control"))
	}
	r = d.get("/packs/mini/lessons/speed", "If-None-Match", etag)
	wantStatus(t, r, 304)
	if r.body != "" {
		t.Error("304 with a body")
	}

	// gzip for clients that take it (setting the header by hand keeps Go's
	// client from unzipping, so the size on the wire shows).
	plain := d.get("/packs/mini/lessons/speed")
	gz := d.get("/packs/mini/lessons/speed", "Accept-Encoding", "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || len(gz.body) >= len(plain.body)/2 {
		t.Errorf("gzip: Content-Encoding %q, %d bytes for %d plain; want gzip at under half", gz.Header.Get("Content-Encoding"), len(gz.body), len(plain.body))
	}

	// The image is rewritten to the pack's file URL, which serves it.
	src := regexp.MustCompile(`src="(/files/mini/[^"]+/media/graph\.svg)"`).FindStringSubmatch(d.get("/packs/mini/lessons/speed").body)
	if src == nil {
		t.Fatal("lesson has no image pointing at /files/mini/…/media/graph.svg")
	}
	img := d.get(src[1])
	wantStatus(t, img, 200)
	if img.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(img.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("image Content-Type %q, Cache-Control %q", img.Header.Get("Content-Type"), img.Header.Get("Cache-Control"))
	}
	wantContains(t, img, "<svg")

	// Another language of the same lesson.
	r = box.device(t, "ru").get("/packs/mini/lessons/speed")
	wantContains(t, r, "<h1>Скорость</h1>", "Урок 1 из 2", `lang="ru"`)
}

func TestStaticAssets(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	page := d.get("/packs/mini/lessons/speed")
	css := regexp.MustCompile(`href="(/static/[0-9a-f]+/vendor/katex/katex\.min\.css)"`).FindStringSubmatch(page.body)
	if css == nil {
		t.Fatal("no hashed KaTeX stylesheet link")
	}
	r := d.get(css[1])
	wantStatus(t, r, 200)
	if r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("hashed asset Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	// Every font the stylesheet names is served.
	for _, m := range regexp.MustCompile(`url\((fonts/[^)]+\.woff2)\)`).FindAllStringSubmatch(r.body, -1) {
		font := strings.TrimSuffix(css[1], "katex.min.css") + m[1]
		if f := d.get(font); f.StatusCode != 200 {
			t.Errorf("font %s: status %d", font, f.StatusCode)
		}
	}
	old := "/static/000000000000/" + strings.SplitN(strings.TrimPrefix(css[1], "/static/"), "/", 2)[1]
	if r := d.get(old); r.StatusCode != 200 || strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset under an old hash: status %d, Cache-Control %q; want it served, briefly cached", r.StatusCode, r.Header.Get("Cache-Control"))
	}
}

func TestMediaRangesAndOldVersions(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	p, _ := box.lib.Pack("mini")
	url := "/files/mini/" + p.Name + "/media/graph.svg"
	full := d.get(url)
	r := d.get(url, "Range", "bytes=5-14")
	wantStatus(t, r, 206)
	if r.body != full.body[5:15] {
		t.Errorf("range 5-14 = %q, want %q", r.body, full.body[5:15])
	}
	// A page cached before an update points at the old version's name.
	r = d.get("/files/mini/0.9.0-000000000000/media/graph.svg")
	wantStatus(t, r, 302)
	if r.Header.Get("Location") != url {
		t.Errorf("old version redirects to %q, want %q", r.Header.Get("Location"), url)
	}
	// Only media files are served, and nothing outside the pack.
	for _, path := range []string{
		"/files/mini/" + p.Name + "/manifest.json",
		"/files/mini/" + p.Name + "/exercises/speed.json",
		"/files/mini/" + p.Name + "/media/../exercises/speed.json",
		"/files/mini/" + p.Name + "/media/%2e%2e/exercises/speed.json",
		"/files/mini/" + p.Name + "/media/..%2f..%2f..%2fstembox.db",
		"/files/mini/" + p.Name + "/media/nothing.svg",
	} {
		r := d.get(path)
		if r.StatusCode == 200 {
			t.Errorf("GET %s: 200, want a refusal; body %.200s", path, r.body)
		}
		if strings.Contains(r.body, `"items"`) || strings.Contains(r.body, "weight") {
			t.Errorf("GET %s leaked exercise answers", path)
		}
	}
}

func TestNotFound(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	for _, path := range []string{"/packs/nope", "/packs/mini/lessons/nope", "/packs/mini/sets/nope", "/packs/mini/sets/speed/0", "/packs/mini/sets/speed/99", "/packs/mini/sets/speed/x", "/nothing/here", "/files/nope/x/media/a.svg"} {
		r := d.get(path)
		if r.StatusCode != 404 {
			t.Errorf("GET %s: status %d, want 404", path, r.StatusCode)
		}
	}
	r := d.get("/packs/nope")
	wantContains(t, r, "No pack nope is installed", `href="/"`)
}

// TestSecurityHeadersOnEveryKind checks the headers of each kind of response
// the box sends: every one carries the CSP and the referrer policy, and every
// one that is not an HTML page says nosniff (a browser never sniffs one that
// says text/html). The lesson page, the box's busiest response, must set at
// most eight headers: a ninth makes net/http grow, clone and sort a larger
// map on every request.
func TestSecurityHeadersOnEveryKind(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	p, _ := box.lib.Pack("mini")
	css := regexp.MustCompile(`href="(/static/[0-9a-f]+/[^"]+\.css)"`).FindStringSubmatch(d.get("/packs/mini/lessons/speed").body)
	if css == nil {
		t.Fatal("lesson page links no stylesheet")
	}
	for _, c := range []struct {
		path, method string
		html         bool
	}{
		{path: "/", html: true},
		{path: "/packs/mini/lessons/speed", html: true},
		{path: "/packs/mini/lessons/nope", html: true}, // an error page
		{path: css[1]}, // a static file from memory
		{path: "/files/mini/" + p.Name + "/media/graph.svg"}, // a pack file through ServeContent
		{path: "/api/v1/packs"},                              // JSON
		{path: "/api/v1/answers", method: "POST"},            // a JSON error
		{path: "/healthz"},                                   // text
		{path: "/sw.js"},                                     // a script
	} {
		req, _ := http.NewRequest(cmp.Or(c.method, "GET"), box.URL+c.path, strings.NewReader("{"))
		req.Header.Set("Content-Type", "application/json")
		r := d.do(req)
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "text/html") != c.html {
			t.Errorf("%s %s: Content-Type %q", req.Method, c.path, ct)
		}
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || r.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s %s: CSP %q, Referrer-Policy %q", req.Method, c.path, r.Header.Get("Content-Security-Policy"), r.Header.Get("Referrer-Policy"))
		}
		if got := r.Header.Get("X-Content-Type-Options"); (got == "nosniff") == c.html {
			t.Errorf("%s %s (%s): X-Content-Type-Options %q", req.Method, c.path, ct, got)
		}
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/packs/mini/lessons/speed", nil)
	req.Header.Set("Accept-Language", "en")
	box.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != 200 || len(rec.Header()) > 8 {
		t.Errorf("lesson page: status %d, %d headers, want at most 8: %v", rec.Code, len(rec.Header()), rec.Header())
	}
}
