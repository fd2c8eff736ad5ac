package upstream_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestSyncPushesEventsAndPullsPacks enrolls a box, syncs its events and
// installs the pack its school must have, on each hub backend.
func TestSyncPushesEventsAndPullsPacks(t *testing.T) {
	archive, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			publish(t, h, archive, content.NewKeyring(key.Public()))
			box := newBox(t, keys)
			s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 5", "Sughd"), BatchSize: 300})
			w, err := upstreamtest.NewBox(ctx, box.db, 3, 25, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 1000, 4); err != nil {
				t.Fatal(err)
			}
			if err := s.Sync(ctx); err != nil {
				t.Fatalf("sync: %v", err)
			}
			n, sum := boxDigest(t, box.db)
			hn, hsum := hubDigest(t, h.Store(), box.boxID(t))
			if n != hn || sum != hsum {
				t.Fatalf("hub holds %d events (%s), box has %d (%s)", hn, hsum, n, sum)
			}
			st, err := upstream.ReadStatus(ctx, box.db)
			if err != nil || st.Backlog != 0 || st.AckedSeq != int64(n) || st.BytesSent == 0 || st.LastError != "" || st.SchoolName != "School 5" {
				t.Errorf("status after sync = %+v, %v", st, err)
			}
			if p, ok := box.lib.Pack("mini"); !ok {
				t.Errorf("the required pack was not installed: %v", box.lib.Problems())
			} else if st.Download != nil {
				t.Errorf("a finished download still shows: %+v", st.Download)
			} else {
				_ = p
			}
			// Report figures reach the hub: learners split by gender.
			rep, err := h.Store().Report(ctx, hub.ReportQuery{By: "school"})
			if err != nil || len(rep.Rows) != 1 || rep.Rows[0].ByGender["all"].Learners == 0 || rep.Rows[0].ByGender["all"].Answers == 0 {
				t.Errorf("report after sync = %+v, %v", rep.Rows, err)
			}
			// New events go on the next sync; nothing is sent twice.
			if err := w.Write(ctx, 100, 2); err != nil {
				t.Fatal(err)
			}
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			bs, _ := h.Store().BoxState(ctx, box.boxID(t))
			if n, _ := boxDigest(t, box.db); bs.Events != int64(n) || bs.AckedSeq != int64(n) {
				t.Errorf("after the second sync the hub holds %+v, box has %d", bs, n)
			}
		})
	}
}

// TestLoopWakesOnNewEvents runs the loop: a new answer reaches the hub
// soon, without waiting for the timer.
func TestLoopWakesOnNewEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R"), Every: time.Hour, MinGap: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 10, 1); err != nil {
		t.Fatal(err)
	}
	want, _ := box.db.LastSeq(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		bs, err := h.Store().BoxState(ctx, box.boxID(t))
		if err == nil && bs.AckedSeq == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub holds %+v (%v) after 20 s, want %d events", bs, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run ended with %v", err)
	}
}

// TestSneakernet: export a bundle, import it on the hub (twice), apply the
// acknowledgement on the box (twice), and install a pack from the stick.
// Tampered and foreign bundles and acknowledgements are refused.
func TestSneakernet(t *testing.T) {
	archive, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			publish(t, h, archive, keys)
			box := newBox(t, keys)
			// A box that never reaches the hub is enrolled by file.
			enrollByFile(t, h, box, "Mountain School", "GBAO")
			w, err := upstreamtest.NewBox(ctx, box.db, 2, 20, 3)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 6000, 8); err != nil { // more than one batch of a bundle
				t.Fatal(err)
			}
			stick := t.TempDir()
			exp, err := upstream.Export(ctx, box.db, box.lib, stick)
			if err != nil {
				t.Fatal(err)
			}
			last, _ := box.db.LastSeq(ctx)
			if exp.FirstSeq != 1 || exp.LastSeq != last || exp.Batches < 2 {
				t.Fatalf("export = %+v, want seq 1..%d in several batches", exp, last)
			}
			bundle, err := os.ReadFile(exp.Path)
			if err != nil {
				t.Fatal(err)
			}
			// Tampered: one byte of the events changed.
			bad := bytes.Clone(bundle)
			bad[len(bad)-100] ^= 1
			if _, err := h.Store().ImportBundle(ctx, bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "altered") {
				t.Errorf("a tampered bundle: %v, want refused as altered", err)
			}
			// Foreign: the same events signed by another box's key.
			other := newBox(t, keys)
			tok2, _ := h.Store().CreateSchool(ctx, "Other School", "GBAO", time.Hour)
			resp2, _ := h.Store().Enroll(ctx, tok2.Token, other.boxID(t), "")
			forged := forgeBundle(t, bundle, resp2.Credential)
			if _, err := h.Store().ImportBundle(ctx, bytes.NewReader(forged)); err == nil {
				t.Error("a bundle re-signed by another box was imported")
			}
			if bs, err := h.Store().BoxState(ctx, box.boxID(t)); err == nil && bs.Events != 0 {
				t.Fatalf("refused bundles stored %d events", bs.Events)
			}
			res, err := h.Store().ImportBundle(ctx, bytes.NewReader(bundle))
			if err != nil {
				t.Fatal(err)
			}
			if res.Ack.AckedSeq != last || res.Ack.Stored != int(last) || res.Repeat || len(res.Packs) != 1 {
				t.Fatalf("import = %+v, want all %d events stored and the required pack to carry back", res.Ack, last)
			}
			again, err := h.Store().ImportBundle(ctx, bytes.NewReader(bundle))
			if err != nil || again.Ack.Stored != 0 || !again.Repeat || again.Ack.AckedSeq != last {
				t.Fatalf("importing again = %+v, %v; want nothing stored", again.Ack, err)
			}
			n, sum := boxDigest(t, box.db)
			if hn, hsum := hubDigest(t, h.Store(), box.boxID(t)); hn != n || hsum != sum {
				t.Fatalf("hub holds %d events (%s), box has %d (%s)", hn, hsum, n, sum)
			}
			// Back on the box: the acknowledgement and the pack, from the stick.
			back := t.TempDir()
			os.WriteFile(filepath.Join(back, box.boxID(t)+wire.AckExt), res.AckFile, 0o644)
			var pack bytes.Buffer
			if err := h.Store().WritePackArchive(ctx, res.Packs[0].ID, res.Packs[0].Version, &pack); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(back, content.ArchiveName(res.Packs[0].ID, res.Packs[0].Version)), pack.Bytes(), 0o644)
			// An acknowledgement for another box is refused.
			otherAck := filepath.Join(t.TempDir(), "other"+wire.AckExt)
			os.WriteFile(otherAck, bytes.Replace(res.AckFile, []byte(box.boxID(t)), []byte(other.boxID(t)), 1), 0o644)
			if _, err := upstream.Import(ctx, box.db, box.lib, otherAck); err == nil {
				t.Error("an altered acknowledgement was applied")
			}
			imp, err := upstream.Import(ctx, box.db, box.lib, back)
			if err != nil {
				t.Fatal(err)
			}
			if imp.Acks != 1 || !imp.Moved || imp.AckedSeq != last || len(imp.Installed) != 1 {
				t.Fatalf("import on the box = %+v", imp)
			}
			imp, err = upstream.Import(ctx, box.db, box.lib, back)
			if err != nil || imp.Moved || len(imp.Unchanged) != 1 {
				t.Fatalf("importing again on the box = %+v, %v; want nothing changed", imp, err)
			}
			st, _ := upstream.ReadStatus(ctx, box.db)
			if st.Backlog != 0 {
				t.Errorf("backlog after the acknowledgement = %d", st.Backlog)
			}
			// The next export holds nothing old.
			exp2, err := upstream.Export(ctx, box.db, box.lib, stick)
			if err != nil || exp2.Events != 0 {
				t.Errorf("export after the acknowledgement = %+v, %v; want no events", exp2, err)
			}
		})
	}
}

var _ = store.ErrNotEnrolled
