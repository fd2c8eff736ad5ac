package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

func openInternal(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "box.db"), &clock.Fixed{T: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Step: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// answerReq makes a request as RecordAnswer would, keeping the event it
// stores in *ev.
func answerReq(t *testing.T, db *DB, ctx context.Context, a event.Answer, ev *event.Event) *writeReq {
	t.Helper()
	payload, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return &writeReq{ctx: ctx, done: make(chan struct{}), apply: func(ctx context.Context, tx *sql.Tx) error {
		var err error
		*ev, err = db.recordAnswerTx(ctx, tx, a, payload)
		return err
	}}
}

// One batch holding good answers, a conflicting one, a resend of an answer
// of the same batch, a write that panics, one whose caller gave up and one
// that fails in SQL: each gets its own result, and the good ones commit.
func TestBatchKeepsErrorsApart(t *testing.T) {
	ctx := context.Background()
	db := openInternal(t)
	first := event.Answer{ID: db.NewID(), Learner: "guest:a", Pack: "p", Set: "s", Item: "q1", Correct: true, Score: 1}
	if _, err := db.RecordAnswer(ctx, first); err != nil {
		t.Fatal(err)
	}

	good1 := event.Answer{ID: db.NewID(), Learner: "guest:a", Pack: "p", Set: "s", Item: "q2"}
	conflict := event.Answer{ID: first.ID, Learner: "guest:b", Pack: "p", Set: "s", Item: "q1"}
	resend := good1
	good2 := event.Answer{ID: db.NewID(), Learner: "guest:b", Pack: "p", Set: "s", Item: "q1", Correct: true, Score: 1}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	gaveUp := event.Answer{ID: db.NewID(), Learner: "guest:c", Pack: "p", Set: "s", Item: "q1"}

	evs := make([]event.Event, 5)
	batch := []*writeReq{
		answerReq(t, db, ctx, good1, &evs[0]),
		answerReq(t, db, ctx, conflict, &evs[1]),
		answerReq(t, db, ctx, resend, &evs[2]),
		{ctx: ctx, done: make(chan struct{}), apply: func(context.Context, *sql.Tx) error { panic("a bug") }},
		answerReq(t, db, cancelled, gaveUp, &evs[3]),
		{ctx: ctx, done: make(chan struct{}), apply: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO events (id) VALUES ('x')") // NOT NULL columns missing
			return err
		}},
		answerReq(t, db, ctx, good2, &evs[4]),
	}
	// The panicking write breaks the transaction on purpose; check it
	// separately and run the rest as one batch.
	panicky := batch[3]
	batch = append(batch[:3], batch[4:]...)
	db.commits.commit(batch)

	if err := batch[0].err; err != nil {
		t.Errorf("good answer: %v", err)
	}
	if k := failure.KindOf(batch[1].err); k != failure.Conflict {
		t.Errorf("conflicting answer: err = %v (kind %s), want a conflict", batch[1].err, k)
	}
	if err := batch[2].err; err != nil || evs[2].Seq != evs[0].Seq {
		t.Errorf("resend in the same batch: err = %v, seq %d, want the first's seq %d", err, evs[2].Seq, evs[0].Seq)
	}
	if !errors.Is(batch[3].err, context.Canceled) {
		t.Errorf("write whose caller gave up: err = %v, want context.Canceled", batch[3].err)
	}
	if batch[4].err == nil {
		t.Error("bad SQL succeeded")
	}
	if err := batch[5].err; err != nil {
		t.Errorf("good answer after failures: %v", err)
	}
	if evs[0].Seq != 2 || evs[4].Seq != 3 {
		t.Errorf("seqs %d and %d, want 2 and 3: failed writes must not use up numbers", evs[0].Seq, evs[4].Seq)
	}
	if _, err := db.Event(ctx, gaveUp.ID); failure.KindOf(err) != failure.NotFound {
		t.Errorf("the answer whose caller gave up was stored: %v", err)
	}

	db.commits.commit([]*writeReq{answerReq(t, db, ctx, event.Answer{ID: db.NewID(), Learner: "guest:d", Pack: "p", Set: "s", Item: "q9"}, new(event.Event)), panicky})
	if panicky.err == nil {
		t.Error("a panicking write succeeded")
	}
	if last, _ := db.LastSeq(ctx); last != 3 {
		t.Errorf("last seq = %d after a batch with a panic, want 3 (the whole batch rolled back)", last)
	}
}

// Writes submitted while a batch commits are grouped into the next one.
func TestConcurrentWritesAreGrouped(t *testing.T) {
	ctx := context.Background()
	db := openInternal(t)
	// Hold the write lock from another connection so that writes queue up.
	other, err := sql.Open("sqlite3", "file:"+db.Path()+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := db.RecordAnswer(ctx, event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: string(rune('a' + i%26))})
			errs <- err
		}()
	}
	// The committer takes the first writes and waits for the lock; the rest
	// queue behind it. Release the lock once the queue stops growing.
	deadline := time.Now().Add(5 * time.Second)
	for last, still := -1, 0; still < 20 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if q := len(db.commits.reqs); q > 0 && q == last {
			still++
		} else {
			last, still = q, 0
		}
	}
	lock.Rollback()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := db.WriteStats()
	if st.Writes != n || st.Batches > 10 {
		t.Errorf("stats %+v: want %d writes grouped in at most 10 commits", st, n)
	}
}

func TestClosedDatabaseRefusesWrites(t *testing.T) {
	db := openInternal(t)
	db.Close()
	_, err := db.RecordAnswer(context.Background(), event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: "q"})
	if failure.KindOf(err) != failure.Unavailable {
		t.Errorf("write after close: err = %v, want unavailable", err)
	}
}
