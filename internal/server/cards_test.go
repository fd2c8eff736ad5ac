package server_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// cardOf returns the card of a student on a sheet of cards.
func cardOf(t *testing.T, sheet response, name string) string {
	t.Helper()
	for _, li := range strings.Split(sheet.body, `<li class="signin-card">`)[1:] {
		if strings.Contains(li, `<p class="card-name">`+name+`</p>`) {
			return li
		}
	}
	t.Fatalf("no card for %s:\n%.3000s", name, sheet.body)
	return ""
}

var cardPictures = regexp.MustCompile(`<span class="card-pic">(?:→ )?<svg class="icon"[^>]*aria-label="([a-z]+)"`)

// A class moves from PINs to pictures: a child who has a PIN goes on
// signing in with it, the class page names who still does, and one button
// gives them (and those with nothing yet) pictures, on cards to print;
// from then on the pictures work and the PIN does not.
func TestSwitchingToPicturesKeepsPINsUntilCardsAreMade(t *testing.T) {
	s := mustSchool(t)
	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	nigina := s.studentsA[0]
	wantStatus(t, teacher.postForm(classURL+"/settings", url.Values{"csrf": {teacher.csrf(classURL)}, "sign_in": {"pin"}, "mastery": {"last:4/5"}}), 303)
	r := teacher.postForm(classURL+"/students/"+nigina.ID+"/secret", url.Values{"csrf": {teacher.csrf(classURL)}})
	pin := regexp.MustCompile(`<b class="code">(\d{4})</b>`).FindStringSubmatch(r.body)[1]

	wantStatus(t, teacher.postForm(classURL+"/settings", url.Values{"csrf": {teacher.csrf(classURL)}, "sign_in": {"picture"}, "mastery": {"last:4/5"}}), 303)
	page := teacher.get(classURL)
	wantContains(t, page, "still sign in with their PIN", "1 — Nigina.", "Give pictures to the 2 students who have none")

	student := s.device(t, "en")
	r = student.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina.ID}})
	wantContains(t, r, `name="pin"`)
	wantLacks(t, r, `name="picture1"`)
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina.ID}, "pin": {pin}}), 303)

	sheet := teacher.postForm(classURL+"/cards", url.Values{"csrf": {teacher.csrf(classURL + "/cards")}, "who": {"missing"}})
	wantStatus(t, sheet, 200)
	wantContains(t, sheet, "New sign-ins made: 2", "/student/"+s.classA.Code)
	if sheet.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the sheet of new passwords may be cached: Cache-Control %q", sheet.Header.Get("Cache-Control"))
	}
	card := cardOf(t, sheet, "Nigina")
	pics := cardPictures.FindAllStringSubmatch(card, -1)
	if len(pics) != 2 {
		t.Fatalf("Nigina's card shows %d pictures, want 2:\n%s", len(pics), card)
	}
	cardOf(t, sheet, "Farrukh")
	wantLacks(t, teacher.get(classURL), "still sign in with their PIN")

	// Now the pictures, not the PIN.
	other := s.device(t, "en")
	r = other.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina.ID}})
	wantContains(t, r, `name="picture1"`)
	r = other.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina.ID}, "pin": {pin}})
	wantStatus(t, r, 200) // the PIN is not read: the pictures are asked for again
	wantContains(t, r, `name="picture1"`)
	r = other.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina.ID}, "picture1": {pics[0][1]}, "picture2": {pics[1][1]}})
	wantStatus(t, r, 303)
	if r := student.get("/me"); r.StatusCode != 303 {
		t.Errorf("Nigina's old session (signed in with the PIN) still works: %d", r.StatusCode)
	}

	// A second "missing" round makes nothing new; "all" renews every card.
	sheet = teacher.postForm(classURL+"/cards", url.Values{"csrf": {teacher.csrf(classURL + "/cards")}, "who": {"missing"}})
	wantContains(t, sheet, "New sign-ins made: 0")
	sheet = teacher.postForm(classURL+"/cards", url.Values{"csrf": {teacher.csrf(classURL + "/cards")}, "who": {"all"}})
	wantContains(t, sheet, "New sign-ins made: 2")
}

// A class that signs in by name gets its cards at once: name, class code
// and the box's link; nothing to make.
func TestCardsOfANameClass(t *testing.T) {
	s := mustSchool(t)
	teacher := s.device(t, "ru")
	teacher.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	r := teacher.get(classURL + "/cards")
	wantStatus(t, r, 200)
	wantContains(t, r, `<p class="card-name">Nigina</p>`, `<p class="card-name">Farrukh</p>`, `<b class="code">`+s.classA.Code+`</b>`, "/student/"+s.classA.Code+"</p>")
	wantLacks(t, r, `action="`+classURL+`/cards"`, "PIN:")
	wantStatus(t, teacher.postForm(classURL+"/cards", url.Values{"csrf": {teacher.csrf(classURL)}, "who": {"all"}}), 422)
	// Another teacher's class is not there.
	wantStatus(t, teacher.get("/teach/classes/"+s.classB.ID+"/cards"), 404)
}
