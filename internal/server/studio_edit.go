package server

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/studio"
)

// itemView is an item as the editor's form shows it, in one language.
type itemView struct {
	N                                 string // its place, from 0; "__N__" in the blank item studio.js copies
	Num                               int    // from 1, for "Question 3"
	ID, Type, Prompt                  string
	True                              bool
	Answer, Tolerance, Unit, Accepted string
	Correct, Incorrect, General       string // its feedback
	Choices                           []choiceEdit
	Problems                          []string
	Last                              bool
	FbOpen                            bool     // it has feedback: show its fields
	L, Base                           string   // the page's language; the draft's URL
	Types                             []string // the item types to choose from
}

type choiceEdit struct {
	N, M           string
	Num            int
	Text, Feedback string
	Correct        bool
	L              string
}

// studioEditView is the editor's page.
type studioEditView struct {
	ID, Kind, Owner string
	Mine            bool
	Rev             int64
	Doc             studio.Doc // for studio.js, as JSON
	In, InName      string     // the language whose texts are shown
	Tabs            []langTab
	Title, Subject  string
	Grades, Body    string
	Items           []itemView
	Blank           itemView   // an empty item, for studio.js to copy
	BlankChoice     choiceEdit // an empty choice, likewise
	Types, Subjects []string
	Error, Notice   string
	Problems        []string // those of no one item
	FieldErrors     map[string]string
	Versions        []versionView
	Use             *useView // what to do with the latest published version
	UseFirst        bool     // show it above the form (just published)
	PreviewJS       string   // "" until the box has web/static/preview.js
	CSRF, L         string   // the form's token, the page's language
	Admin           bool     // the viewer may delete it, not hers
}

type versionView struct {
	Version, Published string
}

// editView is the editor's page of d, showing doc (d's, or one a form
// changed) in language in.
func (s *Server) editView(r *http.Request, v *viewer, d studio.Draft, doc studio.Doc, in string) studioEditView {
	lang := s.lang(r)
	view := studioEditView{ID: d.ID, Kind: d.Kind, Mine: d.Owner == v.User.ID, Rev: d.Rev, Doc: doc, In: in, InName: langName(in),
		Tabs: langTabs(doc, in), Title: doc.Title[in], Subject: doc.Subject, Grades: gradesField(doc.Grades), Body: doc.Body[in],
		Types: itemTypes, Subjects: subjects, CSRF: v.CSRF, L: lang, Admin: v.isAdmin(), PreviewJS: s.optionalAsset("preview.js")}
	if u, err := s.db.UserByID(r.Context(), d.Owner); err == nil {
		view.Owner = u.DisplayName
	}
	for i, it := range doc.Items {
		view.Items = append(view.Items, makeItemView(strconv.Itoa(i), it, in, lang, studioURL(d.ID)))
	}
	if n := len(view.Items); n > 0 {
		view.Items[n-1].Last = true
	}
	view.Blank = makeItemView("__N__", studio.Item{Type: "choice"}, in, lang, studioURL(d.ID))
	view.BlankChoice = choiceEdit{N: "__N__", M: "__M__", L: lang}
	for _, ver := range d.Versions {
		view.Versions = append(view.Versions, versionView{Version: ver.Version, Published: ver.Published.In(s.zone()).Format("2006-01-02 15:04")})
	}
	if len(d.Versions) > 0 {
		view.Use = s.useView(r, v, d, lang)
	}
	return view
}

func makeItemView(n string, it studio.Item, in, lang, base string) itemView {
	iv := itemView{N: n, ID: it.ID, Type: it.Type, Prompt: it.Prompt[in], True: it.True, Unit: it.Unit[in], L: lang, Base: base, Types: itemTypes,
		Accepted: strings.Join(it.Accepted[in], "\n"),
		Correct:  it.Feedback.Correct[in], Incorrect: it.Feedback.Incorrect[in], General: it.Feedback.General[in]}
	if k, err := strconv.Atoi(n); err == nil {
		iv.Num = k + 1
	}
	if it.Answer != 0 {
		iv.Answer = formatNumber(it.Answer) // 0 shows as the field's placeholder
	}
	if it.Tolerance != 0 {
		iv.Tolerance = formatNumber(it.Tolerance)
	}
	iv.FbOpen = iv.Correct != "" || iv.Incorrect != "" || iv.General != ""
	for m, c := range it.Choices {
		iv.FbOpen = iv.FbOpen || c.Feedback[in] != ""
		iv.Choices = append(iv.Choices, choiceEdit{N: n, M: strconv.Itoa(m), Num: m + 1, Text: c.Text[in], Feedback: c.Feedback[in], Correct: c.Correct, L: lang})
	}
	return iv
}

// withFieldErrors shows the raw values of fields that could not be taken,
// with their messages, on the items they belong to.
func (view *studioEditView) withFieldErrors(lang string, errs []fieldError) {
	for _, fe := range errs {
		rest := strings.TrimPrefix(fe.Key, "items.")
		n, field, _ := strings.Cut(rest, ".")
		k, err := strconv.Atoi(n)
		if err != nil || k >= len(view.Items) {
			continue
		}
		it := &view.Items[k]
		switch field {
		case "answer":
			it.Answer = fe.Raw
		case "tolerance":
			it.Tolerance = fe.Raw
		}
		it.Problems = append(it.Problems, i18n.T(lang, fe.Message, fe.Raw))
	}
}

// optionalAsset is the URL of a static file the box may not have yet.
func (s *Server) optionalAsset(name string) string {
	if _, ok := s.assets.files[name]; !ok {
		return ""
	}
	return s.assets.URL(name)
}

func (s *Server) renderEditor(w http.ResponseWriter, r *http.Request, status int, view studioEditView) {
	title := i18n.T(s.lang(r), "studio.edit_title", draftTitle(view.In, studio.Draft{Doc: view.Doc}))
	s.render(w, r, status, "studio-edit", title, true, view) // math: the previews' KaTeX
}

// handleStudioEdit shows the editor; to a teacher not its owner, the
// draft to read and copy.
func (s *Server) handleStudioEdit(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	view := s.editView(r, v, d, d.Doc, editLang(r, lang, d.Doc))
	switch r.URL.Query().Get("done") {
	case "published":
		view.UseFirst = true
		if n := len(d.Versions); n > 0 {
			view.Notice = i18n.T(lang, "studio.published", d.Versions[n-1].Version)
		}
	case "undone":
		view.Notice = i18n.T(lang, "studio.undone")
	case "saved":
		view.Notice = i18n.T(lang, "studio.saved")
	case "picture":
		view.Notice = i18n.T(lang, "studio.picture_added")
	}
	s.renderEditor(w, r, http.StatusOK, view)
}

// handleStudioForm saves the editor's plain form and does what its button
// asks: add, remove or move an item, add or remove a choice, show another
// language or the preview. A conflict (the draft changed on another device
// since the form was shown) or a field that cannot be taken shows the form
// again with the teacher's text in it and what went wrong: nothing is lost.
func (s *Server) handleStudioForm(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	in := editLang(r, lang, d.Doc)
	op := r.PostForm.Get("op")
	d, ok := s.saveForm(w, r, v, d, in, func(doc *studio.Doc) int { return applyOp(doc, op, r.PostForm.Get("newtype")) })
	if !ok {
		return
	}
	target := studioURL(d.ID) + "?in=" + in
	switch name, arg, _ := strings.Cut(op, ":"); name {
	case "lang":
		if i18n.Supported(arg) {
			target = studioURL(d.ID) + "?in=" + arg
		}
	case "preview":
		target = "/teach/studio/preview/" + d.ID + "?in=" + in
	case "", "save":
		target += "&done=saved"
	}
	if n := r.PostForm.Get("focus"); n != "" {
		target += "#item-" + n
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// saveForm applies the editor's form, then change (if not nil), and saves
// the result as a new revision. When it cannot, it shows the form again
// and returns false. The item change returns is the one to show next.
func (s *Server) saveForm(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft, in string, change func(*studio.Doc) int) (studio.Draft, bool) {
	lang := s.lang(r)
	base, _ := strconv.ParseInt(r.PostForm.Get("rev"), 10, 64)
	doc, errs := applyForm(d.Doc, d.Kind, in, r.PostForm)
	if change != nil {
		if n := change(&doc); n >= 0 {
			r.PostForm.Set("focus", strconv.Itoa(n))
		}
	}
	if base == d.Rev && reflect.DeepEqual(doc, d.Doc) && len(errs) == 0 {
		return d, true // nothing changed: no new revision
	}
	saved, err := s.db.SaveDraft(r.Context(), d.ID, base, doc)
	if err == nil && len(errs) == 0 {
		return saved, true
	}
	view := s.editView(r, v, d, doc, in)
	status := http.StatusUnprocessableEntity
	switch {
	case err == nil:
		view.Rev = saved.Rev
		view.Error = i18n.T(lang, "studio.err.fields")
	case failure.KindOf(err) == failure.Conflict:
		status = http.StatusConflict
		view.Error = i18n.T(lang, "studio.conflict_form")
	case failure.KindOf(err) == failure.Invalid || failure.KindOf(err) == failure.TooLarge:
		view.Error = i18n.T(lang, "studio.not_saved", failure.Message(err))
	default:
		s.fail(w, r, err)
		return d, false
	}
	view.withFieldErrors(lang, errs)
	s.renderEditor(w, r, status, view)
	return d, false
}

// useView is what the editor offers for a published version: assign it to
// one of the teacher's classes, practise it, run it live, read it.
type useView struct {
	Pack, Version, Kind string
	Practise, Live      string
	Classes             []school.Class
	What                string // the class assign form's value
}

func (s *Server) useView(r *http.Request, v *viewer, d studio.Draft, lang string) *useView {
	if s.cfg.Studio.Signer == nil {
		return nil
	}
	pack := s.studioPackID(d.ID)
	p, ok := s.lib.Pack(pack)
	if !ok {
		return nil
	}
	u := &useView{Pack: pack, Version: p.Manifest.Version, Kind: d.Kind}
	if d.Kind == studio.KindSet {
		u.Practise, u.Live, u.What = setURL(pack, "set"), "/live/new?set="+pack+"/set", pack+"|set|set"
	} else {
		u.Practise, u.What = lessonURL(pack, "lesson"), pack+"|lesson|lesson"
	}
	var err error
	if v.isAdmin() {
		u.Classes, err = s.db.Classes(r.Context())
	} else {
		u.Classes, err = s.db.ClassesOf(r.Context(), v.User.ID)
	}
	if err != nil {
		s.log.Error("studio: classes", "err", err)
	}
	return u
}
