package server

import (
	"context"
	"html/template"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/peer"
)

// LAN is what the connect page, the peer pages and the pack-archive API
// need from the box's discovery and pack sharing (WithLAN). A part left nil
// (a server in a test, a box without mDNS) is off: the pages then show what
// they can.
type LAN struct {
	Reach    func() discovery.Reach // the box's URLs
	Peers    func() []discovery.Box // other boxes seen on the LAN
	Archives PackArchives           // archives of installed packs, for peers
	Jobs     PackFetches            // fetches started from /admin/peers
	Client   PeerPacks              // to list a peer's packs
}

// PackArchives makes the archives of installed packs that peers copy
// (*peer.Archives).
type PackArchives interface {
	Open(pack string) (*peer.Archive, error)
}

// PackFetches copies packs from peers in the background (*peer.Jobs).
type PackFetches interface {
	Start(peerURL, pack string) error
	List() []peer.Job
	Running() bool
}

// PeerPacks lists the packs of a peer, and shows its key (*peer.Client).
type PeerPacks interface {
	Packs(ctx context.Context, peerURL string) ([]peer.RemotePack, error)
	BoxKey(ctx context.Context, peerURL string) (content.BoxKey, error)
}

// maxArchiveDownloads bounds how many peers may copy packs from this box at
// once, so that students' pages stay quick.
const maxArchiveDownloads = 4

type lanDeps struct {
	LAN
	archiveSlots chan struct{}
}

// newLANDeps puts an "off" part in place of each part of l left nil.
func newLANDeps(l LAN) lanDeps {
	if l.Reach == nil {
		l.Reach = func() discovery.Reach { return discovery.Reach{} }
	}
	if l.Peers == nil {
		l.Peers = func() []discovery.Box { return nil }
	}
	if l.Archives == nil {
		l.Archives = noSharing{}
	}
	if l.Jobs == nil {
		l.Jobs = noSharing{}
	}
	if l.Client == nil {
		l.Client = noSharing{}
	}
	return lanDeps{LAN: l, archiveSlots: make(chan struct{}, maxArchiveDownloads)}
}

// noSharing is pack sharing turned off: no archives for peers, no fetches,
// and a peer's packs are not listed.
type noSharing struct{}

func (noSharing) Open(string) (*peer.Archive, error) {
	return nil, failure.Errorf(failure.NotFound, "this box does not share packs")
}

func (noSharing) Start(string, string) error {
	return failure.Errorf(failure.Unavailable, "pack sharing is off")
}

func (noSharing) List() []peer.Job { return nil }

func (noSharing) Running() bool { return false }

func (noSharing) Packs(context.Context, string) ([]peer.RemotePack, error) { return nil, nil }

func (noSharing) BoxKey(context.Context, string) (content.BoxKey, error) {
	return content.BoxKey{}, failure.Errorf(failure.NotFound, "pack sharing is off")
}

// connectRoutes serve the "connect a device" page and box-to-box pack
// sharing (peer.go).
func (s *Server) connectRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /connect", s.handleConnect)
	mux.HandleFunc("GET /api/v1/peers", s.handleAPIPeers)
	mux.HandleFunc("GET /api/v1/packs/{pack}/archive", s.handlePackArchive)
	mux.HandleFunc("GET /admin/peers", s.handleAdminPeers)
	mux.HandleFunc("POST /admin/peers/fetch", s.handleAdminFetch)
	s.trustRoutes(mux)
}

func (s *Server) reach(r *http.Request) discovery.Reach {
	reach := s.lan.Reach()
	if reach.Best == "" || !hasLANURL(reach) {
		// Nothing better is known: the address this page was opened at works
		// for this device at least.
		u := "http://" + r.Host + "/"
		reach.Best = u
		if !containsURL(reach.URLs, u) {
			reach.URLs = append([]discovery.URL{{URL: u, Kind: "page"}}, reach.URLs...)
		}
	}
	return reach
}

func hasLANURL(r discovery.Reach) bool {
	for _, u := range r.URLs {
		if u.Kind == "ipv4" || u.Kind == "ipv6" {
			return true
		}
	}
	return false
}

func containsURL(us []discovery.URL, u string) bool {
	for _, x := range us {
		if x.URL == u {
			return true
		}
	}
	return false
}

type connectURL struct{ URL, Note string }

type connectPeer struct{ Name, URL, Version string }

// handleConnect shows how a device reaches the box: a QR code of the best
// URL, big enough for a projector, and every other URL.
func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	reach := s.reach(r)
	data := struct {
		Name      string
		Best      string
		QR        template.HTML
		Others    []connectURL
		NoNetwork bool
		Peers     []connectPeer
	}{Name: reach.Name, Best: reach.Best, NoNetwork: !hasLANURL(reach)}
	if qr, err := discovery.NewQR(reach.Best); err == nil {
		// The SVG is made of numbers and the escaped URL only.
		data.QR = template.HTML(qr.SVG(reach.Best))
	} else {
		s.log.Warn("connect page: no QR code", "url", reach.Best, "err", err)
	}
	for _, u := range reach.URLs {
		if u.URL == reach.Best {
			continue
		}
		note := ""
		switch u.Kind {
		case "name":
			note = i18n.T(lang, "connect.note_name")
		case "local":
			note = i18n.T(lang, "connect.note_local")
		}
		data.Others = append(data.Others, connectURL{URL: u.URL, Note: note})
	}
	for _, b := range s.lan.Peers() {
		data.Peers = append(data.Peers, connectPeer{Name: b.Name, URL: b.URL(), Version: b.Version})
	}
	title := i18n.T(lang, "connect.title")
	if data.Name != "" {
		title += " · " + data.Name
	}
	s.render(w, r, http.StatusOK, "connect", title, false, data)
}

// handleAPIPeers tells this box's URLs and the other boxes it sees.
func (s *Server) handleAPIPeers(w http.ResponseWriter, r *http.Request) {
	peers := append([]discovery.Box{}, s.lan.Peers()...)
	writeJSON(w, http.StatusOK, map[string]any{"box": s.reach(r), "peers": peers})
}

// hostOnly returns the host of a Host header, without port or brackets.
func hostOnly(hostport string) string {
	h := hostport
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}
