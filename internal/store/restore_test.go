package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mitstem/stembox/internal/store"
)

// A restore whose replaced database cannot be read (often why it is being
// replaced) goes on, says so, keeps that file aside untouched, and starts
// a new epoch, since the hub may hold events the backup lacks; a restore
// onto an empty data directory (a new SD card) does the same.
func TestRestoreOverDamagedOrMissingDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := mustOpenAt(t, filepath.Join(dir, "box.db"))
	for range 5 {
		if _, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true)); err != nil {
			t.Fatal(err)
		}
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := store.Backup(ctx, db.Path(), backup); err != nil {
		t.Fatal(err)
	}
	db.Close()

	path := filepath.Join(dir, "box.db")
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	garbage := []byte("this is not a database, and it stays as it is")
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := store.Restore(ctx, path, backup)
	if err != nil {
		t.Fatalf("restore over a damaged database: %v", err)
	}
	if res.Replaced.Err == nil || res.Epoch.Name == "" || res.Epoch.Base != 5 || res.Restored.Events != 5 {
		t.Errorf("restore over a damaged database = %+v; want the damage reported and a new epoch after 5", res)
	}
	if got, err := os.ReadFile(res.Aside); err != nil || string(got) != string(garbage) {
		t.Errorf("the damaged database kept aside holds %q (%v)", got, err)
	}
	restored := mustOpenAt(t, path)
	if e, err := restored.EpochOf(ctx, 6); err != nil || e.Name != res.Epoch.Name {
		t.Errorf("the restored box's next event goes up in epoch %+v (%v), want %s", e, err, res.Epoch.Name)
	}
	restored.Close()

	fresh := filepath.Join(t.TempDir(), "box.db")
	res, err = store.Restore(ctx, fresh, backup)
	if err != nil || res.Aside != "" || res.Epoch.Name == "" || res.Replaced.Err != nil {
		t.Errorf("restore onto a new card = %+v, %v; want a new epoch and nothing replaced", res, err)
	}
}

// A backup that holds every event of the database it replaces needs no
// new epoch, and keeps nothing apart.
func TestRestoreOfCurrentBackupKeepsEpoch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "box.db")
	db := mustOpenAt(t, path)
	if _, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true)); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := store.Backup(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	db.Close()
	res, err := store.Restore(ctx, path, backup)
	if err != nil || res.Epoch.Name != "" || res.Replaced.Events != 1 || res.Replaced.Salvaged != 0 || res.Replaced.InBackup != 1 {
		t.Errorf("restore of an up-to-date backup = %+v, %v; want no new epoch and nothing kept", res, err)
	}
}
