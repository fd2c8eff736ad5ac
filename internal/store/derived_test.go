package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

// A box whose rows were derived by the SQL triggers of schema 4 keeps them;
// from schema 5 on, the store derives them in Go and SQL derives nothing.
func TestDerivedRowsSurviveTheMigration(t *testing.T) {
	ctx := context.Background()
	path := mustOldDB(t, 4,
		`INSERT INTO events (id, kind, actor, wall_ms, boot_id, mono_ms, payload) VALUES ('01JDV9Z8M6Q0S4C9X3K7T2B5NA', 'answer.submitted', 'guest:x', 1000, 'b', 1,
		 '{"pack":"p","version":"1","set":"s","item":"q","lang":"en","text":"7","correct":true,"score":1}')`,
		`INSERT INTO events (id, kind, actor, wall_ms, boot_id, mono_ms, payload) VALUES ('01JDV9Z8M6Q0S4C9X3K7T2B5NB', 'lesson.completed', 'guest:x', 2000, 'b', 2,
		 '{"lesson":"l1","pack":"p","version":"1"}')`)
	db := mustOpenAt(t, path)
	if _, err := db.RecordAnswer(ctx, event.Answer{Learner: "guest:x", Pack: "p", Set: "s", Item: "q", Choices: []int{0, 2}}); err != nil {
		t.Fatalf("an answer after the migration: %v", err)
	}
	if err := db.CompleteLesson(ctx, "guest:x", "p", "1", "l2"); err != nil {
		t.Fatal(err)
	}
	atts, err := db.Attempts(ctx, []string{"guest:x"}, "p", "s")
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts = %+v, %v; want the old one and the new one", atts, err)
	}
	if a := atts[0]; a.Seq != 1 || !a.Correct || a.Answer != "7" || a.Time.UnixMilli() != 1000 {
		t.Errorf("the attempt derived by the old trigger = %+v", a)
	}
	if a := atts[1]; a.Seq != 3 || a.Correct || a.Answer != "[0,2]" {
		t.Errorf("the attempt derived in Go = %+v", a)
	}
	done, err := db.LessonsCompleted(ctx, []string{"guest:x"}, "p")
	if err != nil || !reflect.DeepEqual(done, map[string]map[string]bool{"guest:x": {"l1": true, "l2": true}}) {
		t.Errorf("lessons completed = %v, %v", done, err)
	}
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var triggers int
	if err := raw.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%INSERT%'").Scan(&triggers); err != nil || triggers != 0 {
		t.Errorf("%d triggers that insert are left (%v): SQL still derives rows", triggers, err)
	}
}

// An answer to an item counts alike whether it was given on the exercise
// pages (answer.submitted) or in a live session (live.response); polls and
// questions the teacher typed do not count.
func TestAnswerAndLiveResponseDeriveAlike(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if err := db.CreateLiveSession(ctx, liveSession("S1", "ACEFHJ")); err != nil {
		t.Fatal(err)
	}
	if err := db.AddLivePlayer(ctx, store.LivePlayer{Session: "S1", ID: "p1", TokenHash: "h1", Learner: "guest:p1", Nickname: "Ali", Joined: time.UnixMilli(1000)}); err != nil {
		t.Fatal(err)
	}
	r := liveResponse("01JAAAAAAAAAAAAAAAAAAAA001", "p1", 0)
	if _, err := db.RecordAnswer(ctx, event.Answer{Learner: r.Learner, Pack: r.Pack, PackVersion: r.PackVersion, Set: r.Set, Item: r.Item, Lang: r.Lang,
		Choices: r.Choices, Correct: r.Correct, Score: r.Score}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordLiveResponse(ctx, r); err != nil {
		t.Fatal(err)
	}
	poll := liveResponse("01JAAAAAAAAAAAAAAAAAAAA002", "p1", 1)
	poll.Kind = event.QuestionPoll
	typed := liveResponse("01JAAAAAAAAAAAAAAAAAAAA003", "p1", 2)
	typed.Pack, typed.PackVersion, typed.Set = "", "", ""
	for _, r := range []event.LiveResponse{poll, typed} {
		if _, err := db.RecordLiveResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	atts, err := db.Attempts(ctx, []string{"guest:p1"}, "", "")
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts = %+v, %v; want the answer and the live response", atts, err)
	}
	for i := range atts {
		atts[i].Seq, atts[i].Time = 0, time.Time{}
	}
	want := store.Attempt{Learner: "guest:p1", Pack: "physics", Set: "speed", Item: "speed-1", Correct: true, Score: 1, Answer: "[1]", Version: "1.0.0"}
	if atts[0] != want || atts[1] != want {
		t.Errorf("attempts = %+v, want twice %+v", atts, want)
	}
	prog, err := db.SetProgress(ctx, "guest:p1", "physics", "speed")
	if p := prog["speed-1"]; err != nil || p.Attempts != 2 || p.Correct != 2 || p.BestScore != 1 || !p.LastCorrect {
		t.Errorf("progress = %+v, %v", prog, err)
	}
}

// What the contract requires is refused before anything is written.
func TestRecordRefusesIncompletePayloads(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if err := db.CreateLiveSession(ctx, liveSession("S1", "ACEFHJ")); err != nil {
		t.Fatal(err)
	}
	noItem := answer("guest:a", "", true)
	if _, err := db.RecordAnswer(ctx, noItem); failure.KindOf(err) != failure.Invalid || !strings.Contains(err.Error(), `"item"`) {
		t.Errorf("an answer without an item: err = %v, want invalid", err)
	}
	noPlayer := liveResponse("01JAAAAAAAAAAAAAAAAAAAA001", "", 0)
	if _, err := db.RecordLiveResponse(ctx, noPlayer); failure.KindOf(err) != failure.Invalid {
		t.Errorf("a live response without a player: err = %v, want invalid", err)
	}
	if err := db.CompleteLesson(ctx, "guest:a", "p", "1", ""); failure.KindOf(err) != failure.Invalid {
		t.Errorf("a lesson without an id: err = %v, want invalid", err)
	}
	if seq, err := db.LastSeq(ctx); seq != 0 || err != nil {
		t.Errorf("refused payloads wrote events: last seq %d, %v", seq, err)
	}
}

// mustOldDB makes a database file of schema version (its first migrations
// only, as an older stembox left it), runs stmts on it, and returns its
// path, for a test of what the later migrations do to its rows.
func mustOldDB(t *testing.T, version int, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	files, _ := filepath.Glob("migrations/*.sql")
	if len(files) < version {
		t.Fatalf("only %d migrations", len(files))
	}
	all := []string{"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL) STRICT"}
	for v, f := range files[:version] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, string(b), fmt.Sprintf("INSERT INTO schema_migrations VALUES (%d, '%s', 0)", v+1, filepath.Base(f)))
	}
	for _, stmt := range append(all, stmts...) {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	return path
}
