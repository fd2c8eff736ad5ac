package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// Assignment is a lesson, exercise set or app a teacher gave a class.
type Assignment struct {
	ID, ClassID, Pack, Kind, Ref string
	Created                      time.Time
}

// Assign gives a class a lesson ("lesson"), exercise set ("set") or app
// ("app") of a pack. Assigning it again is a no-op.
func (db *DB) Assign(ctx context.Context, actor, classID, pack, kind, ref string) error {
	if kind != "lesson" && kind != "set" && kind != "app" {
		return failure.Errorf(failure.Invalid, "an assignment is a lesson, a set or an app, not %q", kind)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		id := db.NewID()
		res, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO assignments (id, class_id, pack, kind, ref, assigned_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, classID, pack, kind, ref, actor, db.clock.Now().Wall.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: assign: %w", describe(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return db.event(ctx, tx, actor, event.AssignmentCreated{Assignment: id, Class: classID, Pack: pack, Kind: kind, Ref: ref})
	})
}

// Unassign removes an assignment of a class.
func (db *DB) Unassign(ctx context.Context, actor, classID, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM assignments WHERE id = ? AND class_id = ?", id, classID)
		if err != nil {
			return fmt.Errorf("store: unassign: %w", describe(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no such assignment")
		}
		return db.event(ctx, tx, actor, event.AssignmentRemoved{Assignment: id, Class: classID})
	})
}

// Assignments lists a class's assignments in the order they were given.
func (db *DB) Assignments(ctx context.Context, classID string) ([]Assignment, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT id, class_id, pack, kind, ref, created_ms FROM assignments WHERE class_id = ? ORDER BY created_ms, id", classID)
	if err != nil {
		return nil, fmt.Errorf("store: assignments: %w", err)
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var created int64
		if err := rows.Scan(&a.ID, &a.ClassID, &a.Pack, &a.Kind, &a.Ref, &created); err != nil {
			return nil, err
		}
		a.Created = time.UnixMilli(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CompleteLesson records that a learner finished reading a lesson, as a
// lesson.completed event and the learner's lesson progress.
func (db *DB) CompleteLesson(ctx context.Context, learner, pack, version, lesson string) error {
	l := event.LessonCompleted{Pack: pack, Version: version, Lesson: lesson}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		ev, err := db.record(ctx, tx, "", learner, l)
		if err != nil {
			return err
		}
		return db.insertLessonProgress(ctx, tx, ev, l)
	})
}

// Attempt is one stored answer, for progress and reports.
type Attempt struct {
	Seq                      int64
	Learner, Pack, Set, Item string
	Correct                  bool
	Score                    float64
	Answer                   string    // the text typed, or the picked choices as JSON
	Time                     time.Time // corrected: its boot's start plus its time since boot (clock.go)
	// Version is the version of the pack it was answered on (from its
	// event), so that its question can be shown as it was then.
	Version string
}

// Attempts returns the answers of the given learners in a pack's set ("" for
// every set of the pack), oldest first.
func (db *DB) Attempts(ctx context.Context, learners []string, pack, set string) ([]Attempt, error) {
	if len(learners) == 0 {
		return nil, nil
	}
	ids, _ := json.Marshal(learners)
	rows, err := db.read.QueryContext(ctx, `SELECT a.seq, a.learner, a.pack, a.set_id, a.item, a.correct, a.score, a.answer, COALESCE(json_extract(e.payload, '$.version'), ''), `+eventTime+`
		FROM attempts a JOIN events e ON e.seq = a.seq `+eventTimeJoin+`
		WHERE a.learner IN (SELECT value FROM json_each(?)) AND (? = '' OR a.pack = ?) AND (? = '' OR a.set_id = ?)
		ORDER BY a.seq`, string(ids), pack, pack, set, set)
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var wall int64
		if err := rows.Scan(&a.Seq, &a.Learner, &a.Pack, &a.Set, &a.Item, &a.Correct, &a.Score, &a.Answer, &a.Version, &wall); err != nil {
			return nil, err
		}
		a.Time = time.UnixMilli(wall)
		out = append(out, a)
	}
	return out, rows.Err()
}

// LessonsCompleted returns, per learner, the lessons of a pack they finished.
func (db *DB) LessonsCompleted(ctx context.Context, learners []string, pack string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	if len(learners) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(learners)
	rows, err := db.read.QueryContext(ctx, `SELECT learner, lesson FROM lesson_progress
		WHERE learner IN (SELECT value FROM json_each(?)) AND pack = ?`, string(ids), pack)
	if err != nil {
		return nil, fmt.Errorf("store: lessons completed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l, lesson string
		if err := rows.Scan(&l, &lesson); err != nil {
			return nil, err
		}
		if out[l] == nil {
			out[l] = map[string]bool{}
		}
		out[l][lesson] = true
	}
	return out, rows.Err()
}
