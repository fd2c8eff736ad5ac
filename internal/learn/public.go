package learn

import "sort"

// PublicItem is what a browser may see of an item before it is answered. It
// holds nothing that gives the answer away: no weights, truth, ranges,
// accepted texts or feedback.
type PublicItem struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"type"`
	Title string `json:"title,omitempty"`
	// Prompt is an HTML fragment in Lang.
	Prompt string `json:"prompt"`
	// Choices are the option texts of a Choice, Multi or Poll item, HTML
	// fragments in the order of the item: a response picks them by index.
	Choices []string `json:"choices,omitempty"`
	// Unit is the unit to show after a Numeric item's input, as plain text.
	Unit string `json:"unit,omitempty"`
	// Lang is the language of Prompt, which differs from the requested
	// language when the item has no text in it ("" if the prompt is empty).
	Lang string `json:"lang,omitempty"`
}

// Public returns what a browser may see of it, with texts in lang, else
// fallback (as Text.In). The choices keep the order of the item, so a pack
// author's habit (the right answer first, say) shows unless the caller
// shuffles them and maps the response back.
func (it *Item) Public(lang, fallback string) PublicItem {
	p := PublicItem{ID: it.ID, Kind: it.Kind, Title: it.Title}
	p.Prompt, p.Lang = it.Prompt.pick(lang, fallback)
	if it.Kind == Choice || it.Kind == Multi || it.Kind == Poll {
		p.Choices = make([]string, len(it.Choices))
		for i, o := range it.Choices {
			p.Choices[i] = o.Text.In(lang, fallback)
		}
	}
	if it.Kind == Numeric {
		p.Unit = it.Unit.In(lang, fallback)
	}
	return p
}

// pick returns what In returns and the language it is in.
func (t Text) pick(lang, fallback string) (text, used string) {
	if s, ok := t[lang]; ok {
		return s, lang
	}
	if s, ok := t[fallback]; ok {
		return s, fallback
	}
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if len(langs) > 0 {
		return t[langs[0]], langs[0]
	}
	return "", ""
}
