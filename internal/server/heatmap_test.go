package server_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/school"
)

var heatRowRE = regexp.MustCompile(`(?s)<tr(?: class="help-row")?><th scope="row" class="who"><a [^>]*>([^<]+)</a></th><td class="([^"]+)"[^>]*>(.*?)</td>`)

// TestHeatmapRightOfAnsweredAndNeedsHelp: on a real database, students who
// answered 3 of 3, 1 of 6 and 1 of 2 right show three different cells,
// right of answered apart from the mastery, and only the one with 1 of 6
// is flagged and listed as needing help, with the rule in the key.
func TestHeatmapRightOfAnsweredAndNeedsHelp(t *testing.T) {
	s := mustSchool(t)
	ctx := context.Background()
	kids, err := s.db.AddStudents(ctx, "", s.classA.ID, []school.NewStudent{{Name: "Aziz"}, {Name: "Bobur"}, {Name: "Dilnoza"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, answers := range []string{"111", "100000", "01"} {
		for n, c := range answers {
			a := event.Answer{Learner: kids[i].LearnerID(), Pack: "mini", PackVersion: "1", Set: "speed", Lang: "en",
				Item: []string{"choice-1", "text-5"}[n%2], Choices: []int{0}, Correct: c == '1'}
			if a.Correct {
				a.Score = 1
			}
			if _, err := s.db.RecordAnswer(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := s.device(t, "en")
	d.signIn("aziza", password)
	r := d.get("/teach/classes/" + s.classA.ID + "/progress")
	wantStatus(t, r, 200)
	cells := map[string][2]string{}
	for _, m := range heatRowRE.FindAllStringSubmatch(r.body, -1) {
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[3], "")
		cells[m[1]] = [2]string{m[2], strings.TrimSpace(text)}
	}
	for name, want := range map[string][2]string{
		"Aziz":    {"cell started", "◐ 3/3, started"}, // 3 of the last 5 is not yet 4 of 5
		"Bobur":   {"cell started help", "! 1/6, started, needs help"},
		"Dilnoza": {"cell started", "◐ 1/2, started"},
		"Nigina":  {"cell new", "– not started, not started"},
	} {
		if got := cells[name]; got != want {
			t.Errorf("%s's cell is %q, want %q", name, got, want)
		}
	}
	help := regexp.MustCompile(`(?s)<section class="needs-help".*?</section>`).FindString(r.body)
	if !strings.Contains(help, "Bobur") || strings.Contains(help, "Aziz") || strings.Contains(help, "Dilnoza") {
		t.Errorf("the needs-help list is %q, want Bobur only", help)
	}
	wantContains(t, r, `<tr class="help-row"><th scope="row" class="who"><a href="/teach/classes/`+s.classA.ID+`/students/`+kids[1].ID+`">Bobur</a>`,
		"fewer than half right after 3 or more answers, or the last 3 answers wrong",
		`title="1. Exercises: Speed"`, `<span class="n">1</span>`)
	// In Tajik and Russian too, with no English left.
	for _, lang := range []string{"ru", "tg"} {
		d := s.device(t, lang)
		d.signIn("aziza", password)
		r := d.get("/teach/classes/" + s.classA.ID + "/progress")
		wantLacks(t, r, "needs help", "Needs help", "right of answered", "Key")
	}
}
