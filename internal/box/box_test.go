package box_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/logtest"
)

// mustRunBox opens and runs a box on port 0 with data in dataDir, building
// the packs under devPacks; it stops when the test ends.
func mustRunBox(t *testing.T, dataDir, devPacks string) (*box.Box, *logtest.Buffer) {
	t.Helper()
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	b, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: dataDir, DevPacks: devPacks, Lang: "en"}, logger)
	if err != nil {
		t.Fatalf("open box: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("box did not stop within 10 s of being cancelled")
		}
		b.Close()
	})
	return b, logs
}

func get(t *testing.T, b *box.Box, path string) (int, string) {
	t.Helper()
	return getLang(t, b, path, "")
}

// getLang fetches a page as a browser asking for lang would.
func getLang(t *testing.T, b *box.Box, path, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+b.Addr().String()+path, nil)
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "stembox_lang", Value: lang})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBoxBuildsDevPacksAndServes(t *testing.T) {
	data := t.TempDir()
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))

	b, logs := mustRunBox(t, data, packs)
	status, body := get(t, b, "/")
	if status != 200 || !strings.Contains(body, "Mini pack") {
		t.Fatalf("GET /: %d, want the catalogue with the mini pack:\n%.1000s", status, body)
	}
	if !strings.Contains(logs.String(), "pack built from source and installed") {
		t.Errorf("log lacks the build of the dev pack:\n%s", logs.String())
	}
	if _, err := os.Stat(box.DevKeyPath(data)); err != nil {
		t.Errorf("no dev key in the data dir: %v", err)
	}
	if status, _ := get(t, b, "/packs/mini/lessons/speed"); status != 200 {
		t.Errorf("lesson: %d", status)
	}
	if status, _ := get(t, b, "/healthz"); status != 200 {
		t.Errorf("healthz: %d", status)
	}
}

func mustPack(t *testing.T, b *box.Box) *content.Pack {
	t.Helper()
	p, ok := b.Library().Pack("mini")
	if !ok {
		t.Fatal("pack mini is not served")
	}
	return p
}

func TestRestartDoesNotRebuildAndKeepsAnswers(t *testing.T) {
	data := t.TempDir()
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: data, DevPacks: packs, Lang: "en"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := first.Library().Pack("mini")
	firstName := p.Name
	boxID, _ := first.DB().BoxID(context.Background())
	first.Close()

	b, logs := mustRunBox(t, data, packs)
	if got := mustPack(t, b).Name; got != firstName {
		t.Errorf("after a restart the pack is %s, want the same install %s", got, firstName)
	}
	if strings.Contains(logs.String(), "pack built from source") {
		t.Error("an unchanged pack source was built again at restart")
	}
	if id, _ := b.DB().BoxID(context.Background()); id != boxID {
		t.Errorf("box id changed across a restart: %s, then %s", boxID, id)
	}
}

func TestBrokenPackSourceDoesNotStopTheBox(t *testing.T) {
	data := t.TempDir()
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "broken"))
	os.WriteFile(filepath.Join(packs, "broken", "pack.yaml"), []byte("id: broken\nversion: 1.0\n"), 0o644)

	b, logs := mustRunBox(t, data, packs)
	if _, ok := b.Library().Pack("mini"); !ok {
		t.Error("the good pack is not served next to a broken one")
	}
	if !strings.Contains(logs.String(), "pack does not build") || !strings.Contains(logs.String(), "broken") {
		t.Errorf("log does not say which pack failed:\n%s", logs.String())
	}
}

func TestOpenRefusesBusyPort(t *testing.T) {
	b, _ := mustRunBox(t, t.TempDir(), "")
	_, err := box.Open(context.Background(), box.Config{Addr: b.Addr().String(), DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("open on a busy port: err = %v, want advice to choose another port", err)
	}
}
