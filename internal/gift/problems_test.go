package gift

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/i18n"
)

// everyProblem is where testdata/every-problem.gift has each problem.
var everyProblem = []struct {
	line int
	key  string
}{
	{5, "gift.unsupported_matching"},
	{12, "gift.unsupported_missing_word"},
	{15, "gift.unsupported_essay"},
	{19, "gift.unsupported_description"},
	{24, "gift.unclosed_brace"},
	{29, "gift.close_without_open"},
	{34, "gift.brace_inside"},
	{39, "gift.no_answers"},
	{44, "gift.numeric_no_answers"},
	{49, "gift.bad_number"},
	{52, "gift.number_range"},
	{55, "gift.empty_range"},
	{58, "gift.negative_tolerance"},
	{62, "gift.missing_number"},
	{66, "gift.numeric_tilde_number"},
	{71, "gift.numeric_other_twice"},
	{74, "gift.numeric_other_first"},
	{78, "gift.numeric_feedback_first"},
	{82, "gift.no_full_answer"},
	{87, "gift.weight_range"},
	{91, "gift.bad_weight"},
	{94, "gift.weight_unclosed"},
	{99, "gift.empty_answer"},
	{104, "gift.text_before_answers"},
	{109, "gift.truefalse_feedbacks"},
	{112, "gift.title_unclosed"},
	{116, "gift.no_text"},
	{121, "gift.duplicate_id"},
	{124, "gift.no_correct_choice"},
	{128, "gift.too_few_choices"},
	{131, "gift.weights_sum"},
	{134, "gift.no_full_choice"},
	{137, "gift.not_utf8"},
}

// TestEveryProblemInTheLanguages reads a file with one question for every
// problem the parser reports: ParseAll finds each at its line, goes on to
// the good questions after them, and Localize says each in Tajik, Russian
// and English, with no English left in the first two.
func TestEveryProblemInTheLanguages(t *testing.T) {
	src, err := os.ReadFile("testdata/every-problem.gift")
	if err != nil {
		t.Fatal(err)
	}
	items, err := ParseAll("every-problem.gift", src, "en")
	if got := len(items); got != 2 {
		t.Errorf("got %d items, want the 2 good questions", got)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got error %v (%T), want gift.Errors", err, err)
	}
	if len(es) != len(everyProblem) {
		t.Errorf("got %d problems, want %d:\n%v", len(es), len(everyProblem), err)
	}
	seen := map[string]bool{}
	for i, want := range everyProblem {
		if i >= len(es) {
			break
		}
		if es[i].Line != want.line || es[i].Key != want.key {
			t.Errorf("problem %d: line %d %s (%s), want line %d %s", i+1, es[i].Line, es[i].Key, es[i].Msg, want.line, want.key)
		}
		seen[want.key] = true
	}
	for key := range english {
		if !seen[key] && key != "gift.invalid_item" { // a fallback no GIFT question reaches
			t.Errorf("the file has no question with problem %s", key)
		}
	}
	// English words a translation must not keep (GIFT's own syntax aside).
	english := regexp.MustCompile(`\b(the|is|not|answer|answers|number|weight|question|or|line|write|feedback|NUMBER)\b`)
	for _, lang := range []string{"en", "ru", "tg"} {
		lines := Localize(err, lang)
		if len(lines) != len(es) {
			t.Fatalf("%s: %d lines for %d problems", lang, len(lines), len(es))
		}
		prefix := i18n.T(lang, "gift.line", 0, "")
		prefix = prefix[:strings.Index(prefix, "0")]
		for i, l := range lines {
			if want := prefix + strconv.Itoa(es[i].Line) + ": "; !strings.HasPrefix(l, want) {
				t.Errorf("%s: %q does not start with %q", lang, l, want)
			}
			if strings.Contains(l, "%!") || strings.Contains(l, "!gift.") {
				t.Errorf("%s: badly formatted: %q", lang, l)
			}
			if lang != "en" && english.MatchString(l) {
				t.Errorf("%s: English in %q", lang, l)
			}
		}
	}
	if got := Localize(err, "ru")[0]; got != "Строка 5: вопросы на соответствие не поддерживаются" {
		t.Errorf("first line in Russian: %q", got)
	}
}

func TestLocalizeParsesFirstErrorAndOthers(t *testing.T) {
	_, err := Parse("t.gift", []byte("Q {#4\n~5}"), "en")
	if got, want := Localize(err, "tg"), "Сатри 2: дар блоки рақамӣ пас аз ~ танҳо шарҳ барои ҷавобҳои дигар меояд (~#шарҳ), на рақам: ҷавобҳои нодурустро ҳамчун =%0%РАҚАМ нависед"; len(got) != 1 || got[0] != want {
		t.Errorf("Localize(tg) = %q, want [%q]", got, want)
	}
	if got, want := err.Error(), "t.gift:2: a numeric ~ takes only feedback for other answers (~#feedback), not a number: write wrong answers as =%0%NUMBER"; got != want {
		t.Errorf("English error %q, want %q (the CLI's words are unchanged)", got, want)
	}
	_, err = Parse("t.gift", []byte("Question {\nmaybe\n=a ~b}"), "en")
	if got := Localize(err, "ru"); len(got) != 1 || !strings.Contains(got[0], "= или ~") {
		t.Errorf("Localize(ru) = %q, want the marks joined by или", got)
	}
	if got := Localize(errors.New("disk on fire"), "en"); len(got) != 1 || got[0] != "The file cannot be read as GIFT." {
		t.Errorf("Localize of another error = %q", got)
	}
	if got := Localize(nil, "en"); got != nil {
		t.Errorf("Localize(nil) = %q, want nil", got)
	}
}
