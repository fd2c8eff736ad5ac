package upstream_test

import (
	"bytes"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// keysProxy forwards to target and counts the key list requests and the
// full answers among them.
func keysProxy(t *testing.T, target string) (string, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var asked, full atomic.Int64
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path == wire.PathKeys && r.StatusCode == http.StatusOK {
			full.Add(1)
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathKeys {
			asked.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &asked, &full
}

// keyBox is a box whose keyring trusts root on its own, in its folder.
func keyBox(t *testing.T, root *content.Signer) *testBox {
	t.Helper()
	keyDir := t.TempDir()
	if err := content.WriteKeyFile(filepath.Join(keyDir, "root.pub"), root.Public()); err != nil {
		t.Fatal(err)
	}
	keys := content.NewKeyring()
	if err := keys.LoadKeyDir(keyDir); err != nil {
		t.Fatal(err)
	}
	return newBox(t, keys)
}

// A key the operator adds at the hub reaches a box at its next sync: the
// pack signed by it, refused before, installs without a restart; the
// list costs a 304 when unchanged. Revoked, the pack stops being served at
// the next sync and is not fetched again.
func TestKeyListFromTheHub(t *testing.T) {
	ctx := t.Context()
	archive, _ := miniPack(t)
	root, publisher := contenttest.Signer(t), contenttest.Signer(t)
	signed := contenttest.Repack(t, contenttest.Members(t, archive), publisher)
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	publish(t, h, signed, content.NewKeyring(publisher.Public()))
	hubURL, asked, full := keysProxy(t, h.URL)

	box := keyBox(t, root)
	s := box.syncer(upstream.Config{HubURL: hubURL, EnrollToken: newToken(t, h, "School", "R"), CatalogueEvery: time.Hour})
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	// No list at the hub: the pack is refused, the events go up.
	var pe *upstream.PullError
	if err := s.Sync(ctx); !errors.As(err, &pe) || !strings.Contains(err.Error(), "does not trust") {
		t.Fatalf("first sync: %v, want the pack refused as untrusted", err)
	}
	// The operator adds the publisher's key.
	if _, err := h.Store().UpdateKeyList(ctx, root, hub.AddListedKey(publisher.Public(), "publisher", time.Now())); err != nil {
		t.Fatal(err)
	}
	s.Poke()
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after the key was listed: %v", err)
	}
	if p, ok := box.lib.Pack("mini"); !ok || p.KeyID != publisher.Public().ID {
		t.Fatalf("the pack signed by the listed key did not come: %v", box.lib.Problems())
	}
	// Unchanged, the list is not sent again (twice).
	for i := 0; i < 2; i++ {
		if err := w.Write(ctx, 5, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	if a, f := asked.Load(), full.Load(); a != 4 || f != 1 {
		t.Errorf("the key list was asked %d times and sent whole %d times, want 4 and 1", a, f)
	}
	// Revoked: no longer served, and the box says so.
	if _, err := h.Store().UpdateKeyList(ctx, root, hub.RevokeListedKey(publisher.Public().ID, content.RevokedKey{Reason: "leaked"})); err != nil {
		t.Fatal(err)
	}
	for try := 1; try <= 2; try++ {
		s.Poke()
		err := s.Sync(ctx)
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "revoked: leaked") {
			t.Fatalf("sync %d after revocation: %v, want the pack refused as revoked", try, err)
		}
		if p, ok := box.lib.Pack("mini"); ok {
			t.Fatalf("sync %d: the pack of a revoked key is still served (%s)", try, p.KeyID)
		}
		if uerr := box.lib.Unserved()["mini"]; uerr == nil || !strings.Contains(uerr.Error(), "revoked") {
			t.Fatalf("sync %d: Unserved = %v, want mini, revoked", try, box.lib.Unserved())
		}
		if st, _ := s.Status(ctx); st.Backlog != 0 {
			t.Fatalf("sync %d: %d events wait: a revoked pack held up the push", try, st.Backlog)
		}
	}
}

// A list the box must not take — signed by a key it does not trust on its
// own, older than its own, or revoking its root — is refused with a
// clear error, fetched once, slows no push, and changes nothing.
func TestKeyListWrongAtTheHub(t *testing.T) {
	ctx := t.Context()
	root, root2, other, publisher := contenttest.Signer(t), contenttest.Signer(t), contenttest.Signer(t), contenttest.Signer(t)
	hubDir := t.TempDir()
	h := hubtest.Start(t, hubDir, "", hub.Config{})
	hubURL, _, full := keysProxy(t, h.URL)
	box := keyBox(t, root)
	box.keys.Add(root2.Public()) // a second key the box trusts on its own
	s := box.syncer(upstream.Config{HubURL: hubURL, EnrollToken: newToken(t, h, "School", "R"), CatalogueEvery: time.Hour})
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The box holds list 3 (from a stick, say).
	if _, err := s.TakeKeyList(contenttest.KeyList(t, root, 3, []content.PublicKey{publisher.Public()})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		list []byte
		want string
	}{
		{"signed by another root", contenttest.KeyList(t, other, 9, nil), "not one of this box's own trusted keys"},
		{"older", contenttest.KeyList(t, root, 2, nil), "older than the list this box holds (3)"},
		{"revokes a root", contenttest.KeyList(t, root, 9, nil, root2.Public().ID), "cannot revoke those"},
		{"tampered", bytes.Replace(contenttest.KeyList(t, root, 9, nil), []byte(`"serial":9`), []byte(`"serial":10`), 1), "it was altered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			setKeyList(t, hubDir, c.list)
			before := full.Load()
			for try := 1; try <= 2; try++ {
				if err := w.Write(ctx, 5, 1); err != nil {
					t.Fatal(err)
				}
				err := s.Sync(ctx)
				var pe *upstream.PullError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("sync %d: %v, want a PullError saying %q", try, err, c.want)
				}
				if st, _ := s.Status(ctx); st.Backlog != 0 {
					t.Fatalf("sync %d: %d events wait", try, st.Backlog)
				}
				if kl := box.keys.KeyList(); kl.List.Serial != 3 || !box.keys.Trusts(publisher.Public().ID) {
					t.Fatalf("sync %d: the refused list changed the box: serial %d", try, kl.List.Serial)
				}
			}
			if n := full.Load() - before; n != 1 {
				t.Errorf("the refused list was downloaded %d times, want once", n)
			}
		})
	}
}

// setKeyList puts raw as the hub's key list in its SQLite file, as a
// damaged or malicious hub would, past the operator's command.
func setKeyList(t *testing.T, hubDir string, raw []byte) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(hubDir, "hub.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO hub_facts (key, value) VALUES ('key_list', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", string(raw)); err != nil {
		t.Fatal(err)
	}
}
