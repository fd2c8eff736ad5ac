package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// What `pack install` installs, the running box serves: the CLI checks the
// box's own trusted keys, and --trust makes the box trust a key for good.
func TestPackInstallAndTheRunningBoxAgreeOnTrust(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	first, other := filepath.Join(dir, "first"), filepath.Join(dir, "other")
	for _, k := range []string{first, other} {
		if out, err := runCLI(t, "pack", "keygen", "--out", k); err != nil {
			t.Fatalf("keygen: %v\n%s", err, out)
		}
	}
	v1 := packAt(t, dir, first, "1.0.0")
	v2 := packAt(t, dir, other, "1.1.0")
	if out, err := runCLI(t, "pack", "install", "--data-dir", data, "--trust", first+".pub", v1); err != nil {
		t.Fatalf("install 1.0.0: %v\n%s", err, out)
	}
	running, err := box.OpenLibrary(data, nil) // a box started with no --trust
	if err != nil {
		t.Fatal(err)
	}
	// Without --trust, a key the box does not trust is refused by the CLI.
	if _, err := runCLI(t, "pack", "install", "--data-dir", data, v2); err == nil || !strings.Contains(err.Error(), "does not trust") {
		t.Fatalf("install by an untrusted key: err = %v, want refused", err)
	}
	running.Reload()
	if p, _ := running.Pack("mini"); p == nil || p.Manifest.Version != "1.0.0" {
		t.Fatalf("after a refused install the box serves %v, want 1.0.0", p)
	}
	// With --trust, the key is the box's too: the running box serves it.
	out, err := runCLI(t, "pack", "install", "--data-dir", data, "--trust", other+".pub", v2)
	if err != nil || !strings.Contains(out, "now trusts") || !strings.Contains(out, "installed mini 1.1.0") {
		t.Fatalf("install --trust: %v\n%s", err, out)
	}
	if err := running.Reload(); err != nil {
		t.Fatal(err)
	}
	if p, _ := running.Pack("mini"); p == nil || p.Manifest.Version != "1.1.0" {
		t.Fatalf("the running box serves %v after install --trust, want 1.1.0 (problems %v)", p, running.Problems())
	}
}

func packAt(t *testing.T, dir, key, version string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "mini")
	contenttest.CopyTree(t, contenttest.MiniDir(), src)
	y, _ := os.ReadFile(filepath.Join(src, "pack.yaml"))
	os.WriteFile(filepath.Join(src, "pack.yaml"), []byte(strings.Replace(string(y), "version: 1.0.0", "version: "+version, 1)), 0o644)
	out := filepath.Join(dir, version)
	os.MkdirAll(out, 0o755)
	if o, err := runCLI(t, "pack", "build", "--key", key, "--out", out, src); err != nil {
		t.Fatalf("build: %v\n%s", err, o)
	}
	return filepath.Join(out, content.ArchiveName("mini", version))
}

// `pack verify` refuses every kind of pack a box could not load, naming
// what is wrong.
func TestPackVerifyRefusesWhatABoxCannotLoad(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if out, err := runCLI(t, "pack", "keygen", "--out", key); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	s, err := content.LoadSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(packAt(t, dir, key, "1.0.0"))
	for _, kind := range contenttest.BrokenKinds() {
		f := filepath.Join(dir, "broken.stempack")
		os.WriteFile(f, contenttest.Break(t, good, s, "2.0.0", kind), 0o644)
		out, err := runCLI(t, "pack", "verify", "--trust", key+".pub", f)
		if err == nil || !strings.Contains(out, "REFUSED") || !strings.Contains(out, kind.Want) {
			t.Errorf("%s: verify: %v\n%s\nwant REFUSED with %q", kind.Name, err, out, kind.Want)
		}
	}
}

// `pack install` never takes a box back unless told to with --rollback.
func TestPackInstallRefusesADowngradeUnlessRollback(t *testing.T) {
	dir := t.TempDir()
	data, key := filepath.Join(dir, "data"), filepath.Join(dir, "key")
	if out, err := runCLI(t, "pack", "keygen", "--out", key); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	v1, v2 := packAt(t, dir, key, "1.0.0"), packAt(t, dir, key, "1.1.0")
	if out, err := runCLI(t, "pack", "install", "--data-dir", data, "--trust", key+".pub", v2); err != nil {
		t.Fatalf("install 1.1.0: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "pack", "install", "--data-dir", data, v1); err == nil || !strings.Contains(err.Error(), "older than the installed 1.1.0") {
		t.Fatalf("install 1.0.0 over 1.1.0: err = %v, want refused as older", err)
	}
	lib, _ := box.OpenLibrary(data, nil)
	if p, _ := lib.Pack("mini"); p == nil || p.Manifest.Version != "1.1.0" {
		t.Fatalf("after a refused downgrade the box serves %v, want 1.1.0", p)
	}
	out, err := runCLI(t, "pack", "install", "--data-dir", data, "--rollback", v1)
	if err != nil || !strings.Contains(out, "installed mini 1.0.0 (replacing 1.1.0)") {
		t.Fatalf("install --rollback: %v\n%s", err, out)
	}
	lib.Reload()
	if p, _ := lib.Pack("mini"); p == nil || p.Manifest.Version != "1.0.0" {
		t.Errorf("after --rollback the box serves %v, want 1.0.0", p)
	}
}

// `sync import --trust` trusts the key as `pack install --trust` does: a
// running box serves the pack it installed, and never loses one it served.
func TestSyncImportTrustsLikePackInstall(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	first, other := filepath.Join(dir, "first"), filepath.Join(dir, "other")
	for _, k := range []string{first, other} {
		if out, err := runCLI(t, "pack", "keygen", "--out", k); err != nil {
			t.Fatalf("keygen: %v\n%s", err, out)
		}
	}
	if out, err := runCLI(t, "pack", "install", "--data-dir", data, "--trust", first+".pub", packAt(t, dir, first, "1.0.0")); err != nil {
		t.Fatalf("install 1.0.0: %v\n%s", err, out)
	}
	running, err := box.OpenLibrary(data, nil) // a box started with no --trust
	if err != nil {
		t.Fatal(err)
	}
	stick := filepath.Join(dir, "stick")
	os.MkdirAll(stick, 0o755)
	v2 := packAt(t, dir, other, "1.1.0")
	os.Rename(v2, filepath.Join(stick, filepath.Base(v2)))
	out, err := runCLI(t, "sync", "import", "--data-dir", data, "--trust", other+".pub", stick)
	if err != nil || !strings.Contains(out, "now trusts") || !strings.Contains(out, "installed mini 1.1.0") {
		t.Fatalf("sync import --trust: %v\n%s", err, out)
	}
	for i := 0; i < 2; i++ { // the box reloads every few seconds
		if err := running.Reload(); err != nil {
			t.Fatal(err)
		}
		if p, _ := running.Pack("mini"); p == nil || p.Manifest.Version != "1.1.0" {
			t.Fatalf("the running box serves %v after sync import --trust, want 1.1.0 (problems %v)", p, running.Problems())
		}
	}
}
