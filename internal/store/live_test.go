package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

func liveSession(id, code string) store.LiveSession {
	return store.LiveSession{ID: id, Code: code, TeacherHash: "th", Title: "Quiz", Lang: "en",
		Options: []byte(`{"points":true}`), Questions: []byte(`[{"item":{"id":"q1"}}]`), Phase: "lobby", Current: -1, Version: 1}
}

func liveResponse(id, player string, q int) event.LiveResponse {
	return event.LiveResponse{ID: id, Learner: "guest:" + player, Session: "S1", Question: q, Player: player, Item: "speed-1",
		Kind: "choice", Pack: "physics", PackVersion: "1.0.0", Set: "speed", Lang: "ru", Choices: []int{1}, Correct: true, Score: 1, Points: 900, ElapsedMS: 2500}
}

func TestLiveSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	db := mustOpenAt(t, path)
	if err := db.CreateLiveSession(ctx, liveSession("S1", "ACEFHJ")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateLiveSession(ctx, liveSession("S2", "ACEFHJ")); failure.KindOf(err) != failure.Conflict {
		t.Fatalf("a second session with the same code: err %v, want a conflict", err)
	}
	for _, p := range []store.LivePlayer{
		{Session: "S1", ID: "p1", TokenHash: "h1", Learner: "guest:p1", Nickname: "Ali", Joined: time.UnixMilli(1000)},
		{Session: "S1", ID: "p2", TokenHash: "h2", Learner: "guest:p2", Nickname: "Bo", Joined: time.UnixMilli(1000)},
		{Session: "S1", ID: "p10", TokenHash: "h10", Learner: "guest:p10", Nickname: "Cy", Joined: time.UnixMilli(1000)},
	} {
		if err := db.AddLivePlayer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateLivePlayer(ctx, store.LivePlayer{Session: "S1", ID: "p2", TokenHash: "h2b", Nickname: "Brave Tiger", Removed: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateLivePlayer(ctx, store.LivePlayer{Session: "S1", ID: "p9", Nickname: "X"}); failure.KindOf(err) != failure.NotFound {
		t.Errorf("update of nobody: err %v, want not found", err)
	}
	if err := db.SetLiveState(ctx, "S1", "open", 0, 3); err != nil {
		t.Fatal(err)
	}
	// An older write landing late changes nothing.
	if err := db.SetLiveState(ctx, "S1", "lobby", -1, 2); err != nil {
		t.Fatal(err)
	}

	ev, err := db.RecordLiveResponse(ctx, liveResponse("01JAAAAAAAAAAAAAAAAAAAA001", "p1", 0))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != event.KindLiveResponse || ev.Actor != "guest:p1" {
		t.Errorf("event %s by %s, want live.response by guest:p1", ev.Kind, ev.Actor)
	}
	again, err := db.RecordLiveResponse(ctx, liveResponse("01JAAAAAAAAAAAAAAAAAAAA001", "p1", 0))
	if err != nil || again.Seq != ev.Seq {
		t.Errorf("resend: seq %d err %v, want the stored event %d", again.Seq, err, ev.Seq)
	}
	if _, err := db.RecordLiveResponse(ctx, liveResponse("01JAAAAAAAAAAAAAAAAAAAA002", "p1", 0)); failure.KindOf(err) != failure.Conflict {
		t.Errorf("second answer to one question: err %v, want a conflict", err)
	}
	other := liveResponse("01JAAAAAAAAAAAAAAAAAAAA001", "p2", 0)
	if _, err := db.RecordLiveResponse(ctx, other); failure.KindOf(err) != failure.Conflict {
		t.Errorf("someone else's id: err %v, want a conflict", err)
	}
	adhoc := liveResponse("01JAAAAAAAAAAAAAAAAAAAA003", "p10", 0)
	adhoc.Pack, adhoc.PackVersion, adhoc.Set, adhoc.Item = "", "", "", "q1"
	if _, err := db.RecordLiveResponse(ctx, adhoc); err != nil {
		t.Fatal(err)
	}
	if seq, _ := db.LastSeq(ctx); seq != ev.Seq+1 {
		t.Errorf("last seq %d, want %d: one event per answer, none for refusals", seq, ev.Seq+1)
	}
	// The pack's answer counts towards progress; the typed question's does not.
	prog, err := db.SetProgress(ctx, "guest:p1", "physics", "speed")
	if err != nil {
		t.Fatal(err)
	}
	if p := prog["speed-1"]; p.Attempts != 1 || !p.LastCorrect {
		t.Errorf("progress %+v, want one correct attempt", p)
	}
	attempts, err := db.Attempts(ctx, []string{"guest:p1"}, "physics", "speed")
	if err != nil || len(attempts) != 1 {
		t.Errorf("attempts %+v (%v), want the live answer counted for mastery", attempts, err)
	}

	// What a restarted box reads back.
	db.Close()
	db = mustOpenAt(t, path)
	running, err := db.RunningLiveSessions(ctx)
	if err != nil || len(running) != 1 {
		t.Fatalf("running sessions: %v %v", running, err)
	}
	if s := running[0]; s.Phase != "open" || s.Current != 0 || s.Version != 3 || string(s.Options) != `{"points":true,"locked":false}` {
		t.Errorf("session %+v, want open at question 0, version 3", s)
	}
	players, err := db.LivePlayers(ctx, "S1")
	if err != nil || len(players) != 3 {
		t.Fatalf("players %v %v", players, err)
	}
	if players[1].Nickname != "Brave Tiger" || !players[1].Removed || players[1].TokenHash != "h2b" || players[2].ID != "p10" {
		t.Errorf("players %+v, want p2 renamed and removed, p10 last", players)
	}
	rs, err := db.LiveResponses(ctx, "S1")
	if err != nil || len(rs) != 2 {
		t.Fatalf("responses %v %v", rs, err)
	}
	if r := rs[0]; r.ID != "01JAAAAAAAAAAAAAAAAAAAA001" || r.Learner != "guest:p1" || r.Points != 900 || r.ElapsedMS != 2500 || len(r.Choices) != 1 {
		t.Errorf("response %+v", r)
	}

	if err := db.SetLiveState(ctx, "S1", "ended", 0, 4); err != nil {
		t.Fatal(err)
	}
	if running, _ := db.RunningLiveSessions(ctx); len(running) != 0 {
		t.Errorf("an ended session still runs: %v", running)
	}
	s, err := db.LiveSessionByCode(ctx, "ACEFHJ")
	if err != nil || s.Ended.IsZero() || s.Phase != "ended" {
		t.Errorf("ended session %+v %v, want an end time", s, err)
	}
	if _, err := db.LiveSessionByCode(ctx, "XXXXXX"); failure.KindOf(err) != failure.NotFound {
		t.Errorf("unknown code: err %v", err)
	}
}
