package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/store"
)

// stembox admin backup copies a running box's database; restore refuses
// while the box runs, then brings the copy back and keeps the old one.
func TestAdminBackupRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: data}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := b.DB().RecordAnswer(ctx, event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: "q1"})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "monday.db")
	out, err := runCLI(t, "admin", "backup", "--data-dir", data, "--out", backup)
	if err != nil || !strings.Contains(out, "backup written to "+backup+": 1 events") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "admin", "backup", "--data-dir", data, "--out", backup); err == nil {
		t.Error("a second backup over the first succeeded")
	}
	later, err := b.DB().RecordAnswer(ctx, event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: "q2"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "admin", "restore", "--data-dir", data, backup); err == nil || !strings.Contains(err.Error(), "running stembox") {
		t.Fatalf("restore under a running box: %v\n%s", err, out)
	}
	b.Close()

	out, err = runCLI(t, "admin", "restore", "--data-dir", data, backup)
	if err != nil || !strings.Contains(out, "restored "+backup+": 1 events") || !strings.Contains(out, "before-restore-") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	// It says what it replaced, and keeps the answer the backup lacks.
	for _, want := range []string{"replaces a database of 2 events (last seq 2): the hub had acknowledged them up to seq 0; 2 never reached the hub",
		"1 of those are in the backup; 1 are not, and are kept to be sent", "under a new epoch"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore said\n%s\nwithout %q", out, want)
		}
	}
	db, err := store.Open(ctx, box.DBPath(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Event(ctx, kept.ID); err != nil {
		t.Errorf("the backed-up answer is missing: %v", err)
	}
	if _, err := db.Event(ctx, later.ID); err == nil {
		t.Error("an answer newer than the backup survived the restore")
	}
	if n, err := db.SalvagePending(ctx); err != nil || n != 1 {
		t.Errorf("%d events kept for the hub (%v), want the answer newer than the backup", n, err)
	}
	entries, _ := os.ReadDir(data)
	var aside bool
	for _, e := range entries {
		aside = aside || strings.HasPrefix(e.Name(), "stembox.db.before-restore-")
	}
	if !aside {
		t.Error("the replaced database was not kept")
	}
	if out, err := runCLI(t, "admin", "snapshots", "--data-dir", data); err != nil || !strings.Contains(out, "no snapshots") {
		t.Errorf("snapshots: %v\n%s", err, out)
	}
}

func TestAdminUsage(t *testing.T) {
	for _, args := range [][]string{{"admin"}, {"admin", "frobnicate"}, {"admin", "restore"}, {"admin", "backup", "extra"}} {
		if _, err := runCLI(t, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("stembox %v: err = %v, want a usage error", args, err)
		}
	}
	if _, err := runCLI(t, "admin", "restore", "--data-dir", t.TempDir(), filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("restore of a missing file succeeded")
	}
}
