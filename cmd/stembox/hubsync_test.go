package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/store"
)

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("stembox %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// TestSneakernetCommands walks the USB round trip on the command line: a
// school on the hub, a box enrolled by credential file, a bundle exported,
// imported on the hub, and its acknowledgement applied on the box.
func TestSneakernetCommands(t *testing.T) {
	hubDir, boxDir, stick := t.TempDir(), t.TempDir(), t.TempDir()
	out := runCmd(t, "hub", "add-school", "--data", hubDir, "--name", "School 3", "--region", "GBAO")
	m := regexp.MustCompile(`(?m)^  (\S{20,})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add-school printed no token:\n%s", out)
	}
	cred := filepath.Join(stick, "box.credential")
	runCmd(t, "hub", "enroll-file", "--data", hubDir, "--token", m[1], "--out", cred)
	if out := runCmd(t, "sync", "enroll", "--data-dir", boxDir, "--file", cred); !strings.Contains(out, "School 3") {
		t.Fatalf("sync enroll: %s", out)
	}
	db, err := store.Open(context.Background(), box.DBPath(boxDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateClass(context.Background(), "user:t", "7A", 7, ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out := runCmd(t, "sync", "status", "--data-dir", boxDir); !strings.Contains(out, "1 waiting") || !strings.Contains(out, "USB stick only") {
		t.Fatalf("sync status before export:\n%s", out)
	}
	runCmd(t, "sync", "export", "--data-dir", boxDir, "--out", stick)
	bundles, _ := filepath.Glob(filepath.Join(stick, "*.stembundle"))
	if len(bundles) != 1 {
		t.Fatalf("export wrote %v", bundles)
	}
	back := t.TempDir()
	if out := runCmd(t, "hub", "import", "--data", hubDir, "--out", back, bundles[0]); !strings.Contains(out, "1 new events") {
		t.Fatalf("hub import: %s", out)
	}
	if out := runCmd(t, "hub", "import", "--data", hubDir, "--out", back, bundles[0]); !strings.Contains(out, "nothing changed") {
		t.Fatalf("hub import again: %s", out)
	}
	if out := runCmd(t, "sync", "import", "--data-dir", boxDir, back); !strings.Contains(out, "up to 1") {
		t.Fatalf("sync import: %s", out)
	}
	if out := runCmd(t, "sync", "status", "--data-dir", boxDir); !strings.Contains(out, "0 waiting") {
		t.Fatalf("sync status after import:\n%s", out)
	}
	if out := runCmd(t, "hub", "report", "--data", hubDir, "--by", "school"); !strings.HasPrefix(out, "school,school_id,female_learners") {
		t.Fatalf("hub report: %s", out)
	}
	if out := runCmd(t, "hub", "boxes", "--data", hubDir); !strings.Contains(out, "events up to 1") {
		t.Fatalf("hub boxes: %s", out)
	}
	// A bundle altered on the way is refused.
	b, _ := os.ReadFile(bundles[0])
	b[len(b)-5] ^= 1
	os.WriteFile(bundles[0], b, 0o644)
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"hub", "import", "--data", hubDir, "--out", back, bundles[0]}, &o, &e); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("importing an altered bundle: %v", err)
	}
}

func TestHubFlagsReadTheirOwnEnvironment(t *testing.T) {
	t.Setenv("STEMBOX_ADDR", ":1")
	t.Setenv("STEMBOX_HUB_DATA", t.TempDir())
	out := runCmd(t, "hub", "add-operator", "--name", "Dilnoza")
	if !strings.HasPrefix(out, "sbo1.") {
		t.Fatalf("add-operator printed %q", out)
	}
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"hub", "nonsense"}, &o, &e); exitCode(err) != 2 {
		t.Errorf("an unknown hub command: %v, want a usage error", err)
	}
	if err := run(context.Background(), []string{"sync", "export", "--data-dir", t.TempDir()}, &o, &e); exitCode(err) != 2 {
		t.Errorf("sync export without --out: %v, want a usage error", err)
	}
}
