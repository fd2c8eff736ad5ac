// Package migrate brings a database's schema up to date from numbered SQL
// files: 0001_name.sql, 0002_name.sql, … embedded in the binary. Each step
// runs in its own transaction together with the row that records it, so a
// power cut leaves the schema at one step or the next, never half-way. A
// database whose schema is newer than the binary knows is refused.
//
// It serves the box's SQLite store and the hub's SQLite or PostgreSQL
// database; what differs between them (table, placeholders, a lock while
// several processes start at once) is the caller's Plan.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Step is one numbered migration.
type Step struct {
	Version int    // 1, 2, 3, …
	Name    string // the file's name, e.g. 0003_mastery.sql
	SQL     string
}

// Load reads the steps in dir of fsys. Every file there must be named
// NNNN_name.sql and the numbers must run 1, 2, 3, … without a gap.
func Load(fsys fs.FS, dir string) ([]Step, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var steps []Step
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migrate: migration file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		steps = append(steps, Step{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Version < steps[j].Version })
	for i, s := range steps {
		if s.Version != i+1 {
			return nil, fmt.Errorf("migrate: migrations are not numbered 1, 2, 3, …: %s", s.Name)
		}
	}
	return steps, nil
}

// Conn is the one connection the steps run on: a *sql.DB limited to one
// connection, or a *sql.Conn taken from a pool.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Plan says how one program keeps its schema history.
type Plan struct {
	Owner  string // the prefix of errors: "store", "hub"
	Where  string // the database, as errors name it: a path or a URL without its password
	Table  string // the table that records applied steps
	Create string // creates Table if it is missing: (version, name, applied_ms)
	Record string // inserts (version, name, applied_ms) into Table, in the dialect's placeholders
	Advice string // what to do about a schema newer than the binary, e.g. "run a newer stembox"
	Now    func() time.Time

	// Describe, when set, adds advice to a database error (a full disk, a
	// damaged file) where a step's transaction could not start or end.
	Describe func(error) error
}

func (p Plan) describe(err error) error {
	if p.Describe == nil {
		return err
	}
	return p.Describe(err)
}

// Up applies the steps that c has not yet recorded, in order, each in its
// own transaction with its record.
func (p Plan) Up(ctx context.Context, c Conn, steps []Step) error {
	if _, err := c.ExecContext(ctx, p.Create); err != nil {
		return fmt.Errorf("%s: create %s: %w", p.Owner, p.Table, p.describe(err))
	}
	var have int
	if err := c.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM "+p.Table).Scan(&have); err != nil {
		return fmt.Errorf("%s: read schema version: %w", p.Owner, err)
	}
	if have > len(steps) {
		return fmt.Errorf("%s: %s has schema version %d, newer than this stembox knows (%d): %s", p.Owner, p.Where, have, len(steps), p.Advice)
	}
	for _, s := range steps[have:] {
		if err := p.apply(ctx, c, s); err != nil {
			return err
		}
	}
	return nil
}

func (p Plan) apply(ctx context.Context, c Conn, s Step) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: migrate %s: %w", p.Owner, s.Name, p.describe(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.SQL); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", p.Owner, s.Name, err)
	}
	if _, err := tx.ExecContext(ctx, p.Record, s.Version, s.Name, p.Now().UnixMilli()); err != nil {
		return fmt.Errorf("%s: record migration %s: %w", p.Owner, s.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", p.Owner, s.Name, p.describe(err))
	}
	return nil
}
