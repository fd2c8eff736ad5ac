package upstream_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// miniPack is the mini pack, built once for all tests.
func miniPack(tb testing.TB) ([]byte, *content.Signer) { return contenttest.MiniPack(tb) }

func testLogger() *slog.Logger {
	if os.Getenv("STEMBOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testBox is a school box's database and library on a temporary directory.
type testBox struct {
	dir  string
	db   *store.DB
	lib  *content.Library
	keys *content.Keyring
}

func newBox(tb testing.TB, keys *content.Keyring) *testBox {
	tb.Helper()
	dir := tb.TempDir()
	b := &testBox{dir: dir, keys: keys}
	b.open(tb)
	return b
}

// open opens (or reopens) the box's database and library.
func (b *testBox) open(tb testing.TB) {
	tb.Helper()
	db, err := store.OpenOptions(context.Background(), filepath.Join(b.dir, "stembox.db"), nil, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	lib, err := content.OpenLibrary(filepath.Join(b.dir, "packs"), b.keys, content.DefaultLimits)
	if err != nil {
		tb.Fatal(err)
	}
	b.db, b.lib = db, lib
}

func (b *testBox) syncer(cfg upstream.Config) *upstream.Syncer {
	cfg.Keys = b.keys
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(b.dir, "upstream-cache")
	}
	return upstream.New(b.db, b.lib, cfg, testLogger())
}

func (b *testBox) boxID(tb testing.TB) string {
	tb.Helper()
	id, err := b.db.BoxID(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// digest hashes events exactly as a box stores them, in seq order.
type digest struct {
	h    hash.Hash
	n    int
	last int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) add(ev wire.Event) error {
	if ev.Seq != d.last+1 {
		return fmt.Errorf("seq %d follows %d", ev.Seq, d.last)
	}
	d.last = ev.Seq
	d.n++
	fmt.Fprintf(d.h, "%d\x00%s\x00%s\x00%s\x00%d\x00%s\x00%d\x00", ev.Seq, ev.ID, ev.Kind, ev.Actor, ev.WallMS, ev.BootID, ev.MonoMS)
	d.h.Write(ev.Payload)
	d.h.Write([]byte{'\n'})
	return nil
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// boxDigest hashes every event of the box.
func boxDigest(tb testing.TB, db *store.DB) (int, string) {
	tb.Helper()
	d := newDigest()
	eachBoxEvent(tb, db, func(ev event.Event) {
		w := wire.Event{Seq: ev.Seq, ID: ev.ID, Kind: ev.Kind, Actor: ev.Actor, WallMS: ev.Wall.UnixMilli(), BootID: ev.BootID, MonoMS: ev.Uptime.Milliseconds(), Payload: ev.Payload}
		if err := d.add(w); err != nil {
			tb.Fatalf("box: %v", err)
		}
	})
	return d.n, d.sum()
}

// eachBoxEvent calls f with every event of the box, in seq order.
func eachBoxEvent(tb testing.TB, db *store.DB, f func(event.Event)) {
	tb.Helper()
	var after int64
	for {
		evs, err := db.EventsAfter(context.Background(), after, 5000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(evs) == 0 {
			return
		}
		for _, ev := range evs {
			f(ev)
		}
		after = evs[len(evs)-1].Seq
	}
}

// hubDigest hashes every event the hub holds for a box; a duplicate or a
// gap fails the test.
func hubDigest(tb testing.TB, st *hub.Store, boxID string) (int, string) {
	tb.Helper()
	d := newDigest()
	if err := st.EachEvent(context.Background(), boxID, func(ev wire.Event, _ int64, _ string) error { return d.add(ev) }); err != nil {
		tb.Fatalf("hub: %v", err)
	}
	return d.n, d.sum()
}

// newToken makes a school on the hub and returns an enrollment token.
func newToken(tb testing.TB, h *hubtest.Hub, school, region string) string {
	tb.Helper()
	tok, err := h.Store().CreateSchool(context.Background(), school, region, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok.Token
}

// publish publishes a pack on the hub, required for every school.
func publish(tb testing.TB, h *hubtest.Hub, archive []byte, keys *content.Keyring) {
	tb.Helper()
	if _, err := h.Store().Publish(context.Background(), bytes.NewReader(archive), int64(len(archive)), keys, []hub.Requirement{{Scope: "all"}}); err != nil {
		tb.Fatal(err)
	}
}

// noProxyClient is an HTTP client without keep-alive surprises for tests.
func noProxyClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
}

func writeJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// forgeBundle re-signs a bundle's events with another box's credential,
// naming that credential in its header: the events are still the first
// box's.
func forgeBundle(tb testing.TB, bundle []byte, credential string) []byte {
	tb.Helper()
	b, err := wire.ReadBundle(bytes.NewReader(bundle), 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := wire.ParseCredential(credential)
	if err != nil {
		tb.Fatal(err)
	}
	h := b.Header
	h.Credential = c.ID
	var out bytes.Buffer
	if err := wire.WriteBundle(&out, h, b.Batches, wire.BundleKey(c.Secret)); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// enrollByFile enrolls box in a new school of the hub with a credential
// file, as a box that never reaches the hub is.
func enrollByFile(tb testing.TB, h *hubtest.Hub, box *testBox, school, region string) {
	tb.Helper()
	ctx := context.Background()
	tok, err := h.Store().CreateSchool(ctx, school, region, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := h.Store().Enroll(ctx, tok.Token, "", "")
	if err != nil {
		tb.Fatal(err)
	}
	credFile := filepath.Join(tb.TempDir(), "box.credential")
	writeJSON(tb, credFile, resp)
	if _, err := upstream.EnrollFile(ctx, box.db, credFile); err != nil {
		tb.Fatal(err)
	}
}
