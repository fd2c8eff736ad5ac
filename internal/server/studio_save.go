package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/picture"
	"github.com/mitstem/stembox/internal/studio"
)

// The studio's script saves as the teacher types (web/static/studio.js):
// POST /teach/studio/{id}/save with {"rev": the revision its edits start
// from, "doc": the whole draft}. The answer, sent once the revision is on
// disk, is {"rev": the new one}; a draft changed elsewhere since that
// revision gets 409 with the draft as it is now, {"error", "code", "draft":
// {"rev", "doc"}}, and the script offers to load it (the teacher's own
// edits stay on her device until she chooses).

type saveRequest struct {
	Rev int64      `json:"rev"`
	Doc studio.Doc `json:"doc"`
}

type draftJSON struct {
	ID      string     `json:"id"`
	Rev     int64      `json:"rev"`
	Doc     studio.Doc `json:"doc"`
	Updated string     `json:"updated"`
}

func (s *Server) draftJSON(d studio.Draft) draftJSON {
	return draftJSON{ID: d.ID, Rev: d.Rev, Doc: d.Doc, Updated: d.Updated.In(s.zone()).Format("15:04:05")}
}

// conflictJSON answers a stale revision with the draft as it is now.
func (s *Server) conflictJSON(w http.ResponseWriter, r *http.Request, id string, err error) {
	d, derr := s.db.Draft(r.Context(), id)
	if derr != nil {
		s.failJSON(w, r, derr)
		return
	}
	writeJSON(w, http.StatusConflict, map[string]any{"error": i18n.T(s.lang(r), "studio.conflict"), "code": failure.Conflict,
		"draft": s.draftJSON(d)})
}

// tidyDoc keeps a doc's languages to those the box speaks, in its order,
// and gives an item that has none an id.
func tidyDoc(doc *studio.Doc) {
	for i := range doc.Items {
		if doc.Items[i].ID == "" {
			doc.Items[i].ID = nextItemID(*doc)
		}
	}
	var ls []string
	for _, l := range draftLangs() {
		if slices.Contains(doc.Languages, l) {
			ls = append(ls, l)
		}
	}
	doc.Languages = ls
}

func (s *Server) handleStudioSave(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	var req saveRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.failJSON(w, r, failure.Wrap(failure.TooLarge, err, i18n.T(lang, "studio.too_large")))
			return
		}
		s.failJSON(w, r, failure.Wrap(failure.Invalid, err, i18n.T(lang, "studio.bad_json")))
		return
	}
	tidyDoc(&req.Doc)
	saved, err := s.db.SaveDraft(r.Context(), d.ID, req.Rev, req.Doc)
	if failure.KindOf(err) == failure.Conflict {
		s.conflictJSON(w, r, d.ID, err)
		return
	}
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rev": saved.Rev, "updated": s.draftJSON(saved).Updated})
}

// handleStudioUndo makes a new revision with the draft as it was before
// its last change. The script sends {"rev"} as JSON, the form its "rev".
func (s *Server) handleStudioUndo(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	rev, _ := strconv.ParseInt(r.PostForm.Get("rev"), 10, 64)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			Rev int64 `json:"rev"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			s.failJSON(w, r, failure.Wrap(failure.Invalid, err, i18n.T(lang, "studio.bad_json")))
			return
		}
		rev = req.Rev
	}
	undone, err := s.db.UndoDraft(r.Context(), d.ID, rev)
	switch {
	case failure.KindOf(err) == failure.Conflict && wantsJSON(r):
		s.conflictJSON(w, r, d.ID, err)
		return
	case failure.KindOf(err) == failure.Conflict:
		err = failure.Wrap(failure.Conflict, err, i18n.T(lang, "studio.conflict_undo"))
	case failure.KindOf(err) == failure.NotFound:
		err = failure.Wrap(failure.NotFound, err, i18n.T(lang, "studio.nothing_to_undo"))
	}
	if err != nil {
		if wantsJSON(r) {
			s.failJSON(w, r, err)
			return
		}
		view := s.editView(r, v, d, d.Doc, editLang(r, lang, d.Doc))
		view.Error = failure.Message(err)
		s.renderEditor(w, r, statusOf(err), view)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, s.draftJSON(undone))
		return
	}
	http.Redirect(w, r, studioURL(d.ID)+"?in="+editLang(r, lang, undone.Doc)+"&done=undone", http.StatusSeeOther)
}

// studioMediaName is the name of a picture in the studio: its SHA-256 and type.
var studioMediaName = regexp.MustCompile(`^[0-9a-f]{64}\.(jpg|png)$`)

// handleStudioUpload takes a picture from the camera or the gallery,
// cleans it (picture.Clean: decoded and encoded again, without EXIF and
// GPS, scaled down) and keeps it. The script sends "picture" and "alt" and
// gets {"name", "url", "markdown"} to put where the teacher was typing;
// the plain form sends itself (saved first) with the picture of its item
// ("items.N.picture", "items.N.alt", target N) or of the lesson ("picture",
// "alt", target "body"), and the picture is added to that text.
func (s *Server) handleStudioUpload(w http.ResponseWriter, r *http.Request, v *viewer, d studio.Draft) {
	lang := s.lang(r)
	in := editLang(r, lang, d.Doc)
	target := r.PostForm.Get("target")
	prefix := ""
	n, err := strconv.Atoi(target)
	if err == nil {
		prefix = "items." + target + "."
	}
	editor := r.PostForm.Has("rev") // the plain form: save what it holds first
	if editor {
		var ok bool
		if d, ok = s.saveForm(w, r, v, d, in, nil); !ok {
			return
		}
	}
	md, err := s.keepPicture(r, v, prefix)
	if err == nil && editor {
		doc := cloneDoc(d.Doc)
		switch {
		case target == "body" && d.Kind == studio.KindLesson:
			doc.Body = setText(doc.Body, in, appendBlock(doc.Body[in], md))
		case prefix != "" && n >= 0 && n < len(doc.Items):
			doc.Items[n].Prompt = setText(doc.Items[n].Prompt, in, appendBlock(doc.Items[n].Prompt[in], md))
		default:
			err = failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "studio.err.picture_where"))
		}
		if err == nil {
			d, err = s.db.SaveDraft(r.Context(), d.ID, d.Rev, doc)
		}
	}
	if wantsJSON(r) {
		if err != nil {
			s.failJSON(w, r, err)
			return
		}
		name := strings.TrimSuffix(strings.TrimPrefix(md[strings.LastIndex(md, "(")+1:], "media/"), ")")
		writeJSON(w, http.StatusOK, map[string]string{"name": name, "url": "/teach/studio/media/" + name, "markdown": md})
		return
	}
	if err != nil {
		if k := failure.KindOf(err); k != failure.Invalid && k != failure.TooLarge && k != failure.Conflict {
			s.fail(w, r, err)
			return
		}
		view := s.editView(r, v, d, d.Doc, in)
		view.Error = failure.Message(err)
		if prefix != "" && n >= 0 && n < len(view.Items) {
			view.Items[n].Problems = append(view.Items[n].Problems, view.Error)
		}
		s.renderEditor(w, r, statusOf(err), view)
		return
	}
	anchor := ""
	if prefix != "" {
		anchor = "#item-" + target
	}
	http.Redirect(w, r, studioURL(d.ID)+"?in="+in+"&done=picture"+anchor, http.StatusSeeOther)
}

// keepPicture cleans and keeps the picture of the form's field
// prefix+"picture" and returns its Markdown, with the alt text the form
// gives for it (required: it is what a student who cannot see it reads).
func (s *Server) keepPicture(r *http.Request, v *viewer, prefix string) (string, error) {
	lang := s.lang(r)
	f, _, err := r.FormFile(prefix + "picture")
	if err != nil {
		return "", failure.Wrap(failure.Invalid, err, i18n.T(lang, "studio.err.no_picture"))
	}
	defer f.Close()
	alt := strings.Join(strings.Fields(r.PostForm.Get(prefix+"alt")), " ")
	if alt == "" {
		return "", failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "studio.err.alt"))
	}
	pic, err := picture.Clean(f, picture.DefaultLimits())
	var pe *picture.Error
	if errors.As(err, &pe) {
		kind := failure.Invalid
		if pe.Key == picture.KeyTooBig || pe.Key == picture.KeyTooBigOver {
			kind = failure.TooLarge
		}
		return "", failure.Wrap(kind, err, i18n.T(lang, "studio.err.picture", i18n.T(lang, pe.Key, pe.Args...)))
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pic.Data)
	name := hex.EncodeToString(sum[:]) + pic.Ext
	if err := s.db.PutMedia(r.Context(), v.User.ID, name, pic.Type, pic.Data); err != nil {
		return "", err
	}
	return "![" + markdownAlt(alt) + "](media/" + name + ")", nil
}

// markdownAlt keeps an alt text from ending the image's brackets.
func markdownAlt(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// appendBlock adds a paragraph to the end of a Markdown text.
func appendBlock(text, block string) string {
	if strings.TrimSpace(text) == "" {
		return block
	}
	return strings.TrimRight(text, "\n") + "\n\n" + block
}

// handleStudioMedia serves a studio picture to signed-in users (students
// see pictures in the packs that are published).
func (s *Server) handleStudioMedia(w http.ResponseWriter, r *http.Request, v *viewer) {
	name := r.PathValue("name")
	if !studioMediaName.MatchString(name) {
		http.NotFound(w, r)
		return
	}
	data, ct, err := s.db.Media(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, max-age=31536000, immutable") // named by its hash
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}
