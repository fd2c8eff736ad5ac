package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content/contenttest"
)

// TestPackWithBigApp: a pack carrying a 5 MB single-file app (a PhET-size
// simulation) builds, verifies and installs with the command line.
func TestPackWithBigApp(t *testing.T) {
	src, _ := contenttest.BigAppSource(t, 5<<20)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if out, err := runCLI(t, "pack", "keygen", "--out", key); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "pack", "build", "--key", key, "--out", dir, src); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	archive := filepath.Join(dir, "mini-1.0.0.stempack")
	if out, err := runCLI(t, "pack", "verify", "--trust", key+".pub", archive); err != nil || !strings.Contains(out, "ok, mini 1.0.0") {
		t.Errorf("verify: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "pack", "inspect", archive); err != nil || !strings.Contains(out, "big: App big (apps/big.html, 5.0 MB)") {
		t.Errorf("inspect: %v\n%s", err, out)
	}
	out, err := runCLI(t, "pack", "install", "--data-dir", filepath.Join(dir, "data"), "--trust", key+".pub", archive)
	if err != nil || !strings.Contains(out, "installed mini 1.0.0") {
		t.Errorf("install: %v\n%s", err, out)
	}
}
