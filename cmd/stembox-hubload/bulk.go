package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The history each box has beyond what it pushed over HTTP, generated in
// PostgreSQL: seqs push+1 … events of every box, spread evenly over
// historyDays; 85 in 100 events are answers, 7 lessons completed, 8 live
// answers (half of them to questions the teacher typed). A box has 8
// classes of 30 learners (grades 7 to 10), about half girls and half boys,
// one in 25 gender not given; each class works on one of three packs.

const historyDays = 5

// bulkRows is one row per (box, seq) of the history, with what the events,
// answers and lessons made of it share. $1 push, $2 events, $3 the first
// event's time, $4 ms between events, $5 the boxes.
const bulkRows = `
SELECT box_id, s, t, learner, k, pk, ok, st, it,
	CASE WHEN pk = '' THEN 'L-' || day ELSE 'set' || st END AS set_id,
	CASE WHEN pk = '' THEN 'q' || (s % 10) ELSE 'set' || st || '-' || it END AS item
FROM (
	SELECT b.id AS box_id, s, $3::bigint + (s - $1::bigint) * $4::bigint AS t, ((s - $1::bigint) * $4::bigint) / 86400000 AS day,
		'student:' || b.id || '-' || ((s * 7919) % 240) AS learner, s % 100 AS k,
		CASE WHEN s % 100 >= 92 AND s % 2 = 0 THEN ''
			ELSE (ARRAY['math-linear-equations', 'physics-forces-motion', 'climate-energy-change'])[1 + ((s * 7919) % 240) / 30 % 3] END AS pk,
		CASE WHEN (s * 13) % 3 > 0 THEN 1 ELSE 0 END AS ok, (s / 37) % 5 AS st, 1 + (s * 31) % 6 AS it
	FROM boxes b, generate_series($1::bigint + 1, $2::bigint) s WHERE b.id = ANY($5)
) x`

// bulkSteps run in order for each chunk of boxes. A step whose SQL names
// $5 takes ($1 … $5) as bulkRows does; any other takes $1 the boxes (and
// $2 the events, if it names $2).
var bulkSteps = []struct{ what, sql string }{
	{"classes", `INSERT INTO classes (box_id, class_id, grade)
		SELECT b.id, b.id || '-C' || c, 7 + c % 4 FROM boxes b, generate_series(0, 7) c WHERE b.id = ANY($1)`},
	{"learners", `INSERT INTO learners (box_id, learner, class_id, gender)
		SELECT b.id, 'student:' || b.id || '-' || n, b.id || '-C' || (n / 30),
			CASE WHEN n % 25 = 7 THEN 'unspecified' WHEN n % 2 = 0 THEN 'female' ELSE 'male' END
		FROM boxes b, generate_series(0, 239) n WHERE b.id = ANY($1)`},
	{"events", `INSERT INTO events (box_id, seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis, received_ms)
		SELECT box_id, s, box_id || '-' || lpad(s::text, 8, '0'),
			CASE WHEN k < 85 THEN 'answer.submitted' WHEN k < 92 THEN 'lesson.completed' ELSE 'live.response' END,
			learner, t, 'bulk-boot', s * 1000,
			CASE WHEN k >= 85 AND k < 92 THEN '{"pack":"' || pk || '","version":"1.0.0","lesson":"lesson-' || (s % 3) || '"}'
				ELSE '{"pack":"' || pk || '","version":"1.0.0","set":"' || set_id || '","item":"' || item || '","lang":"tg","choices":[1],"correct":' ||
					CASE WHEN ok = 1 THEN 'true' ELSE 'false' END || ',"score":' || ok || '}' END,
			t, 'boot', t + 3600000
		FROM (` + bulkRows + `) r`},
	{"answers", `INSERT INTO answers (box_id, seq, learner, pack, set_id, item, correct, time_ms)
		SELECT box_id, s, learner, pk, set_id, item, ok, t FROM (` + bulkRows + `) r WHERE k < 85 OR k >= 92`},
	{"lessons", `INSERT INTO lessons_done (box_id, seq, learner, pack, lesson, time_ms)
		SELECT box_id, s, learner, pk, 'lesson-' || (s % 3), t FROM (` + bulkRows + `) r WHERE k >= 85 AND k < 92`},
	// The summaries, made as migration 0004 makes them for a hub's history
	// (over the boxes' pushed events too).
	{"summary of items", `DELETE FROM learner_items WHERE box_id = ANY($1)`},
	{"summary of items", `INSERT INTO learner_items (box_id, learner, pack, set_id, item, answers, last_seq, last_correct)
		SELECT a.box_id, a.learner, a.pack, a.set_id, a.item, g.n, a.seq, a.correct
		FROM answers a JOIN (SELECT box_id, MAX(seq) AS last, COUNT(*) AS n FROM answers WHERE box_id = ANY($1) GROUP BY box_id, learner, pack, set_id, item) g
			ON g.box_id = a.box_id AND g.last = a.seq
		WHERE a.box_id = ANY($1)`},
	{"summary of packs", `DELETE FROM learner_packs WHERE box_id = ANY($1)`},
	{"summary of packs", `INSERT INTO learner_packs (box_id, learner, pack, answers, items, mastered, lessons)
		SELECT coalesce(i.box_id, l.box_id), coalesce(i.learner, l.learner), coalesce(i.pack, l.pack),
			coalesce(i.answers, 0), coalesce(i.items, 0), coalesce(i.mastered, 0), coalesce(l.lessons, 0)
		FROM (SELECT box_id, learner, pack, SUM(answers) AS answers, COUNT(*) AS items, SUM(last_correct) AS mastered
				FROM learner_items WHERE box_id = ANY($1) GROUP BY box_id, learner, pack) i
			FULL JOIN (SELECT box_id, learner, pack, COUNT(*) AS lessons FROM lessons_done WHERE box_id = ANY($1) GROUP BY box_id, learner, pack) l
			ON l.box_id = i.box_id AND l.learner = i.learner AND l.pack = i.pack`},
	{"summary of packs", `UPDATE learner_packs SET
		class_id = coalesce((SELECT l.class_id FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), ''),
		gender = coalesce((SELECT l.gender FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), 'unspecified')
		WHERE box_id = ANY($1)`},
	{"boxes", `UPDATE boxes SET acked_seq = $2::bigint, events = $2::bigint WHERE id = ANY($1)`},
}

// bulkLoad adds each box's history beyond what it pushed, in chunks of
// boxes (each chunk one transaction).
func bulkLoad(ctx context.Context, db *sql.DB, c config) error {
	if c.events <= c.push {
		return nil
	}
	ids := make([]string, c.boxes)
	for i := range ids {
		ids[i] = fmt.Sprintf("LOADBOX%03d", i+1)
	}
	first := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC).UnixMilli()
	every := int64(historyDays*24*time.Hour/time.Millisecond) / int64(c.events-c.push)
	start := time.Now()
	const chunk = 25
	for from := 0; from < len(ids); from += chunk {
		part := ids[from:min(from+chunk, len(ids))]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, step := range bulkSteps {
			args := []any{part}
			switch {
			case strings.Contains(step.sql, "$5"):
				args = []any{c.push, c.events, first, every, part}
			case strings.Contains(step.sql, "$2"):
				args = append(args, c.events)
			}
			if _, err := tx.ExecContext(ctx, step.sql, args...); err != nil {
				tx.Rollback()
				return fmt.Errorf("bulk load: %s: %w", step.what, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
		fmt.Printf("  loaded the history of %d of %d boxes (%s)\n", from+len(part), len(ids), time.Since(start).Round(time.Second))
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return err
	}
	var events, answers, items, packs int64
	for q, n := range map[string]*int64{"events": &events, "answers": &answers, "learner_items": &items, "learner_packs": &packs} {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q).Scan(n); err != nil {
			return err
		}
	}
	fmt.Printf("bulk load: %s; the hub holds %d events, %d answers; summaries: %d learner-items, %d learner-packs\n",
		time.Since(start).Round(time.Second), events, answers, items, packs)
	return nil
}
