package box_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// TestBrowserPageTellsTheBoxTheTime: a box whose clock says 2019 has heard
// the time from two phones (not enough to trust); a real Chromium opens a
// lesson, and its script (devtime.js) tells the box the device's time: the
// third device that agrees, so the box now keeps the true time, by the
// devices.
func TestBrowserPageTellsTheBoxTheTime(t *testing.T) {
	browsertest.Need(t)
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	clk := &runningSince{boot: "boot-browser", wall: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), t0: time.Now()}
	b, _ := runBoxWithClock(t, t.TempDir(), packs, clk)
	for i := 1; i <= 2; i++ {
		w := &world{now: time.Now()}
		newDevice(i, 0).do(t, w, b, "GET", "/api/v1/time", "", true)
	}
	if r := b.Time().Now(); r.Source != timekeeper.BoxClock {
		t.Fatalf("two devices set the time: %+v", r)
	}
	br := startBrowser(t, 120*time.Second)
	phone := br.tab(t, "phone", nil)
	phone.open("http://"+b.Addr().String()+"/packs/mini/lessons/speed", "/packs/mini/lessons/speed")
	deadline := time.Now().Add(15 * time.Second)
	for b.Time().Now().Source != timekeeper.Devices {
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the page loaded the box keeps %+v, want the time from the devices", b.Time().Now())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The browser's clock is this machine's, which is the true time here;
	// the simulated phones told the time when the test began.
	if r := b.Time().Now(); r.True.Sub(time.Now()).Abs() > time.Minute {
		t.Errorf("the box's time %s, want about %s", r.True, time.Now())
	}
}

// runningSince is a box's clock that runs in real time from a wrong wall
// clock, as a board without a real-time clock does.
type runningSince struct {
	boot string
	wall time.Time
	t0   time.Time
}

func (c *runningSince) Now() clock.Stamp {
	up := time.Since(c.t0)
	return clock.Stamp{Wall: c.wall.Add(up), BootID: c.boot, Uptime: up}
}
