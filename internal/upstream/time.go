package upstream

import (
	"context"
	"log/slog"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// How sync helps the box keep time (internal/timekeeper), and tells the
// hub what the box knows of its boots: the hub's time in each answer to a
// batch sets the box's time (Config.Time); bundles and the box's status
// carry its estimate of when each boot began; the hub's time in an
// acknowledgement carried back on a stick is a time that has passed.

// stamp reads the box's clocks now, for the hub's clock correction.
func stamp(db *store.DB) wire.Clock {
	now := db.Clock().Now()
	return wire.Clock{WallMS: now.Wall.UnixMilli(), BootID: now.BootID, MonoMS: now.Uptime.Milliseconds()}
}

// bootTimes returns the box's estimates of the given boots, for the hub.
func bootTimes(ctx context.Context, db *store.DB, ids []string) ([]wire.BootTime, error) {
	boots, err := db.BootsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(boots) > wire.MaxBoots {
		boots = boots[len(boots)-wire.MaxBoots:]
	}
	out := make([]wire.BootTime, len(boots))
	for i, b := range boots {
		out[i] = bootTime(b)
	}
	return out, nil
}

func bootTime(b timekeeper.Boot) wire.BootTime {
	errMS := int64(-1)
	if b.Known() {
		errMS = b.Err.Milliseconds()
	}
	return wire.BootTime{BootID: b.ID, StartMS: b.Start.UnixMilli(), Source: string(b.Source), ErrMS: errMS}
}

// bootIDs adds the boots of evs to seen, keeping their first order.
func bootIDs(evs []event.Event, seen map[string]bool, ids []string) []string {
	for _, ev := range evs {
		if !seen[ev.BootID] {
			seen[ev.BootID] = true
			ids = append(ids, ev.BootID)
		}
	}
	return ids
}

// clockStatus tells the hub how the box keeps time: nil without a keeper.
func (s *Syncer) clockStatus(ctx context.Context) *wire.ClockStatus {
	k := s.cfg.Time
	if k == nil {
		return nil
	}
	r := k.Now()
	st := &wire.ClockStatus{Source: string(r.Source), ErrMS: -1, DriftMS: r.Drift().Milliseconds()}
	if r.Err >= 0 {
		st.ErrMS = r.Err.Milliseconds()
	}
	boots, err := s.db.Boots(ctx)
	if err != nil {
		s.log.Warn("read the box's boots for the hub", "err", err)
		return st
	}
	// The current boot as the keeper knows it now, which it may not have
	// saved yet.
	cur, kept := k.Boot(), false
	for i := range boots {
		if boots[i].ID == cur.ID {
			boots[i], kept = timekeeper.Merge(boots[i], cur), true
		}
	}
	if !kept {
		boots = append(boots, cur)
	}
	if len(boots) > maxReportedBoots {
		boots = boots[len(boots)-maxReportedBoots:]
	}
	for _, b := range boots {
		st.Boots = append(st.Boots, bootTime(b))
	}
	return st
}

// maxReportedBoots is how many of its latest boots a box reports.
const maxReportedBoots = 20

// hubTime sets the box's time by the hub's, read between two readings of
// the box's clocks.
func (s *Syncer) hubTime(hubMS int64, before clock.Stamp) {
	if s.cfg.Time == nil || hubMS <= 0 {
		return
	}
	s.cfg.Time.HubTime(time.UnixMilli(hubMS), before, s.cfg.Time.Clock().Now())
}

// passed tells the box's time keeping that the hub's time t has passed
// (an acknowledgement carried back on a stick), from any process: it
// saves at once.
func passed(ctx context.Context, db *store.DB, t time.Time) {
	k, err := timekeeper.Open(ctx, db.Clock(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		return
	}
	k.Passed(t)
	k.Save(ctx)
}
