package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// Epochs (migration 0006; docs/sync-protocol.md): the box's events go up
// in one stream, epoch "", until the box learns that the hub holds other
// events than its own at the sequence numbers it uses — it was restored
// from an old backup. It then starts a new epoch after the last seq the hub
// and the box agree on; its events from there on go up under that epoch,
// which the hub keeps apart from the old one. Events never change: an
// epoch is a range of seqs, (Base, End].

// Epoch is one stream of the box's events.
type Epoch struct {
	Name    string // "" for the first
	Base    int64  // its events have seq > Base
	Parent  string // the epoch of the event at Base
	End     int64  // its last seq; 0 for the current epoch, which has no end
	Started time.Time
	Reason  string
}

// Contains reports whether the event at seq is of the epoch.
func (e Epoch) Contains(seq int64) bool { return seq > e.Base && (e.End == 0 || seq <= e.End) }

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Epochs lists the box's epochs in order, the first ("") first and the
// current one last.
func (db *DB) Epochs(ctx context.Context) ([]Epoch, error) { return epochs(ctx, db.read) }

func epochs(ctx context.Context, q querier) ([]Epoch, error) {
	rows, err := q.QueryContext(ctx, "SELECT epoch, base_seq, parent, started_ms, reason FROM upstream_epochs ORDER BY base_seq, rowid")
	if err != nil {
		return nil, fmt.Errorf("store: epochs: %w", err)
	}
	defer rows.Close()
	out := []Epoch{{}}
	for rows.Next() {
		var e Epoch
		var started int64
		if err := rows.Scan(&e.Name, &e.Base, &e.Parent, &started, &e.Reason); err != nil {
			return nil, fmt.Errorf("store: epochs: %w", err)
		}
		e.Started = time.UnixMilli(started)
		out[len(out)-1].End = e.Base
		out = append(out, e)
	}
	return out, rows.Err()
}

// epochOf returns the epoch of the event at seq in list.
func epochOf(list []Epoch, seq int64) Epoch {
	for i := len(list) - 1; i > 0; i-- {
		if list[i].Contains(seq) {
			return list[i]
		}
	}
	return list[0]
}

// EpochOf returns the epoch the event at seq goes up in.
func (db *DB) EpochOf(ctx context.Context, seq int64) (Epoch, error) {
	list, err := db.Epochs(ctx)
	if err != nil {
		return Epoch{}, err
	}
	return epochOf(list, seq), nil
}

// StartEpoch starts a new epoch after base, the last seq on which the box
// and the hub agree: the box's events after it go up under the new epoch.
// base may not be before the current epoch's base, after the box's last
// event, or before the acknowledged cursor.
func (db *DB) StartEpoch(ctx context.Context, base int64, reason string) (Epoch, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return Epoch{}, fmt.Errorf("store: begin: %w", describe(err))
	}
	defer tx.Rollback()
	e, err := startEpoch(ctx, tx, db.NewID(), base, reason, db.clock.Now().Wall)
	if err != nil {
		return Epoch{}, err
	}
	if err := tx.Commit(); err != nil {
		return Epoch{}, fmt.Errorf("store: start epoch: %w", describe(err))
	}
	return e, nil
}

func startEpoch(ctx context.Context, tx *sql.Tx, name string, base int64, reason string, now time.Time) (Epoch, error) {
	list, err := epochs(ctx, tx)
	if err != nil {
		return Epoch{}, err
	}
	var last, acked int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&last); err != nil {
		return Epoch{}, fmt.Errorf("store: start epoch: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT acked_seq FROM upstream_state WHERE id = 1").Scan(&acked); err != nil {
		return Epoch{}, fmt.Errorf("store: start epoch: %w", err)
	}
	cur := list[len(list)-1]
	if base < cur.Base || base > last || base < acked {
		return Epoch{}, failure.Errorf(failure.Invalid, "an epoch cannot start after seq %d: the current one starts after %d, the box's last event is %d and the hub acknowledged %d",
			base, cur.Base, last, acked)
	}
	e := Epoch{Name: name, Base: base, Parent: epochOf(list, base).Name, Started: now, Reason: reason}
	if base == 0 {
		e.Parent = ""
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO upstream_epochs (epoch, base_seq, parent, started_ms, reason) VALUES (?, ?, ?, ?, ?)",
		e.Name, e.Base, e.Parent, now.UnixMilli(), reason); err != nil {
		return Epoch{}, fmt.Errorf("store: start epoch: %w", describe(err))
	}
	return e, nil
}

// EventsIn returns up to limit events of epoch e with seq > after, in
// order.
func (db *DB) EventsIn(ctx context.Context, e Epoch, after int64, limit int) ([]event.Event, error) {
	end := e.End
	if end == 0 {
		end = 1<<63 - 1
	}
	evs, err := db.queryEvents(ctx, "SELECT "+eventColumns+" FROM events WHERE seq > ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
		after, e.Base, end, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	return evs, nil
}

// Salvaged is a run of events of a database a restore replaced, not yet
// acknowledged by the hub, all of one epoch.
type Salvaged struct {
	Epoch  Epoch // Name, Base and Parent as they were in that database
	Events []event.Event
}

// SalvagedEvents returns up to limit salvaged events not yet acknowledged,
// of the first epoch that has any.
func (db *DB) SalvagedEvents(ctx context.Context, limit int) (Salvaged, error) {
	var s Salvaged
	err := db.read.QueryRowContext(ctx, "SELECT epoch, base_seq, parent FROM upstream_salvage WHERE acked = 0 ORDER BY rowid LIMIT 1").
		Scan(&s.Epoch.Name, &s.Epoch.Base, &s.Epoch.Parent)
	if errors.Is(err, sql.ErrNoRows) {
		return Salvaged{}, nil
	}
	if err != nil {
		return Salvaged{}, fmt.Errorf("store: salvaged events: %w", err)
	}
	s.Events, err = db.queryEvents(ctx, "SELECT "+eventColumns+" FROM upstream_salvage WHERE acked = 0 AND epoch = ? ORDER BY seq LIMIT ?", s.Epoch.Name, limit)
	if err != nil {
		return Salvaged{}, fmt.Errorf("store: salvaged events: %w", err)
	}
	return s, nil
}

// SalvagePending counts the salvaged events the hub has not acknowledged.
func (db *DB) SalvagePending(ctx context.Context) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM upstream_salvage WHERE acked = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: salvaged events: %w", err)
	}
	return n, nil
}

// AckSalvaged marks the salvaged events of epoch with seq from first to
// upTo as held by the hub.
func (db *DB) AckSalvaged(ctx context.Context, epoch string, first, upTo int64, t UpstreamTraffic, at time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", describe(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE upstream_salvage SET acked = 1 WHERE epoch = ? AND seq >= ? AND seq <= ?", epoch, first, upTo); err != nil {
		return fmt.Errorf("store: salvaged events: %w", describe(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE upstream_state SET last_attempt_ms = ?, last_success_ms = ?, last_error = '',
		bytes_sent = bytes_sent + ?, bytes_received = bytes_received + ?, events_sent = events_sent + ? WHERE id = 1`,
		at.UnixMilli(), at.UnixMilli(), t.BytesSent, t.BytesReceived, t.Events); err != nil {
		return fmt.Errorf("store: salvaged events: %w", describe(err))
	}
	return tx.Commit()
}

// salvageRow is an event to keep in upstream_salvage.
type salvageRow struct {
	epoch Epoch
	ev    event.Event
}

func insertSalvage(ctx context.Context, tx *sql.Tx, r salvageRow) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO upstream_salvage (epoch, base_seq, parent, seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = ?)
		ON CONFLICT DO NOTHING`,
		r.epoch.Name, r.epoch.Base, r.epoch.Parent, r.ev.Seq, r.ev.ID, r.ev.Kind, r.ev.Actor, r.ev.Wall.UnixMilli(), r.ev.BootID, r.ev.Uptime.Milliseconds(),
		string(r.ev.Payload), r.ev.ID)
	if err != nil {
		return false, fmt.Errorf("store: salvage event %d: %w", r.ev.Seq, describe(err))
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RehomeSalvage moves the salvaged events of epoch from seq at on, which
// the hub refused because it holds other events there, into a new epoch of
// their own after at − 1: they were never held by the hub where they were,
// and are not in the box's own line, so nothing is rewritten.
func (db *DB) RehomeSalvage(ctx context.Context, epoch string, at int64) (string, error) {
	name := db.NewID()
	res, err := db.write.ExecContext(ctx, "UPDATE upstream_salvage SET epoch = ?, base_seq = ?, parent = ? WHERE epoch = ? AND seq >= ? AND acked = 0",
		name, at-1, epoch, epoch, at)
	if err != nil {
		return "", fmt.Errorf("store: salvaged events: %w", describe(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("store: no salvaged event of epoch %q from seq %d", epoch, at)
	}
	return name, nil
}

// EachSalvaged calls f with the salvaged events not yet acknowledged, in
// runs of at most size events of one epoch each.
func (db *DB) EachSalvaged(ctx context.Context, size int, f func(Salvaged) error) error {
	rows, err := db.read.QueryContext(ctx, `SELECT epoch, base_seq, parent, `+eventColumns+` FROM upstream_salvage s WHERE acked = 0
		ORDER BY (SELECT min(rowid) FROM upstream_salvage t WHERE t.epoch = s.epoch), seq`)
	if err != nil {
		return fmt.Errorf("store: salvaged events: %w", err)
	}
	defer rows.Close()
	var run Salvaged
	flush := func() error {
		if len(run.Events) == 0 {
			return nil
		}
		err := f(run)
		run = Salvaged{}
		return err
	}
	for rows.Next() {
		var e Epoch
		var ev event.Event
		var wall, mono int64
		var payload string
		if err := rows.Scan(&e.Name, &e.Base, &e.Parent, &ev.Seq, &ev.ID, &ev.Kind, &ev.Actor, &wall, &ev.BootID, &mono, &payload); err != nil {
			return fmt.Errorf("store: salvaged events: %w", err)
		}
		ev.Wall, ev.Uptime, ev.Payload = time.UnixMilli(wall), time.Duration(mono)*time.Millisecond, []byte(payload)
		if len(run.Events) > 0 && (run.Epoch.Name != e.Name || len(run.Events) >= size) {
			if err := flush(); err != nil {
				return err
			}
		}
		run.Epoch = e
		run.Events = append(run.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: salvaged events: %w", err)
	}
	return flush()
}

// AdoptEpoch takes epoch e, which the hub says holds the box's event id at
// seq, for the box's events after e.Base: the box had started it and was
// then restored from a backup taken before. It refuses unless the box has
// that event at seq, does not know e yet, and e starts neither before the
// current epoch nor before the acknowledged cursor.
func (db *DB) AdoptEpoch(ctx context.Context, e Epoch, seq int64, id string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", describe(err))
	}
	defer tx.Rollback()
	list, err := epochs(ctx, tx)
	if err != nil {
		return err
	}
	var acked int64
	if err := tx.QueryRowContext(ctx, "SELECT acked_seq FROM upstream_state WHERE id = 1").Scan(&acked); err != nil {
		return fmt.Errorf("store: adopt epoch: %w", err)
	}
	mine, err := idAt(ctx, tx, seq)
	if err != nil {
		return fmt.Errorf("store: adopt epoch: %w", err)
	}
	for _, k := range list {
		if k.Name == e.Name {
			return failure.Errorf(failure.Conflict, "the hub holds event %s in epoch %s, which this box has already", id, e.Name)
		}
	}
	if e.Name == "" || mine != id || seq <= e.Base || e.Base < acked || e.Base < list[len(list)-1].Base {
		return failure.Errorf(failure.Conflict, "the hub holds event %s at seq %d of epoch %s (after %d), which this box cannot take", id, seq, e.Name, e.Base)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO upstream_epochs (epoch, base_seq, parent, started_ms, reason) VALUES (?, ?, ?, ?, ?)",
		e.Name, e.Base, e.Parent, db.clock.Now().Wall.UnixMilli(), fmt.Sprintf("the hub holds this box's event at seq %d in it", seq)); err != nil {
		return fmt.Errorf("store: adopt epoch: %w", describe(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: adopt epoch: %w", describe(err))
	}
	return nil
}
