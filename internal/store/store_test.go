package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

// MustOpen opens a database in a new temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "box.db"))
}

func mustOpenAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), path, &clock.Fixed{T: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Step: time.Second})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func answer(learner, item string, correct bool) event.Answer {
	score := 0.0
	if correct {
		score = 1
	}
	return event.Answer{Learner: learner, Pack: "physics", PackVersion: "1.0.0", Set: "speed", Item: item, Lang: "ru", Choices: []int{1}, Correct: correct, Score: score}
}

func TestRecordAnswerUpdatesProgress(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	for _, a := range []event.Answer{answer("guest:a", "q1", false), answer("guest:a", "q1", true), answer("guest:a", "q2", false), answer("guest:b", "q1", true)} {
		if _, err := db.RecordAnswer(ctx, a); err != nil {
			t.Fatalf("record %+v: %v", a, err)
		}
	}
	got, err := db.SetProgress(ctx, "guest:a", "physics", "speed")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Progress{
		"q1": {Item: "q1", Attempts: 2, Correct: 1, BestScore: 1, LastCorrect: true},
		"q2": {Item: "q2", Attempts: 1, Correct: 0, BestScore: 0, LastCorrect: false},
	}
	if len(got) != len(want) {
		t.Fatalf("progress of guest:a has %d items, want %d: %+v", len(got), len(want), got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("progress[%s] = %+v, want %+v", k, got[k], w)
		}
	}
}

func TestSequenceIsGapFreeAndPersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	db := mustOpenAt(t, path)
	ids := map[string]bool{}
	for i := range 10 {
		ev, err := db.RecordAnswer(ctx, answer("guest:a", "q1", i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d got seq %d, want %d", i, ev.Seq, i+1)
		}
		ids[ev.ID] = true
	}
	// A rejected write must not use up a sequence number.
	if _, err := db.RecordAnswer(ctx, event.Answer{ID: firstID(t, db), Learner: "guest:other", Pack: "x", Set: "y", Item: "z"}); err == nil {
		t.Fatal("reusing an id for another learner succeeded, want a conflict")
	}
	db.Close()

	db = mustOpenAt(t, path)
	ev, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 11 {
		t.Fatalf("after reopening, seq = %d, want 11", ev.Seq)
	}
	evs, err := db.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("events[%d].Seq = %d, want %d (gap)", i, e.Seq, i+1)
		}
		if e.BootID != "test-boot" || e.Wall.IsZero() {
			t.Errorf("event %d lacks its clock stamp: %+v", e.Seq, e)
		}
	}
	if len(evs) != 11 {
		t.Fatalf("got %d events, want 11", len(evs))
	}
}

func firstID(t *testing.T, db *store.DB) string {
	t.Helper()
	evs, err := db.EventsAfter(context.Background(), 0, 1)
	if err != nil || len(evs) == 0 {
		t.Fatalf("no first event: %v", err)
	}
	return evs[0].ID
}

func TestRecordAnswerIsIdempotentByID(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a := answer("guest:a", "q1", true)
	a.ID = db.NewID()
	first, err := db.RecordAnswer(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.RecordAnswer(ctx, a)
	if err != nil {
		t.Fatalf("resending the same answer: %v", err)
	}
	if again.Seq != first.Seq {
		t.Errorf("resend stored a new event (seq %d), want the first one (seq %d)", again.Seq, first.Seq)
	}
	p, _ := db.SetProgress(ctx, "guest:a", "physics", "speed")
	if p["q1"].Attempts != 1 {
		t.Errorf("attempts after a resend = %d, want 1", p["q1"].Attempts)
	}

	stolen := answer("guest:b", "q1", true)
	stolen.ID = a.ID
	if _, err := db.RecordAnswer(ctx, stolen); failure.KindOf(err) != failure.Conflict {
		t.Errorf("another learner reusing an id: err = %v, want a conflict", err)
	}
	other := answer("guest:a", "q2", true)
	other.ID = a.ID
	if _, err := db.RecordAnswer(ctx, other); failure.KindOf(err) != failure.Conflict {
		t.Errorf("reusing an id for another item: err = %v, want a conflict", err)
	}
	if last, _ := db.LastSeq(ctx); last != 1 {
		t.Errorf("last seq = %d after refused writes, want 1", last)
	}
}

func TestAnswerOfIsPrivate(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	ev, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := db.AnswerOf(ctx, "guest:a", ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Item != "q1" || !got.Correct || got.Learner != "guest:a" {
		t.Errorf("AnswerOf = %+v, want q1 correct by guest:a", got)
	}
	if _, _, err := db.AnswerOf(ctx, "guest:b", ev.ID); failure.KindOf(err) != failure.NotFound {
		t.Errorf("another learner reading the answer: err = %v, want not found", err)
	}
}

func TestEventsAreImmutable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	db := mustOpenAt(t, path)
	if _, err := db.RecordAnswer(ctx, answer("guest:a", "q1", true)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, stmt := range []string{"UPDATE events SET actor = 'x'", "DELETE FROM events"} {
		out := sqlite(t, path, stmt)
		if !strings.Contains(out, "events are immutable") {
			t.Errorf("%s: got %q, want the trigger to refuse", stmt, out)
		}
	}
}

func TestBoxIDIsStable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	db := mustOpenAt(t, path)
	a, err := db.BoxID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpenAt(t, path)
	b, err := db.BoxID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !event.ValidID(a) {
		t.Errorf("box id changed from %q to %q across a reopen, or is not a ULID", a, b)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	t.Run("newer schema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "box.db")
		db := mustOpenAt(t, path)
		db.Close()
		sqlite(t, path, "INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)")
		_, err := store.Open(ctx, path, nil)
		if err == nil || !strings.Contains(err.Error(), "newer than this stembox knows") {
			t.Fatalf("open with schema 999: err = %v, want a refusal naming the newer schema", err)
		}
	})
	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "box.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("this is a text file, not SQLite\n", 200)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := store.Open(ctx, path, nil)
		if err == nil || !strings.Contains(err.Error(), "restore a backup") {
			t.Fatalf("open of a text file: err = %v, want advice to restore a backup", err)
		}
		if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "this is a text file") {
			t.Error("opening a non-database changed the file")
		}
	})
	t.Run("corrupt pages", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "box.db")
		db := mustOpenAt(t, path)
		for i := range 300 {
			if _, err := db.RecordAnswer(ctx, answer("guest:a", "q"+strings.Repeat("x", i%50), true)); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		sqlite(t, path, "PRAGMA wal_checkpoint(TRUNCATE)")
		corruptPages(t, path)
		_, err := store.Open(ctx, path, nil)
		if err == nil {
			t.Fatal("open of a corrupted database succeeded")
		}
		if !strings.Contains(err.Error(), "restore a backup") {
			t.Errorf("err = %v, want advice to restore a backup", err)
		}
	})
}

// corruptPages overwrites the middle of every page after the first two with
// garbage, leaving the header intact so SQLite opens the file.
func corruptPages(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(b) < 4*page {
		t.Fatalf("database is only %d bytes; the test needs more pages", len(b))
	}
	for off := 2 * page; off+page <= len(b); off += page {
		for i := off + 8; i < off+page-8; i++ {
			b[i] = 0xA5
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
