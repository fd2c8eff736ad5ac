package hub_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// events builds a box's events from (kind, actor, payload) triples, one
// second apart in boot "b1".
func events(start time.Time, list ...any) []wire.Event {
	var out []wire.Event
	for i := 0; i+2 < len(list); i += 3 {
		p, _ := json.Marshal(list[i+2])
		n := int64(len(out) + 1)
		out = append(out, wire.Event{Seq: n, ID: "01J0000000000000000000" + string(rune('A'+n/10)) + string(rune('A'+n%10)) + "XY", Kind: list[i].(string), Actor: list[i+1].(string),
			WallMS: start.Add(time.Duration(n) * time.Second).UnixMilli(), BootID: "b1", MonoMS: 60000 + n*1000, Payload: p})
	}
	return out
}

func answer(item string, correct bool) map[string]any {
	return map[string]any{"pack": "math", "version": "1.0.0", "set": "s", "item": item, "lang": "tg", "choices": []int{1}, "correct": correct, "score": 1}
}

func TestReportsSplitByGender(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 3", "Sughd", "BOXR")
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		evs := events(start,
			"class.created", "user:T", map[string]any{"class": "C1", "name": "7A", "grade": 7},
			"class.created", "user:T", map[string]any{"class": "C2", "name": "8A", "grade": 8},
			"student.created", "user:T", map[string]any{"student": "S1", "class": "C1", "gender": "female"},
			"student.created", "user:T", map[string]any{"student": "S2", "class": "C1", "gender": "male"},
			"student.created", "user:T", map[string]any{"student": "S3", "class": "C2", "gender": "female"},
			"answer.submitted", "student:S1", answer("q1", false),
			"answer.submitted", "student:S1", answer("q1", true),
			"answer.submitted", "student:S1", answer("q2", false),
			"answer.submitted", "student:S2", answer("q1", true),
			"answer.submitted", "student:S3", answer("q1", false),
			"answer.submitted", "guest:G1", answer("q1", true),
			"lesson.completed", "student:S2", map[string]any{"pack": "physics", "version": "1.0.0", "lesson": "speed"},
			"live.response", "student:S3", map[string]any{"session": "L", "question": 0, "player": "p1", "item": "poll1", "kind": "poll", "lang": "tg", "correct": false, "score": 0, "points": 0, "elapsed_ms": 5},
		)
		// A box without a real-time clock: its wall clock is three days
		// behind; the batch's clock reading says so.
		b := wire.Batch{BoxID: "BOXR", Clock: wire.Clock{WallMS: start.Add(time.Minute).UnixMilli(), BootID: "b1", MonoMS: 60000 + 60000}, Events: evs}
		hubNow := start.Add(72*time.Hour + time.Minute)
		st.Now = func() time.Time { return hubNow }
		if _, err := st.Ingest(ctx, id, b, true, 1); err != nil {
			t.Fatal(err)
		}
		st.Now = time.Now

		rep, err := st.Report(ctx, hub.ReportQuery{By: "region"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 1 || rep.Rows[0].Label != "Sughd" {
			t.Fatalf("rows = %+v, want one for Sughd", rep.Rows)
		}
		want := map[string]hub.Figures{
			"female":      {Learners: 2, Answers: 4, Items: 3, Mastered: 1},
			"male":        {Learners: 1, Answers: 1, Items: 1, Mastered: 1},
			"unspecified": {Learners: 1, Answers: 1, Items: 1, Mastered: 1},
			"all":         {Learners: 4, Answers: 6, Items: 5, Mastered: 3},
		}
		for g, w := range want {
			if got := rep.Rows[0].ByGender[g]; got != w {
				t.Errorf("%s: %+v, want %+v", g, got, w)
			}
		}
		byGrade, err := st.Report(ctx, hub.ReportQuery{By: "grade"})
		if err != nil {
			t.Fatal(err)
		}
		var grades []string
		for _, r := range byGrade.Rows {
			grades = append(grades, r.Label+":"+itoa(r.ByGender["all"].Learners))
		}
		if got := strings.Join(grades, " "); got != "0:1 7:2 8:1" {
			t.Errorf("learners by grade = %s, want 0:1 7:2 8:1", got)
		}
		byPack, err := st.Report(ctx, hub.ReportQuery{By: "pack"})
		if err != nil {
			t.Fatal(err)
		}
		if len(byPack.Rows) != 2 || byPack.Rows[1].Key != "physics" || byPack.Rows[1].ByGender["male"].Learners != 1 || byPack.Rows[1].ByGender["all"].Answers != 0 {
			t.Errorf("by pack = %+v, want math and physics (one male reader, no answers)", byPack.Rows)
		}
		// Periods are on corrected times: the events happened three days
		// after the box's clock says.
		day := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC) }
		onBoxDay, _ := st.Report(ctx, hub.ReportQuery{By: "region", From: day(start), To: day(start).AddDate(0, 0, 1)})
		onRealDay, _ := st.Report(ctx, hub.ReportQuery{By: "region", From: day(hubNow), To: day(hubNow).AddDate(0, 0, 1)})
		if len(onBoxDay.Rows) != 0 || len(onRealDay.Rows) != 1 {
			t.Errorf("rows on the box's day: %d, on the real day: %d; want 0 and 1", len(onBoxDay.Rows), len(onRealDay.Rows))
		}
		if _, err := st.Report(ctx, hub.ReportQuery{By: "name"}); err == nil {
			t.Error("a report by name was made")
		}
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 2 || recs[0][1] != "female_learners" || recs[1][0] != "Sughd" || recs[1][5] != "33.3" {
			t.Errorf("CSV = %v, %v", recs, err)
		}
		if strings.Contains(buf.String(), "S1") {
			t.Error("the report shows a learner id")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestClockCorrection(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 4", "Khatlon", "BOXC")
		real := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
		boxWall := real.Add(-400 * 24 * time.Hour) // a Pi that booted in the past
		mk := func(seq int64, boot string, wall time.Time, mono time.Duration) wire.Event {
			return wire.Event{Seq: seq, ID: "ID" + itoa(seq), Kind: "x", Actor: "a", WallMS: wall.UnixMilli(), BootID: boot, MonoMS: mono.Milliseconds(), Payload: []byte(`{}`)}
		}
		evs := []wire.Event{
			mk(1, "old-boot", boxWall.Add(-time.Hour), 10*time.Minute), // a boot the hub never saw
			mk(2, "boot-2", boxWall.Add(-5*time.Minute), 20*time.Minute),
		}
		// Now: boot-2 has run 25 minutes; the hub's time is real.
		st.Now = func() time.Time { return real }
		b := wire.Batch{BoxID: "BOXC", Clock: wire.Clock{WallMS: boxWall.UnixMilli(), BootID: "boot-2", MonoMS: (25 * time.Minute).Milliseconds()}, Events: evs}
		if _, err := st.Ingest(ctx, id, b, true, 1); err != nil {
			t.Fatal(err)
		}
		got := map[int64][2]any{}
		st.EachEvent(ctx, "BOXC", func(ev wire.Event, ms int64, basis string) error {
			got[ev.Seq] = [2]any{time.UnixMilli(ms).UTC(), basis}
			return nil
		})
		if w := ([2]any{real.Add(-5 * time.Minute), "boot"}); got[2] != w {
			t.Errorf("event of the boot seen: %v, want %v", got[2], w)
		}
		if w := ([2]any{real.Add(-time.Hour), "offset"}); got[1] != w {
			t.Errorf("event of an unseen boot: %v, want %v", got[1], w)
		}
	})
}
