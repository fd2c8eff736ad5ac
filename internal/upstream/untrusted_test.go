package upstream_test

import (
	"context"
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

// countingProxy forwards to target and counts the requests for pack
// manifests.
func countingProxy(t *testing.T, target string) (string, *atomic.Int64) {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var manifests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, wire.PathPacks) && strings.HasSuffix(r.URL.Path, "/manifest") {
			manifests.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &manifests
}

// A pack the hub requires that the box does not trust slows nothing: every
// sync pushes the events and reports the pack, the pack's manifest is not
// fetched again at each try, and the loop does not back off; once the box
// trusts the key (pack install --trust writes it to DATA/trusted-keys),
// the pack comes.
func TestUntrustedPackDoesNotSlowThePush(t *testing.T) {
	archive, _ := miniPack(t)
	publisher := contenttest.Signer(t)
	m := contenttest.Members(t, archive)
	signed := contenttest.Repack(t, m, publisher)
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	publish(t, h, signed, content.NewKeyring(publisher.Public()))
	hubURL, manifests := countingProxy(t, h.URL)

	keyDir := t.TempDir()
	keys := content.NewKeyring()
	if err := keys.LoadKeyDir(keyDir); err != nil {
		t.Fatal(err)
	}
	box := newBox(t, keys)
	s := box.syncer(upstream.Config{HubURL: hubURL, EnrollToken: newToken(t, h, "School", "R"),
		Every: time.Hour, MinGap: 20 * time.Millisecond, MinBackoff: time.Hour, MaxBackoff: time.Hour, CatalogueEvery: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The loop's first sync pushes and meets the pack; new events then go
	// up at once (MinGap), not after an hour's backoff.
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for st, _ := s.Status(ctx); len(st.Packs) == 0; st, _ = s.Status(ctx) {
		if time.Now().After(deadline) {
			t.Fatal("the loop never reported the untrusted pack")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for round := 1; round <= 2; round++ {
		if err := w.Write(ctx, 5, 1); err != nil {
			t.Fatal(err)
		}
		waitAcked(t, box, h)
	}
	cancel()
	<-done
	// Each "sync now" pulls again, reports the pack, fetches no manifest again.
	for try := 1; try <= 2; try++ {
		if err := w.Write(t.Context(), 5, 1); err != nil {
			t.Fatal(err)
		}
		s.Poke()
		err = s.Sync(t.Context())
		var pe *upstream.PullError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "does not trust") {
			t.Fatalf("sync %d: err = %v, want a PullError saying the pack is not trusted", try, err)
		}
		st, _ := s.Status(t.Context())
		if st.Backlog != 0 || len(st.Packs) != 1 || st.Packs[0].Pack != "mini" || !strings.Contains(st.Packs[0].Error, "does not trust") {
			t.Fatalf("status after sync %d: backlog %d, packs %+v; want the events up and the pack reported", try, st.Backlog, st.Packs)
		}
	}
	if n := manifests.Load(); n != 1 {
		t.Errorf("the untrusted pack's manifest was fetched %d times, want once", n)
	}

	// Trusting the key (as pack install --trust does) lets the pack come.
	if err := content.WriteKeyFile(filepath.Join(keyDir, "publisher.pub"), publisher.Public()); err != nil {
		t.Fatal(err)
	}
	s.Poke()
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("sync after trusting the key: %v", err)
	}
	if p, ok := box.lib.Pack("mini"); !ok || p.KeyID != publisher.Public().ID {
		t.Errorf("the pack did not come once its key was trusted: %v", box.lib.Problems())
	}
	if st, _ := s.Status(t.Context()); len(st.Packs) != 0 {
		t.Errorf("status still reports %+v", st.Packs)
	}
}

// waitAcked waits until the hub holds every event of the box.
func waitAcked(t *testing.T, box *testBox, h *hubtest.Hub) {
	t.Helper()
	want, _ := box.db.LastSeq(t.Context())
	deadline := time.Now().Add(20 * time.Second)
	for {
		bs, err := h.Store().BoxState(t.Context(), box.boxID(t))
		if err == nil && bs.AckedSeq == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub holds %+v (%v) after 20 s, want %d events: the push waits on the pack", bs, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
