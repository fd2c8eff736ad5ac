package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// TestBootTimesAreKeptAndDateAttempts: what is known of a boot survives a
// reopen (twice), a worse estimate does not replace a better one while the
// last known good time only grows, bad input is refused and stores
// nothing, and answers are dated by their boot's start plus their time
// since boot, not by the wrong wall clock.
func TestBootTimesAreKeptAndDateAttempts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	clk := clock.NewSim("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, path, clk)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	if _, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true)); err != nil {
		t.Fatal(err)
	}
	truth := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	good := timekeeper.Boot{ID: "boot-1", Start: truth, Source: timekeeper.Devices, Err: 800 * time.Millisecond, Seen: time.Hour}
	if _, err := db.SaveBoot(ctx, good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []timekeeper.Boot{{Start: truth, Source: timekeeper.Hub}, {ID: "boot-1", Start: truth, Source: "sundial"}} {
		if _, err := db.SaveBoot(ctx, bad); err == nil {
			t.Errorf("SaveBoot(%+v) took it, want refused", bad)
		}
	}
	worse := timekeeper.Boot{ID: "boot-1", Start: truth.Add(-time.Hour), Source: timekeeper.Saved, Err: timekeeper.Unknown, Seen: 2 * time.Hour}
	got, err := db.SaveBoot(ctx, worse)
	if err != nil {
		t.Fatal(err)
	}
	if want := (timekeeper.Boot{ID: "boot-1", Start: truth, Source: timekeeper.Devices, Err: 800 * time.Millisecond, Seen: 2 * time.Hour}); !sameBoot(got, want) {
		t.Errorf("after a worse estimate: %+v, want %+v", got, want)
	}
	db.Close()
	for i := 0; i < 2; i++ {
		if db, err = store.Open(ctx, path, clk); err != nil {
			t.Fatal(err)
		}
		boots, err := db.Boots(ctx)
		if err != nil || len(boots) != 1 || !sameBoot(boots[0], got) {
			t.Fatalf("reopen %d: boots %+v, %v; want %+v", i+1, boots, err, got)
		}
		at, err := db.Attempts(ctx, []string{"guest:a"}, "physics", "")
		if err != nil || len(at) != 1 || !at[0].Time.Equal(truth.Add(10*time.Minute)) {
			t.Fatalf("reopen %d: attempts %+v, %v; want the answer at %s", i+1, at, err, truth.Add(10*time.Minute))
		}
		db.Close()
	}
}

// TestSaveBootConcurrently saves estimates of one boot from many
// goroutines and two handles on the file (the serving box and a sync
// import beside it): the best estimate and the longest Seen win.
func TestSaveBootConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	clk := clock.NewSim("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	var dbs []*store.DB
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, path, clk)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	base := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				b := timekeeper.Boot{ID: "boot-1", Start: base.Add(time.Duration(g) * time.Second), Source: timekeeper.Hub,
					Err: time.Duration(10+g*20+i) * time.Millisecond, Seen: time.Duration(g*100+i) * time.Second}
				if _, err := dbs[g%2].SaveBoot(ctx, b); err != nil {
					errs <- fmt.Errorf("goroutine %d: %w", g, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	boots, err := dbs[0].Boots(ctx)
	if err != nil || len(boots) != 1 {
		t.Fatalf("boots %+v, %v", boots, err)
	}
	if b := boots[0]; b.Err != 10*time.Millisecond || !b.Start.Equal(base) || b.Seen != 719*time.Second {
		t.Errorf("after concurrent saves: %+v, want the smallest uncertainty (10 ms, at %s) and the longest seen (719 s)", b, base)
	}
}

func sameBoot(a, b timekeeper.Boot) bool {
	return a.ID == b.ID && a.Start.Equal(b.Start) && a.Source == b.Source && a.Err == b.Err && a.Seen == b.Seen
}
