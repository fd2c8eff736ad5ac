package studio_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/studio"
)

func TestSourceOfASet(t *testing.T) {
	doc := goodSet()
	doc.Items[0].Prompt["tg"] = "![Расм](media/" + strings.Repeat("ab", 32) + ".jpg) $v = s/t$?"
	src, err := studio.Source(doc, studio.KindSet, "tkey-abcdefghij", "3.0.0")
	if err != nil {
		t.Fatal(err)
	}
	pack := string(src.Files["pack.yaml"])
	for _, want := range []string{"id: tkey-abcdefghij\n", "version: 3.0.0\n", "languages: [tg, ru]\n", "- id: set\n      file: exercises/set.yaml\n"} {
		if !strings.Contains(pack, want) {
			t.Errorf("pack.yaml lacks %q:\n%s", want, pack)
		}
	}
	set := string(src.Files[studio.SetFile])
	for _, want := range []string{"type: poll\n", "answer: 9.8\n", "tolerance: 0.1\n", "correct: true\n", "- об\n"} {
		if !strings.Contains(set, want) {
			t.Errorf("set.yaml lacks %q:\n%s", want, set)
		}
	}
	if len(src.Media) != 1 || src.Media[0] != "media/"+strings.Repeat("ab", 32)+".jpg" {
		t.Errorf("media: %v", src.Media)
	}
	// A builder's error at a line is about the item written there.
	lines := strings.Split(set, "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "- id: q3") {
			found = true
			p := src.Problem(errors.New("exercises/set.yaml:" + strconv.Itoa(i+3) + ": prompt (ru): markup: formula"))
			if p.Item != 3 || p.Key != "studio.problem.markup" || p.Args[0] != "prompt (ru): markup: formula" {
				t.Errorf("the problem at line %d: %+v, want item 3", i+3, p)
			}
		}
	}
	if !found {
		t.Errorf("no item q3 in set.yaml:\n%s", set)
	}
	if p := src.Problem(errors.New("pack.yaml: something")); p.Key != "studio.problem.build" {
		t.Errorf("another error: %+v", p)
	}
}

func TestSourceOfALesson(t *testing.T) {
	doc := studio.Doc{Title: studio.Text{"ru": "Сила"}, Subject: "physics", Grades: []int{7}, Languages: []string{"ru", "en"},
		Body: studio.Text{"ru": "Сила — это $F = ma$.", "en": "# Force\n\nForce is $F = ma$."}}
	src, err := studio.Source(doc, studio.KindLesson, "tkey-abcdefghij", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(src.Files[studio.LessonFile("ru")]); got != "# Сила\n\nСила — это $F = ma$.\n" {
		t.Errorf("the Russian lesson: %q", got)
	}
	if got := string(src.Files[studio.LessonFile("en")]); !strings.HasPrefix(got, "# Force\n") {
		t.Errorf("the English lesson keeps its own heading: %q", got)
	}
	if p := src.Problem(errors.New("lessons/lesson.en.md: markup: line 3: formula")); p.Field != "body.en" {
		t.Errorf("a lesson's problem: %+v", p)
	}
}
