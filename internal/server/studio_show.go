package server

import (
	"html/template"
	"net/http"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/studio"
)

// The preview page shows a draft as students will see it, rendered on the
// box by the same Markdown and KaTeX path as packs; it is what the editor's
// Preview button shows without JavaScript (with it, each text also gets a
// live preview as it is typed: web/static/preview.js).

type previewItem struct {
	Num                     int
	Type                    string
	Prompt, Unit            template.HTML
	Choices                 []template.HTML
	Correct, Incorrect, Gen template.HTML
	Problems                []string
}

func (s *Server) handleStudioPreview(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	in := editLang(r, lang, d.Doc)
	md := func(t studio.Text) template.HTML {
		if t[in] == "" {
			return ""
		}
		// The live preview's rendering: KaTeX, pictures, problems in place.
		return template.HTML(s.preview.render(t[in], in, lang))
	}
	var items []previewItem
	for i, it := range d.Doc.Items {
		pi := previewItem{Num: i + 1, Type: it.Type, Prompt: md(it.Prompt), Unit: md(it.Unit),
			Correct: md(it.Feedback.Correct), Incorrect: md(it.Feedback.Incorrect), Gen: md(it.Feedback.General)}
		for _, c := range it.Choices {
			pi.Choices = append(pi.Choices, md(c.Text))
		}
		items = append(items, pi)
	}
	s.render(w, r, http.StatusOK, "studio-preview", i18n.T(lang, "studio.preview_title", draftTitle(in, d)), true, struct {
		ID, Title, In string
		Kind          string
		Body          template.HTML
		Items         []previewItem
		Tabs          []langTab
	}{d.ID, draftTitle(in, d), in, d.Kind, md(d.Doc.Body), items, langTabs(d.Doc, in)})
}
