package content_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// Every kind of signed-but-broken update is refused by verify and by
// install, twice, and the version served before stays served, also after a
// reload and a restart.
func TestBrokenUpdatesAreRefused(t *testing.T) {
	s := mustSigner(t)
	kr := content.NewKeyring(s.Public())
	good := buildPack(t, version(t, "1.0.0", "good"), s)
	for _, kind := range contenttest.BrokenKinds() {
		t.Run(kind.Name, func(t *testing.T) {
			broken := contenttest.Break(t, good, s, "2.0.0", kind)
			_, err := content.VerifyArchive(bytes.NewReader(broken), int64(len(broken)), kr, content.DefaultLimits)
			if err == nil || !strings.Contains(err.Error(), kind.Want) {
				t.Fatalf("verify: err = %v, want %q", err, kind.Want)
			}
			dir := t.TempDir()
			lib, err := content.OpenLibrary(dir, kr, content.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := install(t, lib, good, content.InstallOptions{}); err != nil {
				t.Fatal(err)
			}
			current, _ := os.ReadFile(filepath.Join(dir, "mini", "current"))
			for try := 1; try <= 2; try++ {
				if _, err := install(t, lib, broken, content.InstallOptions{}); err == nil || !strings.Contains(err.Error(), kind.Want) {
					t.Fatalf("install %d: err = %v, want %q", try, err, kind.Want)
				}
				if now, _ := os.ReadFile(filepath.Join(dir, "mini", "current")); !bytes.Equal(now, current) {
					t.Fatalf("install %d moved current from %q to %q", try, current, now)
				}
				if err := lib.Reload(); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(lessonText(t, lib), "good") {
					t.Fatalf("after refused install %d the old version is not served", try)
				}
			}
			restarted, err := content.OpenLibrary(dir, kr, content.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := restarted.Pack("mini"); p == nil || p.Manifest.Version != "1.0.0" {
				t.Fatalf("after a restart: %v, want 1.0.0 served", p)
			}
			if !kind.Anonymous {
				if p := restarted.Problems()["mini"]; p == nil || !strings.Contains(p.Error(), kind.Want) {
					t.Errorf("problem after a restart = %v, want %q", p, kind.Want)
				}
			}
		})
	}
}

// A current version that does not load (installed by an older stembox, or
// damaged on disk) never takes the pack offline: the running library keeps
// what it serves, and a restarted one serves the newest version that loads.
func TestBrokenCurrentKeepsServingThePrevious(t *testing.T) {
	s := mustSigner(t)
	kr := content.NewKeyring(s.Public())
	dir := t.TempDir()
	running, _ := content.OpenLibrary(dir, kr, content.DefaultLimits)
	if _, err := install(t, running, buildPack(t, version(t, "1.0.0", "old"), s), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	// Another process (stembox pack install) installs 1.1.0, then its
	// exercise set is damaged on disk before the running box reloads.
	cli, _ := content.OpenLibrary(dir, kr, content.DefaultLimits)
	res, err := install(t, cli, buildPack(t, version(t, "1.1.0", "new"), s), content.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(res.Pack.Dir, "exercises", "speed.json")
	st, _ := os.Stat(set)
	os.WriteFile(set, bytes.Repeat([]byte("x"), int(st.Size())), 0o644)
	for range 2 {
		if err := running.Reload(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(lessonText(t, running), "old") {
			t.Fatal("the running library dropped the version it served")
		}
		if p := running.Problems()["mini"]; p == nil || !strings.Contains(p.Error(), "speed.json is not a valid exercise set") {
			t.Errorf("problem = %v, want the damaged set named", p)
		}
	}
	restarted, _ := content.OpenLibrary(dir, kr, content.DefaultLimits)
	if !strings.Contains(lessonText(t, restarted), "old") {
		t.Error("after a restart the version that loads is not served")
	}
}

// Reloads and installs at the same time (the box's reload loop, a peer
// copy) never serve a version that does not load, and race on nothing.
func TestReloadWhileInstalling(t *testing.T) {
	s := mustSigner(t)
	kr := content.NewKeyring(s.Public())
	good := buildPack(t, version(t, "1.0.0", "good"), s)
	broken := contenttest.Break(t, good, s, "2.0.0", contenttest.BrokenKinds()[0])
	lib, _ := content.OpenLibrary(t.TempDir(), kr, content.DefaultLimits)
	if _, err := install(t, lib, good, content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			lib.Reload()
		}
	}()
	versions := [][]byte{buildPack(t, version(t, "1.1.0", "good"), s), good}
	for i := range 20 {
		if _, err := install(t, lib, broken, content.InstallOptions{}); err == nil {
			t.Fatal("the broken pack installed")
		}
		if _, err := install(t, lib, versions[i%2], content.InstallOptions{Rollback: true}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if !strings.Contains(lessonText(t, lib), "good") {
		t.Error("the good version is not served")
	}
}
