package hub

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/mattn/go-sqlite3"

	"github.com/mitstem/stembox/internal/migrate"
)

// The hub's storage: SQLite by default (one file, WAL, synchronous=FULL,
// one writer connection, readers in parallel), PostgreSQL when given a
// postgres:// URL, so that several hub processes can share one database.
// Queries are written once, with ? placeholders, in the SQL both speak;
// the few differences (row locks, types in the schema) are the dialect's.

//go:embed migrations
var migrationFS embed.FS

type dialect string

const (
	dialectSQLite   dialect = "sqlite"
	dialectPostgres dialect = "postgres"
)

// DB is the hub's database.
type DB struct {
	kind  dialect
	where string  // the file, or the PostgreSQL URL without its password
	write *sql.DB // SQLite: one connection; PostgreSQL: the pool
	read  *sql.DB // SQLite: read-only pool; PostgreSQL: the pool

	rebound sync.Map // query → query with $n placeholders (PostgreSQL)
}

// IsPostgres reports whether target names a PostgreSQL database.
func IsPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// OpenDB opens the hub database: target is a postgres:// URL, or a SQLite
// file path ("" for dataDir/hub.db). It brings the schema up to date and
// refuses a schema newer than this binary knows.
func OpenDB(ctx context.Context, target, dataDir string) (*DB, error) {
	db, err := openDB(ctx, target, dataDir)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openDB(ctx context.Context, target, dataDir string) (*DB, error) {
	if IsPostgres(target) {
		pool, err := sql.Open("pgx", target)
		if err != nil {
			return nil, fmt.Errorf("hub: open database: %w", err)
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(8)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("hub: connect to %s: %w", redact(target), err)
		}
		return &DB{kind: dialectPostgres, where: redact(target), write: pool, read: pool}, nil
	}
	path := target
	if path == "" {
		path = filepath.Join(dataDir, "hub.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Set("_foreign_keys", "1")
		q.Set("_busy_timeout", "10000")
		q.Set("_txlock", "immediate")
		if readOnly {
			q.Set("_query_only", "1")
		}
		return "file:" + path + "?" + q.Encode()
	}
	db := &DB{kind: dialectSQLite, where: path}
	var err error
	if db.write, err = sql.Open("sqlite3", dsn(false)); err != nil {
		return nil, fmt.Errorf("hub: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("hub: open %s: %w", path, err)
	}
	if db.read, err = sql.Open("sqlite3", dsn(true)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("hub: open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(8)
	return db, nil
}

// redact drops the password from a database URL, for messages.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Kind is "sqlite" or "postgres".
func (db *DB) Kind() string { return string(db.kind) }

// q returns query for this database: PostgreSQL numbers its placeholders.
// Queries never hold a ? inside a string literal.
func (db *DB) q(query string) string {
	if db.kind != dialectPostgres {
		return query
	}
	if v, ok := db.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	out := b.String()
	if len(query) < 4096 { // long generated inserts are not worth keeping
		db.rebound.Store(query, out)
	}
	return out
}

// forUpdate is the clause that locks the rows a SELECT reads until the
// transaction ends. SQLite needs none: a write transaction (BEGIN
// IMMEDIATE) holds the whole database.
func (db *DB) forUpdate() string {
	if db.kind == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// QueryRow runs a query written with ? placeholders on the read pool (for
// tests, benchmarks and checks).
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.queryRow(ctx, query, args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.q(query), args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.q(query), args...)
}

// reportWorkMem is the memory PostgreSQL may give each sort and hash of a
// report: its default, 4 MB, sends a country's report to disk and doubles
// its time (docs/hub.md).
const reportWorkMem = "64MB"

// queryLarge runs a query that sorts or hashes many rows (a report): on
// PostgreSQL in a read-only transaction given reportWorkMem. Call done
// once the rows are read.
func (db *DB) queryLarge(ctx context.Context, query string, args ...any) (rows *sql.Rows, done func(), err error) {
	if db.kind != dialectPostgres {
		rows, err = db.query(ctx, query, args...)
		return rows, func() {}, err
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '"+reportWorkMem+"'"); err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	if rows, err = tx.QueryContext(ctx, db.q(query), args...); err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return rows, func() { rows.Close(); tx.Rollback() }, nil
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.q(query), args...)
}

// Tx is a write transaction.
type Tx struct {
	tx *sql.Tx
	db *DB
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.db.q(query), args...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.q(query), args...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.db.q(query), args...)
}

// inTx runs f in a write transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, f func(*Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hub: begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(&Tx{tx: tx, db: db}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hub: commit: %w", err)
	}
	return nil
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// migrationLock is the PostgreSQL advisory lock hub processes take while
// they migrate, so that two starting at once do not both apply a step.
const migrationLock int64 = 0x5354454d424f58 // "STEMBOX"

func (db *DB) migrate(ctx context.Context) error { return db.migrateTo(ctx, 0) }

// migrateTo applies the first n steps (0: all), for tests of a step over
// the data of the steps before it.
func (db *DB) migrateTo(ctx context.Context, n int) error {
	steps, err := migrate.Load(migrationFS, "migrations/"+string(db.kind))
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if n > 0 && n < len(steps) {
		steps = steps[:n]
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("hub: migrate: %w", err)
	}
	defer conn.Close()
	if db.kind == dialectPostgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("hub: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	plan := migrate.Plan{
		Owner: "hub",
		Where: db.where,
		Table: "hub_schema_migrations",
		Create: `CREATE TABLE IF NOT EXISTS hub_schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)`,
		Record: db.q("INSERT INTO hub_schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)"),
		Advice: "run a newer stembox",
		Now:    time.Now,
	}
	return plan.Up(ctx, conn, steps)
}
