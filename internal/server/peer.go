package server

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/peer"
)

// handlePackArchive serves an installed pack's archive to another box,
// with range requests so that an interrupted copy resumes. Anyone on the
// LAN may have it: the same packs' lessons are served to every student.
func (s *Server) handlePackArchive(w http.ResponseWriter, r *http.Request) {
	select {
	case s.lan.archiveSlots <- struct{}{}:
		defer func() { <-s.lan.archiveSlots }()
	default:
		w.Header().Set("Retry-After", "30")
		s.failJSON(w, r, failure.Errorf(failure.Unavailable, "other boxes are copying packs from this one; try again in a minute"))
		return
	}
	a, err := s.lan.Archives.Open(r.PathValue("pack"))
	if err != nil {
		if failure.KindOf(err) == failure.Unavailable {
			s.log.Error("pack archive", "pack", r.PathValue("pack"), "err", err)
		}
		s.failJSON(w, r, err)
		return
	}
	defer a.Close()
	m := &a.Pack.Manifest
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": content.ArchiveName(m.ID, m.Version)}))
	h.Set("ETag", a.ETag())
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Stembox-Pack", m.ID+" "+m.Version)
	// The server's write timeout suits pages, not a pack crossing a slow
	// Wi-Fi: allow at least 32 KB/s, and the client resumes if cut off.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(2*time.Minute + time.Duration(a.Size/(32<<10))*time.Second))
	http.ServeContent(w, r, "", a.ModTime, a)
}

// onTheBox says whether r comes from a browser on the box itself: by a
// loopback address and a loopback host name (so that a page from elsewhere
// cannot reach in by rebinding a name of its own to 127.0.0.1).
func onTheBox(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return false
	}
	h := hostOnly(r.Host)
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Unmap().IsLoopback()
}

// admin lets administrators in: a signed-in admin (whose forms carry the
// CSRF token), or, while the box has no admin account yet, a browser on the
// box itself (its forms are guarded by sameOrigin). It answers the request
// itself and returns false for anyone else.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	v := viewerOf(r)
	if v.isAdmin() {
		if r.Method == http.MethodPost {
			if err := s.parseForm(w, r, v); err != nil {
				s.fail(w, r, err)
				return false
			}
		}
		return true
	}
	if onTheBox(r) {
		has, err := s.db.HasAdmin(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return false
		}
		if !has {
			if r.Method == http.MethodPost {
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
				if err := r.ParseForm(); err != nil {
					s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form")))
					return false
				}
			}
			return true
		}
	}
	if !v.isUser() && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return false
	}
	s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "peers.admins_only")))
	return false
}

type peerPack struct {
	ID, Title, Version, Status string
	CanFetch                   bool
	Trust                      string // the "trust this box" link, for a pack its own key signed
}

type peerBox struct {
	Name, URL, Version, Err string
	Fingerprint             string       // of its own key, as fetched now
	Changed                 []trustedBox // keys trusted for this box before, now not the one it shows
	Packs                   []peerPack
}

type peerJob struct {
	Pack, Peer, Status, State string
}

// peerListTimeout bounds how long the admin page waits for each peer.
const peerListTimeout = 3 * time.Second

// handleAdminPeers lists the packs of the other boxes on the LAN (and of a
// box whose address was typed in), marks those this box lacks or has in an
// older version, and shows the fetches under way.
func (s *Server) handleAdminPeers(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	lang := s.lang(r)
	type target struct{ name, url, version string }
	var targets []target
	for _, b := range s.lan.Peers() {
		if base, err := peer.BaseURL(b.URL()); err == nil {
			targets = append(targets, target{b.Name, base, b.Version})
		}
	}
	typed := r.URL.Query().Get("url")
	var typedErr string
	if typed != "" {
		if base, err := peer.BaseURL(typed); err == nil {
			targets = append(targets, target{base, base, ""})
		} else {
			typedErr = failure.Message(err)
		}
	}
	boxes := make([]peerBox, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		boxes[i] = peerBox{Name: t.name, URL: t.url, Version: t.version}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), peerListTimeout)
			defer cancel()
			packs, err := s.lan.Client.Packs(ctx, t.url)
			if err != nil {
				boxes[i].Err = i18n.T(lang, "peers.unreachable", err.Error())
				return
			}
			own, err := s.lan.Client.BoxKey(ctx, t.url) // an older box shows none
			if err == nil {
				boxes[i].Fingerprint = content.Fingerprint(own.Key)
				boxes[i].Changed = changedKeys(s.lib.Keys(), own)
			}
			name := t.name
			if own.Name != "" {
				name = own.Name
				if t.name == t.url { // typed in: the box says what it is called
					boxes[i].Name = own.Name
				}
			}
			boxes[i].Packs = s.comparePacks(lang, packs, own, name, t.url)
		})
	}
	wg.Wait()
	data := struct {
		Boxes    []peerBox
		Jobs     []peerJob
		Typed    string
		TypedErr string
		Refresh  bool
		Own      string       // this box's key's fingerprint
		Trusted  []trustedBox // other boxes' keys this box trusts
	}{Boxes: boxes, Typed: typed, TypedErr: typedErr, Trusted: trustedBoxes(s.lib.Keys())}
	if s.boxKey.ID != "" {
		data.Own = content.Fingerprint(s.boxKey)
	}
	for _, j := range s.lan.Jobs.List() {
		pj := peerJob{Pack: j.Pack, Peer: j.Peer, State: j.State}
		switch j.State {
		case "running":
			done := humanSize(j.Done)
			if p := j.Percent(); p >= 0 {
				done = fmt.Sprintf("%d%% (%s / %s)", p, humanSize(j.Done), humanSize(j.Total))
			}
			pj.Status = i18n.T(lang, "peers.job_running", done)
		case "done":
			pj.Status = i18n.T(lang, "peers.job_done", j.Version)
		default:
			pj.Status = i18n.T(lang, "peers.job_failed", j.Err)
		}
		data.Jobs = append(data.Jobs, pj)
	}
	data.Refresh = s.lan.Jobs.Running()
	s.render(w, r, http.StatusOK, "peers", i18n.T(lang, "peers.title"), false, data)
}

// comparePacks marks a peer's packs against this box's, and those signed
// by a key this box does not trust for them (own is the peer's own key).
func (s *Server) comparePacks(lang string, packs []peer.RemotePack, own content.BoxKey, peerName, peerURL string) []peerPack {
	out := make([]peerPack, 0, len(packs))
	for _, rp := range packs {
		pp := peerPack{ID: rp.ID, Version: rp.Version, Title: rp.ID}
		for _, l := range append(i18n.Fallbacks(lang), rp.Languages...) {
			if t := rp.Title[l]; t != "" {
				pp.Title = t
				break
			}
		}
		if st, trustable := s.untrustedStatus(lang, rp, own, peerName); st != "" {
			pp.Status = st
			if trustable {
				pp.Trust = "/admin/peers/trust?peer=" + url.QueryEscape(peerURL)
			}
			out = append(out, pp)
			continue
		}
		local, ok := s.lib.Pack(rp.ID)
		switch {
		case !ok:
			pp.Status, pp.CanFetch = i18n.T(lang, "peers.status_missing"), true
		case content.CompareVersions(rp.Version, local.Manifest.Version) > 0:
			pp.Status, pp.CanFetch = i18n.T(lang, "peers.status_newer", local.Manifest.Version), true
		case content.CompareVersions(rp.Version, local.Manifest.Version) < 0:
			pp.Status = i18n.T(lang, "peers.status_older", local.Manifest.Version)
		default:
			pp.Status = i18n.T(lang, "peers.status_same")
		}
		out = append(out, pp)
	}
	return out
}

// handleAdminFetch starts copying a pack from a peer in the background.
func (s *Server) handleAdminFetch(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	if err := s.lan.Jobs.Start(r.PostForm.Get("peer"), r.PostForm.Get("pack")); err != nil {
		s.fail(w, r, err)
		return
	}
	next := "/admin/peers"
	if typed := r.PostForm.Get("typed"); typed != "" {
		next += "?url=" + url.QueryEscape(typed)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
