package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// TestRecordAppResult stores app results from two pages at once, each sent
// twice (a lost reply, the offline queue): each counts once, and the
// progress keeps the best share and whether the app was ever completed.
func TestRecordAppResult(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	results := []event.AppResult{
		{ID: db.NewID(), Learner: "student:S1", Pack: "physics", PackVersion: "1.0.0", App: "slope", Completed: true, Score: 3, Max: 4, Summary: "μ ≈ 0.3"},
		{ID: db.NewID(), Learner: "student:S1", Pack: "physics", PackVersion: "1.0.0", App: "slope", Completed: false, Score: 1, Max: 4, Summary: "again"},
	}
	var wg sync.WaitGroup
	for try := 0; try < 2; try++ {
		for _, r := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := db.RecordAppResult(ctx, r); err != nil {
					t.Errorf("record %s: %v", r.ID, err)
				}
			}()
		}
	}
	wg.Wait()
	evs, err := db.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind == event.KindAppResult {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the box holds %d app.result events, want 2 (each id once)", n)
	}
	got, err := db.AppProgress(ctx, []string{"student:S1", "student:S2"}, "physics")
	if err != nil {
		t.Fatal(err)
	}
	p := got["student:S1"]["slope"]
	if p.Results != 2 || !p.Completed || p.Best != 0.75 {
		t.Errorf("progress is %+v, want 2 results, completed, best 0.75", p)
	}
	if _, ok := got["student:S2"]; ok {
		t.Errorf("a learner without results has progress %+v", got["student:S2"])
	}

	// The same id for another learner's or another app's result is refused;
	// a result outside the contract is invalid and stores nothing.
	other := results[0]
	other.Learner = "student:S2"
	if _, err := db.RecordAppResult(ctx, other); failure.KindOf(err) != failure.Conflict {
		t.Errorf("reusing an id for another learner = %v, want a conflict", err)
	}
	bad := event.AppResult{Learner: "student:S1", Pack: "physics", App: "slope", Score: 5, Max: 4}
	var ie *event.InvalidError
	if _, err := db.RecordAppResult(ctx, bad); failure.KindOf(err) != failure.Invalid || !errors.As(err, &ie) {
		t.Errorf("a score above max = %v, want invalid", err)
	}
	if last, _ := db.LastSeq(ctx); last != evs[len(evs)-1].Seq {
		t.Errorf("refused results added events: last seq %d, was %d", last, evs[len(evs)-1].Seq)
	}
}
