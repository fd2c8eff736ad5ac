package hub

import (
	"context"
	"fmt"
	"strings"
)

// The report summaries (hub migration 0006): learner_items holds, for each
// learner and exercise item, how many answers there were and the latest
// one; learner_packs, for each learner and pack, the answers, the items
// tried, the items whose latest answer was right and the lessons done.
// Ingest updates both in the transaction that stores the answers they
// come from, and only for events it stores (a duplicate is stored once, so
// it is counted once), so they always equal a recount of answers and
// lessons_done: ReportQuery.Recount checks that.
//
// The latest answer is the one of highest order: its epoch's rank (0 for a
// box's first epoch, its parent's + 1 for the next; hub migration 0007)
// × orderSpan + its seq, since a restored box's new epoch restarts its
// seqs below its parent's and its answers are the newer. learner_items'
// last_seq holds that order. Between two answers of one order (two epochs
// of one rank, when a box was restored twice from one backup) the right
// one counts, in the summaries as in a recount.

// orderSpan is the seqs an epoch's rank spans in an answer's order.
const orderSpan = 1 << 40

type itemKey struct{ learner, pack, set, item string }

type packKey struct{ learner, pack string }

// itemState is a learner's answers to one item: how many, and the latest.
type itemState struct {
	answers, lastSeq, lastCorrect int64
}

// later reports whether s's latest answer comes after old's.
func (s itemState) later(old itemState) bool {
	return s.lastSeq*2+s.lastCorrect > old.lastSeq*2+old.lastCorrect
}

// laterSQL is later for an upsert into learner_items.
const laterSQL = "excluded.last_seq * 2 + excluded.last_correct > learner_items.last_seq * 2 + learner_items.last_correct"

type packDelta struct{ answers, items, mastered, lessons int64 }

// summarize adds the answers and lessons rows (as insertEvents builds
// them) that were just stored for box to the summaries, and places the
// learners they touch and those the batch's roster events changed
// (learners rows) under their class and gender.
func (h *Store) summarize(ctx context.Context, tx *Tx, box string, answers, lessons, learners [][]any) error {
	if len(answers) == 0 && len(lessons) == 0 && len(learners) == 0 {
		return nil
	}
	rank := int64(0)
	if len(answers) > 0 { // all of one epoch
		if err := tx.queryRow(ctx, "SELECT rank FROM box_epochs WHERE box_id = ? AND epoch = ?", box, answers[0][1]).Scan(&rank); err != nil {
			return fmt.Errorf("hub: ingest: summary: epoch: %w", err)
		}
	}
	batch := map[itemKey]*itemState{}
	var order []itemKey
	for _, a := range answers { // box, epoch, seq, learner, pack, set, item, correct, time
		k := itemKey{a[3].(string), a[4].(string), a[5].(string), a[6].(string)}
		seq, correct := rank*orderSpan+a[2].(int64), int64(a[7].(int))
		s, ok := batch[k]
		if !ok {
			s = &itemState{lastSeq: -1}
			batch[k] = s
			order = append(order, k)
		}
		s.answers++
		if seq > s.lastSeq {
			s.lastSeq, s.lastCorrect = seq, correct
		}
	}
	held, err := h.heldItems(ctx, tx, box, order)
	if err != nil {
		return err
	}
	packs := map[packKey]*packDelta{}
	var packOrder []packKey
	delta := func(learner, pack string) *packDelta {
		k := packKey{learner, pack}
		d, ok := packs[k]
		if !ok {
			d = &packDelta{}
			packs[k] = d
			packOrder = append(packOrder, k)
		}
		return d
	}
	items := make([][]any, 0, len(order))
	for _, k := range order {
		s := batch[k]
		d := delta(k.learner, k.pack)
		d.answers += s.answers
		old, ok := held[k]
		switch {
		case !ok:
			d.items++
			d.mastered += s.lastCorrect
		case s.later(old):
			d.mastered += s.lastCorrect - old.lastCorrect
		}
		items = append(items, []any{box, k.learner, k.pack, k.set, k.item, s.answers, s.lastSeq, s.lastCorrect})
	}
	for _, l := range lessons { // box, epoch, seq, learner, pack, lesson, time
		delta(l[3].(string), l[4].(string)).lessons++
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO learner_items (box_id, learner, pack, set_id, item, answers, last_seq, last_correct)", items,
		` ON CONFLICT (box_id, learner, pack, set_id, item) DO UPDATE SET answers = learner_items.answers + excluded.answers,
			last_correct = CASE WHEN `+laterSQL+` THEN excluded.last_correct ELSE learner_items.last_correct END,
			last_seq = CASE WHEN `+laterSQL+` THEN excluded.last_seq ELSE learner_items.last_seq END`,
		"text", "text", "text", "text", "text", "bigint", "bigint", "bigint"); err != nil {
		return fmt.Errorf("hub: ingest: summary of items: %w", err)
	}
	rows := make([][]any, 0, len(packOrder))
	for _, k := range packOrder {
		d := packs[k]
		rows = append(rows, []any{box, k.learner, k.pack, d.answers, d.items, d.mastered, d.lessons})
	}
	if _, err := tx.insertRows(ctx, "INSERT INTO learner_packs (box_id, learner, pack, answers, items, mastered, lessons)", rows,
		` ON CONFLICT (box_id, learner, pack) DO UPDATE SET answers = learner_packs.answers + excluded.answers,
			items = learner_packs.items + excluded.items, mastered = learner_packs.mastered + excluded.mastered,
			lessons = learner_packs.lessons + excluded.lessons`,
		"text", "text", "text", "bigint", "bigint", "bigint", "bigint"); err != nil {
		return fmt.Errorf("hub: ingest: summary of packs: %w", err)
	}
	touched := make([]string, 0, len(packOrder)+len(learners))
	seen := map[string]bool{}
	for _, k := range packOrder {
		if !seen[k.learner] {
			seen[k.learner] = true
			touched = append(touched, k.learner)
		}
	}
	for _, l := range learners { // box, learner, class, gender
		if name := l[1].(string); !seen[name] {
			seen[name] = true
			touched = append(touched, name)
		}
	}
	return h.placeLearners(ctx, tx, box, touched)
}

// placeLearners copies the class and gender of learners of box from
// learners into their learner_packs rows.
func (h *Store) placeLearners(ctx context.Context, tx *Tx, box string, names []string) error {
	const set = `UPDATE learner_packs SET
		class_id = coalesce((SELECT l.class_id FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), ''),
		gender = coalesce((SELECT l.gender FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), 'unspecified')
		WHERE box_id = ? AND learner `
	if h.db.kind == dialectPostgres {
		if len(names) == 0 {
			return nil
		}
		if _, err := tx.exec(ctx, set+"= ANY(?::text[])", box, names); err != nil {
			return fmt.Errorf("hub: ingest: summary of learners: %w", err)
		}
		return nil
	}
	const per = 2000
	for start := 0; start < len(names); start += per {
		chunk := names[start:min(start+per, len(names))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, box)
		for _, n := range chunk {
			args = append(args, n)
		}
		if _, err := tx.exec(ctx, set+"IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+")", args...); err != nil {
			return fmt.Errorf("hub: ingest: summary of learners: %w", err)
		}
	}
	return nil
}

// heldItems reads the summary rows of keys, for box, that the hub holds.
func (h *Store) heldItems(ctx context.Context, tx *Tx, box string, keys []itemKey) (map[itemKey]itemState, error) {
	held := map[itemKey]itemState{}
	const per = 2000 // keys a statement: 4 placeholders each on SQLite
	for start := 0; start < len(keys); start += per {
		chunk := keys[start:min(start+per, len(keys))]
		var q strings.Builder
		args := []any{box}
		q.WriteString("SELECT i.learner, i.pack, i.set_id, i.item, i.answers, i.last_seq, i.last_correct FROM learner_items i")
		if h.db.kind == dialectPostgres {
			cols := make([][]string, 4)
			for _, k := range chunk {
				cols[0], cols[1], cols[2], cols[3] = append(cols[0], k.learner), append(cols[1], k.pack), append(cols[2], k.set), append(cols[3], k.item)
			}
			q.WriteString(` JOIN unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS k (learner, pack, set_id, item)
				ON i.learner = k.learner AND i.pack = k.pack AND i.set_id = k.set_id AND i.item = k.item WHERE i.box_id = ?`)
			args = []any{cols[0], cols[1], cols[2], cols[3], box}
		} else {
			q.WriteString(" WHERE i.box_id = ? AND (i.learner, i.pack, i.set_id, i.item) IN (VALUES ")
			for i, k := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?)")
				args = append(args, k.learner, k.pack, k.set, k.item)
			}
			q.WriteString(")")
		}
		rows, err := tx.query(ctx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("hub: ingest: summary: %w", err)
		}
		for rows.Next() {
			var k itemKey
			var s itemState
			if err := rows.Scan(&k.learner, &k.pack, &k.set, &k.item, &s.answers, &s.lastSeq, &s.lastCorrect); err != nil {
				rows.Close()
				return nil, fmt.Errorf("hub: ingest: summary: %w", err)
			}
			held[k] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("hub: ingest: summary: %w", err)
		}
	}
	return held, nil
}
