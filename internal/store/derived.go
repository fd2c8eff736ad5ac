package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mitstem/stembox/internal/event"
)

// The tables derived from events are written here, one function a table,
// in the transaction that appends the event (whichever kind it is), so a
// reader of the code that records an event sees everything it changes.

// deriveAttempt records an answer to an item of a pack, stored as the
// event at seq, in attempts and item_progress.
func (db *DB) deriveAttempt(ctx context.Context, tx *sql.Tx, seq int64, learner string, a event.Attempt) error {
	if err := db.insertAttempt(ctx, tx, seq, learner, a); err != nil {
		return err
	}
	return db.bumpItemProgress(ctx, tx, seq, learner, a)
}

// insertAttempt adds the attempts row of one answer: one row an answer,
// for mastery rules over a learner's latest answers and item analysis.
func (db *DB) insertAttempt(ctx context.Context, tx *sql.Tx, seq int64, learner string, a event.Attempt) error {
	if _, err := db.exec(ctx, tx, `INSERT INTO attempts (seq, learner, pack, set_id, item, correct, score, answer)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, seq, learner, a.Pack, a.Set, a.Item, a.Correct, a.Score, a.Answer); err != nil {
		return fmt.Errorf("store: insert attempt: %w", describe(err))
	}
	return nil
}

// bumpItemProgress counts one answer in the learner's item_progress row.
func (db *DB) bumpItemProgress(ctx context.Context, tx *sql.Tx, seq int64, learner string, a event.Attempt) error {
	if _, err := db.exec(ctx, tx, `INSERT INTO item_progress
		(learner, pack, set_id, item, attempts, correct, best_score, last_correct, last_seq)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
		ON CONFLICT (learner, pack, set_id, item) DO UPDATE SET
			attempts = attempts + 1,
			correct = correct + excluded.correct,
			best_score = max(best_score, excluded.best_score),
			last_correct = excluded.last_correct,
			last_seq = excluded.last_seq`,
		learner, a.Pack, a.Set, a.Item, a.Correct, a.Score, a.Correct, seq); err != nil {
		return fmt.Errorf("store: update progress: %w", describe(err))
	}
	return nil
}

// insertLessonProgress records, once, that a learner finished a lesson:
// the first time counts.
func (db *DB) insertLessonProgress(ctx context.Context, tx *sql.Tx, ev event.Event, l event.LessonCompleted) error {
	if _, err := db.exec(ctx, tx, `INSERT OR IGNORE INTO lesson_progress (learner, pack, lesson, completed_ms) VALUES (?, ?, ?, ?)`,
		ev.Actor, l.Pack, l.Lesson, ev.Wall.UnixMilli()); err != nil {
		return fmt.Errorf("store: lesson progress: %w", describe(err))
	}
	return nil
}

// bumpAppProgress counts one app result, stored as the event at seq, in the
// learner's app_progress row.
func (db *DB) bumpAppProgress(ctx context.Context, tx *sql.Tx, seq int64, learner string, a event.AppResult) error {
	if _, err := db.exec(ctx, tx, `INSERT INTO app_progress
		(learner, pack, app, results, completed, best, last_score, last_max, summary, last_seq)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (learner, pack, app) DO UPDATE SET
			results = results + 1,
			completed = max(completed, excluded.completed),
			best = max(best, excluded.best),
			last_score = excluded.last_score,
			last_max = excluded.last_max,
			summary = excluded.summary,
			last_seq = excluded.last_seq`,
		learner, a.Pack, a.App, a.Completed, a.Fraction(), a.Score, a.Max, a.Summary, seq); err != nil {
		return fmt.Errorf("store: app progress: %w", describe(err))
	}
	return nil
}
