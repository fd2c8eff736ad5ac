package hub_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// answered makes ev (an answer.submitted) an answer of learner to item of
// pack "mastery", right or wrong.
func answered(t *testing.T, ev wire.Event, learner, item string, correct bool) wire.Event {
	t.Helper()
	var a event.Answer
	if err := json.Unmarshal(ev.Payload, &a); err != nil {
		t.Fatal(err)
	}
	a.Pack, a.Set, a.Item, a.Correct, a.Score = "mastery", "s", item, correct, 0
	if correct {
		a.Score = 1
	}
	b, err := event.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	ev.Actor, ev.Payload = learner, b
	return ev
}

// A box restored from a backup goes on under a new epoch whose seqs start
// below the old epoch's last ones; its answers are the newer all the same.
// A learner who got an item wrong before the restore (seq 11 of epoch "")
// and right after it (seq 6 of the new epoch) has mastered it, in the
// summaries, in a recount and in a report for a period — whichever of the
// two epochs reaches the hub first.
func TestMasteryAcrossEpochs(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		restoredBoxes(t, st)
		for _, q := range []hub.ReportQuery{
			{By: "school"},
			{By: "school", Recount: true},
			{By: "school", From: time.Now().Add(-24 * time.Hour), To: time.Now().Add(24 * time.Hour)},
		} {
			r, err := st.Report(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			byPack, err := st.Report(ctx, hub.ReportQuery{By: "pack", Recount: q.Recount, From: q.From, To: q.To})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, row := range byPack.Rows {
				if row.Key != "mastery" {
					continue
				}
				found = true
				if f := row.ByGender["all"]; f.Learners != 2 || f.Answers != 4 || f.Items != 2 || f.Mastered != 2 {
					t.Errorf("report %+v of pack mastery: %+v; want 2 learners, 4 answers, 2 items tried, both mastered (the new epoch's right answers are the latest)", q, f)
				}
			}
			if !found || len(r.Rows) != 2 {
				t.Errorf("report %+v: pack mastery found %v, %d schools; want it and 2", q, found, len(r.Rows))
			}
		}
		summariesEqualRecount(t, st)
	})
}

// restoredBoxes ingests two restored boxes: each has a learner who answered
// item i1 of pack mastery wrong at seq 11 of epoch "" and right at seq 6
// of the box's new epoch (after 5), which reaches the hub after the old
// one (box OLDFIRST) or before it (NEWFIRST).
func restoredBoxes(t *testing.T, st *hub.Store) {
	t.Helper()
	ctx := t.Context()
	for i, box := range []string{"OLDFIRST", "NEWFIRST"} {
		id, _ := enrolled(t, st, "School "+box, "Sughd", box)
		g := upstreamtest.NewGen(uint64(40+i), 1, 5)
		old := g.Events(20)
		old[10] = answered(t, g.Answer("x", "p", "1", "s", "i"), "student:L"+box, "i1", false)
		old[10].Seq = 11
		g.Reboot()
		fresh := restamp(g.Events(10), 5, "E1E1")
		fresh[0] = answered(t, restamp([]wire.Event{g.Answer("x", "p", "1", "s", "i")}, 5, "E1E2")[0], "student:L"+box, "i1", true)
		batches := []wire.Batch{batch(box, old), batch(box, fresh)}
		batches[1].Stream = wire.Stream{Epoch: "E1" + box, Base: 5}
		if box == "NEWFIRST" {
			batches[0], batches[1] = batches[1], batches[0]
		}
		for _, b := range batches {
			if _, err := st.Ingest(ctx, id, b, true, 1); err != nil {
				t.Fatalf("%s: ingest epoch %q: %v", box, b.Epoch, err)
			}
		}
		// A third epoch, of the second, with no event yet.
		third := wire.Batch{BoxID: box, Stream: wire.Stream{Epoch: "E2" + box, Base: 8, Parent: "E1" + box}, Clock: batches[0].Clock}
		if _, err := st.Ingest(ctx, id, third, true, 1); err != nil {
			t.Fatalf("%s: ingest epoch %q: %v", box, third.Epoch, err)
		}
	}
}

// Hub migration 0007 ranks the epochs a hub holds and takes the latest
// answers again by their order: what it builds equals what ingest keeps.
func TestMigrationRanksEpochs(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			target, dir := b.Target(t), t.TempDir()
			st := mustOpenStore(t, target, dir)
			restoredBoxes(t, st)
			driver, dsn, dialect := "sqlite3", "file:"+filepath.Join(dir, "hub.db")+"?_busy_timeout=10000", "sqlite"
			if hub.IsPostgres(target) {
				driver, dsn, dialect = "pgx", target, "postgres"
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ranks := func() string {
				var out []string
				rows, err := db.QueryContext(ctx, "SELECT box_id, epoch, rank FROM box_epochs ORDER BY 1, 2")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var box, epoch string
					var rank int64
					rows.Scan(&box, &epoch, &rank)
					out = append(out, fmt.Sprintf("%s/%s:%d", box, epoch, rank))
				}
				return strings.Join(out, " ")
			}
			kept, keptRanks := summaries(t, ctx, db), ranks()
			if want := "NEWFIRST/:0 NEWFIRST/E1NEWFIRST:1 NEWFIRST/E2NEWFIRST:2 OLDFIRST/:0 OLDFIRST/E1OLDFIRST:1 OLDFIRST/E2OLDFIRST:2"; keptRanks != want {
				t.Fatalf("ranks kept by ingest: %s, want %s", keptRanks, want)
			}
			// The hub before the migration: every epoch of rank 0, the
			// latest answers by seq.
			for _, s := range []string{"UPDATE box_epochs SET rank = 0", "UPDATE learner_items SET last_seq = 0, last_correct = 0", "UPDATE learner_packs SET mastered = 0"} {
				if _, err := db.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			var ran int
			for _, s := range migrationStatements(t, dialect, "0007_epoch_rank.sql") {
				if strings.HasPrefix(s, "ALTER") {
					continue
				}
				if _, err := db.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				ran++
			}
			if ran != 4 {
				t.Fatalf("ran %d statements of the migration, want 4", ran)
			}
			if got := ranks(); got != keptRanks {
				t.Errorf("the migration ranked the epochs %s, ingest %s", got, keptRanks)
			}
			if built := summaries(t, ctx, db); !reflect.DeepEqual(built, kept) {
				t.Errorf("the migration built other summaries than ingest keeps:\nbuilt %v\nkept  %v", built, kept)
			}
		})
	}
}
