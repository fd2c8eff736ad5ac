package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/store"
)

// verify is what the kill test relies on: it must see a missing
// acknowledged answer, a wrong sequence number, a gap, and progress that
// disagrees with the events.
func TestVerifyFindsLosses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var acked []ack
	for i := range 5 {
		ev, err := db.RecordAnswer(ctx, event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: string(rune('a' + i))})
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, ack{ID: ev.ID, Seq: ev.Seq})
	}
	db.Close()

	st, err := verify(ctx, path, acked, []string{acked[4].ID, "01JDV9Z8M6Q0S4C9X3K7T2B5NA"})
	if err != nil {
		t.Fatalf("a sound database: %v", err)
	}
	if st.Events != 5 || st.LastSeq != 5 || len(st.Stored) != 1 || st.Stored[acked[4].ID] != 5 {
		t.Errorf("state %+v", st)
	}

	for _, tc := range []struct {
		name  string
		acked []ack
		sql   string
		want  string
	}{
		{"missing", append(acked[:5:5], ack{ID: "01JDV9Z8M6Q0S4C9X3K7T2B5NB", Seq: 6}), "", "is missing"},
		{"moved", []ack{{ID: acked[0].ID, Seq: 3}}, "", "is stored at 1"},
		{"progress", acked, "UPDATE item_progress SET attempts = attempts + 1 WHERE item = 'a'", "progress counts 6 attempts for 5"},
		{"gap", acked[:2], "DROP TRIGGER events_immutable_delete; DELETE FROM events WHERE seq = 3; DELETE FROM item_progress WHERE item = 'c'", "gaps"},
	} {
		if tc.sql != "" {
			raw, _ := sql.Open("sqlite3", "file:"+path)
			if _, err := raw.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			raw.Close()
		}
		if _, err := verify(ctx, path, tc.acked, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}
