package upstream_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
)

// TestPullPackWithBigApp downloads from the hub a pack carrying a 5 MB
// single-file app, then its next version, whose app did not change: the
// second download does not fetch the app again, as for any file of a pack.
func TestPullPackWithBigApp(t *testing.T) {
	src, page := contenttest.BigAppSource(t, 5<<20)
	key := contenttest.Signer(t)
	v1 := contenttest.Build(t, src, key)
	y, err := os.ReadFile(filepath.Join(src, "pack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(y, []byte("version: 1.0.0"), []byte("version: 1.1.0"), 1), 0o644)
	v2 := contenttest.Build(t, src, key)
	keys := content.NewKeyring(key.Public())

	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), hubtest.Backends()[0].Target(t), hub.Config{})
	publish(t, h, v1, keys)
	box := newBox(t, keys)
	s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 7", "Sughd")})
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
	check := func(version string) {
		t.Helper()
		p, ok := box.lib.Pack("mini")
		if !ok || p.Manifest.Version != version {
			t.Fatalf("after the sync the box serves %+v (problems %v), want mini %s", p, box.lib.Problems(), version)
		}
		file, entry, ok := p.FilePath("apps/big.html")
		if !ok {
			t.Fatal("the pulled pack lacks its app")
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(got)
		if !bytes.Equal(got, page) || hex.EncodeToString(sum[:]) != entry.SHA256 {
			t.Errorf("the pulled app is %d bytes, want the %d published", len(got), len(page))
		}
	}
	check("1.0.0")
	st1, _ := upstream.ReadStatus(ctx, box.db)
	if st1.BytesRecv < int64(len(page))/2 {
		t.Errorf("the first pull received %d bytes, less than the app", st1.BytesRecv)
	}

	publish(t, h, v2, keys)
	s.Poke() // look at the catalogue again now
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	check("1.1.0")
	st2, _ := upstream.ReadStatus(ctx, box.db)
	if got := st2.BytesRecv - st1.BytesRecv; got > 1<<20 {
		t.Errorf("the update received %d bytes: the unchanged 5 MB app was fetched again", got)
	}
}
