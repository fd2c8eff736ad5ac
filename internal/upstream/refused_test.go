package upstream_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
)

// A pack the hub requires but the box's library refuses (here: signed by a
// key the sync trusts but the library does not) leaves the version served
// before serving, is reported at every sync, and is not downloaded again.
func TestRefusedPackFromTheHubKeepsTheOldVersion(t *testing.T) {
	archive, key := miniPack(t)
	newer, other := otherSigned(t, archive, 200<<10)
	backend := hubtest.Backends()[0]
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
	publish(t, h, newer, content.NewKeyring(other.Public()))
	box := newBox(t, content.NewKeyring(key.Public()))
	if _, err := box.lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 5", "Sughd")}
	cfg.CacheDir = t.TempDir()
	s := upstream.New(box.db, box.lib, cfg, testLogger())
	var received []int64
	for try := 1; try <= 2; try++ {
		s.Poke()
		err := s.Sync(ctx)
		if err == nil || !strings.Contains(err.Error(), "does not trust") {
			t.Fatalf("sync %d: err = %v, want the refused pack reported", try, err)
		}
		if p, _ := box.lib.Pack("mini"); p == nil || p.Manifest.Version != "1.0.0" {
			t.Fatalf("sync %d: the box serves %v, want 1.0.0 still", try, p)
		}
		st, _ := upstream.ReadStatus(ctx, box.db)
		if !strings.Contains(st.LastError, "mini 1.1.0") {
			t.Errorf("sync %d: status error = %q, want the refused pack named", try, st.LastError)
		}
		received = append(received, st.BytesRecv)
	}
	if received[0] < 200<<10 {
		t.Fatalf("the first sync received %d bytes: the new file was not downloaded", received[0])
	}
	if again := received[1] - received[0]; again > 100<<10 {
		t.Errorf("the second sync received %d bytes: the refused pack was downloaded again", again)
	}
}

// otherSigned is mini 1.1.0 with a new random file of size bytes (one the
// box lacks), signed by a new key, and that key.
func otherSigned(tb testing.TB, archive []byte, size int) ([]byte, *content.Signer) {
	tb.Helper()
	other := contenttest.Signer(tb)
	m := contenttest.Members(tb, archive)
	contenttest.SetVersion(tb, m, "1.1.0")
	m["media/new.bin"] = make([]byte, size)
	rand.Read(m["media/new.bin"])
	return contenttest.Repack(tb, m, other), other
}
