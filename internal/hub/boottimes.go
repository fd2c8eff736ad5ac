package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/timekeeper"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// checkBoots refuses estimates that break the contract. One from a source
// this hub does not know (a newer box's) is not refused: noteBoots ignores
// it.
func checkBoots(boots []wire.BootTime) error {
	if len(boots) > wire.MaxBoots {
		return failure.Errorf(failure.Invalid, "%d boots, more than %d", len(boots), wire.MaxBoots)
	}
	for _, b := range boots {
		if b.BootID == "" || len(b.BootID) > 64 || b.ErrMS < -1 {
			return failure.Errorf(failure.Invalid, "boot %q: an empty or too long boot id, or an uncertainty of %d ms", b.BootID, b.ErrMS)
		}
	}
	return nil
}

func asBoot(id string, start int64, source string, errMS int64) timekeeper.Boot {
	b := timekeeper.Boot{ID: id, Start: time.UnixMilli(start), Source: timekeeper.Source(source), Err: timekeeper.Unknown}
	if errMS >= 0 {
		b.Err = time.Duration(errMS) * time.Millisecond
	}
	return b
}

// noteBoots keeps a box's estimates of its boots, each only when better
// than the one held (timekeeper.Boot.Better), and the bounds a bundle
// gives (before: boot → the latest it can have begun; the earliest bound
// is kept). It returns the boots whose dating may have changed.
func (h *Store) noteBoots(ctx context.Context, tx *Tx, box string, boots []wire.BootTime, before map[string]int64) ([]string, error) {
	if err := checkBoots(boots); err != nil {
		return nil, err
	}
	var changed []string
	note := func(id string, est *wire.BootTime, bound int64) error {
		var start, errMS, beforeMS int64
		var source string
		err := tx.queryRow(ctx, "SELECT start_ms, source, err_ms, before_ms FROM box_boots WHERE box_id = ? AND boot_id = ?", box, id).
			Scan(&start, &source, &errMS, &beforeMS)
		held := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("hub: boots: %w", err)
		}
		newStart, newSource, newErr, newBefore := start, source, errMS, beforeMS
		if est != nil && (source == "" || asBoot(id, est.StartMS, est.Source, est.ErrMS).Better(asBoot(id, start, source, errMS))) {
			newStart, newSource, newErr = est.StartMS, est.Source, est.ErrMS
		}
		if bound > 0 && (newBefore == 0 || bound < newBefore) {
			newBefore = bound
		}
		if held && newStart == start && newSource == source && newErr == errMS && newBefore == beforeMS {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO box_boots (box_id, boot_id, start_ms, source, err_ms, before_ms) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (box_id, boot_id) DO UPDATE SET start_ms = excluded.start_ms, source = excluded.source, err_ms = excluded.err_ms, before_ms = excluded.before_ms`,
			box, id, newStart, newSource, newErr, newBefore); err != nil {
			return fmt.Errorf("hub: boots: %w", err)
		}
		changed = append(changed, id)
		return nil
	}
	for i := range boots {
		if !timekeeper.Source(boots[i].Source).Valid() {
			continue
		}
		if err := note(boots[i].BootID, &boots[i], before[boots[i].BootID]); err != nil {
			return nil, err
		}
	}
	for id, bound := range before {
		if err := note(id, nil, bound); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// redate dates again the events held of the given boots of a box, and
// the report rows derived from them, by the best the hub now knows of
// each boot.
func (h *Store) redate(ctx context.Context, tx *Tx, box string, boots []string) error {
	for _, id := range boots {
		bb, err := h.boxBoot(ctx, tx, box, id)
		if err != nil {
			return err
		}
		f, ok := bb.best()
		if !ok || f.basis == "box-clock" {
			continue // no better than what the events were stored with
		}
		res, err := tx.exec(ctx, `UPDATE events SET time_ms = CASE WHEN CAST(? AS BIGINT) < 0 AND CAST(? AS BIGINT) + mono_ms > received_ms
				THEN received_ms ELSE CAST(? AS BIGINT) + mono_ms END,
			time_basis = ?, time_err_ms = CAST(? AS BIGINT)
			WHERE box_id = ? AND boot_id = ? AND NOT (time_basis = ? AND time_err_ms = CAST(? AS BIGINT) AND time_ms = CAST(? AS BIGINT) + mono_ms)`,
			f.errMS, f.start, f.start, f.basis, f.errMS, box, id, f.basis, f.errMS, f.start)
		if err != nil {
			return fmt.Errorf("hub: re-date events: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		for _, table := range []string{"answers", "lessons_done"} {
			if _, err := tx.exec(ctx, `UPDATE `+table+` SET time_ms = (SELECT e.time_ms FROM events e WHERE e.box_id = `+table+`.box_id AND e.epoch = `+table+`.epoch AND e.seq = `+table+`.seq)
				WHERE box_id = ? AND EXISTS (SELECT 1 FROM events e WHERE e.box_id = `+table+`.box_id AND e.epoch = `+table+`.epoch AND e.seq = `+table+`.seq AND e.boot_id = ?)`, box, id); err != nil {
				return fmt.Errorf("hub: re-date %s: %w", table, err)
			}
		}
	}
	return nil
}

// EventTime is an event's corrected time, how it was found and how far
// off it may be (-1: unknown).
type EventTime struct {
	TimeMS int64
	Basis  string
	ErrMS  int64
}

// EventTime returns the corrected time of a box's event at seq (of the
// epoch that sent one there last).
func (h *Store) EventTime(ctx context.Context, box string, seq int64) (EventTime, error) {
	var e EventTime
	err := h.db.queryRow(ctx, "SELECT time_ms, time_basis, time_err_ms FROM events WHERE box_id = ? AND seq = ? ORDER BY received_ms DESC LIMIT 1", box, seq).Scan(&e.TimeMS, &e.Basis, &e.ErrMS)
	if errors.Is(err, sql.ErrNoRows) {
		return EventTime{}, failure.Errorf(failure.NotFound, "no event %d of box %s", seq, box)
	}
	if err != nil {
		return EventTime{}, fmt.Errorf("hub: event time: %w", err)
	}
	return e, nil
}
