package gradebook

import (
	"encoding/json"
	"html"
	"slices"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
)

// Question is an exercise of an installed pack, found for a stored answer,
// with the languages to show it in.
type Question struct {
	Item     *learn.Item
	N        int    // its number in its set, from 1
	SetTitle string // in Lang
	Lang     string // the content language shown (the UI's when the pack has it)
	Fallback string // the pack's first language
}

// FindQuestion finds the item of an answer in lib, for a reader of lang
// (a UI language). ok is false when the pack, set or item is gone.
func FindQuestion(lib *content.Library, lang, pack, set, item string) (q Question, ok bool) {
	if lib == nil {
		return Question{}, false
	}
	p, ok := lib.Pack(pack)
	if !ok {
		return Question{}, false
	}
	return QuestionIn(&p.Manifest, p.Sets[set], lang, item)
}

// QuestionIn finds an item in a set of the pack m (of the installed
// version, or of an older one kept: see server's setAt), for a reader of
// lang. ok is false when set is nil or lacks the item.
func QuestionIn(m *content.Manifest, s *learn.Set, lang, item string) (q Question, ok bool) {
	if s == nil || len(m.Languages) == 0 {
		return Question{}, false
	}
	q.Fallback, q.Lang = m.Languages[0], m.Languages[0]
	for _, l := range i18n.Fallbacks(lang) {
		if slices.Contains(m.Languages, l) {
			q.Lang = l
			break
		}
	}
	for i := range s.Items {
		if s.Items[i].ID == item {
			q.Item, q.N = &s.Items[i], i+1
			for _, si := range m.Sets {
				if si.ID == s.ID {
					q.SetTitle = si.Title.In(q.Lang, q.Fallback)
				}
			}
			return q, true
		}
	}
	return Question{}, false
}

// Prompt is the question as HTML (as the pack rendered it).
func (q Question) Prompt() string { return q.Item.Prompt.In(q.Lang, q.Fallback) }

// AnswerHTML shows a stored answer as the student saw it, as HTML: picked
// options by their text, true/false in uiLang, typed text as typed.
func (q Question) AnswerHTML(uiLang, stored string) string {
	it := q.Item
	var picks []int
	if (it.Kind == learn.Choice || it.Kind == learn.Multi || it.Kind == learn.Poll) && strings.HasPrefix(stored, "[") && json.Unmarshal([]byte(stored), &picks) == nil {
		var parts []string
		for _, p := range picks {
			if p >= 0 && p < len(it.Choices) {
				parts = append(parts, it.Choices[p].Text.In(q.Lang, q.Fallback))
			}
		}
		return strings.Join(parts, "; ")
	}
	if it.Kind == learn.TrueFalse && (stored == "true" || stored == "false") {
		return html.EscapeString(i18n.T(uiLang, "exercise."+stored))
	}
	return html.EscapeString(stored)
}

// RightHTML is the right answer, as HTML, true/false in uiLang.
func (q Question) RightHTML(uiLang string) string {
	sol := learn.Solution(q.Item, q.Lang, q.Fallback)
	if q.Item.Kind == learn.TrueFalse {
		return html.EscapeString(i18n.T(uiLang, "exercise."+sol))
	}
	return sol
}

// PlainText turns an HTML fragment into one line of text, for a CSV cell
// or a table: tags dropped, entities read, spaces collapsed, and a formula
// typeset by KaTeX written as its TeX source ($v = s/t$), not as the
// letters of its MathML and HTML renderings one after the other.
func PlainText(fragment string) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	katex := 0 // depth of open elements inside a KaTeX formula; 0 outside
	tex := false
	for {
		tt := z.Next()
		var name string
		if tt == xhtml.StartTagToken || tt == xhtml.EndTagToken || tt == xhtml.SelfClosingTagToken {
			n, _ := z.TagName() // once: it consumes the name
			name = string(n)
		}
		switch tt {
		case xhtml.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case xhtml.StartTagToken:
			if katex > 0 {
				katex++
				tex = name == "annotation"
				continue
			}
			if class := attr(z, "class"); name == "span" && (class == "katex" || class == "katex-display") {
				katex = 1
				b.WriteString("$")
			}
		case xhtml.EndTagToken:
			if katex > 0 {
				tex = false
				if katex--; katex == 0 {
					b.WriteString("$")
				}
				continue
			}
		case xhtml.TextToken:
			if katex == 0 || tex {
				b.Write(z.Text())
			}
		}
		if katex == 0 && blocks[name] {
			b.WriteByte(' ')
		}
	}
}

// blocks are the elements whose ends separate words.
var blocks = map[string]bool{"p": true, "br": true, "div": true, "li": true, "td": true, "th": true, "tr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "pre": true, "blockquote": true, "img": true}

func attr(z *xhtml.Tokenizer, want string) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == want {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}
