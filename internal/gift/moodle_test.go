package gift

import (
	"html"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/markup"
)

// TestParseChoicesAreLiteral: escaped characters and leading block markers
// in a choice come out as Markdown that renders them as written, on one line.
func TestParseChoicesAreLiteral(t *testing.T) {
	k, err := katex.New()
	if err != nil {
		t.Fatal(err)
	}
	md := markup.New(k)
	tests := []struct {
		choice string // as written in GIFT, after "="
		want   string // the Markdown of the choice
	}{
		{`\#`, `\#`},
		{`\# 5`, `\# 5`},
		{`\#\#\# big`, `\#\#\# big`},
		{`\=`, `\=`},
		{`\~`, `\~`},
		{`\{x\}`, `\{x\}`},
		{`a\:b`, `a\:b`},
		{`- 5`, `\- 5`},
		{`-5`, `\-5`},
		{`+ 5`, `\+ 5`},
		{`* star`, `\* star`},
		{`***`, `\***`},
		{`_ _ _`, `\_ _ _`},
		{`> quoted`, `\> quoted`},
		{`1. first`, `1\. first`},
		{`2) second`, `2\) second`},
		{`1.5`, `1.5`},
		{`2024. A year`, `2024\. A year`},
		{"```", "\\```"},
		{`*emphasis*`, `*emphasis*`},
		{`a\n- b`, "a\n\\- b"},
		{`a\n\=\=\=`, "a\n\\=\\=\\="},
		{`$\{a\}$`, `${a}$`}, // inside TeX the GIFT escape is resolved: braces group
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			it := MustParse(t, "Pick one. {="+tt.choice+" ~other}")[0]
			got := it.Choices[0].Text["en"]
			if got != tt.want {
				t.Errorf("got choice %q, want %q", got, tt.want)
			}
			// What students see: the text as written, inline.
			h, err := md.Inline(got, markup.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, block := range []string{"<h", "<ul", "<ol", "<li", "<blockquote", "<hr", "<pre", "<p>"} {
				if strings.Contains(h, block) {
					t.Errorf("choice renders as %q, a block (%s)", h, block)
				}
			}
			if !strings.Contains(tt.choice, "$") && !strings.Contains(tt.choice, "*e") {
				want := strings.NewReplacer(`\n`, "\n", `\`, "").Replace(tt.choice)
				if plain := html.UnescapeString(h); plain != want {
					t.Errorf("choice renders as %q, want the text %q", plain, want)
				}
			}
		})
	}
}

// TestParseShortAnswerWildcards: "*" is Moodle's wildcard, "\*" a star.
func TestParseShortAnswerWildcards(t *testing.T) {
	tests := []struct {
		src      string
		text     string
		wildcard bool
		accepts  []string
		refuses  []string
	}{
		{`Fish? {=cat*}`, `cat*`, true, []string{"catfish", "Cat", "cat fish"}, []string{"dogfish", "a cat"}},
		{`Product? {=2\*3}`, `2*3`, false, []string{"2*3"}, []string{"2x3", "23"}},
		{`Either {=*\*}`, `*\*`, true, []string{"a*", "*"}, []string{"a"}},
		{`Path {=a\\*}`, `a\\*`, true, []string{`a\`, `a\b`}, []string{"ab"}},
		{`Anything {=*}`, `*`, true, []string{"x", "long answer"}, nil},
		{`Middle {=c*t*h}`, `c*t*h`, true, []string{"cath", "coat with"}, []string{"cat", "hatch"}},
		{`Plain {=cat}`, `cat`, false, []string{"CAT"}, []string{"catfish"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			it := MustParse(t, tt.src)[0]
			if got := it.Texts[0]; got.Text != tt.text || got.Wildcard != tt.wildcard {
				t.Fatalf("got answer %q (wildcard %v), want %q (wildcard %v)", got.Text, got.Wildcard, tt.text, tt.wildcard)
			}
			for _, s := range tt.accepts {
				if v, err := learn.Grade(&it, learn.Response{Text: s}, "en", "en"); err != nil || !v.Correct {
					t.Errorf("%q: got %+v, %v; want correct", s, v, err)
				}
			}
			for _, s := range tt.refuses {
				if v, err := learn.Grade(&it, learn.Response{Text: s}, "en", "en"); err != nil || v.Correct {
					t.Errorf("%q: got %+v, %v; want wrong", s, v, err)
				}
			}
		})
	}
}

// TestParseNumericForms: the numeric blocks Moodle accepts.
func TestParseNumericForms(t *testing.T) {
	tests := []struct {
		src   string
		nums  []learn.NumberAnswer
		wrong string // the feedback for other answers
	}{
		{"Two plus two? {#4#right ~#Count again.}", []learn.NumberAnswer{{Min: 4, Max: 4, Weight: 1, Feedback: en("right")}}, "Count again."},
		{"Two plus two? {#4 ~#Count again.}", []learn.NumberAnswer{{Min: 4, Max: 4, Weight: 1}}, "Count again."},
		{"Pi? {#3.14:0.01#Good. =%50%3#Roughly. ~#No.}", []learn.NumberAnswer{{Min: 3.13, Max: 3.15, Weight: 1, Feedback: en("Good.")}, {Min: 3, Max: 3, Weight: 0.5, Feedback: en("Roughly.")}}, "No."},
		{"Pi? {#=3.14:0.01 =%50%3 ~#No.}", []learn.NumberAnswer{{Min: 3.13, Max: 3.15, Weight: 1}, {Min: 3, Max: 3, Weight: 0.5}}, "No."},
		{"Range? {#\n  1..5 # in range\n  ~ # out of range\n}", []learn.NumberAnswer{{Min: 1, Max: 5, Weight: 1, Feedback: en("in range")}}, "out of range"},
		{"Weighted first? {#%100%7}", []learn.NumberAnswer{{Min: 7, Max: 7, Weight: 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			it := rounded(MustParse(t, tt.src))[0]
			want := learn.Item{ID: "q1", Kind: learn.Numeric, Prompt: it.Prompt, Numbers: tt.nums}
			if tt.wrong != "" {
				want.Feedback.Incorrect = en(tt.wrong)
			}
			assertItems(t, []learn.Item{it}, rounded([]learn.Item{want}))
		})
	}
}
