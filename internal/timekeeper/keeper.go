package timekeeper

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/clock"
)

// Store keeps what is known of each boot, durably (the box's database).
type Store interface {
	// Boots returns every boot known, in the order each was first saved
	// (oldest first): boundEarlier walks them newest first.
	Boots(ctx context.Context) ([]Boot, error)
	// SaveBoot merges b into what is stored of its boot (Merge) and returns
	// the result. Other processes (stembox sync import) may save too.
	SaveBoot(ctx context.Context, b Boot) (Boot, error)
}

// SaveEvery is how often a running keeper saves the last known good time:
// seldom enough to spare an SD card, often enough that a power cut loses
// little of it.
const SaveEvery = 5 * time.Minute

// Reading is the time now, as well as the keeper knows it.
type Reading struct {
	clock.Stamp               // the box's own clocks
	True        time.Time     // the estimated true time
	Source      Source        // where the estimate came from
	Err         time.Duration // how far off it may be; Unknown
}

// Drift is how far the box's wall clock is from the estimated true time:
// true minus wall.
func (r Reading) Drift() time.Duration { return r.True.Sub(r.Wall) }

// Keeper estimates the true time for the boot the box is in.
type Keeper struct {
	clk   clock.Clock
	store Store
	log   *slog.Logger

	mu      sync.Mutex
	floor   time.Time // a true time known to be before this boot began; zero: none
	cur     Boot
	devices map[string]sample
	stored  Boot // what was last saved
	bounded Boot // the estimate earlier boots were last bounded with (bound.go)
	dirty   bool // cur changed in a way worth saving at once
	wake    chan struct{}
}

// Open starts keeping time for the boot clk is in, from what st holds of
// earlier boots: the latest time any of them knew it was running is a
// floor this boot begins after.
func Open(ctx context.Context, clk clock.Clock, st Store, log *slog.Logger) (*Keeper, error) {
	boots, err := st.Boots(ctx)
	if err != nil {
		return nil, fmt.Errorf("timekeeper: %w", err)
	}
	k := &Keeper{clk: clk, store: st, log: log, devices: map[string]sample{}, wake: make(chan struct{}, 1)}
	now := clk.Now()
	var have *Boot
	for i, b := range boots {
		if b.ID == now.BootID {
			have = &boots[i]
			continue
		}
		if b.Source == BoxClock {
			continue // its wall clock may have been anywhere
		}
		if t := b.lower().Add(b.Seen); t.After(k.floor) {
			k.floor = t
		}
	}
	own := Boot{ID: now.BootID, Start: now.Wall.Add(-now.Uptime), Source: BoxClock, Err: Unknown, Seen: now.Uptime}
	if !k.floor.IsZero() && own.Start.Before(k.floor) {
		// The wall clock says this boot began before an earlier one was
		// last seen running: it is wrong, and the boot began after that.
		own = Boot{ID: now.BootID, Start: k.floor, Source: Saved, Err: Unknown, Seen: now.Uptime}
	}
	k.cur = own
	if have != nil {
		k.cur = Merge(*have, own)
		k.stored = *have
	}
	k.dirty = k.cur != k.stored
	return k, nil
}

// Now returns the time as well as the keeper knows it.
func (k *Keeper) Now() Reading {
	now := k.clk.Now()
	k.mu.Lock()
	b := k.cur
	k.mu.Unlock()
	if now.BootID != b.ID {
		// Another boot than the one kept (a clock swapped in a test):
		// nothing is known of it.
		return Reading{Stamp: now, True: now.Wall, Source: BoxClock, Err: Unknown}
	}
	return Reading{Stamp: now, True: b.At(now.Uptime), Source: b.Source, Err: b.Err}
}

// Boot returns the current estimate of this boot.
func (k *Keeper) Boot() Boot {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur
}

// Clock returns the box's own clocks the keeper reads.
func (k *Keeper) Clock() clock.Clock { return k.clk }

// Device takes a device's time, sent with a request that arrived just now:
// key tells devices apart (its address), teacher says a signed-in teacher
// uses it. Absurd times (before 2000, after 2200) are ignored; a device
// whose clock is wrong is outvoted (devices.go), and devices that would
// date the boot before the floor are not believed that far.
func (k *Keeper) Device(key string, t time.Time, teacher bool) {
	now := k.clk.Now()
	if t.Year() < 2000 || t.Year() > 2200 {
		return
	}
	w := 1
	if teacher {
		w = TeacherWeight
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.BootID != k.cur.ID {
		return
	}
	if _, ok := k.devices[key]; !ok && len(k.devices) >= MaxDevices {
		k.forgetOldest()
	}
	k.devices[key] = sample{start: t.Add(-now.Uptime).UnixMilli(), weight: w, arrived: now.Uptime}
	votes := make([]sample, 0, len(k.devices))
	for _, v := range k.devices {
		votes = append(votes, v)
	}
	start, err, ok := estimateDevices(votes)
	if !ok {
		return
	}
	est := Boot{ID: k.cur.ID, Start: time.UnixMilli(start), Source: Devices, Err: err, Seen: now.Uptime}
	if !k.floor.IsZero() && est.Start.Before(k.floor) {
		// The devices say the boot began before an earlier boot was last
		// seen running: the box never goes back in time.
		est.Start = k.floor
	}
	k.adopt(est)
}

func (k *Keeper) forgetOldest() {
	var oldest string
	var at time.Duration
	for key, v := range k.devices {
		if oldest == "" || v.arrived < at {
			oldest, at = key, v.arrived
		}
	}
	delete(k.devices, oldest)
}

// HubTime takes the hub's time t, read by the hub between the box's
// readings before and after (a request's round trip).
func (k *Keeper) HubTime(t time.Time, before, after clock.Stamp) {
	if before.BootID != after.BootID || after.Uptime < before.Uptime || t.IsZero() {
		return
	}
	mid := before.Uptime + (after.Uptime-before.Uptime)/2
	err := max((after.Uptime-before.Uptime)/2, time.Millisecond)
	k.mu.Lock()
	defer k.mu.Unlock()
	if before.BootID != k.cur.ID {
		return
	}
	k.adopt(Boot{ID: k.cur.ID, Start: t.Add(-mid), Source: Hub, Err: err, Seen: after.Uptime})
}

// Passed takes a true time known to have passed already (the hub's time
// in an acknowledgement carried back on a USB stick): an estimate that is
// only a bound or a guess moves up to it.
func (k *Keeper) Passed(t time.Time) {
	now := k.clk.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.BootID != k.cur.ID || k.cur.Known() || !k.cur.At(now.Uptime).Before(t) {
		return
	}
	k.adopt(Boot{ID: k.cur.ID, Start: t.Add(-now.Uptime), Source: Saved, Err: Unknown, Seen: now.Uptime})
}

// adopt makes est the current estimate if it replaces it, and asks for a
// save when that changes the source or halves the uncertainty. k.mu is
// held.
func (k *Keeper) adopt(est Boot) {
	if !est.Replaces(k.cur) {
		return
	}
	old := k.cur
	est.Seen = max(est.Seen, old.Seen)
	k.cur = est
	if est.Source != old.Source || !old.Known() || est.Err <= old.Err/2 || est.Start.Sub(old.Start).Abs() > old.Err {
		k.log.Info("the box's time is now known from "+string(est.Source), "boot", est.ID,
			"start", est.Start.UTC().Format(time.RFC3339), "uncertainty", est.Err, "was", string(old.Source))
		k.dirty = true
		select {
		case k.wake <- struct{}{}:
		default:
		}
	}
}

// Save writes the current estimate and the last known good time, and takes
// in what another process saved for this boot meanwhile.
func (k *Keeper) Save(ctx context.Context) error {
	now := k.clk.Now()
	k.mu.Lock()
	b := k.cur
	if now.BootID == b.ID {
		b.Seen = max(b.Seen, now.Uptime)
	}
	k.mu.Unlock()
	got, err := k.store.SaveBoot(ctx, b)
	if err != nil {
		return fmt.Errorf("timekeeper: save: %w", err)
	}
	k.mu.Lock()
	k.stored = got
	k.cur = Merge(k.cur, got)
	k.dirty = false
	cur, again := k.cur, k.cur.Known() && (k.bounded.Source != k.cur.Source || k.bounded.Err != k.cur.Err || !k.bounded.Start.Equal(k.cur.Start))
	k.mu.Unlock()
	if again {
		if err := k.boundEarlier(ctx, cur); err != nil {
			return err
		}
		k.mu.Lock()
		k.bounded = cur
		k.mu.Unlock()
	}
	return nil
}

// Run saves at once when the estimate gets much better, and every
// SaveEvery (the last known good time), until ctx ends; then once more.
func (k *Keeper) Run(ctx context.Context) error {
	t := time.NewTicker(SaveEvery)
	defer t.Stop()
	for {
		k.mu.Lock()
		dirty := k.dirty
		k.mu.Unlock()
		if dirty {
			if err := k.Save(ctx); err != nil {
				k.log.Warn("save the box's time", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			if err := k.Save(context.WithoutCancel(ctx)); err != nil {
				k.log.Warn("save the box's time", "err", err)
			}
			return nil
		case <-t.C:
			k.mu.Lock()
			k.dirty = true
			k.mu.Unlock()
		case <-k.wake:
		}
	}
}
