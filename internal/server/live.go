package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/live"
)

// Live sessions (internal/live): the pages of students, the projector and
// the teacher, and their websocket. Until teachers sign in for it, the
// teacher's authority over a session is the secret in the control link,
// kept in an HttpOnly cookie once opened; a student's is the secret their
// device got when they joined, in an HttpOnly cookie too. Cookies are named
// per session and scoped to /live/, so a device can be in several sessions
// and the pages know which ones it leads or plays in.

func (s *Server) liveRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /live", s.withLive(s.handleLiveHome))
	mux.HandleFunc("POST /live/join", s.withLive(s.handleLiveJoin))
	// Only teachers (and admins) start sessions; the control link's secret
	// then carries the teacher's authority over that session.
	liveNew, liveCreate := s.withLive(s.handleLiveNew), s.withLive(s.handleLiveCreate)
	mux.HandleFunc("GET /live/new", s.requireUser(false, func(w http.ResponseWriter, r *http.Request, _ *viewer) { liveNew(w, r) }))
	mux.HandleFunc("POST /live/new", s.requireUser(false, func(w http.ResponseWriter, r *http.Request, _ *viewer) { liveCreate(w, r) }))
	mux.HandleFunc("GET /live/{code}", s.withLive(s.handleLiveCode))
	mux.HandleFunc("GET /live/{code}/play", s.withLive(s.handleLivePlay))
	mux.HandleFunc("GET /live/{code}/screen", s.withLive(s.handleLiveScreen))
	mux.HandleFunc("GET /live/{code}/control", s.withLive(s.handleLiveControl))
	mux.HandleFunc("GET /live/{code}/qr.svg", s.withLive(s.handleLiveQR))
	// The results of a session are read from the database: they are
	// there with or without live sessions.
	mux.HandleFunc("GET /live/{code}/results", s.handleLiveResults)
	mux.HandleFunc("GET /live/{code}/results.csv", s.handleLiveCSV)
	mux.HandleFunc("GET /live/{code}/ws", s.withLive(s.handleLiveWS))
}

var errLiveOff = failure.Errorf(failure.Unavailable, "live sessions are not running on this box")

// withLive is h on a server with live sessions (WithLive). On one without,
// it is a page that answers 503: decided here, once, so that no handler
// looks for the sessions.
func (s *Server) withLive(h http.HandlerFunc) http.HandlerFunc {
	if s.live == nil {
		return func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errLiveOff) }
	}
	return h
}

const (
	livePlayerCookie  = "stembox_live_p_"
	liveTeacherCookie = "stembox_live_t_"
	liveCookieAge     = 24 * 3600
)

func setLiveCookie(w http.ResponseWriter, r *http.Request, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/live/", MaxAge: liveCookieAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// liveCode reads the join code of a request's path, as typed.
func (s *Server) liveCode(r *http.Request) (string, error) {
	code := live.NormalizeCode(r.PathValue("code"))
	if code == "" {
		return "", failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "live.no_session"))
	}
	return code, nil
}

// liveInfo returns a running session named by the request.
func (s *Server) liveInfo(r *http.Request) (live.Info, error) {
	code, err := s.liveCode(r)
	if err != nil {
		return live.Info{}, err
	}
	info, ok := s.live.Info(code)
	if !ok {
		return live.Info{}, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "live.no_session"))
	}
	return info, nil
}

type liveJoinView struct {
	Code, Nickname, Error, Title string
	Generated, SignedIn          bool
	Mine                         []liveMine
}

// liveMine is a session this device plays in or leads.
type liveMine struct {
	Code, Title, URL string
	Teacher          bool
}

// mySessions lists the running sessions whose cookies this device holds.
func (s *Server) mySessions(r *http.Request) []liveMine {
	var out []liveMine
	for _, c := range r.Cookies() {
		var code string
		teacher := false
		switch {
		case strings.HasPrefix(c.Name, livePlayerCookie):
			code = strings.TrimPrefix(c.Name, livePlayerCookie)
		case strings.HasPrefix(c.Name, liveTeacherCookie):
			code, teacher = strings.TrimPrefix(c.Name, liveTeacherCookie), true
		default:
			continue
		}
		info, ok := s.live.Info(code)
		if !ok || info.Phase == live.Ended {
			continue
		}
		m := liveMine{Code: code, Title: info.Title, Teacher: teacher, URL: "/live/" + code + "/play"}
		if teacher {
			m.URL = "/live/" + code + "/control"
		}
		out = append(out, m)
	}
	return out
}

// handleLiveHome is where a student types a code (and a teacher finds the
// way to start a session).
func (s *Server) handleLiveHome(w http.ResponseWriter, r *http.Request) {
	v := liveJoinView{Code: live.NormalizeCode(r.URL.Query().Get("code")), Mine: s.mySessions(r)}
	s.renderJoin(w, r, http.StatusOK, v)
}

func (s *Server) renderJoin(w http.ResponseWriter, r *http.Request, status int, v liveJoinView) {
	if vw := viewerOf(r); vw.isStudent() {
		v.SignedIn = true
		if v.Nickname == "" {
			v.Nickname = vw.Student.Name
		}
	}
	s.render(w, r, status, "live-join", i18n.T(s.lang(r), "live.join_title"), false, v)
}

// handleLiveCode is the address of the join link and QR code: it joins, or
// goes on to the session when this device has joined already.
func (s *Server) handleLiveCode(w http.ResponseWriter, r *http.Request) {
	info, err := s.liveInfo(r)
	if err != nil {
		if code, cerr := s.liveCode(r); cerr == nil && failure.KindOf(err) == failure.NotFound {
			if rec, derr := s.db.LiveSessionByCode(r.Context(), code); derr == nil && rec.Phase == string(live.Ended) {
				s.render(w, r, http.StatusOK, "live-join", i18n.T(s.lang(r), "live.join_title"),
					false, liveJoinView{Code: code, Title: rec.Title, Error: i18n.T(s.lang(r), "live.err.ended")})
				return
			}
		}
		s.fail(w, r, err)
		return
	}
	if _, _, ok := s.live.Player(r.Context(), info.Code, cookieValue(r, livePlayerCookie+info.Code)); ok {
		http.Redirect(w, r, "/live/"+info.Code+"/play", http.StatusSeeOther)
		return
	}
	v := liveJoinView{Code: info.Code, Title: info.Title, Generated: info.Opts.GeneratedNames}
	if info.Phase == live.Ended {
		v.Error = i18n.T(s.lang(r), "live.err.ended")
	} else if info.Phase != live.Lobby && !info.Opts.LateJoin {
		v.Error = i18n.T(s.lang(r), "live.err.late_join")
	}
	s.renderJoin(w, r, http.StatusOK, v)
}

// handleLiveJoin joins a session with a nickname (or as the signed-in
// student) and goes on to it.
func (s *Server) handleLiveJoin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form")))
		return
	}
	lang := s.lang(r)
	v := liveJoinView{Code: strings.TrimSpace(r.PostForm.Get("code")), Nickname: strings.TrimSpace(r.PostForm.Get("nickname")),
		Mine: s.mySessions(r)}
	code := live.NormalizeCode(v.Code)
	info, ok := s.live.Info(code)
	if code == "" || !ok {
		v.Error = i18n.T(lang, "live.no_session")
		s.renderJoin(w, r, http.StatusNotFound, v)
		return
	}
	v.Code, v.Title, v.Generated = code, info.Title, info.Opts.GeneratedNames
	if _, _, ok := s.live.Player(r.Context(), code, cookieValue(r, livePlayerCookie+code)); ok {
		http.Redirect(w, r, "/live/"+code+"/play", http.StatusSeeOther)
		return
	}
	if r.PostForm.Get("suggest") != "" {
		// "Suggest a nickname": the form again, with one filled in.
		v.Nickname = live.SuggestNickname(lang)
		s.renderJoin(w, r, http.StatusOK, v)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	joined, err := s.live.Join(ctx, code, live.JoinRequest{Learner: s.learner(w, r, true), Nickname: v.Nickname, Lang: lang,
		Addr: remoteIP(r)})
	if err != nil {
		var le *live.Error
		if errors.As(err, &le) {
			v.Error = i18n.T(lang, "live.err."+le.Code)
			s.renderJoin(w, r, http.StatusUnprocessableEntity, v)
			return
		}
		s.fail(w, r, err)
		return
	}
	setLiveCookie(w, r, livePlayerCookie+code, joined.Token)
	http.Redirect(w, r, "/live/"+code+"/play", http.StatusSeeOther)
}

// remoteIP is the address a request came from, without its port: the
// box is reached directly on the LAN, so no forwarding header is trusted.
func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// livePageView is what the student, projector and teacher pages get: the
// page is a shell that the live-*.js scripts fill from the websocket.
type livePageView struct {
	Code, Title, Role, JoinURL, ControlURL, I18N string
	JoinNameURL                                  string // by name (stembox.local), under JoinURL; "" when the same
	Info                                         live.Info
	Nickname                                     string
	Lead                                         bool // the projector of a browser that holds the teacher's cookie
}

// liveMessages are the strings the live-*.js scripts show, in the page's language.
var liveMessages = []string{
	"live.connecting", "live.reconnecting", "live.waiting", "live.question_n", "live.answer_sent", "live.answer_received",
	"live.send", "live.look_up", "live.closed", "live.right", "live.wrong", "live.not_answered", "live.points", "live.score",
	"live.rank", "live.ended", "live.removed", "live.replaced", "live.unauthorized", "live.answered", "live.players",
	"live.online", "live.correct_answer", "live.poll_done", "live.seconds", "live.your_answer", "live.true", "live.false",
	"live.kick", "live.rename", "live.kick_confirm", "live.leaderboard", "live.no_players", "live.start", "live.close",
	"live.reveal", "live.board", "live.next", "live.end", "live.end_confirm", "live.pick_all", "live.number_hint",
	"live.you", "live.other",
	"live.err.bad_answer", "live.err.question_closed", "live.err.not_open", "live.err.already_answered", "live.err.busy",
	"live.err.store_failed", "live.err.rate_limited", "live.err.illegal", "live.err.stale", "live.err.id_conflict",
	"live.err.no_more_questions", "live.err.ended", "live.err.other",
	"live.lock", "live.unlock", "live.locked", "live.kick_addr", "live.kick_addr_confirm", "live.more_players",
	"live.screen_keys",
}

func liveI18N(lang string) string {
	m := make(map[string]string, len(liveMessages))
	for _, k := range liveMessages {
		m[strings.TrimPrefix(k, "live.")] = i18n.T(lang, k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request, info live.Info, role string, title string) livePageView {
	v := livePageView{Code: info.Code, Title: info.Title, Role: role, Info: info, I18N: liveI18N(s.lang(r))}
	v.JoinURL, v.JoinNameURL = s.joinURLs(r, info.Code)
	return v
}

// handleLivePlay is the student's page.
func (s *Server) handleLivePlay(w http.ResponseWriter, r *http.Request) {
	info, err := s.liveInfo(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, nick, ok := s.live.Player(r.Context(), info.Code, cookieValue(r, livePlayerCookie+info.Code))
	if !ok {
		http.Redirect(w, r, "/live/"+info.Code, http.StatusSeeOther)
		return
	}
	v := s.livePage(w, r, info, string(live.RoleStudent), info.Title)
	v.Nickname = nick
	s.render(w, r, http.StatusOK, "live-play", info.Title, true, v)
}

// handleLiveScreen is the projector's page: read-only, no secret.
func (s *Server) handleLiveScreen(w http.ResponseWriter, r *http.Request) {
	info, err := s.liveInfo(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.livePage(w, r, info, string(live.RoleScreen), info.Title)
	// In the teacher's own browser the projector connects as the teacher,
	// so that its keyboard leads the lesson (live-screen.js).
	v.Lead = s.live.Teacher(info.Code, cookieValue(r, liveTeacherCookie+info.Code))
	s.renderScreen(w, r, info.Title, v)
}

// renderScreen writes the projector's page: the template's own document
// ("screen"), without the site's header, footer and connection banner.
func (s *Server) renderScreen(w http.ResponseWriter, r *http.Request, title string, v livePageView) {
	p := page{Lang: s.lang(r), Title: title, Math: true, Path: r.URL.RequestURI(), Languages: i18n.Languages, Viewer: viewerOf(r), Data: v}
	var buf bytes.Buffer
	if err := s.pages["live-screen"].ExecuteTemplate(&buf, "screen", p); err != nil {
		s.log.Error("render", "page", "live-screen", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// handleLiveControl is the teacher's page. Opened from the control link
// (?k=SECRET), it keeps the secret in a cookie and drops it from the address.
func (s *Server) handleLiveControl(w http.ResponseWriter, r *http.Request) {
	info, err := s.liveInfo(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if k := r.URL.Query().Get("k"); k != "" {
		if !s.live.Teacher(info.Code, k) {
			s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "live.not_teacher")))
			return
		}
		setLiveCookie(w, r, liveTeacherCookie+info.Code, k)
		http.Redirect(w, r, "/live/"+info.Code+"/control", http.StatusSeeOther)
		return
	}
	token := cookieValue(r, liveTeacherCookie+info.Code)
	if !s.live.Teacher(info.Code, token) {
		s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "live.not_teacher")))
		return
	}
	v := s.livePage(w, r, info, string(live.RoleTeacher), info.Title)
	ip, _ := s.boxURLs(r)
	v.ControlURL = ip + "/live/" + info.Code + "/control?k=" + token
	s.render(w, r, http.StatusOK, "live-control", info.Title, true, v)
}

// handleLiveWS is the websocket of every role; who may connect is decided
// by the session, which refuses with a close frame the page can read.
func (s *Server) handleLiveWS(w http.ResponseWriter, r *http.Request) {
	code, err := s.liveCode(r)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	role := live.Role(r.URL.Query().Get("role"))
	var secret string
	switch role {
	case live.RoleStudent:
		secret = cookieValue(r, livePlayerCookie+code)
	case live.RoleTeacher:
		secret = cookieValue(r, liveTeacherCookie+code)
	case live.RoleScreen:
	default:
		http.Error(w, "role must be student, teacher or screen", http.StatusBadRequest)
		return
	}
	s.live.ServeWS(hijackable(w), r, code, role, secret)
}

// hijackable finds, under the middleware's wrappers, the ResponseWriter
// that can hand the connection over to the websocket.
func hijackable(w http.ResponseWriter) http.ResponseWriter {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// boxURLs are the box's addresses for students' devices, without a
// trailing slash: ip, with the box's IP address, which every phone can
// open, and name, the name the teacher's page was opened at (such as
// stembox.local, which many Android phones cannot resolve), or "" when
// that was an IP address too. On the box itself (localhost) name is "".
func (s *Server) boxURLs(r *http.Request) (ip, name string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	join := func(h string) string {
		if port != "" && port != "80" {
			return scheme + "://" + net.JoinHostPort(h, port)
		}
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		return scheme + "://" + h
	}
	addr := net.ParseIP(host)
	switch {
	case addr != nil && !addr.IsLoopback():
		return join(host), ""
	case addr == nil && host != "localhost":
		name = join(host)
	}
	// The box's own idea of its best URL (discovery: an IPv4 address
	// first), else its first private IPv4 address.
	for _, u := range s.lan.Reach().URLs {
		if u.URL == s.lan.Reach().Best && (u.Kind == "ipv4" || u.Kind == "ipv6") {
			return strings.TrimSuffix(u.URL, "/"), name
		}
	}
	if lan := lanAddress(); lan != "" {
		return join(lan), name
	}
	// Nothing better is known: the address the page was opened at.
	if name != "" {
		return name, ""
	}
	return join(host), ""
}

// lanAddress is the box's first private IPv4 address, or "".
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsPrivate() {
			return ipn.IP.String()
		}
	}
	return ""
}

// joinURLs are the join links of a session: by IP address, and by name
// when the page was opened by name (boxURLs).
func (s *Server) joinURLs(r *http.Request, code string) (ip, name string) {
	ip, name = s.boxURLs(r)
	if name != "" {
		name += "/live/" + code
	}
	return ip + "/live/" + code, name
}
