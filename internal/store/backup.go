package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mitstem/stembox/internal/durable"
)

// BackupInfo describes a backup file.
type BackupInfo struct {
	Path    string
	Bytes   int64
	Schema  int   // its schema version
	Events  int64 // how many events it holds
	LastSeq int64 // its highest event sequence number
}

// Backup writes a consistent copy of the database at src to dest while the
// database stays in use: VACUUM INTO reads one snapshot of the database (a
// WAL read transaction, which never blocks the box's writes) and writes a
// compact new file. The copy is written next to dest, synced, checked, and
// only then renamed to dest, so dest is never half a backup. It refuses to
// overwrite dest.
func Backup(ctx context.Context, src, dest string) (BackupInfo, error) {
	if _, err := os.Stat(src); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %s already exists; choose another name", dest)
	}
	partial := dest + ".partial"
	os.Remove(partial) // left by a backup that was interrupted
	err := vacuumInto(ctx, src, partial)
	if err == nil {
		err = syncFile(partial)
	}
	var info BackupInfo
	if err == nil {
		info, err = VerifyBackup(ctx, partial)
	}
	if err == nil {
		err = os.Rename(partial, dest)
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(dest))
	}
	if err != nil {
		os.Remove(partial)
		return BackupInfo{}, fmt.Errorf("store: backup of %s: %w", src, describe(err))
	}
	info.Path = dest
	return info, nil
}

func vacuumInto(ctx context.Context, src, dest string) error {
	// mode=ro: the backup never writes to the database it copies.
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: src}).EscapedPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer func() {
		db.Close()
		matchOwner(src, src+"-wal", src+"-shm")
	}()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("vacuum into %s: %w", dest, err)
	}
	return nil
}

// VerifyBackup checks that the file at path is a sound stembox database this
// binary can use: it passes PRAGMA integrity_check and its schema is not
// newer than this binary knows. The file is opened as immutable, so checking
// it changes nothing (and makes no -wal or -shm files).
func VerifyBackup(ctx context.Context, path string) (BackupInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: verify: %w", err)
	}
	if !st.Mode().IsRegular() {
		return BackupInfo{}, fmt.Errorf("store: verify: %s is not a file", path)
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: verify %s: %w", path, err)
	}
	defer db.Close()
	info := BackupInfo{Path: path, Bytes: st.Size()}
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&result); err != nil {
		return info, fmt.Errorf("store: verify %s: %w", path, describe(err))
	}
	if result != "ok" {
		return info, fmt.Errorf("store: %s is damaged: %s", path, result)
	}
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&info.Schema); err != nil {
		return info, fmt.Errorf("store: %s is not a stembox database: %w", path, err)
	}
	if info.Schema > SchemaVersion() {
		return info, fmt.Errorf("store: %s has schema version %d, newer than this stembox knows (%d)", path, info.Schema, SchemaVersion())
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(max(seq), 0) FROM events").Scan(&info.Events, &info.LastSeq); err != nil {
		return info, fmt.Errorf("store: %s is not a stembox database: %w", path, err)
	}
	return info, nil
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	Restored BackupInfo
	// Aside is where the database that was replaced now is (with its -wal
	// file, if it had one); "" if there was none.
	Aside string
	// Replaced is what the replaced database held (zero if there was none).
	Replaced Replaced
	// AckedSeq is the restored database's cursor: the hub holds its events
	// up to here, as far as the box knows.
	AckedSeq int64
	// Epoch is the epoch the box's new events go up in (restore.go); its
	// Name is "" when the backup holds every event of the database it
	// replaced and no new epoch was needed.
	Epoch Epoch
}

// Restore replaces the database at path by the backup file from. It refuses
// while a box holds the database's lock, and refuses a backup that fails
// VerifyBackup. The database it replaces is kept aside, renamed with the
// time of the restore, never deleted; its events the hub never
// acknowledged are kept in the restored database and offered for sync, and
// the box's new events go up under a new epoch (restore.go).
func Restore(ctx context.Context, path, from string) (RestoreResult, error) {
	lock, err := Acquire(path)
	if err != nil {
		return RestoreResult{}, err
	}
	defer lock.Release()
	info, err := VerifyBackup(ctx, from)
	if err != nil {
		return RestoreResult{}, err
	}
	next := path + ".restoring"
	if err := copyFile(from, next); err != nil {
		os.Remove(next)
		return RestoreResult{}, fmt.Errorf("store: restore: %w", err)
	}
	var res RestoreResult
	res.Restored = info
	var old *replacedDB
	if _, err := os.Stat(path); err == nil {
		old, res.Replaced, err = openReplaced(ctx, path)
		if err != nil {
			res.Replaced.Err = err
		} else {
			defer old.db.Close()
		}
	}
	err = reconcile(ctx, next, old, &res)
	if err != nil && old != nil {
		// The replaced database is damaged past reading (why it is being
		// replaced, often): restore all the same; it stays aside.
		res.Replaced.Err, res.Replaced.Salvaged, res.Replaced.InBackup = err, 0, 0
		err = reconcile(ctx, next, nil, &res)
	}
	if err != nil {
		os.Remove(next)
		os.Remove(next + "-wal")
		os.Remove(next + "-shm")
		return RestoreResult{}, fmt.Errorf("store: restore: %w", err)
	}
	if old != nil {
		old.db.Close() // before it is moved aside
	}
	os.Remove(next + "-shm")
	matchOwner(filepath.Dir(path), next, next+"-wal")
	if _, err := os.Stat(path); err == nil {
		res.Aside = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, res.Aside); err != nil {
			os.Remove(next)
			return RestoreResult{}, fmt.Errorf("store: restore: keep the old database: %w", err)
		}
		// The old WAL goes with its database; the shared-memory index is
		// rebuilt from it when that copy is opened.
		if err := os.Rename(path+"-wal", res.Aside+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return RestoreResult{}, fmt.Errorf("store: restore: keep the old database's WAL: %w", err)
		}
		os.Remove(path + "-shm")
	}
	if err := os.Rename(next+"-wal", path+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return RestoreResult{}, fmt.Errorf("store: restore: %w", err)
	}
	if err := os.Rename(next, path); err != nil {
		return RestoreResult{}, fmt.Errorf("store: restore: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return RestoreResult{}, fmt.Errorf("store: restore: %w", err)
	}
	res.Restored.Path = path
	return res, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// matchOwner gives files the owner of ref when we run as root: an operator
// running `stembox admin` with sudo must not leave files that the box's own
// user cannot open. Files that do not exist are skipped.
func matchOwner(ref string, files ...string) {
	if os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat(ref)
	if err != nil {
		return
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	for _, f := range files {
		if f == ref {
			continue
		}
		os.Lchown(f, int(sys.Uid), int(sys.Gid))
	}
}
