// Package server is the box's HTTP face: the catalogue, lessons, exercises
// and pack files, as server-rendered pages that work without JavaScript, plus
// a small JSON API. Handlers are thin: grading is in learn, storage in store,
// packs in content.
package server

import (
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/httplog"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/live"
	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// Limits on what a client may send.
const (
	maxFormBytes = 64 << 10 // an answer is a few bytes; a form of 64 KB is an attack or a bug
	maxJSONBytes = 64 << 10
)

// Config is what the server needs to know about its box.
type Config struct {
	// DefaultLang is the UI language for devices that have not chosen one
	// and whose browser asks for none the box speaks.
	DefaultLang string

	// Version, Started, Metrics and Recent feed /metrics, /readyz and
	// /admin/status (status.go); zero values will do.
	Version string
	Started time.Time
	Metrics *metrics.Registry // the box's; nil makes one
	Recent  *ops.Recent       // the box's last warnings and errors

	// BodyTimeout bounds the reading of a request's body (a form, an
	// answer, a roster), from the end of its headers; 0 means a minute.
	// The box's http.Server has no ReadTimeout: see box/listen.go.
	BodyTimeout time.Duration

	// Zone is the box's time zone, of the times and days pages and CSV
	// files show (answers are stored in UTC); nil is the system's.
	Zone *time.Location

	// Hashing checks and makes passwords and PINs; nil makes the box's
	// (auth.NewPool). Tests pass their own to watch it.
	Hashing *auth.Pool

	// Studio is what the teacher studio publishes with (studio_publish.go);
	// its zero value turns publishing off.
	Studio StudioConfig
}

// Server serves the box's web UI and API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	lib     *content.Library
	assets  *assets
	pages   map[string]*template.Template
	lessons *pageCache
	// students and accounts slow down guessing of PINs and passwords;
	// hashes bounds how many are hashed at once (auth.go).
	students, accounts *auth.Limiter
	hashes             *auth.Pool
	gz                 gzCache
	handler            http.Handler
	ops                opsState // status.go

	// The box's optional parts, given to New (Option). A part left out is
	// off, decided once as the routes are made: the LAN's parts are
	// replaced by ones that find and share nothing (connect.go), and the
	// pages that need live sessions or sync answer 503 (withLive,
	// withSyncControl).
	lan  lanDeps            // connect.go, peer.go; WithLAN
	live *live.Sessions     // live.go, live_new.go, live_results.go; WithLive
	sync SyncControl        // sync.go; WithSync
	time *timekeeper.Keeper // devicetime.go; WithTime

	studio  studioState // studio_publish.go
	kept    keptSets    // studio_versions.go
	preview *previewer  // studio_preview.go
	// boxKey is the box's own key (peertrust.go; WithBoxKey).
	boxKey content.PublicKey
}

// An Option gives a server one of the box's optional parts.
type Option func(*Server)

// WithLive serves the box's live sessions. Without it the live pages answer
// 503; the results of past sessions, kept in the database, are still shown.
func WithLive(ls *live.Sessions) Option { return func(s *Server) { s.live = ls } }

// WithSync gives the sync page (/admin/sync) the box's upstream syncer.
// Without it the page answers 503.
func WithSync(sc SyncControl) Option { return func(s *Server) { s.sync = sc } }

// WithLAN gives the connect page, the peer pages and the pack-archive API
// the box's discovery and pack sharing. Without it (or for a part of LAN
// left nil) the box knows no URLs but the page's own, sees no peers and
// shares no packs.
func WithLAN(l LAN) Option { return func(s *Server) { s.lan.LAN = l } }

// New returns a server over db and lib, with the optional parts opts give.
func New(cfg Config, logger *slog.Logger, db *store.DB, lib *content.Library, opts ...Option) (*Server, error) {
	if !i18n.Supported(cfg.DefaultLang) {
		cfg.DefaultLang = "en"
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = time.Minute
	}
	if cfg.Hashing == nil {
		cfg.Hashing = auth.NewPool(0, 0)
	}
	s := &Server{cfg: cfg, log: logger, db: db, lib: lib, lessons: newPageCache(4096),
		students: auth.NewStudentLimiter(), accounts: auth.NewAccountLimiter(), hashes: cfg.Hashing}
	for _, o := range opts {
		o(s)
	}
	s.lan = newLANDeps(s.lan.LAN)
	s.preview = newPreviewer()
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = parseTemplates(s.assets); err != nil {
		return nil, err
	}
	s.initOps()
	s.handler = s.routes()
	return s, nil
}

// now is the wall clock, for dates shown on pages, in the box's zone.
func (s *Server) now() time.Time { return time.Now().In(s.zone()) }

// zone is the box's time zone (Config.Zone).
func (s *Server) zone() *time.Location {
	if s.cfg.Zone == nil {
		return time.Local
	}
	return s.cfg.Zone
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes registers every route; each feature adds its own in a function of
// its own file (s.contentRoutes, …), called from here.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.contentRoutes(mux)
	s.accountRoutes(mux)
	s.teachRoutes(mux)
	s.studioRoutes(mux)
	s.opsRoutes(mux)
	s.connectRoutes(mux)
	s.liveRoutes(mux)
	s.offlineRoutes(mux)
	s.syncRoutes(mux)
	s.appRoutes(mux)
	s.previewRoutes(mux)
	s.packInstallRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_page")))
	})
	return httplog.Recover(s.log)(s.logRequests(securityHeaders(s.boundBody(sameOrigin(s.withViewer(s.deviceTime(recordPattern(mux))))))))
}

// contentRoutes serve the packs: catalogue, lessons, exercises, files.
func (s *Server) contentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handleCatalogue)
	mux.HandleFunc("GET /packs/{pack}", s.handlePack)
	mux.HandleFunc("GET /packs/{pack}/lessons/{lesson}", s.handleLesson)
	mux.HandleFunc("POST /packs/{pack}/lessons/{lesson}/done", s.handleLessonDone)
	mux.HandleFunc("GET /packs/{pack}/sets/{set}", s.handleSet)
	mux.HandleFunc("GET /packs/{pack}/sets/{set}/{n}", s.handleExercise)
	mux.HandleFunc("POST /packs/{pack}/sets/{set}/{n}", s.handleAnswerForm)
	mux.HandleFunc("GET /files/{pack}/{name}/{path...}", s.handlePackFile)
	mux.HandleFunc("GET /static/{hash}/{path...}", s.handleStatic)
	mux.HandleFunc("GET /lang/{lang}", s.handleLang)
	mux.HandleFunc("GET /api/v1/packs", s.handleAPIPacks)
	mux.HandleFunc("POST /api/v1/answers", s.handleAPIAnswer)
	mux.HandleFunc("GET /api/v1/time", s.handleAPITime)
}

// Header values, made once: the hot path sets them without allocating.
var (
	cspValue = []string{"default-src 'self'; img-src 'self' data:; media-src 'self'; font-src 'self'; " +
		// KaTeX sets sizes in style attributes; scripts stay locked down.
		"style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; " +
		// frame-ancestors does what X-Frame-Options did, in every browser
		// the box supports (Chrome 40 and later), so that header is not sent.
		"form-action 'self'; frame-ancestors 'none'"}
	nosniffValue = []string{"nosniff"}
	// same-origin, not no-referrer: under no-referrer Chromium sends
	// "Origin: null" with same-origin form posts, which sameOrigin refuses.
	referrerValue = []string{"same-origin"}
)

// securityHeaders sets the page policies on every response. The third
// header, X-Content-Type-Options: nosniff, is set by nosniffUnlessHTML once the
// response's type is known, on every response that is not an HTML page: a
// browser never sniffs a response that says it is text/html, so there it
// would change nothing, and a lesson page's headers then fit the eight
// entries of a small Go map, which a ninth would make the server grow,
// clone and sort on every request (`make bench`).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = cspValue
		h["Referrer-Policy"] = referrerValue
		next.ServeHTTP(w, r)
	})
}

// boundBody gives a request that has a body BodyTimeout to send it, so a
// client trickling a form a byte at a time cannot hold a connection for
// long. Requests without one (nearly all: pages, files) cost nothing here.
func (s *Server) boundBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
				s.log.Warn("bound a request body", "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses state-changing requests sent from another site's page
// (browsers send Origin with every POST).
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if r.Header.Get("Sec-Fetch-Site") == "cross-site" || !originMatches(r) {
				writeJSONError(w, http.StatusForbidden, "cross-site request refused", failure.Unauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func originMatches(r *http.Request) bool {
	o := r.Header.Get("Origin")
	switch o {
	case "":
		return true // browsers old enough to send no Origin; Sec-Fetch-Site is checked too
	case "null":
		// Sent by privacy-minded or sandboxed pages; trust it only when the
		// browser says the request is same-origin.
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	return o == "http://"+r.Host || o == "https://"+r.Host
}

// nosniffUnlessHTML is called once, just before a response's headers go: a
// response that is not an HTML page, or whose type net/http is left to
// guess, gets nosniff.
func nosniffUnlessHTML(h http.Header) {
	if ct := h["Content-Type"]; len(ct) == 0 || !strings.HasPrefix(ct[0], "text/html") {
		h["X-Content-Type-Options"] = nosniffValue
	}
}

// logRequests logs failed and slow requests. Successful ones are logged only
// at debug level: an access log of every lesson read would wear out the SD
// card and cost the box time it should spend serving.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return httplog.Requests{Log: s.log, Slow: time.Second, Headers: nosniffUnlessHTML, Done: s.ops.observe}.Wrap(next)
}

// statusOf maps an error to an HTTP status (failure.HTTPStatus).
func statusOf(err error) int { return failure.HTTPStatus(err) }

// tooMany is the status of a sign-in refused for coming too fast, and sets
// Retry-After for wait.
func tooMany(w http.ResponseWriter, wait time.Duration) int {
	err := failure.Later(wait, "too many sign-in attempts")
	failure.SetRetryAfter(w.Header(), err)
	return statusOf(err)
}

// fail answers a page request with an error page, logging internal errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if failure.KindOf(err) == failure.Internal && httplog.ClientGone(r, err) {
		httplog.ClientWentAway(w, r, s.log, err)
		return
	}
	status := statusOf(err)
	lang := s.lang(r)
	msg := failure.Message(err)
	switch status {
	case http.StatusInternalServerError:
		s.log.Error("internal error", "path", r.URL.Path, "err", err)
		msg = i18n.T(lang, "error.internal")
	case http.StatusServiceUnavailable:
		s.log.Error("unavailable", "path", r.URL.Path, "err", err)
		msg = unavailableMessage(lang, err)
	case http.StatusRequestEntityTooLarge:
		msg = i18n.T(lang, "error.too_large")
	}
	s.render(w, r, status, "error", i18n.T(lang, "error.title"), false, errorPage{Heading: i18n.T(lang, "error.title"), Message: msg})
}

type errorPage struct{ Heading, Message string }

// failJSON answers an API request with {"error": …, "code": …}.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	if failure.KindOf(err) == failure.Internal && httplog.ClientGone(r, err) {
		httplog.ClientWentAway(w, r, s.log, err)
		return
	}
	status := statusOf(err)
	kind := failure.KindOf(err)
	msg := failure.Message(err)
	if status == http.StatusRequestEntityTooLarge {
		kind, msg = failure.TooLarge, "request body too large"
	}
	if status >= 500 {
		s.log.Error("api error", "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		msg = unavailableMessage(s.lang(r), err)
	}
	writeJSONError(w, status, msg, kind)
}

func writeJSONError(w http.ResponseWriter, status int, msg string, kind failure.Kind) {
	writeJSON(w, status, map[string]string{"error": msg, "code": string(kind)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
