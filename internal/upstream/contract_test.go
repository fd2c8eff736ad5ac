package upstream_test

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/studio"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// roster is what the writers of kindCases make and share, in order.
type roster struct {
	teacher, class, student string
}

// kindCase writes one event of a kind through the box's own store, and
// checks the report rows the hub derived from it.
type kindCase struct {
	kind  string
	write func(ctx context.Context, db *store.DB, r *roster) error
	check func(t *testing.T, q *hubRows, seq int64, r *roster)
}

// kindCases cover every kind of the contract (TestEveryKindReachesTheHub
// fails for a kind they miss), in an order where each may use what the
// earlier ones made.
var kindCases = []kindCase{
	{event.KindUserCreated, func(ctx context.Context, db *store.DB, r *roster) error {
		u, err := db.CreateUser(ctx, "", school.RoleTeacher, "rustam", "Rustam", "hash")
		r.teacher = u.ID
		return err
	}, nil},
	{event.KindClassCreated, func(ctx context.Context, db *store.DB, r *roster) error {
		c, err := db.CreateClass(ctx, "user:"+r.teacher, "7A", 7, r.teacher)
		r.class = c.ID
		return err
	}, func(t *testing.T, q *hubRows, _ int64, r *roster) {
		q.want(t, []string{"7"}, "SELECT grade FROM classes WHERE box_id = ? AND class_id = ?", q.box, r.class)
	}},
	{event.KindClassUpdated, func(ctx context.Context, db *store.DB, r *roster) error {
		return db.UpdateClass(ctx, "user:"+r.teacher, r.class, school.SignInPIN, "streak:3")
	}, nil},
	{event.KindStudentCreated, func(ctx context.Context, db *store.DB, r *roster) error {
		st, err := db.AddStudents(ctx, "user:"+r.teacher, r.class, []school.NewStudent{{Name: "Nigina", Gender: "female", BirthYear: 2012}})
		if err == nil {
			r.student = st[0].ID
		}
		return err
	}, func(t *testing.T, q *hubRows, _ int64, r *roster) {
		q.want(t, []string{r.class, "female"}, "SELECT class_id, gender FROM learners WHERE box_id = ? AND learner = ?", q.box, "student:"+r.student)
	}},
	{event.KindStudentSecretReset, func(ctx context.Context, db *store.DB, r *roster) error {
		return db.SetStudentSecret(ctx, "user:"+r.teacher, r.student, "pin-hash")
	}, nil},
	{event.KindAssignmentCreated, func(ctx context.Context, db *store.DB, r *roster) error {
		return db.Assign(ctx, "user:"+r.teacher, r.class, "physics", "set", "speed")
	}, nil},
	{event.KindAssignmentRemoved, func(ctx context.Context, db *store.DB, r *roster) error {
		as, err := db.Assignments(ctx, r.class)
		if err != nil {
			return err
		}
		return db.Unassign(ctx, "user:"+r.teacher, r.class, as[0].ID)
	}, nil},
	{event.KindAppResult, func(ctx context.Context, db *store.DB, r *roster) error {
		_, err := db.RecordAppResult(ctx, event.AppResult{Learner: "student:" + r.student, Pack: "physics", PackVersion: "1.0.0",
			App: "slope", Lang: "tg", Completed: true, Score: 2, Max: 3, Summary: "μ = 0.45"})
		return err
	}, nil},
	{event.KindLessonCompleted, func(ctx context.Context, db *store.DB, r *roster) error {
		return db.CompleteLesson(ctx, "student:"+r.student, "physics", "1.0.0", "speed")
	}, func(t *testing.T, q *hubRows, seq int64, r *roster) {
		q.want(t, []string{"student:" + r.student, "physics", "speed"}, "SELECT learner, pack, lesson FROM lessons_done WHERE box_id = ? AND seq = ?", q.box, seq)
	}},
	{event.KindAnswerSubmitted, func(ctx context.Context, db *store.DB, r *roster) error {
		_, err := db.RecordAnswer(ctx, event.Answer{Learner: "student:" + r.student, Pack: "physics", PackVersion: "1.0.0", Set: "speed", Item: "speed-1", Lang: "tg", Choices: []int{2}, Correct: true, Score: 1})
		return err
	}, func(t *testing.T, q *hubRows, seq int64, r *roster) {
		q.want(t, []string{"student:" + r.student, "physics", "speed", "speed-1", "1"}, "SELECT learner, pack, set_id, item, correct FROM answers WHERE box_id = ? AND seq = ?", q.box, seq)
	}},
	{event.KindLiveResponse, func(ctx context.Context, db *store.DB, r *roster) error {
		if err := db.CreateLiveSession(ctx, store.LiveSession{ID: "L1", Code: "ACEFHJ", TeacherHash: "th", Title: "Quiz", Lang: "tg",
			Options: []byte(`{}`), Questions: []byte(`[]`), Phase: "open", Current: 0, Version: 1}); err != nil {
			return err
		}
		if err := db.AddLivePlayer(ctx, store.LivePlayer{Session: "L1", ID: "p1", TokenHash: "h", Learner: "student:" + r.student, Nickname: "Ali", Joined: time.UnixMilli(1)}); err != nil {
			return err
		}
		_, err := db.RecordLiveResponse(ctx, event.LiveResponse{ID: db.NewID(), Learner: "student:" + r.student, Session: "L1", Question: 0, Player: "p1",
			Item: "speed-2", Kind: "numeric", Pack: "physics", PackVersion: "1.0.0", Set: "speed", Lang: "tg", Text: "12", Score: 0, Points: 0, ElapsedMS: 4000})
		return err
	}, func(t *testing.T, q *hubRows, seq int64, r *roster) {
		q.want(t, []string{"student:" + r.student, "physics", "speed", "speed-2", "0"}, "SELECT learner, pack, set_id, item, correct FROM answers WHERE box_id = ? AND seq = ?", q.box, seq)
	}},
	{event.KindLiveResponse, func(ctx context.Context, db *store.DB, r *roster) error {
		_, err := db.RecordLiveResponse(ctx, event.LiveResponse{ID: db.NewID(), Learner: "student:" + r.student, Session: "L1", Question: 1, Player: "p1",
			Item: "poll-1", Kind: event.QuestionPoll, Lang: "tg", Choices: []int{0}, ElapsedMS: 900})
		return err
	}, nil}, // a poll: no answer row
	{event.KindAnswerSubmitted, func(ctx context.Context, db *store.DB, r *roster) error {
		_, err := db.RecordAnswer(ctx, event.Answer{Learner: "student:" + r.student, Pack: "physics", PackVersion: "1.0.0", Set: "speed", Item: "poll-2", Lang: "tg", Choices: []int{1}, Kind: event.QuestionPoll})
		return err
	}, nil}, // a poll of a pack's set: no answer row either
	{event.KindStudioPublished, func(ctx context.Context, db *store.DB, r *roster) error {
		d, err := db.CreateDraft(ctx, "user:"+r.teacher, studio.KindSet, studio.Doc{Languages: []string{"tg"}})
		if err != nil {
			return err
		}
		return db.RecordPublish(ctx, "user:"+r.teacher, d.ID, studio.Version{Version: "1.0.0", Rev: 1, Published: time.UnixMilli(5), SHA256: strings.Repeat("0f", 32)},
			event.StudioPublished{Pack: "tkey-" + d.ID, Version: "1.0.0", Kind: "set", Items: 3, SHA256: strings.Repeat("0f", 32)})
	}, nil}, // stored, nothing derived
}

// hubRows reads a hub's derived tables for one box.
type hubRows struct {
	st  *hub.Store
	box string
}

// want checks that query returns exactly one row, with these values.
func (q *hubRows) want(t *testing.T, want []string, query string, args ...any) {
	t.Helper()
	got := make([]string, len(want))
	ptrs := make([]any, len(want))
	for i := range got {
		ptrs[i] = &got[i]
	}
	var n int
	if err := q.st.DB().QueryRow(t.Context(), "SELECT count(*) FROM ("+query+") AS x", args...).Scan(&n); err != nil || n != 1 {
		t.Errorf("%s %v: %d rows (%v), want 1", query, args, n, err)
		return
	}
	if err := q.st.DB().QueryRow(t.Context(), query, args...).Scan(ptrs...); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s %v = %q (%v), want %q", query, args, got, err, want)
	}
}

// derivedAt counts the answer and lesson rows the hub derived from seq.
func (q *hubRows) derivedAt(t *testing.T, seq int64) int {
	t.Helper()
	var a, l int
	if err := q.st.DB().QueryRow(t.Context(), "SELECT (SELECT count(*) FROM answers WHERE box_id = ? AND seq = ?), (SELECT count(*) FROM lessons_done WHERE box_id = ? AND seq = ?)",
		q.box, seq, q.box, seq).Scan(&a, &l); err != nil {
		t.Fatal(err)
	}
	return a + l
}

// TestEveryKindReachesTheHub writes an event of every kind of the contract
// with the box's store on a real database, sends it to a real hub (over
// HTTP, and on a USB stick) and checks the hub's copy and the report rows
// derived from it.
func TestEveryKindReachesTheHub(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range kindCases {
		covered[c.kind] = true
	}
	for _, kind := range event.Kinds() {
		if !covered[kind] {
			t.Errorf("kind %s is in the contract but not in kindCases: add a case that writes it and checks what the hub derives", kind)
		}
	}
	for _, backend := range hubtest.Backends() {
		for _, via := range []string{"push", "usb"} {
			t.Run(backend.Name+"/"+via, func(t *testing.T) {
				ctx := t.Context()
				h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
				box := newBox(t, content.NewKeyring())
				var r roster
				seqs := make([]int64, len(kindCases))
				for i, c := range kindCases {
					before, _ := box.db.LastSeq(ctx)
					if err := c.write(ctx, box.db, &r); err != nil {
						t.Fatalf("writing %s: %v", c.kind, err)
					}
					evs, err := box.db.EventsAfter(ctx, before, 10)
					if err != nil || len(evs) != 1 || evs[0].Kind != c.kind {
						t.Fatalf("writing %s stored %+v (%v), want one event of that kind", c.kind, evs, err)
					}
					seqs[i] = evs[0].Seq
				}
				send(t, h, box, via)

				q := &hubRows{st: h.Store(), box: box.boxID(t)}
				boxEvs, err := box.db.EventsAfter(ctx, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				held := map[int64]wire.Event{}
				if err := h.Store().EachEvent(ctx, q.box, func(ev wire.Event, _ int64, _ string) error { held[ev.Seq] = ev; return nil }); err != nil {
					t.Fatal(err)
				}
				if len(held) != len(boxEvs) {
					t.Fatalf("the hub holds %d events, the box wrote %d", len(held), len(boxEvs))
				}
				for i, c := range kindCases {
					ev := boxEvs[seqs[i]-1]
					got := held[ev.Seq]
					if got.ID != ev.ID || got.Kind != ev.Kind || got.Actor != ev.Actor || got.WallMS != ev.Wall.UnixMilli() ||
						got.BootID != ev.BootID || got.MonoMS != ev.Uptime.Milliseconds() || !bytes.Equal(got.Payload, ev.Payload) {
						t.Errorf("%s: the hub holds %+v, the box wrote %+v", c.kind, got, ev)
					}
					boxP, err := event.Decode(ev.Kind, ev.Payload)
					if err != nil || boxP == nil || event.Check(boxP) != nil {
						t.Errorf("%s: the box wrote a payload outside the contract: %s (%v)", c.kind, ev.Payload, err)
					}
					if hubP, err := event.Decode(got.Kind, got.Payload); err != nil || !reflect.DeepEqual(hubP, boxP) {
						t.Errorf("%s: the hub decodes %#v (%v), the box wrote %#v", c.kind, hubP, err, boxP)
					}
					if c.check != nil {
						c.check(t, q, ev.Seq, &r)
					} else if n := q.derivedAt(t, ev.Seq); n != 0 {
						t.Errorf("%s (seq %d): the hub derived %d answer or lesson rows, want none", c.kind, ev.Seq, n)
					}
				}
			})
		}
	}
}

// send gets every event of box to the hub: pushed over HTTP, or on a USB
// stick (a bundle exported by the box and imported by the hub).
func send(t *testing.T, h *hubtest.Hub, box *testBox, via string) {
	t.Helper()
	ctx := t.Context()
	if via == "push" {
		s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 9", "Khatlon")})
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
		return
	}
	enrollByFile(t, h, box, "School 9", "Khatlon")
	exp, err := upstream.Export(ctx, box.db, box.lib, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile(exp.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store().ImportBundle(ctx, bytes.NewReader(bundle)); err != nil {
		t.Fatalf("import: %v", err)
	}
}
