package upstream_test

import (
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
)

// TestRestoredByHandFromBackupTakenBeforeAFork: a box is put back by hand
// (no stembox admin restore) from a backup holding events it later sent
// under an epoch the backup does not know. The hub says where it holds
// them; the box takes that epoch, then starts its own after it, and every
// event reaches the hub once.
func TestRestoredByHandFromBackupTakenBeforeAFork(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R"), BatchSize: 30}
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 10, 17)
	if err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		t.Helper()
		w.DB = box.db
		if err := w.Write(ctx, n, 1); err != nil {
			t.Fatal(err)
		}
	}
	sync := func() {
		t.Helper()
		if err := box.syncer(cfg).Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	write(60)
	sync()
	early := box.backup(t)
	write(40)
	sync()
	old := events(t, box.db)
	box.restoreByHand(t, early)
	write(10)
	beforeFork := box.backup(t)
	sync() // the box learns that the histories part: an epoch starts
	write(5)
	sync()
	first := events(t, box.db)
	box.restoreByHand(t, beforeFork)
	write(7)
	sync()
	checkHubHolds(t, h.Store(), box.boxID(t), union(old, first, events(t, box.db)))
	checkSynced(t, box.db)
}
