package upstream_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
)

// TestOnlineSyncSetsTheBoxTime: a box whose clock starts at 1970 was
// dated by its class's phones in a boot the hub never saw; it reboots and
// syncs over the network. The hub's time in its answer sets the box's time
// (source hub), the box's status tells the hub its source and drift and
// its estimate of the earlier boot, and the hub dates that boot's events
// by it instead of by the offset measured in another boot.
func TestOnlineSyncSetsTheBoxTime(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			clk := clock.NewSim("boot-0", time.Unix(0, 0))
			dir := t.TempDir()
			db, err := store.OpenOptions(ctx, filepath.Join(dir, "stembox.db"), clk, store.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			lib, err := content.OpenLibrary(filepath.Join(dir, "packs"), content.NewKeyring(), content.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			// Boot 0, two days ago, offline: the phones told the time.
			then := time.Now().Add(-48 * time.Hour)
			k0, err := timekeeper.Open(ctx, clk, db, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				k0.Device(fmt.Sprintf("10.0.0.%d", i), then, false)
			}
			w, err := upstreamtest.NewBox(ctx, db, 1, 5, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 40, 1); err != nil {
				t.Fatal(err)
			}
			if err := k0.Save(ctx); err != nil {
				t.Fatal(err)
			}
			first, _ := db.LastSeq(ctx)

			// Boot 1, now, with a link to the hub.
			clk.Reboot("boot-1", time.Unix(0, 0))
			clk.Advance(30 * time.Second)
			k1, err := timekeeper.Open(ctx, clk, db, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 10, 1); err != nil {
				t.Fatal(err)
			}
			s := upstream.New(db, lib, upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 4", "Sughd"), CacheDir: t.TempDir(), Time: k1}, testLogger())
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r := k1.Now(); r.Source != timekeeper.Hub || r.True.Sub(time.Now()).Abs() > 5*time.Second || r.Err > 5*time.Second {
				t.Fatalf("after a sync the box keeps %+v, want the hub's time", r)
			}
			boxID, _ := db.BoxID(ctx)
			boxes, err := h.Store().Boxes(ctx)
			if err != nil || len(boxes) != 1 || boxes[0].Status == nil || boxes[0].Status.Clock == nil {
				t.Fatalf("boxes = %+v, %v; want the box's clock in its status", boxes, err)
			}
			c := boxes[0].Status.Clock
			if c.Source != "hub" || time.Duration(c.DriftMS)*time.Millisecond < 50*365*24*time.Hour || len(c.Boots) != 2 {
				t.Errorf("status clock = %+v, want source hub, a drift of decades, and both boots", c)
			}
			for seq := int64(1); seq <= first; seq += 13 {
				got, err := h.Store().EventTime(ctx, boxID, seq)
				if err != nil {
					t.Fatal(err)
				}
				if got.Basis != "devices" || time.UnixMilli(got.TimeMS).Sub(then).Abs() > 2*time.Second {
					t.Errorf("event %d of the offline boot: %+v, want %s by the devices", seq, got, then)
				}
			}
			last, _ := db.LastSeq(ctx)
			if got, _ := h.Store().EventTime(ctx, boxID, last); got.Basis != "boot" || time.UnixMilli(got.TimeMS).Sub(time.Now()).Abs() > 5*time.Second {
				t.Errorf("event %d of the online boot: %+v, want now by the hub's observation", last, got)
			}
		})
	}
}
