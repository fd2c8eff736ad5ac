package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/studio"
)

// The teacher studio's pages (docs/studio.md): a teacher's drafts, the
// editor of a set or a lesson, autosave, undo, pictures, GIFT import and
// copies of installed packs' sets and lessons. A teacher edits only her own
// drafts; other teachers may look at them and copy them; admins see all.
// Publishing itself is studio_publish.go's.

// Limits of what the studio's requests may carry.
const (
	maxStudioJSON = 4 << 20  // a 200-item set in three languages, with room to spare
	maxStudioForm = 14 << 20 // the editor's form with one picture (picture.DefaultLimits: 12 MB)
	studioMemory  = 1 << 20  // a form's files beyond this wait on disk while it is read
)

// studioRoutes are the studio's pages and its autosave API.
func (s *Server) studioRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /teach/studio", s.requireUser(false, s.handleStudio))
	mux.HandleFunc("POST /teach/studio/new", s.studioForm(s.handleStudioNew))
	mux.HandleFunc("POST /teach/studio/import", s.studioForm(s.handleStudioImport))
	mux.HandleFunc("POST /teach/studio/remix", s.studioForm(s.handleStudioRemix))
	mux.HandleFunc("GET /teach/studio/media/{name}", s.requireUser(false, s.handleStudioMedia))
	mux.HandleFunc("GET /teach/studio/{id}", s.draftPage(false, s.handleStudioEdit))
	mux.HandleFunc("GET /teach/studio/preview/{id}", s.draftPage(false, s.handleStudioPreview))
	mux.HandleFunc("POST /teach/studio/{id}", s.draftPage(true, s.handleStudioForm))
	mux.HandleFunc("POST /teach/studio/{id}/save", s.draftPage(true, s.handleStudioSave))
	mux.HandleFunc("POST /teach/studio/{id}/undo", s.draftPage(true, s.handleStudioUndo))
	mux.HandleFunc("POST /teach/studio/{id}/publish", s.draftPage(true, s.handleStudioPublish))
	mux.HandleFunc("POST /teach/studio/{id}/media", s.draftPage(true, s.handleStudioUpload))
	mux.HandleFunc("POST /teach/studio/{id}/delete", s.studioForm(s.handleStudioDelete))
	mux.HandleFunc("POST /teach/studio/{id}/copy", s.studioForm(s.handleStudioCopy))
}

func studioURL(id string) string { return "/teach/studio/" + id }

// wantsJSON tells the studio's script (which asks for JSON) from a plain
// form.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// studioForm wraps a studio handler for signed-in users that takes a POST:
// its form (a picture or a GIFT file may make it multipart) or its JSON
// body, with the session's CSRF token in the form's "csrf" field or, from
// the studio's script, in the X-CSRF-Token header.
func (s *Server) studioForm(h func(http.ResponseWriter, *http.Request, *viewer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := viewerOf(r)
		if !v.isUser() {
			s.studioFail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "error.sign_in")))
			return
		}
		if err := s.parseStudioForm(w, r, v); err != nil {
			s.studioFail(w, r, err)
			return
		}
		h(w, r, v)
	}
}

// parseStudioForm reads a studio POST's form and checks its CSRF token. A
// JSON body is left for the handler to read.
func (s *Server) parseStudioForm(w http.ResponseWriter, r *http.Request, v *viewer) error {
	lang := s.lang(r)
	ct := r.Header.Get("Content-Type")
	var err error
	switch {
	case strings.HasPrefix(ct, "application/json"):
		r.Body = http.MaxBytesReader(w, r.Body, maxStudioJSON)
	case strings.HasPrefix(ct, "multipart/"):
		r.Body = http.MaxBytesReader(w, r.Body, maxStudioForm)
		err = r.ParseMultipartForm(studioMemory)
	default:
		r.Body = http.MaxBytesReader(w, r.Body, maxStudioJSON)
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return failure.Wrap(failure.TooLarge, err, i18n.T(lang, "studio.too_large"))
		}
		return failure.Wrap(failure.Invalid, err, i18n.T(lang, "error.bad_form"))
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && r.Form != nil {
		got = r.PostFormValue("csrf")
	}
	if v.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(v.CSRF)) != 1 {
		return errCSRF
	}
	return nil
}

// draftPage wraps a handler of one draft (the {id} of the path), with the
// studio's rules (studio_drafts.go, docs/studio.md): a teacher sees her own
// drafts, an admin everyone's; edit says the handler changes the draft,
// which only its owner may do. Over HTTP a change to a draft that is not
// hers is forbidden (403) whether or not she may see it.
func (s *Server) draftPage(edit bool, h func(http.ResponseWriter, *http.Request, *viewer, studio.Draft)) http.HandlerFunc {
	inner := func(w http.ResponseWriter, r *http.Request, v *viewer) {
		lang := s.lang(r)
		d, err := s.studioDraft(r.Context(), v, r.PathValue("id"), edit)
		if edit && failure.KindOf(err) == failure.NotFound {
			if _, gone := s.db.Draft(r.Context(), r.PathValue("id")); gone == nil {
				err = failure.Errorf(failure.Unauthorized, "%s", i18n.T(lang, "studio.not_yours"))
			}
		}
		switch failure.KindOf(err) {
		case failure.NotFound:
			err = failure.Wrap(failure.NotFound, err, i18n.T(lang, "studio.no_draft"))
		case failure.Unauthorized:
			err = failure.Wrap(failure.Unauthorized, err, i18n.T(lang, "studio.not_yours"))
		}
		if err != nil {
			s.studioFail(w, r, err)
			return
		}
		h(w, r, v, d)
	}
	get, post := s.requireUser(false, inner), s.studioForm(inner)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			get(w, r)
			return
		}
		post(w, r)
	}
}

// studioFail answers the studio's script with JSON and a page with a page.
func (s *Server) studioFail(w http.ResponseWriter, r *http.Request, err error) {
	if wantsJSON(r) {
		s.failJSON(w, r, err)
		return
	}
	if r.Method == http.MethodGet && failure.KindOf(err) == failure.Unauthorized && !viewerOf(r).isUser() {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.fail(w, r, err)
}

// draftLangs are the languages a draft may be written in, the UI's, in its order.
func draftLangs() []string {
	out := make([]string, len(i18n.Languages))
	for i, l := range i18n.Languages {
		out[i] = l.Code
	}
	return out
}

// editLang is the language the editor shows a draft's texts in: ?in=, else
// the UI language if the draft is written in it, else its first language.
func editLang(r *http.Request, lang string, doc studio.Doc) string {
	if in := r.URL.Query().Get("in"); i18n.Supported(in) {
		return in
	}
	if in := r.PostFormValue("in"); i18n.Supported(in) {
		return in
	}
	if len(doc.Languages) == 0 || slices.Contains(doc.Languages, lang) {
		return lang
	}
	return doc.Languages[0]
}

// handleStudioNew starts a set or a lesson in the UI's language.
func (s *Server) handleStudioNew(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	kind := r.PostForm.Get("kind")
	doc := studio.Doc{Languages: []string{lang}, Title: studio.Text{}}
	switch kind {
	case studio.KindSet:
		first := blankItem("choice")
		first.ID = "q1"
		doc.Items = []studio.Item{first}
	case studio.KindLesson:
		doc.Body = studio.Text{lang: i18n.T(lang, "studio.lesson_start")}
	default:
		s.studioFail(w, r, failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "studio.bad_kind")))
		return
	}
	if g := r.PostForm.Get("grade"); g != "" {
		doc.Grades = parseGrades(g)
	}
	d, err := s.db.CreateDraft(r.Context(), v.User.ID, kind, doc)
	if err != nil {
		s.studioFail(w, r, err)
		return
	}
	http.Redirect(w, r, studioURL(d.ID), http.StatusSeeOther)
}

// handleStudioDelete deletes a draft, its owner's or, for an admin, any
// (its published versions stay installed: answers point at them).
func (s *Server) handleStudioDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	d, err := s.studioDraft(r.Context(), v, r.PathValue("id"), false)
	if err == nil && d.Owner != v.User.ID && !v.isAdmin() {
		err = failure.Errorf(failure.Unauthorized, "%s", i18n.T(lang, "studio.not_yours"))
	}
	if failure.KindOf(err) == failure.NotFound {
		if _, gone := s.db.Draft(r.Context(), r.PathValue("id")); gone == nil {
			err = failure.Errorf(failure.Unauthorized, "%s", i18n.T(lang, "studio.not_yours"))
		} else {
			err = failure.Wrap(failure.NotFound, err, i18n.T(lang, "studio.no_draft"))
		}
	}
	if err == nil {
		err = s.db.DeleteDraft(r.Context(), d.ID)
	}
	if err != nil {
		s.studioFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"deleted": d.ID})
		return
	}
	http.Redirect(w, r, "/teach/studio?deleted=1", http.StatusSeeOther)
}

// handleStudioCopy makes the viewer a draft of her own from one she may
// see, or any published one (copyDraft).
func (s *Server) handleStudioCopy(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, err := s.copyDraft(r.Context(), v, r.PathValue("id"))
	if failure.KindOf(err) == failure.NotFound {
		err = failure.Wrap(failure.NotFound, err, i18n.T(s.lang(r), "studio.no_draft"))
	}
	if err != nil {
		s.studioFail(w, r, err)
		return
	}
	http.Redirect(w, r, studioURL(c.ID), http.StatusSeeOther)
}
