package studio_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gift"
	"github.com/mitstem/stembox/internal/studio"
)

func TestFromGIFT(t *testing.T) {
	src := []byte(`::Q1:: Суръати $v = s/t$ чист? {=суръат ~масофа#Не, ин масофа аст ~вақт}

::Ҳарорат:: Об дар чанд дараҷа меҷӯшад? {#100:1}

// a comment
Замин гирд аст. {T}

Калимаи "об" {=об =вода}

::M:: Кадомҳо қувваанд? {~%50%вазн ~%50%ҷозиба ~%-100%суръат}
`)
	doc, err := studio.FromGIFT("uploads/Физика 7.gift", src, "tg")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title["tg"] != "Физика 7" || len(doc.Items) != 5 || doc.Languages[0] != "tg" {
		t.Fatalf("doc: %+v, want five items titled Физика 7 in tg", doc)
	}
	it := doc.Items
	if it[0].ID != "q1" || it[0].Type != "choice" || !it[0].Choices[0].Correct || it[0].Choices[1].Correct || it[0].Choices[1].Feedback["tg"] != "Не, ин масофа аст" {
		t.Errorf("choice: %+v", it[0])
	}
	if !strings.Contains(it[0].Prompt["tg"], "$v = s/t$") {
		t.Errorf("the prompt lost its TeX: %q", it[0].Prompt["tg"])
	}
	if it[1].Type != "numeric" || it[1].Answer != 100 || it[1].Tolerance != 1 || it[1].ID != "harorat" {
		t.Errorf("numeric (its id from its title): %+v", it[1])
	}
	if it[2].Type != "truefalse" || !it[2].True {
		t.Errorf("truefalse: %+v", it[2])
	}
	if it[3].Type != "text" || strings.Join(it[3].Accepted["tg"], ",") != "об,вода" {
		t.Errorf("text: %+v", it[3])
	}
	if it[4].Type != "multi" || !it[4].Choices[0].Correct || !it[4].Choices[1].Correct || it[4].Choices[2].Correct {
		t.Errorf("multi: %+v", it[4])
	}
	doc.Subject, doc.Grades = "physics", []int{7}
	if err := studio.Validate(doc, studio.KindSet); err != nil {
		t.Errorf("a GIFT import with subject and grades does not validate: %v", err)
	}
}

func TestFromGIFTErrors(t *testing.T) {
	_, err := studio.FromGIFT("a.gift", []byte("Question one {=a ~b}\n\nQuestion two {=a -> b}\n"), "ru")
	var ge *gift.Error
	if failure.KindOf(err) != failure.Invalid || !errors.As(err, &ge) || ge.Line != 3 {
		t.Fatalf("a matching question: %v, want an Invalid *gift.Error at line 3", err)
	}
	_, err = studio.FromGIFT("a.gift", []byte("Q {T}"), "de")
	if ps := studio.ProblemsOf(err); len(ps) != 1 || ps[0].Key != "studio.problem.language" {
		t.Fatalf("German: %v, want a language problem", err)
	}
	var many strings.Builder
	for i := 0; i < 10000; i++ {
		many.WriteString("Земля круглая? {T}\n\n")
	}
	_, err = studio.FromGIFT("many.gift", []byte(many.String()), "ru")
	if ps := studio.ProblemsOf(err); len(ps) != 1 || ps[0].Key != "studio.problem.too_many_items" {
		t.Fatalf("10,000 questions: %v, want too_many_items", err)
	}
}
