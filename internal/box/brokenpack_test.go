package box_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// A signed pack a box cannot serve, installed beside a running box as
// `stembox pack install` does, is refused, and the running box goes on
// serving the version it served, over HTTP, after reloading its library.
func TestRunningBoxKeepsServingWhenAnUpdateIsBroken(t *testing.T) {
	data := t.TempDir()
	s := contenttest.Signer(t)
	if err := content.WriteKeyFile(filepath.Join(data, "trusted-keys", "test.pub"), s.Public()); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "mini")
	contenttest.CopyTree(t, contenttest.MiniDir(), src)
	os.WriteFile(filepath.Join(src, "lessons", "force.en.md"), []byte("# Force\n\nthe good version\n"), 0o644)
	good := contenttest.Build(t, src, s)
	cliInstall := func(archive []byte) error {
		lib, err := box.OpenLibrary(data, nil) // what `stembox pack install` opens
		if err != nil {
			return err
		}
		f := filepath.Join(t.TempDir(), "pack.stempack")
		os.WriteFile(f, archive, 0o644)
		_, err = lib.InstallFile(f, content.InstallOptions{})
		return err
	}
	if err := cliInstall(good); err != nil {
		t.Fatal(err)
	}
	b, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: data, Lang: "en", ReloadEvery: time.Hour},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done; b.Close() }()

	served := func(when string) {
		t.Helper()
		if code, body := get(t, b, "/packs/mini/lessons/force"); code != 200 || !strings.Contains(body, "the good version") {
			t.Fatalf("%s: lesson answers %d, want 200 with the good version", when, code)
		}
		if code, _ := get(t, b, "/packs/mini/sets/speed"); code != 200 {
			t.Fatalf("%s: exercise set answers %d, want 200", when, code)
		}
	}
	served("before any update")
	for _, kind := range contenttest.BrokenKinds() {
		broken := contenttest.Break(t, good, s, "2.0.0", kind)
		for try := 1; try <= 2; try++ {
			if err := cliInstall(broken); err == nil || !strings.Contains(err.Error(), kind.Want) {
				t.Fatalf("%s: install %d: err = %v, want %q", kind.Name, try, err, kind.Want)
			}
			if err := b.Library().Reload(); err != nil {
				t.Fatal(err)
			}
			served(kind.Name)
			if p := b.Library().Problems()["mini"]; !kind.Anonymous && (p == nil || !strings.Contains(p.Error(), kind.Want)) {
				t.Errorf("%s: the box's problem = %v, want %q", kind.Name, p, kind.Want)
			}
		}
	}
}
