package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// publisherMini returns the mini pack at version, built by a publisher
// (not from this box's sources) and signed by s.
func publisherMini(t *testing.T, version string, s *content.Signer) []byte {
	t.Helper()
	archive, _ := contenttest.MiniPack(t)
	m := contenttest.Members(t, archive)
	var man map[string]any
	if err := json.Unmarshal(m["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	man["version"], man["source"] = version, "" // built elsewhere
	m["manifest.json"], _ = json.Marshal(man)
	return contenttest.Repack(t, m, s)
}

// With --dev-packs (the default), a restart never puts the sample pack
// back over a newer version that came from a hub, a peer or an admin: the
// newer one stays served, the very same install (so nothing is downloaded
// again), twice over.
func TestDevPacksKeepANewerPackFromElsewhere(t *testing.T) {
	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ := openBox(t, data, packs)
	if got := mustPack(t, b).Manifest.Version; got != "1.0.0" {
		t.Fatalf("the dev pack is %s, want 1.0.0", got)
	}
	// The hub's 1.1.0, by a publisher this box trusts.
	pub := contenttest.Signer(t)
	keyFile := filepath.Join(t.TempDir(), "publisher")
	if err := pub.WriteKeyFiles(keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := box.TrustKeys(data, []string{keyFile + ".pub"}); err != nil {
		t.Fatal(err)
	}
	b.Library().Reload() // as the running box does every few seconds
	newer := publisherMini(t, "1.1.0", pub)
	if _, err := b.Library().Install(bytes.NewReader(newer), int64(len(newer)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	want := mustPack(t, b).Name
	b.Close()
	for restart := 1; restart <= 2; restart++ {
		b, logs := openBox(t, data, packs)
		if got := mustPack(t, b); got.Name != want || got.Manifest.Version != "1.1.0" {
			t.Errorf("restart %d: serves %s, want the hub's %s still", restart, got.Name, want)
		}
		if strings.Contains(logs.String(), "pack built from source") || strings.Contains(logs.String(), "replaced") {
			t.Errorf("restart %d: the sample pack was built over the newer one:\n%s", restart, logs.String())
		}
		if !strings.Contains(logs.String(), "not building the sample pack") {
			t.Errorf("restart %d: the log does not say the installed pack was kept:\n%s", restart, logs.String())
		}
		b.Close()
	}
}

// The box's own build is updated from edited source of the same version,
// but never taken back to an older version.
func TestDevPacksRebuildTheSameVersionButNeverGoBack(t *testing.T) {
	data, packs := t.TempDir(), t.TempDir()
	src := filepath.Join(packs, "mini")
	contenttest.CopyTree(t, contenttest.MiniDir(), src)
	edit := func(version, marker string) {
		y, _ := os.ReadFile(filepath.Join(contenttest.MiniDir(), "pack.yaml"))
		os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(y, []byte("version: 1.0.0"), []byte("version: "+version), 1), 0o644)
		os.WriteFile(filepath.Join(src, "lessons", "force.en.md"), []byte("# Force\n\n"+marker+"\n"), 0o644)
	}
	edit("1.1.0", "first")
	b, _ := openBox(t, data, packs)
	b.Close()
	edit("1.1.0", "edited")
	b, _ = openBox(t, data, packs)
	if html, _ := mustPack(t, b).LessonHTML("force", "en"); mustPack(t, b).Manifest.Version != "1.1.0" || !strings.Contains(string(html), "edited") {
		t.Errorf("after editing the source of 1.1.0 the box serves %s: %.200s", mustPack(t, b).Name, html)
	}
	want := mustPack(t, b).Name
	b.Close()
	edit("1.0.0", "older")
	b, logs := openBox(t, data, packs)
	defer b.Close()
	if got := mustPack(t, b).Name; got != want {
		t.Errorf("after the source went back to 1.0.0 the box serves %s, want %s kept", got, want)
	}
	if !strings.Contains(logs.String(), "kept newer 1.1.0") {
		t.Errorf("the log does not say the newer version was kept:\n%s", logs.String())
	}
}

// openBox opens (but does not run) a box with dev packs; the caller closes it.
func openBox(t *testing.T, data, packs string) (*box.Box, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	b, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: data, DevPacks: packs, Lang: "en"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	return b, &logs
}
