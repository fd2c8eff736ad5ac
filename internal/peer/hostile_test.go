package peer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/peer"
)

// endless serves head, then random bytes for ever (or until the client
// hangs up), counting what it sent.
func endless(t *testing.T, head []byte, length bool) (*httptest.Server, *atomic.Int64) {
	var sent atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"junk"`)
		if length {
			w.Header().Set("Content-Length", "600000000")
		}
		n, _ := w.Write(head)
		sent.Add(int64(n))
		buf := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			rand.Read(buf)
			n, err := w.Write(buf)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts, &sent
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			out = append(out, e.Name())
		}
	}
	return out
}

// A peer that sends endless junk, or a real pack's manifest followed by
// endless junk, is cut off within what that manifest declares, and leaves
// nothing on the disk.
func TestHostilePeerSendingEndlessBytes(t *testing.T) {
	a, _, key := packs(t)
	for _, tc := range []struct {
		name   string
		head   []byte
		length bool
	}{
		{"junk with no length", nil, false},
		{"junk claiming 600 MB", nil, true},
		{"a signed manifest then junk", a[:len(a)/2], false},
		{"a signed manifest then junk, claiming 600 MB", a[:len(a)/2], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, sent := endless(t, tc.head, tc.length)
			lib := newLibrary(t, key)
			dir := t.TempDir()
			c := peer.NewClient("test")
			_, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil)
			if k := failure.KindOf(err); k != failure.Invalid && k != failure.TooLarge {
				t.Fatalf("err = %v, want refused", err)
			}
			// The server may have written a little more into socket buffers
			// than the client read; what matters is it was cut off early.
			if got := sent.Load(); got > 64<<20 {
				t.Errorf("the peer sent %d bytes before it was cut off", got)
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Errorf("a refused download left %v", left)
			}
			if _, ok := lib.Pack("mini"); ok {
				t.Error("junk was installed")
			}
		})
	}
}

// A peer that cuts a download midway and never comes back leaves a partial
// file no larger than the pack, which the next fetch (from another peer)
// resumes; after that nothing is left on the disk.
func TestPeerCuttingMidwayThenGone(t *testing.T) {
	a, _, key := packs(t)
	gone := cuttingPeer(a, `"`+archiveSHA(a)+`"`)
	lib := newLibrary(t, key)
	dir := t.TempDir()
	c := peer.NewClient("test")
	c.Stall = time.Second
	if _, err := peer.Fetch(context.Background(), c, lib, dir, gone.URL, "mini", nil); err == nil {
		t.Fatal("a cut download succeeded")
	}
	gone.Close()
	partial := dir + "/mini.stempack.partial"
	st, err := os.Stat(partial)
	if err != nil || st.Size() != int64(len(a)/2) {
		t.Fatalf("partial after the cut: %v, %v; want the %d bytes that came", st, err, len(a)/2)
	}
	if _, err := peer.Fetch(context.Background(), c, lib, dir, gone.URL, "mini", nil); err == nil {
		t.Fatal("a fetch from a peer that is gone succeeded")
	}
	if st, err := os.Stat(partial); err != nil || st.Size() != int64(len(a)/2) {
		t.Fatalf("a failed connection changed the partial: %v, %v", st, err)
	}
	good, _ := sharingBox(t, newLibrary(t, key, a))
	var prog peer.Progress
	if _, err := peer.Fetch(context.Background(), c, lib, dir, good.URL, "mini", func(p peer.Progress) { prog = p }); err != nil {
		t.Fatalf("fetch from a good peer: %v", err)
	}
	if prog.Resumed != int64(len(a)/2) {
		t.Errorf("resumed from %d, want the %d bytes on disk", prog.Resumed, len(a)/2)
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("after the install the downloads folder holds %v", left)
	}
}

// cuttingPeer announces archive a whole, sends its first half, and hangs up.
func cuttingPeer(a []byte, etag string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Length", strconv.Itoa(len(a)))
		w.Write(a[:len(a)/2])
	}))
}

func archiveSHA(a []byte) string {
	sum := sha256.Sum256(a)
	return hex.EncodeToString(sum[:])
}

// A partial download that no fetch will resume (its pack has since been
// installed, from a USB stick say) is removed by the next fetch.
func TestStalePartialsAreRemoved(t *testing.T) {
	a, _, key := packs(t)
	cut := cuttingPeer(a, `"cut"`)
	defer cut.Close()
	lib := newLibrary(t, key)
	dir := t.TempDir()
	c := peer.NewClient("test")
	if _, err := peer.Fetch(context.Background(), c, lib, dir, cut.URL, "mini", nil); err == nil {
		t.Fatal("a cut download succeeded")
	}
	if left := dirEntries(t, dir); len(left) != 2 { // the partial and its ETag
		t.Fatalf("after the cut: %v, want the partial kept", left)
	}
	if _, err := lib.Install(bytes.NewReader(a), int64(len(a)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	good, _ := sharingBox(t, newLibrary(t, key))
	if _, err := peer.Fetch(context.Background(), c, lib, dir, good.URL, "other", nil); failure.KindOf(err) != failure.NotFound {
		t.Fatalf("fetch of a pack the peer lacks: %v", err)
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("after the pack was installed otherwise, the downloads folder holds %v", left)
	}
}

// A peer copy of a signed pack a box cannot load is refused, twice, with
// what is wrong, and the version installed before goes on being served.
func TestPeerCopyOfABrokenPackIsRefused(t *testing.T) {
	a, _, key := packs(t)
	lib := newLibrary(t, key, a)
	dir := t.TempDir()
	c := peer.NewClient("test")
	for _, kind := range contenttest.BrokenKinds() {
		ts := fakePeer(t, contenttest.Break(t, a, key, "2.0.0", kind))
		for try := 1; try <= 2; try++ {
			_, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil)
			if err == nil || !strings.Contains(err.Error(), kind.Want) {
				t.Fatalf("%s: fetch %d: err = %v, want %q", kind.Name, try, err, kind.Want)
			}
			if p, _ := lib.Pack("mini"); p == nil || p.Manifest.Version != "1.0.0" {
				t.Fatalf("%s: after a refused copy the box serves %v, want 1.0.0", kind.Name, p)
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Errorf("%s: a refused copy left %v", kind.Name, left)
			}
		}
	}
}
