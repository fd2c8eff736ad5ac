package content

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mitstem/stembox/internal/gift"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/markup"
)

// buildSet reads one exercise set (YAML, or GIFT files per language), renders
// its texts, and adds exercises/SET.json to the built pack.
func (b *Builder) buildSet(bt *Built, dir string, ref sourceSetRef, sp *sourcePack, media []string) (SetInfo, error) {
	if !ValidID(ref.ID) {
		return SetInfo{}, fmt.Errorf("pack.yaml:%d: exercise set id %q is invalid (a-z, 0-9, -)", ref.line, ref.ID)
	}
	var set learn.Set
	var langs []string
	var err error
	switch {
	case ref.File != "" && len(ref.Gift) == 0:
		set, err = b.yamlSet(dir, ref, sp.Languages, media)
		langs = sp.Languages
	case ref.File == "" && len(ref.Gift) > 0:
		set, langs, err = b.giftSet(dir, ref, sp, media)
	default:
		return SetInfo{}, fmt.Errorf("pack.yaml:%d: exercise set %q needs either file: (YAML) or gift: (GIFT files per language)", ref.line, ref.ID)
	}
	if err != nil {
		return SetInfo{}, err
	}
	set.ID = ref.ID
	for _, l := range sp.Lessons {
		if l.Exercises == ref.ID {
			set.Lesson = l.ID
			break
		}
	}
	data, err := json.Marshal(set)
	if err != nil {
		return SetInfo{}, fmt.Errorf("pack: %w", err)
	}
	bt.rendered[SetPath(ref.ID)] = data
	return SetInfo{ID: ref.ID, Title: set.Title, Languages: langs, Items: len(set.Items)}, nil
}

func (b *Builder) yamlSet(dir string, ref sourceSetRef, langs, media []string) (learn.Set, error) {
	name := ref.File
	if err := CheckPath(name); err != nil {
		return learn.Set{}, fmt.Errorf("pack.yaml:%d: %v", ref.line, err)
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return learn.Set{}, fmt.Errorf("pack.yaml:%d: %w", ref.line, err)
	}
	var ss sourceSet
	if err := parseYAML(name, src, &ss); err != nil {
		return learn.Set{}, err
	}
	if len(ss.Items) == 0 {
		return learn.Set{}, fmt.Errorf("%s: the set has no items", name)
	}
	r := &textRenderer{b: b, file: name, langs: langs, media: media}
	set := learn.Set{}
	if set.Title, err = r.plain(ss.Title, "title"); err != nil {
		return learn.Set{}, err
	}
	ids := map[string]bool{}
	for _, si := range ss.Items {
		it, err := r.item(si)
		if err != nil {
			return learn.Set{}, err
		}
		if ids[it.ID] {
			return learn.Set{}, fmt.Errorf("%s:%d: item id %q is used twice", name, si.line, it.ID)
		}
		ids[it.ID] = true
		set.Items = append(set.Items, it)
	}
	return set, nil
}

type textRenderer struct {
	b     *Builder
	file  string
	langs []string
	media []string
}

// render renders a source text as Markdown in every language. When required,
// a missing language is an error.
func (r *textRenderer) render(t sourceText, field string, line int, required bool) (learn.Text, error) {
	if t.empty() {
		if required {
			return nil, fmt.Errorf("%s:%d: %s is missing", r.file, line, field)
		}
		return nil, nil
	}
	out := learn.Text{}
	for _, lang := range r.langs {
		s, ok := t.in(lang)
		if !ok {
			if !required {
				continue
			}
			return nil, fmt.Errorf("%s:%d: %s has no %s text", r.file, t.line, field, lang)
		}
		html, err := r.b.Markup.Inline(s, markup.Options{ResolveLink: resolver(r.media)})
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s (%s): %w", r.file, t.line, field, lang, err)
		}
		out[lang] = html
	}
	return out, nil
}

func (r *textRenderer) plain(t sourceText, field string) (learn.Text, error) {
	return r.b.plainText(r.file, field, t, r.langs, true)
}

func (r *textRenderer) item(si sourceItem) (learn.Item, error) {
	at := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: item %q: %s", r.file, si.line, si.ID, fmt.Sprintf(format, args...))
	}
	if !ValidID(si.ID) {
		return learn.Item{}, fmt.Errorf("%s:%d: item id %q is invalid (a-z, 0-9, -)", r.file, si.line, si.ID)
	}
	it := learn.Item{ID: si.ID, Kind: learn.Kind(si.Type)}
	var err error
	if it.Prompt, err = r.render(si.Prompt, "prompt", si.line, true); err != nil {
		return it, err
	}
	if it.Feedback.Correct, err = r.render(si.Feedback.Correct, "feedback.correct", si.line, false); err != nil {
		return it, err
	}
	if it.Feedback.Incorrect, err = r.render(si.Feedback.Incorrect, "feedback.incorrect", si.line, false); err != nil {
		return it, err
	}
	if it.Feedback.General, err = r.render(si.Feedback.General, "feedback.general", si.line, false); err != nil {
		return it, err
	}
	switch it.Kind {
	case learn.Choice, learn.Multi, learn.Poll:
		right := 0
		for _, c := range si.Choices {
			if c.Correct {
				right++
			}
		}
		switch {
		case it.Kind == learn.Poll && right > 0:
			return it, at("a poll has no right answer: remove correct: true")
		case it.Kind == learn.Choice && right != 1:
			return it, at("a choice item needs exactly one correct choice, it has %d (use type: multi for several)", right)
		case it.Kind != learn.Poll && right == 0:
			return it, at("no choice is marked correct: true")
		}
		for i, c := range si.Choices {
			o := learn.Option{}
			if o.Text, err = r.render(c.Text, fmt.Sprintf("choice %d", i+1), si.line, true); err != nil {
				return it, err
			}
			if o.Feedback, err = r.render(c.Feedback, fmt.Sprintf("choice %d feedback", i+1), si.line, false); err != nil {
				return it, err
			}
			// A wrong pick of a multi item cancels a right one, so picking
			// everything never earns full marks.
			switch {
			case c.Correct:
				o.Weight = 1 / float64(right)
			case it.Kind == learn.Multi:
				o.Weight = -1 / float64(right)
			}
			it.Choices = append(it.Choices, o)
		}
	case learn.TrueFalse:
		truth, ok := si.Answer.(bool)
		if !ok {
			return it, at("a truefalse item needs answer: true or answer: false")
		}
		it.Truth = truth
	case learn.Numeric:
		n := learn.NumberAnswer{Weight: 1}
		switch {
		case si.Answer != nil && len(si.Range) == 0:
			var v float64
			switch x := si.Answer.(type) {
			case int:
				v = float64(x)
			case float64:
				v = x
			default:
				return it, at("answer %v is not a number", si.Answer)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return it, at("answer %v is not a finite number", si.Answer)
			}
			if si.Tolerance < 0 {
				return it, at("tolerance must not be negative")
			}
			n.Min, n.Max = v-si.Tolerance, v+si.Tolerance
		case si.Answer == nil && len(si.Range) == 2:
			n.Min, n.Max = si.Range[0], si.Range[1]
		default:
			return it, at("a numeric item needs answer: (with tolerance:) or range: [min, max]")
		}
		it.Numbers = []learn.NumberAnswer{n}
		if !si.Unit.empty() {
			it.Unit = learn.Text{}
			for _, lang := range r.langs {
				if u, ok := si.Unit.in(lang); ok {
					it.Unit[lang] = strings.TrimSpace(u)
				}
			}
		}
	case learn.ShortText:
		langs := make([]string, 0, len(si.Answers))
		for lang := range si.Answers {
			langs = append(langs, lang)
		}
		sort.Strings(langs)
		for _, lang := range langs {
			if lang != allLanguages && !slices.Contains(r.langs, lang) {
				return it, at("answers for %q, which is not a language of the pack", lang)
			}
			tl := lang
			if tl == allLanguages {
				tl = "" // accepted in every language
			}
			for _, a := range si.Answers[lang] {
				it.Texts = append(it.Texts, learn.TextAnswer{Lang: tl, Text: a, Weight: 1})
			}
		}
	}
	it.Source = &learn.Source{Prompt: r.source(si.Prompt), Feedback: learn.Feedback{
		Correct: r.source(si.Feedback.Correct), Incorrect: r.source(si.Feedback.Incorrect), General: r.source(si.Feedback.General)}}
	for _, c := range si.Choices {
		it.Source.Choices = append(it.Source.Choices, learn.OptionSource{Text: r.source(c.Text), Feedback: r.source(c.Feedback)})
	}
	if err := it.Validate(); err != nil {
		return it, fmt.Errorf("%s:%d: %w", r.file, si.line, err)
	}
	return it, nil
}

// source is t as written, in each language of the pack it has.
func (r *textRenderer) source(t sourceText) learn.Text {
	if t.empty() {
		return nil
	}
	out := learn.Text{}
	for _, lang := range r.langs {
		if s, ok := t.in(lang); ok {
			out[lang] = s
		}
	}
	return out
}

// sourceOf is the source of an item whose texts are not rendered yet.
func sourceOf(it *learn.Item) *learn.Source {
	src := &learn.Source{Prompt: maps.Clone(it.Prompt), Feedback: learn.Feedback{
		Correct: maps.Clone(it.Feedback.Correct), Incorrect: maps.Clone(it.Feedback.Incorrect), General: maps.Clone(it.Feedback.General)}}
	for _, c := range it.Choices {
		src.Choices = append(src.Choices, learn.OptionSource{Text: maps.Clone(c.Text), Feedback: maps.Clone(c.Feedback)})
	}
	return src
}

// giftSet reads a set written in GIFT, one file per language, and merges the
// languages: the files must hold the same questions (by title) with the same
// structure.
func (b *Builder) giftSet(dir string, ref sourceSetRef, sp *sourcePack, media []string) (learn.Set, []string, error) {
	var langs []string
	for lang := range ref.Gift {
		if !slices.Contains(sp.Languages, lang) {
			return learn.Set{}, nil, fmt.Errorf("pack.yaml:%d: gift file for %q, which is not a language of the pack", ref.line, lang)
		}
		langs = append(langs, lang)
	}
	// The pack's language order, so the first file is the reference.
	sort.Slice(langs, func(i, j int) bool {
		return slices.Index(sp.Languages, langs[i]) < slices.Index(sp.Languages, langs[j])
	})
	var set learn.Set
	set.Title = learn.Text{}
	for n, lang := range langs {
		name := ref.Gift[lang]
		if err := CheckPath(name); err != nil {
			return set, nil, fmt.Errorf("pack.yaml:%d: %v", ref.line, err)
		}
		src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return set, nil, fmt.Errorf("pack.yaml:%d: %w", ref.line, err)
		}
		items, err := gift.Parse(name, src, lang)
		if err != nil {
			return set, nil, err
		}
		r := &textRenderer{b: b, file: name, langs: []string{lang}, media: media}
		for i := range items {
			if err := r.renderItem(&items[i]); err != nil {
				return set, nil, err
			}
		}
		if n == 0 {
			set.Items = items
		} else if err := mergeLanguage(&set, items, name, ref.Gift[langs[0]]); err != nil {
			return set, nil, err
		}
		if t, ok := ref.Title.in(lang); ok {
			set.Title[lang] = strings.TrimSpace(t)
		} else {
			set.Title[lang] = ref.ID
		}
	}
	return set, langs, nil
}

// renderItem renders the Markdown texts of an item parsed from GIFT.
func (r *textRenderer) renderItem(it *learn.Item) error {
	one := func(t learn.Text) (learn.Text, error) {
		if len(t) == 0 {
			return t, nil
		}
		out := learn.Text{}
		for lang, s := range t {
			html, err := r.b.Markup.Inline(s, markup.Options{ResolveLink: resolver(r.media)})
			if err != nil {
				return nil, fmt.Errorf("%s: question %q: %w", r.file, it.ID, err)
			}
			out[lang] = html
		}
		return out, nil
	}
	it.Source = sourceOf(it)
	var err error
	if it.Prompt, err = one(it.Prompt); err != nil {
		return err
	}
	for i := range it.Choices {
		if it.Choices[i].Text, err = one(it.Choices[i].Text); err != nil {
			return err
		}
		if it.Choices[i].Feedback, err = one(it.Choices[i].Feedback); err != nil {
			return err
		}
	}
	for i := range it.Numbers {
		if it.Numbers[i].Feedback, err = one(it.Numbers[i].Feedback); err != nil {
			return err
		}
	}
	for i := range it.Texts {
		if it.Texts[i].Feedback, err = one(it.Texts[i].Feedback); err != nil {
			return err
		}
	}
	for _, f := range []*learn.Text{&it.Feedback.Correct, &it.Feedback.Incorrect, &it.Feedback.General} {
		if *f, err = one(*f); err != nil {
			return err
		}
	}
	return nil
}

// mergeLanguage adds the texts of items (one language) to the set's items.
func mergeLanguage(set *learn.Set, items []learn.Item, name, refName string) error {
	if len(items) != len(set.Items) {
		return fmt.Errorf("%s: %d questions, but %s has %d: translations must hold the same questions", name, len(items), refName, len(set.Items))
	}
	for i := range items {
		dst, src := &set.Items[i], items[i]
		if dst.ID != src.ID || dst.Kind != src.Kind || len(dst.Choices) != len(src.Choices) || len(dst.Numbers) != len(src.Numbers) || dst.Truth != src.Truth {
			return fmt.Errorf("%s: question %d (%q) differs from %q in %s: titles, types and answers must match across languages", name, i+1, src.ID, dst.ID, refName)
		}
		dst.Prompt = merge(dst.Prompt, src.Prompt)
		if dst.Source != nil && src.Source != nil {
			dst.Source.Prompt = merge(dst.Source.Prompt, src.Source.Prompt)
			for j := range dst.Source.Choices {
				if j < len(src.Source.Choices) {
					dst.Source.Choices[j].Text = merge(dst.Source.Choices[j].Text, src.Source.Choices[j].Text)
					dst.Source.Choices[j].Feedback = merge(dst.Source.Choices[j].Feedback, src.Source.Choices[j].Feedback)
				}
			}
			dst.Source.Feedback.Correct = merge(dst.Source.Feedback.Correct, src.Source.Feedback.Correct)
			dst.Source.Feedback.Incorrect = merge(dst.Source.Feedback.Incorrect, src.Source.Feedback.Incorrect)
			dst.Source.Feedback.General = merge(dst.Source.Feedback.General, src.Source.Feedback.General)
		}
		for j := range dst.Choices {
			if dst.Choices[j].Weight != src.Choices[j].Weight {
				return fmt.Errorf("%s: question %q: choice %d has another weight than in %s", name, src.ID, j+1, refName)
			}
			dst.Choices[j].Text = merge(dst.Choices[j].Text, src.Choices[j].Text)
			dst.Choices[j].Feedback = merge(dst.Choices[j].Feedback, src.Choices[j].Feedback)
		}
		for j := range dst.Numbers {
			if dst.Numbers[j].Min != src.Numbers[j].Min || dst.Numbers[j].Max != src.Numbers[j].Max {
				return fmt.Errorf("%s: question %q: numeric answer %d differs from %s", name, src.ID, j+1, refName)
			}
			dst.Numbers[j].Feedback = merge(dst.Numbers[j].Feedback, src.Numbers[j].Feedback)
		}
		dst.Texts = append(dst.Texts, src.Texts...)
		dst.Feedback.Correct = merge(dst.Feedback.Correct, src.Feedback.Correct)
		dst.Feedback.Incorrect = merge(dst.Feedback.Incorrect, src.Feedback.Incorrect)
		dst.Feedback.General = merge(dst.Feedback.General, src.Feedback.General)
	}
	return nil
}

func merge(dst, src learn.Text) learn.Text {
	if dst == nil && len(src) > 0 {
		dst = learn.Text{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}
