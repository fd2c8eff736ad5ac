package studio_test

import (
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/studio"
)

func goodSet() studio.Doc {
	return studio.Doc{
		Title: studio.Text{"tg": "Суръат", "ru": "Скорость"}, Subject: "physics", Grades: []int{7}, Languages: []string{"tg", "ru"},
		Items: []studio.Item{
			{ID: "q1", Type: "choice", Prompt: studio.Text{"tg": "$v = s/t$?", "ru": "$v = s/t$?"}, Choices: []studio.Choice{
				{Text: studio.Text{"tg": "ҳа", "ru": "да"}, Correct: true}, {Text: studio.Text{"tg": "не", "ru": "нет"}}}},
			{ID: "q2", Type: "poll", Prompt: studio.Text{"tg": "?", "ru": "?"}, Choices: []studio.Choice{
				{Text: studio.Text{"tg": "1", "ru": "1"}}, {Text: studio.Text{"tg": "2", "ru": "2"}}}},
			{ID: "q3", Type: "numeric", Prompt: studio.Text{"tg": "?", "ru": "?"}, Answer: 9.8, Tolerance: 0.1},
			{ID: "q4", Type: "text", Prompt: studio.Text{"tg": "?", "ru": "?"}, Accepted: map[string][]string{"tg": {"об"}, "ru": {"вода"}}},
		},
	}
}

func TestValidate(t *testing.T) {
	if err := studio.Validate(goodSet(), studio.KindSet); err != nil {
		t.Fatalf("a good set: %v", err)
	}
	cases := []struct {
		name string
		edit func(*studio.Doc)
		want []string // "item:key"
	}{
		{"no title in ru", func(d *studio.Doc) { d.Title["ru"] = " " }, []string{"0:studio.problem.no_title"}},
		{"two right choices", func(d *studio.Doc) { d.Items[0].Choices[1].Correct = true }, []string{"1:studio.problem.one_correct"}},
		{"a poll with a right answer", func(d *studio.Doc) { d.Items[1].Choices[0].Correct = true }, []string{"2:studio.problem.poll_correct"}},
		{"negative tolerance", func(d *studio.Doc) { d.Items[2].Tolerance = -1 }, []string{"3:studio.problem.tolerance"}},
		{"no accepted answer in ru", func(d *studio.Doc) { d.Items[3].Accepted["ru"] = []string{" "} }, []string{"4:studio.problem.no_accepted"}},
		{"same id twice", func(d *studio.Doc) { d.Items[3].ID = "q1" }, []string{"4:studio.problem.item_id_twice"}},
		{"an unknown type", func(d *studio.Doc) { d.Items[2].Type = "essay" }, []string{"3:studio.problem.item_type"}},
		{"a missing prompt and choice", func(d *studio.Doc) {
			delete(d.Items[0].Prompt, "tg")
			d.Items[0].Choices[1].Text["ru"] = ""
		}, []string{"1:studio.problem.no_prompt", "1:studio.problem.no_choice_text"}},
		{"10,000 items", func(d *studio.Doc) {
			for len(d.Items) < 10000 {
				d.Items = append(d.Items, d.Items[0])
			}
		}, []string{"0:studio.problem.too_many_items"}},
	}
	for _, c := range cases {
		doc := goodSet()
		c.edit(&doc)
		err := studio.Validate(doc, studio.KindSet)
		if failure.KindOf(err) != failure.Invalid {
			t.Errorf("%s: got %v, want an Invalid error", c.name, err)
			continue
		}
		var got []string
		for _, p := range studio.ProblemsOf(err) {
			got = append(got, strings.Join([]string{string(rune('0' + p.Item)), p.Key}, ":"))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: problems %v, want %v", c.name, got, c.want)
		}
	}
}

func TestProblemMessages(t *testing.T) {
	p := studio.Problem{Item: 3, Field: "prompt.tg", Key: "studio.problem.no_prompt", Args: []any{"tg"}}
	if got, want := p.Message("ru"), "Вопрос 3: Напишите вопрос (tg)."; got != want {
		t.Errorf("in Russian: %q, want %q", got, want)
	}
	if got, want := p.Error(), "Question 3: Write the question (tg)."; got != want {
		t.Errorf("in English: %q, want %q", got, want)
	}
}

func TestNewIDAndVersions(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := studio.NewID()
		if !studio.ValidID(id) || seen[id] {
			t.Fatalf("NewID gave %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	if n, err := studio.Major("12.0.0"); n != 12 || err != nil {
		t.Errorf("Major(12.0.0) = %d, %v", n, err)
	}
	for _, v := range []string{"0.0.0", "1.2.0", "01.0.0", "x"} {
		if _, err := studio.Major(v); err == nil {
			t.Errorf("Major(%q) took it", v)
		}
	}
}
