package studio

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gift"
	"github.com/mitstem/stembox/internal/learn"
)

// FromGIFT reads a Moodle GIFT file (a teacher's upload or paste, named
// name, written in lang) into a new draft's document: its questions as
// items, titled after the file. A file GIFT cannot read is failure.Invalid
// wrapping the *gift.Error (its line and message, as the gift package says
// them); a file past Limits is failure.Invalid with Problems. Subject and
// grades are left for the teacher to choose.
func FromGIFT(name string, src []byte, lang string) (Doc, error) {
	if !slices.Contains(Limits.Languages, lang) {
		return Doc{}, Problems{{Field: "languages", Key: "studio.problem.language", Args: []any{clip(lang)}}}.asError()
	}
	items, err := gift.Parse(name, src, lang)
	if err != nil {
		return Doc{}, failure.Wrap(failure.Invalid, err, err.Error())
	}
	title := strings.TrimSuffix(path.Base(strings.ReplaceAll(name, "\\", "/")), path.Ext(name))
	doc := Doc{Title: Text{lang: title}, Languages: []string{lang}, Items: FromItems(items, []string{lang})}
	if err := CheckLimits(doc, KindSet); err != nil {
		return Doc{}, err
	}
	return doc, nil
}

// FromItems turns items of a pack or a GIFT file into a draft's items,
// with their texts in langs: the Markdown each item's Source kept where it
// has one (see learn.Item.Source), else its texts as they are (GIFT's are
// Markdown). Ids that a draft cannot use are replaced by q1, q2, …. What a
// draft cannot say is simplified: a multi item's choices are right or
// wrong (the pack's weights become equal shares), a numeric item keeps its
// first range of full marks as an answer and tolerance, and text answers
// lose GIFT's wildcards (a * is then a star).
func FromItems(items []learn.Item, langs []string) []Item {
	out := make([]Item, 0, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		d := fromItem(it, langs)
		if !itemIDPattern.MatchString(d.ID) || seen[d.ID] {
			d.ID = fmt.Sprintf("q%d", i+1)
			for n := i + 1; seen[d.ID]; n += len(items) {
				d.ID = fmt.Sprintf("q%d", n)
			}
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	return out
}

func fromItem(it learn.Item, langs []string) Item {
	src := it.Source
	if src == nil {
		src = &learn.Source{Prompt: it.Prompt, Feedback: it.Feedback}
		for _, c := range it.Choices {
			src.Choices = append(src.Choices, learn.OptionSource{Text: c.Text, Feedback: c.Feedback})
		}
	}
	text := func(t learn.Text) Text {
		var out Text
		for _, l := range langs {
			if s, ok := t[l]; ok {
				if out == nil {
					out = Text{}
				}
				out[l] = s
			}
		}
		return out
	}
	d := Item{ID: strings.ToLower(it.ID), Type: string(it.Kind), Prompt: text(src.Prompt),
		Feedback: Feedback{Correct: text(src.Feedback.Correct), Incorrect: text(src.Feedback.Incorrect), General: text(src.Feedback.General)}}
	switch it.Kind {
	case learn.Choice, learn.Multi, learn.Poll:
		best := 0.0
		for _, c := range it.Choices {
			best = max(best, c.Weight)
		}
		for j, c := range it.Choices {
			ch := Choice{Correct: c.Weight > 0 && (it.Kind == learn.Multi || c.Weight == best)}
			if j < len(src.Choices) {
				ch.Text, ch.Feedback = text(src.Choices[j].Text), text(src.Choices[j].Feedback)
			}
			d.Choices = append(d.Choices, ch)
		}
	case learn.TrueFalse:
		d.True = it.Truth
	case learn.Numeric:
		best := -1
		for j, n := range it.Numbers {
			if best < 0 || n.Weight > it.Numbers[best].Weight {
				best = j
			}
		}
		if best >= 0 {
			n := it.Numbers[best]
			d.Answer, d.Tolerance = round12((n.Min+n.Max)/2), round12((n.Max-n.Min)/2)
		}
		d.Unit = text(it.Unit)
	case learn.ShortText:
		for _, a := range it.Texts {
			if a.Weight <= 0 {
				continue
			}
			for _, l := range langs {
				if (a.Lang == "" || a.Lang == l) && !slices.Contains(d.Accepted[l], a.Text) {
					if d.Accepted == nil {
						d.Accepted = map[string][]string{}
					}
					d.Accepted[l] = append(d.Accepted[l], a.Text)
				}
			}
		}
	}
	return d
}

// round12 rounds x to 12 significant digits: a range's middle and half
// width come back as the author wrote them (5 and 0.01, not
// 0.009999999999999787).
func round12(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return r
}
