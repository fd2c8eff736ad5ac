package store

import (
	"time"

	"context"
	"database/sql"
	"fmt"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// RecordAnswer stores an answer as an answer.submitted event and updates the
// learner's attempts and progress in the same transaction. It returns once
// the answer is on disk. Recording an answer whose id is already stored is a
// no-op that returns the stored event (so a client may resend after a
// dropped connection), unless that event belongs to someone else or to
// another item. An answer missing what the contract requires is Invalid.
func (db *DB) RecordAnswer(ctx context.Context, a event.Answer) (event.Event, error) {
	if a.ID == "" {
		a.ID = db.NewID()
	}
	payload, err := event.Marshal(a)
	if err != nil {
		return event.Event{}, failure.Wrap(failure.Invalid, err, err.Error())
	}
	// The answer joins the next group commit (group.go): this returns once
	// that transaction is on disk.
	var ev event.Event
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ev, err = db.recordAnswerTx(ctx, tx, a, payload)
		return err
	})
	if err != nil {
		return event.Event{}, err
	}
	return ev, nil
}

// recordAnswerTx is RecordAnswer's work inside a transaction, payload being
// a's.
func (db *DB) recordAnswerTx(ctx context.Context, tx *sql.Tx, a event.Answer, payload []byte) (event.Event, error) {
	same := func(p event.Payload) bool {
		stored, ok := p.(event.Answer)
		return ok && stored.Pack == a.Pack && stored.Set == a.Set && stored.Item == a.Item
	}
	return db.recordOnceTx(ctx, tx, event.Event{ID: a.ID, Kind: a.EventKind(), Actor: a.Learner, Payload: payload}, a.Age, same,
		func(ev event.Event) error {
			at, _ := event.AttemptOf(a)
			return db.deriveAttempt(ctx, tx, ev.Seq, a.Learner, at)
		})
}

// recordOnceTx appends ev, whose id a client made, and has derive write
// the rows derived from it, in tx; age is how long ago the client says it
// was made (appendEventAged). An event of that id already stored is
// returned as it is when it is the same actor's and same says its payload
// is of the same action (a resend), and is a Conflict otherwise.
func (db *DB) recordOnceTx(ctx context.Context, tx *sql.Tx, ev event.Event, age time.Duration, same func(event.Payload) bool, derive func(event.Event) error) (event.Event, error) {
	if prev, err := scanEvent(db.queryRow(ctx, tx, "SELECT "+eventColumns+" FROM events WHERE id = ?", ev.ID)); err == nil {
		p, err := event.Decode(prev.Kind, prev.Payload)
		if err != nil || prev.Kind != ev.Kind || prev.Actor != ev.Actor || !same(p) {
			return event.Event{}, failure.Errorf(failure.Conflict, "id %s is already used for something else", ev.ID)
		}
		return prev, nil
	}
	if err := db.appendEventAged(ctx, tx, &ev, age); err != nil {
		return event.Event{}, err
	}
	if err := derive(ev); err != nil {
		return event.Event{}, err
	}
	return ev, nil
}

// AnswerOf returns the answer stored as event id, if it is learner's.
func (db *DB) AnswerOf(ctx context.Context, learner, id string) (event.Answer, event.Event, error) {
	ev, err := db.Event(ctx, id)
	if err != nil {
		return event.Answer{}, event.Event{}, err
	}
	if ev.Kind != event.KindAnswerSubmitted || ev.Actor != learner {
		return event.Answer{}, event.Event{}, failure.Errorf(failure.NotFound, "no answer %s", id)
	}
	p, err := event.Decode(ev.Kind, ev.Payload)
	if err != nil {
		return event.Answer{}, event.Event{}, fmt.Errorf("store: decode answer %s: %w", id, err)
	}
	a := p.(event.Answer)
	a.ID, a.Learner = ev.ID, ev.Actor
	return a, ev, nil
}

// Progress is a learner's record on one item.
type Progress struct {
	Item        string
	Attempts    int
	Correct     int
	BestScore   float64
	LastCorrect bool
}

// SetProgress returns learner's progress on the items of one exercise set,
// by item id.
func (db *DB) SetProgress(ctx context.Context, learner, pack, set string) (map[string]Progress, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT item, attempts, correct, best_score, last_correct
		FROM item_progress WHERE learner = ? AND pack = ? AND set_id = ?`, learner, pack, set)
	if err != nil {
		return nil, fmt.Errorf("store: progress: %w", err)
	}
	defer rows.Close()
	out := map[string]Progress{}
	for rows.Next() {
		var p Progress
		if err := rows.Scan(&p.Item, &p.Attempts, &p.Correct, &p.BestScore, &p.LastCorrect); err != nil {
			return nil, fmt.Errorf("store: progress: %w", err)
		}
		out[p.Item] = p
	}
	return out, rows.Err()
}
