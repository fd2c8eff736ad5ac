package gift

import (
	"math"
	"strings"

	"github.com/mitstem/stembox/internal/learn"
)

// fullMarks is the least weight that counts as 100%.
const fullMarks = 1 - 1e-6

// answers reads the answer block body, which starts at offset off of the
// question's text, into it.
func (q *question) answers(it *learn.Item, body string, off int) error {
	if g := indexUnescaped(body, "####"); g >= 0 {
		it.Feedback.General = q.text(body[g+4:])
		body = body[:g]
	}
	lead := len(body) - len(strings.TrimLeft(body, space))
	t := strings.TrimSpace(body)
	switch {
	case t == "":
		return q.refuse("essay")
	case t[0] == '#':
		return q.numeric(it, body[lead+1:], off+lead+1)
	case indexUnescaped(body, "~") >= 0:
		return q.choice(it, body, off)
	case indexUnescaped(body, "->") >= 0:
		return q.refuse("matching")
	}
	head, feedback := body, ""
	if h := indexUnescaped(body, "#"); h >= 0 {
		head, feedback = body[:h], body[h+1:]
	}
	switch strings.ToUpper(strings.TrimSpace(head)) {
	case "T", "TRUE":
		return q.trueFalse(it, true, feedback, off+len(head)+1)
	case "F", "FALSE":
		return q.trueFalse(it, false, feedback, off+len(head)+1)
	}
	return q.shortText(it, body, off)
}

// An answer is one "=…" or "~…" of an answer block.
type answer struct {
	mark      byte // '=' or '~'
	off       int  // offset of the mark in the question's text
	weight    float64
	hasWeight bool   // the answer has a %weight%
	raw       string // its text, less weight and feedback
	rawOff    int    // offset of raw in the question's text
	feedback  learn.Text
}

// weightOr returns the answer's weight, or def if it has none.
func (a *answer) weightOr(def float64) float64 {
	if a.hasWeight {
		return a.weight
	}
	return def
}

// split cuts body, which starts at offset off, into answers at every
// unescaped mark; nothing but space may come before the first.
func (q *question) split(body string, off int, marks string) ([]answer, error) {
	var at []int
	for i := 0; ; {
		j := indexAnyUnescaped(body[i:], marks)
		if j < 0 {
			break
		}
		at = append(at, i+j)
		i += j + 1
	}
	if len(at) == 0 {
		return nil, nil
	}
	if lead := len(body) - len(strings.TrimLeft(body, space)); lead < at[0] {
		return nil, q.errAt(off+lead, "gift.text_before_answers", markList(marks))
	}
	out := make([]answer, len(at))
	for k, p := range at {
		end := len(body)
		if k+1 < len(at) {
			end = at[k+1]
		}
		a, err := q.answer(body[p], body[p+1:end], off+p+1)
		if err != nil {
			return nil, err
		}
		out[k] = a
	}
	return out, nil
}

// markList is the marks an answer may start with ("=~"); it prints as
// "= or ~" (Localize spells the "or" in the page's language).
type markList string

func (m markList) String() string { return m.join("or") }

func (m markList) join(or string) string {
	return strings.Join(strings.Split(string(m), ""), " "+or+" ")
}

// answer reads the text s after a mark, which starts at offset off:
// an optional %weight%, the answer and an optional #feedback.
func (q *question) answer(mark byte, s string, off int) (answer, error) {
	a := answer{mark: mark, off: off - 1}
	lead := len(s) - len(strings.TrimLeft(s, space))
	s, off = s[lead:], off+lead
	if strings.HasPrefix(s, "%") {
		end := strings.IndexByte(s[1:], '%')
		if end < 0 {
			return a, q.errAt(off, "gift.weight_unclosed")
		}
		w, err := parseWeight(s[1 : 1+end])
		if err != nil {
			return a, q.errFrom(off, err)
		}
		a.weight, a.hasWeight = w, true
		s, off = s[end+2:], off+end+2
	}
	if h := indexUnescaped(s, "#"); h >= 0 {
		a.feedback = q.text(s[h+1:])
		s = s[:h]
	}
	a.raw, a.rawOff = s, off
	return a, nil
}

// choice reads a block of options. With an "=" option it is a Choice item, an
// "=" worth 100% unless weighted; with "~" options only it is a Multi item.
// Unweighted "~" options are worth nothing.
func (q *question) choice(it *learn.Item, body string, off int) error {
	as, err := q.split(body, off, "=~")
	if err != nil {
		return err
	}
	it.Kind = learn.Multi
	for _, a := range as {
		if a.mark == '=' {
			it.Kind = learn.Choice
		}
	}
	for _, a := range as {
		text := q.text(a.raw)
		if text == nil {
			return q.errAt(a.off, "gift.empty_answer")
		}
		text[q.lang] = inline(text[q.lang])
		def := 0.0
		if a.mark == '=' {
			def = 1
		}
		it.Choices = append(it.Choices, learn.Option{Text: text, Weight: a.weightOr(def), Feedback: a.feedback})
	}
	return nil
}

// shortText reads a block of accepted answers, each worth 100% unless
// weighted.
func (q *question) shortText(it *learn.Item, body string, off int) error {
	as, err := q.split(body, off, "=")
	if err != nil {
		return err
	}
	if len(as) == 0 {
		lead := len(body) - len(strings.TrimLeft(body, space))
		return q.errAt(off+lead, "gift.no_answers")
	}
	it.Kind = learn.ShortText
	best := math.Inf(-1)
	for _, a := range as {
		text, wildcard := shortAnswer(a.raw)
		if text == "" {
			return q.errAt(a.off, "gift.empty_answer")
		}
		w := a.weightOr(1)
		best = max(best, w)
		it.Texts = append(it.Texts, learn.TextAnswer{Lang: q.lang, Text: text, Weight: w, Feedback: a.feedback, Wildcard: wildcard})
	}
	if best < fullMarks {
		return q.errAt(as[0].off, "gift.no_full_answer")
	}
	return nil
}

// trueFalse reads the feedback after T or F: "#wrong" or "#wrong#right",
// starting at offset off. It is called with off past a "#" that may be
// missing; then feedback is "".
func (q *question) trueFalse(it *learn.Item, truth bool, feedback string, off int) error {
	it.Kind = learn.TrueFalse
	it.Truth = truth
	wrong, right := feedback, ""
	if h := indexUnescaped(feedback, "#"); h >= 0 {
		wrong, right = feedback[:h], feedback[h+1:]
		if h2 := indexUnescaped(right, "#"); h2 >= 0 {
			return q.errAt(off+h+1+h2, "gift.truefalse_feedbacks")
		}
	}
	it.Feedback.Incorrect = q.text(wrong)
	it.Feedback.Correct = q.text(right)
	return nil
}

// numeric reads a numeric block after its "#", starting at offset off, as
// Moodle does: answers "NUMBER[#feedback]", each but perhaps the first
// after "=" and with an optional %weight%, then perhaps one "~#feedback"
// for any other answer, which becomes the item's incorrect feedback. A
// NUMBER is a value, a value:tolerance or a min..max range.
func (q *question) numeric(it *learn.Item, body string, off int) error {
	it.Kind = learn.Numeric
	if t := indexUnescaped(body, "~"); t >= 0 {
		if err := q.otherFeedback(it, body[t+1:], off+t+1); err != nil {
			return err
		}
		body = body[:t]
	}
	var as []answer
	first := indexUnescaped(body, "=")
	if first < 0 {
		first = len(body)
	}
	if strings.TrimSpace(body[:first]) != "" {
		// A first answer without "=": {#4}, {#4#right}, {#4 =%50%5}.
		a, err := q.answer('=', body[:first], off)
		if err != nil {
			return err
		}
		if a.hasWeight || strings.TrimSpace(a.raw) != "" {
			as = append(as, a)
		} else if first < len(body) {
			return q.errAt(off+max(0, indexUnescaped(body, "#")), "gift.numeric_feedback_first")
		}
	}
	if first < len(body) {
		more, err := q.split(body[first:], off+first, "=")
		if err != nil {
			return err
		}
		as = append(as, more...)
	}
	if len(as) == 0 {
		return q.errAt(off-1, "gift.numeric_no_answers")
	}
	best := math.Inf(-1)
	for _, a := range as {
		n, err := q.number(a.raw, a.rawOff)
		if err != nil {
			return err
		}
		n.Weight, n.Feedback = a.weightOr(1), a.feedback
		best = max(best, n.Weight)
		it.Numbers = append(it.Numbers, n)
	}
	if best < fullMarks {
		return q.errAt(off-1, "gift.no_full_answer")
	}
	return nil
}

// otherFeedback reads what follows the "~" of a numeric block, which
// starts at offset off: "#feedback" for any other answer, and nothing else.
func (q *question) otherFeedback(it *learn.Item, s string, off int) error {
	if m := indexAnyUnescaped(s, "=~"); m >= 0 {
		if s[m] == '~' {
			return q.errAt(off+m, "gift.numeric_other_twice")
		}
		return q.errAt(off+m, "gift.numeric_other_first")
	}
	a, err := q.answer('~', s, off)
	if err != nil {
		return err
	}
	if a.hasWeight || strings.TrimSpace(a.raw) != "" {
		return q.errAt(off-1, "gift.numeric_tilde_number", placeholder("number"))
	}
	it.Feedback.Incorrect = a.feedback
	return nil
}

// number reads "value", "value:tolerance" or "min..max", which starts at
// offset off.
func (q *question) number(spec string, off int) (learn.NumberAnswer, error) {
	var n learn.NumberAnswer
	lead := len(spec) - len(strings.TrimLeft(spec, space))
	spec, off = strings.TrimSpace(spec), off+lead
	if spec == "" {
		return n, q.errAt(off, "gift.missing_number")
	}
	if lo, hi, ok := strings.Cut(spec, ".."); ok {
		var err error
		if n.Min, err = parseNumber(lo); err != nil {
			return n, q.errFrom(off, err)
		}
		if n.Max, err = parseNumber(hi); err != nil {
			return n, q.errFrom(off, err)
		}
		if n.Min > n.Max {
			return n, q.errAt(off, "gift.empty_range", quote(spec))
		}
		return n, nil
	}
	value, tolerance, hasTolerance := strings.Cut(spec, ":")
	v, err := parseNumber(value)
	if err != nil {
		return n, q.errFrom(off, err)
	}
	var tol float64
	if hasTolerance {
		if tol, err = parseNumber(tolerance); err != nil {
			return n, q.errFrom(off, err)
		}
		if tol < 0 {
			return n, q.errAt(off, "gift.negative_tolerance", quote(strings.TrimSpace(tolerance)))
		}
	}
	n.Min, n.Max = v-tol, v+tol
	if math.IsInf(n.Min, 0) || math.IsInf(n.Max, 0) {
		return n, q.errAt(off, "gift.number_range", quote(spec))
	}
	return n, nil
}
