package upstream_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// A box restored from an old backup (issue #14, 1): it must go on syncing
// without rewriting history, every event of the old and the new stream
// reaching the hub once, online and by USB.

// backup writes a backup of the box's database and returns its path.
func (b *testBox) backup(tb testing.TB) string {
	tb.Helper()
	dest := filepath.Join(tb.TempDir(), "backup.db")
	if _, err := store.Backup(context.Background(), b.db.Path(), dest); err != nil {
		tb.Fatal(err)
	}
	return dest
}

// restore stops the box's database, restores the backup as `stembox admin
// restore` does, and opens the box again.
func (b *testBox) restore(tb testing.TB, backup string) store.RestoreResult {
	tb.Helper()
	path := b.db.Path()
	b.db.Close()
	res, err := store.Restore(context.Background(), path, backup)
	if err != nil {
		tb.Fatalf("restore: %v", err)
	}
	b.open(tb)
	return res
}

// restoreByHand stops the box's database and copies the backup over it,
// as someone might without stembox admin restore.
func (b *testBox) restoreByHand(tb testing.TB, backup string) {
	tb.Helper()
	path := b.db.Path()
	b.db.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	data, err := os.ReadFile(backup)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	b.open(tb)
}

// events returns the id and kind of every event of db.
func events(tb testing.TB, db *store.DB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	eachBoxEvent(tb, db, func(ev event.Event) { out[ev.ID] = ev.Kind })
	return out
}

// union returns every event of the given sets.
func union(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for id, k := range s {
			out[id] = k
		}
	}
	return out
}

// checkHubHolds fails unless the hub holds exactly want for the box, each
// event once, counted once in the box's total and in the reports.
func checkHubHolds(tb testing.TB, st *hub.Store, boxID string, want map[string]string) {
	tb.Helper()
	ctx := context.Background()
	got := map[string]int{}
	if err := st.EachStreamEvent(ctx, boxID, func(_ string, ev wire.Event) error {
		got[ev.ID]++
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	missing, extra, twice := 0, 0, 0
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	answers := int64(0)
	for id, n := range got {
		if _, ok := want[id]; !ok {
			extra++
		}
		if n > 1 {
			twice++
		}
	}
	for _, k := range want {
		if k == "answer.submitted" {
			answers++
		}
	}
	if missing != 0 || extra != 0 || twice != 0 {
		tb.Fatalf("the hub holds %d events, want %d: %d missing, %d not the box's, %d twice", len(got), len(want), missing, extra, twice)
	}
	bs, err := st.BoxState(ctx, boxID)
	if err != nil || bs.Events != int64(len(want)) {
		tb.Errorf("the hub counts %d events of the box (%v), want %d", bs.Events, err, len(want))
	}
	rep, err := st.Report(ctx, hub.ReportQuery{By: "school"})
	if err != nil || len(rep.Rows) != 1 || rep.Rows[0].ByGender["all"].Answers != answers {
		tb.Errorf("the report counts %+v (%v), want %d answers", rep.Rows, err, answers)
	}
}

// checkSynced fails unless the box has nothing left to send and no error.
func checkSynced(tb testing.TB, db *store.DB) {
	tb.Helper()
	st, err := upstream.ReadStatus(context.Background(), db)
	if err != nil || st.Backlog != 0 || st.LastError != "" || st.AckedSeq != st.LastSeq {
		tb.Errorf("box status = %+v, %v; want nothing waiting and no error", st, err)
	}
}

func lastSeq(tb testing.TB, db *store.DB) int64 {
	tb.Helper()
	n, err := db.LastSeq(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestRestoredBoxSyncsOnline is the scenario: a backup, more
// answers synced, the box restored from the backup, new answers — which
// the hub refused forever ("event N differs"). Now the restore says what it
// replaces, the box goes on under a new epoch and every event reaches the
// hub once. Then the box is restored from the same backup again, with
// answers the hub never got in the database replaced, and the hub is
// restarted before the box syncs: those answers arrive too.
func TestRestoredBoxSyncsOnline(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			target := backend.Target(t)
			hubDir := t.TempDir()
			h := hubtest.Start(t, hubDir, target, hub.Config{})
			box := newBox(t, content.NewKeyring())
			cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 9", "Khatlon"), BatchSize: 100}
			w, err := upstreamtest.NewBox(ctx, box.db, 2, 10, 3)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 300, 2); err != nil {
				t.Fatal(err)
			}
			if err := box.syncer(cfg).Sync(ctx); err != nil {
				t.Fatal(err)
			}
			backup := box.backup(t)
			base := lastSeq(t, box.db)
			if err := w.Write(ctx, 200, 2); err != nil {
				t.Fatal(err)
			}
			if err := box.syncer(cfg).Sync(ctx); err != nil {
				t.Fatal(err)
			}
			synced := lastSeq(t, box.db)
			old := events(t, box.db)

			res := box.restore(t, backup)
			r := res.Replaced
			if r.Err != nil || r.Events != synced || r.Acked != synced || r.Unsynced != 0 || r.Salvaged != 0 {
				t.Errorf("the restore found %+v in the database it replaced, want %d events, all acknowledged", r, synced)
			}
			if res.Epoch.Name == "" || res.Epoch.Base != base || res.AckedSeq != base {
				t.Errorf("after the restore: epoch %+v, cursor %d; want a new epoch after %d and the cursor there", res.Epoch, res.AckedSeq, base)
			}
			w.DB = box.db
			if err := w.Write(ctx, 50, 1); err != nil {
				t.Fatal(err)
			}
			if err := box.syncer(cfg).Sync(ctx); err != nil {
				t.Fatalf("the restored box cannot sync: %v", err)
			}
			checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
			checkSynced(t, box.db)

			// Twice: answers the hub never gets, the same backup restored
			// again, the hub restarted, more answers.
			if err := w.Write(ctx, 20, 1); err != nil {
				t.Fatal(err)
			}
			first := events(t, box.db)
			res = box.restore(t, backup)
			if r := res.Replaced; r.Unsynced != 20 || r.Salvaged != 20 || r.InBackup != 0 || res.Epoch.Name == "" {
				t.Errorf("the second restore: %+v, epoch %+v; want 20 events never synced, kept", r, res.Epoch)
			}
			h.Stop()
			h = hubtest.Start(t, hubDir, target, hub.Config{})
			link, err := box.db.UpstreamLink(ctx)
			if err != nil {
				t.Fatal(err)
			}
			link.HubURL = h.URL // the hub came back on another port
			if err := box.db.SetUpstreamLink(ctx, link); err != nil {
				t.Fatal(err)
			}
			w.DB = box.db
			if err := w.Write(ctx, 10, 1); err != nil {
				t.Fatal(err)
			}
			if err := box.syncer(cfg).Sync(ctx); err != nil {
				t.Fatalf("the box restored twice cannot sync: %v", err)
			}
			checkHubHolds(t, h.Store(), box.boxID(t), union(old, first, events(t, box.db)))
			checkSynced(t, box.db)
			epochs, err := h.Store().Epochs(ctx, box.boxID(t))
			if err != nil || len(epochs) != 3 {
				t.Errorf("the hub keeps %d epochs of the box (%v), want 3: the first stream and one per restore", len(epochs), err)
			}
		})
	}
}

// TestBoxRestoredByHandSyncs: a box whose database file was put back by
// hand (not with stembox admin restore) learns from the hub that its
// history diverged and goes on under a new epoch by itself.
func TestBoxRestoredByHandSyncs(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R"), BatchSize: 40}
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 100, 1); err != nil {
		t.Fatal(err)
	}
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	backup := box.backup(t)
	if err := w.Write(ctx, 200, 1); err != nil {
		t.Fatal(err)
	}
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	old := events(t, box.db)
	box.restoreByHand(t, backup)
	w.DB = box.db
	if err := w.Write(ctx, 50, 1); err != nil {
		t.Fatal(err)
	}
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatalf("the box restored by hand cannot sync: %v", err)
	}
	checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
	checkSynced(t, box.db)
	// The hub's answer reaching past the box's last event starts an epoch
	// too: a box put back by hand that has written nothing new yet.
	box.restoreByHand(t, backup)
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	w.DB = box.db
	if err := w.Write(ctx, 5, 1); err != nil {
		t.Fatal(err)
	}
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatalf("after the second restore by hand: %v", err)
	}
	checkSynced(t, box.db)
}

// TestRestoreOfNeverSyncedBox: a box that never synced is restored from a
// backup; the events written after the backup are kept and reach the hub
// with the new ones once the box is enrolled.
func TestRestoreOfNeverSyncedBox(t *testing.T) {
	ctx := t.Context()
	box := newBox(t, content.NewKeyring())
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 100, 1); err != nil {
		t.Fatal(err)
	}
	backup := box.backup(t)
	inBackup := lastSeq(t, box.db)
	if err := w.Write(ctx, 50, 1); err != nil {
		t.Fatal(err)
	}
	old := events(t, box.db)
	res := box.restore(t, backup)
	if r := res.Replaced; r.Err != nil || r.Events != int64(len(old)) || r.Acked != 0 || r.Unsynced != int64(len(old)) || r.Salvaged != 50 || r.InBackup != inBackup {
		t.Errorf("the restore reports %+v; want %d events, none acknowledged, 50 kept, %d in the backup", r, len(old), inBackup)
	}
	st, err := upstream.ReadStatus(ctx, box.db)
	if err != nil || st.Salvaged != 50 || st.Backlog != inBackup+50 {
		t.Errorf("status after the restore = %+v, %v; want 50 kept events waiting", st, err)
	}
	w.DB = box.db
	if err := w.Write(ctx, 30, 1); err != nil {
		t.Fatal(err)
	}
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	if err := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R"), BatchSize: 25}).Sync(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
	checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
	checkSynced(t, box.db)
}

// TestRestoredBoxSyncsByUSB is the scenario on USB sticks: the
// bundles of a restored box are imported, and their acknowledgements move
// its cursor, across epochs.
func TestRestoredBoxSyncsByUSB(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			box := newBox(t, content.NewKeyring())
			enrollByFile(t, h, box, "Far school", "Pamir")
			w, err := upstreamtest.NewBox(ctx, box.db, 2, 10, 9)
			if err != nil {
				t.Fatal(err)
			}
			stick := func() {
				t.Helper()
				dir := t.TempDir()
				exp, err := upstream.Export(ctx, box.db, box.lib, dir)
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(exp.Path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				imp, err := h.Store().ImportBundle(ctx, f)
				if err != nil {
					t.Fatalf("the hub refuses the bundle: %v", err)
				}
				ack := filepath.Join(dir, "box"+wire.AckExt)
				if err := os.WriteFile(ack, imp.AckFile, 0o600); err != nil {
					t.Fatal(err)
				}
				if _, err := upstream.Import(ctx, box.db, box.lib, ack); err != nil {
					t.Fatalf("the box refuses the acknowledgement: %v", err)
				}
			}
			if err := w.Write(ctx, 300, 2); err != nil {
				t.Fatal(err)
			}
			stick()
			backup := box.backup(t)
			if err := w.Write(ctx, 200, 2); err != nil {
				t.Fatal(err)
			}
			stick()
			if err := w.Write(ctx, 15, 1); err != nil { // never carried to the hub
				t.Fatal(err)
			}
			old := events(t, box.db)
			res := box.restore(t, backup)
			if r := res.Replaced; r.Unsynced != 15 || r.Salvaged != 15 || res.Epoch.Name == "" {
				t.Errorf("the restore reports %+v, epoch %+v; want 15 events never synced, kept, and a new epoch", r, res.Epoch)
			}
			w.DB = box.db
			if err := w.Write(ctx, 50, 1); err != nil {
				t.Fatal(err)
			}
			stick()
			checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
			checkSynced(t, box.db)
			// Nothing is left to carry: a new bundle is empty.
			exp, err := upstream.Export(ctx, box.db, box.lib, t.TempDir())
			if err != nil || exp.Events != 0 {
				t.Errorf("a bundle after everything was acknowledged holds %d events (%v)", exp.Events, err)
			}
		})
	}
}

// TestBoxRestoredByHandSyncsByUSB: a box that syncs only by USB, whose
// database was put back by hand: the hub stores its bundle up to where the
// histories part and says so in the acknowledgement; the box starts a new
// epoch, and its next bundle carries the rest.
func TestBoxRestoredByHandSyncsByUSB(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	enrollByFile(t, h, box, "Far school", "Pamir")
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 10, 11)
	if err != nil {
		t.Fatal(err)
	}
	stick := func() upstream.ImportResult {
		t.Helper()
		dir := t.TempDir()
		exp, err := upstream.Export(ctx, box.db, box.lib, dir)
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Store().ImportBundleFile(ctx, exp.Path, dir)
		if err != nil {
			t.Fatalf("the hub refuses the bundle: %v", err)
		}
		imp, err := upstream.Import(ctx, box.db, box.lib, res.AckPath)
		if err != nil {
			t.Fatalf("the box refuses the acknowledgement: %v", err)
		}
		if again, err := upstream.Import(ctx, box.db, box.lib, res.AckPath); err != nil || again.Epoch != "" || again.Moved {
			t.Errorf("the acknowledgement applied again: %+v, %v; want nothing changed", again, err)
		}
		return imp
	}
	if err := w.Write(ctx, 100, 1); err != nil {
		t.Fatal(err)
	}
	stick()
	backup := box.backup(t)
	if err := w.Write(ctx, 100, 1); err != nil {
		t.Fatal(err)
	}
	stick()
	old := events(t, box.db)
	box.restoreByHand(t, backup)
	w.DB = box.db
	if err := w.Write(ctx, 40, 1); err != nil {
		t.Fatal(err)
	}
	if imp := stick(); imp.Epoch == "" {
		t.Fatalf("the acknowledgement of a diverged bundle started no epoch: %+v", imp)
	}
	stick()
	checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
	checkSynced(t, box.db)
}

// TestRestoreOfBackupTakenBeforeAFork: a backup holds events that went up
// under an epoch the box started only after the backup was taken; restoring
// it, the box knows that epoch still, so those events are not sent again
// as the old stream's.
func TestRestoreOfBackupTakenBeforeAFork(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R"), BatchSize: 30}
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 10, 13)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 60, 1); err != nil {
		t.Fatal(err)
	}
	sync := func() {
		t.Helper()
		if err := box.syncer(cfg).Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	sync()
	early := box.backup(t)
	if err := w.Write(ctx, 40, 1); err != nil {
		t.Fatal(err)
	}
	sync()
	old := events(t, box.db)
	box.restoreByHand(t, early) // no epoch yet: the box does not know
	w.DB = box.db
	if err := w.Write(ctx, 10, 1); err != nil {
		t.Fatal(err)
	}
	beforeFork := box.backup(t) // its new events, not yet an epoch of their own
	sync()                      // the hub says the histories part: an epoch starts
	if err := w.Write(ctx, 5, 1); err != nil {
		t.Fatal(err)
	}
	sync()
	first := events(t, box.db)
	res := box.restore(t, beforeFork)
	if res.Epoch.Name == "" || res.Epoch.Parent == "" || res.AckedSeq != res.Restored.LastSeq {
		t.Errorf("restore = %+v; want a new epoch after the one the replaced database started, and its cursor at the backup's end", res)
	}
	w.DB = box.db
	if err := w.Write(ctx, 7, 1); err != nil {
		t.Fatal(err)
	}
	sync()
	checkHubHolds(t, h.Store(), box.boxID(t), union(old, first, events(t, box.db)))
	checkSynced(t, box.db)
}
