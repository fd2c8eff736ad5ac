package timekeeper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// memStore is a Store in memory, as the box's database keeps it.
type memStore struct {
	mu    sync.Mutex
	boots map[string]timekeeper.Boot
	order []string // boot ids as first saved, as the database's rowid
}

func (m *memStore) Boots(context.Context) ([]timekeeper.Boot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []timekeeper.Boot
	for _, id := range m.order {
		out = append(out, m.boots[id])
	}
	return out, nil
}

func (m *memStore) SaveBoot(_ context.Context, b timekeeper.Boot) (timekeeper.Boot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.boots == nil {
		m.boots = map[string]timekeeper.Boot{}
	}
	if old, ok := m.boots[b.ID]; ok {
		b = timekeeper.Merge(old, b)
	} else {
		m.order = append(m.order, b.ID)
	}
	m.boots[b.ID] = b
	return b, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	wall2019 = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	truth    = time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
)

func open(t *testing.T, clk clock.Clock, st timekeeper.Store) *timekeeper.Keeper {
	t.Helper()
	k, err := timekeeper.Open(context.Background(), clk, st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func near(got, want time.Time, within time.Duration) bool { return got.Sub(want).Abs() <= within }

func TestDevicesSetTheTimeOnlyWhenSeveralAgree(t *testing.T) {
	clk := clock.NewSim("boot-1", wall2019)
	k := open(t, clk, &memStore{})
	if r := k.Now(); r.Source != timekeeper.BoxClock || !r.True.Equal(wall2019) || r.Err != timekeeper.Unknown {
		t.Fatalf("before any device: %+v, want the box's clock, uncertainty unknown", r)
	}
	clk.Advance(time.Minute)
	now := truth.Add(time.Minute)
	k.Device("10.0.0.2", now, false)
	k.Device("10.0.0.3", now.Add(400*time.Millisecond), false)
	if r := k.Now(); r.Source != timekeeper.BoxClock {
		t.Fatalf("two devices set the time (%+v); want %d", r, timekeeper.MinDevices)
	}
	// One device sending again is still one vote.
	k.Device("10.0.0.3", now.Add(300*time.Millisecond), false)
	if r := k.Now(); r.Source != timekeeper.BoxClock {
		t.Fatalf("one device counted twice: %+v", r)
	}
	k.Device("10.0.0.4", now.Add(-200*time.Millisecond), false)
	r := k.Now()
	if r.Source != timekeeper.Devices || !near(r.True, now, time.Second) {
		t.Fatalf("three devices: %+v, want %s from the devices", r, now)
	}
	if want := now.Sub(clk.Now().Wall); !near(r.Wall.Add(r.Drift()), r.True, 0) || (r.Drift()-want).Abs() > time.Second {
		t.Errorf("drift = %s, want about %s", r.Drift(), want)
	}
}

func TestDevicesOutliersAndTeachers(t *testing.T) {
	cases := []struct {
		name    string
		offsets []time.Duration // each device's clock minus the true time
		teacher []bool
		want    time.Duration // the estimate minus the true time, within tol
		tol     time.Duration
		trusted bool
	}{
		{"agreeing phones", []time.Duration{0, 300 * time.Millisecond, -500 * time.Millisecond, 100 * time.Millisecond, 0}, nil, 0, time.Second, true},
		{"two wrong clocks among seven", []time.Duration{0, 200 * time.Millisecond, -100 * time.Millisecond, 0, 100 * time.Millisecond, -365 * 24 * time.Hour, 3 * time.Hour}, nil, 0, time.Second, true},
		{"a laptop an hour off among phones", []time.Duration{time.Hour, 0, 0, 100 * time.Millisecond, -100 * time.Millisecond}, nil, 0, time.Second, true},
		{"no agreement", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour}, nil, 0, 0, false},
		{"a teacher tips a split", []time.Duration{0, 0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, []bool{true, false, false, false, false}, 0, time.Second, true},
		{"without the teacher the majority wins", []time.Duration{0, 0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, nil, 10 * time.Second, time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewSim("b", wall2019)
			k := open(t, clk, &memStore{})
			clk.Advance(10 * time.Minute)
			now := truth.Add(10 * time.Minute)
			for i, off := range c.offsets {
				k.Device(fmt.Sprintf("10.0.0.%d", i+2), now.Add(off), c.teacher != nil && c.teacher[i])
			}
			r := k.Now()
			if !c.trusted {
				if r.Source == timekeeper.Devices {
					t.Fatalf("devices that do not agree set the time: %+v", r)
				}
				return
			}
			if r.Source != timekeeper.Devices || !near(r.True, now.Add(c.want), c.tol) {
				t.Fatalf("estimate %s (%s), want %s ± %s", r.True, r.Source, now.Add(c.want), c.tol)
			}
			if r.Err < timekeeper.MinDeviceErr || r.Err > 20*time.Second {
				t.Errorf("uncertainty %s, want seconds at most", r.Err)
			}
		})
	}
}

// TestRebootNeverGoesBackInTime: a box whose clock starts at 2019 (then
// 1970) at every boot is dated, after a reboot with no device and no
// network, no earlier than the last time it knew itself running; devices
// later in the boot re-date the whole boot.
func TestRebootNeverGoesBackInTime(t *testing.T) {
	st := &memStore{}
	clk := clock.NewSim("boot-1", wall2019)
	k := open(t, clk, st)
	clk.Advance(time.Minute)
	for i := 0; i < 4; i++ {
		k.Device(fmt.Sprintf("10.0.0.%d", i+2), truth.Add(time.Minute), false)
	}
	clk.Advance(2 * time.Hour)
	if err := k.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	lastGood := truth.Add(2*time.Hour + time.Minute)
	for i, wall := range []time.Time{wall2019, time.Unix(0, 0).UTC(), wall2019} {
		// Off overnight; back on with the clock wherever the board says.
		clk.Reboot(fmt.Sprintf("boot-%d", i+2), wall)
		k = open(t, clk, st)
		r := k.Now()
		if r.Source != timekeeper.Saved || r.True.Before(lastGood) || !near(r.True, lastGood, time.Second) {
			t.Fatalf("reboot %d at %s: %+v, want the saved time %s", i+2, wall, r, lastGood)
		}
		// The boot's events are at its start plus their uptime; devices
		// that come later in the boot re-date the start.
		trueStart := lastGood.Add(10 * time.Hour) // off for ten hours
		clk.Advance(30 * time.Minute)
		for d := 0; d < 3; d++ {
			k.Device(fmt.Sprintf("10.1.0.%d", d), trueStart.Add(30*time.Minute), false)
		}
		if b := k.Boot(); b.Source != timekeeper.Devices || !near(b.Start, trueStart, time.Second) {
			t.Fatalf("reboot %d: boot %+v, want start %s from the devices", i+2, b, trueStart)
		}
		clk.Advance(time.Hour)
		if err := k.Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		lastGood = trueStart.Add(90 * time.Minute)
	}
	// Devices that say the boot began before the last known good time are
	// not believed that far.
	clk.Reboot("boot-late", wall2019)
	k = open(t, clk, st)
	for d := 0; d < 3; d++ {
		k.Device(fmt.Sprintf("10.2.0.%d", d), lastGood.Add(-48*time.Hour), false)
	}
	if r := k.Now(); r.True.Before(lastGood) {
		t.Errorf("devices took the box back in time: %s, before %s", r.True, lastGood)
	}
}

func TestHubTimeAndPassed(t *testing.T) {
	st := &memStore{}
	clk := clock.NewSim("boot-1", time.Unix(0, 0))
	k := open(t, clk, st)
	clk.Advance(5 * time.Minute)
	// A time that has passed (an acknowledgement on a stick) moves a guess up.
	k.Passed(truth.Add(-24 * time.Hour))
	if r := k.Now(); r.Source != timekeeper.Saved || !r.True.Equal(truth.Add(-24*time.Hour)) {
		t.Fatalf("after a time known passed: %+v", r)
	}
	before := clk.Now()
	clk.Advance(800 * time.Millisecond)
	after := clk.Now()
	hubNow := truth.Add(5*time.Minute + 400*time.Millisecond)
	k.HubTime(hubNow, before, after)
	r := k.Now()
	if r.Source != timekeeper.Hub || !near(r.True, truth.Add(5*time.Minute+800*time.Millisecond), 10*time.Millisecond) || r.Err != 400*time.Millisecond {
		t.Fatalf("after the hub: %+v, want the hub's time ± half the round trip", r)
	}
	// Devices a few seconds off do not replace the hub's better time, and
	// an older bound never does.
	for d := 0; d < 5; d++ {
		k.Device(fmt.Sprintf("d%d", d), r.True.Add(5*time.Second), false)
	}
	k.Passed(truth)
	if r2 := k.Now(); r2.Source != timekeeper.Hub {
		t.Errorf("the hub's time was replaced by %s", r2.Source)
	}
	if err := k.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := st.boots["boot-1"]; b.Source != timekeeper.Hub || b.Seen != after.Uptime {
		t.Errorf("saved %+v, want the hub's estimate seen at %s", b, after.Uptime)
	}
}

// TestConcurrentDevices feeds a keeper from many goroutines while it saves
// (run with -race).
func TestConcurrentDevices(t *testing.T) {
	clk := clock.NewSim("boot-1", wall2019)
	k := open(t, clk, &memStore{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k.Device(fmt.Sprintf("10.%d.%d.1", g, i%50), truth, g == 0)
				k.Now()
			}
		}(g)
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := k.Now(); r.Source != timekeeper.Devices || !near(r.True, truth, time.Second) {
		t.Errorf("after many devices: %+v", r)
	}
	if got := len(k.Boot().ID); got == 0 {
		t.Error("no boot")
	}
}

// TestLaterBootBoundsAnEarlierOne: a boot no device told the time in is
// dated from the saved time alone (a lower bound); once the next boot is
// dated by its devices, the earlier one is bounded above too, and dated in
// the middle, with the true start within its uncertainty.
func TestLaterBootBoundsAnEarlierOne(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	clk := clock.NewSim("boot-1", wall2019)
	k := open(t, clk, st)
	clk.Advance(time.Minute)
	for i := 0; i < 3; i++ {
		k.Device(fmt.Sprintf("a%d", i), truth.Add(time.Minute), false)
	}
	clk.Advance(time.Hour)
	if err := k.Save(ctx); err != nil {
		t.Fatal(err)
	}
	// Boot 2 starts 10 h after boot 1 was last seen, runs 2 h, no device.
	start2 := truth.Add(time.Hour + time.Minute + 10*time.Hour)
	clk.Reboot("boot-2", wall2019)
	k = open(t, clk, st)
	clk.Advance(2 * time.Hour)
	if err := k.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if b := st.boots["boot-2"]; b.Source != timekeeper.Saved || b.Known() {
		t.Fatalf("boot 2 before boot 3: %+v, want only the saved lower bound", b)
	}
	// Boot 3 starts 6 h after boot 2 ended; its devices date it.
	start3 := start2.Add(8 * time.Hour)
	clk.Reboot("boot-3", wall2019)
	k = open(t, clk, st)
	clk.Advance(5 * time.Minute)
	for i := 0; i < 3; i++ {
		k.Device(fmt.Sprintf("c%d", i), start3.Add(5*time.Minute), false)
	}
	if err := k.Save(ctx); err != nil {
		t.Fatal(err)
	}
	b := st.boots["boot-2"]
	if b.Source != timekeeper.Saved || !b.Known() || b.Start.Sub(start2).Abs() > b.Err {
		t.Fatalf("boot 2 after boot 3 was dated: %+v, want its true start %s within the uncertainty", b, start2)
	}
	lower, upper := truth.Add(time.Hour+time.Minute), start3.Add(-2*time.Hour)
	if want := upper.Sub(lower) / 2; (b.Err - want).Abs() > 2*time.Second {
		t.Errorf("boot 2's uncertainty %s, want half of [%s, %s]", b.Err, lower, upper)
	}
	if b1 := st.boots["boot-1"]; b1.Source != timekeeper.Devices {
		t.Errorf("boot 1, dated by its devices, became %+v", b1)
	}
}
