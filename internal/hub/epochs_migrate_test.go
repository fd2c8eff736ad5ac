package hub_test

import (
	"context"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestEpochsMigration: a hub's events, answers and lessons from before
// epochs become epoch "" of their box, with the box's acknowledgement, and
// the box goes on in a new epoch at seqs the old stream holds.
func TestEpochsMigration(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			target, dir := b.Target(t), t.TempDir()
			db, err := hub.OpenDBAtStep(ctx, target, dir, 3) // the schema before epochs
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				"INSERT INTO schools (id, name, region, created_ms) VALUES ('S', 'School', 'R', 1)",
				"INSERT INTO boxes (id, school_id, name, acked_seq, events, created_ms, last_seen_ms) VALUES ('B', 'S', 'box', 2, 2, 1, 5)",
				`INSERT INTO events (box_id, seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis, received_ms)
					VALUES ('B', 1, 'ID1', 'answer.submitted', 'student:1', 1, 'b', 1, '{}', 1, 'wall', 1),
					       ('B', 2, 'ID2', 'lesson.completed', 'student:1', 2, 'b', 2, '{}', 2, 'wall', 2)`,
				"INSERT INTO answers (box_id, seq, learner, pack, set_id, item, correct, time_ms) VALUES ('B', 1, 'student:1', 'p', 's', 'i', 1, 1)",
				"INSERT INTO lessons_done (box_id, seq, learner, pack, lesson, time_ms) VALUES ('B', 2, 'student:1', 'p', 'l', 2)",
			} {
				if err := db.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()

			st, err := hub.OpenStore(ctx, target, dir)
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			defer st.Close()
			eps, err := st.Epochs(ctx, "B")
			if err != nil || len(eps) != 1 || eps[0].Epoch != "" || eps[0].Own != 2 || eps[0].Events != 2 {
				t.Fatalf("epochs after the migration = %+v, %v; want epoch \"\" acknowledged up to 2", eps, err)
			}
			id := hub.BoxIdentity{BoxID: "B", SchoolID: "S"}
			ev := wire.Event{Seq: 2, ID: "ID3", Kind: "answer.submitted", Actor: "student:1", WallMS: 3, BootID: "b", MonoMS: 3,
				Payload: []byte(`{"pack":"p","set":"s","item":"i","correct":false}`)}
			resp, err := st.Ingest(ctx, id, wire.Batch{BoxID: "B", Stream: wire.Stream{Epoch: "E1", Base: 1}, Events: []wire.Event{ev}}, false, 1)
			if err != nil || resp.AckedSeq != 2 || resp.AckedID != "ID3" {
				t.Fatalf("a new epoch at a seq the old stream holds: %+v, %v", resp, err)
			}
			var answers, lessons int
			if err := st.DB().QueryRow(ctx, "SELECT count(*) FROM answers WHERE box_id = 'B'").Scan(&answers); err != nil || answers != 2 {
				t.Errorf("%d answers (%v), want 2: one per epoch at seq 2 and 1", answers, err)
			}
			if err := st.DB().QueryRow(ctx, "SELECT count(*) FROM lessons_done WHERE box_id = 'B' AND epoch = ''").Scan(&lessons); err != nil || lessons != 1 {
				t.Errorf("%d lessons of epoch \"\" (%v), want 1", lessons, err)
			}
		})
	}
}
