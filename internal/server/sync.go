package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

// The box's sync page (/admin/sync, admins only): where upstream sync
// stands — backlog, last success, last error, bytes sent, a pack download
// under way — a "sync now" button, and the form that enrolls the box with
// a hub.

// SyncControl is what the sync page needs from the box's upstream syncer.
type SyncControl interface {
	Status(ctx context.Context) (upstream.Status, error)
	Enroll(ctx context.Context, hubURL, token string) (store.UpstreamLink, error)
	Poke()
}

// syncRoutes serve the sync page, to admins.
func (s *Server) syncRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/sync", s.requireUser(true, s.withSyncControl(func(w http.ResponseWriter, r *http.Request, v *viewer, sc SyncControl) {
		s.renderSync(w, r, sc, r.FormValue("notice"), "")
	})))
	mux.HandleFunc("POST /admin/sync", s.requireUser(true, s.withSyncControl(func(w http.ResponseWriter, r *http.Request, v *viewer, sc SyncControl) {
		sc.Poke()
		http.Redirect(w, r, "/admin/sync?notice="+url.QueryEscape(i18n.T(s.lang(r), "sync.started")), http.StatusSeeOther)
	})))
	mux.HandleFunc("POST /admin/sync/enroll", s.requireUser(true, s.withSyncControl(func(w http.ResponseWriter, r *http.Request, v *viewer, sc SyncControl) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		hubURL, token := strings.TrimSpace(r.PostFormValue("hub")), strings.TrimSpace(r.PostFormValue("token"))
		if _, err := sc.Enroll(ctx, hubURL, token); err != nil {
			s.log.Warn("enroll with the hub", "hub", hubURL, "err", err)
			s.renderSync(w, r, sc, "", err.Error())
			return
		}
		s.log.Info("the box is enrolled with the hub", "hub", hubURL, "by", v.actor())
		http.Redirect(w, r, "/admin/sync?notice="+url.QueryEscape(i18n.T(s.lang(r), "sync.enrolled_now")), http.StatusSeeOther)
	})))
}

var errSyncOff = failure.Errorf(failure.Unavailable, "upstream sync is not running on this box")

// withSyncControl passes a sync handler the box's syncer (WithSync). On a
// server without one it is a page that answers 503: decided here, once, so
// that no handler looks for the syncer.
func (s *Server) withSyncControl(h func(http.ResponseWriter, *http.Request, *viewer, SyncControl)) func(http.ResponseWriter, *http.Request, *viewer) {
	sc := s.sync
	if sc == nil {
		return func(w http.ResponseWriter, r *http.Request, _ *viewer) { s.fail(w, r, errSyncOff) }
	}
	return func(w http.ResponseWriter, r *http.Request, v *viewer) { h(w, r, v, sc) }
}

type syncPage struct {
	Status            upstream.Status
	Notice, Error     string
	Rows              []check
	Enrolled, USBOnly string
	Download          string
}

func (s *Server) renderSync(w http.ResponseWriter, r *http.Request, sc SyncControl, notice, errMsg string) {
	lang := s.lang(r)
	st, err := sc.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return i18n.T(lang, "sync.never")
		}
		return i18n.Date(lang, t) + " " + t.Format("15:04")
	}
	p := syncPage{Status: st, Notice: notice, Error: errMsg}
	if st.Enrolled {
		if st.HubURL != "" {
			p.Enrolled = i18n.T(lang, "sync.enrolled", st.HubURL, st.SchoolName, st.Region)
		} else {
			p.USBOnly = i18n.T(lang, "sync.usb_only", st.SchoolName, st.Region)
		}
	}
	p.Rows = []check{
		{Name: i18n.T(lang, "sync.box_id"), Detail: st.BoxID, OK: true},
		{Name: i18n.T(lang, "sync.backlog"), Detail: i18n.Decimal(lang, float64(st.Backlog), 0), OK: st.Backlog == 0 || !st.Enrolled},
		{Name: i18n.T(lang, "sync.acked"), Detail: i18n.Decimal(lang, float64(st.AckedSeq), 0), OK: true},
		{Name: i18n.T(lang, "sync.last_success"), Detail: when(st.LastSuccess), OK: true},
		{Name: i18n.T(lang, "sync.sent"), Detail: syncBytes(lang, st.BytesSent), OK: true},
		{Name: i18n.T(lang, "sync.received"), Detail: syncBytes(lang, st.BytesRecv), OK: true},
	}
	if st.LastError != "" {
		p.Rows = append(p.Rows, check{Name: i18n.T(lang, "sync.last_error"), Detail: when(st.LastErrorAt) + ": " + st.LastError})
	}
	for _, pe := range st.Packs {
		p.Rows = append(p.Rows, check{Name: pe.Pack + " " + pe.Version, Detail: pe.Error})
	}
	if d := st.Download; d != nil {
		p.Download = i18n.T(lang, "sync.download", d.Pack, d.Version, syncBytes(lang, d.Done), syncBytes(lang, d.Total))
	}
	status := http.StatusOK
	if errMsg != "" {
		status = statusOf(failure.Errorf(failure.Invalid, "%s", errMsg))
	}
	s.render(w, r, status, "sync", i18n.T(lang, "sync.title"), false, p)
}

// syncBytes writes a byte count for a slow link, where kilobytes matter.
func syncBytes(lang string, n int64) string {
	switch {
	case n < 1<<10:
		return i18n.T(lang, "sync.bytes", i18n.Decimal(lang, float64(max(0, n)), 0))
	case n < 1<<20:
		return i18n.T(lang, "sync.kb", i18n.Decimal(lang, float64(n)/(1<<10), 1))
	}
	return i18n.Bytes(lang, uint64(n))
}
