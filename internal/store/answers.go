package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/mitstem/stembox/internal/failure"
)

// Answer is a graded answer to an exercise item.
type Answer struct {
	ID          string   `json:"-"` // event id; made by the client for offline answers, else by the box
	Learner     string   `json:"-"` // actor
	Pack        string   `json:"pack"`
	PackVersion string   `json:"version"`
	Set         string   `json:"set"`
	Item        string   `json:"item"`
	Lang        string   `json:"lang"`
	Choices     []int    `json:"choices,omitempty"`
	Text        string   `json:"text,omitempty"`
	Correct     bool     `json:"correct"`
	Score       float64  `json:"score"`
	Feedback    []string `json:"-"` // not stored: derived from the pack when shown
}

// RecordAnswer stores an answer as an answer.submitted event and updates the
// learner's progress in the same transaction. It returns once the answer is on
// disk. Recording an answer whose id is already stored is a no-op that
// returns the stored event (so a client may resend after a dropped
// connection), unless that event belongs to someone else or to another item.
func (db *DB) RecordAnswer(ctx context.Context, a Answer) (Event, error) {
	if a.ID == "" {
		a.ID = db.NewID()
	}
	payload, err := json.Marshal(a)
	if err != nil {
		return Event{}, fmt.Errorf("store: encode answer: %w", err)
	}
	// The answer joins the next group commit (group.go): this returns once
	// that transaction is on disk.
	var ev Event
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ev, err = db.recordAnswerTx(ctx, tx, a, payload)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// recordAnswerTx is RecordAnswer's work inside a transaction.
func (db *DB) recordAnswerTx(ctx context.Context, tx *sql.Tx, a Answer, payload []byte) (Event, error) {
	if prev, err := scanEvent(db.queryRow(ctx, tx, "SELECT "+eventColumns+" FROM events WHERE id = ?", a.ID)); err == nil {
		var stored Answer
		if err := json.Unmarshal(prev.Payload, &stored); err != nil || prev.Actor != a.Learner || prev.Kind != KindAnswerSubmitted ||
			stored.Pack != a.Pack || stored.Set != a.Set || stored.Item != a.Item {
			return Event{}, failure.Errorf(failure.Conflict, "answer id %s is already used for something else", a.ID)
		}
		return prev, nil
	}

	ev := Event{ID: a.ID, Kind: KindAnswerSubmitted, Actor: a.Learner, Payload: payload}
	if err := db.appendEvent(ctx, tx, &ev); err != nil {
		return Event{}, err
	}
	correct := 0
	if a.Correct {
		correct = 1
	}
	if _, err := db.exec(ctx, tx, `INSERT INTO item_progress
		(learner, pack, set_id, item, attempts, correct, best_score, last_correct, last_seq)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
		ON CONFLICT (learner, pack, set_id, item) DO UPDATE SET
			attempts = attempts + 1,
			correct = correct + excluded.correct,
			best_score = max(best_score, excluded.best_score),
			last_correct = excluded.last_correct,
			last_seq = excluded.last_seq`,
		a.Learner, a.Pack, a.Set, a.Item, correct, a.Score, correct, ev.Seq); err != nil {
		return Event{}, fmt.Errorf("store: update progress: %w", describe(err))
	}
	return ev, nil
}

// AnswerOf returns the answer stored as event id, if it is learner's.
func (db *DB) AnswerOf(ctx context.Context, learner, id string) (Answer, Event, error) {
	ev, err := db.Event(ctx, id)
	if err != nil {
		return Answer{}, Event{}, err
	}
	if ev.Kind != KindAnswerSubmitted || ev.Actor != learner {
		return Answer{}, Event{}, failure.Errorf(failure.NotFound, "no answer %s", id)
	}
	var a Answer
	if err := json.Unmarshal(ev.Payload, &a); err != nil {
		return Answer{}, Event{}, fmt.Errorf("store: decode answer %s: %w", id, err)
	}
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
