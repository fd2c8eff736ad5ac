package server

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/markup"
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
		return s.studioMarkdown(in, t[in])
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

// studioMarkdown renders a teacher's text as a pack's is, with the studio's
// builder (made at the first use, and shared with publishing under its
// lock: its KaTeX renders one formula at a time). Pictures point at the
// studio's media. A text it cannot render shows why, in place.
func (s *Server) studioMarkdown(lang, text string) template.HTML {
	html, err := func() (string, error) {
		sc := s.cfg.Studio
		if sc.Builder == nil {
			return "", fmt.Errorf("no builder")
		}
		s.studio.mu.Lock()
		defer s.studio.mu.Unlock()
		if s.studio.builder == nil {
			b, err := sc.Builder()
			if err != nil {
				return "", err
			}
			s.studio.builder = b
		}
		return s.studio.builder.Markup.Inline(text, markup.Options{ResolveLink: func(dest string) (string, error) {
			if name, ok := strings.CutPrefix(dest, "media/"); ok && mediaName.MatchString(name) {
				return "/teach/studio/media/" + name, nil
			}
			return dest, nil
		}})
	}()
	if err != nil {
		return template.HTML(`<pre class="error">` + template.HTMLEscapeString(text) + "\n" + template.HTMLEscapeString(err.Error()) + "</pre>")
	}
	return template.HTML(html)
}
