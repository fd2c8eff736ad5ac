package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// The box's time keeping (internal/timekeeper) keeps what it knows of each
// boot here, so that a reboot never goes back in time, and that reports
// and bundles — written by other processes too — date every event by its
// boot's start plus its time since boot.

// eventTime is the corrected time of the event e, unix ms, given
// eventTimeJoin: its boot's start plus its time since boot, or its wall
// clock for a boot nothing is known of.
const (
	eventTime     = "coalesce(cb.start_ms + e.mono_ms, e.wall_ms)"
	eventTimeJoin = "LEFT JOIN clock_boots cb ON cb.boot_id = e.boot_id"
)

// Clock returns the box's clocks the database stamps events with.
func (db *DB) Clock() clock.Clock { return db.clock }

// Boots returns what is known of every boot of the box, oldest first.
func (db *DB) Boots(ctx context.Context) ([]timekeeper.Boot, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT boot_id, start_ms, source, err_ms, seen_ms FROM clock_boots ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("store: boots: %w", err)
	}
	defer rows.Close()
	var out []timekeeper.Boot
	for rows.Next() {
		b, err := scanBoot(rows)
		if err != nil {
			return nil, fmt.Errorf("store: boots: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BootsOf returns what is known of the given boots (those not known are
// left out).
func (db *DB) BootsOf(ctx context.Context, ids []string) ([]timekeeper.Boot, error) {
	all, err := db.Boots(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []timekeeper.Boot
	for _, b := range all {
		if want[b.ID] {
			out = append(out, b)
		}
	}
	return out, nil
}

func scanBoot(row interface{ Scan(...any) error }) (timekeeper.Boot, error) {
	var b timekeeper.Boot
	var start, errMS, seen int64
	var src string
	if err := row.Scan(&b.ID, &start, &src, &errMS, &seen); err != nil {
		return timekeeper.Boot{}, err
	}
	b.Start, b.Source, b.Seen = time.UnixMilli(start), timekeeper.Source(src), time.Duration(seen)*time.Millisecond
	b.Err = timekeeper.Unknown
	if errMS >= 0 {
		b.Err = time.Duration(errMS) * time.Millisecond
	}
	return b, nil
}

// SaveBoot merges b into what is stored of its boot (timekeeper.Merge), in
// one transaction, and returns what is stored now.
func (db *DB) SaveBoot(ctx context.Context, b timekeeper.Boot) (timekeeper.Boot, error) {
	if b.ID == "" || !b.Source.Valid() {
		return timekeeper.Boot{}, fmt.Errorf("store: save boot: no boot id, or an unknown source %q", b.Source)
	}
	var out timekeeper.Boot
	// Not inTx: a boot's time is no news for upstream sync (Changes).
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return timekeeper.Boot{}, fmt.Errorf("store: save boot: %w", describe(err))
	}
	defer tx.Rollback()
	err = func() error {
		old, err := scanBoot(tx.QueryRowContext(ctx, "SELECT boot_id, start_ms, source, err_ms, seen_ms FROM clock_boots WHERE boot_id = ?", b.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = b
		case err != nil:
			return err
		default:
			out = timekeeper.Merge(old, b)
		}
		errMS := int64(-1)
		if out.Known() {
			errMS = out.Err.Milliseconds()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO clock_boots (boot_id, start_ms, source, err_ms, seen_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (boot_id) DO UPDATE SET start_ms = excluded.start_ms, source = excluded.source, err_ms = excluded.err_ms, seen_ms = excluded.seen_ms`,
			out.ID, out.Start.UnixMilli(), string(out.Source), errMS, out.Seen.Milliseconds())
		if err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		return timekeeper.Boot{}, fmt.Errorf("store: save boot: %w", describe(err))
	}
	return out, nil
}
