// Package store keeps the box's data in SQLite: learner events and the tables
// derived from them. Every write that is acknowledged to a user has reached the
// disk (WAL with synchronous=FULL), because the box loses power without
// warning.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the box's database. Writes go through one connection, so
// transactions never contend; reads use a pool of their own.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	clock clock.Clock

	idMu    sync.Mutex
	entropy *ulid.MonotonicEntropy

	commits *committer // group commit of answers (group.go)

	changes changeNotifier // closed after commits, for upstream sync (sync.go)
}

// Open opens (creating if needed) the database at path, checks its integrity,
// and brings its schema up to date. It refuses a database whose schema is
// newer than this binary knows, and one that fails PRAGMA integrity_check.
func Open(ctx context.Context, path string, clk clock.Clock) (*DB, error) {
	return open(ctx, path, clk, "FULL")
}

// open is Open with SQLite's synchronous setting (see Options).
func open(ctx context.Context, path string, clk clock.Clock, sync string) (*DB, error) {
	if clk == nil {
		clk = &clock.System{}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{path: path, clock: clk, entropy: ulid.Monotonic(rand.Reader, 0)}
	var err error
	if db.write, err = sql.Open("sqlite3", dsn(path, false, sync)); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, describe(err))
	}
	if err := db.checkIntegrity(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	if db.read, err = sql.Open("sqlite3", dsn(path, true, sync)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	db.read.SetMaxOpenConns(4)
	db.commits = newCommitter(db.write)
	return db, nil
}

// dsn carries every per-connection setting, so each pooled connection gets
// them (a one-off PRAGMA would reach only one connection).
func dsn(path string, readOnly bool, sync string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", sync)
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Set("_query_only", "1")
	}
	return "file:" + path + "?" + q.Encode()
}

// describe turns SQLite's terse messages about unusable files into advice.
func describe(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%w (the file is not a stembox database, or it is damaged: restore a backup)", err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("%w (the database is damaged: restore a backup)", err)
		case sqlite3.ErrFull:
			return fmt.Errorf("%w (the disk is full: free some space)", err)
		case sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrCantOpen:
			return fmt.Errorf("%w (check that the data directory exists and is writable)", err)
		}
	}
	return err
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.commits != nil {
		db.commits.close()
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

func (db *DB) checkIntegrity(ctx context.Context) error {
	rows, err := db.write.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check of %s: %w", db.path, describe(err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check of %s: %w", db.path, describe(err))
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("… and %d more", len(problems)-5))
		}
		return fmt.Errorf("store: %s failed its integrity check (%s); stop the box and restore a backup", db.path, strings.Join(problems, "; "))
	}
	return nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int {
	steps, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return 0
	}
	return len(steps)
}

func (db *DB) migrate(ctx context.Context) error {
	steps, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	plan := migrate.Plan{
		Owner: "store",
		Where: db.path,
		Table: "schema_migrations",
		Create: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL) STRICT`,
		Record:   "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
		Advice:   "run a newer stembox, or restore a backup made by this one",
		Now:      func() time.Time { return db.clock.Now().Wall },
		Describe: describe,
	}
	return plan.Up(ctx, db.write, steps)
}

// NewID returns a new ULID: globally unique, sortable by creation time.
func (db *DB) NewID() string {
	db.idMu.Lock()
	defer db.idMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(db.clock.Now().Wall), db.entropy).String()
}

// EnrollSecret returns a random secret of this box's, made on first use and
// never sent anywhere: the box derives from it the key that lets it, and
// only it, redeem an enrollment token again when the hub's answer was lost.
func (db *DB) EnrollSecret(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	if _, err := db.write.ExecContext(ctx, "INSERT OR IGNORE INTO box_facts (key, value) VALUES ('enroll_secret', ?)", s); err != nil {
		return nil, fmt.Errorf("store: enroll secret: %w", describe(err))
	}
	if err := db.write.QueryRowContext(ctx, "SELECT value FROM box_facts WHERE key = 'enroll_secret'").Scan(&s); err != nil {
		return nil, fmt.Errorf("store: enroll secret: %w", err)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// BoxID returns this box's permanent id, made on first use.
func (db *DB) BoxID(ctx context.Context) (string, error) {
	id := db.NewID()
	if _, err := db.write.ExecContext(ctx, "INSERT OR IGNORE INTO box_facts (key, value) VALUES ('box_id', ?)", id); err != nil {
		return "", fmt.Errorf("store: box id: %w", describe(err))
	}
	if err := db.write.QueryRowContext(ctx, "SELECT value FROM box_facts WHERE key = 'box_id'").Scan(&id); err != nil {
		return "", fmt.Errorf("store: box id: %w", err)
	}
	return id, nil
}
