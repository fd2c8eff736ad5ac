package box_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/timekeeper"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// world is the true time of a test, which the hub's clock and the class's
// devices follow, while the box's clock starts wherever its board says at
// every boot.
type world struct {
	mu  sync.Mutex
	now time.Time
	box *clock.Sim
}

func (w *world) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// pass moves true time on, and the box's clocks with it while it is on.
func (w *world) pass(d time.Duration, on bool) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
	if on {
		w.box.Advance(d)
	}
}

// device is a phone of the class: its own address on the loopback
// network, its clock some way off the true time.
type device struct {
	client *http.Client
	off    time.Duration
}

func newDevice(n int, off time.Duration) *device {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+n))}}
	return &device{off: off, client: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

func (d *device) do(t *testing.T, w *world, b *box.Box, method, path, body string, tellTime bool) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+b.Addr().String()+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tellTime {
		req.Header.Set("X-Device-Time", strconv.FormatInt(w.Now().Add(d.off).UnixMilli(), 10))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
}

// TestUSBOnlyBoxWithoutClockDatesEveryAnswer is issue #14's school: a box
// with no real-time clock and no network, whose clock starts at 2019 (and
// once at 1970) at every boot, rebooted offline overnight several times,
// synced only by USB stick. The class's phones tell it the time; the hub's
// December report places every one of its 90 answers in December, each
// within its stated uncertainty of the true time, and those of boots the
// devices dated within seconds.
func TestUSBOnlyBoxWithoutClockDatesEveryAnswer(t *testing.T) {
	ctx := t.Context()
	w := &world{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	w.box = clock.NewSim("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))

	h, err := hub.OpenStore(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Now = w.Now
	tok, err := h.CreateSchool(ctx, "Mountain School", "GBAO", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := h.Enroll(ctx, tok.Token, "", "")
	if err != nil {
		t.Fatal(err)
	}
	credFile := filepath.Join(t.TempDir(), "box.credential")
	cb, _ := json.Marshal(cred)
	os.WriteFile(credFile, cb, 0o600)

	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	phones := []*device{newDevice(1, 0), newDevice(2, 400*time.Millisecond), newDevice(3, -300*time.Millisecond), newDevice(4, 200*time.Millisecond)}
	wrong := newDevice(5, -365*24*time.Hour) // a phone whose clock was set by hand, a year off
	teacher := newDevice(6, 100*time.Millisecond)

	truth := map[int64]time.Time{} // answer's seq → when it was given
	bootOf := map[int64]string{}
	var b *box.Box
	var stop func()
	start := func(boot string, wall time.Time) {
		w.box.Reboot(boot, wall)
		b, stop = runBoxWithClock(t, data, packs, w.box)
	}
	answer := func(n int, d *device, tellTime bool) {
		for i := 0; i < n; i++ {
			w.pass(time.Minute, true)
			d.do(t, w, b, "POST", "/api/v1/answers", `{"pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`, tellTime)
			seq, _ := b.DB().LastSeq(ctx)
			truth[seq] = w.Now()
			bootOf[seq] = w.box.Now().BootID
		}
	}
	tell := func(ds ...*device) {
		for _, d := range ds {
			d.do(t, w, b, "GET", "/api/v1/time", "", true)
		}
	}
	waitSaved := func(source timekeeper.Source) {
		t.Helper()
		id := w.box.Now().BootID
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			boots, _ := b.DB().BootsOf(ctx, []string{id})
			if len(boots) == 1 && boots[0].Source == source {
				return
			}
		}
		t.Fatalf("the box did not save boot %s's time from %s", id, source)
	}
	stick := t.TempDir()
	export := func() string {
		t.Helper()
		exp, err := upstream.Export(ctx, b.DB(), b.Library(), stick)
		if err != nil {
			t.Fatal(err)
		}
		return exp.Path
	}
	enrolled := false

	// Boot 1, Monday, the clock at 2019: answers from devices without
	// script first, then the class's phones tell the time (one of them
	// wrong by a year), and the answers given before are re-dated.
	start("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := upstream.EnrollFile(ctx, b.DB(), credFile); err != nil {
		t.Fatal(err)
	}
	enrolled = true
	boxID, _ := b.DB().BoxID(ctx)
	answer(10, phones[0], false)
	tell(append(phones, wrong)...)
	waitSaved(timekeeper.Devices)
	answer(20, phones[1], true)
	w.pass(time.Hour, true)
	stop() // switched off for the night

	// Boot 2, Tuesday, the clock at 1970: only the saved time until a
	// teacher and the phones come.
	w.pass(21*time.Hour, false)
	start("boot-2", time.Unix(0, 0).UTC())
	if r := b.Time().Now(); r.Source != timekeeper.Saved || r.True.After(w.Now()) || r.True.Before(w.Now().Add(-22*time.Hour)) {
		t.Fatalf("after the night: %+v, want the last known good time of the evening before", r)
	}
	answer(15, phones[2], false)
	tell(teacher, phones[0], phones[3])
	waitSaved(timekeeper.Devices)
	answer(15, phones[3], true)
	w.pass(time.Hour, true)
	bundleA := export()
	stop()

	// The stick goes to the hub; it comes back on Saturday.
	w.pass(3*24*time.Hour, false)
	imported, err := importBundle(ctx, h, bundleA)
	if err != nil {
		t.Fatal(err)
	}
	// Imported again an hour later (a second operator): nothing changes.
	w.pass(time.Hour, false)
	if again, err := importBundle(ctx, h, bundleA); err != nil || !again.Repeat || again.Ack.Stored != 0 {
		t.Fatalf("importing bundle A again: %+v, %v", again.Ack, err)
	}
	back := t.TempDir()
	os.WriteFile(filepath.Join(back, "ack"+wire.AckExt), imported.AckFile, 0o644)

	// Boot 3, Sunday, the clock at 2019 again: the acknowledgement tells
	// the box a time that has passed; no device tells it anything more
	// (no script on these phones). Export, and to the hub.
	w.pass(20*time.Hour, false)
	start("boot-3", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	w.pass(10*time.Minute, true)
	if _, err := upstream.Import(ctx, b.DB(), b.Library(), back); err != nil {
		t.Fatal(err)
	}
	answer(30, phones[0], false)
	w.pass(time.Hour, true)
	bundleB := export()
	stop()
	w.pass(2*24*time.Hour, false)
	if _, err := importBundle(ctx, h, bundleB); err != nil {
		t.Fatal(err)
	}
	if !enrolled || len(truth) != 90 {
		t.Fatalf("%d answers given, want 90", len(truth))
	}

	// Every answer where it belongs.
	seen := 0
	err = h.EachEvent(ctx, boxID, func(ev wire.Event, timeMS int64, basis string) error {
		want, ok := truth[ev.Seq]
		if !ok || ev.Kind != event.KindAnswerSubmitted {
			return nil
		}
		seen++
		got := time.UnixMilli(timeMS).UTC()
		off := got.Sub(want).Abs()
		switch bootOf[ev.Seq] {
		case "boot-1", "boot-2":
			if basis != "devices" || off > 5*time.Second {
				t.Errorf("answer %d of %s: %s (%s), want %s within seconds, dated by the devices", ev.Seq, bootOf[ev.Seq], got, basis, want)
			}
		case "boot-3":
			errMS := eventErr(t, h, boxID, ev.Seq)
			if basis != "bounds" || errMS < 0 || off > time.Duration(errMS)*time.Millisecond || got.Month() != time.December {
				t.Errorf("answer %d of %s: %s (%s ± %d ms), want %s within its bounds", ev.Seq, bootOf[ev.Seq], got, basis, errMS, want)
			}
		}
		return nil
	})
	if err != nil || seen != 90 {
		t.Fatalf("the hub holds %d of the 90 answers (%v)", seen, err)
	}
	rep, err := h.Report(ctx, hub.ReportQuery{By: "school", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var answers int64
	for _, row := range rep.Rows {
		answers += row.ByGender["all"].Answers
	}
	if answers != 90 {
		t.Errorf("December's report counts %d answers, want all 90", answers)
	}
}

func importBundle(ctx context.Context, h *hub.Store, path string) (hub.ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return hub.ImportResult{}, err
	}
	defer f.Close()
	return h.ImportBundle(ctx, f)
}

// eventErr is the uncertainty the hub holds for an event's time.
func eventErr(t *testing.T, h *hub.Store, box string, seq int64) int64 {
	t.Helper()
	e, err := h.EventTime(context.Background(), box, seq)
	if err != nil {
		t.Fatal(err)
	}
	return e.ErrMS
}

// runBoxWithClock runs a box on clk until the returned stop, which shuts
// it down cleanly, saving the last known good time (a power cut would lose
// what ran since the last save: at most timekeeper.SaveEvery).
func runBoxWithClock(t *testing.T, data, packs string, clk clock.Clock) (*box.Box, func()) {
	t.Helper()
	return runBoxWith(t, box.Config{Addr: "127.0.0.1:0", DataDir: data, DevPacks: packs, Lang: "en", Clock: clk})
}
