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
// clocks, a corrected time and how it was found (time_basis):
//
//   - "boot": every batch that arrives over the network carries the box's
//     clocks at that moment (wall, boot id, ms since boot). The hub notes
//     when that boot began in its own time: start = hub now − ms since boot
//     (the smallest estimate seen wins: network delay only ever makes it
//     later). An event of a boot the hub has seen is then at start + its
//     ms since boot, whatever the box's wall clock said. This is exact up
//     to the time a request takes to arrive.
//   - "offset": an event of a boot the hub never saw (the box rebooted
//     before it could sync) is at its wall clock plus the offset measured
//     by this batch (hub now − box wall now): right if the box's clock was
//     as wrong then as it is now.
//   - "wall": an event of a sneakernet bundle from a boot never seen
//     online keeps the box's wall clock: a bundle is imported days after it
//     was written, so its clock reading cannot be compared with the hub's.

type clockFix struct {
	boots  map[string]int64 // boot id → start, hub ms
	offset *int64           // hub − box wall clock, for online batches
}

func (c clockFix) correct(ev wire.Event) (int64, string) {
	if start, ok := c.boots[ev.BootID]; ok {
		return start + ev.MonoMS, "boot"
	}
	if c.offset != nil {
		return ev.WallMS + *c.offset, "offset"
	}
	return ev.WallMS, "wall"
}

// observeClock records the box's clock reading of an online batch and
// returns what corrects the batch's events.
func (h *Store) observeClock(ctx context.Context, tx *Tx, b wire.Batch, online bool, now time.Time) (clockFix, error) {
	fix := clockFix{boots: map[string]int64{}}
	if online && b.Clock.BootID != "" && b.Clock.WallMS != 0 {
		offset := now.UnixMilli() - b.Clock.WallMS
		fix.offset = &offset
		start := now.UnixMilli() - b.Clock.MonoMS
		if _, err := tx.exec(ctx, `INSERT INTO boots (box_id, boot_id, start_ms, observed_ms) VALUES (?, ?, ?, ?)
			ON CONFLICT (box_id, boot_id) DO UPDATE SET start_ms = CASE WHEN excluded.start_ms < boots.start_ms THEN excluded.start_ms ELSE boots.start_ms END,
				observed_ms = excluded.observed_ms`, b.BoxID, b.Clock.BootID, start, now.UnixMilli()); err != nil {
			return clockFix{}, fmt.Errorf("hub: ingest: clock: %w", err)
		}
		if _, err := tx.exec(ctx, "UPDATE boxes SET offset_ms = ?, clock_ms = ? WHERE id = ?", offset, now.UnixMilli(), b.BoxID); err != nil {
			return clockFix{}, fmt.Errorf("hub: ingest: clock: %w", err)
		}
	}
	seen := map[string]bool{}
	for _, ev := range b.Events {
		if seen[ev.BootID] {
			continue
		}
		seen[ev.BootID] = true
		var start int64
		err := tx.queryRow(ctx, "SELECT start_ms FROM boots WHERE box_id = ? AND boot_id = ?", b.BoxID, ev.BootID).Scan(&start)
		switch {
		case err == nil:
			fix.boots[ev.BootID] = start
		case !errors.Is(err, sql.ErrNoRows):
			return clockFix{}, fmt.Errorf("hub: ingest: clock: %w", err)
		}
	}
	return fix, nil
}
