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
// and moves the cursor to what the hub answers — only then, so a box that
// stops mid-batch sends that batch again, and the hub keeps it once.
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
		evs, err := s.db.EventsAfter(ctx, st.AckedSeq, s.currentBatchSize())
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		body, err := wire.Marshal(wire.Batch{BoxID: boxID, Clock: stamp(s.db), Events: toWire(evs)})
		if err != nil {
			return err
		}
		var resp wire.IngestResponse
		before := s.db.Clock().Now()
		err = c.json(ctx, http.MethodPost, wire.PathEvents, body, map[string]string{"Content-Type": wire.MediaType, "Content-Encoding": "gzip"}, &resp)
		var he *hubError
		if errors.As(err, &he) && he.status == http.StatusRequestEntityTooLarge && s.shrinkBatch() {
			continue // try again with smaller batches
		}
		if err != nil {
			return err
		}
		s.hubTime(resp.HubMS, before)
		last := evs[len(evs)-1].Seq
		if err := s.db.AckUpstream(ctx, resp.AckedSeq, store.UpstreamTraffic{BytesSent: c.sent, BytesReceived: c.received, Events: int64(len(evs))}, time.Now()); err != nil {
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
		if resp.AckedSeq <= st.AckedSeq {
			if stuck++; stuck >= 3 {
				return fmt.Errorf("upstream: the hub does not acknowledge events after %d", resp.AckedSeq)
			}
		} else {
			stuck = 0
		}
	}
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
