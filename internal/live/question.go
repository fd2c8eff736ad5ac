package live

import (
	"fmt"
	"html"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/learn"
)

// Poll is the kind of a question with no right answer: students pick one of
// the choices, and the class sees how it voted (learn.Poll: a pack's set
// may hold polls too).
const Poll = learn.Poll

// Question is one question of a session: an exercise item of a pack or one
// the teacher typed, with the language it is asked in. It holds the answers,
// so it never goes to a browser as it is (see Public).
type Question struct {
	Item     learn.Item `json:"item"`
	Lang     string     `json:"lang"`               // the language its texts are shown in
	Fallback string     `json:"fallback,omitempty"` // for texts missing in Lang
	// Where an item of a pack came from; empty for a question typed by the
	// teacher. Answers to pack items count towards the learner's progress.
	Pack        string `json:"pack,omitempty"`
	PackVersion string `json:"pack_version,omitempty"`
	Set         string `json:"set,omitempty"`
}

// Kind is the question's kind: an item kind, or Poll.
func (q *Question) Kind() learn.Kind { return q.Item.Kind }

// Validate reports why a question cannot be asked.
func (q *Question) Validate() error {
	if q.Item.Kind == Poll {
		if len(q.Item.Prompt) == 0 {
			return fmt.Errorf("poll %q: no prompt", q.Item.ID)
		}
		if len(q.Item.Choices) < 2 {
			return fmt.Errorf("poll %q: needs at least 2 choices", q.Item.ID)
		}
		return nil
	}
	return q.Item.Validate()
}

// Public is what a browser may see of the question before the reveal.
func (q *Question) Public() learn.PublicItem {
	if q.Item.Kind != Poll {
		return q.Item.Public(q.Lang, q.Fallback)
	}
	it := q.Item
	it.Kind = learn.Choice
	p := it.Public(q.Lang, q.Fallback)
	p.Kind = Poll
	return p
}

// Grade grades a response. A poll's response is one valid choice, with no
// score.
func (q *Question) Grade(r learn.Response) (learn.Verdict, error) {
	if q.Item.Kind != Poll {
		return learn.Grade(&q.Item, r, q.Lang, q.Fallback)
	}
	switch {
	case len(r.Choices) == 0:
		return learn.Verdict{}, learn.ErrEmpty
	case len(r.Choices) > 1 || r.Choices[0] < 0 || r.Choices[0] >= len(q.Item.Choices):
		return learn.Verdict{}, learn.ErrBadChoice
	}
	return learn.Verdict{}, nil
}

// RightChoices are the indexes of the choices that earn credit (none for a
// poll or a question without choices).
func (q *Question) RightChoices() []int {
	if q.Item.Kind != learn.Choice && q.Item.Kind != learn.Multi {
		return nil
	}
	var out []int
	for i, c := range q.Item.Choices {
		if c.Weight > 0 {
			out = append(out, i)
		}
	}
	return out
}

// Solution is the right answer as an HTML fragment for the reveal: "true" or
// "false" for a true/false item (for the UI to translate), the number and
// unit, or the best accepted text; "" for questions with choices (see
// RightChoices) and polls.
func (q *Question) Solution() string {
	// learn puts the solution in every verdict; grade a response that is
	// valid for the kind to get it.
	probe := map[learn.Kind]string{learn.TrueFalse: "true", learn.Numeric: "0", learn.ShortText: "x"}
	r, ok := probe[q.Item.Kind]
	if !ok {
		return ""
	}
	v, err := learn.Grade(&q.Item, learn.Response{Text: r}, q.Lang, q.Fallback)
	if err != nil {
		return ""
	}
	return v.Solution
}

// Limits of a question typed by a teacher.
const (
	MaxPromptRunes  = 500
	MaxChoiceRunes  = 200
	MaxChoices      = 8
	MaxTextAnswers  = 10
	MaxQuestions    = 100
	maxNicknameRune = 24
)

// AdHoc is a question as a teacher types it into the form: plain text, not
// HTML.
type AdHoc struct {
	Kind      learn.Kind // choice, multi, truefalse, numeric, text or poll
	Prompt    string
	Choices   []string // choice, multi, poll: the options, blanks left out
	Correct   []int    // choice and multi: indexes into Choices
	Truth     bool     // truefalse
	Number    string   // numeric: the right value, as typed ("9.8", "9,8")
	Tolerance string   // numeric: how far off an answer may be, "" for exact
	Unit      string   // numeric: the unit, if any
	Answers   []string // text: accepted answers
}

// Question turns a typed question into one a session asks, with texts in
// lang; id names it within the session.
func (a AdHoc) Question(id, lang string) (Question, error) {
	prompt := strings.TrimSpace(a.Prompt)
	if prompt == "" {
		return Question{}, adhocErr("no_text", "the question has no text")
	}
	if utf8.RuneCountInString(prompt) > MaxPromptRunes {
		return Question{}, adhocErr("long_text", fmt.Sprintf("the question is longer than %d characters", MaxPromptRunes))
	}
	it := learn.Item{ID: id, Kind: a.Kind, Prompt: textHTML(lang, prompt)}
	var choices []string
	for _, c := range a.Choices {
		if c = strings.TrimSpace(c); c != "" {
			if utf8.RuneCountInString(c) > MaxChoiceRunes {
				return Question{}, adhocErr("long_choice", fmt.Sprintf("a choice is longer than %d characters", MaxChoiceRunes))
			}
			choices = append(choices, c)
		}
	}
	if len(choices) > MaxChoices {
		return Question{}, adhocErr("many_choices", fmt.Sprintf("a question has at most %d choices", MaxChoices))
	}
	switch a.Kind {
	case learn.Choice, learn.Multi, Poll:
		if len(choices) < 2 {
			return Question{}, adhocErr("few_choices", "give at least 2 choices")
		}
		right := map[int]bool{}
		for _, i := range a.Correct {
			if i < 0 || i >= len(choices) {
				return Question{}, adhocErr("bad_correct", "a correct choice is marked on an empty line")
			}
			right[i] = true
		}
		if a.Kind == learn.Choice && len(right) != 1 {
			return Question{}, adhocErr("one_correct", "mark exactly one correct choice")
		}
		if a.Kind == learn.Multi && len(right) == 0 {
			return Question{}, adhocErr("some_correct", "mark at least one correct choice")
		}
		for i, c := range choices {
			o := learn.Option{Text: textHTML(lang, c)}
			switch {
			case a.Kind == Poll:
			case right[i]:
				o.Weight = 1 / float64(len(right))
			case a.Kind == learn.Multi:
				// Picking a wrong choice takes back what a right one
				// gives, so ticking every box does not score.
				o.Weight = -1 / float64(len(right))
			}
			it.Choices = append(it.Choices, o)
		}
	case learn.TrueFalse:
		it.Truth = a.Truth
	case learn.Numeric:
		v, unit, err := learn.ParseNumber(a.Number)
		if err != nil || unit != "" {
			return Question{}, adhocErr("not_number", fmt.Sprintf("the right answer %q is not a number", a.Number))
		}
		tol := 0.0
		if strings.TrimSpace(a.Tolerance) != "" {
			t, unit, err := learn.ParseNumber(a.Tolerance)
			if err != nil || unit != "" || t < 0 {
				return Question{}, adhocErr("bad_tolerance", fmt.Sprintf("the tolerance %q is not a number of 0 or more", a.Tolerance))
			}
			tol = t
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return Question{}, adhocErr("not_number", fmt.Sprintf("the right answer %q is not a number", a.Number))
		}
		it.Numbers = []learn.NumberAnswer{{Min: v - tol, Max: v + tol, Weight: 1}}
		if u := strings.TrimSpace(a.Unit); u != "" {
			it.Unit = learn.Text{lang: u}
		}
	case learn.ShortText:
		for _, s := range a.Answers {
			if s = strings.TrimSpace(s); s != "" {
				it.Texts = append(it.Texts, learn.TextAnswer{Text: s, Weight: 1}) // plain text, as learn keeps it
			}
		}
		if len(it.Texts) == 0 {
			return Question{}, adhocErr("no_answers", "give at least one accepted answer")
		}
		if len(it.Texts) > MaxTextAnswers {
			return Question{}, adhocErr("many_answers", fmt.Sprintf("give at most %d accepted answers", MaxTextAnswers))
		}
	default:
		return Question{}, adhocErr("bad_kind", fmt.Sprintf("unknown kind of question %q", a.Kind))
	}
	q := Question{Item: it, Lang: lang}
	if err := q.Validate(); err != nil {
		return Question{}, err
	}
	return q, nil
}

// adhocErr is a refusal of a typed question; its code ("q.no_text", …)
// names the message the form shows.
func adhocErr(code, msg string) error { return &Error{Code: "q." + code, Message: msg} }

// textHTML is typed plain text as the HTML fragment items hold.
func textHTML(lang, s string) learn.Text {
	return learn.Text{lang: strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")}
}
