package box_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/logtest"
)

// The students of the roster the teacher pastes; the first signs in.
var browserRoster = []struct{ name, gender string }{
	{"Зарина Рахимова", "female"},
	{"Фаррух Каримов", "m"},
	{"Anna Smith", ""},
}

// TestBrowserTeacherAndStudent is the end-to-end test of accounts in a real
// headless Chromium: the first admin is made on /setup, creates a class,
// imports a roster and assigns a set and a lesson; a student on a 360×640
// phone types the class code, taps her name, reads the lesson, answers the
// exercises (one wrong at first) and taps "Not me?"; the teacher's heatmap
// then shows her progress. Screenshots of every step are kept in
// $STEMBOX_ARTIFACTS (else a temporary directory).
func TestBrowserTeacherAndStudent(t *testing.T) {
	browsertest.Need(t)
	start := time.Now()

	data := t.TempDir()
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ := mustRunBox(t, data, packs)
	base := "http://" + b.Addr().String()

	shots := newShooter(t)
	br := startBrowser(t, 240*time.Second) // generous: CI runs other packages' tests beside it
	teacher := br.tab(t, "teacher", nil)
	student := br.tab(t, "student", chromedp.EmulateViewport(360, 640,
		chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))

	// 1. The teacher (the box's first admin) sets the box up.
	const pass = "correct horse battery"
	teacher.open(base+"/lang/en?next=/setup", "/setup")
	shots.take(teacher, "teacher-setup")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "rahimova"),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Малика Рахимова"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pass),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), pass),
	)
	teacher.submit(`form[action="/setup"] button[type=submit]`, "/admin")
	shots.take(teacher, "teacher-admin")

	// Creates class 7A.
	teacher.open(base+"/teach", "/teach")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`form[action="/teach/classes"] input[name=name]`), "7A"),
		chromedp.SetValue(chromedp.CSS(`form[action="/teach/classes"] input[name=grade]`), "7"),
	)
	teacher.submit(`form[action="/teach/classes"] button[type=submit]`, "/teach/classes/")
	classPath := teacher.path()
	if !regexp.MustCompile(`^/teach/classes/[^/]+$`).MatchString(classPath) {
		t.Fatalf("after creating a class the teacher is on %s, want the class's page", classPath)
	}
	if h1 := teacher.text(`main h1`); h1 != "7A" {
		t.Errorf("class page's title is %q, want 7A", h1)
	}
	code := teacher.text(`b.code`)
	if code == "" {
		t.Fatal("class page shows no class code")
	}
	t.Logf("class %s has code %s", classPath, code)
	shots.take(teacher, "teacher-class-created")

	// Imports the roster, pasted into the text area.
	var csv strings.Builder
	csv.WriteString("name,gender,birth_year\n")
	for _, s := range browserRoster {
		fmt.Fprintf(&csv, "%s,%s,2012\n", s.name, s.gender)
	}
	teacher.do(chromedp.Click(chromedp.CSS(`details:has(form[action$="/roster"]) > summary`)))
	teacher.do(
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/roster"] textarea[name=csv]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/roster"] textarea[name=csv]`), csv.String()),
	)
	if got := teacher.value(`form[action$="/roster"] textarea[name=csv]`); strings.TrimSpace(got) != strings.TrimSpace(csv.String()) {
		t.Fatalf("the roster typed into the text area reads\n%s\nwant\n%s", got, csv.String())
	}
	shots.take(teacher, "teacher-roster-pasted")
	teacher.submit(`form[action$="/roster"] button[type=submit]`, classPath+"/roster")
	if n := teacher.text(`p.notice[role=status]`); !strings.Contains(n, "3") {
		t.Errorf("after the import the notice is %q, want one about 3 students", n)
	}
	rows, err := chromedp.Run(teacher.ctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll("table.roster tbody tr"), tr => Array.from(tr.cells, c => c.textContent.trim()))`))
	if err != nil {
		t.Fatal(err)
	}
	genderOf := map[string]string{}
	for _, r := range rows {
		if len(r) >= 3 {
			genderOf[r[0]] = r[1] + " " + r[2]
		}
	}
	for _, s := range browserRoster {
		want := map[string]string{"female": "female", "m": "male", "": "not given"}[s.gender] + " 2012"
		if got, ok := genderOf[s.name]; !ok || got != want {
			t.Errorf("roster table's row of %s: %q, want %q (all rows: %q)", s.name, got, want, rows)
		}
	}
	shots.take(teacher, "teacher-roster-imported")

	// Assigns the exercise set and the lesson.
	for what, label := range map[string]string{"mini|set|speed": "Exercises: Speed", "mini|lesson|speed": "Lesson: Speed"} {
		got, err := chromedp.Run(teacher.ctx, chromedp.TextContent(chromedp.CSS(fmt.Sprintf(`select[name=what] option[value=%q]`, what))))
		if err != nil || got != label {
			t.Errorf("the choice %s reads %q (%v), want %q", what, got, err, label)
		}
	}
	for _, what := range []string{"mini|set|speed", "mini|lesson|speed"} {
		teacher.do(chromedp.SetValue(chromedp.CSS(`form[action$="/assign"] select[name=what]`), what))
		teacher.submit(`form[action$="/assign"] button[type=submit]`, classPath)
	}
	work := teacher.text(`ul.work`)
	if !strings.Contains(work, "Speed") || len(teacher.all(`ul.work > li`)) != 2 {
		t.Errorf("after assigning two items the class's work reads %q", work)
	}
	shots.take(teacher, "teacher-assigned")

	// The heatmap before the student does anything: every cell is new.
	teacher.open(base+classPath+"/progress", classPath+"/progress")
	before := teacher.heatmap()
	if len(before) != len(browserRoster) {
		t.Fatalf("heatmap rows before any work: %v, want one per student", before)
	}
	for name, cells := range before {
		if len(cells) != 2 {
			t.Errorf("heatmap row of %s has %d cells, want 2 (set and lesson): %v", name, len(cells), cells)
		}
		for _, c := range cells {
			if c != "cell new" {
				t.Errorf("before any work, %s has a cell %q, want only \"cell new\"", name, c)
			}
		}
	}
	shots.take(teacher, "teacher-heatmap-before")

	// 2. The student, on a phone, types the class code.
	me := browserRoster[0].name
	student.open(base+"/lang/en?next=/student", "/student")
	student.noSideScroll("class code page")
	student.do(chromedp.SendKeys(chromedp.CSS(`form[action="/student"] input[name=code]`), strings.ToLower(code)))
	shots.take(student, "student-code")
	student.submit(`form[action="/student"] button[type=submit]`, "/student/"+code)
	student.noSideScroll("names page")
	names := student.text(`ul.tiles`)
	for _, s := range browserRoster {
		if !strings.Contains(names, s.name) {
			t.Errorf("names page lacks %s:\n%s", s.name, names)
		}
	}
	if strings.Contains(names, "female") || strings.Contains(names, "2012") {
		t.Errorf("the names page shows more than names:\n%s", names)
	}
	shots.take(student, "student-names")

	// Taps her name.
	student.tapTo(fmt.Sprintf(`//button[contains(@class,"tile") and normalize-space()=%q]`, me), "/me")
	if h1 := student.text(`main h1`); h1 != "Hello, "+me {
		t.Errorf("student home says %q, want %q", h1, "Hello, "+me)
	}
	student.noSideScroll("home")
	shots.take(student, "student-home")

	// Follows the assigned work: the first is the exercise set.
	next := student.attr(`p.cta a.button`, "href")
	if next != "/packs/mini/sets/speed" {
		t.Errorf("home's next step is %q, want the assigned set", next)
	}
	student.tapTo(`p.cta a.button`, "/packs/mini/sets/speed")
	student.noSideScroll("exercise set")
	shots.take(student, "student-set")
	student.tapTo(`p.cta a.button`, "/packs/mini/sets/speed/1")

	// 1: choice, right.
	student.do(chromedp.Tap(`//label[contains(@class,"choice")][span[normalize-space()="60 km/h"]]/input`))
	student.check(1, true)
	student.noSideScroll("exercise 1 verdict")
	shots.take(student, "student-ex1-right")
	student.tapTo(`p.cta a.button:not(.secondary)`, "/packs/mini/sets/speed/2")

	// 2: multi, wrong (only kg), then right after "Try again".
	student.do(chromedp.Tap(`//label[contains(@class,"choice")][span[normalize-space()="kg"]]/input`))
	student.check(2, false)
	student.noSideScroll("exercise 2 verdict")
	shots.take(student, "student-ex2-wrong")
	student.tapTo(`p.cta a.button.secondary`, "/packs/mini/sets/speed/2")
	for _, c := range []string{"m/s", "km/h"} {
		student.do(chromedp.Tap(fmt.Sprintf(`//label[contains(@class,"choice")][span[normalize-space()=%q]]/input`, c)))
	}
	student.check(2, true)
	student.tapTo(`p.cta a.button:not(.secondary)`, "/packs/mini/sets/speed/3")

	// 3: true/false, right.
	student.do(chromedp.Tap(chromedp.CSS(`input[name=text][value=false]`)))
	student.check(3, true)
	student.tapTo(`p.cta a.button:not(.secondary)`, "/packs/mini/sets/speed/4")

	// 4: numeric, right.
	student.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "5"))
	shots.take(student, "student-ex4-typed")
	student.check(4, true)
	student.noSideScroll("exercise 4 verdict")
	student.tapTo(`p.cta a.button:not(.secondary)`, "/packs/mini/sets/speed/5")

	// 5: text, right; then back to the set.
	student.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "speed"))
	student.check(5, true)
	student.noSideScroll("exercise 5 verdict")
	shots.take(student, "student-ex5-right")
	student.tapTo(`p.cta a.button:not(.secondary)`, "/packs/mini/sets/speed")
	shots.take(student, "student-set-done")

	// Home again: the next step is the lesson; she reads it.
	student.open(base+"/me", "/me")
	student.noSideScroll("home after the set")
	shots.take(student, "student-home-after-set")
	if next := student.attr(`p.cta a.button`, "href"); next != "/packs/mini/lessons/speed" {
		t.Errorf("after the set, home's next step is %q, want the assigned lesson", next)
	}
	student.tapTo(`p.cta a.button`, "/packs/mini/lessons/speed")
	student.noSideScroll("lesson")
	shots.take(student, "student-lesson")
	// "I have read this" takes a student back to her home.
	student.tapTo(`form.cta button[type=submit]`, "/me")
	student.noSideScroll("home when all is done")
	shots.take(student, "student-home-done")
	if meta := student.text(`main p.meta`); !strings.Contains(meta, "2 of 2 done") {
		t.Errorf("after the set and the lesson, home says %q, want 2 of 2 done", meta)
	}
	t.Logf("student's home lists her work as %q", student.all(`ol.work > li`))

	// "Not me?" signs her out in one tap, back to her class's names for
	// the next student on the shared phone.
	student.tapTo(`form.who button[type=submit]`, "/student/"+code)
	if out := student.path(); out != "/student/"+code {
		t.Errorf(`after "Not me?" the phone shows %s, want /student/%s`, out, code)
	}
	if html := student.outer(`header.top`); strings.Contains(html, me) {
		t.Errorf(`after "Not me?" the header still names the student: %s`, html)
	}
	student.noSideScroll(`page after "Not me?"`)
	shots.take(student, "student-signed-out")
	student.open(base+"/me", "/student")
	if p := student.path(); p != "/student" {
		t.Errorf(`after "Not me?", /me leads to %s, want /student (no session left)`, p)
	}

	// 3. The teacher reloads the heatmap and sees her progress.
	teacher.open(base+classPath+"/progress", classPath+"/progress")
	after := teacher.heatmap()
	mine := after[me]
	if len(mine) != 2 {
		t.Fatalf("heatmap row of %s after her work: %v", me, mine)
	}
	for i, c := range mine {
		if c != "cell mastered" && c != "cell started" {
			t.Errorf("after her work, %s's cell %d is %q, want mastered or started", me, i+1, c)
		}
	}
	t.Logf("heatmap of %s: before %v, after %v", me, before[me], mine)
	for _, s := range browserRoster[1:] {
		for _, c := range after[s.name] {
			if c != "cell new" {
				t.Errorf("%s did nothing, yet has a cell %q", s.name, c)
			}
		}
	}
	shots.take(teacher, "teacher-heatmap-after")

	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// browser is one headless Chromium.
type browser struct {
	ctx    context.Context // the first tab's; others share its browser
	output *logtest.Buffer // Chromium's own stdout and stderr
}

// startBrowser starts Chromium with a fresh profile; it is stopped, and the
// test's whole browser part bounded, by timeout.
func startBrowser(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	b := browsertest.Start(t, timeout)
	return &browser{ctx: b.Ctx, output: b.Output}
}

// tab opens a tab in a browser context of its own (its own cookies), set up
// by setup (nil: a 1280×900 desktop).
func (br *browser) tab(t *testing.T, name string, setup chromedp.Action[chromedp.Void]) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(br.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if setup == nil {
		setup = chromedp.EmulateViewport(1280, 900)
	}
	if err := chromedp.Do(ctx, setup); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	return &tab{t: t, name: name, ctx: ctx}
}

// tab is one user's tab; its methods fail the test on any error.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func (tb *tab) fatalf(format string, args ...any) {
	tb.t.Helper()
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	tb.t.Fatalf("%s (on %s): %s", tb.name, loc, fmt.Sprintf(format, args...))
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.fatalf("%v", err)
	}
}

// follow runs steps that load a page and checks that it loaded with a 2xx
// status at a path beginning with wantPath.
func (tb *tab) follow(wantPath string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, steps...)
	if err != nil {
		tb.fatalf("loading a page: %v", err)
	}
	if resp == nil || resp.Status < 200 || resp.Status > 299 {
		var status int64
		if resp != nil {
			status = resp.Status
		}
		tb.fatalf("got status %d, want a page at %s:\n%s", status, wantPath, tb.bodyText())
	}
	if p := tb.path(); !strings.HasPrefix(p, wantPath) {
		tb.fatalf("landed on %s, want %s:\n%s", p, wantPath, tb.bodyText())
	}
	tb.do(chromedp.WaitVisible(chromedp.CSS(`main`)))
}

// bodyText is the text of the page now, for a failure's message (it does
// not wait: an error may be a page without <main>, or plain JSON).
func (tb *tab) bodyText() string {
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(no text: %v)", err)
	}
	return s
}

func (tb *tab) open(u, wantPath string) { tb.t.Helper(); tb.follow(wantPath, chromedp.Navigate(u)) }

// submit clicks a form's button (a mouse click, as on a desktop).
func (tb *tab) submit(button, wantPath string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS(button)))
	tb.follow(wantPath, chromedp.Click(chromedp.CSS(button)))
}

// tapTo taps a link or button (a touch, as on a phone); sel is CSS, or
// XPath when it starts with "//".
func (tb *tab) tapTo(sel, wantPath string) {
	tb.t.Helper()
	if strings.HasPrefix(sel, "//") {
		tb.do(chromedp.WaitVisible(sel))
		tb.follow(wantPath, chromedp.Tap(sel))
		return
	}
	tb.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	tb.follow(wantPath, chromedp.Tap(chromedp.CSS(sel)))
}

// check taps "Check" on exercise n and wants the verdict right or wrong.
func (tb *tab) check(n int, right bool) {
	tb.t.Helper()
	tb.tapTo(`form.exercise button[type=submit]`, fmt.Sprintf("/packs/mini/sets/speed/%d", n))
	if u, err := url.Parse(tb.location()); err != nil || u.Query().Get("answer") == "" {
		tb.t.Errorf("%s: exercise %d: the verdict is not at ?answer=…: %s", tb.name, n, tb.location())
	}
	class := tb.attr(`section.verdict`, "class")
	want := "verdict wrong"
	if right {
		want = "verdict right"
	}
	if class != want {
		tb.t.Errorf("%s: exercise %d: verdict %q (%s), want %q", tb.name, n, class, tb.text(`section.verdict h2`), want)
	}
}

func (tb *tab) location() string {
	tb.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatalf("%s: location: %v", tb.name, err)
	}
	return loc
}

func (tb *tab) path() string {
	tb.t.Helper()
	u, err := url.Parse(tb.location())
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.Path
}

func (tb *tab) text(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		tb.fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func (tb *tab) outer(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.OuterHTML(chromedp.CSS(css)))
	if err != nil {
		tb.fatalf("HTML of %s: %v", css, err)
	}
	return s
}

func (tb *tab) value(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Value(chromedp.CSS(css)))
	if err != nil {
		tb.fatalf("value of %s: %v", css, err)
	}
	return s
}

func (tb *tab) attr(css, name string) string {
	tb.t.Helper()
	attrs, err := chromedp.Run(tb.ctx, chromedp.Attributes(chromedp.CSS(css)))
	if err != nil {
		tb.fatalf("attributes of %s: %v", css, err)
	}
	return attrs[name]
}

// all returns the text of every element css matches, now (no waiting).
func (tb *tab) all(css string) []string {
	tb.t.Helper()
	out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`Array.from(document.querySelectorAll(%q), e => e.textContent.trim().replace(/\s+/g, " "))`, css)))
	if err != nil {
		tb.fatalf("elements %s: %v", css, err)
	}
	return out
}

// heatmap reads the classes of the heatmap's cells, by student name.
func (tb *tab) heatmap() map[string][]string {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS(`table.heatmap`)))
	m, err := chromedp.Run(tb.ctx, chromedp.Evaluate[map[string][]string](
		`Object.fromEntries(Array.from(document.querySelectorAll("table.heatmap tbody tr"),
			tr => [tr.querySelector("th").textContent.trim(), Array.from(tr.querySelectorAll("td"), td => td.className)]))`))
	if err != nil {
		tb.fatalf("read the heatmap: %v", err)
	}
	return m
}

// noSideScroll fails the test when the page is wider than the phone.
func (tb *tab) noSideScroll(page string) {
	tb.t.Helper()
	w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[2]int](
		`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		tb.fatalf("measure the page: %v", err)
	}
	if w[0] > 360 {
		wide, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 360).slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " right=" + Math.round(e.getBoundingClientRect().right))`))
		tb.t.Errorf("%s: the %s scrolls sideways on a 360 px phone: scrollWidth %d (client width %d); too wide: %v",
			tb.name, page, w[0], w[1], wide)
	}
}

// shooter saves full-page screenshots, numbered in the order taken.
type shooter struct{ *browsertest.Shots }

func newShooter(t *testing.T) *shooter { return &shooter{browsertest.NewShots(t, "browser", "")} }

func (s *shooter) take(tb *tab, name string) {
	tb.t.Helper()
	if err := s.Take(tb.ctx, name); err != nil {
		tb.fatalf("%v", err)
	}
}
