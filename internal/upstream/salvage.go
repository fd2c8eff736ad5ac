package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// SalvageError is a sync whose own events went up but whose events kept
// from a replaced database the hub refused for a reason of its own (not a
// divergence, which moves them to an epoch of their own). They stay on the
// box, the error is the sync's last error (here and in the status the hub
// sees), and the sync goes on: the pull runs, and the salvage is tried
// again on its own schedule. Like a PullError, it is not a failed sync.
type SalvageError struct{ Err error }

func (e *SalvageError) Error() string {
	return "the hub refuses events kept from a replaced database (they wait on the box): " + e.Err.Error()
}
func (e *SalvageError) Unwrap() error { return e.Err }

// salvageState schedules the salvage after a refusal: from MinBackoff,
// doubling, up to MaxBackoff (or sooner when an admin asks for a sync).
type salvageState struct {
	next     time.Time
	failures int
	refused  *SalvageError // the last refusal, reported until the salvage goes up
}

// pushSalvage sends the events a restore kept from the database it
// replaced that the hub had not acknowledged (store.Restore), each in the
// epoch and at the seq it had there, so the hub holds them as that
// database would have sent them. A run the hub refuses as diverged (it
// holds other events there) goes up under a new epoch of its own; one it
// refuses otherwise is a *SalvageError.
func (s *Syncer) pushSalvage(ctx context.Context, c *hubClient, boxID string) error {
	s.mu.Lock()
	wait, refused := s.salvage.next, s.salvage.refused
	s.mu.Unlock()
	if refused != nil && time.Now().Before(wait) {
		return refused
	}
	stuck := 0
	for {
		run, err := s.db.SalvagedEvents(ctx, s.currentBatchSize())
		if err != nil {
			return err
		}
		if len(run.Events) == 0 {
			s.salvaged(nil)
			return nil
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
		if refusedData(err) {
			return s.salvaged(fmt.Errorf("epoch %q from seq %d: %w", run.Epoch.Name, run.Events[0].Seq, err))
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
				return s.salvaged(fmt.Errorf("the hub lacks this box's events before seq %d of epoch %q (it acknowledges %d)", first, run.Epoch.Name, resp.AckedSeq))
			}
		} else {
			stuck = 0
		}
	}
}

// salvaged records how the salvage ended: nil when nothing waits, else why
// the hub refused it, returned as a *SalvageError and retried later.
func (s *Syncer) salvaged(refusal error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if refusal == nil {
		s.salvage = salvageState{}
		return nil
	}
	s.salvage.failures++
	d := s.cfg.MinBackoff
	for i := 1; i < s.salvage.failures && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	s.salvage.next = time.Now().Add(min(d, s.cfg.MaxBackoff))
	s.salvage.refused = &SalvageError{Err: refusal}
	return s.salvage.refused
}
