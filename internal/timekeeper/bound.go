package timekeeper

import (
	"context"
	"fmt"
	"time"
)

// Bounding earlier boots. A boot in which no device told the time and the
// hub was not reached is dated only by a lower bound (Saved: it began
// after the last time an earlier boot knew it was running). Once a later
// boot is dated, that boot is bounded above too: it ended before the later
// one began, so it began at the latest at the later boot's start less the
// time it ran. Such a boot is then dated in the middle of its bounds, give
// or take half the interval (still Saved, now with a known uncertainty).

// maxBounded is how many of the boots before the current one are bounded.
const maxBounded = 20

// lower is the lower bound a boot dated from the saved time began after;
// for other sources, its estimated start (the next boot's floor then keeps
// the box's dates in order across boots).
func (b Boot) lower() time.Time {
	if b.Source == Saved && b.Known() {
		return b.Start.Add(-b.Err)
	}
	return b.Start
}

// boundEarlier bounds the boots before cur (newest first) by cur's start.
func (k *Keeper) boundEarlier(ctx context.Context, cur Boot) error {
	boots, err := k.store.Boots(ctx)
	if err != nil {
		return fmt.Errorf("timekeeper: bound earlier boots: %w", err)
	}
	upper := cur.Start.Add(cur.Err) // the latest the boot after the one looked at can have begun
	n := 0
	for i := len(boots) - 1; i >= 0 && n < maxBounded; i-- {
		b := boots[i]
		if b.ID == cur.ID {
			continue
		}
		n++
		latest := upper.Add(-b.Seen) // it ran for at least Seen before the next began
		switch {
		case b.Source == Saved && !latest.Before(b.lower()):
			half := latest.Sub(b.lower()) / 2
			est := Boot{ID: b.ID, Start: b.lower().Add(half), Source: Saved, Err: half, Seen: b.Seen}
			if est.Better(b) {
				if _, err := k.store.SaveBoot(ctx, est); err != nil {
					return fmt.Errorf("timekeeper: bound boot %s: %w", b.ID, err)
				}
			}
		case b.Known() && b.Start.Add(b.Err).Before(latest):
			latest = b.Start.Add(b.Err)
		}
		upper = latest
	}
	return nil
}
