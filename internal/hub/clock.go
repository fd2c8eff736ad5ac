package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Correcting the clocks of boxes. A box without a real-time clock boots
// with a wrong wall clock, so the hub stores, beside each event's raw
// clocks, a corrected time, how it was found (time_basis) and how far off
// it may be (time_err_ms, -1 unknown). Every event of one boot of a box is
// at that boot's start plus its time since boot, so what is dated is the
// boot; the best of these wins (docs/sync-protocol.md, "Time"):
//
//   - "boot": every batch that arrives over the network carries the box's
//     clocks at that moment (wall, boot id, ms since boot). The hub notes
//     when that boot began in its own time: start = hub now − ms since boot
//     (the smallest estimate seen wins: network delay only ever makes it
//     later). Exact up to the time a request takes to arrive (counted as
//     bootErr).
//   - "hub" or "devices": the box's own estimate of the boot's start
//     (wire.BootTime, in its bundles and status), from the hub's time at a
//     sync or the class's devices' clocks, with its uncertainty.
//   - "bounds": the box knows only a lower bound (its last known good time,
//     "saved"), and a bundle gives an upper one (it was imported after the
//     box wrote it): the middle, give or take half the interval.
//   - "saved": the lower bound alone.
//   - "offset": an event of a boot the hub never saw, arriving over the
//     network, is at its wall clock plus the offset measured by this batch
//     (hub now − box wall now): right if the box's clock was as wrong then
//     as it is now.
//   - "bundle": the boot's start by the box's wall clock is more than
//     maxTrip before the latest it can be by a bundle: the wall clock is
//     wrong, and the upper bound is nearer.
//   - "box-clock": the box's wall clock, as the box estimated the boot.
//   - "wall": the event's own wall clock, when nothing else is known.
//
// An event whose time is uncertain is never placed after the hub received
// it. Events already stored are re-dated when a better estimate of their
// boot arrives (redate).

// bootErr is the uncertainty counted for the hub's own observation of a
// boot: the time a request takes to arrive.
const bootErr = time.Second

// maxTrip is the longest a USB stick is taken to travel from a box to the
// hub: a boot the box's wall clock places further back than that from a
// bundle's bound is dated by the bound.
const maxTrip = 60 * 24 * time.Hour

// boxBoot is what the hub holds of a box's boot: its own observation, the
// box's estimate, and a bundle's bound.
type boxBoot struct {
	observed *int64 // start by the hub's observation
	start    int64  // the box's estimate ("" source: none)
	source   string
	errMS    int64
	beforeMS int64 // the boot began at or before this (0: unknown)
}

// fix is how a boot's events are dated: start plus their ms since boot.
type fix struct {
	start int64
	basis string
	errMS int64
}

// best returns how b's events are dated; ok is false when nothing is
// known of the boot.
func (b boxBoot) best() (fix, bool) {
	switch {
	case b.observed != nil:
		return fix{*b.observed, "boot", bootErr.Milliseconds()}, true
	case b.source != "" && b.errMS >= 0:
		return fix{b.start, b.source, b.errMS}, true
	case b.source == "saved" && b.beforeMS > b.start:
		half := (b.beforeMS - b.start) / 2
		return fix{b.start + half, "bounds", half}, true
	case b.source == "saved":
		return fix{b.start, "saved", -1}, true
	case b.beforeMS != 0 && (b.source == "" || b.start < b.beforeMS-maxTrip.Milliseconds() || b.start > b.beforeMS):
		return fix{b.beforeMS, "bundle", -1}, true
	case b.source != "":
		return fix{b.start, b.source, -1}, true
	}
	return fix{}, false
}

type clockFix struct {
	boots  map[string]boxBoot
	offset *int64 // hub − box wall clock, for online batches
	now    int64  // when the hub received the events
}

func (c clockFix) correct(ev wire.Event) (int64, string, int64) {
	if f, ok := c.boots[ev.BootID].best(); ok && (c.offset == nil || f.basis != "box-clock") {
		t := f.start + ev.MonoMS
		if f.errMS < 0 && t > c.now {
			t = c.now
		}
		return t, f.basis, f.errMS
	}
	if c.offset != nil {
		return ev.WallMS + *c.offset, "offset", -1
	}
	return ev.WallMS, "wall", -1
}

// observeClock records the box's clock reading of an online batch and
// returns what corrects the batch's events, and whether the batch's boot
// is one the hub had not seen (its events held already need re-dating).
func (h *Store) observeClock(ctx context.Context, tx *Tx, b wire.Batch, online bool, now time.Time) (clockFix, bool, error) {
	fix := clockFix{boots: map[string]boxBoot{}, now: now.UnixMilli()}
	newBoot := false
	if online && b.Clock.BootID != "" && b.Clock.WallMS != 0 {
		offset := now.UnixMilli() - b.Clock.WallMS
		fix.offset = &offset
		start := now.UnixMilli() - b.Clock.MonoMS
		var held int64
		err := tx.queryRow(ctx, "SELECT start_ms FROM boots WHERE box_id = ? AND boot_id = ?", b.BoxID, b.Clock.BootID).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			newBoot = true
		} else if err != nil {
			return clockFix{}, false, fmt.Errorf("hub: ingest: clock: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO boots (box_id, boot_id, start_ms, observed_ms) VALUES (?, ?, ?, ?)
			ON CONFLICT (box_id, boot_id) DO UPDATE SET start_ms = CASE WHEN excluded.start_ms < boots.start_ms THEN excluded.start_ms ELSE boots.start_ms END,
				observed_ms = excluded.observed_ms`, b.BoxID, b.Clock.BootID, start, now.UnixMilli()); err != nil {
			return clockFix{}, false, fmt.Errorf("hub: ingest: clock: %w", err)
		}
		if _, err := tx.exec(ctx, "UPDATE boxes SET offset_ms = ?, clock_ms = ? WHERE id = ?", offset, now.UnixMilli(), b.BoxID); err != nil {
			return clockFix{}, false, fmt.Errorf("hub: ingest: clock: %w", err)
		}
	}
	for _, ev := range b.Events {
		if _, seen := fix.boots[ev.BootID]; seen {
			continue
		}
		bb, err := h.boxBoot(ctx, tx, b.BoxID, ev.BootID)
		if err != nil {
			return clockFix{}, false, err
		}
		fix.boots[ev.BootID] = bb
	}
	return fix, newBoot, nil
}

// boxBoot reads what the hub holds of a boot.
func (h *Store) boxBoot(ctx context.Context, tx *Tx, box, boot string) (boxBoot, error) {
	var bb boxBoot
	var start int64
	err := tx.queryRow(ctx, "SELECT start_ms FROM boots WHERE box_id = ? AND boot_id = ?", box, boot).Scan(&start)
	switch {
	case err == nil:
		bb.observed = &start
	case !errors.Is(err, sql.ErrNoRows):
		return boxBoot{}, fmt.Errorf("hub: clock: %w", err)
	}
	err = tx.queryRow(ctx, "SELECT start_ms, source, err_ms, before_ms FROM box_boots WHERE box_id = ? AND boot_id = ?", box, boot).
		Scan(&bb.start, &bb.source, &bb.errMS, &bb.beforeMS)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return boxBoot{}, fmt.Errorf("hub: clock: %w", err)
	}
	return bb, nil
}
