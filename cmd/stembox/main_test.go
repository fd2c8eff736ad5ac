package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestPackCommands(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if out, err := runCLI(t, "pack", "keygen", "--out", key); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	out, err := runCLI(t, "pack", "build", "--key", key, "--out", dir, "../../internal/content/testdata/mini")
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	archive := filepath.Join(dir, "mini-1.0.0.stempack")
	if !strings.Contains(out, archive) || !strings.Contains(out, "2 lessons, 7 exercises") {
		t.Errorf("build output = %q", out)
	}
	if out, err := runCLI(t, "pack", "verify", "--trust", key+".pub", archive); err != nil || !strings.Contains(out, "ok, mini 1.0.0") {
		t.Errorf("verify: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "pack", "inspect", archive); err != nil || !strings.Contains(out, "lesson 1") || !strings.Contains(out, "speed: 5 items") {
		t.Errorf("inspect: %v\n%s", err, out)
	}

	// Another key's signature is refused by verify and install.
	other := filepath.Join(dir, "other")
	runCLI(t, "pack", "keygen", "--out", other)
	if out, err := runCLI(t, "pack", "verify", "--trust", other+".pub", archive); err == nil || !strings.Contains(out, "REFUSED") {
		t.Errorf("verify with the wrong key: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if _, err := runCLI(t, "pack", "install", "--data-dir", data, "--trust", other+".pub", archive); err == nil || !strings.Contains(err.Error(), "does not trust") {
		t.Errorf("install signed by an untrusted key: err = %v", err)
	}
	out, err = runCLI(t, "pack", "install", "--data-dir", data, "--trust", key+".pub", archive)
	if err != nil || !strings.Contains(out, "installed mini 1.0.0") {
		t.Errorf("install: %v\n%s", err, out)
	}
	out, _ = runCLI(t, "pack", "install", "--data-dir", data, "--trust", key+".pub", archive)
	if !strings.Contains(out, "already installed") {
		t.Errorf("second install: %s", out)
	}

	// Re-signing with another key makes it verify with that key.
	resigned := filepath.Join(dir, "resigned")
	os.MkdirAll(resigned, 0o755)
	if out, err := runCLI(t, "pack", "sign", "--key", other, "--out", resigned, archive); err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "pack", "verify", "--trust", other+".pub", filepath.Join(resigned, "mini-1.0.0.stempack")); err != nil {
		t.Errorf("verify the re-signed pack: %v\n%s", err, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"pack"},
		{"pack", "build", "x"},
		{"pack", "keygen"},
		{"serve", "--lang", "fr"},
		{"serve", "--no-such-flag"},
		{"serve", "extra"},
	} {
		_, err := runCLI(t, args...)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("stembox %v: err = %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("STEMBOX_LANG", "xx")
	if _, err := runCLI(t, "serve"); err == nil || !strings.Contains(err.Error(), `"xx"`) {
		t.Errorf("STEMBOX_LANG=xx: err = %v, want it refused like --lang xx", err)
	}
	if got := envName("data-dir"); got != "STEMBOX_DATA_DIR" {
		t.Errorf("envName(data-dir) = %s", got)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "stembox ") {
		t.Errorf("version: %q, %v", out, err)
	}
}
