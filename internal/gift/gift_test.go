package gift

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/mitstem/stembox/internal/learn"
)

// en is a one-language text in English, the language of most tests.
func en(s string) learn.Text { return learn.Text{"en": s} }

// opt returns a choice option without feedback.
func opt(text string, weight float64) learn.Option {
	return learn.Option{Text: en(text), Weight: weight}
}

// MustParse parses src as an English GIFT file named "t.gift".
func MustParse(tb testing.TB, src string) []learn.Item {
	tb.Helper()
	items, err := Parse("t.gift", []byte(src), "en")
	if err != nil {
		tb.Fatalf("Parse(%q): %v", src, err)
	}
	return items
}

// rounded returns items with their numbers rounded to 1e-9, so that tests
// can compare 3.14-0.01 with 3.13.
func rounded(items []learn.Item) []learn.Item {
	r := func(f float64) float64 { return math.Round(f*1e9) / 1e9 }
	out := make([]learn.Item, len(items))
	for i, it := range items {
		it.Choices = append([]learn.Option(nil), it.Choices...)
		for j := range it.Choices {
			it.Choices[j].Weight = r(it.Choices[j].Weight)
		}
		it.Numbers = append([]learn.NumberAnswer(nil), it.Numbers...)
		for j := range it.Numbers {
			n := &it.Numbers[j]
			n.Min, n.Max, n.Weight = r(n.Min), r(n.Max), r(n.Weight)
		}
		it.Texts = append([]learn.TextAnswer(nil), it.Texts...)
		for j := range it.Texts {
			it.Texts[j].Weight = r(it.Texts[j].Weight)
		}
		out[i] = it
	}
	return out
}

// assertItems fails unless got and want are the same items.
func assertItems(t *testing.T, got, want []learn.Item) {
	t.Helper()
	if got, want := rounded(got), rounded(want); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got items\n%s\nwant\n%s", g, w)
	}
}

func TestParseKinds(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want learn.Item
	}{{
		name: "choice",
		src:  "What is 2+2? {=4 ~3 ~5}",
		want: learn.Item{ID: "q1", Kind: learn.Choice, Prompt: en("What is 2+2?"),
			Choices: []learn.Option{opt("4", 1), opt("3", 0), opt("5", 0)}},
	}, {
		name: "choice with feedback per option",
		src:  "What is 2+2? {=4#Right. ~3#Too few. ~5}",
		want: learn.Item{ID: "q1", Kind: learn.Choice, Prompt: en("What is 2+2?"),
			Choices: []learn.Option{
				{Text: en("4"), Weight: 1, Feedback: en("Right.")},
				{Text: en("3"), Weight: 0, Feedback: en("Too few.")},
				opt("5", 0),
			}},
	}, {
		name: "choice with explicit 100% and a partly right option",
		src:  "Pick one. {=%100%best ~%50%good ~bad}",
		want: learn.Item{ID: "q1", Kind: learn.Choice, Prompt: en("Pick one."),
			Choices: []learn.Option{opt("best", 1), opt("good", 0.5), opt("bad", 0)}},
	}, {
		name: "multi",
		src:  "Which are forces? {~%50%friction ~%50%weight ~%-100%mass}",
		want: learn.Item{ID: "q1", Kind: learn.Multi, Prompt: en("Which are forces?"),
			Choices: []learn.Option{opt("friction", 0.5), opt("weight", 0.5), opt("mass", -1)}},
	}, {
		name: "multi with thirds",
		src:  "Which are primes? {~%33.333%2 ~%33.33333%3 ~%33.3333%5 ~%-100%9}",
		want: learn.Item{ID: "q1", Kind: learn.Multi, Prompt: en("Which are primes?"),
			Choices: []learn.Option{opt("2", 1.0/3), opt("3", 1.0/3), opt("5", 1.0/3), opt("9", -1)}},
	}, {
		name: "true",
		src:  "The Sun is a star. {T}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("The Sun is a star."), Truth: true},
	}, {
		name: "TRUE",
		src:  "The Sun is a star. {TRUE}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("The Sun is a star."), Truth: true},
	}, {
		name: "false",
		src:  "The Moon is a star. { F }",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("The Moon is a star.")},
	}, {
		name: "FALSE with feedback",
		src:  "The Moon is a star. {FALSE#It only reflects light.#Right.}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("The Moon is a star."),
			Feedback: learn.Feedback{Incorrect: en("It only reflects light."), Correct: en("Right.")}},
	}, {
		name: "true with wrong feedback only",
		src:  "The Sun is a star. {T#It is.}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("The Sun is a star."), Truth: true,
			Feedback: learn.Feedback{Incorrect: en("It is.")}},
	}, {
		name: "short answer",
		src:  "Name the gas plants take in. {=carbon dioxide =CO2}",
		want: learn.Item{ID: "q1", Kind: learn.ShortText, Prompt: en("Name the gas plants take in."),
			Texts: []learn.TextAnswer{
				{Lang: "en", Text: "carbon dioxide", Weight: 1},
				{Lang: "en", Text: "CO2", Weight: 1},
			}},
	}, {
		name: "short answer with partial credit and feedback",
		src:  "Name the gas. {=CO2 =%50%CO#Almost. =%100%carbon dioxide}",
		want: learn.Item{ID: "q1", Kind: learn.ShortText, Prompt: en("Name the gas."),
			Texts: []learn.TextAnswer{
				{Lang: "en", Text: "CO2", Weight: 1},
				{Lang: "en", Text: "CO", Weight: 0.5, Feedback: en("Almost.")},
				{Lang: "en", Text: "carbon dioxide", Weight: 1},
			}},
	}, {
		name: "numeric with tolerance",
		src:  "Pi to two places? {#3.14:0.01}",
		want: learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: en("Pi to two places?"),
			Numbers: []learn.NumberAnswer{{Min: 3.13, Max: 3.15, Weight: 1}}},
	}, {
		name: "numeric exact with feedback",
		src:  "2+2? {#4#Yes.}",
		want: learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: en("2+2?"),
			Numbers: []learn.NumberAnswer{{Min: 4, Max: 4, Weight: 1, Feedback: en("Yes.")}}},
	}, {
		name: "numeric range",
		src:  "A number from 1 to 5? {#1..5}",
		want: learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: en("A number from 1 to 5?"),
			Numbers: []learn.NumberAnswer{{Min: 1, Max: 5, Weight: 1}}},
	}, {
		name: "numeric negative range and exponent",
		src:  "Cold? {#-5.5..-1e-1}",
		want: learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: en("Cold?"),
			Numbers: []learn.NumberAnswer{{Min: -5.5, Max: -0.1, Weight: 1}}},
	}, {
		name: "numeric answers with weights and feedback",
		src:  "About 2? {#=2:0#Exactly. =%50%2.5:0.5#Close. ~#Think again.}",
		want: learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: en("About 2?"),
			Numbers: []learn.NumberAnswer{
				{Min: 2, Max: 2, Weight: 1, Feedback: en("Exactly.")},
				{Min: 2, Max: 3, Weight: 0.5, Feedback: en("Close.")},
			},
			Feedback: learn.Feedback{Incorrect: en("Think again.")}},
	}, {
		name: "general feedback",
		src:  "2+2? {=4 ~5 ####Count on your fingers.}",
		want: learn.Item{ID: "q1", Kind: learn.Choice, Prompt: en("2+2?"),
			Choices:  []learn.Option{opt("4", 1), opt("5", 0)},
			Feedback: learn.Feedback{General: en("Count on your fingers.")}},
	}, {
		name: "general feedback on true/false and numeric",
		src:  "Stars shine. {T#No.#Yes.####The Sun is one.}\n\nPi? {#3.14:0.01####About 22/7.}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("Stars shine."), Truth: true,
			Feedback: learn.Feedback{Incorrect: en("No."), Correct: en("Yes."), General: en("The Sun is one.")}},
	}, {
		name: "title",
		src:  "::Newton's 2nd law:: F = ? {=ma ~mv}",
		want: learn.Item{ID: "newtons-2nd-law", Kind: learn.Choice, Title: "Newton's 2nd law", Prompt: en("F = ?"),
			Choices: []learn.Option{opt("ma", 1), opt("mv", 0)}},
	}, {
		name: "multi-line question with comments inside",
		src: "// a comment before\n::Speed::\nA bus travels 120 km in 2 h.\n// a comment inside\n" +
			"What is its speed?\n{\n  =60 km/h\n  // another\n  ~240 km/h\n}\n",
		want: learn.Item{ID: "speed", Kind: learn.Choice, Title: "Speed",
			Prompt:  en("A bus travels 120 km in 2 h.\nWhat is its speed?"),
			Choices: []learn.Option{opt("60 km/h", 1), opt("240 km/h", 0)}},
	}, {
		name: "format markers",
		src:  "::T::[markdown]**Bold** question {=[plain]yes#[moodle]fine ~[html]<b>no</b>}",
		want: learn.Item{ID: "t", Kind: learn.Choice, Title: "T", Prompt: en("**Bold** question"),
			Choices: []learn.Option{
				{Text: en("yes"), Weight: 1, Feedback: en("fine")},
				opt("<b>no</b>", 0),
			}},
	}, {
		name: "html is not escaped here",
		src:  "[html]<p>Is 1 < 2 & 3 > 2?</p> {T}",
		want: learn.Item{ID: "q1", Kind: learn.TrueFalse, Prompt: en("<p>Is 1 < 2 & 3 > 2?</p>"), Truth: true},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(t, tt.src)
			assertItems(t, got[:min(len(got), 1)], []learn.Item{tt.want})
		})
	}
}

func TestParseEscapes(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		prompt string
		answer string
	}{
		{"gift escapes", `a \~ b \= c \# d \{ e \} f \: g \\ h {=\~\=\#\{\}\:\\}`, `a \~ b \= c \# d \{ e \} f \: g \\ h`, `~=#{}:\`},
		{"newline", `line one\nline two {=a\nb}`, "line one\nline two", "a\nb"},
		{"escaped backslash before n", `a\\nb {=x}`, `a\\nb`, "x"},
		{"markdown and tex escapes kept", `costs \$5, \*not\* bold, $\frac\{1\}\{2\}$ {=\(x\)}`, `costs \$5, \*not\* bold, $\frac{1}{2}$`, `\(x\)`},
		{"\\n inside formulas is tex", `$\nu = \nabla$ and $$a \neq b$$\nnext {=$\nu$}`, "$\\nu = \\nabla$ and $$a \\neq b$$\nnext", `$\nu$`},
		{"colon in title", `::a\:b:: text {=x}`, "text", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := MustParse(t, tt.src)[0]
			if got, want := it.Prompt["en"], tt.prompt; got != want {
				t.Errorf("got prompt %q, want %q", got, want)
			}
			if got, want := it.Texts[0].Text, tt.answer; got != want {
				t.Errorf("got answer %q, want %q", got, want)
			}
		})
	}
}

func TestParseTitleIDs(t *testing.T) {
	src := `::Average speed:: a {T}

untitled {T}

::Средняя скорость:: б {T}

::Суръати миёна ва шитоб:: в {T}

::Закон Ньютона:: в2 {T}

::Ғӯлаи қоҳир ҷӯй:: г {T}

:::::: empty title {T}

::?!:: punctuation only {T}

::Café — à la carte!:: accents {T}

::Ωμέγα 2:: greek {T}

::  Spaced   out  :: spaces {T}

::` + "Very long title that goes on and on and on and on and on and on and on forever" + `:: long {T}

:: x\:y\:z :: escaped colons {T}`
	var got []string
	for _, it := range MustParse(t, src) {
		got = append(got, it.ID)
	}
	want := []string{
		"average-speed", "q2", "srednyaya-skorost", "surati-miyona-va-shitob",
		"zakon-nyutona", "ghulai-qohir-juy", "q7", "q8", "cafe-a-la-carte", "2", "spaced-out",
		"very-long-title-that-goes-on-and-on-and-on-and-on-and-on-and-on",
		"x-y-z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got ids\n%q\nwant\n%q", got, want)
	}
}

func TestParseFileShapes(t *testing.T) {
	want := []learn.Item{
		{ID: "a", Kind: learn.TrueFalse, Title: "A", Prompt: en("First\nquestion."), Truth: true},
		{ID: "q2", Kind: learn.TrueFalse, Prompt: en("Second.")},
	}
	tests := []struct {
		name string
		src  string
	}{
		{"unix", "::A::\nFirst\nquestion. {T}\n\nSecond. {F}\n"},
		{"windows", "::A::\r\nFirst\r\nquestion. {T}\r\n\r\nSecond. {F}\r\n"},
		{"old mac", "::A::\rFirst\rquestion. {T}\r\rSecond. {F}\r"},
		{"bom", "\uFEFF::A::\nFirst\nquestion. {T}\n\nSecond. {F}"},
		{"bom and windows", "\uFEFF::A::\r\nFirst\r\nquestion. {T}\r\n\r\nSecond. {F}"},
		{"categories, comments and many blank lines", "$CATEGORY: $course$/top\n\n// c\n\n\n::A::\nFirst\n" +
			"question. {T}\n  \t\n\n$CATEGORY: other\n// c\nSecond. {F}\n\n// the end\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertItems(t, MustParse(t, tt.src), want)
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\uFEFF", "\n\n", "// only a comment\n$CATEGORY: x\n"} {
		items, err := Parse("t.gift", []byte(src), "en")
		if err != nil || len(items) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no items and no error", src, items, err)
		}
	}
}

func TestParseLanguage(t *testing.T) {
	items, err := Parse("t.ru.gift", []byte("::Вопрос:: Земля — планета? {T#Нет.#Да.}\n\nСколько? {#=2 =%50%3#Почти.}\n\nГаз? {=CO2}"), "ru")
	if err != nil {
		t.Fatal(err)
	}
	want := []learn.Item{
		{ID: "vopros", Kind: learn.TrueFalse, Title: "Вопрос", Prompt: learn.Text{"ru": "Земля — планета?"}, Truth: true,
			Feedback: learn.Feedback{Incorrect: learn.Text{"ru": "Нет."}, Correct: learn.Text{"ru": "Да."}}},
		{ID: "q2", Kind: learn.Numeric, Prompt: learn.Text{"ru": "Сколько?"}, Numbers: []learn.NumberAnswer{
			{Min: 2, Max: 2, Weight: 1},
			{Min: 3, Max: 3, Weight: 0.5, Feedback: learn.Text{"ru": "Почти."}},
		}},
		{ID: "q3", Kind: learn.ShortText, Prompt: learn.Text{"ru": "Газ?"}, Texts: []learn.TextAnswer{
			{Lang: "ru", Text: "CO2", Weight: 1},
		}},
	}
	assertItems(t, items, want)
}

// TestParseFiles parses the sample files in testdata.
func TestParseFiles(t *testing.T) {
	tests := []struct {
		file  string
		lang  string
		ids   []string
		kinds []learn.Kind
	}{{
		file: "forces.en.gift", lang: "en",
		ids:   []string{"average-speed", "forces", "q3", "acceleration", "photosynthesis-gas", "g-on-earth", "escapes"},
		kinds: []learn.Kind{learn.Choice, learn.Multi, learn.TrueFalse, learn.Numeric, learn.ShortText, learn.Numeric, learn.Choice},
	}, {
		file: "forces.ru.gift", lang: "ru",
		ids:   []string{"srednyaya-skorost", "sily", "inertsiya", "uskorenie", "fotosintez"},
		kinds: []learn.Kind{learn.Choice, learn.Multi, learn.TrueFalse, learn.Numeric, learn.ShortText},
	}, {
		file: "forces.tg.gift", lang: "tg",
		ids:   []string{"surati-miyona", "qonuni-yakumi-nyuton", "shitob"},
		kinds: []learn.Kind{learn.Choice, learn.TrueFalse, learn.Numeric},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			items, err := Parse(tt.file, src, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			var kinds []learn.Kind
			for _, it := range items {
				ids = append(ids, it.ID)
				kinds = append(kinds, it.Kind)
				for _, text := range texts(&it) {
					if _, ok := text[tt.lang]; !ok || len(text) != 1 {
						t.Errorf("item %q: got text %v, want one in %q", it.ID, text, tt.lang)
					}
				}
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("got ids %q, want %q", ids, tt.ids)
			}
			if !reflect.DeepEqual(kinds, tt.kinds) {
				t.Errorf("got kinds %q, want %q", kinds, tt.kinds)
			}
		})
	}

	// Two items of the English file in full.
	src, _ := os.ReadFile("testdata/forces.en.gift")
	items, _ := Parse("forces.en.gift", src, "en")
	want := []learn.Item{{
		ID: "acceleration", Kind: learn.Numeric, Title: "Acceleration",
		Prompt: en("A car speeds up from 0 to 20 m/s in 5 s.\nWhat is its acceleration, in m/s²?"),
		Numbers: []learn.NumberAnswer{
			{Min: 3.95, Max: 4.05, Weight: 1},
			{Min: 3.5, Max: 4.5, Weight: 0.5, Feedback: en("Close: check your division.")},
		},
		Feedback: learn.Feedback{Incorrect: en(`Use $a = \Delta v / t$.`)},
	}, {
		ID: "escapes", Kind: learn.Choice, Title: "Escapes",
		Prompt: en(`Which sign means "not equal" in $a \neq b$\: \= or \~\=?`),
		Choices: []learn.Option{
			{Text: en(`\~\=`), Weight: 1, Feedback: en(`It is written \\neq in TeX.`)},
			opt(`\=`, 0),
		},
	}}
	if len(items) == 7 {
		assertItems(t, []learn.Item{items[3], items[6]}, want)
	}
}

// texts returns every text of an item.
func texts(it *learn.Item) []learn.Text {
	out := []learn.Text{it.Prompt}
	for _, c := range it.Choices {
		out = append(out, c.Text, c.Feedback)
	}
	for _, n := range it.Numbers {
		out = append(out, n.Feedback)
	}
	for _, a := range it.Texts {
		out = append(out, a.Feedback)
	}
	out = append(out, it.Unit, it.Feedback.Correct, it.Feedback.Incorrect, it.Feedback.General)
	var nonEmpty []learn.Text
	for _, t := range out {
		if t != nil {
			nonEmpty = append(nonEmpty, t)
		}
	}
	return nonEmpty
}
