package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/store"
)

// A backup taken while answers are being written is consistent, opens as a
// database, and holds every answer acknowledged before it began.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := mustOpenAt(t, filepath.Join(dir, "box.db"))
	var before []string
	for i := range 50 {
		ev, err := db.RecordAnswer(ctx, answer("guest:a", fmt.Sprintf("q%d", i%7), i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, ev.ID)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.RecordAnswer(ctx, answer(fmt.Sprintf("guest:w%d", w), "q1", true)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	dest := filepath.Join(dir, "backup.db")
	info, err := store.Backup(ctx, db.Path(), dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != info.LastSeq || info.Events < 50 {
		t.Errorf("backup holds %d events up to seq %d; want a gap-free sequence of at least 50", info.Events, info.LastSeq)
	}
	if info.Schema != store.SchemaVersion() || info.Bytes == 0 || info.Path != dest {
		t.Errorf("backup info %+v", info)
	}
	if _, err := os.Stat(dest + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file was left behind: %v", err)
	}

	copyDB := mustOpenAt(t, dest)
	for _, id := range before {
		if _, _, err := copyDB.AnswerOf(ctx, "guest:a", id); err != nil {
			t.Fatalf("answer %s missing from the backup: %v", id, err)
		}
	}
	if _, err := store.Backup(ctx, db.Path(), dest); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: err = %v, want a refusal", err)
	}
}

func TestVerifyBackupRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a database\n", 500)), 0o600)
	if _, err := store.VerifyBackup(ctx, text); err == nil {
		t.Error("a text file verified as a backup")
	}
	path := filepath.Join(dir, "box.db")
	db := mustOpenAt(t, path)
	for i := range 300 {
		if _, err := db.RecordAnswer(ctx, answer("guest:a", "q"+strings.Repeat("x", i%50), true)); err != nil {
			t.Fatal(err)
		}
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := store.Backup(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	corruptPages(t, backup)
	if _, err := store.VerifyBackup(ctx, backup); err == nil {
		t.Error("a damaged backup verified")
	}
	if _, err := os.Stat(backup + "-shm"); !errors.Is(err, os.ErrNotExist) {
		t.Error("verifying a backup made files next to it")
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "stembox.db")
	db := mustOpenAt(t, path)
	kept, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true))
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := store.Backup(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	later, err := db.RecordAnswer(ctx, answer("guest:a", "q2", true))
	if err != nil {
		t.Fatal(err)
	}

	// A running box holds the lock: restore refuses and changes nothing.
	lock, err := store.Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Restore(ctx, path, backup); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("restore under a running box: err = %v, want ErrLocked", err)
	}
	if _, err := store.Acquire(path); !errors.Is(err, store.ErrLocked) {
		t.Errorf("a second lock: err = %v, want ErrLocked", err)
	}
	lock.Release()
	db.Close()

	// A damaged file is refused before anything is touched.
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, []byte("SQLite format 3\x00 but not really"), 0o600)
	if _, err := store.Restore(ctx, path, bad); err == nil {
		t.Fatal("restore of a damaged file succeeded")
	}

	res, err := store.Restore(ctx, path, backup)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restored.Events != 1 || res.Aside == "" {
		t.Errorf("restore result %+v, want 1 event and the old database kept aside", res)
	}
	restored := mustOpenAt(t, path)
	if _, _, err := restored.AnswerOf(ctx, "guest:a", kept.ID); err != nil {
		t.Errorf("the backed-up answer is missing after the restore: %v", err)
	}
	if _, _, err := restored.AnswerOf(ctx, "guest:a", later.ID); err == nil {
		t.Error("an answer made after the backup is present after the restore")
	}
	old := mustOpenAt(t, res.Aside)
	if _, _, err := old.AnswerOf(ctx, "guest:a", later.ID); err != nil {
		t.Errorf("the database kept aside lacks its last answer: %v", err)
	}
}
