package learn

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Response is a student's answer to one item.
type Response struct {
	// Choices are the indexes of the picked options of a Choice or Multi item.
	Choices []int `json:"choices,omitempty"`
	// Text is the raw input of a Numeric or ShortText item, and "true" or
	// "false" for a TrueFalse item.
	Text string `json:"text,omitempty"`
}

// Verdict is the grade of a response.
type Verdict struct {
	// Correct is set for full marks.
	Correct bool `json:"correct"`
	// Score is the fraction of the marks earned, in [0, 1].
	Score float64 `json:"score"`
	// Feedback holds the texts to show, in the requested language, in this
	// order: the feedback of every picked option in option order (or of the
	// matched numeric range or text answer), then the Correct or Incorrect
	// feedback, then the General feedback. Empty texts are left out.
	Feedback []string `json:"feedback,omitempty"`
	// Solution shows the right answer, as an HTML fragment like the item's
	// texts: the right option texts joined by "; ", the key word "true" or
	// "false" (for the server to translate), the number and unit (one
	// number, "4 ± 0.05" or "1..5", with a decimal comma for ru and tg, and
	// large or small magnitudes as 3·10<sup>8</sup>), or the best accepted
	// text answer, in the language if there is one. The server decides
	// whether and when to show it.
	Solution string `json:"solution,omitempty"`
}

// Grade grades r as an answer to it, with texts in lang, else fallback (as
// Text.In). A response that is not an answer gets an error and no verdict:
// ErrEmpty, ErrNotANumber, ErrAmbiguousNumber, ErrUnexpectedUnit,
// ErrBadChoice or ErrBadResponse, for the student to answer again; any other
// error means the item cannot be graded. The field of r that does not belong
// to the item's kind is ignored.
//
//   - Choice: exactly one index; correct iff its weight is 1 (within 1e-6),
//     and the score is its weight, at least 0.
//   - Multi: distinct indexes, at least one; the score is the sum of their
//     weights clamped to [0, 1], and correct iff it is 1. Picking every
//     option scores 1 only if the wrong options have no negative weight.
//   - TrueFalse: "true" or "false" (surrounding spaces are ignored).
//   - Numeric: read with ParseNumber. If a unit is typed and the item has
//     one, it must be the same unit (SameUnit) or the answer is wrong with no
//     credit; a missing unit is fine. If the item has no unit, a typed "%" is
//     ignored (for "what percentage" questions) and any other unit is
//     ErrUnexpectedUnit. The score is the best weight of the ranges holding
//     the number, their bounds widened by 1e-12 of their magnitude for float
//     rounding.
//   - Poll: exactly one index; never correct, score 0 (Kind.Graded): the
//     feedback is the picked choice's and the General one, and there is no
//     solution.
//   - ShortText: compared after NormalizeText with the accepted answers of
//     every language, not only lang (a student may answer in Russian in the
//     English interface); the score is the best weight of the equal answers.
//     In a Wildcard answer "*" stands for any characters (see wildcard.go).
func Grade(it *Item, r Response, lang, fallback string) (Verdict, error) {
	if it == nil {
		return Verdict{}, fmt.Errorf("learn: grade: no item")
	}
	var (
		v   Verdict
		err error
	)
	switch it.Kind {
	case Choice:
		v, err = gradeChoice(it, r, lang, fallback)
	case Multi:
		v, err = gradeMulti(it, r, lang, fallback)
	case TrueFalse:
		v, err = gradeTrueFalse(it, r)
	case Numeric:
		v, err = gradeNumeric(it, r, lang, fallback)
	case ShortText:
		v, err = gradeText(it, r, lang, fallback)
	case Poll:
		if v, err = gradeChoice(it, r, lang, fallback); err == nil {
			v.Feedback = appendText(v.Feedback, it.Feedback.General, lang, fallback)
			return Verdict{Feedback: v.Feedback}, nil
		}
	default:
		return Verdict{}, fmt.Errorf("learn: grade item %q: unknown type %q", it.ID, it.Kind)
	}
	if err != nil {
		return Verdict{}, err
	}
	if v.Correct {
		v.Feedback = appendText(v.Feedback, it.Feedback.Correct, lang, fallback)
	} else {
		v.Feedback = appendText(v.Feedback, it.Feedback.Incorrect, lang, fallback)
	}
	v.Feedback = appendText(v.Feedback, it.Feedback.General, lang, fallback)
	v.Solution = solution(it, lang, fallback)
	return v, nil
}

func gradeChoice(it *Item, r Response, lang, fallback string) (Verdict, error) {
	switch {
	case len(r.Choices) == 0:
		return Verdict{}, ErrEmpty
	case len(r.Choices) > 1 || r.Choices[0] < 0 || r.Choices[0] >= len(it.Choices):
		return Verdict{}, ErrBadChoice
	}
	o := it.Choices[r.Choices[0]]
	return Verdict{
		Correct:  full(o.Weight),
		Score:    clamp01(o.Weight),
		Feedback: appendText(nil, o.Feedback, lang, fallback),
	}, nil
}

func gradeMulti(it *Item, r Response, lang, fallback string) (Verdict, error) {
	if len(r.Choices) == 0 {
		return Verdict{}, ErrEmpty
	}
	picked := make([]bool, len(it.Choices))
	for _, i := range r.Choices {
		if i < 0 || i >= len(it.Choices) || picked[i] {
			return Verdict{}, ErrBadChoice
		}
		picked[i] = true
	}
	var sum float64
	var fb []string
	for i, o := range it.Choices {
		if picked[i] {
			sum += o.Weight
			fb = appendText(fb, o.Feedback, lang, fallback)
		}
	}
	score := clamp01(sum)
	return Verdict{Correct: full(score), Score: score, Feedback: fb}, nil
}

func gradeTrueFalse(it *Item, r Response) (Verdict, error) {
	var said bool
	switch strings.TrimSpace(r.Text) {
	case "":
		return Verdict{}, ErrEmpty
	case "true":
		said = true
	case "false":
		said = false
	default:
		return Verdict{}, ErrBadResponse
	}
	if said == it.Truth {
		return Verdict{Correct: true, Score: 1}, nil
	}
	return Verdict{}, nil
}

func gradeNumeric(it *Item, r Response, lang, fallback string) (Verdict, error) {
	x, unit, err := ParseNumber(r.Text)
	if err != nil {
		return Verdict{}, err
	}
	if unit != "" {
		wantUnit := hasText(it.Unit)
		switch {
		case wantUnit && !SameUnit(unit, it.Unit):
			return Verdict{}, nil
		case !wantUnit && unit != "%":
			return Verdict{}, ErrUnexpectedUnit
		}
	}
	best := -1
	for i, n := range it.Numbers {
		slack := noise * max(math.Abs(n.Min), math.Abs(n.Max))
		if x >= n.Min-slack && x <= n.Max+slack && (best < 0 || n.Weight > it.Numbers[best].Weight) {
			best = i
		}
	}
	if best < 0 {
		return Verdict{}, nil
	}
	n := it.Numbers[best]
	return Verdict{
		Correct:  full(n.Weight),
		Score:    clamp01(n.Weight),
		Feedback: appendText(nil, n.Feedback, lang, fallback),
	}, nil
}

func gradeText(it *Item, r Response, lang, fallback string) (Verdict, error) {
	got := NormalizeText(r.Text)
	if got == "" {
		return Verdict{}, ErrEmpty
	}
	best := -1
	for i, a := range it.Texts {
		if !a.accepts(got) {
			continue
		}
		if best < 0 || betterText(a, it.Texts[best], lang, fallback) {
			best = i
		}
	}
	if best < 0 {
		return Verdict{}, nil
	}
	a := it.Texts[best]
	return Verdict{
		Correct:  full(a.Weight),
		Score:    clamp01(a.Weight),
		Feedback: appendText(nil, a.Feedback, lang, fallback),
	}, nil
}

// betterText reports whether a beats b: a higher weight, or the same weight in
// a language closer to the requested one.
func betterText(a, b TextAnswer, lang, fallback string) bool {
	if a.Weight != b.Weight {
		return a.Weight > b.Weight
	}
	return langRank(a.Lang, lang, fallback) < langRank(b.Lang, lang, fallback)
}

// langRank orders the language of a text answer for lang: the language
// itself, then answers for every language, then the fallback, then others.
func langRank(l, lang, fallback string) int {
	switch l {
	case lang:
		return 0
	case "":
		return 1
	case fallback:
		return 2
	}
	return 3
}

// Solution shows the right answer of it as an HTML fragment, as a verdict
// does ("true" or "false" for a true/false item, for the page to say in its
// language).
func Solution(it *Item, lang, fallback string) string { return solution(it, lang, fallback) }

// solution shows the right answer of it as an HTML fragment (see Verdict).
func solution(it *Item, lang, fallback string) string {
	switch it.Kind {
	case Choice, Multi:
		var right []string
		for _, o := range it.Choices {
			if (it.Kind == Choice && full(o.Weight)) || (it.Kind == Multi && o.Weight > 0) {
				right = append(right, o.Text.In(lang, fallback))
			}
		}
		return strings.Join(right, "; ")
	case TrueFalse:
		if it.Truth {
			return "true"
		}
		return "false"
	case Numeric:
		best := -1
		for i, n := range it.Numbers {
			if best < 0 || n.Weight > it.Numbers[best].Weight {
				best = i
			}
		}
		if best < 0 {
			return ""
		}
		s := formatRange(it.Numbers[best], lang == "ru" || lang == "tg")
		if u := it.Unit.In(lang, fallback); u != "" {
			s += " " + html.EscapeString(u)
		}
		return s
	case ShortText:
		best := -1
		for i, a := range it.Texts {
			if best < 0 || betterText(a, it.Texts[best], lang, fallback) {
				best = i
			}
		}
		if best < 0 {
			return ""
		}
		return html.EscapeString(it.Texts[best].shown())
	}
	return ""
}

// appendText appends t in lang (or fallback) to fb unless it is empty.
func appendText(fb []string, t Text, lang, fallback string) []string {
	if s := t.In(lang, fallback); s != "" {
		fb = append(fb, s)
	}
	return fb
}

// hasText reports whether t is non-empty in some language.
func hasText(t Text) bool {
	for _, s := range t {
		if s != "" {
			return true
		}
	}
	return false
}

// full reports whether a weight or score gives full marks.
func full(w float64) bool { return w >= 1-weightEpsilon }

func clamp01(w float64) float64 { return min(max(w, 0), 1) }
