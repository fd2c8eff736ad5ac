package peer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/peer"
)

// A peer's key is read from its key line; a peer that states another
// namespace or fingerprint than its key's, or no key, is refused.
func TestBoxKeyFromAPeer(t *testing.T) {
	k, other := contenttest.Signer(t).Public(), contenttest.Signer(t).Public()
	good := peer.NewBoxKeyInfo("box-1", "Room 5", k)
	forgedLine := "ed25519:" + other.ID + ":" + strings.SplitN(k.String(), ":", 3)[2]
	cases := []struct {
		name   string
		status int
		body   any
		want   string // "" for taken
	}{
		{"its own key", 200, good, ""},
		{"another fingerprint", 200, peer.BoxKeyInfo{BoxID: "box-1", Key: k.String(), Namespace: good.Namespace, Fingerprint: content.Fingerprint(other)}, "not its key's"},
		{"another namespace", 200, peer.BoxKeyInfo{BoxID: "box-1", Key: k.String(), Namespace: content.Namespace(other.ID), Fingerprint: good.Fingerprint}, "not its key's"},
		{"a key line claiming another id", 200, peer.BoxKeyInfo{BoxID: "box-1", Key: forgedLine, Namespace: content.Namespace(other.ID), Fingerprint: content.Fingerprint(other)}, "claims id"},
		{"not JSON", 200, "<html>", "not a box key"},
		{"an older box", 404, map[string]string{"error": "no page"}, "shows no box key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != peer.PathBoxKey {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(c.status)
				if s, ok := c.body.(string); ok {
					w.Write([]byte(s))
					return
				}
				json.NewEncoder(w).Encode(c.body)
			}))
			defer srv.Close()
			bk, err := peer.NewClient("test").BoxKey(context.Background(), srv.URL)
			if c.want == "" {
				if err != nil || bk.Key.ID != k.ID || bk.Name != "Room 5" || bk.BoxID != "box-1" {
					t.Fatalf("got %+v, %v; want the peer's key", bk, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %+v, %v; want refused saying %q", bk, err, c.want)
			}
			if c.status == 404 && failure.KindOf(err) != failure.NotFound {
				t.Errorf("an older box: kind %s, want not found", failure.KindOf(err))
			}
		})
	}
}
