package live

import (
	"errors"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/learn"
)

func TestAdHocQuestions(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    AdHoc
		code string // "" for a valid question
	}{
		{"choice", AdHoc{Kind: learn.Choice, Prompt: "2+2?", Choices: []string{"3", " 4 ", "", "5"}, Correct: []int{1}}, ""},
		{"multi", AdHoc{Kind: learn.Multi, Prompt: "Primes", Choices: []string{"2", "3", "4"}, Correct: []int{0, 1}}, ""},
		{"poll", AdHoc{Kind: Poll, Prompt: "Liked it?", Choices: []string{"yes", "no"}}, ""},
		{"truefalse", AdHoc{Kind: learn.TrueFalse, Prompt: "Ice floats", Truth: true}, ""},
		{"numeric", AdHoc{Kind: learn.Numeric, Prompt: "g?", Number: "9,8", Tolerance: "0,1", Unit: "m/s²"}, ""},
		{"text", AdHoc{Kind: learn.ShortText, Prompt: "H2O?", Answers: []string{"water", "", "вода"}}, ""},
		{"no text", AdHoc{Kind: learn.Choice, Prompt: "  ", Choices: []string{"a", "b"}, Correct: []int{0}}, "q.no_text"},
		{"long text", AdHoc{Kind: learn.TrueFalse, Prompt: strings.Repeat("я", MaxPromptRunes+1)}, "q.long_text"},
		{"one choice", AdHoc{Kind: learn.Choice, Prompt: "?", Choices: []string{"a"}, Correct: []int{0}}, "q.few_choices"},
		{"two right of a choice", AdHoc{Kind: learn.Choice, Prompt: "?", Choices: []string{"a", "b"}, Correct: []int{0, 1}}, "q.one_correct"},
		{"none right of a multi", AdHoc{Kind: learn.Multi, Prompt: "?", Choices: []string{"a", "b"}}, "q.some_correct"},
		{"right out of range", AdHoc{Kind: learn.Choice, Prompt: "?", Choices: []string{"a", "b"}, Correct: []int{5}}, "q.bad_correct"},
		{"too many choices", AdHoc{Kind: Poll, Prompt: "?", Choices: strings.Split("a b c d e f g h i", " ")}, "q.many_choices"},
		{"not a number", AdHoc{Kind: learn.Numeric, Prompt: "?", Number: "ten"}, "q.not_number"},
		{"negative tolerance", AdHoc{Kind: learn.Numeric, Prompt: "?", Number: "1", Tolerance: "-1"}, "q.bad_tolerance"},
		{"no accepted text", AdHoc{Kind: learn.ShortText, Prompt: "?", Answers: []string{" "}}, "q.no_answers"},
		{"unknown kind", AdHoc{Kind: "essay", Prompt: "?"}, "q.bad_kind"},
	} {
		q, err := tc.a.Question("q1", "ru")
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var le *Error
		if !errors.As(err, &le) || le.Code != tc.code {
			t.Errorf("%s: err %v, want code %s (question %+v)", tc.name, err, tc.code, q)
		}
	}

	// Typed text is escaped into the HTML items hold.
	q, _ := AdHoc{Kind: learn.TrueFalse, Prompt: "<b>x</b>\ny"}.Question("q1", "en")
	if got := q.Public().Prompt; got != "&lt;b&gt;x&lt;/b&gt;<br>y" {
		t.Errorf("prompt %q: want the text escaped", got)
	}
	// A multi question: ticking every box does not score.
	q, _ = AdHoc{Kind: learn.Multi, Prompt: "?", Choices: []string{"a", "b", "c"}, Correct: []int{0}}.Question("q", "en")
	if v, _ := q.Grade(learn.Response{Choices: []int{0, 1, 2}}); v.Score != 0 {
		t.Errorf("every box ticked scores %v, want 0", v.Score)
	}
	if v, _ := q.Grade(learn.Response{Choices: []int{0}}); !v.Correct {
		t.Error("the right box alone is not correct")
	}
	// A numeric answer with a decimal comma, and the solution shown.
	q, _ = AdHoc{Kind: learn.Numeric, Prompt: "g?", Number: "9.8", Tolerance: "0.1"}.Question("q", "ru")
	if v, err := q.Grade(learn.Response{Text: "9,75"}); err != nil || !v.Correct {
		t.Errorf("9,75 for 9.8±0.1: %+v %v", v, err)
	}
	if s := q.Solution(); !strings.Contains(s, "9,8") {
		t.Errorf("solution %q, want 9,8", s)
	}
	// A poll has no right answer and takes one valid choice.
	q, _ = AdHoc{Kind: Poll, Prompt: "?", Choices: []string{"a", "b"}}.Question("q", "en")
	if _, err := q.Grade(learn.Response{Choices: []int{2}}); !errors.Is(err, learn.ErrBadChoice) {
		t.Errorf("poll choice out of range: %v", err)
	}
	if q.RightChoices() != nil || q.Public().Kind != Poll {
		t.Errorf("poll: right %v, kind %s", q.RightChoices(), q.Public().Kind)
	}
}

func TestNicknames(t *testing.T) {
	for _, lang := range []string{"en", "ru", "tg", "xx"} {
		n := 0
		rnd := func(k int) int { n++; return (n * 7) % k }
		for range 50 {
			nick := GenerateNickname(lang, rnd)
			if _, err := CheckNickname(nick); err != nil {
				t.Errorf("%s: generated nickname %q is refused: %v", lang, nick, err)
			}
		}
	}
	if got := GenerateNickname("tg", func(int) int { return 0 }); got != "Шери далер" {
		t.Errorf("Tajik nickname %q, want the izofat form Шери далер", got)
	}
	// Every word fits every other: a numbered nickname is still valid.
	for lang, w := range nicknameWords {
		for _, a := range w.adjectives {
			for _, b := range w.animals {
				nick := a + " " + b + " 99"
				if lang == "tg" {
					nick = b + "и " + a + " 99"
				}
				if _, err := CheckNickname(nick); err != nil {
					t.Errorf("%s: %q: %v", lang, nick, err)
				}
			}
		}
	}
	// The generator keeps nicknames unique in a session.
	s := newSession(t, Options{})
	always := func(int) int { return 0 }
	seen := map[string]bool{}
	for i := range 5 {
		nick := s.FreeNickname("en", always)
		if seen[nick] {
			t.Fatalf("nickname %q given twice", nick)
		}
		seen[nick] = true
		if _, err := s.Join(t0, "g", nick, "h"); err != nil {
			t.Fatalf("join %d as %q: %v", i, nick, err)
		}
	}
}

func TestCodes(t *testing.T) {
	code := NewCode(func(n int) int { return 3 % n })
	if len(code) != CodeLength || NormalizeCode(code) != code {
		t.Errorf("code %q does not read back", code)
	}
	for in, want := range map[string]string{
		"acefhj":    "ACEFHJ",
		" ace-fhj ": "ACEFHJ",
		"АСЕНКМ":    "ACEHKM", // Cyrillic look-alikes
		"ACEFH0":    "",       // 0 is never in a code
		"ACEFH":     "",
		"ACEFHJK":   "",
		"":          "",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range "0O1IL2Z5S8BGUVDQ" {
		if strings.ContainsRune(CodeAlphabet, c) {
			t.Errorf("the code alphabet has the ambiguous %q", c)
		}
	}
}
