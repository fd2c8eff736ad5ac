package gift

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
)

// english holds the English text of every problem Parse reports, by its
// i18n key (Error.Key); the page shows the catalogue's text instead
// (Localize). Keep the two in step: TestEveryProblemIsTranslated.
var english = map[string]string{
	"gift.not_utf8":                 "not utf-8 text (save the file as utf-8)",
	"gift.duplicate_id":             "duplicate id %q (also at line %d)",
	"gift.unsupported_essay":        "essay questions are not supported",
	"gift.unsupported_matching":     "matching questions are not supported",
	"gift.unsupported_description":  "description questions are not supported",
	"gift.unsupported_missing_word": "missing-word questions are not supported",
	"gift.title_unclosed":           "title has no closing ::",
	"gift.close_without_open":       "} without { (write \\} for a literal brace)",
	"gift.unclosed_brace":           "unclosed {",
	"gift.brace_inside":             "{ inside an answer block (write \\{ for a literal brace)",
	"gift.no_text":                  "question has no text",
	"gift.text_before_answers":      "text before the first answer (answers start with %s)",
	"gift.weight_unclosed":          "weight has no closing %%",
	"gift.bad_weight":               "bad weight %s",
	"gift.weight_range":             "weight %s%% is outside -100%%..100%%",
	"gift.empty_answer":             "empty answer",
	"gift.no_answers":               "answer block has no answers (write \\{ and \\} for literal braces)",
	"gift.no_full_answer":           "no answer is worth 100%%",
	"gift.truefalse_feedbacks":      "true/false takes at most two feedbacks (write \\# for a literal #)",
	"gift.numeric_feedback_first":   "feedback before the first numeric answer (write #NUMBER#feedback)",
	"gift.numeric_no_answers":       "numeric answer block has no answers (write {#NUMBER}, {#NUMBER:TOLERANCE} or {#MIN..MAX})",
	"gift.numeric_other_twice":      "a numeric answer block takes one ~#feedback for other answers, not several",
	"gift.numeric_other_first":      "answers come before the ~#feedback for other answers (write \\= for a literal =)",
	"gift.numeric_tilde_number":     "a numeric ~ takes only feedback for other answers (~#feedback), not a number: write wrong answers as =%%0%%%s",
	"gift.missing_number":           "missing number",
	"gift.bad_number":               "bad number %s",
	"gift.number_range":             "number %s is out of range",
	"gift.empty_range":              "empty range %s",
	"gift.negative_tolerance":       "negative tolerance %s",
	"gift.too_few_choices":          "item %q: a %s item needs at least 2 choices",
	"gift.no_correct_choice":        "item %q: no choice is marked correct",
	"gift.no_full_choice":           "item %q: a single-choice item needs one fully correct choice",
	"gift.weights_sum":              "item %q: the weights of the correct choices add up to %s%%, not 100%%",
	"gift.invalid_item":             "the question cannot be graded",
}

// newError is the problem key, with args, at line of file.
func newError(file string, line int, key string, args ...any) *Error {
	format, ok := english[key]
	if !ok {
		format = key
	}
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Key: key, Args: args}
}

// placeholder is a word of GIFT syntax in an example, such as NUMBER in
// =%0%NUMBER: Localize spells it in the page's language.
type placeholder string

func (p placeholder) String() string { return strings.ToUpper(string(p)) }

// problem is a problem found before its line is known (a number, a
// weight); errFrom places it.
type problem struct {
	key  string
	args []any
}

func newProblem(key string, args ...any) *problem { return &problem{key: key, args: args} }

func (p *problem) Error() string { return fmt.Sprintf(english[p.key], p.args...) }

// validateProblem names what (*learn.Item).Validate refused in an item
// read from GIFT, as Error.Key and Args: its message is learn's, in English.
func validateProblem(it *learn.Item) (string, []any) {
	if it.Kind != learn.Choice && it.Kind != learn.Multi {
		return "gift.invalid_item", nil
	}
	if len(it.Choices) < 2 {
		return "gift.too_few_choices", []any{it.ID, string(it.Kind)}
	}
	var best, sum float64
	for _, c := range it.Choices {
		if c.Weight > 0 {
			sum += c.Weight
		}
		best = max(best, c.Weight)
	}
	switch {
	case best <= 0:
		return "gift.no_correct_choice", []any{it.ID}
	case it.Kind == learn.Choice:
		return "gift.no_full_choice", []any{it.ID}
	}
	return "gift.weights_sum", []any{it.ID, fmt.Sprintf("%.4g", sum*100)}
}

// Errors is every problem ParseAll found, in file order.
type Errors []*Error

// Error returns the problems one a line, as Parse's errors read.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ParseAll is Parse, except that it goes on past a question it cannot read
// and reports every problem (at most one a question): it returns the items
// of the questions that are fine and, if any is not, an Errors. A
// question that is not UTF-8 is one such problem. The studio's GIFT
// import uses it, so that a teacher sees everything to fix at once
// (Localize).
func ParseAll(name string, src []byte, lang string) ([]learn.Item, error) {
	if lang == "" {
		return nil, fmt.Errorf("%s: no language given", name)
	}
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	text := strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", "\n")
	var (
		items []learn.Item
		errs  Errors
	)
	lines := map[string]int{}
	for i, c := range split(text) {
		if bad := invalidUTF8(c.text); bad >= 0 {
			errs = append(errs, newError(name, c.line(bad), "gift.not_utf8"))
			continue
		}
		it, err := parseQuestion(name, lang, c, i+1, lines)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{File: name, Line: c.lines[0], Msg: err.Error(), Key: "gift.invalid_item"}
			}
			errs = append(errs, e)
			continue
		}
		items = append(items, it)
	}
	if bad := invalidUTF8(text); bad >= 0 && !slices.ContainsFunc(errs, func(e *Error) bool { return e.Key == "gift.not_utf8" }) {
		// In a comment: Parse refuses the file for it too.
		errs = append(errs, newError(name, 1+strings.Count(text[:bad], "\n"), "gift.not_utf8"))
		slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	}
	if len(errs) > 0 {
		return items, errs
	}
	return items, nil
}

// Localize returns the problems in err, one a line as "Line 12: …", in
// the language lang (tg, ru or en): err is what Parse or ParseAll returned
// (an *Error or Errors, or an error holding them, errors.Join included).
// An error with no line, or of another kind, gives one line saying the
// file cannot be read. The studio's GIFT import shows these lines (h-ui),
// under the draft it made from the questions that were fine (h-core).
func Localize(err error, lang string) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range flatten(err) {
		if e == nil {
			out = append(out, i18n.T(lang, "gift.unreadable"))
			continue
		}
		out = append(out, i18n.T(lang, "gift.line", e.Line, localize(e, lang)))
	}
	return out
}

// localize is e's problem in lang.
func localize(e *Error, lang string) string {
	key := e.Key
	if key == "" {
		key = "gift.invalid_item"
	}
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		switch v := a.(type) {
		case markList:
			a = v.join(i18n.T(lang, "gift.or"))
		case placeholder:
			a = i18n.T(lang, "gift.word_"+string(v))
		}
		args[i] = a
	}
	return i18n.T(lang, key, args...)
}

// flatten finds the *Errors in err, in order; nil stands for an error
// that holds none.
func flatten(err error) []*Error {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{nil}
}
