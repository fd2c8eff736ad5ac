package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/school"
)

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if has, _ := db.HasAdmin(ctx); has {
		t.Fatal("a new box has an admin")
	}
	admin, err := db.CreateUser(ctx, "", school.RoleAdmin, "Dilnoza", "Dilnoza R.", "hash1")
	if err != nil {
		t.Fatal(err)
	}
	if has, _ := db.HasAdmin(ctx); !has {
		t.Error("HasAdmin false after creating one")
	}
	if _, err := db.CreateUser(ctx, "", school.RoleTeacher, "dilnoza", "", "hash2"); failure.KindOf(err) != failure.Conflict {
		t.Errorf("duplicate username (other case): err = %v, want a conflict", err)
	}
	for _, bad := range []string{"", "two words", "a/b"} {
		if _, err := db.CreateUser(ctx, "", school.RoleTeacher, bad, "", "h"); failure.KindOf(err) != failure.Invalid {
			t.Errorf("username %q: err = %v, want invalid", bad, err)
		}
	}
	u, err := db.UserByUsername(ctx, "DILNOZA")
	if err != nil || u.ID != admin.ID {
		t.Fatalf("look-up ignoring case: %+v, %v", u, err)
	}
	if err := db.CreateSession(ctx, "tokhash", "user", admin.ID, "csrf1", time.Hour); err != nil {
		t.Fatal(err)
	}
	s, err := db.SessionByToken(ctx, "tokhash")
	if err != nil || s.Subject != admin.ID || s.CSRF != "csrf1" {
		t.Fatalf("session = %+v, %v", s, err)
	}
	if err := db.SetPassword(ctx, admin.ID, "hash3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, "tokhash"); failure.KindOf(err) != failure.Unauthorized {
		t.Errorf("session after a password change: err = %v, want it gone", err)
	}
	db.CreateSession(ctx, "old", "user", admin.ID, "c", -time.Minute)
	if _, err := db.SessionByToken(ctx, "old"); err == nil {
		t.Error("an expired session is accepted")
	}
}

func TestClassesStudentsAndAttempts(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	teacher, _ := db.CreateUser(ctx, "", school.RoleTeacher, "rustam", "Rustam", "h")
	c, err := db.CreateClass(ctx, "user:"+teacher.ID, "7A", 7, teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Code) != 5 {
		t.Errorf("class code %q, want 5 characters", c.Code)
	}
	if got, err := db.ClassByCode(ctx, " "+string([]byte(c.Code))+" "); err != nil || got.ID != c.ID {
		t.Errorf("class by code: %+v, %v", got, err)
	}
	if ok, _ := db.Teaches(ctx, teacher.ID, c.ID); !ok {
		t.Error("the creator does not teach the class")
	}
	if _, err := db.CreateClass(ctx, "", "8B", 13, ""); failure.KindOf(err) != failure.Invalid {
		t.Errorf("grade 13: err = %v", err)
	}
	st, err := db.AddStudents(ctx, "user:"+teacher.ID, c.ID, []school.NewStudent{{Name: "Nigina", Gender: "female", BirthYear: 2013}, {Name: "Farrukh", Gender: "male"}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := db.LastSeq(ctx)
	_, err = db.AddStudents(ctx, "", c.ID, []school.NewStudent{{Name: "Madina"}, {Name: "Nigina"}})
	if failure.KindOf(err) != failure.Conflict {
		t.Fatalf("adding a duplicate name: err = %v, want a conflict", err)
	}
	if all, _ := db.Students(ctx, c.ID); len(all) != 2 {
		t.Errorf("after a refused batch the class has %d students, want 2 (all or nothing)", len(all))
	}
	if after, _ := db.LastSeq(ctx); after != before {
		t.Errorf("a refused batch wrote events (%d → %d)", before, after)
	}
	if err := db.UpdateClass(ctx, "", c.ID, school.SignInPIN, "last:9/5"); failure.KindOf(err) != failure.Invalid {
		t.Errorf("bad mastery rule: err = %v", err)
	}

	learner := st[0].LearnerID()
	for i, correct := range []bool{false, true, true} {
		a := event.Answer{Learner: learner, Pack: "p", PackVersion: "1", Set: "s", Item: "q1", Text: "answer " + string(rune('a'+i)), Correct: correct}
		if _, err := db.RecordAnswer(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	atts, err := db.Attempts(ctx, school.LearnerIDs(st), "p", "s")
	if err != nil || len(atts) != 3 {
		t.Fatalf("attempts = %+v, %v", atts, err)
	}
	if atts[0].Correct || !atts[2].Correct || atts[1].Answer != "answer b" || atts[0].Time.IsZero() {
		t.Errorf("attempts not derived right from the events: %+v", atts)
	}
	db.CompleteLesson(ctx, learner, "p", "1", "l1")
	db.CompleteLesson(ctx, learner, "p", "1", "l1")
	done, _ := db.LessonsCompleted(ctx, school.LearnerIDs(st), "p")
	if !done[learner]["l1"] || len(done) != 1 {
		t.Errorf("lessons completed = %v", done)
	}
	if err := db.Assign(ctx, "t", c.ID, "p", "set", "s"); err != nil {
		t.Fatal(err)
	}
	db.Assign(ctx, "t", c.ID, "p", "set", "s")
	as, _ := db.Assignments(ctx, c.ID)
	if len(as) != 1 {
		t.Errorf("assigning twice made %d assignments", len(as))
	}
}

// A database from before accounts existed keeps its answers as attempts.
func TestMigrationBackfillsAttempts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		string(schema),
		"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL) STRICT",
		"INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)",
		`INSERT INTO events (id, kind, actor, wall_ms, boot_id, mono_ms, payload) VALUES ('01JDV9Z8M6Q0S4C9X3K7T2B5NA', 'answer.submitted', 'guest:x', 1, 'b', 1,
		 '{"pack":"p","version":"1","set":"s","item":"q","lang":"en","choices":[2],"correct":true,"score":1}')`,
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := mustOpenAt(t, path)
	atts, err := db.Attempts(context.Background(), []string{"guest:x"}, "p", "s")
	if err != nil || len(atts) != 1 || !atts[0].Correct || atts[0].Answer != "[2]" {
		t.Errorf("backfilled attempts = %+v, %v", atts, err)
	}
}
