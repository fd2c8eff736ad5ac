package studio

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
)

// LimitSet bounds what a draft may hold, so that one draft can never fill
// the box's disk or slow down its pages. The store refuses a draft past
// them (CheckLimits); publishing also asks for a complete draft (Validate).
type LimitSet struct {
	Items     int      // questions in a set
	TextBytes int      // bytes of one text in one language (a prompt, a choice, a lesson's body)
	Choices   int      // choices of a question
	Accepted  int      // accepted answers of a text question, per language
	Grades    int      // grades of a draft
	DocBytes  int      // the whole draft, as stored (JSON)
	Languages []string // the languages a teacher may write in
}

// Limits are the studio's limits (docs/studio.md, "Limits"). Read them; do
// not change them.
var Limits = LimitSet{Items: 200, TextBytes: 20 << 10, Choices: 12, Accepted: 20, Grades: 12, DocBytes: 512 << 10, Languages: []string{"en", "ru", "tg"}}

// The item types a set may hold.
var itemTypes = []string{"choice", "multi", "truefalse", "numeric", "text", "poll"}

// itemIDPattern is the shape of an item's id: as a pack's exercises YAML
// asks, short enough for the answers table.
var itemIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

var subjectPattern = regexp.MustCompile(`^[a-z]{1,40}$`)

// Problem is one thing wrong with a draft, in a form a page can translate:
// Key is an i18n key (internal/i18n/messages_studio.go) whose %-verbs take
// Args.
type Problem struct {
	Item  int    // the question's number, from 1; 0 for the draft as a whole
	Field string // what is wrong: "title.tg", "prompt.ru", "choices[2].text.en", "items", …
	Key   string
	Args  []any
}

// Message is the problem in lang, with the question's number.
func (p Problem) Message(lang string) string {
	m := i18n.T(lang, p.Key, p.Args...)
	if p.Item > 0 {
		m = i18n.T(lang, "studio.problem.item_n", p.Item, m)
	}
	return m
}

func (p Problem) Error() string { return p.Message("en") }

// Problems is every problem found in a draft, in order.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// ProblemsOf returns the problems carried by err (as CheckLimits and
// Validate return them), or nil.
func ProblemsOf(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}

// asError is nil for no problems, else a failure.Invalid error carrying
// them.
func (ps Problems) asError() error {
	if len(ps) == 0 {
		return nil
	}
	return failure.Wrap(failure.Invalid, ps, ps.Error())
}

// CheckLimits checks what the store needs of every saved draft, however
// unfinished: a known kind and languages, and every bound of Limits. An
// error is failure.Invalid and carries Problems.
func CheckLimits(doc Doc, kind string) error {
	return checkLimits(doc, kind).asError()
}

// Validate checks that a draft can be published: CheckLimits, and that
// everything a pack needs is written in every language of the draft. An
// error is failure.Invalid and carries Problems.
func Validate(doc Doc, kind string) error {
	ps := checkLimits(doc, kind)
	if len(ps) > 0 {
		return ps.asError()
	}
	ps = append(ps, checkDoc(doc, kind)...)
	return ps.asError()
}

func checkLimits(doc Doc, kind string) Problems {
	var ps Problems
	add := func(item int, field, key string, args ...any) {
		ps = append(ps, Problem{Item: item, Field: field, Key: key, Args: args})
	}
	if kind != KindSet && kind != KindLesson {
		add(0, "kind", "studio.problem.kind", kind)
		return ps
	}
	if len(doc.Languages) == 0 {
		add(0, "languages", "studio.problem.no_language")
	}
	for i, l := range doc.Languages {
		if !slices.Contains(Limits.Languages, l) {
			add(0, "languages", "studio.problem.language", l)
		} else if slices.Index(doc.Languages, l) != i {
			add(0, "languages", "studio.problem.language_twice", l)
		}
	}
	if len(doc.Grades) > Limits.Grades {
		add(0, "grades", "studio.problem.too_many", Limits.Grades)
	}
	if len(doc.Subject) > 40 {
		add(0, "subject", "studio.problem.subject", clip(doc.Subject))
	}
	if len(doc.RemixOf) > 200 {
		add(0, "remix_of", "studio.problem.too_long", len(doc.RemixOf)/1024+1, 1)
	}
	text := func(item int, field string, t Text) {
		for l, s := range t {
			if !slices.Contains(Limits.Languages, l) {
				add(item, field, "studio.problem.language", clip(l))
			} else if len(s) > Limits.TextBytes {
				add(item, field+"."+l, "studio.problem.too_long", (len(s)+1023)/1024, Limits.TextBytes/1024)
			}
		}
	}
	text(0, "title", doc.Title)
	text(0, "body", doc.Body)
	if kind == KindLesson && len(doc.Items) > 0 {
		add(0, "items", "studio.problem.lesson_items")
	}
	if len(doc.Items) > Limits.Items {
		// Stop here: ten thousand items would make ten thousand problems.
		add(0, "items", "studio.problem.too_many_items", Limits.Items, len(doc.Items))
		return ps
	}
	for i, it := range doc.Items {
		n := i + 1
		if len(it.ID) > 40 || len(it.Type) > 20 {
			add(n, "id", "studio.problem.item_id", clip(it.ID))
			continue
		}
		text(n, "prompt", it.Prompt)
		text(n, "unit", it.Unit)
		text(n, "feedback.correct", it.Feedback.Correct)
		text(n, "feedback.incorrect", it.Feedback.Incorrect)
		text(n, "feedback.general", it.Feedback.General)
		if len(it.Choices) > Limits.Choices {
			add(n, "choices", "studio.problem.many_choices", Limits.Choices)
		} else {
			for j, c := range it.Choices {
				text(n, fmt.Sprintf("choices[%d].text", j+1), c.Text)
				text(n, fmt.Sprintf("choices[%d].feedback", j+1), c.Feedback)
			}
		}
		for l, as := range it.Accepted {
			if !slices.Contains(Limits.Languages, l) {
				add(n, "accepted", "studio.problem.language", clip(l))
				continue
			}
			if len(as) > Limits.Accepted {
				add(n, "accepted."+l, "studio.problem.many_accepted", Limits.Accepted, l)
				continue
			}
			for _, a := range as {
				if len(a) > 1024 {
					add(n, "accepted."+l, "studio.problem.too_long", (len(a)+1023)/1024, 1)
				}
			}
		}
	}
	return ps
}

// clip shortens s for a message: a 1 MB "language" is not repeated back.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	s = s[:40]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// checkDoc checks what a pack needs, given a draft within its limits.
func checkDoc(doc Doc, kind string) Problems {
	var ps Problems
	add := func(item int, field, key string, args ...any) {
		ps = append(ps, Problem{Item: item, Field: field, Key: key, Args: args})
	}
	// every requires t in every language of the draft.
	every := func(item int, field, key string, t Text, args ...any) {
		for _, l := range doc.Languages {
			if strings.TrimSpace(t[l]) == "" {
				add(item, field+"."+l, key, append(args, l)...)
			}
		}
	}
	every(0, "title", "studio.problem.no_title", doc.Title)
	if doc.Subject == "" {
		add(0, "subject", "studio.problem.no_subject")
	} else if !subjectPattern.MatchString(doc.Subject) {
		add(0, "subject", "studio.problem.subject", doc.Subject)
	}
	if len(doc.Grades) == 0 {
		add(0, "grades", "studio.problem.no_grades")
	}
	for _, g := range doc.Grades {
		if g < 1 || g > 12 {
			add(0, "grades", "studio.problem.grade", g)
		}
	}
	if kind == KindLesson {
		every(0, "body", "studio.problem.no_body", doc.Body)
		return ps
	}
	if len(doc.Items) == 0 {
		add(0, "items", "studio.problem.no_items")
	}
	seen := map[string]int{}
	for i, it := range doc.Items {
		n := i + 1
		if !itemIDPattern.MatchString(it.ID) {
			add(n, "id", "studio.problem.item_id", it.ID)
		} else if first, ok := seen[it.ID]; ok {
			add(n, "id", "studio.problem.item_id_twice", it.ID, first)
		} else {
			seen[it.ID] = n
		}
		if !slices.Contains(itemTypes, it.Type) {
			add(n, "type", "studio.problem.item_type", it.Type)
			continue
		}
		every(n, "prompt", "studio.problem.no_prompt", it.Prompt)
		ps = append(ps, checkAnswer(doc, n, it)...)
	}
	return ps
}

// checkAnswer checks the answer part of item n by its type.
func checkAnswer(doc Doc, n int, it Item) Problems {
	var ps Problems
	add := func(field, key string, args ...any) {
		ps = append(ps, Problem{Item: n, Field: field, Key: key, Args: args})
	}
	switch it.Type {
	case "choice", "multi", "poll":
		if len(it.Choices) < 2 {
			add("choices", "studio.problem.few_choices")
		}
		right := 0
		for j, c := range it.Choices {
			if c.Correct {
				right++
			}
			for _, l := range doc.Languages {
				if strings.TrimSpace(c.Text[l]) == "" {
					add(fmt.Sprintf("choices[%d].text.%s", j+1, l), "studio.problem.no_choice_text", j+1, l)
				}
			}
		}
		switch {
		case it.Type == "choice" && right != 1:
			add("choices", "studio.problem.one_correct")
		case it.Type == "multi" && right == 0:
			add("choices", "studio.problem.some_correct")
		case it.Type == "poll" && right > 0:
			add("choices", "studio.problem.poll_correct")
		}
	case "numeric":
		if math.IsNaN(it.Answer) || math.IsInf(it.Answer, 0) {
			add("answer", "studio.problem.number")
		}
		if math.IsNaN(it.Tolerance) || math.IsInf(it.Tolerance, 0) || it.Tolerance < 0 {
			add("tolerance", "studio.problem.tolerance")
		}
	case "text":
		for _, l := range doc.Languages {
			ok := false
			for _, a := range it.Accepted[l] {
				if strings.TrimSpace(a) != "" {
					ok = true
				}
			}
			if !ok {
				add("accepted."+l, "studio.problem.no_accepted", l)
			}
		}
	}
	return ps
}

// Encode checks doc against CheckLimits and returns it as the store keeps
// it (JSON), refusing one of more than Limits.DocBytes.
func Encode(doc Doc, kind string) ([]byte, error) {
	if err := CheckLimits(doc, kind); err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "studio: the draft cannot be encoded")
	}
	if len(b) > Limits.DocBytes {
		return nil, Problems{{Field: "doc", Key: "studio.problem.too_long", Args: []any{(len(b) + 1023) / 1024, Limits.DocBytes / 1024}}}.asError()
	}
	return b, nil
}
