package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// record appends an event of p's kind in tx, with the given id (a new one
// when ""). A payload that breaks its kind's contract is Invalid.
func (db *DB) record(ctx context.Context, tx *sql.Tx, id, actor string, p event.Payload) (event.Event, error) {
	if id == "" {
		id = db.NewID()
	}
	ev, err := event.New(id, actor, p)
	if err != nil {
		return event.Event{}, failure.Wrap(failure.Invalid, err, err.Error())
	}
	if err := db.appendEvent(ctx, tx, &ev); err != nil {
		return event.Event{}, err
	}
	return ev, nil
}

// appendEvent inserts ev in tx, filling Seq and the clock fields. ev.ID must
// be set.
func (db *DB) appendEvent(ctx context.Context, tx *sql.Tx, ev *event.Event) error {
	return db.appendEventAged(ctx, tx, ev, 0)
}

// maxAge bounds how much earlier than now an event may be dated: an answer
// kept on a device while the box was away for longer is dated a week back.
const maxAge = 7 * 24 * time.Hour

// appendEventAged is appendEvent for an event that happened age ago (an
// answer a device kept while the box was away): its clocks are read that
// much earlier, never before this boot began, so it is dated by its boot
// like any other (clock.go).
func (db *DB) appendEventAged(ctx context.Context, tx *sql.Tx, ev *event.Event, age time.Duration) error {
	now := db.clock.Now()
	age = min(max(age, 0), maxAge, now.Uptime)
	now.Wall, now.Uptime = now.Wall.Add(-age), now.Uptime-age
	ev.Wall, ev.BootID, ev.Uptime = now.Wall, now.BootID, now.Uptime
	res, err := db.exec(ctx, tx, `INSERT INTO events (id, kind, actor, wall_ms, boot_id, mono_ms, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.Kind, ev.Actor, now.Wall.UnixMilli(), now.BootID, now.Uptime.Milliseconds(), string(ev.Payload))
	if err != nil {
		return fmt.Errorf("store: insert event: %w", describe(err))
	}
	if ev.Seq, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: insert event: %w", err)
	}
	return nil
}

const eventColumns = "seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload"

func scanEvent(row interface{ Scan(...any) error }) (event.Event, error) {
	var ev event.Event
	var wall, mono int64
	var payload string
	if err := row.Scan(&ev.Seq, &ev.ID, &ev.Kind, &ev.Actor, &wall, &ev.BootID, &mono, &payload); err != nil {
		return event.Event{}, err
	}
	ev.Wall = time.UnixMilli(wall)
	ev.Uptime = time.Duration(mono) * time.Millisecond
	ev.Payload = json.RawMessage(payload)
	return ev, nil
}

// EventsAfter returns up to limit events with seq > after, in order.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]event.Event, error) {
	evs, err := db.queryEvents(ctx, "SELECT "+eventColumns+" FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	return evs, nil
}

// queryEvents returns the events a query of eventColumns reads.
func (db *DB) queryEvents(ctx context.Context, query string, args ...any) ([]event.Event, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []event.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// Event returns the event with the given global id.
func (db *DB) Event(ctx context.Context, id string) (event.Event, error) {
	ev, err := scanEvent(db.read.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM events WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return event.Event{}, failure.Errorf(failure.NotFound, "no event %s", id)
	}
	if err != nil {
		return event.Event{}, fmt.Errorf("store: event %s: %w", id, err)
	}
	return ev, nil
}

// LastSeq returns the highest sequence number, 0 when there are no events.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.read.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	return seq, nil
}
