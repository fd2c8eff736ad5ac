package peer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/peer"
)

// TestFetchPackWithBigApp copies, box to box, a pack carrying a 5 MB
// single-file app (a PhET-size simulation), cut off half-way and resumed:
// it arrives checked and whole, like any file of a pack.
func TestFetchPackWithBigApp(t *testing.T) {
	src, page := contenttest.BigAppSource(t, 5<<20)
	key := contenttest.Signer(t)
	a := contenttest.Build(t, src, key)

	ts, _ := sharingBox(t, newLibrary(t, key, a))
	cut := &cutter{next: ts.Config.Handler, n: int64(len(a)) / 2}
	ts.Config.Handler = cut
	lib := newLibrary(t, key)
	dir := t.TempDir()
	c := peer.NewClient("test")
	if _, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil); err == nil {
		t.Fatal("the cut-off download succeeded")
	}
	res, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil)
	if err != nil {
		t.Fatalf("resumed fetch: %v", err)
	}
	if sent := cut.sent.Load(); sent > int64(len(a))+4096 {
		t.Errorf("%d bytes crossed the network for a %d-byte pack: the resume started over", sent, len(a))
	}
	p := res.Pack
	app, ok := p.Manifest.App("big")
	if !ok || app.Entry != "apps/big.html" {
		t.Fatalf("the copied pack's app: %+v, %v", app, ok)
	}
	file, entry, ok := p.FilePath(app.Entry)
	if !ok {
		t.Fatal("the copied pack lacks the app's page")
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got)
	if want := sha256.Sum256(page); sum != want || hex.EncodeToString(sum[:]) != entry.SHA256 {
		t.Errorf("the copied app is %d bytes with SHA-256 %x, want %d bytes, %x", len(got), sum, len(page), want)
	}
}
