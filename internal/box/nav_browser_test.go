package box_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

// js evaluates expr in tb's page.
func js[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// miniBoxWithTeacher runs a box with the mini pack and a teacher
// "rahimova" called name, with password pw; it returns the box's URL, its
// database and the teacher.
func miniBoxWithTeacher(t *testing.T, name, pw string) (string, *store.DB, school.User) {
	t.Helper()
	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ := mustRunBox(t, data, packs)
	teacher, err := b.DB().CreateUser(context.Background(), "", school.RoleTeacher, "rahimova", name, auth.Hash(pw))
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + b.Addr().String(), b.DB(), teacher
}

// headerFits checks, on a 360×640 phone, that the header is one compact
// row and that its menu opens (a <details>, no script needed) with every
// entry on the screen and at least 44 px tall.
func (tb *tab) headerFits(who string) {
	tb.t.Helper()
	if h := js[float64](tb, `document.querySelector("header.top").getBoundingClientRect().height`); h > 60 {
		tb.t.Errorf("%s: the header is %.0f px tall on a 360×640 phone, want at most 60", who, h)
	}
	tb.do(chromedp.Tap(chromedp.CSS(`details.menu > summary`)))
	tb.do(chromedp.WaitVisible(chromedp.CSS(`.menu-panel .menu-links a`)))
	bad := js[[]string](tb, `Array.from(document.querySelectorAll(".menu-panel a, .menu-panel button")).filter(function(e){
		var r = e.getBoundingClientRect(); return r.height < 44 || r.left < 0 || r.right > 360 || r.bottom > 640 }).map(function(e){
		var r = e.getBoundingClientRect(); return e.textContent.trim() + " " + Math.round(r.left) + ".." + Math.round(r.right) + " h" + Math.round(r.height) })`)
	if !js[bool](tb, `document.querySelector("details.menu").open`) || len(bad) > 0 {
		tb.t.Errorf("%s: the open menu has entries off the screen or under 44 px: %v", who, bad)
	}
	tb.noSideScroll(who + "'s page with the menu open")
}

// tapTargets fails the test for links, buttons and fields of the page's
// main part under 44 px tall on a phone.
func (tb *tab) tapTargets(page string) {
	tb.t.Helper()
	small := js[[]string](tb, `Array.from(document.querySelectorAll("main a, main button, main input, main select, main summary")).filter(function(e){
		var r = e.getBoundingClientRect(); return r.height > 0 && r.height < 44 && e.type !== "hidden" }).map(function(e){
		return e.tagName.toLowerCase() + " " + (e.textContent.trim() || e.name) + " h" + Math.round(e.getBoundingClientRect().height) })`)
	if len(small) > 0 {
		tb.t.Errorf("%s: tap targets under 44 px on the %s: %q", tb.name, page, small)
	}
}

// TestBrowserNavigationAndHeatmap checks in Chromium what the HTTP tests
// cannot: on a 360×640 phone the header of a guest, a student and a
// teacher is one row at most 60 px tall and its menu opens; the teacher's
// home does not scroll sideways; the heatmap fits a 1280×800 laptop and a
// phone without the page scrolling sideways, its grid scrolling inside
// itself with the names staying in view.
func TestBrowserNavigationAndHeatmap(t *testing.T) {
	browsertest.Need(t)
	const pw = "navigation-pw-1"
	base, db, teacher := miniBoxWithTeacher(t, "Малика Рахимова", pw)
	ctx := context.Background()
	class, _ := db.CreateClass(ctx, "", "7А", 7, teacher.ID)
	db.CreateClass(ctx, "", "8Б", 8, teacher.ID)
	kids, err := db.AddStudents(ctx, "", class.ID, []school.NewStudent{{Name: "Азиз Каримов"}, {Name: "Бобур Назаров"},
		{Name: "Дилноза Мухаммадҷонова"}, {Name: "Зарина"}, {Name: "Фаррух Абдурахмонов"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"set", "speed"}, {"lesson", "speed"}, {"lesson", "force"}, {"set", "quiz"}} {
		if err := db.Assign(ctx, "", class.ID, "mini", a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	for i, answers := range []string{"111", "100000", "01", "1111"} {
		for _, c := range answers {
			ans := event.Answer{Learner: kids[i].LearnerID(), Pack: "mini", PackVersion: "1", Set: "speed", Item: "choice-1", Lang: "ru", Choices: []int{0}, Correct: c == '1'}
			if _, err := db.RecordAnswer(ctx, ans); err != nil {
				t.Fatal(err)
			}
		}
	}
	shots := &shooter{browsertest.NewShots(t, "navigation", "")}
	br := startBrowser(t, 180*time.Second)
	phone := chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch)

	for _, lang := range []string{"ru", "tg", "en"} {
		guest := br.tab(t, "guest-"+lang, phone)
		guest.open(base+"/lang/"+lang+"?next=/", "/")
		guest.noSideScroll("guest's home")
		guest.tapTargets("guest's home")
		if lang == "tg" {
			shots.take(guest, "guest-home-phone-tg")
		}
		guest.headerFits("guest (" + lang + ")")
	}

	kid := br.tab(t, "student", phone)
	kid.open(base+"/lang/ru?next=/student/"+class.Code, "/student/")
	kid.tapTo(fmt.Sprintf(`//button[contains(@class,"tile") and normalize-space()=%q]`, "Дилноза Мухаммадҷонова"), "/me")
	kid.noSideScroll("student's home")
	kid.tapTargets("student's home")
	kid.headerFits("student")

	lead := br.tab(t, "teacher-phone", phone)
	lead.open(base+"/lang/tg?next=/login", "/login")
	lead.do(chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "rahimova"), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw))
	lead.submit(`form[action="/login"] button[type=submit]`, "/teach")
	lead.noSideScroll("teacher's home")
	lead.tapTargets("teacher's home")
	shots.take(lead, "teacher-home-phone")
	lead.headerFits("teacher")
	shots.take(lead, "teacher-menu-phone")

	// The heatmap on the phone: the page stays put, the grid scrolls, the
	// names stay in view.
	progress := "/teach/classes/" + class.ID + "/progress"
	lead.open(base+progress, progress)
	lead.noSideScroll("heatmap")
	grid := js[[2]float64](lead, `(function(g){return [g.scrollWidth, g.clientWidth]})(document.querySelector(".grid-scroll"))`)
	if grid[0] <= grid[1] {
		t.Errorf("on a phone the grid is %v px wide in a %v px box: it should scroll inside itself", grid[0], grid[1])
	}
	moved := js[[4]float64](lead, `(function(){var g = document.querySelector(".grid-scroll"), name = g.querySelector("tbody th.who"),
		cell = g.querySelector("tbody td"), n0 = name.getBoundingClientRect().left, c0 = cell.getBoundingClientRect().left;
		g.scrollLeft = 400; return [n0, name.getBoundingClientRect().left, c0, cell.getBoundingClientRect().left]})()`)
	if moved[1] != moved[0] || moved[3] >= moved[2] {
		t.Errorf("scrolling the grid: the name went from x=%v to %v (want it to stay), a cell from %v to %v (want it to move left)", moved[0], moved[1], moved[2], moved[3])
	}
	lead.tapTargets("heatmap")
	js[bool](lead, `document.querySelector(".grid-scroll").scrollLeft = 0; true`)
	shots.take(lead, "heatmap-phone")

	// On a laptop the whole grid shows, and the struggling student is flagged.
	laptop := br.tab(t, "teacher-laptop", chromedp.EmulateViewport(1280, 800))
	laptop.open(base+"/lang/ru?next=/login", "/login")
	laptop.do(chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "rahimova"), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw))
	laptop.submit(`form[action="/login"] button[type=submit]`, "/teach")
	laptop.open(base+progress, progress)
	fit := js[[4]float64](laptop, `(function(g){return [document.documentElement.scrollWidth, document.documentElement.clientWidth, g.scrollWidth, g.clientWidth]})(document.querySelector(".grid-scroll"))`)
	if fit[0] > fit[1] || fit[2] > fit[3] {
		t.Errorf("at 1280×800 the page is %v px wide in %v, the grid %v in %v: want all of it on the screen", fit[0], fit[1], fit[2], fit[3])
	}
	if got := laptop.all(`.needs-help li strong`); len(got) != 1 || got[0] != "Бобур Назаров" {
		t.Errorf("needs help lists %q, want Бобур Назаров", got)
	}
	cells := laptop.heatmap()
	for name, want := range map[string]string{"Азиз Каримов": "cell started", "Бобур Назаров": "cell started help", "Дилноза Мухаммадҷонова": "cell started", "Зарина": "cell mastered", "Фаррух Абдурахмонов": "cell new"} {
		if got := cells[name]; len(got) == 0 || got[0] != want {
			t.Errorf("%s's first cell is %v, want %q", name, got, want)
		}
	}
	if bar := js[bool](laptop, `getComputedStyle(document.querySelector("header .mainnav")).display !== "none"`); !bar {
		t.Error("on a laptop the header shows no bar of main pages")
	}
	shots.take(laptop, "heatmap-laptop")
}
