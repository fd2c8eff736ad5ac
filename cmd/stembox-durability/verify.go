package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/mattn/go-sqlite3"
)

// dbState is what verify found in a database.
type dbState struct {
	Events  int64
	LastSeq int64
	Stored  map[string]int64 // of the ids asked about: those stored, with their seq
}

// verify opens the database at path after a crash, as the next start of the
// box would (recovering its WAL), and checks it: PRAGMA integrity_check is
// ok; the sequence numbers run 1…N with no gap; every acknowledged answer is
// stored with the sequence number it was acknowledged with; and the progress
// table, derived in the same transactions, counts exactly the stored answers.
// It reports which of the ids in maybe (answers in flight at the crash) are
// stored.
func verify(ctx context.Context, path string, acked []ack, maybe []string) (dbState, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return dbState{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var problems []string
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return dbState{}, fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		if s != "ok" {
			problems = append(problems, "integrity_check: "+s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbState{}, fmt.Errorf("integrity check: %w", err)
	}

	var st dbState
	var minSeq int64
	if err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM events").Scan(&st.Events, &minSeq, &st.LastSeq); err != nil {
		return st, fmt.Errorf("count events: %w", err)
	}
	if st.Events > 0 && (minSeq != 1 || st.LastSeq != st.Events) {
		problems = append(problems, fmt.Sprintf("the event sequence has gaps: %d events numbered %d…%d", st.Events, minSeq, st.LastSeq))
	}
	var answers, attempts int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE kind = 'answer.submitted'").Scan(&answers); err != nil {
		return st, err
	}
	if err := db.QueryRowContext(ctx, "SELECT coalesce(sum(attempts), 0) FROM item_progress").Scan(&attempts); err != nil {
		return st, err
	}
	if answers != attempts {
		problems = append(problems, fmt.Sprintf("progress counts %d attempts for %d stored answers", attempts, answers))
	}

	lookup, err := db.PrepareContext(ctx, "SELECT seq FROM events WHERE id = ?")
	if err != nil {
		return st, err
	}
	defer lookup.Close()
	missing := 0
	for _, a := range acked {
		var seq int64
		switch err := lookup.QueryRowContext(ctx, a.ID).Scan(&seq); {
		case err == sql.ErrNoRows:
			missing++
			if missing <= 5 {
				problems = append(problems, fmt.Sprintf("acknowledged answer %s (seq %d) is missing", a.ID, a.Seq))
			}
		case err != nil:
			return st, err
		case seq != a.Seq:
			problems = append(problems, fmt.Sprintf("acknowledged answer %s had seq %d, is stored at %d", a.ID, a.Seq, seq))
		}
	}
	if missing > 5 {
		problems = append(problems, fmt.Sprintf("… %d acknowledged answers missing in all", missing))
	}
	st.Stored = map[string]int64{}
	for _, id := range maybe {
		var seq int64
		if err := lookup.QueryRowContext(ctx, id).Scan(&seq); err == nil {
			st.Stored[id] = seq
		}
	}
	if len(problems) > 0 {
		return st, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return st, nil
}
