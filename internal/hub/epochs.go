package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Epochs: a box's events form one stream per epoch (wire.Stream). A box
// restored from an old backup goes on under a new epoch, whose events follow
// a base seq after its parent epoch's line; the hub keeps every epoch apart
// (events, answers and lessons are keyed by box, epoch and seq), so the old
// and the new stream are both kept and an event id is held once per box.
// An epoch's acknowledgement is its line's: the parent's up to the base,
// then the epoch's own events held contiguously (docs/sync-protocol.md).

// DivergedError refuses a batch whose epoch holds another event at Seq on
// the hub: the box's history diverged there. The API answers 409 with
// diverged_at, and the box goes on under a new epoch from Seq − 1. With
// Held (and Seq 0), it refuses a batch with an event the hub holds in
// another epoch: the box takes that epoch for its events from there.
type DivergedError struct {
	Seq  int64
	Held *wire.HeldEvent
	Err  error
}

func (e *DivergedError) Error() string { return e.Err.Error() }
func (e *DivergedError) Unwrap() error { return e.Err }

// epochName is " (epoch E)" for a named epoch, "" for a box's first one.
func epochName(epoch string) string {
	if epoch == "" {
		return ""
	}
	return " (epoch " + epoch + ")"
}

// heldElsewhere returns the error for a batch of epoch with an event the
// hub holds in another place: where it holds the first such event.
func (h *Store) heldElsewhere(ctx context.Context, tx *Tx, box, epoch string, evs []wire.Event, fresh []int) error {
	err := failure.Errorf(failure.Conflict, "an event id of box %s is already held at another sequence number or in another epoch; nothing of this batch was stored", box)
	for _, i := range fresh {
		held := wire.HeldEvent{ID: evs[i].ID}
		e := tx.queryRow(ctx, `SELECT e.epoch, e.seq, b.base_seq, b.parent FROM events e JOIN box_epochs b ON b.box_id = e.box_id AND b.epoch = e.epoch
			WHERE e.box_id = ? AND e.id = ? AND NOT (e.epoch = ? AND e.seq = ?)`, box, evs[i].ID, epoch, evs[i].Seq).Scan(&held.Epoch, &held.Seq, &held.Base, &held.Parent)
		if errors.Is(e, sql.ErrNoRows) {
			continue
		}
		if e != nil {
			return fmt.Errorf("hub: ingest: %w", e)
		}
		return &DivergedError{Held: &held, Err: err}
	}
	return err
}

// epochRow is an epoch of a box as the hub holds it.
type epochRow struct {
	name, parent string
	base, acked  int64
}

// epoch returns the batch's epoch of box, registering it the first time.
// An epoch named again with another base or parent is refused: a box never
// changes where an epoch starts.
func (h *Store) epoch(ctx context.Context, tx *Tx, box string, s wire.Stream, now time.Time) (epochRow, error) {
	if err := s.Check(); err != nil {
		return epochRow{}, failure.Errorf(failure.Invalid, "%v", err)
	}
	ep := epochRow{name: s.Epoch}
	err := tx.queryRow(ctx, "SELECT base_seq, parent, acked_seq FROM box_epochs WHERE box_id = ? AND epoch = ?", box, s.Epoch).Scan(&ep.base, &ep.parent, &ep.acked)
	if errors.Is(err, sql.ErrNoRows) {
		ep = epochRow{name: s.Epoch, parent: s.Parent, base: s.Base, acked: s.Base}
		// Its rank: its parent's + 1 (1 under a parent the hub does not
		// know yet), for the order of its answers (summary.go).
		rank := int64(0)
		if s.Epoch != "" {
			if err := tx.queryRow(ctx, "SELECT coalesce(MAX(rank), 0) + 1 FROM box_epochs WHERE box_id = ? AND epoch = ?", box, s.Parent).Scan(&rank); err != nil {
				return epochRow{}, fmt.Errorf("hub: ingest: epoch: %w", err)
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO box_epochs (box_id, epoch, base_seq, parent, acked_seq, created_ms, updated_ms, rank)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, box, s.Epoch, s.Base, s.Parent, s.Base, now.UnixMilli(), now.UnixMilli(), rank); err != nil {
			return epochRow{}, fmt.Errorf("hub: ingest: epoch: %w", err)
		}
		return ep, nil
	}
	if err != nil {
		return epochRow{}, fmt.Errorf("hub: ingest: epoch: %w", err)
	}
	if ep.base != s.Base || ep.parent != s.Parent {
		return epochRow{}, failure.Errorf(failure.Conflict, "epoch %s of box %s started after seq %d of epoch %q, not after %d of %q; nothing of this batch was stored",
			s.Epoch, box, ep.base, ep.parent, s.Base, s.Parent)
	}
	return ep, nil
}

// settleEpoch records the epoch's own acknowledgement and the events just
// stored, and returns the acknowledgement of the epoch's line with the id
// of the event held there.
func (h *Store) settleEpoch(ctx context.Context, tx *Tx, box string, ep epochRow, stored int, now time.Time) (int64, string, error) {
	if _, err := tx.exec(ctx, "UPDATE box_epochs SET acked_seq = ?, events = events + ?, updated_ms = ? WHERE box_id = ? AND epoch = ?",
		ep.acked, stored, now.UnixMilli(), box, ep.name); err != nil {
		return 0, "", fmt.Errorf("hub: ingest: epoch: %w", err)
	}
	epochs, err := h.boxEpochs(ctx, tx, box)
	if err != nil {
		return 0, "", err
	}
	line, at := lineAck(epochs, ep.name)
	if line == 0 {
		return 0, "", nil
	}
	var id string
	if err := tx.queryRow(ctx, "SELECT id FROM events WHERE box_id = ? AND epoch = ? AND seq = ?", box, at, line).Scan(&id); err != nil {
		return 0, "", fmt.Errorf("hub: ingest: acknowledged event: %w", err)
	}
	return line, id, nil
}

func (h *Store) boxEpochs(ctx context.Context, tx *Tx, box string) (map[string]epochRow, error) {
	rows, err := tx.query(ctx, "SELECT epoch, parent, base_seq, acked_seq FROM box_epochs WHERE box_id = ?", box)
	if err != nil {
		return nil, fmt.Errorf("hub: epochs: %w", err)
	}
	defer rows.Close()
	out := map[string]epochRow{}
	for rows.Next() {
		var e epochRow
		if err := rows.Scan(&e.name, &e.parent, &e.base, &e.acked); err != nil {
			return nil, fmt.Errorf("hub: epochs: %w", err)
		}
		out[e.name] = e
	}
	return out, rows.Err()
}

// lineAck returns the highest seq held contiguously from 1 along epoch's
// line, and the epoch that holds the event at that seq: the parent's line
// up to the epoch's base, then the epoch's own events. A parent the hub
// does not know yet holds nothing (its line acknowledges 0), so the box
// sends its events again and the hub learns it.
func lineAck(epochs map[string]epochRow, epoch string) (int64, string) {
	e, ok := epochs[epoch]
	if !ok {
		return 0, ""
	}
	if epoch == "" {
		return e.acked, ""
	}
	// Epochs of one box are a handful; a cycle (a box's bug) ends here.
	seen := map[string]bool{epoch: true}
	chain := []epochRow{e}
	for p := e; p.name != ""; {
		next, ok := epochs[p.parent]
		if !ok || seen[p.parent] {
			return 0, ""
		}
		seen[p.parent] = true
		chain = append(chain, next)
		p = next
	}
	// From the root epoch "" out to epoch: each one holds its line past
	// its base only if the line before it reaches the base.
	line, at := chain[len(chain)-1].acked, ""
	for i := len(chain) - 2; i >= 0; i-- {
		c := chain[i]
		if line < c.base {
			return line, at
		}
		line = c.acked
		if c.acked > c.base {
			at = c.name
		} else {
			at = holderAt(chain[i+1:], line) // nothing of its own yet
		}
	}
	return line, at
}

// holderAt returns the epoch of chain (an epoch and its ancestors, nearest
// first) that holds the event at seq on that line.
func holderAt(chain []epochRow, seq int64) string {
	for _, e := range chain {
		if seq > e.base || e.name == "" {
			return e.name
		}
	}
	return ""
}

// EpochState is where one epoch of a box stands on the hub.
type EpochState struct {
	Epoch, Parent string
	Base          int64 // the epoch's events follow this seq
	Own           int64 // its own events held contiguously from Base + 1
	Line          int64 // its line's acknowledgement (what the box is told)
	Events        int64
	Created       time.Time
}

// Epochs lists the epochs of a box, the first first.
func (h *Store) Epochs(ctx context.Context, boxID string) ([]EpochState, error) {
	var out []EpochState
	err := h.db.inTx(ctx, func(tx *Tx) error {
		epochs, err := h.boxEpochs(ctx, tx, boxID)
		if err != nil {
			return err
		}
		rows, err := tx.query(ctx, "SELECT epoch, events, created_ms FROM box_epochs WHERE box_id = ? ORDER BY created_ms, epoch", boxID)
		if err != nil {
			return fmt.Errorf("hub: epochs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s EpochState
			var created int64
			if err := rows.Scan(&s.Epoch, &s.Events, &created); err != nil {
				return fmt.Errorf("hub: epochs: %w", err)
			}
			e := epochs[s.Epoch]
			s.Parent, s.Base, s.Own, s.Created = e.parent, e.base, e.acked, time.UnixMilli(created)
			s.Line, _ = lineAck(epochs, s.Epoch)
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// StreamAcks acknowledges every epoch of a box: its line's acknowledgement
// and the id of the event held there (for a bundle's acknowledgement).
func (h *Store) StreamAcks(ctx context.Context, boxID string) ([]wire.StreamAck, error) {
	var out []wire.StreamAck
	err := h.db.inTx(ctx, func(tx *Tx) error {
		epochs, err := h.boxEpochs(ctx, tx, boxID)
		if err != nil {
			return err
		}
		for name := range epochs {
			a := wire.StreamAck{Epoch: name}
			var at string
			a.AckedSeq, at = lineAck(epochs, name)
			if a.AckedSeq > 0 {
				if err := tx.queryRow(ctx, "SELECT id FROM events WHERE box_id = ? AND epoch = ? AND seq = ?", boxID, at, a.AckedSeq).Scan(&a.AckedID); err != nil {
					return fmt.Errorf("hub: acknowledge: %w", err)
				}
			}
			out = append(out, a)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Epoch < out[j].Epoch })
	return out, err
}
