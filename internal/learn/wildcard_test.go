package learn_test

import (
	"testing"

	"github.com/mitstem/stembox/internal/learn"
)

func TestGradeWildcardAnswers(t *testing.T) {
	tests := []struct {
		pattern string
		got     string
		want    bool
	}{
		{"cat*", "catfish", true},
		{"cat*", "cat", true},
		{"cat*", "«Catfish.»", true}, // normalized as any answer
		{"cat*", "a cat", false},
		{"*fish", "catfish", true},
		{"*fish", "fishcat", false},
		{"c*t", "cat", true},
		{"c*t", "ct", true},
		{"c*t", "cats", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false}, // the parts may not overlap
		{`2\*3`, "2*3", true},
		{`2\*3`, "2x3", false},
		{`a\\*`, `a\b`, true},
		{"СО*", "co2", true}, // Cyrillic С and О fold to Latin
		{"*", "anything", true},
		{"северо-*", "северо-запад", true}, // a dash before a wildcard joins words too
		{"северо-*", "северо запад", true},
	}
	for _, tt := range tests {
		it := learn.Item{ID: "w", Kind: learn.ShortText, Prompt: learn.Text{"en": "?"},
			Texts: []learn.TextAnswer{{Text: tt.pattern, Weight: 1, Wildcard: true}}}
		v, err := learn.Grade(&it, learn.Response{Text: tt.got}, "en", "en")
		if err != nil || v.Correct != tt.want {
			t.Errorf("%q against %q: got correct %v (%v), want %v", tt.got, tt.pattern, v.Correct, err, tt.want)
		}
	}
	// Without Wildcard a star is a star.
	it := learn.Item{ID: "p", Kind: learn.ShortText, Prompt: learn.Text{"en": "?"}, Texts: []learn.TextAnswer{{Text: "cat*", Weight: 1}}}
	if v, _ := learn.Grade(&it, learn.Response{Text: "catfish"}, "en", "en"); v.Correct {
		t.Errorf("a plain answer cat* accepted catfish")
	}
}
