package server

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/studio"
)

// The editor's plain form, which works without JavaScript: its fields hold
// the texts of one language (the one being edited, "in"), and are applied
// onto the stored draft, so that the texts of its other languages stay.
// Items are matched by their ids and choices by their places. The fields
// are named after the Doc's paths, as web/static/studio.js reads them too:
//
//	title, subject, grades, languages, body
//	items.N.id, items.N.type, items.N.prompt, items.N.true, items.N.answer,
//	items.N.tolerance, items.N.unit, items.N.accepted (one a line),
//	items.N.fb.correct, items.N.fb.incorrect, items.N.fb.general,
//	items.N.c.M.text, items.N.c.M.correct, items.N.c.M.feedback

// itemTypes are the kinds of item a set may hold, in the editor's order.
var itemTypes = []string{"choice", "multi", "truefalse", "numeric", "text", "poll"}

// subjects are offered to pick from; others may be typed.
var subjects = []string{"mathematics", "physics", "chemistry", "biology", "climate", "informatics", "geography"}

// fieldError is a field of the form whose value could not be taken (a
// number that is not one): its raw value is shown again with the message.
type fieldError struct {
	Key, Raw, Message string
}

// setText sets t[lang] to s, trimmed of trailing spaces; an empty text is
// removed. It returns the text, made if t was nil.
func setText(t studio.Text, lang, s string) studio.Text {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), " \t\n")
	if s == "" {
		delete(t, lang)
		return t
	}
	if t == nil {
		t = studio.Text{}
	}
	t[lang] = s
	return t
}

// parseNumber reads a number as teachers write it: "2.5", "2,5", "-3".
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", "."))
	if s == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && f == f && f-f == 0 // no NaN, no infinities
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// parseGrades reads "7, 8" or "7-9" into school grades.
func parseGrades(s string) []int {
	var out []int
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			lo, hi, isRange = strings.Cut(part, "–")
		}
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				b = a
			}
		}
		for g := a; g <= b && g <= 12; g++ {
			if g >= 1 && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	slices.Sort(out)
	return out
}

func gradesField(gs []int) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = strconv.Itoa(g)
	}
	return strings.Join(parts, ", ")
}

// nextItemID is an id no item of doc has: "q" and one more than the
// highest number of a "qN" id. Ids are never reused, so answers to a
// removed question never point at a new one.
func nextItemID(doc studio.Doc) string {
	n := 0
	for _, it := range doc.Items {
		if k, err := strconv.Atoi(strings.TrimPrefix(it.ID, "q")); err == nil && strings.HasPrefix(it.ID, "q") && k > n {
			n = k
		}
	}
	return "q" + strconv.Itoa(n+1)
}

// blankItem is a new item of type typ, with empty choices to fill in.
func blankItem(typ string) studio.Item {
	if !slices.Contains(itemTypes, typ) {
		typ = "choice"
	}
	it := studio.Item{Type: typ}
	switch typ {
	case "choice", "multi", "poll":
		it.Choices = make([]studio.Choice, 3)
	case "truefalse":
		it.True = true
	}
	return it
}

// applyForm applies the editor's form f, whose texts are in lang, onto doc
// (a copy is changed: maps are cloned).
func applyForm(doc studio.Doc, kind, lang string, f url.Values) (studio.Doc, []fieldError) {
	doc = cloneDoc(doc)
	var errs []fieldError
	doc.Title = setText(doc.Title, lang, f.Get("title"))
	if _, ok := f["subject"]; ok {
		doc.Subject = strings.TrimSpace(f.Get("subject"))
	}
	if _, ok := f["grades"]; ok {
		doc.Grades = parseGrades(f.Get("grades"))
	}
	if ls, ok := f["languages"]; ok || f.Has("languages_shown") {
		doc.Languages = nil
		for _, l := range draftLangs() {
			if slices.Contains(ls, l) {
				doc.Languages = append(doc.Languages, l)
			}
		}
	}
	if len(doc.Languages) == 0 {
		doc.Languages = []string{lang}
	}
	if kind == studio.KindLesson {
		doc.Body = setText(doc.Body, lang, f.Get("body"))
		return doc, nil
	}
	old := map[string]studio.Item{}
	for _, it := range doc.Items {
		old[it.ID] = it
	}
	var items []studio.Item
	for n := 0; ; n++ {
		p := "items." + strconv.Itoa(n) + "."
		if _, ok := f[p+"id"]; !ok {
			break
		}
		it, ok := old[f.Get(p+"id")]
		if !ok {
			it = studio.Item{ID: f.Get(p + "id")}
		}
		if it.ID == "" || slices.ContainsFunc(items, func(o studio.Item) bool { return o.ID == it.ID }) {
			it.ID = nextItemID(studio.Doc{Items: slices.Concat(items, doc.Items)})
		}
		if t := f.Get(p + "type"); slices.Contains(itemTypes, t) {
			it.Type = t
		}
		it.Prompt = setText(it.Prompt, lang, f.Get(p+"prompt"))
		if _, ok := f[p+"true"]; ok {
			it.True = f.Get(p+"true") == "true"
		}
		for _, num := range []struct {
			key string
			to  *float64
		}{{"answer", &it.Answer}, {"tolerance", &it.Tolerance}} {
			raw, ok := f[p+num.key]
			if !ok {
				continue
			}
			if x, ok := parseNumber(raw[0]); ok {
				*num.to = x
			} else {
				errs = append(errs, fieldError{Key: p + num.key, Raw: raw[0], Message: "studio.err.number"})
			}
		}
		it.Unit = setText(it.Unit, lang, f.Get(p+"unit"))
		if raw, ok := f[p+"accepted"]; ok {
			var acc []string
			for _, a := range strings.Split(raw[0], "\n") {
				if a = strings.TrimSpace(a); a != "" {
					acc = append(acc, a)
				}
			}
			if it.Accepted == nil {
				it.Accepted = map[string][]string{}
			}
			if len(acc) == 0 {
				delete(it.Accepted, lang)
			} else {
				it.Accepted[lang] = acc
			}
		}
		it.Feedback.Correct = setText(it.Feedback.Correct, lang, f.Get(p+"fb.correct"))
		it.Feedback.Incorrect = setText(it.Feedback.Incorrect, lang, f.Get(p+"fb.incorrect"))
		it.Feedback.General = setText(it.Feedback.General, lang, f.Get(p+"fb.general"))
		var choices []studio.Choice
		for m := 0; ; m++ {
			q := p + "c." + strconv.Itoa(m) + "."
			if _, ok := f[q+"text"]; !ok {
				break
			}
			var c studio.Choice
			if m < len(it.Choices) {
				c = it.Choices[m]
			}
			c.Text = setText(c.Text, lang, f.Get(q+"text"))
			c.Correct = f.Get(q+"correct") != ""
			c.Feedback = setText(c.Feedback, lang, f.Get(q+"feedback"))
			choices = append(choices, c)
		}
		if _, shown := f[p+"c.0.text"]; shown || len(choices) > 0 || !usesChoices(it.Type) {
			it.Choices = choices
		}
		items = append(items, it)
	}
	doc.Items = items
	return doc, errs
}

func usesChoices(typ string) bool { return typ == "choice" || typ == "multi" || typ == "poll" }

// cloneDoc copies doc deeply enough that applying a form to the copy leaves
// doc as it was.
func cloneDoc(doc studio.Doc) studio.Doc {
	ct := func(t studio.Text) studio.Text {
		if t == nil {
			return nil
		}
		out := make(studio.Text, len(t))
		for k, v := range t {
			out[k] = v
		}
		return out
	}
	doc.Title, doc.Body = ct(doc.Title), ct(doc.Body)
	doc.Grades = slices.Clone(doc.Grades)
	doc.Languages = slices.Clone(doc.Languages)
	items := make([]studio.Item, len(doc.Items))
	for i, it := range doc.Items {
		it.Prompt, it.Unit = ct(it.Prompt), ct(it.Unit)
		it.Feedback = studio.Feedback{Correct: ct(it.Feedback.Correct), Incorrect: ct(it.Feedback.Incorrect), General: ct(it.Feedback.General)}
		if it.Accepted != nil {
			acc := make(map[string][]string, len(it.Accepted))
			for k, v := range it.Accepted {
				acc[k] = slices.Clone(v)
			}
			it.Accepted = acc
		}
		cs := make([]studio.Choice, len(it.Choices))
		for j, c := range it.Choices {
			cs[j] = studio.Choice{Text: ct(c.Text), Correct: c.Correct, Feedback: ct(c.Feedback)}
		}
		if it.Choices == nil {
			cs = nil
		}
		it.Choices = cs
		items[i] = it
	}
	if doc.Items == nil {
		items = nil
	}
	doc.Items = items
	return doc
}

// applyOp does what the editor's button op asks for ("add", "del:N",
// "addc:N", "delc:N:M", "up:N", "down:N") to doc. It returns the item the
// page should show next (-1: none).
func applyOp(doc *studio.Doc, op, newType string) int {
	name, arg, _ := strings.Cut(op, ":")
	a, b, _ := strings.Cut(arg, ":")
	n, err := strconv.Atoi(a)
	if name != "add" && (err != nil || n < 0 || n >= len(doc.Items)) {
		return -1
	}
	switch name {
	case "add":
		it := blankItem(newType)
		it.ID = nextItemID(*doc)
		doc.Items = append(doc.Items, it)
		return len(doc.Items) - 1
	case "del":
		doc.Items = slices.Delete(doc.Items, n, n+1)
		return min(n, len(doc.Items)-1)
	case "addc":
		doc.Items[n].Choices = append(doc.Items[n].Choices, studio.Choice{})
	case "delc":
		if m, err := strconv.Atoi(b); err == nil && m >= 0 && m < len(doc.Items[n].Choices) {
			doc.Items[n].Choices = slices.Delete(doc.Items[n].Choices, m, m+1)
		}
	case "up":
		if n > 0 {
			doc.Items[n-1], doc.Items[n] = doc.Items[n], doc.Items[n-1]
			return n - 1
		}
	case "down":
		if n+1 < len(doc.Items) {
			doc.Items[n+1], doc.Items[n] = doc.Items[n], doc.Items[n+1]
			return n + 1
		}
	default:
		return -1
	}
	return n
}

// langTab is one language of the editor's switcher.
type langTab struct {
	Code, Name string
	On         bool // the draft is written in it
	Current    bool // its texts are the ones shown
}

func langTabs(doc studio.Doc, in string) []langTab {
	var out []langTab
	for _, l := range i18n.Languages {
		out = append(out, langTab{Code: l.Code, Name: l.Name, On: slices.Contains(doc.Languages, l.Code), Current: l.Code == in})
	}
	return out
}
