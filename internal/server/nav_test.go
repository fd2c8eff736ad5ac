package server_test

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/live"
	"github.com/mitstem/stembox/internal/server"
)

var (
	hrefRE   = regexp.MustCompile(`href="([^"]*)"`)
	headerRE = regexp.MustCompile(`(?s)<header class="top">.*?</header>`)
	menuRE   = regexp.MustCompile(`(?s)<ul class="menu-links">(.*?)</ul>`)
	mainRE   = regexp.MustCompile(`(?s)<main[^>]*>(.*?)</main>`)
)

// links are the paths of the links in a piece of a page, without the
// language switcher's and in-page ones, fragments cut off.
func links(part string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(part, -1) {
		h := html.UnescapeString(m[1])
		if strings.HasPrefix(h, "/lang/") || strings.HasPrefix(h, "#") || strings.HasPrefix(h, "/static/") {
			continue
		}
		h, _, _ = strings.Cut(h, "#")
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// menuOf is the set of links in a page's menu, sorted.
func menuOf(tb testing.TB, body string) []string {
	tb.Helper()
	m := menuRE.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("the page has no menu:\n%.1500s", body)
	}
	out := links(m[1])
	sort.Strings(out)
	return out
}

// TestNavigationByRole walks, over real HTTP, every link of the header's
// menu from every page the menu leads to, as a guest, a student, a teacher
// and an admin, in each language: every one answers 200 at once (no
// redirect to sign in, no "admins only"), the menu is the same on every
// page, and it is the role's own. The links in the main part of each
// role's home (a guest's ways in, a teacher's per-class buttons, the
// admin's links) answer 200 too.
func TestNavigationByRole(t *testing.T) {
	s := seedSchool(t, mustRunLiveServerWith(t, server.WithSync(&fakeSync{})))
	roles := []struct {
		name, home string
		signIn     func(*device)
		menu       []string
	}{
		{"guest", "/", nil, []string{"/", "/live", "/login", "/student"}},
		{"student", "/me", func(d *device) {
			wantStatus(t, d.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}}), 303)
		}, []string{"/", "/live", "/me"}},
		{"teacher", "/teach", func(d *device) { d.signIn("aziza", password) },
			[]string{"/", "/connect", "/live/new", "/teach", "/teach/studio"}},
		{"admin", "/admin", func(d *device) { d.signIn("admin", password) },
			[]string{"/", "/admin", "/admin/peers", "/admin/status", "/admin/sync", "/connect", "/live/new", "/teach", "/teach/studio"}},
	}
	for _, role := range roles {
		for _, lang := range []string{"en", "ru", "tg"} {
			t.Run(role.name+"/"+lang, func(t *testing.T) {
				d := s.device(t, lang)
				if role.signIn != nil {
					role.signIn(d)
				}
				seen := map[string]bool{}
				queue := []string{role.home}
				for len(queue) > 0 {
					p := queue[0]
					queue = queue[1:]
					if seen[p] {
						continue
					}
					seen[p] = true
					r := d.get(p)
					if r.StatusCode != 200 {
						t.Fatalf("%s: nav link %s answers %d, want 200:\n%.800s", role.name, p, r.StatusCode, r.body)
					}
					if got := menuOf(t, r.body); !slices.Equal(got, role.menu) {
						t.Errorf("%s's menu on %s is %v, want %v", role.name, p, got, role.menu)
					}
					queue = append(queue, links(headerRE.FindString(r.body))...)
				}
				// The home's own links (ways in, a class's buttons).
				home := d.get(role.home)
				for _, l := range links(mainRE.FindStringSubmatch(home.body)[1]) {
					if strings.HasSuffix(l, ".csv") {
						continue
					}
					if r := d.get(l); r.StatusCode != 200 {
						t.Errorf("%s: the link %s on %s answers %d, want 200", role.name, l, role.home, r.StatusCode)
					}
				}
			})
		}
	}
}

// TestNavigationHomes checks what each home offers: a guest the ways in
// (student sign-in, a live quiz's code, teacher sign-in), a student a
// live quiz's code, a teacher a live quiz and one tap per class to
// assign, see progress and start a quiz, an admin the box's pages.
func TestNavigationHomes(t *testing.T) {
	s := seedSchool(t, mustRunLiveServerWith(t, server.WithSync(&fakeSync{})))
	c := "/teach/classes/" + s.classA.ID
	guest := s.device(t, "en")
	wantContains(t, guest.get("/"), `href="/student"`, `<form method="get" action="/live">`, `name="code"`, `href="/login"`, "All lessons", `href="/packs/mini"`)
	code := strings.Repeat(live.CodeAlphabet[:1], live.CodeLength)
	wantContains(t, guest.get("/live?code="+strings.ToLower(code)), `value="`+code+`"`) // the ways-in form's GET

	student := s.device(t, "en")
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}}), 303)
	me := student.get("/me")
	wantContains(t, me, `action="/live"`, `<form class="who" method="post" action="/logout">`, "Not me?")
	wantLacks(t, me, `href="/teach`, `href="/admin`, `href="/live/new"`)

	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	home := teacher.get("/teach")
	wantContains(t, home, `<a class="button" href="/live/new">`, `href="`+c+`#assign">Assign</a>`,
		`href="`+c+`/progress">Progress</a>`, `href="/live/new">Live quiz</a>`)
	wantLacks(t, home, `href="/admin`, "/teach/classes/"+s.classB.ID)
	wantContains(t, teacher.get(c), `id="assign"`)

	admin := s.device(t, "ru")
	admin.signIn("admin", password)
	page := admin.get("/admin")
	wantContains(t, page, `href="/admin/status"`, `href="/admin/sync"`, `href="/admin/peers"`, `href="/admin/status#packs"`,
		`href="#users"`, `id="users"`, `href="#classes"`, `id="classes"`, `href="/teach"`)
	wantContains(t, admin.get("/admin/status"), `id="packs"`)
}

// TestNavigationWithoutLiveOrSync: a box that runs no live sessions and
// no sync links to neither (their pages would answer 503).
func TestNavigationWithoutLiveOrSync(t *testing.T) {
	s := mustSchool(t)
	for _, who := range []string{"", "aziza", "admin"} {
		d := s.device(t, "en")
		home := "/"
		if who != "" {
			d.signIn(who, password)
			home = "/me"
			if who == "aziza" {
				home = "/teach"
			} else {
				home = "/admin"
			}
		}
		r := d.get(home)
		wantStatus(t, r, 200)
		for _, l := range links(r.body) {
			if strings.HasPrefix(l, "/live") || l == "/admin/sync" {
				t.Errorf("%q on %s links to %s, which this box does not run", who, home, l)
			}
		}
	}
}
