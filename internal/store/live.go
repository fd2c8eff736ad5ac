package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
)

// LiveSession is a live session as stored: its definition and where it is.
type LiveSession struct {
	ID, Code    string
	TeacherHash string // SHA-256 (hex) of the teacher's control token
	Title, Lang string
	Options     json.RawMessage // live.Options
	Questions   json.RawMessage // []live.Question, answers included
	Phase       string
	Current     int
	Version     int64
	Created     time.Time
	Ended       time.Time // zero while it runs
}

// LivePlayer is someone who joined a live session.
type LivePlayer struct {
	Session, ID string
	TokenHash   string // SHA-256 (hex) of the secret the player's device holds
	Learner     string
	Nickname    string
	Joined      time.Time
	Removed     bool
}

// CreateLiveSession stores a new session. A code already used by another
// session is a Conflict (the caller makes another).
func (db *DB) CreateLiveSession(ctx context.Context, s LiveSession) error {
	now := db.clock.Now().Wall.UnixMilli()
	err := db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO live_sessions
			(id, code, teacher_hash, title, lang, options, questions, phase, current, version, created_ms, updated_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Code, s.TeacherHash, s.Title, s.Lang, string(s.Options), string(s.Questions), s.Phase, s.Current, s.Version, now, now)
		if isUnique(err) {
			return failure.Errorf(failure.Conflict, "live session code %s is taken", s.Code)
		}
		if err != nil {
			return fmt.Errorf("store: create live session: %w", describe(err))
		}
		return nil
	})
	return err
}

// LiveState is where a session is: its phase, its question and the
// version of that state (an older version never overwrites a newer one,
// since writes may land out of order).
type LiveState struct {
	Session string
	Phase   string
	Current int
	Version int64
	Locked  bool // the teacher locked joining (kept in the options, as "locked")
}

// LiveWrite is one write of a live session; exactly one field is set.
type LiveWrite struct {
	State    *LiveState          // where the session is
	Join     *LivePlayer         // a player who joined
	Player   *LivePlayer         // a player's new nickname or secret, or their removal
	Response *event.LiveResponse // an answer, as a live.response event
}

// WriteLive applies writes of live sessions in one transaction (one group
// commit, so a class answering at once costs one disk flush, not one each)
// and returns once they are on disk. Each write succeeds or fails on its
// own (errs[i] is writes[i]'s error); err is set, and every write failed,
// when the transaction itself did.
func (db *DB) WriteLive(ctx context.Context, writes []LiveWrite) (errs []error, err error) {
	errs = make([]error, len(writes))
	evs := make([]event.Event, len(writes))
	for i, w := range writes {
		if w.Response != nil {
			if evs[i], err = event.New(w.Response.ID, w.Response.Learner, *w.Response); err != nil {
				errs[i] = failure.Wrap(failure.Invalid, err, err.Error())
			}
		}
	}
	now := db.clock.Now().Wall.UnixMilli()
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, w := range writes {
			if errs[i] != nil {
				continue
			}
			errs[i] = db.nested(ctx, tx, func() error { return db.liveWriteTx(ctx, tx, w, evs[i], now) })
			if errors.Is(errs[i], errNestedBroken) {
				return errs[i]
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs, err
	}
	return errs, nil
}

var errNestedBroken = errors.New("store: a live write could not be rolled back")

// nested runs f in a savepoint of its own, inside the group commit's, so
// that a write that fails leaves no trace and the others go on.
func (db *DB) nested(ctx context.Context, tx *sql.Tx, f func() error) error {
	if _, err := db.exec(ctx, tx, "SAVEPOINT live"); err != nil {
		return fmt.Errorf("%w: %w", errNestedBroken, describe(err))
	}
	if err := f(); err != nil {
		if _, rerr := db.exec(ctx, tx, "ROLLBACK TO live; RELEASE live"); rerr != nil {
			return fmt.Errorf("%w: %w (and rolling back: %v)", errNestedBroken, err, rerr)
		}
		return err
	}
	if _, err := db.exec(ctx, tx, "RELEASE live"); err != nil {
		return fmt.Errorf("%w: %w", errNestedBroken, describe(err))
	}
	return nil
}

func (db *DB) liveWriteTx(ctx context.Context, tx *sql.Tx, w LiveWrite, ev event.Event, now int64) error {
	switch {
	case w.State != nil:
		st := w.State
		_, err := db.exec(ctx, tx, `UPDATE live_sessions SET phase = ?, current = ?, version = ?, updated_ms = ?,
			ended_ms = CASE WHEN ? = 'ended' THEN coalesce(ended_ms, ?) ELSE ended_ms END,
			options = json_set(options, '$.locked', json(CASE WHEN ? THEN 'true' ELSE 'false' END))
			WHERE id = ? AND version < ?`,
			st.Phase, st.Current, st.Version, now, st.Phase, now, st.Locked, st.Session, st.Version)
		if err != nil {
			return fmt.Errorf("store: live session state: %w", describe(err))
		}
	case w.Join != nil:
		p := w.Join
		_, err := db.exec(ctx, tx, `INSERT INTO live_players (session, id, token_hash, learner, nickname, joined_ms, removed)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, p.Session, p.ID, p.TokenHash, p.Learner, p.Nickname, p.Joined.UnixMilli(), p.Removed)
		if isUnique(err) {
			return failure.Errorf(failure.Conflict, "live player %s/%s exists", p.Session, p.ID)
		}
		if err != nil {
			return fmt.Errorf("store: add live player: %w", describe(err))
		}
	case w.Player != nil:
		p := w.Player
		res, err := db.exec(ctx, tx, `UPDATE live_players SET nickname = ?, token_hash = ?, removed = ? WHERE session = ? AND id = ?`,
			p.Nickname, p.TokenHash, p.Removed, p.Session, p.ID)
		if err != nil {
			return fmt.Errorf("store: update live player: %w", describe(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no live player %s/%s", p.Session, p.ID)
		}
	case w.Response != nil:
		_, err := db.recordLiveResponseTx(ctx, tx, *w.Response, ev)
		return err
	}
	return nil
}

// one applies a single write.
func (db *DB) one(ctx context.Context, w LiveWrite) error {
	errs, err := db.WriteLive(ctx, []LiveWrite{w})
	if err != nil {
		return err
	}
	return errs[0]
}

// SetLiveState stores where a session is (see LiveState).
func (db *DB) SetLiveState(ctx context.Context, session, phase string, current int, version int64) error {
	return db.one(ctx, LiveWrite{State: &LiveState{Session: session, Phase: phase, Current: current, Version: version}})
}

// AddLivePlayer stores a player who joined.
func (db *DB) AddLivePlayer(ctx context.Context, p LivePlayer) error {
	return db.one(ctx, LiveWrite{Join: &p})
}

// UpdateLivePlayer stores a player's new nickname or device secret, or
// their removal.
func (db *DB) UpdateLivePlayer(ctx context.Context, p LivePlayer) error {
	return db.one(ctx, LiveWrite{Player: &p})
}

// RecordLiveResponse stores an answer of a live session as a live.response
// event, with its row in live_responses and, for an item of a pack, the
// learner's progress, in one transaction (a group commit). It returns once
// the answer is on disk. Storing an id already stored for the same learner,
// session and question is a no-op that returns the stored event, so a client
// may resend after a dropped connection; an id used for anything else is a
// Conflict, and so is a second answer of a player to one question.
func (db *DB) RecordLiveResponse(ctx context.Context, r event.LiveResponse) (event.Event, error) {
	if err := db.one(ctx, LiveWrite{Response: &r}); err != nil {
		return event.Event{}, err
	}
	return db.Event(ctx, r.ID)
}

func (db *DB) recordLiveResponseTx(ctx context.Context, tx *sql.Tx, r event.LiveResponse, ev event.Event) (event.Event, error) {
	prev, err := scanEvent(db.queryRow(ctx, tx, "SELECT "+eventColumns+" FROM events WHERE id = ?", r.ID))
	if err == nil {
		p, err := event.Decode(prev.Kind, prev.Payload)
		stored, ok := p.(event.LiveResponse)
		if err != nil || !ok || prev.Actor != r.Learner ||
			stored.Session != r.Session || stored.Question != r.Question || stored.Player != r.Player {
			return event.Event{}, failure.Errorf(failure.Conflict, "answer id %s is already used for something else", r.ID)
		}
		return prev, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return event.Event{}, fmt.Errorf("store: live response: %w", describe(err))
	}
	var other string
	err = db.queryRow(ctx, tx, "SELECT event_id FROM live_responses WHERE session = ? AND question = ? AND player = ?",
		r.Session, r.Question, r.Player).Scan(&other)
	if err == nil {
		return event.Event{}, failure.Errorf(failure.Conflict, "player %s already answered question %d", r.Player, r.Question)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return event.Event{}, fmt.Errorf("store: live response: %w", describe(err))
	}
	if err := db.appendEvent(ctx, tx, &ev); err != nil {
		return event.Event{}, err
	}
	choices := []byte("[]")
	if len(r.Choices) > 0 {
		choices, _ = json.Marshal(r.Choices)
	}
	if _, err := db.exec(ctx, tx, `INSERT INTO live_responses
		(session, question, player, event_seq, event_id, choices, text, correct, score, points, elapsed_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Session, r.Question, r.Player, ev.Seq, r.ID, string(choices), r.Text, r.Correct, r.Score, r.Points, r.ElapsedMS); err != nil {
		return event.Event{}, fmt.Errorf("store: insert live response: %w", describe(err))
	}
	// An answer to an item of a pack counts towards the learner's progress
	// and mastery, as one in the exercise pages does.
	if at, ok := event.AttemptOf(r); ok {
		if err := db.deriveAttempt(ctx, tx, ev.Seq, r.Learner, at); err != nil {
			return event.Event{}, err
		}
	}
	return ev, nil
}

const liveSessionColumns = "id, code, teacher_hash, title, lang, options, questions, phase, current, version, created_ms, ended_ms"

func scanLiveSession(row interface{ Scan(...any) error }) (LiveSession, error) {
	var s LiveSession
	var options, questions string
	var created int64
	var ended sql.NullInt64
	if err := row.Scan(&s.ID, &s.Code, &s.TeacherHash, &s.Title, &s.Lang, &options, &questions, &s.Phase, &s.Current, &s.Version, &created, &ended); err != nil {
		return LiveSession{}, err
	}
	s.Options, s.Questions = json.RawMessage(options), json.RawMessage(questions)
	s.Created = time.UnixMilli(created)
	if ended.Valid {
		s.Ended = time.UnixMilli(ended.Int64)
	}
	return s, nil
}

// RunningLiveSessions returns the sessions that have not ended, oldest first.
func (db *DB) RunningLiveSessions(ctx context.Context) ([]LiveSession, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+liveSessionColumns+" FROM live_sessions WHERE phase <> 'ended' ORDER BY created_ms, id")
	if err != nil {
		return nil, fmt.Errorf("store: running live sessions: %w", describe(err))
	}
	defer rows.Close()
	var out []LiveSession
	for rows.Next() {
		s, err := scanLiveSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: running live sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// LiveSessionByCode returns the session with the join code.
func (db *DB) LiveSessionByCode(ctx context.Context, code string) (LiveSession, error) {
	s, err := scanLiveSession(db.read.QueryRowContext(ctx, "SELECT "+liveSessionColumns+" FROM live_sessions WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return LiveSession{}, failure.Errorf(failure.NotFound, "no live session %s", code)
	}
	if err != nil {
		return LiveSession{}, fmt.Errorf("store: live session %s: %w", code, err)
	}
	return s, nil
}

// LivePlayers returns a session's players in joining order, removed ones
// included.
func (db *DB) LivePlayers(ctx context.Context, session string) ([]LivePlayer, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT session, id, token_hash, learner, nickname, joined_ms, removed
		FROM live_players WHERE session = ? ORDER BY joined_ms, CAST(substr(id, 2) AS INTEGER)`, session)
	if err != nil {
		return nil, fmt.Errorf("store: live players: %w", describe(err))
	}
	defer rows.Close()
	var out []LivePlayer
	for rows.Next() {
		var p LivePlayer
		var joined int64
		if err := rows.Scan(&p.Session, &p.ID, &p.TokenHash, &p.Learner, &p.Nickname, &joined, &p.Removed); err != nil {
			return nil, fmt.Errorf("store: live players: %w", err)
		}
		p.Joined = time.UnixMilli(joined)
		out = append(out, p)
	}
	return out, rows.Err()
}

// LiveResponses returns the stored answers of a session, by question and
// then in the order they were stored.
func (db *DB) LiveResponses(ctx context.Context, session string) ([]event.LiveResponse, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT r.event_id, e.actor, e.payload
		FROM live_responses r JOIN events e ON e.seq = r.event_seq
		WHERE r.session = ? ORDER BY r.question, r.event_seq`, session)
	if err != nil {
		return nil, fmt.Errorf("store: live responses: %w", describe(err))
	}
	defer rows.Close()
	var out []event.LiveResponse
	for rows.Next() {
		var id, actor, payload string
		if err := rows.Scan(&id, &actor, &payload); err != nil {
			return nil, fmt.Errorf("store: live responses: %w", err)
		}
		var r event.LiveResponse
		if err := json.Unmarshal([]byte(payload), &r); err != nil {
			return nil, fmt.Errorf("store: decode live response %s: %w", id, err)
		}
		r.ID, r.Learner = id, actor
		out = append(out, r)
	}
	return out, rows.Err()
}
