package hub

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/httplog"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/redirect"
	"github.com/mitstem/stembox/web"
)

// The operators' pages: server-rendered, no JavaScript, in tg, ru or en.
// Templates are web/templates/hub-*.html with hub-layout.html around them.
// (The box parses every template with its own functions, so these use only
// "t" and "asset", which both define.)

// parsePages parses each hub page with the hub's layout, once.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"t":     func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
		"asset": func(name string) string { return "/static/" + name },
	}
	pages, err := web.Pages("templates/hub-*.html", "templates/hub-layout.html", funcs)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return pages, nil
}

// page is what every hub template gets.
type page struct {
	Lang      string
	Title     string
	Path      string
	Languages []i18n.Language
	Operator  *Operator
	CSRF      string
	Notice    string
	Error     string
	Data      any
}

const langCookie = "stembox_hub_lang"

func (h *Hub) lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && i18n.Supported(c.Value) {
		return c.Value
	}
	if l := i18n.Match(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return h.cfg.Lang
}

func (h *Hub) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, s *Session, p page) {
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Lang = h.lang(r)
	p.Title = i18n.T(p.Lang, titleKey)
	p.Path = r.URL.RequestURI()
	p.Languages = i18n.Languages
	if s != nil {
		p.Operator, p.CSRF = &s.Operator, s.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "hub-layout", p); err != nil {
		h.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// failPage shows an error page, logging internal errors.
func (h *Hub) failPage(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	if failure.KindOf(err) == failure.Internal && httplog.ClientGone(r, err) {
		httplog.ClientWentAway(w, r, h.log, err)
		return
	}
	status := statusOf(err)
	msg, _ := message(err)
	if status >= 500 {
		h.log.Error("page error", "path", r.URL.Path, "err", err)
	}
	failure.SetRetryAfter(w.Header(), err)
	h.render(w, r, status, "hub-error", "hub.error.title", s, page{Error: msg})
}

// operatorPage wraps a page for signed-in operators; POSTs must carry the
// session's CSRF token.
func (h *Hub) operatorPage(next func(http.ResponseWriter, *http.Request, *Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.session(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.failPage(w, r, nil, errUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(64 << 10)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				limit = maxPack
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				err = r.ParseMultipartForm(32 << 20)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				h.failPage(w, r, &s, failure.Wrap(failure.Invalid, err, "the form could not be read"))
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
				h.failPage(w, r, &s, failure.Errorf(failure.Unauthorized, "this form has expired: go back, reload the page and try again"))
				return
			}
		}
		next(w, r, &s)
	}
}

func (h *Hub) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", h.handleLoginPage)
	mux.HandleFunc("POST /login", h.handleLogin)
	mux.HandleFunc("POST /logout", h.handleLogout)
	mux.HandleFunc("GET /lang/{lang}", h.handleLang)
	mux.HandleFunc("GET /{$}", h.operatorPage(h.handleHome))
	mux.HandleFunc("POST /schools", h.operatorPage(h.handleCreateSchool))
	mux.HandleFunc("POST /schools/{id}/tokens", h.operatorPage(h.handleNewToken))
	mux.HandleFunc("POST /credentials/{id}/revoke", h.operatorPage(h.handleRevoke))
	mux.HandleFunc("GET /fleet", h.operatorPage(h.handleFleet))
	mux.HandleFunc("GET /reports", h.operatorPage(h.handleReports))
	mux.HandleFunc("GET /reports.csv", h.operatorPage(h.handleReportCSV))
	mux.HandleFunc("GET /packs", h.operatorPage(h.handlePacks))
	mux.HandleFunc("POST /packs", h.operatorPage(h.handlePublish))
	mux.HandleFunc("POST /packs/{id}/require", h.operatorPage(h.handleRequire))
	mux.HandleFunc("GET /import", h.operatorPage(h.handleImportPage))
	mux.HandleFunc("POST /import", h.operatorPage(h.handleImport))
	mux.HandleFunc("GET /imports/{bundle}", h.operatorPage(h.handleAckDownload))
}

func (h *Hub) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "hub-login", "hub.login.title", nil, page{Data: redirect.Local(r.FormValue("next"), "/")})
}

func (h *Hub) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := h.guesses.check("login:"+h.clientAddr(r), "sign-in attempts"); err != nil {
		h.failPage(w, r, nil, err)
		return
	}
	op, err := h.store.AuthOperator(r.Context(), r.PostFormValue("token"))
	if err != nil {
		h.render(w, r, http.StatusForbidden, "hub-login", "hub.login.title", nil, page{Error: i18n.T(h.lang(r), "hub.login.wrong"), Data: r.PostFormValue("next")})
		return
	}
	token, err := h.store.StartSession(r.Context(), op)
	if err != nil {
		h.failPage(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, redirect.Local(r.PostFormValue("next"), "/"), http.StatusSeeOther)
}

func (h *Hub) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		h.store.EndSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *Hub) handleLang(w http.ResponseWriter, r *http.Request) {
	if l := r.PathValue("lang"); i18n.Supported(l) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, redirect.Local(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
}

type homeData struct {
	Schools []School
	Boxes   []boxRow
}

type boxRow struct {
	BoxInfo
	LastSeen, Offset           string
	Version, Backlog, DiskFree string // from the box's latest status; "—" if it sent none
}

func (h *Hub) handleHome(w http.ResponseWriter, r *http.Request, s *Session) {
	schools, err := h.store.Schools(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	boxes, err := h.store.Boxes(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	lang := h.lang(r)
	d := homeData{Schools: schools}
	for _, b := range boxes {
		row := boxRow{BoxInfo: b, LastSeen: i18n.T(lang, "hub.boxes.never"), Offset: "—", Version: "—", Backlog: "—", DiskFree: "—"}
		if st := b.Status; st != nil {
			row.Version, row.Backlog = st.Version, strconv.FormatInt(st.Backlog, 10)
			if st.DiskFree >= 0 {
				row.DiskFree = i18n.Bytes(lang, uint64(st.DiskFree))
			}
		}
		if !b.LastSeen.IsZero() {
			row.LastSeen = b.LastSeen.UTC().Format("2006-01-02 15:04")
		}
		if b.OffsetMS != nil {
			row.Offset = formatOffset(time.Duration(*b.OffsetMS) * time.Millisecond)
		}
		d.Boxes = append(d.Boxes, row)
	}
	h.render(w, r, http.StatusOK, "hub-home", "hub.schools.title", s, page{Data: d, Notice: r.FormValue("notice")})
}

// formatOffset shows how far a box's clock is off: "+3d 4h", "−12s".
func formatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	switch {
	case d < time.Minute:
		return sign + d.Round(time.Second).String()
	case d < 48*time.Hour:
		return sign + d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%s%dd %dh", sign, int(d.Hours())/24, int(d.Hours())%24)
}

func (h *Hub) handleCreateSchool(w http.ResponseWriter, r *http.Request, s *Session) {
	tok, err := h.store.CreateSchool(r.Context(), r.PostFormValue("name"), r.PostFormValue("region"), 0)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	h.showToken(w, r, s, tok)
}

func (h *Hub) handleNewToken(w http.ResponseWriter, r *http.Request, s *Session) {
	tok, err := h.store.NewToken(r.Context(), r.PathValue("id"), 0)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	h.showToken(w, r, s, tok)
}

type tokenData struct {
	Token, School, Region, Expires, HubURL string
}

func (h *Hub) showToken(w http.ResponseWriter, r *http.Request, s *Session, t Token) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h.render(w, r, http.StatusOK, "hub-token", "hub.schools.new", s, page{Data: tokenData{
		Token: t.Token, School: t.School.Name, Region: t.School.Region, Expires: t.Expires.UTC().Format("2006-01-02 15:04 UTC"), HubURL: scheme + "://" + r.Host,
	}})
}

func (h *Hub) handleRevoke(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := h.store.RevokeCredential(r.Context(), r.PathValue("id")); err != nil {
		h.failPage(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/?notice="+url.QueryEscape(i18n.T(h.lang(r), "hub.boxes.revoked_notice", r.PathValue("id"))), http.StatusSeeOther)
}

type reportData struct {
	Query      ReportQuery
	From, To   string
	Dimensions []string
	Genders    []string
	Schools    []School
	Rows       []reportRowView
	CSV        string
}

type reportRowView struct {
	Label string
	Cells []reportCell // by Genders
}

type reportCell struct {
	Learners, Answers int64
	Mastery           string
}

func (h *Hub) handleReports(w http.ResponseWriter, r *http.Request, s *Session) {
	q, err := reportQuery(r)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	rep, err := h.store.Report(r.Context(), q)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	schools, err := h.store.Schools(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	lang := h.lang(r)
	d := reportData{Query: q, From: r.FormValue("from"), To: r.FormValue("to"), Dimensions: Dimensions, Genders: Genders, Schools: schools}
	csv := url.Values{"by": {q.By}, "region": {q.Region}, "school": {q.School}, "from": {d.From}, "to": {d.To}}
	d.CSV = "/reports.csv?" + csv.Encode()
	for _, row := range rep.Rows {
		v := reportRowView{Label: row.Label}
		if row.Key == OwnQuestions {
			v.Label = i18n.T(lang, "hub.reports.own_questions")
		} else if v.Label == "" || (q.By == "grade" && v.Label == "0") {
			v.Label = i18n.T(lang, "hub.reports.unknown")
		}
		for _, g := range Genders {
			f := row.ByGender[g]
			c := reportCell{Learners: f.Learners, Answers: f.Answers, Mastery: "—"}
			if m := f.Mastery(); !math.IsNaN(m) {
				c.Mastery = i18n.Decimal(lang, m, 0) + "%"
			}
			v.Cells = append(v.Cells, c)
		}
		d.Rows = append(d.Rows, v)
	}
	h.render(w, r, http.StatusOK, "hub-reports", "hub.reports.title", s, page{Data: d})
}

func (h *Hub) handleReportCSV(w http.ResponseWriter, r *http.Request, s *Session) {
	q, err := reportQuery(r)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	rep, err := h.store.Report(r.Context(), q)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	writeReportCSV(w, rep)
}

type packsData struct {
	Groups  []packGroup
	Schools []School
	Regions []string
}

// packGroup is a pack id with its published versions, newest first.
type packGroup struct {
	ID, Title, Subject string
	Versions           []PackVersion
	Required           []Requirement
}

func (h *Hub) handlePacks(w http.ResponseWriter, r *http.Request, s *Session) {
	packs, err := h.store.Packs(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	schools, err := h.store.Schools(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	d := packsData{Schools: schools, Regions: regionsOf(schools)}
	for _, p := range packs {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].ID != p.ID {
			d.Groups = append(d.Groups, packGroup{ID: p.ID, Title: p.Title, Subject: p.Subject, Required: p.Required})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Versions = append(g.Versions, p)
	}
	h.render(w, r, http.StatusOK, "hub-packs", "hub.packs.title", s, page{Data: d, Notice: r.FormValue("notice")})
}

// regionsOf lists the regions of the schools, each once, in order.
func regionsOf(schools []School) []string {
	var out []string
	seen := map[string]bool{}
	for _, sc := range schools {
		if !seen[sc.Region] {
			seen[sc.Region] = true
			out = append(out, sc.Region)
		}
	}
	return out
}

func (h *Hub) handlePublish(w http.ResponseWriter, r *http.Request, s *Session) {
	f, hdr, err := r.FormFile("pack")
	if err != nil {
		h.failPage(w, r, s, failure.Errorf(failure.Invalid, "choose a .stempack file"))
		return
	}
	defer f.Close()
	res, err := h.store.Publish(r.Context(), f, hdr.Size, h.keys, nil)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	msg := i18n.T(h.lang(r), "hub.packs.published", res.ID, res.Version, res.NewFiles)
	http.Redirect(w, r, "/packs?notice="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (h *Hub) handleRequire(w http.ResponseWriter, r *http.Request, s *Session) {
	rq := Requirement{Scope: r.PostFormValue("scope"), Value: r.PostFormValue("value")}
	if rq.Scope == "region" {
		rq.Value = r.PostFormValue("region")
	}
	if err := h.store.SetRequirement(r.Context(), r.PathValue("id"), rq, r.PostFormValue("off") == ""); err != nil {
		h.failPage(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/packs", http.StatusSeeOther)
}

type importData struct {
	Done    bool
	Result  ImportResult
	KeyList bool // the hub has a key list, for the stick too
}

func (h *Hub) handleImportPage(w http.ResponseWriter, r *http.Request, s *Session) {
	h.render(w, r, http.StatusOK, "hub-import", "hub.import.title", s, page{})
}

func (h *Hub) handleImport(w http.ResponseWriter, r *http.Request, s *Session) {
	f, _, err := r.FormFile("bundle")
	if err != nil {
		h.failPage(w, r, s, failure.Errorf(failure.Invalid, "choose a %s file", ".stembundle"))
		return
	}
	defer f.Close()
	res, err := h.store.ImportBundle(r.Context(), f)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	h.log.Info("bundle imported", "box", res.Ack.BoxID, "stored", res.Ack.Stored, "acked", res.Ack.AckedSeq, "repeat", res.Repeat)
	if err := h.store.TakeContributions(r.Context(), &res, uploaded(r, "contributions")); err != nil {
		h.failPage(w, r, s, err)
		return
	}
	_, kerr := h.store.KeyList(r.Context())
	h.render(w, r, http.StatusOK, "hub-import", "hub.import.title", s, page{Data: importData{Done: true, Result: res, KeyList: kerr == nil}})
}

// handleAckDownload signs the acknowledgement of an imported bundle anew
// (it is the same statement, signed again).
func (h *Hub) handleAckDownload(w http.ResponseWriter, r *http.Request, s *Session) {
	ack, file, err := h.store.AckFor(r.Context(), r.PathValue("bundle"))
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+AckFileName(ack)+`"`)
	w.Write(file)
}
