package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// push sends every event after the acknowledged cursor, a batch at a time,
// each batch of one epoch, and moves the cursor to what the hub answers —
// only then, so a box that stops mid-batch sends that batch again, and the
// hub keeps it once. Then it sends the events a restore salvaged from the
// database it replaced (salvage.go).
//
// A box restored from an old backup finds out here that the hub holds
// other events than its own at the seqs it uses: the hub refuses a batch as
// diverged at a seq, or acknowledges more of the box's line than the box
// has. It then starts a new epoch after the last seq they agree on, and its
// newer events go up under it (docs/sync-protocol.md, "Epochs").
func (s *Syncer) push(ctx context.Context, c *hubClient) error {
	boxID, err := s.db.BoxID(ctx)
	if err != nil {
		return err
	}
	stuck := 0
	for {
		st, err := s.db.UpstreamState(ctx)
		if err != nil {
			return err
		}
		ep, err := s.db.EpochOf(ctx, st.AckedSeq+1)
		if err != nil {
			return err
		}
		evs, err := s.db.EventsIn(ctx, ep, st.AckedSeq, s.currentBatchSize())
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return s.pushSalvage(ctx, c, boxID)
		}
		before := s.db.Clock().Now()
		resp, err := s.postBatch(ctx, c, wire.Batch{BoxID: boxID, Stream: streamOf(ep), Clock: stamp(s.db), Events: toWire(evs)})
		if errors.Is(err, errShrunk) {
			continue
		}
		var he *hubError
		if errors.As(err, &he) && he.divergedAt > 0 {
			if err := s.diverged(ctx, ep, he.divergedAt, err); err != nil {
				return err
			}
			continue
		}
		if errors.As(err, &he) && he.held != nil {
			if err := s.adopt(ctx, he.held, err); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		s.hubTime(resp.HubMS, before)
		last := evs[len(evs)-1].Seq
		next, err := s.believe(ctx, ep, resp, last)
		if err != nil {
			return err
		}
		if err := s.db.AckUpstream(ctx, next, store.UpstreamTraffic{BytesSent: c.sent, BytesReceived: c.received, Events: int64(len(evs))}, time.Now()); err != nil {
			return err
		}
		c.sent, c.received = 0, 0 // recorded with the ack
		switch {
		case resp.AckedSeq < st.AckedSeq:
			s.log.Warn("the hub holds fewer of this box's events than it acknowledged before (restored from a backup?); sending them again",
				"was", st.AckedSeq, "now", resp.AckedSeq)
		case resp.AckedSeq < last:
			// The hub lacks something before this batch: the cursor now
			// points at the gap, and the next batch fills it.
			s.log.Info("the hub asks for earlier events again", "acked", resp.AckedSeq, "sent_up_to", last)
		}
		if next <= st.AckedSeq {
			if stuck++; stuck >= 3 {
				return fmt.Errorf("upstream: the hub does not acknowledge events after %d", resp.AckedSeq)
			}
		} else {
			stuck = 0
		}
	}
}

// errShrunk means a batch was too large for the hub: send it again smaller.
var errShrunk = errors.New("upstream: batch too large, shrunk")

// postBatch sends one batch.
func (s *Syncer) postBatch(ctx context.Context, c *hubClient, b wire.Batch) (wire.IngestResponse, error) {
	body, err := wire.Marshal(b)
	if err != nil {
		return wire.IngestResponse{}, err
	}
	var resp wire.IngestResponse
	err = c.json(ctx, http.MethodPost, wire.PathEvents, body, map[string]string{"Content-Type": wire.MediaType, "Content-Encoding": "gzip"}, &resp)
	var he *hubError
	if errors.As(err, &he) && he.status == http.StatusRequestEntityTooLarge && s.shrinkBatch() {
		return resp, errShrunk
	}
	return resp, err
}

// believe returns the cursor after the hub acknowledged a batch of epoch ep
// ending at last. The hub acknowledges its line, which may reach past the
// batch (events it got on a USB stick, say): the box takes that only where
// the hub's event at that seq is the box's own. An acknowledgement past the
// box's last event of its current epoch means the hub holds more of this
// line than the box has — the box was restored from a backup — and the box
// starts a new epoch after its last event.
func (s *Syncer) believe(ctx context.Context, ep store.Epoch, resp wire.IngestResponse, last int64) (int64, error) {
	if resp.AckedSeq <= last {
		return resp.AckedSeq, nil
	}
	boxLast, err := s.db.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	if ep.Contains(resp.AckedSeq) && resp.AckedSeq <= boxLast {
		if resp.AckedID == "" {
			return resp.AckedSeq, nil // a hub before epochs: as it always was
		}
		ev, err := s.db.Event(ctx, resp.AckedID)
		if err == nil && ev.Seq == resp.AckedSeq {
			return resp.AckedSeq, nil
		}
		// The hub holds another event there: the next batch finds where
		// the histories part.
		return last, nil
	}
	if ep.End == 0 && last == boxLast && resp.AckedID != "" {
		e, err := s.db.StartEpoch(ctx, last, fmt.Sprintf("the hub holds this box's events up to %d, the box only up to %d", resp.AckedSeq, last))
		if err != nil {
			return 0, err
		}
		s.log.Warn("the hub holds more of this box's events than the box (restored from a backup?); its new events go up under a new epoch",
			"hub_acked", resp.AckedSeq, "box_last", last, "epoch", e.Name)
	}
	return last, nil
}

// diverged handles a batch of epoch ep that the hub refused because it
// holds another event at seq at: the box's current epoch ends before it and
// a new one starts. A past epoch cannot be started again: that is an error
// a person must look at.
func (s *Syncer) diverged(ctx context.Context, ep store.Epoch, at int64, herr error) error {
	if ep.End != 0 {
		return fmt.Errorf("upstream: the hub holds other events than this box's from seq %d of epoch %q, which the box sent long ago: %w", at, ep.Name, herr)
	}
	e, err := s.db.StartEpoch(ctx, at-1, fmt.Sprintf("the hub holds another event at seq %d", at))
	if err != nil {
		return fmt.Errorf("upstream: %v, after: %w", err, herr)
	}
	s.log.Warn("the hub holds other events than this box's (restored from a backup?); the box's new events go up under a new epoch",
		"from_seq", at, "epoch", e.Name)
	return nil
}

// adopt takes the epoch in which the hub holds one of the box's events for
// the box's events from there on: the box was restored by hand from a
// backup taken before it learned it had to start that epoch.
func (s *Syncer) adopt(ctx context.Context, held *wire.HeldEvent, herr error) error {
	e := store.Epoch{Name: held.Epoch, Base: held.Base, Parent: held.Parent}
	if err := s.db.AdoptEpoch(ctx, e, held.Seq, held.ID); err != nil {
		return fmt.Errorf("upstream: %v, after: %w", err, herr)
	}
	s.log.Warn("the hub holds this box's events in an epoch the box did not know (restored from a backup?); the box takes it",
		"epoch", e.Name, "from_seq", held.Seq)
	return nil
}

func streamOf(e store.Epoch) wire.Stream {
	return wire.Stream{Epoch: e.Name, Base: e.Base, Parent: e.Parent}
}

func toWire(evs []event.Event) []wire.Event {
	out := make([]wire.Event, len(evs))
	for i, ev := range evs {
		out[i] = wire.Event{Seq: ev.Seq, ID: ev.ID, Kind: ev.Kind, Actor: ev.Actor, WallMS: ev.Wall.UnixMilli(), BootID: ev.BootID, MonoMS: ev.Uptime.Milliseconds(), Payload: ev.Payload}
	}
	return out
}

func (s *Syncer) currentBatchSize() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batchSize
}

// shrinkBatch halves the batch size after the hub refused a batch as too
// large; false once it cannot shrink further.
func (s *Syncer) shrinkBatch() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.batchSize <= minBatchSize {
		return false
	}
	s.batchSize = max(minBatchSize, s.batchSize/2)
	s.log.Info("the hub finds batches too large; sending smaller ones", "events", s.batchSize)
	return true
}
