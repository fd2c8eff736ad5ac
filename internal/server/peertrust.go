package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/peer"
)

// Trust between boxes (docs/discovery.md, "Trusting another box"). Each
// box shows its own key, and its fingerprint, at /api/v1/box-key and on its
// admin peers page. An administrator who wants another box's teachers'
// packs opens "trust this box", compares the fingerprint this box fetched
// with the one the other box's page shows, and accepts it with a POST; the
// key is then trusted for that box's namespace only (content.BoxKey).
// Nothing is ever trusted without that POST.

// WithBoxKey gives the server the box's own key (box.DevKeyPath), which
// it shows to people and to other boxes. Without it /api/v1/box-key is 404.
func WithBoxKey(k content.PublicKey) Option { return func(s *Server) { s.boxKey = k } }

func (s *Server) trustRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/box-key", s.handleAPIBoxKey)
	mux.HandleFunc("GET /admin/peers/trust", s.handleAdminTrustPage)
	mux.HandleFunc("POST /admin/peers/trust", s.handleAdminTrust)
	mux.HandleFunc("POST /admin/peers/untrust", s.handleAdminUntrust)
}

// ownBoxKey describes the box's own key, or says it has none.
func (s *Server) ownBoxKey(ctx context.Context) (peer.BoxKeyInfo, error) {
	if s.boxKey.ID == "" {
		return peer.BoxKeyInfo{}, failure.Errorf(failure.NotFound, "this box has no key of its own")
	}
	id, err := s.db.BoxID(ctx)
	if err != nil {
		return peer.BoxKeyInfo{}, err
	}
	return peer.NewBoxKeyInfo(id, s.lan.Reach().Name, s.boxKey), nil
}

// handleAPIBoxKey shows the box's own key: anyone on the LAN may read it
// (it is a public key); trusting it is another box's admin's decision.
func (s *Server) handleAPIBoxKey(w http.ResponseWriter, r *http.Request) {
	info, err := s.ownBoxKey(r.Context())
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

type trustedBox struct {
	Name, BoxID, KeyID, Fingerprint, Namespace string
}

func trustedBoxes(kr *content.Keyring) []trustedBox {
	var out []trustedBox
	for _, bk := range kr.BoxKeys() {
		name := bk.Name
		if name == "" {
			name = bk.BoxID
		}
		out = append(out, trustedBox{Name: name, BoxID: bk.BoxID, KeyID: bk.Key.ID, Fingerprint: content.Fingerprint(bk.Key), Namespace: bk.Namespace()})
	}
	return out
}

// changedKeys are the keys trusted for the box bk says it is, other than
// bk's: that box now shows another key.
func changedKeys(kr *content.Keyring, bk content.BoxKey) []trustedBox {
	var out []trustedBox
	for _, t := range trustedBoxes(kr) {
		if bk.BoxID != "" && t.BoxID == bk.BoxID && t.KeyID != bk.Key.ID {
			out = append(out, t)
		}
	}
	return out
}

// handleAdminTrustPage shows another box's key, fetched from it now, for
// the administrator to compare and accept.
func (s *Server) handleAdminTrustPage(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	lang := s.lang(r)
	base, err := peer.BaseURL(r.URL.Query().Get("peer"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerListTimeout)
	defer cancel()
	bk, err := s.lan.Client.BoxKey(ctx, base)
	if err != nil {
		s.fail(w, r, failure.Wrap(failure.KindOf(err), err, i18n.T(lang, "peers.unreachable", failure.Message(err))))
		return
	}
	name := bk.Name
	if name == "" {
		name = base
	}
	_, trusted := s.lib.Keys().BoxKey(bk.Key.ID)
	data := struct {
		Peer, Name, BoxID, Key, Fingerprint, Namespace, Own string
		Trusted                                             bool
		Changed                                             []trustedBox
	}{Peer: base, Name: name, BoxID: bk.BoxID, Key: bk.Key.String(), Fingerprint: content.Fingerprint(bk.Key),
		Namespace: bk.Namespace(), Trusted: trusted, Changed: changedKeys(s.lib.Keys(), bk)}
	if s.boxKey.ID != "" {
		data.Own = content.Fingerprint(s.boxKey)
	}
	s.render(w, r, http.StatusOK, "peer-trust", i18n.T(lang, "trust.title", name), false, data)
}

// handleAdminTrust trusts the key the administrator saw and accepted (the
// form carries it, so what is trusted is exactly what was shown).
func (s *Server) handleAdminTrust(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	lang := s.lang(r)
	k, err := content.ParsePublicKey(r.PostForm.Get("key"))
	if err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(lang, "trust.bad_key")))
		return
	}
	if k.ID == s.boxKey.ID {
		s.fail(w, r, failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "trust.own_key")))
		return
	}
	bk := content.BoxKey{Key: k, BoxID: r.PostForm.Get("box"), Name: r.PostForm.Get("name")}
	if err := s.lib.Keys().TrustBox(bk); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("trusted another box's key for its teachers' packs", "box", bk.BoxID, "name", bk.Name,
		"key", k.ID, "fingerprint", content.Fingerprint(k), "namespace", bk.Namespace(), "by", viewerOf(r).actor())
	next := "/admin/peers"
	if p, err := peer.BaseURL(r.PostForm.Get("peer")); err == nil {
		next += "?url=" + url.QueryEscape(p)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleAdminUntrust takes back the trust in a box key: the packs it
// signed stop being served at once.
func (s *Server) handleAdminUntrust(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	id := r.PostForm.Get("key")
	if err := s.lib.Keys().UntrustBox(id); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.lib.Reload(); err != nil {
		s.log.Error("reload packs after taking back a box key", "err", err)
	}
	s.log.Info("took back the trust in another box's key", "key", id, "by", viewerOf(r).actor())
	http.Redirect(w, r, "/admin/peers", http.StatusSeeOther)
}

// untrustedStatus says why a peer's pack cannot be copied because of who
// signed it, and whether trusting the peer would let it come; "" when its
// signer is trusted for it (or the peer does not say who signed it).
func (s *Server) untrustedStatus(lang string, rp peer.RemotePack, own content.BoxKey, peerName string) (status string, trustable bool) {
	if rp.Key == "" || s.lib.Keys().TrustsFor(rp.Key, rp.ID) {
		return "", false
	}
	if rp.Key == own.Key.ID && content.InNamespace(rp.Key, rp.ID) {
		return i18n.T(lang, "peers.status_untrusted_box", peerName), true
	}
	return i18n.T(lang, "peers.status_untrusted_key", rp.Key), false
}
