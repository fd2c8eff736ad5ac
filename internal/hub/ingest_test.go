package hub_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// A kind the hub does not know (a newer box's) and a payload that breaks
// its kind's contract are stored byte for byte; no report row comes from
// them.
func TestIngestKeepsWhatItCannotDerive(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 4", "Sughd", "BOXK")
		evs := events(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
			"app.result", "student:S1", map[string]any{"app": "circuit", "pack": "physics", "item": "q1", "score": 0.75},
			"answer.submitted", "student:S1", map[string]any{"pack": "math", "set": "s", "correct": true},
			"answer.submitted", "student:S1", []int{1, 2},
			"student.created", "user:T", map[string]any{"student": "S1", "gender": "female"},
			"class.created", "user:T", map[string]any{"class": "C1", "name": "7A", "grade": 0},
			"answer.submitted", "student:S1", answer("q1", true),
		)
		evs[2].Payload = json.RawMessage(`{"pack": 3, "set": "s", "item": "q"}`)
		if resp, err := st.Ingest(ctx, id, wire.Batch{BoxID: "BOXK", Events: evs}, false, 1); err != nil || resp.Stored != len(evs) {
			t.Fatalf("ingest = %+v, %v; want all %d stored", resp, err, len(evs))
		}
		n := 0
		err := st.EachEvent(ctx, "BOXK", func(ev wire.Event, _ int64, _ string) error {
			if want := evs[n]; ev.Kind != want.Kind || !bytes.Equal(ev.Payload, want.Payload) {
				t.Errorf("event %d held as %s %s, sent as %s %s", ev.Seq, ev.Kind, ev.Payload, want.Kind, want.Payload)
			}
			n++
			return nil
		})
		if err != nil || n != len(evs) {
			t.Errorf("the hub holds %d events (%v), want %d", n, err, len(evs))
		}
		for table, want := range map[string]int{"answers": 1, "learners": 0, "classes": 0, "lessons_done": 0} {
			var got int
			if err := st.DB().QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE box_id = ?", "BOXK").Scan(&got); err != nil || got != want {
				t.Errorf("%s: %d rows (%v), want %d", table, got, err, want)
			}
		}
	})
}
