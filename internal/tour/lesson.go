package tour

import (
	"fmt"

	"github.com/chromedp/chromedp"
	"regexp"
	"strings"
)

// The people of the lesson. Their names are Cyrillic, as in a school in
// Tajikistan, so that an English word on a page is the interface's.
const (
	adminUser, adminName, adminPass       = "admin", "Нозим Саидов", "tour-admin-pass"
	teacherUser, teacherName, teacherPass = "rahimova", "Малика Рахимова", "tour-teacher-pass"
	className                             = "7А"
)

var students = []string{"Зарина Каримова", "Фаррух Назаров", "Шабнам Исмоилова", "Далер Юсуфов"}

// The projector's and phones' conditions: the live page has drawn its
// state (the session's websocket has answered).
const (
	liveDrawn = `document.querySelector('#live') && document.querySelector('#live').children.length > 0`
	playing   = `document.querySelector('.live-prompt')`
)

// lesson is the whole lesson, in the order a school lives it.
func (t *tour) lesson() {
	// A guest: the catalogue, a pack, a lesson, the sign-in page.
	guest := t.newTab("guest", "tg", Sizes[0])
	guest.open("/")
	guest.capture("catalogue", "")
	pack := js[string](guest, `(document.querySelector('a[href^="/packs/climate"]') || document.querySelector('a[href^="/packs/"]')).getAttribute('href')`)
	guest.open(pack)
	guest.capture("pack", "")
	guest.open(js[string](guest, `document.querySelector('main a[href*="/lessons/"]').getAttribute('href')`))
	guest.capture("lesson", "")

	// 1. The admin makes the box's first account, then a teacher's.
	admin := t.newTab("admin", "tg", Sizes[1])
	admin.open("/setup")
	admin.capture("setup", "")
	admin.typeIn(`input[name=username]`, adminUser)
	admin.typeIn(`input[name=name]`, adminName)
	admin.typeIn(`input[name=password]`, adminPass)
	admin.typeIn(`input[name=password2]`, adminPass)
	admin.submit(`form[action="/setup"] button[type=submit]`)
	admin.capture("admin", "")
	admin.typeIn(`form[action="/admin/teachers"] input[name=username]`, teacherUser)
	admin.typeIn(`form[action="/admin/teachers"] input[name=name]`, teacherName)
	admin.typeIn(`form[action="/admin/teachers"] input[name=password]`, teacherPass)
	admin.submit(`form[action="/admin/teachers"] button[type=submit]`)
	admin.captureHere("admin-teacher-made", "")
	for _, p := range []string{"status", "sync", "peers"} {
		admin.open("/admin/" + p)
		admin.capture("admin-"+p, "")
	}

	// 2. The teacher signs in on a laptop, makes the class, imports the
	// roster and assigns an exercise set.
	teacher := t.newTab("teacher", "tg", Sizes[1])
	teacher.open("/login")
	teacher.capture("login", "")
	teacher.typeIn(`input[name=username]`, teacherUser)
	teacher.typeIn(`input[name=password]`, teacherPass)
	teacher.submit(`form[action="/login"] button[type=submit]`)
	teacher.open("/teach")
	teacher.capture("teach", "")
	teacher.typeIn(`form[action="/teach/classes"] input[name=name]`, className)
	teacher.submit(`form[action="/teach/classes"] button[type=submit]`)
	class := teacher.path()
	if !regexp.MustCompile(`^/teach/classes/[^/?]+$`).MatchString(class) {
		teacher.failf("after making a class the teacher is on %s, want the class's page", class)
	}
	code := js[string](teacher, `document.querySelector('b.code').textContent.trim()`)
	teacher.capture("class-new", "")
	var roster strings.Builder
	roster.WriteString("name,gender,birth_year\n")
	for i, s := range students {
		fmt.Fprintf(&roster, "%s,%s,%d\n", s, []string{"f", "m"}[i%2], 2013)
	}
	teacher.click(`details:has(form[action$="/roster"]) > summary`)
	teacher.typeIn(`form[action$="/roster"] textarea[name=csv]`, roster.String())
	teacher.submit(`form[action$="/roster"] button[type=submit]`)
	teacher.captureHere("roster-imported", "")
	set := js[string](teacher, `(Array.from(document.querySelectorAll('select[name=what] option')).find(function(o){return o.value.indexOf('climate-energy-change|set|') === 0}) ||
		Array.from(document.querySelectorAll('select[name=what] option')).find(function(o){return o.value.indexOf('|set|') > 0})).value`)
	teacher.do(setValue(`form[action$="/assign"] select[name=what]`, set))
	teacher.submit(`form[action$="/assign"] button[type=submit]`)
	teacher.open(class)
	teacher.capture("class-assigned", "")
	teacher.open(class + "/cards")
	teacher.capture("cards", "")

	// 3. Four students sign in on phones and do the set; the first is
	// looked at on every page.
	var kids []*tab
	for i, name := range students {
		kid := t.newTab(fmt.Sprintf("student %d", i+1), "tg", Sizes[0])
		first := i == 0
		kid.open("/student")
		if first {
			kid.capture("student-code", "")
		}
		kid.typeIn(`form[action="/student"] input[name=code]`, strings.ToLower(code))
		kid.submit(`form[action="/student"] button[type=submit]`)
		if first {
			kid.capture("student-names", "")
		}
		kid.pickName(name)
		if first {
			kid.capture("student-home", "")
		}
		kid.open("/me")
		kid.submit(`p.cta a.button`)
		if first {
			kid.capture("set", "")
		}
		kid.doSet(i, first)
		kids = append(kids, kid)
	}

	// 4. The live quiz: the teacher makes it, a projector shows it, the
	// four join on their phones and answer every question.
	t.liveQuiz(teacher, kids)

	// 5. The teacher looks at what the class did.
	teacher.open(class + "/progress")
	teacher.capture("progress", "")
	student := js[string](teacher, `document.querySelector('a[href*="/students/"]').getAttribute('href')`)
	teacher.open(student)
	teacher.capture("student-answers", "")
	teacher.open(class)
	teacher.open(js[string](teacher, `document.querySelector('ul.work a[href^="/teach/classes/"][href*="/sets/"]').getAttribute('href')`))
	teacher.capture("item-analysis", "")
	teacher.open(class + "/report")
	teacher.capture("report", "")
	teacher.open("/me")
	teacher.capture("teacher-home", "")
}

// pickName taps the student's own name among the class's tiles.
func (tb *tab) pickName(name string) {
	if !strings.HasPrefix(tb.path(), "/student/") {
		return
	}
	js[bool](tb, fmt.Sprintf(`(function(){
		var b = Array.from(document.querySelectorAll('button.tile')).find(function(b){ return b.textContent.trim() === %q });
		b.setAttribute('data-tour-pick', ''); return true })()`, name))
	tb.submit(`button.tile[data-tour-pick]`)
}

func setValue(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(css), v)
}

// question is the path of a question of a set: /packs/P/sets/S/N.
var question = regexp.MustCompile(`^/packs/[^/]+/sets/[^/]+/\d+$`)

// doSet answers every exercise of the set from its start page: the n-th
// student picks the n-th choice (so the class's answers differ) and types
// a number or a word (a right number for every other one). The first
// student's pages are captured.
func (tb *tab) doSet(n int, first bool) {
	tb.submit(`p.cta a.button`)
	answered := 0
	for step := 0; step < 30; step++ {
		if first && step == 0 {
			tb.capture("exercise", "")
		}
		js[bool](tb, fmt.Sprintf(`(function(){
			var f = document.querySelector('form.exercise'), n = %d;
			var r = f.querySelectorAll('input[type=radio]'); if (r.length) r[n %% r.length].checked = true;
			var c = f.querySelectorAll('input[type=checkbox]'); if (c.length) c[n %% c.length].checked = true;
			var t = f.querySelector('input[name=text][type=text]');
			if (t) t.value = t.getAttribute('inputmode') === 'decimal' ? (n %% 2 ? "12" : "238") : (n %% 2 ? "энергия" : "альбедо");
			return true })()`, n))
		tb.submit(`form.exercise button[type=submit]`)
		if first && step == 0 {
			tb.capture("verdict", "")
		}
		next := js[string](tb, `document.querySelector('p.cta a.button:not(.secondary)').getAttribute('href')`)
		tb.open(next)
		answered++
		if !question.MatchString(strings.SplitN(next, "?", 2)[0]) {
			if answered < 2 {
				tb.failf("the set ended after %d questions", answered)
			}
			if first {
				tb.capture("set-done", "")
			}
			return
		}
	}
	tb.failf("the set did not end after 30 exercises")
}
