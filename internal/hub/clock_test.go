package hub_test

import (
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestBoxEstimatesRedateEvents: answers of a boot the hub never saw
// online, stored at the box's wrong wall clock (2019), are re-dated —
// events and report rows — when the box's status brings its estimate of
// when that boot began from the class's devices; an estimate no better
// than the one held changes nothing; estimates that break the contract are
// refused and change nothing, as do those from a source the hub does
// not know.
func TestBoxEstimatesRedateEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 9", "Khatlon", "BOXC")
		wall := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
		trueStart := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
		evs := events(wall,
			"answer.submitted", "guest:G1", answer("q1", true),
			"answer.submitted", "guest:G2", answer("q2", false),
			"lesson.completed", "guest:G1", map[string]any{"pack": "physics", "version": "1.0.0", "lesson": "speed"},
		)
		st.Now = func() time.Time { return trueStart.Add(48 * time.Hour) }
		// As a bundle would bring them: not online, no reading to compare.
		if _, err := st.Ingest(ctx, id, wire.Batch{BoxID: "BOXC", Events: evs}, false, 1); err != nil {
			t.Fatal(err)
		}
		dec := hub.ReportQuery{By: "school", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
		count := func() int64 {
			rep, err := st.Report(ctx, dec)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, r := range rep.Rows {
				n += r.ByGender["all"].Answers
			}
			return n
		}
		if n := count(); n != 0 {
			t.Fatalf("before the estimate December counts %d answers, want 0 (they are at 2019)", n)
		}
		// Refused: a boot id too long, or empty; an uncertainty below -1.
		for _, bad := range [][]wire.BootTime{
			{{BootID: "", StartMS: trueStart.UnixMilli(), Source: "devices", ErrMS: 5}},
			{{BootID: string(make([]byte, 65)), StartMS: trueStart.UnixMilli(), Source: "devices", ErrMS: 5}},
			{{BootID: "b1", StartMS: trueStart.UnixMilli(), Source: "devices", ErrMS: -7}},
		} {
			err := st.SetBoxStatus(ctx, id, wire.BoxStatus{Version: "v", Clock: &wire.ClockStatus{Source: "devices", Boots: bad}})
			if failure.KindOf(err) != failure.Invalid {
				t.Errorf("status with boots %+v: %v, want refused as invalid", bad, err)
			}
		}
		// Ignored: a source this hub does not know (a newer box's).
		if err := st.SetBoxStatus(ctx, id, wire.BoxStatus{Version: "v", Clock: &wire.ClockStatus{Source: "gps",
			Boots: []wire.BootTime{{BootID: "b1", StartMS: trueStart.UnixMilli(), Source: "gps", ErrMS: 5}}}}); err != nil {
			t.Errorf("a status with a source the hub does not know: %v, want taken (the estimate ignored)", err)
		}
		if n := count(); n != 0 {
			t.Fatalf("a refused status, or an unknown source, re-dated answers: December counts %d", n)
		}
		status := func(b wire.BootTime) {
			t.Helper()
			if err := st.SetBoxStatus(ctx, id, wire.BoxStatus{Version: "v", Clock: &wire.ClockStatus{Source: b.Source, ErrMS: b.ErrMS, Boots: []wire.BootTime{b}}}); err != nil {
				t.Fatal(err)
			}
		}
		status(wire.BootTime{BootID: "b1", StartMS: trueStart.UnixMilli(), Source: "devices", ErrMS: 1200})
		if n := count(); n != 2 {
			t.Fatalf("after the devices' estimate December counts %d answers, want 2", n)
		}
		got, err := st.EventTime(ctx, "BOXC", 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := trueStart.Add(61 * time.Second).UnixMilli(); got.TimeMS != want || got.Basis != "devices" || got.ErrMS != 1200 {
			t.Errorf("event 1: %+v, want %d by the devices ± 1200 ms", got, want)
		}
		// A worse estimate (a lower bound only) changes nothing.
		status(wire.BootTime{BootID: "b1", StartMS: wall.UnixMilli(), Source: "saved", ErrMS: -1})
		if again, _ := st.EventTime(ctx, "BOXC", 1); again != got {
			t.Errorf("a worse estimate re-dated event 1: %+v, was %+v", again, got)
		}
		// The hub's own observation of the boot, online, beats the box's.
		hubNow := trueStart.Add(2 * time.Hour)
		st.Now = func() time.Time { return hubNow }
		more := events(wall, "answer.submitted", "guest:G3", answer("q3", true))
		more[0].Seq, more[0].ID = 4, "01J00000000000000000000ZZZ"
		b := wire.Batch{BoxID: "BOXC", Clock: wire.Clock{WallMS: wall.Add(2 * time.Hour).UnixMilli(), BootID: "b1", MonoMS: (2 * time.Hour).Milliseconds() - 400}, Events: more}
		if _, err := st.Ingest(ctx, id, b, true, 1); err != nil {
			t.Fatal(err)
		}
		obs, _ := st.EventTime(ctx, "BOXC", 1)
		if obs.Basis != "boot" || obs.TimeMS != trueStart.Add(400*time.Millisecond+61*time.Second).UnixMilli() {
			t.Errorf("event 1 after the hub saw its boot online: %+v", obs)
		}
	})
}
