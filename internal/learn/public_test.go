package learn

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		name           string
		it             *Item
		lang, fallback string
		want           PublicItem
	}{
		{"choice in English", speedItem(), "en", "en", PublicItem{
			ID: "speed-1", Kind: Choice, Lang: "en",
			Prompt:  "A bus travels 120 km in 2 h. What is its average speed?",
			Choices: []string{"60 km/h", "240 km/h", "122 km/h", "about 60", "-60 km/h"},
		}},
		{"choice in Russian, partly translated", speedItem(), "ru", "en", PublicItem{
			ID: "speed-1", Kind: Choice, Lang: "ru",
			Prompt:  "Автобус проезжает 120 км за 2 ч. Какова его средняя скорость?",
			Choices: []string{"60 км/ч", "240 км/ч", "122 км/ч", "около 60", "-60 km/h"},
		}},
		{"Tajik missing: the fallback", speedItem(), "tg", "ru", PublicItem{
			ID: "speed-1", Kind: Choice, Lang: "ru",
			Prompt:  "Автобус проезжает 120 км за 2 ч. Какова его средняя скорость?",
			Choices: []string{"60 км/ч", "240 км/ч", "122 км/ч", "около 60", "-60 km/h"},
		}},
		{"multi", forcesItem(), "ru", "en", PublicItem{
			ID: "forces-2", Kind: Multi, Lang: "ru", Prompt: "Что из этого — силы?",
			Choices: []string{"трение", "вес", "масса", "скорость"},
		}},
		{"truefalse: fallback missing too, first language", inertiaItem(), "tg", "ru", PublicItem{
			ID: "inertia-3", Kind: TrueFalse, Lang: "en",
			Prompt: "A moving body needs a force to keep moving at constant velocity.",
		}},
		{"numeric with unit", accelItem(), "ru", "en", PublicItem{
			ID: "accel-4", Kind: Numeric, Lang: "en", Unit: "м/с²",
			Prompt: "A car speeds up from 0 to 20 m/s in 5 s. Its acceleration?",
		}},
		{"text", photoItem(), "en", "en", PublicItem{
			ID: "photo-5", Kind: ShortText, Lang: "en",
			Prompt: "Name the gas plants take in for photosynthesis.",
		}},
		{"title", &Item{ID: "t", Kind: TrueFalse, Title: "Inertia", Prompt: Text{"en": "p"}}, "en", "en", PublicItem{
			ID: "t", Kind: TrueFalse, Title: "Inertia", Prompt: "p", Lang: "en",
		}},
		{"no prompt", &Item{ID: "e", Kind: TrueFalse}, "en", "en", PublicItem{ID: "e", Kind: TrueFalse}},
	}
	for _, tt := range tests {
		got := tt.it.Public(tt.lang, tt.fallback)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Public(%q, %q) = %+v, want %+v", tt.name, tt.lang, tt.fallback, got, tt.want)
		}
	}
}

// TestPublicFields fails when a field is added to PublicItem, so that whoever
// adds it checks here that it gives no answer away.
func TestPublicFields(t *testing.T) {
	var got []string
	typ := reflect.TypeFor[PublicItem]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	want := []string{"ID", "Kind", "Title", "Prompt", "Choices", "Unit", "Lang"}
	if !slices.Equal(got, want) {
		t.Errorf("PublicItem fields = %v, want %v (a new field must not reveal the answer)", got, want)
	}
}

func TestPublicRevealsNoAnswer(t *testing.T) {
	// Every answer-bearing value is distinctive, so that finding it in the
	// JSON means it leaked.
	secretFeedback := Feedback{
		Correct:   Text{"en": "SECRET-correct"},
		Incorrect: Text{"en": "SECRET-incorrect"},
		General:   Text{"en": "SECRET-general"},
	}
	items := []*Item{
		{ID: "c", Kind: Choice, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Choices: []Option{
			{Text: Text{"en": "A"}, Weight: 1, Feedback: Text{"en": "SECRET-a"}},
			{Text: Text{"en": "B"}, Weight: -0.37, Feedback: Text{"en": "SECRET-b"}},
		}},
		{ID: "m", Kind: Multi, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Choices: []Option{
			{Text: Text{"en": "A"}, Weight: 0.625, Feedback: Text{"en": "SECRET-a"}},
			{Text: Text{"en": "B"}, Weight: 0.375},
			{Text: Text{"en": "C"}, Weight: -0.37},
		}},
		{ID: "t", Kind: TrueFalse, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Truth: true},
		{ID: "f", Kind: TrueFalse, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Truth: false},
		{ID: "n", Kind: Numeric, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Unit: Text{"en": "m"}, Numbers: []NumberAnswer{
			{Min: 123.456, Max: 789.012, Weight: 0.37, Feedback: Text{"en": "SECRET-n"}},
			{Min: 4242, Max: 4242, Weight: 1},
		}},
		{ID: "s", Kind: ShortText, Prompt: Text{"en": "PROMPT"}, Feedback: secretFeedback, Texts: []TextAnswer{
			{Lang: "en", Text: "zanzibar", Weight: 1, Feedback: Text{"en": "SECRET-s"}},
			{Text: "kilimanjaro", Weight: 0.37},
		}},
	}
	forbidden := []string{
		"weight", "truth", ":true", ":false", "min", "max", "numbers", "texts", "feedback", "answer",
		"SECRET", "0.37", "-0.37", "0.625", "0.375", "123.456", "789.012", "4242", "zanzibar", "kilimanjaro",
	}
	allowedKeys := []string{"id", "type", "title", "prompt", "choices", "unit", "lang"}
	for _, it := range items {
		b, err := json.Marshal(it.Public("en", "en"))
		if err != nil {
			t.Fatalf("marshal Public of %s: %v", it.ID, err)
		}
		js := string(b)
		if !strings.Contains(js, "PROMPT") {
			t.Errorf("Public of %s = %s, want the prompt in it", it.ID, js)
		}
		for _, f := range forbidden {
			if strings.Contains(strings.ToLower(js), strings.ToLower(f)) {
				t.Errorf("Public of %s = %s, want no %q in it", it.ID, js, f)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("unmarshal Public of %s: %v", it.ID, err)
		}
		for k := range m {
			if !slices.Contains(allowedKeys, k) {
				t.Errorf("Public of %s has key %q, want only %v", it.ID, k, allowedKeys)
			}
		}
	}
}

func TestTextPickAgreesWithIn(t *testing.T) {
	texts := []Text{nil, {}, {"en": "E"}, {"ru": "R", "tg": "T"}, {"en": "E", "ru": "R", "tg": "T"}, {"tg": ""}}
	langs := []string{"", "en", "ru", "tg", "de"}
	for _, tx := range texts {
		for _, lang := range langs {
			for _, fb := range langs {
				s, used := tx.pick(lang, fb)
				if want := tx.In(lang, fb); s != want {
					t.Errorf("%v.pick(%q, %q) = %q, want %q as In gives", tx, lang, fb, s, want)
				}
				if _, ok := tx[used]; !ok && used != "" {
					t.Errorf("%v.pick(%q, %q) used %q, want a language of the text", tx, lang, fb, used)
				}
				if used != "" && tx[used] != s {
					t.Errorf("%v.pick(%q, %q) = %q in %q, want the text in that language", tx, lang, fb, s, used)
				}
			}
		}
	}
}

// TestPublicIgnoresAnswers checks that items which differ only in their
// answers look the same to a browser.
func TestPublicIgnoresAnswers(t *testing.T) {
	pairs := []struct {
		name string
		a, b *Item
	}{
		{"truth", &Item{ID: "x", Kind: TrueFalse, Prompt: Text{"en": "p"}, Truth: true},
			&Item{ID: "x", Kind: TrueFalse, Prompt: Text{"en": "p"}, Truth: false}},
		{"which choice is right", &Item{ID: "x", Kind: Choice, Prompt: Text{"en": "p"}, Choices: []Option{{Text: Text{"en": "a"}, Weight: 1}, {Text: Text{"en": "b"}}}},
			&Item{ID: "x", Kind: Choice, Prompt: Text{"en": "p"}, Choices: []Option{{Text: Text{"en": "a"}}, {Text: Text{"en": "b"}, Weight: 1}}}},
		{"numbers", &Item{ID: "x", Kind: Numeric, Prompt: Text{"en": "p"}, Numbers: []NumberAnswer{{Min: 1, Max: 2, Weight: 1}}},
			&Item{ID: "x", Kind: Numeric, Prompt: Text{"en": "p"}, Numbers: []NumberAnswer{{Min: 3, Max: 3, Weight: 1}, {Min: 5, Max: 6}}}},
		{"texts", &Item{ID: "x", Kind: ShortText, Prompt: Text{"en": "p"}, Texts: []TextAnswer{{Text: "a", Weight: 1}}},
			&Item{ID: "x", Kind: ShortText, Prompt: Text{"en": "p"}, Texts: []TextAnswer{{Lang: "en", Text: "b", Weight: 1}, {Text: "c"}}}},
	}
	for _, p := range pairs {
		a, _ := json.Marshal(p.a.Public("en", "en"))
		b, _ := json.Marshal(p.b.Public("en", "en"))
		if string(a) != string(b) {
			t.Errorf("%s: Public differs (%s and %s), want the same for items that differ only in answers", p.name, a, b)
		}
	}
}
