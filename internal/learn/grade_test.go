package learn

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// Items shaped like the examples of docs/pack-format.md.

func speedItem() *Item {
	return &Item{
		ID: "speed-1", Kind: Choice,
		Prompt: Text{"en": "A bus travels 120 km in 2 h. What is its average speed?", "ru": "Автобус проезжает 120 км за 2 ч. Какова его средняя скорость?"},
		Choices: []Option{
			{Text: Text{"en": "60 km/h", "ru": "60 км/ч"}, Weight: 1},
			{Text: Text{"en": "240 km/h", "ru": "240 км/ч"}, Feedback: Text{"en": "You multiplied.", "ru": "Вы умножили."}},
			{Text: Text{"en": "122 km/h", "ru": "122 км/ч"}},
			{Text: Text{"en": "about 60", "ru": "около 60"}, Weight: 0.5, Feedback: Text{"en": "Give the unit."}},
			{Text: Text{"en": "-60 km/h"}, Weight: -0.5},
		},
		Feedback: Feedback{
			Correct:   Text{"en": "Right.", "ru": "Верно."},
			Incorrect: Text{"en": "Use v = s/t.", "ru": "Используйте v = s/t."},
			General:   Text{"en": "Speed is distance over time."},
		},
	}
}

func forcesItem() *Item {
	return &Item{
		ID: "forces-2", Kind: Multi,
		Prompt: Text{"en": "Which are forces?", "ru": "Что из этого — силы?"},
		Choices: []Option{
			{Text: Text{"en": "friction", "ru": "трение"}, Weight: 0.5, Feedback: Text{"en": "friction: yes"}},
			{Text: Text{"en": "weight", "ru": "вес"}, Weight: 0.5},
			{Text: Text{"en": "mass", "ru": "масса"}, Weight: -1, Feedback: Text{"en": "mass: no"}},
			{Text: Text{"en": "speed", "ru": "скорость"}, Weight: -0.5},
		},
		Feedback: Feedback{Correct: Text{"en": "All right."}, Incorrect: Text{"en": "Not quite."}},
	}
}

func inertiaItem() *Item {
	return &Item{
		ID: "inertia-3", Kind: TrueFalse, Truth: false,
		Prompt:   Text{"en": "A moving body needs a force to keep moving at constant velocity."},
		Feedback: Feedback{Correct: Text{"en": "Yes: Newton's first law."}, Incorrect: Text{"en": "No force is needed."}},
	}
}

func accelItem() *Item {
	return &Item{
		ID: "accel-4", Kind: Numeric,
		Prompt: Text{"en": "A car speeds up from 0 to 20 m/s in 5 s. Its acceleration?"},
		Numbers: []NumberAnswer{
			{Min: 4 - 0.05, Max: 4 + 0.05, Weight: 1, Feedback: Text{"en": "Exactly.", "ru": "Точно."}},
			{Min: 3.5, Max: 4.5, Weight: 0.5, Feedback: Text{"en": "Close."}},
			{Min: 100, Max: 100, Weight: 0, Feedback: Text{"en": "You multiplied."}},
		},
		Unit:     Text{"en": "m/s²", "ru": "м/с²"},
		Feedback: Feedback{Incorrect: Text{"en": "Use a = Δv/t."}, General: Text{"en": "a = Δv/t"}},
	}
}

func photoItem() *Item {
	return &Item{
		ID: "photo-5", Kind: ShortText,
		Prompt: Text{"en": "Name the gas plants take in for photosynthesis."},
		Texts: []TextAnswer{
			{Lang: "en", Text: "carbon dioxide", Weight: 1},
			{Lang: "en", Text: "CO2", Weight: 1, Feedback: Text{"en": "The formula will do."}},
			{Lang: "ru", Text: "углекислый газ", Weight: 1},
			{Lang: "ru", Text: "CO2", Weight: 1},
			{Lang: "tg", Text: "гази карбон", Weight: 1},
			{Lang: "en", Text: "oxygen", Weight: 0, Feedback: Text{"en": "That is what they give off.", "ru": "Это они выделяют."}},
			{Text: "carbon", Weight: 0.5, Feedback: Text{"en": "Which compound of carbon?"}},
		},
		Feedback: Feedback{Correct: Text{"en": "Yes."}, Incorrect: Text{"en": "No."}},
	}
}

type gradeCase struct {
	name     string
	r        Response
	lang     string
	correct  bool
	score    float64
	feedback []string
	err      error
}

func checkGrade(t *testing.T, it *Item, tests []gradeCase) {
	t.Helper()
	for _, tt := range tests {
		lang := tt.lang
		if lang == "" {
			lang = "en"
		}
		v, err := Grade(it, tt.r, lang, "en")
		if tt.err != nil || err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: %s: Grade(%+v) error = %v, want %v", it.ID, tt.name, tt.r, err, tt.err)
			} else if v.Correct || v.Score != 0 || v.Feedback != nil || v.Solution != "" {
				t.Errorf("%s: %s: Grade(%+v) = %+v with error %v, want no verdict", it.ID, tt.name, tt.r, v, err)
			}
			continue
		}
		if v.Correct != tt.correct {
			t.Errorf("%s: %s: Grade(%+v).Correct = %v, want %v", it.ID, tt.name, tt.r, v.Correct, tt.correct)
		}
		if math.Abs(v.Score-tt.score) > 1e-9 {
			t.Errorf("%s: %s: Grade(%+v).Score = %v, want %v", it.ID, tt.name, tt.r, v.Score, tt.score)
		}
		if !slices.Equal(v.Feedback, tt.feedback) {
			t.Errorf("%s: %s: Grade(%+v).Feedback = %q, want %q", it.ID, tt.name, tt.r, v.Feedback, tt.feedback)
		}
	}
}

func TestGradeChoice(t *testing.T) {
	checkGrade(t, speedItem(), []gradeCase{
		{name: "right", r: Response{Choices: []int{0}}, correct: true, score: 1,
			feedback: []string{"Right.", "Speed is distance over time."}},
		{name: "right in Russian", r: Response{Choices: []int{0}}, lang: "ru", correct: true, score: 1,
			feedback: []string{"Верно.", "Speed is distance over time."}},
		{name: "wrong with choice feedback", r: Response{Choices: []int{1}}, score: 0,
			feedback: []string{"You multiplied.", "Use v = s/t.", "Speed is distance over time."}},
		{name: "wrong with choice feedback in Russian", r: Response{Choices: []int{1}}, lang: "ru", score: 0,
			feedback: []string{"Вы умножили.", "Используйте v = s/t.", "Speed is distance over time."}},
		{name: "wrong without choice feedback", r: Response{Choices: []int{2}}, score: 0,
			feedback: []string{"Use v = s/t.", "Speed is distance over time."}},
		{name: "partial credit is not correct", r: Response{Choices: []int{3}}, score: 0.5,
			feedback: []string{"Give the unit.", "Use v = s/t.", "Speed is distance over time."}},
		{name: "negative weight scores 0", r: Response{Choices: []int{4}}, score: 0,
			feedback: []string{"Use v = s/t.", "Speed is distance over time."}},
		{name: "Text is ignored", r: Response{Choices: []int{0}, Text: "garbage"}, correct: true, score: 1,
			feedback: []string{"Right.", "Speed is distance over time."}},
		{name: "nothing picked", r: Response{}, err: ErrEmpty},
		{name: "empty slice", r: Response{Choices: []int{}}, err: ErrEmpty},
		{name: "two picked", r: Response{Choices: []int{0, 1}}, err: ErrBadChoice},
		{name: "same twice", r: Response{Choices: []int{0, 0}}, err: ErrBadChoice},
		{name: "out of range", r: Response{Choices: []int{5}}, err: ErrBadChoice},
		{name: "negative index", r: Response{Choices: []int{-1}}, err: ErrBadChoice},
	})
}

func TestGradeChoiceWeightEpsilon(t *testing.T) {
	it := speedItem()
	it.Choices[0].Weight = 0.9999999 // 100% written as thirds that do not add up exactly
	v, err := Grade(it, Response{Choices: []int{0}}, "en", "en")
	if err != nil || !v.Correct || v.Score != 0.9999999 {
		t.Errorf("Grade of a choice weighing 1-1e-7 = %+v, %v; want correct with score 0.9999999", v, err)
	}
}

func TestGradeMulti(t *testing.T) {
	checkGrade(t, forcesItem(), []gradeCase{
		{name: "both right", r: Response{Choices: []int{0, 1}}, correct: true, score: 1,
			feedback: []string{"friction: yes", "All right."}},
		{name: "both right, other order", r: Response{Choices: []int{1, 0}}, correct: true, score: 1,
			feedback: []string{"friction: yes", "All right."}},
		{name: "one right", r: Response{Choices: []int{1}}, score: 0.5,
			feedback: []string{"Not quite."}},
		{name: "one right, one half wrong", r: Response{Choices: []int{0, 3}}, score: 0,
			feedback: []string{"friction: yes", "Not quite."}},
		{name: "both right and one half wrong", r: Response{Choices: []int{3, 1, 0}}, score: 0.5,
			feedback: []string{"friction: yes", "Not quite."}},
		{name: "everything never gives full marks", r: Response{Choices: []int{0, 1, 2, 3}}, score: 0,
			feedback: []string{"friction: yes", "mass: no", "Not quite."}},
		{name: "only wrong clamps to 0", r: Response{Choices: []int{2, 3}}, score: 0,
			feedback: []string{"mass: no", "Not quite."}},
		{name: "nothing picked", r: Response{}, err: ErrEmpty},
		{name: "duplicate", r: Response{Choices: []int{0, 1, 0}}, err: ErrBadChoice},
		{name: "out of range", r: Response{Choices: []int{0, 4}}, err: ErrBadChoice},
		{name: "negative index", r: Response{Choices: []int{-1}}, err: ErrBadChoice},
	})
}

// TestGradeMultiZeroWeights documents that a Multi item whose wrong options
// weigh 0 (as GIFT allows) gives full marks for picking everything: the pack
// builder must give wrong options negative weights where that matters.
func TestGradeMultiZeroWeights(t *testing.T) {
	it := forcesItem()
	it.Choices[2].Weight, it.Choices[3].Weight = 0, 0
	v, err := Grade(it, Response{Choices: []int{0, 1, 2, 3}}, "en", "en")
	if err != nil || !v.Correct || v.Score != 1 {
		t.Errorf("Grade of every option with zero-weight wrong options = %+v, %v; want correct with score 1", v, err)
	}
}

func TestGradeTrueFalse(t *testing.T) {
	checkGrade(t, inertiaItem(), []gradeCase{
		{name: "right", r: Response{Text: "false"}, correct: true, score: 1, feedback: []string{"Yes: Newton's first law."}},
		{name: "right with spaces", r: Response{Text: " false\n"}, correct: true, score: 1, feedback: []string{"Yes: Newton's first law."}},
		{name: "wrong", r: Response{Text: "true"}, score: 0, feedback: []string{"No force is needed."}},
		{name: "Choices are ignored", r: Response{Text: "false", Choices: []int{7}}, correct: true, score: 1, feedback: []string{"Yes: Newton's first law."}},
		{name: "empty", r: Response{}, err: ErrEmpty},
		{name: "spaces only", r: Response{Text: "  "}, err: ErrEmpty},
		{name: "capitalised", r: Response{Text: "False"}, err: ErrBadResponse},
		{name: "letter", r: Response{Text: "F"}, err: ErrBadResponse},
		{name: "Russian", r: Response{Text: "ложь"}, err: ErrBadResponse},
	})
	it := inertiaItem()
	it.Truth = true
	checkGrade(t, it, []gradeCase{
		{name: "true item, right", r: Response{Text: "true"}, correct: true, score: 1, feedback: []string{"Yes: Newton's first law."}},
		{name: "true item, wrong", r: Response{Text: "false"}, score: 0, feedback: []string{"No force is needed."}},
	})
}

func TestGradeNumeric(t *testing.T) {
	wrong := []string{"Use a = Δv/t.", "a = Δv/t"}
	exact := []string{"Exactly.", "a = Δv/t"}
	checkGrade(t, accelItem(), []gradeCase{
		{name: "exact", r: Response{Text: "4"}, correct: true, score: 1, feedback: exact},
		{name: "exact in Russian", r: Response{Text: "4"}, lang: "ru", correct: true, score: 1, feedback: []string{"Точно.", "a = Δv/t"}},
		{name: "decimal comma", r: Response{Text: "4,0"}, correct: true, score: 1, feedback: exact},
		{name: "lower bound", r: Response{Text: "3.95"}, correct: true, score: 1, feedback: exact},
		{name: "upper bound", r: Response{Text: "4.05"}, correct: true, score: 1, feedback: exact},
		{name: "in the half-credit range", r: Response{Text: "4.3"}, score: 0.5, feedback: []string{"Close.", "Use a = Δv/t.", "a = Δv/t"}},
		{name: "zero-weight range gives its feedback", r: Response{Text: "100"}, score: 0, feedback: []string{"You multiplied.", "Use a = Δv/t.", "a = Δv/t"}},
		{name: "outside every range", r: Response{Text: "5"}, score: 0, feedback: wrong},
		{name: "negative", r: Response{Text: "-4"}, score: 0, feedback: wrong},
		{name: "scientific", r: Response{Text: "4e0"}, correct: true, score: 1, feedback: exact},
		{name: "unit", r: Response{Text: "4 m/s²"}, correct: true, score: 1, feedback: exact},
		{name: "unit with caret", r: Response{Text: "4 m/s^2"}, correct: true, score: 1, feedback: exact},
		{name: "Russian unit in the English interface", r: Response{Text: "4м/с2"}, correct: true, score: 1, feedback: exact},
		{name: "wrong unit gives no credit", r: Response{Text: "4 m/s"}, score: 0, feedback: wrong},
		{name: "wrong unit, half-credit value", r: Response{Text: "4.3 km/h"}, score: 0, feedback: wrong},
		{name: "empty", r: Response{Text: " "}, err: ErrEmpty},
		{name: "not a number", r: Response{Text: "four"}, err: ErrNotANumber},
		{name: "two decimal marks", r: Response{Text: "4.0.0"}, err: ErrNotANumber},
		{name: "ambiguous comma", r: Response{Text: "4,000"}, err: ErrAmbiguousNumber},
		{name: "NaN", r: Response{Text: "NaN"}, err: ErrNotANumber},
	})

	noUnit := &Item{ID: "percent", Kind: Numeric, Prompt: Text{"en": "What percentage?"},
		Numbers: []NumberAnswer{{Min: 25, Max: 25, Weight: 1}}}
	checkGrade(t, noUnit, []gradeCase{
		{name: "number", r: Response{Text: "25"}, correct: true, score: 1},
		{name: "percent is ignored", r: Response{Text: "25 %"}, correct: true, score: 1},
		{name: "other unit is refused", r: Response{Text: "25 m"}, err: ErrUnexpectedUnit},
	})
	noUnit.Unit = Text{"en": ""}
	checkGrade(t, noUnit, []gradeCase{
		{name: "an empty unit spelling is no unit", r: Response{Text: "25 m"}, err: ErrUnexpectedUnit},
	})

	noise := &Item{ID: "noise", Kind: Numeric, Prompt: Text{"en": "0.1 + 0.2?"},
		Numbers: []NumberAnswer{{Min: 0.1 + 0.2, Max: 0.1 + 0.2, Weight: 1}}}
	checkGrade(t, noise, []gradeCase{
		{name: "float noise in the bound", r: Response{Text: "0.3"}, correct: true, score: 1},
		{name: "a real difference", r: Response{Text: "0.3000001"}, score: 0},
	})

	big := &Item{ID: "light", Kind: Numeric, Prompt: Text{"en": "c?"}, Unit: Text{"en": "m/s", "ru": "м/с"},
		Numbers: []NumberAnswer{{Min: 2.99e8, Max: 3.01e8, Weight: 1}}}
	checkGrade(t, big, []gradeCase{
		{name: "times ten", r: Response{Text: "3·10^8 m/s"}, correct: true, score: 1},
		{name: "superscript", r: Response{Text: "3×10⁸ м/с"}, correct: true, score: 1},
		{name: "digit groups", r: Response{Text: "300 000 000"}, correct: true, score: 1},
		{name: "kilometres are not converted", r: Response{Text: "300000 km/s"}, score: 0},
	})
}

func TestGradeText(t *testing.T) {
	yes, no := []string{"Yes."}, []string{"No."}
	checkGrade(t, photoItem(), []gradeCase{
		{name: "English", r: Response{Text: "carbon dioxide"}, correct: true, score: 1, feedback: yes},
		{name: "case, spaces, full stop", r: Response{Text: "  Carbon   Dioxide. "}, correct: true, score: 1, feedback: yes},
		{name: "formula with answer feedback", r: Response{Text: "CO2"}, correct: true, score: 1, feedback: []string{"The formula will do.", "Yes."}},
		{name: "subscript formula", r: Response{Text: "CO₂"}, correct: true, score: 1, feedback: []string{"The formula will do.", "Yes."}},
		{name: "Cyrillic look-alikes", r: Response{Text: "СО2"}, correct: true, score: 1, feedback: []string{"The formula will do.", "Yes."}},
		{name: "Russian", r: Response{Text: "Углекислый  газ."}, lang: "ru", correct: true, score: 1, feedback: yes},
		{name: "Russian in the English interface", r: Response{Text: "углекислый газ"}, correct: true, score: 1, feedback: yes},
		{name: "Tajik", r: Response{Text: "Гази карбон"}, lang: "tg", correct: true, score: 1, feedback: yes},
		{name: "formula in Russian prefers the Russian answer", r: Response{Text: "co2"}, lang: "ru", correct: true, score: 1, feedback: yes},
		{name: "zero-weight answer gives its feedback", r: Response{Text: "Oxygen"}, score: 0, feedback: []string{"That is what they give off.", "No."}},
		{name: "zero-weight answer feedback in Russian", r: Response{Text: "oxygen"}, lang: "ru", score: 0, feedback: []string{"Это они выделяют.", "No."}},
		{name: "partial answer for every language", r: Response{Text: "carbon"}, score: 0.5, feedback: []string{"Which compound of carbon?", "No."}},
		{name: "wrong", r: Response{Text: "nitrogen"}, score: 0, feedback: no},
		{name: "empty", r: Response{Text: ""}, err: ErrEmpty},
		{name: "punctuation only", r: Response{Text: " ?! "}, err: ErrEmpty},
	})
}

func TestGradeSolution(t *testing.T) {
	tests := []struct {
		name string
		it   *Item
		lang string
		want string
	}{
		{"choice", speedItem(), "en", "60 km/h"},
		{"choice in Russian", speedItem(), "ru", "60 км/ч"},
		{"choice falls back", speedItem(), "tg", "60 km/h"},
		{"multi", forcesItem(), "en", "friction; weight"},
		{"multi in Russian", forcesItem(), "ru", "трение; вес"},
		{"truefalse false", inertiaItem(), "en", "false"},
		{"truefalse true", &Item{ID: "t", Kind: TrueFalse, Truth: true}, "en", "true"},
		{"numeric", accelItem(), "en", "4 ± 0.05 m/s²"},
		{"numeric in Russian", accelItem(), "ru", "4 ± 0,05 м/с²"},
		{"numeric in Tajik falls back to the English unit", accelItem(), "tg", "4 ± 0,05 m/s²"},
		{"text", photoItem(), "en", "carbon dioxide"},
		{"text in Russian", photoItem(), "ru", "углекислый газ"},
		{"text in Tajik", photoItem(), "tg", "гази карбон"},
		{"text in another language", photoItem(), "de", "carbon dioxide"},
		{"text is escaped", &Item{ID: "esc", Kind: ShortText, Texts: []TextAnswer{{Text: "a<b & c", Weight: 1}}}, "en", "a&lt;b &amp; c"},
		{"text takes the best weight", &Item{ID: "best", Kind: ShortText, Texts: []TextAnswer{{Text: "half", Weight: 0.5}, {Text: "full", Weight: 1}}}, "en", "full"},
		{"numeric takes the best weight", &Item{ID: "n", Kind: Numeric, Numbers: []NumberAnswer{{Min: 1, Max: 2, Weight: 0.5}, {Min: 3, Max: 3, Weight: 1}}}, "en", "3"},
		{"numeric without unit", &Item{ID: "n", Kind: Numeric, Numbers: []NumberAnswer{{Min: 1, Max: 5, Weight: 1}}}, "en", "1..5"},
		{"numeric unit is escaped", &Item{ID: "n", Kind: Numeric, Unit: Text{"en": "<b>"}, Numbers: []NumberAnswer{{Min: 1, Max: 1, Weight: 1}}}, "en", "1 &lt;b&gt;"},
		{"numeric without answers", &Item{ID: "n", Kind: Numeric}, "en", ""},
	}
	for _, tt := range tests {
		if got := solution(tt.it, tt.lang, "en"); got != tt.want {
			t.Errorf("%s: solution(%s, %q) = %q, want %q", tt.name, tt.it.ID, tt.lang, got, tt.want)
		}
	}

	v, err := Grade(accelItem(), Response{Text: "7"}, "ru", "en")
	if err != nil || v.Solution != "4 ± 0,05 м/с²" {
		t.Errorf("Grade(accel-4, 7, ru).Solution = %q, %v; want %q", v.Solution, err, "4 ± 0,05 м/с²")
	}
	v, err = Grade(accelItem(), Response{Text: "x"}, "ru", "en")
	if err == nil || v.Solution != "" {
		t.Errorf("Grade(accel-4, x) = %+v, %v; want no verdict and an error", v, err)
	}
}

func TestGradeBadItem(t *testing.T) {
	if _, err := Grade(nil, Response{Text: "true"}, "en", "en"); err == nil {
		t.Error("Grade(nil item): no error, want one")
	}
	it := &Item{ID: "x", Kind: "essay", Prompt: Text{"en": "Write."}}
	_, err := Grade(it, Response{Text: "words"}, "en", "en")
	if err == nil {
		t.Fatal("Grade(essay item): no error, want one")
	}
	for _, sentinel := range []error{ErrEmpty, ErrNotANumber, ErrBadChoice, ErrBadResponse} {
		if errors.Is(err, sentinel) {
			t.Errorf("Grade(essay item) error %v is %v; want an error that is not a student's mistake", err, sentinel)
		}
	}
}

func BenchmarkGrade(b *testing.B) {
	benches := []struct {
		name string
		it   *Item
		r    Response
	}{
		{"choice", speedItem(), Response{Choices: []int{1}}},
		{"multi", forcesItem(), Response{Choices: []int{0, 1}}},
		{"truefalse", inertiaItem(), Response{Text: "false"}},
		{"numeric", accelItem(), Response{Text: "4,0 м/с^2"}},
		{"numeric-sci", accelItem(), Response{Text: "4·10^0"}},
		{"text", photoItem(), Response{Text: "Углекислый  газ."}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Grade(bb.it, bb.r, "ru", "en"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A poll takes one valid choice and is never right or wrong.
func TestGradePoll(t *testing.T) {
	it := &Item{ID: "p", Kind: Poll, Prompt: Text{"en": "?"}, Choices: []Option{
		{Text: Text{"en": "a"}, Feedback: Text{"en": "picked a"}}, {Text: Text{"en": "b"}}},
		Feedback: Feedback{Correct: Text{"en": "never"}, Incorrect: Text{"en": "never either"}, General: Text{"en": "thanks"}}}
	if err := it.Validate(); err != nil {
		t.Fatalf("a poll: %v", err)
	}
	v, err := Grade(it, Response{Choices: []int{0}}, "en", "en")
	if err != nil || v.Correct || v.Score != 0 || v.Solution != "" || strings.Join(v.Feedback, "|") != "picked a|thanks" {
		t.Fatalf("grade of a poll: %+v %v, want no score, no solution, the choice's and the general feedback", v, err)
	}
	for _, r := range []Response{{}, {Choices: []int{0, 1}}, {Choices: []int{2}}} {
		if _, err := Grade(it, r, "en", "en"); err == nil {
			t.Errorf("poll response %+v was taken", r)
		}
	}
	if it.Kind.Graded() || !Choice.Graded() {
		t.Error("Graded: a poll is not graded, a choice is")
	}
	if p := it.Public("en", "en"); len(p.Choices) != 2 {
		t.Errorf("a poll's public item has %d choices, want 2", len(p.Choices))
	}
	it.Choices[1].Weight = 1
	if err := it.Validate(); err == nil {
		t.Error("a poll with a weighted choice validates")
	}
}
