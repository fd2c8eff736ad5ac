package hub

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Ingest stores a batch of a box's events, all or nothing, in one
// transaction that holds the box's row locked (SELECT … FOR UPDATE on
// PostgreSQL; SQLite's write transaction holds the whole database), so that
// two copies of one batch arriving at once — a retry, or two hub processes
// — are stored once.
//
// A batch is of one epoch of the box (wire.Stream; epochs.go): events are
// held per (box, epoch, seq). Events already held (same epoch and seq, same
// id, same content) are skipped; an event that contradicts one held
// (another id at that seq of the epoch, or that id at another place) refuses
// the whole batch: the box's history diverged, as after a box was restored
// from an old backup, and the error (a *DivergedError) says where, so the
// box goes on under a new epoch. The answer is the highest seq the hub holds
// contiguously from 1 along the epoch's line, which the box takes as its
// new cursor.
//
// online says the batch came over the network just now, so its clock
// reading can be compared with the hub's (clock.go); a bundle's cannot.
func (h *Store) Ingest(ctx context.Context, id BoxIdentity, b wire.Batch, online bool, wireBytes int) (wire.IngestResponse, error) {
	if id.BoxID != "" && b.BoxID != id.BoxID {
		return wire.IngestResponse{}, failure.Errorf(failure.Unauthorized, "this credential belongs to box %s; it cannot send the events of box %s", id.BoxID, b.BoxID)
	}
	payloads := make([]event.Payload, len(b.Events))
	for i, ev := range b.Events {
		payloads[i] = derivable(ev)
	}
	now := h.now()
	var resp wire.IngestResponse
	err := h.db.inTx(ctx, func(tx *Tx) error {
		if id.BoxID == "" {
			if err := h.bindCredential(ctx, tx, id, b.BoxID, now); err != nil {
				return err
			}
		}
		var locked int64
		err := tx.queryRow(ctx, "SELECT acked_seq FROM boxes WHERE id = ?"+h.db.forUpdate(), b.BoxID).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return failure.Errorf(failure.Unauthorized, "box %s is not enrolled", b.BoxID)
		}
		if err != nil {
			return fmt.Errorf("hub: ingest: lock box: %w", err)
		}
		ep, err := h.epoch(ctx, tx, b.BoxID, b.Stream, now)
		if err != nil {
			return err
		}
		clk, newBoot, err := h.observeClock(ctx, tx, b, online, now)
		if err != nil {
			return err
		}
		fresh, dups, err := h.newEvents(ctx, tx, b)
		if err != nil {
			return err
		}
		if len(fresh) > 0 {
			if err := h.insertEvents(ctx, tx, b.BoxID, b.Epoch, b.Events, payloads, fresh, clk, now); err != nil {
				return err
			}
		}
		if newBoot {
			// Events of this boot that came before on a stick: now its
			// start is known.
			if err := h.redate(ctx, tx, b.BoxID, []string{b.Clock.BootID}); err != nil {
				return err
			}
		}
		if ep.acked, err = h.contiguous(ctx, tx, b.BoxID, b.Epoch, ep.acked); err != nil {
			return err
		}
		line, ackedID, err := h.settleEpoch(ctx, tx, b.BoxID, ep, len(fresh), now)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE boxes SET acked_seq = ?, events = events + ?, last_seen_ms = ?, bytes_received = bytes_received + ?, batches = batches + 1, refused = ''
			WHERE id = ?`, line, len(fresh), now.UnixMilli(), wireBytes, b.BoxID); err != nil {
			return fmt.Errorf("hub: ingest: %w", err)
		}
		resp = wire.IngestResponse{AckedSeq: line, Stored: len(fresh), Duplicates: dups, AckedID: ackedID, HubMS: now.UnixMilli()}
		return nil
	})
	return resp, err
}

// bindCredential ties a credential made for a box enrolled by file to the
// first box that uses it.
func (h *Store) bindCredential(ctx context.Context, tx *Tx, id BoxIdentity, boxID string, now time.Time) error {
	var bound string
	if err := tx.queryRow(ctx, "SELECT box_id FROM credentials WHERE id = ?"+h.db.forUpdate(), id.Credential).Scan(&bound); err != nil {
		return fmt.Errorf("hub: credential: %w", err)
	}
	if bound != "" {
		if bound != boxID {
			return failure.Errorf(failure.Unauthorized, "this credential belongs to box %s; it cannot send the events of box %s", bound, boxID)
		}
		return nil
	}
	if len(boxID) > 64 || strings.ContainsAny(boxID, " \x00/") {
		return failure.Errorf(failure.Invalid, "box id %q is not valid", boxID)
	}
	if err := h.ensureBox(ctx, tx, boxID, id.SchoolID, "", now); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "UPDATE credentials SET box_id = ? WHERE id = ?", boxID, id.Credential); err != nil {
		return fmt.Errorf("hub: credential: %w", err)
	}
	return nil
}

// newEvents compares the batch with the events held in its seq range and
// returns the indexes of those to store and how many are held already.
func (h *Store) newEvents(ctx context.Context, tx *Tx, b wire.Batch) (fresh []int, dups int, err error) {
	if len(b.Events) == 0 {
		return nil, 0, nil
	}
	first, last := b.Events[0].Seq, b.Events[len(b.Events)-1].Seq
	rows, err := tx.query(ctx, "SELECT seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload FROM events WHERE box_id = ? AND epoch = ? AND seq >= ? AND seq <= ?",
		b.BoxID, b.Epoch, first, last)
	if err != nil {
		return nil, 0, fmt.Errorf("hub: ingest: %w", err)
	}
	held := map[int64]wire.Event{}
	for rows.Next() {
		var ev wire.Event
		var payload string
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Kind, &ev.Actor, &ev.WallMS, &ev.BootID, &ev.MonoMS, &payload); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("hub: ingest: %w", err)
		}
		ev.Payload = []byte(payload)
		held[ev.Seq] = ev
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("hub: ingest: %w", err)
	}
	fresh = make([]int, 0, len(b.Events))
	for i, ev := range b.Events {
		old, ok := held[ev.Seq]
		if !ok {
			fresh = append(fresh, i)
			continue
		}
		if old.ID != ev.ID || old.Kind != ev.Kind || old.Actor != ev.Actor || old.WallMS != ev.WallMS ||
			old.BootID != ev.BootID || old.MonoMS != ev.MonoMS || !bytes.Equal(old.Payload, ev.Payload) {
			return nil, 0, &DivergedError{Seq: ev.Seq, Err: failure.Errorf(failure.Conflict,
				"event %d of box %s%s differs from the one the hub holds (was the box restored from an old backup?); nothing of this batch was stored", ev.Seq, b.BoxID, epochName(b.Epoch))}
		}
		dups++
	}
	return fresh, dups, nil
}

// derivable returns the payload of ev that report rows are derived from:
// nil for a kind this hub does not know (a newer box's) and for a payload
// that breaks its kind's contract. Either is stored all the same.
func derivable(ev wire.Event) event.Payload {
	p, err := event.Decode(ev.Kind, ev.Payload)
	if err != nil || p == nil || event.Check(p) != nil {
		return nil
	}
	return p
}

// insertEvents stores the events at the indexes fresh and the report rows
// derived from them.
func (h *Store) insertEvents(ctx context.Context, tx *Tx, box, epoch string, evs []wire.Event, payloads []event.Payload, fresh []int, clk clockFix, now time.Time) error {
	rows := make([][]any, 0, len(fresh))
	var answers, lessons, learners, classes [][]any
	for _, i := range fresh {
		ev := evs[i]
		t, basis, errMS := clk.correct(ev)
		rows = append(rows, []any{box, epoch, ev.Seq, ev.ID, ev.Kind, ev.Actor, ev.WallMS, ev.BootID, ev.MonoMS, string(ev.Payload), t, basis, errMS, now.UnixMilli()})
		if a, ok := reportedAttempt(payloads[i]); ok {
			answers = append(answers, []any{box, epoch, ev.Seq, ev.Actor, a.Pack, a.Set, a.Item, b2i(a.Correct), t})
		}
		switch p := payloads[i].(type) {
		case event.LessonCompleted:
			lessons = append(lessons, []any{box, epoch, ev.Seq, ev.Actor, p.Pack, p.Lesson, t})
		case event.StudentCreated:
			learners = append(learners, []any{box, "student:" + p.Student, p.Class, genderOf(p.Gender)})
		case event.ClassCreated:
			classes = append(classes, []any{box, p.Class, p.Grade})
		}
	}
	n, err := tx.insertRows(ctx, "INSERT INTO events (box_id, epoch, seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis, time_err_ms, received_ms)",
		rows, " ON CONFLICT (box_id, id) DO NOTHING", "text", "text", "bigint", "text", "text", "text", "bigint", "text", "bigint", "text", "bigint", "text", "bigint", "bigint")
	if err != nil {
		if isUnique(err) {
			return failure.Errorf(failure.Conflict, "a sequence number of box %s already holds another event; nothing of this batch was stored", box)
		}
		return fmt.Errorf("hub: ingest: insert events: %w", err)
	}
	if n != int64(len(rows)) {
		return h.heldElsewhere(ctx, tx, box, epoch, evs, fresh)
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO answers (box_id, epoch, seq, learner, pack, set_id, item, correct, time_ms)", answers, "",
		"text", "text", "bigint", "text", "text", "text", "text", "bigint", "bigint"); err != nil {
		return fmt.Errorf("hub: ingest: answers: %w", err)
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO lessons_done (box_id, epoch, seq, learner, pack, lesson, time_ms)", lessons, "",
		"text", "text", "bigint", "text", "text", "text", "bigint"); err != nil {
		return fmt.Errorf("hub: ingest: lessons: %w", err)
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO learners (box_id, learner, class_id, gender)", dedupe(learners, 2),
		" ON CONFLICT (box_id, learner) DO UPDATE SET class_id = excluded.class_id, gender = excluded.gender"); err != nil {
		return fmt.Errorf("hub: ingest: learners: %w", err)
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO classes (box_id, class_id, grade)", dedupe(classes, 2),
		" ON CONFLICT (box_id, class_id) DO UPDATE SET grade = excluded.grade"); err != nil {
		return fmt.Errorf("hub: ingest: classes: %w", err)
	}
	return h.summarize(ctx, tx, box, answers, lessons, learners)
}

// reportedAttempt is the answer a payload counts as in reports: an
// attempt at an item of a pack (event.AttemptOf), or an answer to a scored
// live question the teacher typed, which counts under the pack "" (the
// teacher's own questions, OwnQuestions) with the session as its set.
func reportedAttempt(p event.Payload) (event.Attempt, bool) {
	if a, ok := event.AttemptOf(p); ok {
		return a, !a.Poll // a poll's answer is never right or wrong
	}
	if r, ok := p.(event.LiveResponse); ok && r.Pack == "" && r.Item != "" && r.Kind != event.QuestionPoll {
		return event.Attempt{Set: r.Session, Item: r.Item, Correct: r.Correct, Score: r.Score}, true
	}
	return event.Attempt{}, false
}

// dedupe keeps the last of rows that share their first key columns: one
// INSERT … ON CONFLICT DO UPDATE may not touch a row twice (PostgreSQL).
func dedupe(rows [][]any, key int) [][]any {
	if len(rows) < 2 {
		return rows
	}
	last := map[string]int{}
	for i, r := range rows {
		last[fmt.Sprint(r[:key]...)] = i
	}
	out := rows[:0:0]
	for i, r := range rows {
		if last[fmt.Sprint(r[:key]...)] == i {
			out = append(out, r)
		}
	}
	return out
}

func genderOf(g string) string {
	switch g {
	case "female", "male":
		return g
	}
	return "unspecified"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxParams bounds the placeholders of one statement (SQLite allows 32,766).
const maxParams = 12000

// insertRows inserts rows (each with the same number of values): head is
// "INSERT INTO t (cols…)", suffix follows the values. SQLite gets
// multi-row VALUES; PostgreSQL, given each column's type, gets one array
// per column and unnest, so a batch is one short statement however many
// rows it has. It returns how many rows were inserted.
func (t *Tx) insertRows(ctx context.Context, head string, rows [][]any, suffix string, types ...string) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if t.db.kind == dialectPostgres && len(types) == len(rows[0]) {
		return t.insertUnnest(ctx, head, rows, suffix, types)
	}
	cols := len(rows[0])
	per := maxParams / cols
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var total int64
	args := make([]any, 0, per*cols)
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		var q strings.Builder
		q.WriteString(head)
		q.WriteString(" VALUES ")
		args = args[:0]
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(", ")
			}
			q.WriteString(one)
			args = append(args, rows[i]...)
		}
		q.WriteString(suffix)
		res, err := t.exec(ctx, q.String(), args...)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func (t *Tx) insertUnnest(ctx context.Context, head string, rows [][]any, suffix string, types []string) (int64, error) {
	args := make([]any, len(types))
	var q strings.Builder
	q.WriteString(head)
	q.WriteString(" SELECT * FROM unnest(")
	for c, typ := range types {
		if c > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?::" + typ + "[]")
		switch typ {
		case "text":
			col := make([]string, len(rows))
			for i, r := range rows {
				col[i] = r[c].(string)
			}
			args[c] = col
		case "bigint":
			col := make([]int64, len(rows))
			for i, r := range rows {
				switch v := r[c].(type) {
				case int64:
					col[i] = v
				case int:
					col[i] = int64(v)
				default:
					return 0, fmt.Errorf("hub: column %d: %T is not an integer", c, v)
				}
			}
			args[c] = col
		default:
			return 0, fmt.Errorf("hub: column type %q", typ)
		}
	}
	q.WriteString(")")
	q.WriteString(suffix)
	res, err := t.exec(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// contiguous returns the highest seq held in an epoch of box with every
// seq from the epoch's base + 1 up to it held, given that acked is such a
// seq (or the base).
func (h *Store) contiguous(ctx context.Context, tx *Tx, box, epoch string, acked int64) (int64, error) {
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM events WHERE box_id = ? AND epoch = ? AND seq = ?", box, epoch, acked+1).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return acked, nil
	}
	if err != nil {
		return 0, fmt.Errorf("hub: ingest: %w", err)
	}
	var end int64
	err = tx.queryRow(ctx, `SELECT e.seq FROM events e WHERE e.box_id = ? AND e.epoch = ? AND e.seq > ?
		AND NOT EXISTS (SELECT 1 FROM events n WHERE n.box_id = e.box_id AND n.epoch = e.epoch AND n.seq = e.seq + 1)
		ORDER BY e.seq LIMIT 1`, box, epoch, acked).Scan(&end)
	if err != nil {
		return 0, fmt.Errorf("hub: ingest: contiguous: %w", err)
	}
	return end, nil
}

// BoxState is where a box's events stand on the hub.
type BoxState struct {
	AckedSeq, Events int64
	SchoolID         string
	// Epoch is the epoch of the box's latest batch, whose line AckedSeq
	// acknowledges; AckedID is the id of the event held there.
	Epoch, AckedID string
}

// BoxState returns where a box's events stand.
func (h *Store) BoxState(ctx context.Context, boxID string) (BoxState, error) {
	var s BoxState
	err := h.db.inTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, "SELECT acked_seq, events, school_id FROM boxes WHERE id = ?", boxID).Scan(&s.AckedSeq, &s.Events, &s.SchoolID)
		if errors.Is(err, sql.ErrNoRows) {
			return failure.Errorf(failure.NotFound, "no box %s", boxID)
		}
		if err != nil {
			return err
		}
		err = tx.queryRow(ctx, "SELECT epoch FROM box_epochs WHERE box_id = ? ORDER BY updated_ms DESC, created_ms DESC LIMIT 1", boxID).Scan(&s.Epoch)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("hub: box state: %w", err)
		}
		epochs, err := h.boxEpochs(ctx, tx, boxID)
		if err != nil {
			return err
		}
		var at string
		s.AckedSeq, at = lineAck(epochs, s.Epoch)
		if s.AckedSeq > 0 {
			if err := tx.queryRow(ctx, "SELECT id FROM events WHERE box_id = ? AND epoch = ? AND seq = ?", boxID, at, s.AckedSeq).Scan(&s.AckedID); err != nil {
				return fmt.Errorf("hub: box state: %w", err)
			}
		}
		return nil
	})
	return s, err
}

// EachStreamEvent calls f with every event of a box and its epoch, by
// epoch (as the box started them) and seq.
func (h *Store) EachStreamEvent(ctx context.Context, boxID string, f func(epoch string, ev wire.Event) error) error {
	rows, err := h.db.query(ctx, `SELECT e.epoch, e.seq, e.id, e.kind, e.actor, e.wall_ms, e.boot_id, e.mono_ms, e.payload
		FROM events e JOIN box_epochs b ON b.box_id = e.box_id AND b.epoch = e.epoch WHERE e.box_id = ? ORDER BY b.created_ms, e.epoch, e.seq`, boxID)
	if err != nil {
		return fmt.Errorf("hub: events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev wire.Event
		var epoch, payload string
		if err := rows.Scan(&epoch, &ev.Seq, &ev.ID, &ev.Kind, &ev.Actor, &ev.WallMS, &ev.BootID, &ev.MonoMS, &payload); err != nil {
			return err
		}
		ev.Payload = []byte(payload)
		if err := f(epoch, ev); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachEvent calls f with every event of a box in seq order, for checks and
// exports (a box of one epoch; EachStreamEvent names each event's epoch).
func (h *Store) EachEvent(ctx context.Context, boxID string, f func(ev wire.Event, timeMS int64, basis string) error) error {
	rows, err := h.db.query(ctx, "SELECT seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis FROM events WHERE box_id = ? ORDER BY seq, epoch", boxID)
	if err != nil {
		return fmt.Errorf("hub: events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev wire.Event
		var payload, basis string
		var t int64
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Kind, &ev.Actor, &ev.WallMS, &ev.BootID, &ev.MonoMS, &payload, &t, &basis); err != nil {
			return err
		}
		ev.Payload = []byte(payload)
		if err := f(ev, t, basis); err != nil {
			return err
		}
	}
	return rows.Err()
}
