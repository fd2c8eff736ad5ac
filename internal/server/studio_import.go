package server

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gift"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/studio"
)

// maxGIFT bounds a GIFT file: a thousand questions fit in far less.
const maxGIFT = 1 << 20

// handleStudioImport makes a set of a Moodle GIFT file, uploaded or
// pasted, in the language the form names. A file with problems makes
// nothing: the page lists every problem with its line.
func (s *Server) handleStudioImport(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	src := []byte(r.PostForm.Get("text"))
	name := ""
	if f, fh, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxGIFT+1))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(b) > 0 {
			src, name = b, fh.Filename
		}
	}
	in := r.PostForm.Get("lang")
	if !i18n.Supported(in) {
		in = lang
	}
	var msgs []string
	switch {
	case len(strings.TrimSpace(string(src))) == 0:
		msgs = []string{i18n.T(lang, "studio.gift_empty")}
	case len(src) > maxGIFT:
		msgs = []string{i18n.T(lang, "studio.gift_too_large", maxGIFT>>10)}
	}
	if msgs == nil {
		if name == "" {
			name = i18n.T(in, "studio.imported")
		}
		d, err := s.importGIFT(r.Context(), v.User.ID, name, src, in)
		if err == nil {
			http.Redirect(w, r, studioURL(d.ID), http.StatusSeeOther)
			return
		}
		if failure.KindOf(err) != failure.Invalid {
			s.fail(w, r, err)
			return
		}
		msgs = giftMessages(lang, err)
	}
	s.render(w, r, http.StatusUnprocessableEntity, "studio-import", i18n.T(lang, "studio.import_title"), false, struct {
		Problems []string
		Text     string
		In       string
		Langs    []i18n.Language
	}{msgs, string(src), in, i18n.Languages})
}

// giftMessages lists the problems of a GIFT file, each with its line, in
// lang (gift.Localize), or the draft's problems past the studio's limits.
func giftMessages(lang string, err error) []string {
	if studio.ProblemsOf(err) != nil {
		return problemMessages(lang, err)
	}
	var one *gift.Error
	var all gift.Errors
	if errors.As(err, &one) || errors.As(err, &all) {
		return gift.Localize(err, lang)
	}
	return []string{failure.Message(err)}
}

// problemMessages are a draft's problems in lang.
func problemMessages(lang string, err error) []string {
	var out []string
	for _, p := range studio.ProblemsOf(err) {
		out = append(out, p.Message(lang))
	}
	if out == nil {
		out = []string{failure.Message(err)}
	}
	return out
}

// handleStudioRemix copies a set or a lesson of an installed pack into a
// new draft of the teacher's ("PACK|set|SET" or "PACK|lesson|LESSON").
func (s *Server) handleStudioRemix(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	parts := strings.SplitN(r.PostForm.Get("what"), "|", 3)
	var d studio.Draft
	var err error
	switch {
	case len(parts) != 3:
		err = failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "class.choose"))
	case parts[1] == "set":
		d, err = s.remixSet(r.Context(), parts[0], parts[2], v.User.ID)
	case parts[1] == "lesson":
		d, err = s.remixLesson(r.Context(), parts[0], parts[2], v.User.ID)
	default:
		err = failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "class.choose"))
	}
	if err != nil {
		if failure.KindOf(err) == failure.Invalid && studio.ProblemsOf(err) != nil {
			err = failure.Wrap(failure.Invalid, err, strings.Join(problemMessages(lang, err), " "))
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, studioURL(d.ID), http.StatusSeeOther)
}

// handleStudioPublish publishes the draft (the plain form's fields, when
// it sends them, saved first): a new version of its pack, installed on the
// box. Problems are listed by question, in the page's language, and
// nothing is published.
func (s *Server) handleStudioPublish(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	in := editLang(r, lang, d.Doc)
	if r.PostForm.Has("rev") && r.PostForm.Has("title") {
		var ok bool
		if d, ok = s.saveForm(w, r, v, d, in, nil); !ok {
			return
		}
	}
	ver, err := s.publishDraft(r.Context(), d, v.actor())
	if err != nil {
		if wantsJSON(r) {
			s.failJSON(w, r, err)
			return
		}
		if failure.KindOf(err) != failure.Invalid {
			s.fail(w, r, err)
			return
		}
		view := s.editView(r, v, d, d.Doc, in)
		view.Error = i18n.T(lang, "studio.not_published")
		for _, p := range studio.ProblemsOf(err) { // all at the top, and each by its question
			view.Problems = append(view.Problems, p.Message(lang))
			if p.Item > 0 && p.Item <= len(view.Items) {
				view.Items[p.Item-1].Problems = append(view.Items[p.Item-1].Problems, i18n.T(lang, p.Key, p.Args...))
			}
		}
		if studio.ProblemsOf(err) == nil {
			view.Problems = []string{failure.Message(err)}
		}
		s.renderEditor(w, r, http.StatusUnprocessableEntity, view)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"version": ver.Version, "url": studioURL(d.ID) + "?done=published"})
		return
	}
	http.Redirect(w, r, studioURL(d.ID)+"?in="+in+"&done=published#published", http.StatusSeeOther)
}
