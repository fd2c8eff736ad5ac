package store

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements for the write path. SQLite compiles a statement each
// time it is run from text, which costs more than running it: the group
// committer runs the same few statements (find an event, insert one, update
// progress, savepoints) for every answer. exec and queryRow run a statement
// from the cache when it is there, and otherwise from text, asking for it
// to be prepared; the committer prepares what was asked for before it
// begins its next transaction (preparing needs the one write connection,
// which a transaction holds).

// maxStmts bounds the cache: statements are fixed texts in this package,
// never built from data.
const maxStmts = 32

type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[query]
	if st == nil && len(c.stmts)+len(c.wanted) < maxStmts {
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the statements asked for since the last call. It
// must not be called while the caller holds a transaction on db.
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	var todo []string
	for q := range c.wanted {
		todo = append(todo, q)
	}
	c.mu.Unlock()
	for _, q := range todo {
		st, err := db.PrepareContext(ctx, q)
		c.mu.Lock()
		delete(c.wanted, q)
		if err == nil {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// exec runs query in tx, prepared if it has been.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.commits.stmts.get(query); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRow runs query in tx, prepared if it has been.
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.commits.stmts.get(query); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
