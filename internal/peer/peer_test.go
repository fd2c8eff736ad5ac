package peer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/peer"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
)

var (
	packOnce sync.Once
	mini     []byte // mini 1.0.0
	mini11   []byte // mini 1.1.0
	signer   *content.Signer
)

// packs builds the test pack in two versions, once for all tests.
func packs(tb testing.TB) ([]byte, []byte, *content.Signer) {
	tb.Helper()
	packOnce.Do(func() {
		signer = contenttest.Signer(tb)
		mini = contenttest.Build(tb, contenttest.MiniDir(), signer)
		src := filepath.Join(os.TempDir(), "stembox-peer-test-mini11-"+strconv.Itoa(os.Getpid()))
		defer os.RemoveAll(src)
		contenttest.CopyTree(tb, contenttest.MiniDir(), src)
		y, err := os.ReadFile(filepath.Join(src, "pack.yaml"))
		if err != nil {
			tb.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(y, []byte("version: 1.0.0"), []byte("version: 1.1.0"), 1), 0o644)
		mini11 = contenttest.Build(tb, src, signer)
	})
	if mini == nil || mini11 == nil {
		tb.Fatal("the test packs did not build")
	}
	return mini, mini11, signer
}

func newLibrary(tb testing.TB, key *content.Signer, installed ...[]byte) *content.Library {
	tb.Helper()
	lib, err := content.OpenLibrary(filepath.Join(tb.TempDir(), "packs"), content.NewKeyring(key.Public()), content.DefaultLimits)
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range installed {
		if _, err := lib.Install(bytes.NewReader(a), int64(len(a)), content.InstallOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	return lib
}

// sharingBox is a box's web server sharing the packs of lib.
func sharingBox(tb testing.TB, lib *content.Library) (*httptest.Server, *peer.Archives) {
	tb.Helper()
	dir := tb.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "box.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	archives := peer.NewArchives(filepath.Join(dir, "archives"), lib)
	srv, err := server.New(server.Config{DefaultLang: "en"}, slog.New(slog.NewTextHandler(io.Discard, nil)), db, lib,
		server.WithLAN(server.LAN{Archives: archives}))
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return ts, archives
}

func TestArchiveIsTheBuiltPack(t *testing.T) {
	a, _, key := packs(t)
	lib := newLibrary(t, key, a)
	archives := peer.NewArchives(t.TempDir(), lib)
	f, err := archives.Open("mini")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, a) {
		t.Errorf("the archive made from the installed pack (%d bytes) differs from the one built (%d bytes)", len(got), len(a))
	}
	if _, err := archives.Open("nothing"); failure.KindOf(err) != failure.NotFound {
		t.Errorf("archive of a pack not installed: %v, want not found", err)
	}
}

// A box whose disk damaged an installed file does not pass the pack on.
func TestDamagedPackIsNotShared(t *testing.T) {
	a, _, key := packs(t)
	lib := newLibrary(t, key, a)
	p, _ := lib.Pack("mini")
	path, _, _ := p.FilePath(p.Manifest.Files[0].Path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	os.WriteFile(path, b, 0o644)
	if _, err := peer.NewArchives(t.TempDir(), lib).Open("mini"); failure.KindOf(err) != failure.Unavailable || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("archive of a damaged pack: %v, want unavailable and damaged", err)
	}
}

func TestFetchInstalls(t *testing.T) {
	a, _, key := packs(t)
	ts, _ := sharingBox(t, newLibrary(t, key, a))
	c := peer.NewClient("test")

	listed, err := c.Packs(context.Background(), ts.URL)
	if err != nil || len(listed) != 1 || listed[0].ID != "mini" || listed[0].Version != "1.0.0" {
		t.Fatalf("Packs = %+v, %v", listed, err)
	}

	lib := newLibrary(t, key)
	dir := t.TempDir()
	var last peer.Progress
	res, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", func(p peer.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if res.Pack.Manifest.Version != "1.0.0" || res.Unchanged {
		t.Errorf("result = %+v", res)
	}
	if last.Total != int64(len(a)) || last.Done != last.Total {
		t.Errorf("last progress = %+v, want %d of %d", last, len(a), len(a))
	}
	if _, ok := lib.Pack("mini"); !ok {
		t.Error("mini is not installed")
	}
	if left := leftovers(t, dir); left != "" {
		t.Errorf("download folder keeps %s", left)
	}
	// Again: already installed.
	if res, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil); err != nil || !res.Unchanged {
		t.Errorf("second fetch: %+v, %v", res, err)
	}
	if _, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "physics", nil); failure.KindOf(err) != failure.NotFound {
		t.Errorf("fetching a pack the peer lacks: %v, want not found", err)
	}
}

// leftovers lists the files left in a download folder, lock files aside.
func leftovers(t *testing.T, dir string) string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			out = append(out, e.Name())
		}
	}
	return strings.Join(out, ", ")
}

// cutter passes requests to next but cuts the first archive response off
// after n bytes, as a dropped Wi-Fi link would, and records Range headers.
type cutter struct {
	next   http.Handler
	n      int64
	cut    atomic.Bool
	mu     sync.Mutex
	ranges []string
	sent   atomic.Int64
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.ranges = append(c.ranges, r.Header.Get("Range")+"|"+r.Header.Get("If-Range"))
	c.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, sent: &c.sent}
	if strings.HasSuffix(r.URL.Path, "/archive") && c.cut.CompareAndSwap(false, true) {
		cw.limit = c.n
	}
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			panic(v)
		}
	}()
	c.next.ServeHTTP(cw, r)
}

type countingWriter struct {
	http.ResponseWriter
	sent  *atomic.Int64
	limit int64 // 0: none
	n     int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.limit > 0 && w.n+int64(len(p)) > w.limit {
		p = p[:w.limit-w.n]
		w.ResponseWriter.Write(p)
		w.sent.Add(int64(len(p)))
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	w.n += int64(len(p))
	w.sent.Add(int64(len(p)))
	return w.ResponseWriter.Write(p)
}

func TestFetchResumes(t *testing.T) {
	a, _, key := packs(t)
	ts, _ := sharingBox(t, newLibrary(t, key, a))
	cut := &cutter{next: ts.Config.Handler, n: int64(len(a)) / 3}
	ts.Config.Handler = cut

	lib := newLibrary(t, key)
	dir := t.TempDir()
	c := peer.NewClient("test")
	_, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil)
	if err == nil {
		t.Fatal("the cut-off download succeeded")
	}
	if _, ok := lib.Pack("mini"); ok {
		t.Fatal("a half-downloaded pack was installed")
	}
	partial := filepath.Join(dir, "mini.stempack.partial")
	if st, err := os.Stat(partial); err != nil || st.Size() != int64(len(a))/3 {
		t.Fatalf("partial file after the cut: %v, %v; want %d bytes", st, err, len(a)/3)
	}
	var resumed peer.Progress
	res, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", func(p peer.Progress) { resumed = p })
	if err != nil || res.Pack.Manifest.ID != "mini" {
		t.Fatalf("resumed fetch: %+v, %v", res, err)
	}
	if resumed.Resumed != int64(len(a))/3 {
		t.Errorf("resumed from %d, want %d", resumed.Resumed, len(a)/3)
	}
	// The second request asked for the rest only, guarded by the ETag.
	cut.mu.Lock()
	second := cut.ranges[len(cut.ranges)-1]
	cut.mu.Unlock()
	if want := "bytes=" + strconv.Itoa(len(a)/3) + "-|\""; !strings.HasPrefix(second, want) {
		t.Errorf("resuming request had Range|If-Range %q, want %q…", second, want)
	}
	if sent := cut.sent.Load(); sent > int64(len(a))+1024 {
		t.Errorf("%d bytes crossed the network for a %d-byte pack: the resume started over", sent, len(a))
	}
}

// A partial download of an older archive is not spliced onto a newer one.
func TestFetchStartsOverWhenThePeerChanged(t *testing.T) {
	a, a11, key := packs(t)
	peerLib := newLibrary(t, key, a)
	ts, _ := sharingBox(t, peerLib)
	cut := &cutter{next: ts.Config.Handler, n: 2000}
	ts.Config.Handler = cut
	lib := newLibrary(t, key)
	dir := t.TempDir()
	c := peer.NewClient("test")
	if _, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil); err == nil {
		t.Fatal("the cut-off download succeeded")
	}
	// Meanwhile the peer installs 1.1.0.
	if _, err := peerLib.Install(bytes.NewReader(a11), int64(len(a11)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := peer.Fetch(context.Background(), c, lib, dir, ts.URL, "mini", nil)
	if err != nil || res.Pack.Manifest.Version != "1.1.0" {
		t.Fatalf("fetch after the peer's update: %+v, %v", res, err)
	}
}

// fakePeer serves one archive body for every pack, as a broken or hostile
// box might.
func fakePeer(t *testing.T, body []byte) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"whatever"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// rewrite returns archive a with change applied to the content of the
// first lesson, keeping its manifest and signature.
func rewrite(t *testing.T, a []byte, change func([]byte) []byte) []byte {
	t.Helper()
	arch, err := content.InspectArchive(bytes.NewReader(a), int64(len(a)), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	target := arch.Manifest.Files[0].Path
	var buf bytes.Buffer
	err = content.WriteArchive(&buf, arch.ManifestBytes, arch.Signature, func(p string) (io.ReadCloser, error) {
		zr, _ := zip.NewReader(bytes.NewReader(a), int64(len(a)))
		rc, err := zr.Open(p)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if p == target {
			b = change(b)
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A peer is never trusted more than a USB stick: a pack that fails any
// check is refused, nothing installed changes, and the bad download is
// thrown away.
func TestTamperedPacksAreRefused(t *testing.T) {
	a, a11, key := packs(t)
	other := contenttest.Signer(t)
	otherA := contenttest.Build(t, contenttest.MiniDir(), other)
	flipped := rewrite(t, a11, func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/2] ^= 0x20; return b })
	for _, tc := range []struct {
		name, want string
		body       []byte
		id         string
	}{
		{"a byte changed after signing", "hash", flipped, "mini"},
		{"signed by an unknown key", "trust", otherA, "mini"},
		{"garbage", "not a pack archive", bytes.Repeat([]byte("garbage!"), 5000), "mini"},
		{"empty", "not a pack archive", nil, "mini"},
		{"another pack under the name", "asked for pack physics", a, "physics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lib := newLibrary(t, key, a)
			dir := t.TempDir()
			ts := fakePeer(t, tc.body)
			_, err := peer.Fetch(context.Background(), peer.NewClient("test"), lib, dir, ts.URL, tc.id, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			p, ok := lib.Pack("mini")
			if !ok || p.Manifest.Version != "1.0.0" {
				t.Errorf("installed mini changed: %v", p)
			}
			if _, ok := lib.Pack("physics"); ok {
				t.Error("a pack was installed under another name")
			}
			if left := leftovers(t, dir); left != "" {
				t.Errorf("a refused download is kept: %s", left)
			}
		})
	}
}

// A peer that stops sending is given up on, and what arrived is kept to
// resume from.
func TestStalledPeer(t *testing.T) {
	a, _, _ := packs(t)
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"stall"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(a)))
		w.Write(a[:len(a)/2])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	defer close(release)
	_, _, key := packs(t)
	c := peer.NewClient("test")
	c.Stall = 300 * time.Millisecond
	dir := t.TempDir()
	start := time.Now()
	_, err := peer.Fetch(context.Background(), c, newLibrary(t, key), dir, ts.URL, "mini", nil)
	if err == nil || !strings.Contains(err.Error(), "sent nothing") {
		t.Fatalf("err = %v, want a stall", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("giving up took %s", d)
	}
	if st, err := os.Stat(filepath.Join(dir, "mini.stempack.partial")); err != nil || st.Size() != int64(len(a)/2) {
		t.Errorf("partial after the stall: %v, %v; want the %d bytes that came", st, err, len(a)/2)
	}
}

func TestOversizedArchiveRefused(t *testing.T) {
	ts := fakePeer(t, make([]byte, 5000))
	c := peer.NewClient("test")
	c.MaxArchive = 4096
	_, _, key := packs(t)
	_, err := peer.Fetch(context.Background(), c, newLibrary(t, key), t.TempDir(), ts.URL, "mini", nil)
	if failure.KindOf(err) != failure.TooLarge {
		t.Errorf("err = %v, want too large", err)
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:8080":              "http://192.0.2.1:8080",
		"http://stembox.local:8080/x": "http://stembox.local:8080",
		" https://box/ ":              "https://box",
		"http://[2001:db8::1]:8080/":  "http://[2001:db8::1]:8080",
	} {
		if got, err := peer.BaseURL(in); err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://box/", "http://", "http://user:pw@box/", "::::"} {
		if got, err := peer.BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestJobs(t *testing.T) {
	a, _, key := packs(t)
	ts, _ := sharingBox(t, newLibrary(t, key, a))
	lib := newLibrary(t, key)
	jobs := peer.NewJobs(peer.NewClient("test"), lib, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := jobs.Start(ts.URL, "mini"); failure.KindOf(err) != failure.Unavailable {
		t.Errorf("Start before Run: %v, want unavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- jobs.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := jobs.Start(ts.URL, "mini"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // Run has not started yet
	}
	for jobs.Running() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	list := jobs.List()
	if len(list) != 1 || list[0].State != "done" || list[0].Version != "1.0.0" || list[0].Percent() != 100 {
		t.Fatalf("jobs = %+v", list)
	}
	if err := jobs.Start("not a url at all", "mini"); err == nil {
		t.Error("a bad peer address was accepted")
	}
	if err := jobs.Start(ts.URL, "../etc"); err == nil {
		t.Error("a bad pack id was accepted")
	}
}

// Two fetches of one pack (the admin page and the command line) never
// write the same partial file.
func TestOneFetchOfAPackAtATime(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	_, _, key := packs(t)
	lib, dir := newLibrary(t, key), t.TempDir()
	first := make(chan error)
	go func() {
		_, err := peer.Fetch(context.Background(), peer.NewClient("test"), lib, dir, ts.URL, "mini", nil)
		first <- err
	}()
	<-started
	_, err := peer.Fetch(context.Background(), peer.NewClient("test"), lib, dir, ts.URL, "mini", nil)
	if !errors.Is(err, peer.ErrBusy) {
		t.Errorf("second fetch: %v, want ErrBusy", err)
	}
	close(release)
	<-first
}
