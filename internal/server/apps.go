package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
)

// Apps of packs (simulations, virtual labs) run in a sandbox: every file of
// an app is served with a Content-Security-Policy whose sandbox directive
// gives the page an opaque origin of its own even when it is opened
// directly, and whose sources let it load its own files and nothing else;
// lessons embed it in <iframe sandbox="allow-scripts">. What an app can and
// cannot do is in docs/pack-format.md, "Apps"; its results come to the box
// through the embedding page (web/static/apps.js) and POST
// /api/v1/app-results.

func (s *Server) appRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /packs/{pack}/apps/{app}", s.handleAppPage)
	mux.HandleFunc("POST /api/v1/app-results", s.handleAPIAppResult)
}

// hostPattern is a Host header the box puts into an app's policy as is.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// appCSP is the policy of an app's files: the sandbox (scripts only: no
// same origin, forms, popups, top navigation, modals or downloads), no
// network but the app's own files at base (a folder URL ending in '/', or
// the one file of a single-file app), inline scripts and styles and data:
// and blob: images allowed (PhET's sims are one file of them), framed only
// by the box's own pages. The app's origin being opaque, 'self' would not
// name the box: base is a full URL.
func appCSP(r *http.Request, p *content.Pack, a content.App) string {
	base := "'none'"
	if hostPattern.MatchString(r.Host) {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		base = scheme + r.Host + filesURL(p) + a.Scope()
	}
	return "sandbox allow-scripts; default-src 'none'; " +
		"script-src " + base + " 'unsafe-inline' 'unsafe-eval'; style-src " + base + " 'unsafe-inline'; " +
		"img-src " + base + " data: blob:; media-src " + base + " data: blob:; font-src " + base + " data:; " +
		"connect-src " + base + "; worker-src 'none'; frame-src 'none'; object-src 'none'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
}

var anyOriginValue = []string{"*"}

// appFileHeaders sets what every response with a file of app a carries:
// its policy, and leave for the app's opaque origin to read its own files
// with fetch (they are no secret: anyone on the LAN may download them).
func appFileHeaders(w http.ResponseWriter, r *http.Request, p *content.Pack, a content.App) {
	h := w.Header()
	h["Content-Security-Policy"] = []string{appCSP(r, p, a)}
	h["Access-Control-Allow-Origin"] = anyOriginValue
}

// appURL is the box's page of an app, full screen.
func appURL(pack, app string) string { return "/packs/" + pack + "/apps/" + app }

// appEntryURL is where an app's page is served from.
func appEntryURL(p *content.Pack, a content.App) string { return filesURL(p) + a.Entry }

// appLink is an app in a list: its page and its title.
type appLink struct {
	ID, URL, Title string
}

func appLinks(p *content.Pack, cl string) []appLink {
	var out []appLink
	m := &p.Manifest
	for _, a := range m.Apps {
		out = append(out, appLink{ID: a.ID, URL: appURL(m.ID, a.ID), Title: a.Title.In(cl, m.Languages[0])})
	}
	return out
}

// lessonApps are the apps of a lesson: those that belong to it and those
// its HTML, body, embeds.
func lessonApps(p *content.Pack, lesson string, body []byte) []content.App {
	var out []content.App
	for _, a := range p.Manifest.Apps {
		if a.Lesson == lesson || bytes.Contains(body, []byte(`data-app="`+a.ID+`"`)) {
			out = append(out, a)
		}
	}
	return out
}

// handleAppPage shows an app full screen: on a phone, the whole screen
// under the box's header; on a projector, the page made large.
func (s *Server) handleAppPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.pack(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	m := &p.Manifest
	a, ok := m.App(r.PathValue("app"))
	if !ok {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_app", r.PathValue("app"))))
		return
	}
	cl := contentLang(lang, m.Languages)
	first := m.Languages[0]
	data := struct {
		PackID, PackTitle, ContentLang, Title, AppID, Src string
		Lesson                                            *link
	}{PackID: m.ID, PackTitle: m.Title.In(cl, first), ContentLang: cl, Title: a.Title.In(cl, first), AppID: a.ID, Src: appEntryURL(p, a) + "#lang=" + cl}
	if l, _, ok := m.Lesson(a.Lesson); ok {
		data.Lesson = &link{URL: lessonURL(m.ID, l.ID), Title: l.Title.In(cl, first)}
	}
	s.render(w, r, http.StatusOK, "app", data.Title, false, data)
}

// apiAppResult is a result as the page sends it, with the app's own
// fields checked by the page (web/static/apps.js) and again here.
type apiAppResult struct {
	ID        string  `json:"id"` // a ULID made by the page: resending it is safe
	Pack      string  `json:"pack"`
	App       string  `json:"app"`
	Completed bool    `json:"completed"`
	Score     float64 `json:"score"`
	Max       float64 `json:"max"`
	Summary   string  `json:"summary"`
}

// maxAppResultBytes bounds a result's JSON: its summary is 200 characters.
const maxAppResultBytes = 4 << 10

// handleAPIAppResult stores an app's result for the learner of the
// request, answering once it is on disk.
func (s *Server) handleAPIAppResult(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxAppResultBytes)
	var req apiAppResult
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.failJSON(w, r, failure.Wrap(failure.Invalid, err, "malformed JSON: "+err.Error()))
		return
	}
	if !event.ValidID(req.ID) {
		s.failJSON(w, r, failure.Errorf(failure.Invalid, "id %q is not a ULID", req.ID))
		return
	}
	r.SetPathValue("pack", req.Pack)
	p, err := s.pack(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	if _, ok := p.Manifest.App(req.App); !ok {
		s.failJSON(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_app", req.App)))
		return
	}
	res := event.AppResult{
		ID: req.ID, Learner: s.learner(w, r, true), Pack: p.Manifest.ID, PackVersion: p.Manifest.Version, App: req.App,
		Lang: contentLang(lang, p.Manifest.Languages), Completed: req.Completed, Score: req.Score, Max: req.Max, Summary: req.Summary, Age: answerAge(r),
	}
	ev, err := s.db.RecordAppResult(r.Context(), res)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": ev.ID, "seq": ev.Seq})
}
