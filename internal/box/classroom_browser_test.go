package box_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/school"
)

// TestBrowserClassroomOnAPhone checks, in a real Chromium on a 360×640
// phone in Russian, what only a browser shows: the PIN field does not
// cover its label, the picked picture of a picture password is marked
// plainly (not only by its radio dot), /live/new and the sign-in card
// sheet do not scroll sideways, and the printed report and card sheet
// leave out the header and the connection banner. It uses the browser
// helpers of browser_test.go and live_browser_test.go.
func TestBrowserClassroomOnAPhone(t *testing.T) {
	browsertest.Need(t)
	const pw = "classroom-pw-1"
	base, db, teacherUser := miniBoxWithTeacher(t, "Малика", pw)
	ctx := context.Background()
	pinClass, _ := db.CreateClass(ctx, "", "7А", 7, teacherUser.ID)
	picClass, _ := db.CreateClass(ctx, "", "5Б", 5, teacherUser.ID)
	db.UpdateClass(ctx, "", pinClass.ID, school.SignInPIN, school.DefaultMastery)
	db.UpdateClass(ctx, "", picClass.ID, school.SignInPicture, school.DefaultMastery)
	pinKid, err := db.AddStudents(ctx, "", pinClass.ID, []school.NewStudent{{Name: "Зарина Рахимова", SecretHash: auth.Hash("4821")}})
	if err != nil {
		t.Fatal(err)
	}
	picKid, _ := db.AddStudents(ctx, "", picClass.ID, []school.NewStudent{{Name: "Фаррух", SecretHash: auth.Hash("sun-tree"), SecretKind: school.SignInPicture}})

	shots := &shooter{browsertest.NewShots(t, "classroom", "phone-")}
	br := startBrowser(t, 180*time.Second)
	phone := chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)

	// A child signing in with a PIN: the field sits under its label.
	kid := br.tab(t, "student", phone)
	kid.open(base+"/lang/ru?next=/student/"+pinClass.Code, "/student/")
	kid.tapTo(`button.tile`, "/student/")
	kid.do(chromedp.WaitVisible(chromedp.CSS(`input.pin`)))
	shots.take(kid, "pin")
	kid.noOverlap(`label.field span`, `input.pin`)
	kid.noSideScroll("PIN page")

	// A child signing in with pictures: the picked one is marked plainly.
	kid.open(base+"/student/"+picClass.Code, "/student/")
	kid.tapTo(`button.tile`, "/student/")
	kid.do(chromedp.WaitVisible(chromedp.CSS(`input[name=picture1]`)))
	kid.do(chromedp.Tap(chromedp.CSS(`input[name=picture1][value=tree] + .face`)))
	shots.take(kid, "picture-picked")
	marks, err := chromedp.Run(kid.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input[name=picture1]"), i => {
		var f = i.nextElementSibling, s = getComputedStyle(f), a = getComputedStyle(f, "::after");
		return (i.checked ? "checked " : "") + s.borderTopColor + " " + s.backgroundColor + " " + a.content })`))
	if err != nil {
		t.Fatal(err)
	}
	var picked, other string
	for _, m := range marks {
		if strings.HasPrefix(m, "checked ") {
			picked = strings.TrimPrefix(m, "checked ")
		} else {
			other = m
		}
	}
	if picked == "" || picked == other || !strings.Contains(picked, `"✓"`) {
		t.Errorf("the picked picture looks like the others: picked %q, another %q", picked, other)
	}
	kid.noSideScroll("pictures page")
	_ = picKid

	// The teacher on a phone, in Russian.
	teacher := br.tab(t, "teacher", phone)
	teacher.open(base+"/lang/ru?next=/login", "/login")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "rahimova"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
	)
	teacher.submit(`form[action="/login"] button[type=submit]`, "/teach")
	teacher.open(base+"/live/new", "/live/new")
	shots.take(teacher, "live-new")
	teacher.noSideScroll("/live/new page")
	// A child's answers, as the teacher reads them on a phone.
	for _, a := range []event.Answer{
		{Learner: pinKid[0].LearnerID(), Pack: "mini", PackVersion: "1", Set: "speed", Item: "choice-1", Lang: "ru", Choices: []int{1}},
		{Learner: pinKid[0].LearnerID(), Pack: "mini", PackVersion: "1", Set: "speed", Item: "text-5", Lang: "ru", Text: "скорость", Correct: true, Score: 1},
	} {
		if _, err := db.RecordAnswer(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	teacher.open(base+"/teach/classes/"+pinClass.ID+"/students/"+pinKid[0].ID, "/teach/classes/")
	if got := teacher.all(`.said dd`); len(got) != 3 || got[0] != "240 км/ч" || got[1] != "60 км/ч" || got[2] != "скорость" {
		t.Errorf("the child's answers read %q, want the answer and the right one of the bus, then скорость", got)
	}
	shots.take(teacher, "answers")
	teacher.noSideScroll("student's answers page")
	teacher.open(base+"/teach/classes/"+pinClass.ID+"/cards", "/teach/classes/")
	shots.take(teacher, "cards")
	teacher.noSideScroll("sign-in cards page")

	// Printed, the report and the cards are the page's content only.
	for _, page := range []string{"/teach/classes/" + pinClass.ID + "/report", "/teach/classes/" + pinClass.ID + "/cards"} {
		teacher.open(base+page, page)
		// The banner as when the box is out of reach: shown on screen.
		if _, err := chromedp.Run(teacher.ctx, chromedp.Evaluate[bool](`document.getElementById("offline-conn").className = "conn offline"; true`)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(teacher.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		shown, err := chromedp.Run(teacher.ctx, chromedp.Evaluate[[]string](`["header.top", "#offline-conn", "footer.foot", ".crumbs", ".noprint"].filter(s => {
			var e = document.querySelector(s); return e && getComputedStyle(e).display !== "none" })`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(teacher.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
			t.Fatal(err)
		}
		if len(shown) > 0 {
			t.Errorf("printing %s prints %v", page, shown)
		}
	}
}

// noOverlap fails the test when the first elements a and b overlap, b
// with its focus ring (its outline, drawn outside its box).
func (tb *tab) noOverlap(a, b string) {
	tb.t.Helper()
	r, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(function(){
		var a = document.querySelector(%q).getBoundingClientRect(), e = document.querySelector(%q), b = e.getBoundingClientRect();
		var s = getComputedStyle(e), o = s.outlineStyle === "none" ? 0 : parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
		return [a.left, a.top, a.right, a.bottom, b.left - o, b.top - o, b.right + o, b.bottom + o] })()`, a, b)))
	if err != nil {
		tb.fatalf("measure %s and %s: %v", a, b, err)
	}
	if r[0] < r[6] && r[4] < r[2] && r[1] < r[7] && r[5] < r[3] {
		tb.t.Errorf("%s: %s %v and %s %v overlap", tb.name, a, r[:4], b, r[4:])
	}
}
