package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/web"
)

// Offline on the device (docs/offline.md): a service worker, served at
// /sw.js so that its scope is the whole box, keeps the app shell, the lessons
// a student opened and the packs saved for offline reading; the page script
// (web/static/offline.js) keeps answers made while the box is out of reach in
// IndexedDB and sends them to POST /api/v1/answers when it is back. The box
// helps with four small routes: the worker itself, a cache manifest of a pack
// version, the page shown for a page that was not saved, and "who am I" for
// the answer queue.

// offline holds what the offline routes make once.
type offline struct {
	s      *Server
	worker *cachedBody // /sw.js

	mu        sync.Mutex
	manifests map[manifestKey]*cachedBody
	pages     map[string]*cachedBody // the offline page, by language
}

type manifestKey struct{ pack, name, lang string }

// offlineShell are the static files every page needs, kept by the service
// worker when it installs.
var offlineShell = []string{"app.css", "offline.js", "offline-queue.js", "offline-sync.js", "offline-exercise.js", "offline-packs.js",
	"devtime.js", "apps.js", "icon.svg", "vendor/katex/katex.min.css"}

// Estimates for the size of a saved pack: what a page adds to a lesson's
// content (layout, header, the page's own markup), and a question's page, as
// the Cache API stores them (uncompressed). Measured on the mini pack in
// English (offline_test.go checks the estimate stays near the real size).
const (
	offlinePageBytes     = 3584
	offlineExerciseBytes = 4352
)

func (s *Server) offlineRoutes(mux *http.ServeMux) {
	o := &offline{s: s, manifests: map[manifestKey]*cachedBody{}, pages: map[string]*cachedBody{}}
	var err error
	if o.worker, err = o.buildWorker(); err != nil {
		// The file is embedded: only a broken build gets here.
		panic(err)
	}
	mux.HandleFunc("GET /sw.js", o.handleWorker)
	mux.HandleFunc("GET /offline", o.handlePage)
	mux.HandleFunc("GET /offline/me", o.handleMe)
	mux.HandleFunc("GET /offline/packs/{pack}/manifest", o.handleManifest)
}

// workerConfig is what the service worker learns from the box: the version
// of the static files (its caches are named after it), the shell to keep, and
// where the offline page is.
type workerConfig struct {
	Version string   `json:"version"`
	Shell   []string `json:"shell"`
	Offline string   `json:"offline"`
	Langs   []string `json:"langs"`
}

// workerParts are the files of the service worker, by idea (web/static/sw.js
// lists them), in the order they run.
var workerParts = []string{"sw.js", "sw-packs.js", "sw-versions.js", "sw-messages.js", "sw-fetch.js"}

// buildWorker makes the service worker: its configuration, then its parts in
// one function, so that they share one scope as one file would and the
// browser loads one script (no importScripts: a worker update stays one
// byte-for-byte check, and an old phone makes one request). The body changes
// whenever a static file does, so browsers install the new worker, which
// drops the old caches.
func (o *offline) buildWorker() (*cachedBody, error) {
	src := []byte("(function () {\n")
	for _, part := range workerParts {
		b, err := fs.ReadFile(web.Static, "static/"+part)
		if err != nil {
			return nil, fmt.Errorf("server: service worker: %w", err)
		}
		src = append(append(src, b...), '\n')
	}
	src = append(src, "}());\n"...)
	cfg := workerConfig{Version: o.s.assets.hash, Offline: "/offline"}
	for _, f := range offlineShell {
		cfg.Shell = append(cfg.Shell, o.s.assets.URL(f))
	}
	for _, l := range i18n.Languages {
		cfg.Langs = append(cfg.Langs, l.Code)
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	body := append([]byte("self.STEMBOX_SW = "+string(js)+";\n"), src...)
	return newCachedBody(body, gzipBytes(body), "text/javascript; charset=utf-8", etagOf(body)), nil
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

var (
	workerAllowedValue = []string{"/"}
)

// handleWorker serves the service worker at the root, so it may control
// every page of the box. Browsers look for a new one on every navigation
// (no-cache makes them revalidate, which costs a 304).
func (o *offline) handleWorker(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Service-Worker-Allowed"] = workerAllowedValue
	h["Cache-Control"] = noCacheValue
	writeCached(w, r, o.worker)
}

// learnerKey names a learner's queue of answers on a device without giving
// the learner's id away: a guest's id is the value of their cookie.
func learnerKey(learner string) string {
	if learner == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("stembox offline queue\x00" + learner))
	return hex.EncodeToString(sum[:12])
}

// OfflineKey is the key of a signed-in student's answer queue on a device,
// written into every page rendered for them (layout.html); "" for everyone
// else, whose pages the script asks /offline/me about.
func (v *viewer) OfflineKey() string {
	if v == nil || !v.isStudent() {
		return ""
	}
	return learnerKey(v.Student.LearnerID())
}

// handleMe tells the page script whose answers it may send now. It doubles as
// the script's check that the box is reachable. A device without a learner
// gets a guest id, as its first answer would.
func (o *offline) handleMe(w http.ResponseWriter, r *http.Request) {
	learner := o.s.learner(w, r, true)
	writeJSON(w, http.StatusOK, map[string]string{"learner": learnerKey(learner)})
}

// offlineManifest lists what a saved pack holds, in the language of the
// request, for the service worker: the pages to fetch (pack, lessons,
// exercise sets and their questions) and the media files. Its cache name
// follows the pack's installed name (VERSION-HASH), the language and the
// static files, so that a new version of any of them replaces the cached copy.
type offlineManifest struct {
	Pack    string            `json:"pack"`
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Lang    string            `json:"lang"`
	Title   string            `json:"title"`
	TitleIn string            `json:"title_lang"` // the language the titles are in
	Cache   string            `json:"cache"`
	Bytes   int64             `json:"bytes"` // estimated size of everything below, as stored
	Lessons []offlineLesson   `json:"lessons"`
	Sets    []offlineSet      `json:"sets"`
	Apps    []offlineApp      `json:"apps"`
	Pages   []string          `json:"pages"`
	Files   []string          `json:"files"`
	UI      map[string]string `json:"ui"` // strings the script shows about saving and queued answers
}

type offlineLesson struct {
	ID    string   `json:"id"`
	URL   string   `json:"url"`
	Title string   `json:"title"`
	Set   string   `json:"set,omitempty"`
	Apps  []string `json:"apps,omitempty"` // the URLs of the pages of its apps, kept with it
}

// offlineApp is an app of a saved pack: its full-screen page and the URL
// of its own page (the one file a device keeps to open it offline).
type offlineApp struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Entry string `json:"entry"`
}

type offlineSet struct {
	ID    string   `json:"id"`
	URL   string   `json:"url"`
	Title string   `json:"title"`
	Items []string `json:"items"` // item ids, in order: the n-th question is Items[n-1]
	Pages []string `json:"pages"`
}

// offlineUI are the keys of the strings a manifest carries.
var offlineUI = []string{
	"offline.save_intro", "offline.save", "offline.saving", "offline.saved", "offline.remove",
	"offline.no_space", "offline.save_failed", "offline.storage", "offline.item_waiting",
	"offline.kb", "offline.mb", "offline.gb",
}

func (o *offline) handleManifest(w http.ResponseWriter, r *http.Request) {
	p, err := o.s.pack(r)
	if err != nil {
		o.s.failJSON(w, r, err)
		return
	}
	lang := o.s.lang(r)
	key := manifestKey{p.Manifest.ID, p.Name, lang}
	o.mu.Lock()
	cb := o.manifests[key]
	o.mu.Unlock()
	if cb == nil {
		body, err := json.Marshal(o.manifest(p, lang))
		if err != nil {
			o.s.failJSON(w, r, err)
			return
		}
		cb = newCachedBody(body, gzipBytes(body), "application/json; charset=utf-8", etagOf(body))
		o.mu.Lock()
		if len(o.manifests) >= 256 {
			o.manifests = map[manifestKey]*cachedBody{}
		}
		o.manifests[key] = cb
		o.mu.Unlock()
	}
	w.Header()["Cache-Control"] = noCacheValue
	writeCached(w, r, cb)
}

// offlineCacheName is the name of the browser cache that holds a pack
// version in one language, under one version of the static files.
func offlineCacheName(p *content.Pack, lang, assets string) string {
	return "stembox-pack-" + p.Manifest.ID + "@" + p.Name + "@" + lang + "@" + assets
}

func (o *offline) manifest(p *content.Pack, lang string) offlineManifest {
	m := &p.Manifest
	cl := contentLang(lang, m.Languages)
	first := m.Languages[0]
	out := offlineManifest{
		Pack: m.ID, Name: p.Name, Version: m.Version, Lang: lang, Title: m.Title.In(cl, first), TitleIn: cl,
		Cache: offlineCacheName(p, lang, o.s.assets.hash),
		Pages: []string{"/packs/" + m.ID}, Files: []string{}, UI: map[string]string{},
		Lessons: []offlineLesson{}, Sets: []offlineSet{}, Apps: []offlineApp{},
	}
	out.Bytes = offlinePageBytes
	for _, l := range m.Lessons {
		u := lessonURL(m.ID, l.ID)
		ol := offlineLesson{ID: l.ID, URL: u, Title: l.Title.In(cl, first), Set: l.Exercises}
		body, _ := p.LessonHTML(l.ID, cl) // a lesson that cannot be read embeds nothing
		for _, a := range lessonApps(p, l.ID, body) {
			ol.Apps = append(ol.Apps, appEntryURL(p, a))
		}
		out.Lessons = append(out.Lessons, ol)
		out.Pages = append(out.Pages, u)
		out.Bytes += offlinePageBytes
		if f, ok := m.File(content.LessonPath(l.ID, cl)); ok {
			out.Bytes += f.Size
		}
	}
	for _, si := range m.Sets {
		set := p.Sets[si.ID]
		if set == nil {
			continue
		}
		ss := offlineSet{ID: si.ID, URL: setURL(m.ID, si.ID), Title: si.Title.In(contentLang(lang, si.Languages), first)}
		ss.Pages = append(ss.Pages, ss.URL)
		out.Bytes += offlinePageBytes
		for i, it := range set.Items {
			ss.Items = append(ss.Items, it.ID)
			ss.Pages = append(ss.Pages, fmt.Sprintf("%s/%d", ss.URL, i+1))
			out.Bytes += offlineExerciseBytes
		}
		out.Pages = append(out.Pages, ss.Pages...)
		out.Sets = append(out.Sets, ss)
	}
	for _, a := range m.Apps {
		out.Apps = append(out.Apps, offlineApp{ID: a.ID, URL: appURL(m.ID, a.ID), Entry: appEntryURL(p, a)})
		out.Pages = append(out.Pages, appURL(m.ID, a.ID))
		out.Bytes += offlinePageBytes
	}
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "media/") || strings.HasPrefix(f.Path, content.AppsDir) {
			out.Files = append(out.Files, filesURL(p)+f.Path)
			out.Bytes += f.Size
		}
	}
	for _, k := range offlineUI {
		out.UI[strings.TrimPrefix(k, "offline.")] = i18n.T(lang, k)
	}
	return out
}

// handlePage serves the page the service worker shows for a page that is
// not on the device while the box is out of reach. It is the same for
// everyone (the worker keeps one copy per language, named by ?lang=); the
// script fills in what the device holds.
func (o *offline) handlePage(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if !i18n.Supported(lang) {
		lang = o.s.lang(r)
	}
	o.mu.Lock()
	cb := o.pages[lang]
	o.mu.Unlock()
	if cb == nil {
		// Render as an anonymous visitor asking for lang: the copy is kept
		// on shared devices.
		rl := r.Clone(r.Context())
		rl.Header = http.Header{"Cookie": {langCookie + "=" + lang}}
		body, err := o.s.renderBytes(rl, anonymous, "/offline", "offline", i18n.T(lang, "offline.title"), false, nil)
		if err != nil {
			o.s.fail(w, r, err)
			return
		}
		cb = newCachedBody(body, gzipBytes(body), "text/html; charset=utf-8", etagOf(body))
		o.mu.Lock()
		o.pages[lang] = cb
		o.mu.Unlock()
	}
	w.Header()["Cache-Control"] = noCacheValue
	writeCached(w, r, cb)
}
