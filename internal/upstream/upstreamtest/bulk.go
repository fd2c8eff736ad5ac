package upstreamtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the box's database

	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Bulk appends generated events straight to a box's events table, many to
// a transaction, through a connection of its own: the way to make a box
// with a hundred thousand events in seconds (the store's own path commits
// answer by answer, as students answer). The box assigns the sequence
// numbers, as always.
type Bulk struct {
	db *sql.DB
}

// OpenBulk opens the box database at path for bulk writes.
func OpenBulk(path string) (*Bulk, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &Bulk{db: db}, nil
}

// Close closes the connection.
func (b *Bulk) Close() error { return b.db.Close() }

// Write appends evs (their Seq is ignored) in one transaction.
func (b *Bulk) Write(ctx context.Context, evs []wire.Event) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const per = 500
	for start := 0; start < len(evs); start += per {
		end := min(start+per, len(evs))
		var q strings.Builder
		q.WriteString("INSERT INTO events (id, kind, actor, wall_ms, boot_id, mono_ms, payload) VALUES ")
		args := make([]any, 0, (end-start)*7)
		for i, ev := range evs[start:end] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, ev.ID, ev.Kind, ev.Actor, ev.WallMS, ev.BootID, ev.MonoMS, string(ev.Payload))
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("bulk write: %w", err)
		}
	}
	return tx.Commit()
}

// Fill appends n generated events in transactions of chunk events, pausing
// between them so that syncing overlaps writing.
func (b *Bulk) Fill(ctx context.Context, g *Gen, n, chunk int, pause time.Duration) error {
	for done := 0; done < n; done += chunk {
		if err := b.Write(ctx, g.Events(min(chunk, n-done))); err != nil {
			return err
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	return nil
}
