package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// pushSalvage sends the events a restore kept from the database it
// replaced that the hub had not acknowledged (store.Restore), each in the
// epoch and at the seq it had there, so the hub holds them as that
// database would have sent them. A run the hub refuses as diverged (it
// holds other events there) goes up under a new epoch of its own.
func (s *Syncer) pushSalvage(ctx context.Context, c *hubClient, boxID string) error {
	stuck := 0
	for {
		run, err := s.db.SalvagedEvents(ctx, s.currentBatchSize())
		if err != nil || len(run.Events) == 0 {
			return err
		}
		resp, err := s.postBatch(ctx, c, wire.Batch{BoxID: boxID, Stream: streamOf(run.Epoch), Clock: stamp(s.db), Events: toWire(run.Events)})
		if errors.Is(err, errShrunk) {
			continue
		}
		var he *hubError
		if errors.As(err, &he) && he.divergedAt > 0 {
			name, rerr := s.db.RehomeSalvage(ctx, run.Epoch.Name, he.divergedAt)
			if rerr != nil {
				return fmt.Errorf("upstream: %v, after: %w", rerr, err)
			}
			s.log.Warn("events kept from a replaced database go up under an epoch of their own", "from_seq", he.divergedAt, "epoch", name)
			continue
		}
		if err != nil {
			return err
		}
		first, last := run.Events[0].Seq, run.Events[len(run.Events)-1].Seq
		upTo := min(resp.AckedSeq, last)
		if err := s.db.AckSalvaged(ctx, run.Epoch.Name, first, upTo, store.UpstreamTraffic{BytesSent: c.sent, BytesReceived: c.received, Events: int64(len(run.Events))}, time.Now()); err != nil {
			return err
		}
		c.sent, c.received = 0, 0
		if upTo < first {
			if stuck++; stuck >= 3 {
				return fmt.Errorf("upstream: the hub lacks this box's events before seq %d of epoch %q (it acknowledges %d); the events kept from the replaced database wait",
					first, run.Epoch.Name, resp.AckedSeq)
			}
		} else {
			stuck = 0
		}
	}
}
