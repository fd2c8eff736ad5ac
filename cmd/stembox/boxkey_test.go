package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// stembox admin key shows the box's own key as the admin pages do, and the
// other boxes' keys it trusts.
func TestAdminKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, err := runCLI(t, "admin", "key", "--data-dir", data); err == nil || !strings.Contains(err.Error(), "no key yet") {
		t.Fatalf("admin key of a box never started: %v", err)
	}
	b, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: data}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	other := contenttest.Signer(t)
	if err := b.Library().Keys().TrustBox(content.BoxKey{Key: other.Public(), BoxID: "box-7", Name: "Room 7"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	k, err := box.OwnKey(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "admin", "key", "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fingerprint: " + content.Fingerprint(k), k.String(), content.Namespace(k.ID),
		"Room 7", "box-7", content.Fingerprint(other.Public())} {
		if !strings.Contains(out, want) {
			t.Errorf("admin key lacks %q:\n%s", want, out)
		}
	}
}
