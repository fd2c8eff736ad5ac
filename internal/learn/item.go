// Package learn holds the domain rules of exercises: what an item is, how an
// answer is graded, and what a student may see. It does no I/O.
package learn

import (
	"fmt"
	"sort"
)

// Kind is the type of an exercise item.
type Kind string

// The kinds of item a pack may hold.
const (
	Choice    Kind = "choice"    // exactly one correct choice
	Multi     Kind = "multi"     // several correct choices, weighted
	TrueFalse Kind = "truefalse" // a statement that is true or false
	Numeric   Kind = "numeric"   // a number, within a tolerance or range, optional unit
	ShortText Kind = "text"      // a short free text, normalised before comparing
	Poll      Kind = "poll"      // one choice with no right answer: an opinion or a prediction
)

// Graded reports whether answers to items of kind k are right or wrong: a
// poll's are only recorded, and count for no score and no mastery.
func (k Kind) Graded() bool { return k != Poll }

// Text is a string per language code ("en", "ru", "tg"). Once a pack is built
// the strings of prompts, choices and feedback are HTML fragments.
type Text map[string]string

// In returns the text in lang, else in fallback, else in any language (in
// sorted order of language code, so the choice is stable), else "".
func (t Text) In(lang, fallback string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[fallback]; ok {
		return s
	}
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if len(langs) > 0 {
		return t[langs[0]]
	}
	return ""
}

// Item is one exercise with its answers. Items are built into packs and never
// sent to a browser as they are: see Public.
type Item struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"type"`
	Title  string `json:"title,omitempty"`
	Prompt Text   `json:"prompt"`

	// Choice, Multi and Poll.
	Choices []Option `json:"choices,omitempty"`
	// TrueFalse.
	Truth bool `json:"truth,omitempty"`
	// Numeric: any matching range scores its weight.
	Numbers []NumberAnswer `json:"numbers,omitempty"`
	// Numeric: the expected unit, per language; every spelling is accepted.
	Unit Text `json:"unit,omitempty"`
	// ShortText: accepted answers.
	Texts []TextAnswer `json:"texts,omitempty"`

	Feedback Feedback `json:"feedback,omitempty"`

	// Source is the item's texts as their author wrote them (Markdown with
	// TeX), kept by the pack builder beside the rendered HTML so that a
	// teacher can copy the item into a draft of her own and edit it
	// (docs/pack-format.md, "Built form"). Packs built before it have none.
	Source *Source `json:"source,omitempty"`
}

// Source holds the texts of an item before rendering; see Item.Source.
type Source struct {
	Prompt   Text           `json:"prompt,omitempty"`
	Choices  []OptionSource `json:"choices,omitempty"` // in the order of Item.Choices
	Feedback Feedback       `json:"feedback,omitempty"`
}

// OptionSource holds a choice's texts before rendering.
type OptionSource struct {
	Text     Text `json:"text,omitempty"`
	Feedback Text `json:"feedback,omitempty"`
}

// Option is a choice of a Choice or Multi item. Weight is the fraction of the
// score it brings when picked, from -1 to 1: 1 for the right choice of a
// Choice item, 1/k for each of k right choices of a Multi item and negative
// for wrong ones (as in Moodle GIFT's ~%50% weights).
type Option struct {
	Text     Text    `json:"text"`
	Weight   float64 `json:"weight"`
	Feedback Text    `json:"feedback,omitempty"`
}

// NumberAnswer accepts any number in [Min, Max] with the given weight.
type NumberAnswer struct {
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Weight   float64 `json:"weight"`
	Feedback Text    `json:"feedback,omitempty"`
}

// TextAnswer is one accepted short-text answer. Lang "" accepts it in every
// language.
type TextAnswer struct {
	Lang     string  `json:"lang,omitempty"`
	Text     string  `json:"text"`
	Weight   float64 `json:"weight"`
	Feedback Text    `json:"feedback,omitempty"`
	// Wildcard makes "*" in Text stand for any characters ("\*" is a
	// star): see wildcard.go.
	Wildcard bool `json:"wildcard,omitempty"`
}

// Feedback is shown after an answer: Correct or Incorrect by verdict, and
// General always.
type Feedback struct {
	Correct   Text `json:"correct,omitempty"`
	Incorrect Text `json:"incorrect,omitempty"`
	General   Text `json:"general,omitempty"`
}

// Set is an ordered set of items, as built into a pack.
type Set struct {
	ID     string `json:"id"`
	Title  Text   `json:"title"`
	Lesson string `json:"lesson,omitempty"`
	Items  []Item `json:"items"`
}

// Item returns the item with the given id.
func (s *Set) Item(id string) (*Item, bool) {
	for i := range s.Items {
		if s.Items[i].ID == id {
			return &s.Items[i], true
		}
	}
	return nil, false
}

// Validate reports the first thing that makes an item impossible to grade.
func (it *Item) Validate() error {
	if it.ID == "" {
		return fmt.Errorf("item has no id")
	}
	if len(it.Prompt) == 0 {
		return fmt.Errorf("item %q: no prompt", it.ID)
	}
	switch it.Kind {
	case Choice, Multi:
		if len(it.Choices) < 2 {
			return fmt.Errorf("item %q: a %s item needs at least 2 choices", it.ID, it.Kind)
		}
		var best, sum float64
		right := 0
		for _, c := range it.Choices {
			if c.Weight < -1 || c.Weight > 1 {
				return fmt.Errorf("item %q: choice weight %v is outside -100%%..100%%", it.ID, c.Weight*100)
			}
			if c.Weight > 0 {
				right++
				sum += c.Weight
			}
			best = max(best, c.Weight)
		}
		if right == 0 {
			return fmt.Errorf("item %q: no choice is marked correct", it.ID)
		}
		if it.Kind == Choice && best < 1-weightEpsilon {
			return fmt.Errorf("item %q: a single-choice item needs one fully correct choice", it.ID)
		}
		if it.Kind == Multi && (sum < 1-weightEpsilon || sum > 1+weightEpsilon) {
			return fmt.Errorf("item %q: the weights of the correct choices add up to %.4g%%, not 100%%", it.ID, sum*100)
		}
	case Poll:
		if len(it.Choices) < 2 {
			return fmt.Errorf("item %q: a poll needs at least 2 choices", it.ID)
		}
		for _, c := range it.Choices {
			if c.Weight != 0 {
				return fmt.Errorf("item %q: a poll has no right answer, so no choice has a weight", it.ID)
			}
		}
	case TrueFalse:
	case Numeric:
		if len(it.Numbers) == 0 {
			return fmt.Errorf("item %q: a numeric item needs an answer", it.ID)
		}
		for _, n := range it.Numbers {
			if n.Min > n.Max {
				return fmt.Errorf("item %q: range %v..%v is empty", it.ID, n.Min, n.Max)
			}
		}
	case ShortText:
		if len(it.Texts) == 0 {
			return fmt.Errorf("item %q: a text item needs at least one accepted answer", it.ID)
		}
	default:
		return fmt.Errorf("item %q: unknown type %q (want choice, multi, truefalse, numeric, text or poll)", it.ID, it.Kind)
	}
	return nil
}

const weightEpsilon = 1e-6
