package hub_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// restamp gives events other ids (suffix) and moves them to start after
// base: another stream's events at the same seqs.
func restamp(evs []wire.Event, base int64, suffix string) []wire.Event {
	out := make([]wire.Event, len(evs))
	for i, ev := range evs {
		ev.ID = ev.ID[:24] + suffix
		ev.Seq = base + int64(i) + 1
		out[i] = ev
	}
	return out
}

// TestEpochs: the hub keeps each epoch of a box apart, acknowledges an
// epoch's line (its parent's up to its base, then its own), refuses a
// batch that contradicts what it holds with the seq where it diverges,
// and holds each event id once per box.
func TestEpochs(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School E", "Sughd", "BOXE")
		var list []any
		for i := range 10 {
			list = append(list, "answer.submitted", "student:S1", answer("q"+string(rune('a'+i)), i%2 == 0))
		}
		first := events(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), list...)
		ingest := func(s wire.Stream, evs []wire.Event) (wire.IngestResponse, error) {
			return st.Ingest(ctx, id, wire.Batch{BoxID: "BOXE", Stream: s, Events: evs}, false, 1)
		}
		if resp, err := ingest(wire.Stream{}, first); err != nil || resp.AckedSeq != 10 || resp.AckedID != first[9].ID {
			t.Fatalf("first stream: %+v, %v", resp, err)
		}

		// The box was restored to seq 6 and goes on under epoch E1.
		e1 := wire.Stream{Epoch: "E1", Base: 6}
		second := restamp(first[:3], 6, "E1")
		if resp, err := ingest(e1, second); err != nil || resp.AckedSeq != 9 || resp.AckedID != second[2].ID || resp.Stored != 3 {
			t.Fatalf("epoch E1: %+v, %v; want its line acknowledged up to 9", resp, err)
		}
		if resp, err := ingest(wire.Stream{}, first); err != nil || resp.AckedSeq != 10 || resp.Duplicates != 10 {
			t.Errorf("the first stream again: %+v, %v; want every event a duplicate", resp, err)
		}
		if _, err := ingest(wire.Stream{Epoch: "E1", Base: 5}, restamp(first[:1], 5, "E9")); failure.KindOf(err) != failure.Conflict {
			t.Errorf("epoch E1 named with another base: %v, want a conflict", err)
		}

		// Another event at a held seq: refused, saying where.
		var de *hub.DivergedError
		other := restamp(first[4:7], 4, "ZZ")
		if _, err := ingest(wire.Stream{}, other); !errors.As(err, &de) || de.Seq != 5 || failure.KindOf(err) != failure.Conflict {
			t.Errorf("a diverging batch: %v; want a conflict diverging at 5", err)
		}
		// A held event in another place: refused.
		if _, err := ingest(wire.Stream{Epoch: "E2", Base: 9}, restamp(second[:1], 9, second[0].ID[24:])); failure.KindOf(err) != failure.Conflict {
			t.Errorf("an event held in another epoch: %v, want a conflict", err)
		}

		// An epoch after a base its parent's line does not reach yet is
		// acknowledged no further than that line.
		if resp, err := ingest(wire.Stream{Epoch: "E3", Base: 20, Parent: "E1"}, restamp(first[:2], 20, "E3")); err != nil || resp.AckedSeq != 9 || resp.AckedID != second[2].ID {
			t.Errorf("epoch E3 after 20 of E1's line: %+v, %v; want acknowledged up to 9 (E1's line)", resp, err)
		}
		// An epoch with no event of its own yet: its line ends at its base,
		// held by its parent's line.
		if resp, err := ingest(wire.Stream{Epoch: "E4", Base: 8, Parent: "E1"}, nil); err != nil || resp.AckedSeq != 8 || resp.AckedID != second[1].ID {
			t.Errorf("empty epoch E4 after 8 of E1: %+v, %v; want 8, E1's event", resp, err)
		}

		eps, err := st.Epochs(ctx, "BOXE")
		if err != nil || len(eps) != 4 || eps[0].Epoch != "" || eps[0].Own != 10 || eps[1].Epoch != "E1" || eps[1].Line != 9 {
			t.Errorf("epochs = %+v, %v", eps, err)
		}
		var answers int
		if err := st.DB().QueryRow(ctx, "SELECT count(*) FROM answers WHERE box_id = ?", "BOXE").Scan(&answers); err != nil || answers != 15 {
			t.Errorf("%d answers held (%v), want 15: 10 of the first stream, 3 of E1, 2 of E3", answers, err)
		}
		acks, err := st.StreamAcks(ctx, "BOXE")
		if err != nil || len(acks) != 4 || acks[0].AckedSeq != 10 || acks[3].AckedSeq != 8 {
			t.Errorf("stream acknowledgements = %+v, %v", acks, err)
		}
	})
}

// TestEpochsConcurrently: copies of a new epoch's first batch (the epoch
// not known yet) and of the old stream arrive at once, as from a retry
// crossing the original or two hub processes: each event is stored once
// and every copy is answered alike.
func TestEpochsConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School C", "Sughd", "BOXC")
		var list []any
		for i := range 20 {
			list = append(list, "answer.submitted", "student:S1", answer("q"+string(rune('a'+i)), true))
		}
		first := events(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), list...)
		if _, err := st.Ingest(ctx, id, wire.Batch{BoxID: "BOXC", Events: first[:10]}, false, 1); err != nil {
			t.Fatal(err)
		}
		e1 := wire.Batch{BoxID: "BOXC", Stream: wire.Stream{Epoch: "E1", Base: 10}, Events: restamp(first[:5], 10, "E1")}
		old := wire.Batch{BoxID: "BOXC", Events: first[10:]}
		errs := make(chan error, 16)
		for i := range 16 {
			b := e1
			if i%2 == 1 {
				b = old
			}
			go func() {
				_, err := st.Ingest(ctx, id, b, true, 1)
				errs <- err
			}()
		}
		for range 16 {
			if err := <-errs; err != nil {
				t.Errorf("a copy was refused: %v", err)
			}
		}
		bs, err := st.BoxState(ctx, "BOXC")
		if err != nil || bs.Events != 25 {
			t.Errorf("the hub counts %d events (%v), want 25: each once", bs.Events, err)
		}
		eps, err := st.Epochs(ctx, "BOXC")
		if err != nil || len(eps) != 2 || eps[0].Own != 20 || eps[1].Line != 15 {
			t.Errorf("epochs = %+v, %v; want the old stream up to 20 and E1's line up to 15", eps, err)
		}
	})
}
