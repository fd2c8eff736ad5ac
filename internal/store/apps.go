package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// RecordAppResult stores an app's result as an app.result event and updates
// the learner's app progress in the same transaction, returning once it is
// on disk. Like RecordAnswer, a result whose id is already stored is a
// no-op that returns the stored event (a page resends after a lost reply,
// or from its offline queue), unless that event is someone else's or
// another app's: then it is a Conflict. A result outside the contract
// (score above max, a long summary) is Invalid.
func (db *DB) RecordAppResult(ctx context.Context, a event.AppResult) (event.Event, error) {
	if a.ID == "" {
		a.ID = db.NewID()
	}
	payload, err := event.Marshal(a)
	if err != nil {
		return event.Event{}, failure.Wrap(failure.Invalid, err, err.Error())
	}
	same := func(p event.Payload) bool {
		stored, ok := p.(event.AppResult)
		return ok && stored.Pack == a.Pack && stored.App == a.App
	}
	var ev event.Event
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ev, err = db.recordOnceTx(ctx, tx, event.Event{ID: a.ID, Kind: a.EventKind(), Actor: a.Learner, Payload: payload}, a.Age, same,
			func(ev event.Event) error { return db.bumpAppProgress(ctx, tx, ev.Seq, a.Learner, a) })
		return err
	})
	if err != nil {
		return event.Event{}, err
	}
	return ev, nil
}

// AppProgress is a learner's record on one app.
type AppProgress struct {
	Results   int
	Completed bool
	Best      float64 // the best share of the score, 0 to 1
	Score     float64 // of the latest result
	Max       float64
	Summary   string
}

// AppProgress returns, per learner and app id, the learners' progress on
// the apps of a pack.
func (db *DB) AppProgress(ctx context.Context, learners []string, pack string) (map[string]map[string]AppProgress, error) {
	out := map[string]map[string]AppProgress{}
	if len(learners) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(learners)
	rows, err := db.read.QueryContext(ctx, `SELECT learner, app, results, completed, best, last_score, last_max, summary
		FROM app_progress WHERE learner IN (SELECT value FROM json_each(?)) AND pack = ?`, string(ids), pack)
	if err != nil {
		return nil, fmt.Errorf("store: app progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l, app string
		var p AppProgress
		if err := rows.Scan(&l, &app, &p.Results, &p.Completed, &p.Best, &p.Score, &p.Max, &p.Summary); err != nil {
			return nil, fmt.Errorf("store: app progress: %w", err)
		}
		if out[l] == nil {
			out[l] = map[string]AppProgress{}
		}
		out[l][app] = p
	}
	return out, rows.Err()
}
