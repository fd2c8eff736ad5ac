package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

// runBox runs a box on data, as stembox serve --trust trusted… does, and
// stops it at the end of the test. It reloads its packs only when told.
func runBox(t *testing.T, data string, trusted ...string) *box.Box {
	t.Helper()
	return runBoxConfig(t, box.Config{DataDir: data, TrustedKeys: trusted})
}

// runBoxConfig runs a box made with cfg on a free loopback port.
func runBoxConfig(t *testing.T, cfg box.Config) *box.Box {
	t.Helper()
	cfg.Addr, cfg.Lang, cfg.ReloadEvery = "127.0.0.1:0", "en", time.Hour
	b, err := box.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })
	return b
}

func boxGet(t *testing.T, b *box.Box, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+b.Addr().String()+path, nil)
	req.Header.Set("Accept-Encoding", "identity") // the file from the disk, not a compressed copy in memory
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func keygen(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		k := filepath.Join(dir, n)
		if o, err := runCLI(t, "pack", "keygen", "--out", k); err != nil {
			t.Fatalf("keygen: %v\n%s", err, o)
		}
		out = append(out, k)
	}
	return out
}

// A box started with --trust A serves a pack signed by A. `stembox sync
// import --trust B` beside it, which does not trust A, must neither take
// the served version off the disk (the lesson would answer 404) nor
// install an older version over it; the running box serves what the
// import installed once it reloads, and /readyz stays truthful throughout.
func TestSyncImportBesideARunningBoxNeverLosesItsPack(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keys := keygen(t, dir, "a", "b")
	a, b := keys[0], keys[1]
	lib, err := box.OpenLibrary(data, []string{a + ".pub"}) // as serve --trust a.pub
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.InstallFile(packAt(t, dir, a, "1.0.0"), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	running := runBox(t, data, a+".pub")
	served := func(when string) {
		t.Helper()
		p, ok := running.Library().Pack("mini")
		if !ok {
			t.Fatalf("%s: the box serves no mini", when)
		}
		// A file of the pack, read from the disk at each request.
		if code, body := boxGet(t, running, "/files/mini/"+p.Name+"/media/graph.svg"); code != 200 || !strings.Contains(body, "<svg") {
			t.Fatalf("%s: the pack's picture answers %d, want 200", when, code)
		}
		if code, body := boxGet(t, running, "/readyz"); code != 200 {
			t.Fatalf("%s: /readyz answers %d:\n%s", when, code, body)
		}
	}
	served("before the import")

	older := filepath.Join(dir, "older")
	os.MkdirAll(older, 0o755)
	os.Rename(packAt(t, dir, b, "0.9.0"), filepath.Join(older, "mini-0.9.0.stempack"))
	out, err := runCLI(t, "sync", "import", "--data-dir", data, "--trust", b+".pub", older)
	if err != nil || !strings.Contains(out, "not installed") || !strings.Contains(out, "older than the installed 1.0.0") {
		t.Fatalf("sync import of an older version: %v\n%s", err, out)
	}
	served("after an older version was offered")

	newer := filepath.Join(dir, "newer")
	os.MkdirAll(newer, 0o755)
	os.Rename(packAt(t, dir, b, "1.1.0"), filepath.Join(newer, "mini-1.1.0.stempack"))
	for try := 1; try <= 2; try++ {
		out, err = runCLI(t, "sync", "import", "--data-dir", data, "--trust", b+".pub", newer)
		if err != nil {
			t.Fatalf("sync import %d: %v\n%s", try, err, out)
		}
		served("after the import, before the box reloads")
	}
	if err := running.Library().Reload(); err != nil {
		t.Fatal(err)
	}
	served("after the box reloaded")
	if p, _ := running.Library().Pack("mini"); p == nil || p.Manifest.Version != "1.1.0" {
		t.Fatalf("the running box serves %v, want 1.1.0 (problems %v)", p, running.Library().Problems())
	}
}

// The hub's key list travels on the USB stick: `stembox hub import`
// writes it beside the acknowledgement, `stembox sync import` beside a
// running box takes it, and the box serves packs by the listed key — and,
// once the operator revokes that key, stops serving them and says so in
// /readyz, without a restart.
func TestKeyListByStickReachesARunningBox(t *testing.T) {
	dir := t.TempDir()
	hubDir, data, stick := filepath.Join(dir, "hub"), filepath.Join(dir, "box"), filepath.Join(dir, "stick")
	keys := keygen(t, dir, "root", "publisher")
	root, publisher := keys[0], keys[1]
	if _, err := box.TrustKeys(data, []string{root + ".pub"}); err != nil { // the programme's root, set up with the box
		t.Fatal(err)
	}
	out := runCmd(t, "hub", "keys", "add", "--data", hubDir, "--root-key", root, "--note", "publisher", publisher+".pub")
	if !strings.Contains(out, "key list 1") {
		t.Fatalf("hub keys add: %s", out)
	}
	if out := runCmd(t, "hub", "keys", "list", "--data", hubDir); !strings.Contains(out, "key list 1") || !strings.Contains(out, "trusted\t") {
		t.Fatalf("hub keys list: %s", out)
	}
	if _, err := runCLI(t, "hub", "keys", "revoke", "--data", hubDir, "--root-key", root, root+".pub"); err == nil || !strings.Contains(err.Error(), "cannot revoke it") {
		t.Fatalf("revoking the root: %v, want refused", err)
	}
	// The box, enrolled by file, with a pack by the publisher on a stick
	// it cannot install yet.
	tok := regexp.MustCompile(`(?m)^  (\S{20,})$`).FindStringSubmatch(runCmd(t, "hub", "add-school", "--data", hubDir, "--name", "School 3", "--region", "GBAO"))
	cred := filepath.Join(dir, "box.credential")
	runCmd(t, "hub", "enroll-file", "--data", hubDir, "--token", tok[1], "--out", cred)
	runCmd(t, "sync", "enroll", "--data-dir", data, "--file", cred)
	db, err := store.Open(context.Background(), box.DBPath(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateClass(context.Background(), "user:t", "7A", 7, ""); err != nil { // an event for the bundle
		t.Fatal(err)
	}
	db.Close()
	pack := packAt(t, dir, publisher, "1.0.0")
	if _, err := runCLI(t, "pack", "install", "--data-dir", data, pack); err == nil || !strings.Contains(err.Error(), "does not trust") {
		t.Fatalf("install before the key list: %v, want refused", err)
	}
	running := runBox(t, data)

	roundTrip := func() string {
		t.Helper()
		os.RemoveAll(stick)
		runCmd(t, "sync", "export", "--data-dir", data, "--out", stick)
		bundles, _ := filepath.Glob(filepath.Join(stick, "*.stembundle"))
		if out := runCmd(t, "hub", "import", "--data", hubDir, "--out", stick, bundles[0]); !strings.Contains(out, "key list: ") {
			t.Fatalf("hub import wrote no key list: %s", out)
		}
		return runCmd(t, "sync", "import", "--data-dir", data, stick)
	}
	if out := roundTrip(); !strings.Contains(out, "took key list 1: trusts 1 more keys") {
		t.Fatalf("sync import: %s", out)
	}
	if out := runCmd(t, "pack", "install", "--data-dir", data, pack); !strings.Contains(out, "installed mini 1.0.0") {
		t.Fatalf("install after the key list: %s", out)
	}
	if err := running.Library().Reload(); err != nil { // the box's reload loop, every few seconds
		t.Fatal(err)
	}
	if code, _ := boxGet(t, running, "/packs/mini/lessons/force"); code != 200 {
		t.Fatalf("the running box answers %d for the pack of the listed key", code)
	}
	if code, body := boxGet(t, running, "/readyz"); code != 200 {
		t.Fatalf("/readyz: %d\n%s", code, body)
	}

	// Revoked at the hub; the next stick takes it to the box.
	if out := runCmd(t, "hub", "keys", "revoke", "--data", hubDir, "--root-key", root, "--reason", "key leaked", publisher+".pub"); !strings.Contains(out, "key list 2") {
		t.Fatalf("hub keys revoke: %s", out)
	}
	for try := 1; try <= 2; try++ {
		out := roundTrip()
		if try == 1 && !strings.Contains(out, "revoked: packs signed only by it are no longer served") {
			t.Fatalf("sync import: %s", out)
		}
		if try == 2 && !strings.Contains(out, "key list 2 held already") {
			t.Fatalf("sync import again: %s", out)
		}
		if err := running.Library().Reload(); err != nil {
			t.Fatal(err)
		}
		if code, _ := boxGet(t, running, "/packs/mini/lessons/force"); code != 404 {
			t.Fatalf("try %d: the pack of a revoked key answers %d, want 404", try, code)
		}
		if code, body := boxGet(t, running, "/readyz"); code != 503 || !strings.Contains(body, "mini is installed but not served") || !strings.Contains(body, "key leaked") {
			t.Fatalf("try %d: /readyz answers %d, want 503 naming the pack and why:\n%s", try, code, body)
		}
	}
	if _, err := runCLI(t, "pack", "install", "--data-dir", data, pack); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("installing the revoked key's pack again: %v, want refused", err)
	}
}

// Online, without a restart: the operator lists a publisher's key at the
// hub (`stembox hub keys add`, beside the running hub) and publishes a
// pack signed by it; the running box takes the list at its next sync and
// serves the pack. Revoked, the pack stops being served at the next sync,
// and /readyz says why.
func TestKeyListOnlineReachesARunningBox(t *testing.T) {
	dir := t.TempDir()
	hubDir, data := filepath.Join(dir, "hub"), filepath.Join(dir, "box")
	keys := keygen(t, dir, "root", "publisher")
	root, publisher := keys[0], keys[1]
	h := hubtest.Start(t, hubDir, "", hub.Config{})
	tok := regexp.MustCompile(`(?m)^  (\S{20,})$`).FindStringSubmatch(runCmd(t, "hub", "add-school", "--data", hubDir, "--name", "School 4", "--region", "Sughd"))
	if _, err := box.TrustKeys(data, []string{root + ".pub"}); err != nil {
		t.Fatal(err)
	}
	b := runBoxConfig(t, box.Config{DataDir: data,
		Upstream: upstream.Config{HubURL: h.URL, EnrollToken: tok[1], Every: time.Hour, CatalogueEvery: time.Hour}})
	sync := func() error {
		t.Helper()
		b.Upstream().Poke() // the pull is due now
		return b.Upstream().Sync(context.Background())
	}

	runCmd(t, "hub", "keys", "add", "--data", hubDir, "--root-key", root, publisher+".pub")
	// The hub trusts the listed key to publish (no --trust needed).
	if out := runCmd(t, "hub", "publish", "--data", hubDir, "--require", "all", packAt(t, dir, publisher, "1.0.0")); !strings.Contains(out, "published") {
		t.Fatalf("hub publish: %s", out)
	}
	for try := 1; try <= 2; try++ {
		if err := sync(); err != nil {
			t.Fatalf("sync %d: %v", try, err)
		}
		if code, _ := boxGet(t, b, "/packs/mini/lessons/force"); code != 200 {
			t.Fatalf("sync %d: the pack signed by the listed key answers %d, want 200", try, code)
		}
	}
	runCmd(t, "hub", "keys", "revoke", "--data", hubDir, "--root-key", root, "--reason", "key leaked", publisher+".pub")
	for try := 1; try <= 2; try++ {
		sync() // a PullError: the pack is refused (the box's own loop, woken by the poke, may be the one to say it)
		st, _ := b.Upstream().Status(context.Background())
		if len(st.Packs) != 1 || !strings.Contains(st.Packs[0].Error, "revoked: key leaked") || st.Backlog != 0 {
			t.Fatalf("sync %d after the revocation: status %+v, want the pack refused as revoked and no backlog", try, st)
		}
		if code, _ := boxGet(t, b, "/packs/mini/lessons/force"); code != 404 {
			t.Fatalf("sync %d: the revoked key's pack answers %d, want 404", try, code)
		}
		if code, body := boxGet(t, b, "/readyz"); code != 503 || !strings.Contains(body, "mini is installed but not served") {
			t.Fatalf("sync %d: /readyz answers %d:\n%s", try, code, body)
		}
	}
}
