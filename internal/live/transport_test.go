package live

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/store"
)

// A whole session over real sockets: the teacher leads, a screen watches,
// two students answer, and everyone sees what they should.
func TestSessionOverSockets(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{Points: true, OnDevices: false}, questions(t)[:2])
	ali, bo := h.join(s.Code, "Ali"), h.join(s.Code, "Bo")
	teacher := h.dial(s.Code, RoleTeacher, s.Token)
	screen := h.dial(s.Code, RoleScreen, "")
	sa, sb := h.dial(s.Code, RoleStudent, ali.Token), h.dial(s.Code, RoleStudent, bo.Token)

	st := teacher.expect("state")
	if st["phase"] != "lobby" || num(st, "count") != 2 {
		t.Fatalf("teacher's first state %v, want the lobby with 2 players", st)
	}
	screen.expect("state")
	me := sa.expect("state")["me"].(map[string]any)
	if me["nickname"] != "Ali" {
		t.Errorf("student's state: me %v", me)
	}
	sb.expect("state")

	teacher.send(map[string]any{"type": "start", "q": -1})
	q := sa.expect("question")
	if num(q, "q") != 0 || q["prompt"] != nil || len(q["choices"].([]any)) != 3 {
		t.Errorf("student's question %v: want question 0 with 3 unlabelled choices and no prompt (projector only)", q)
	}
	if hq := screen.expect("question"); hq["prompt"] != "2+2?" || hq["choices"].([]any)[1] != "4" {
		t.Errorf("screen's question %v, want the prompt and choices", hq)
	}
	sb.expect("question")

	ida, idb := newAnswerID(), newAnswerID()
	sa.send(answerMsg(s.Code, 0, ida, 1))
	sb.send(answerMsg(s.Code, 0, idb, 0))
	if ack := sa.expect("ack"); ack["id"] != ida {
		t.Errorf("ack %v, want id %s", ack, ida)
	}
	sb.expect("ack")
	for {
		c := screen.expect("counts")
		if num(c, "answered") == 2 {
			break
		}
	}
	teacher.send(map[string]any{"type": "close", "q": 0})
	sa.expect("closed")
	teacher.send(map[string]any{"type": "reveal", "q": 0})
	rv := screen.expect("reveal")
	if bars := rv["bars"].([]any); len(bars) != 3 || num(bars[1].(map[string]any), "count") != 1 || bars[1].(map[string]any)["correct"] != true {
		t.Errorf("screen's reveal %v, want 3 bars, the second right with 1 answer", rv)
	}
	if sr := sa.expect("reveal"); sr["bars"] != nil || sr["right"].([]any)[0] != float64(1) {
		t.Errorf("student's reveal %v, want the right choice and no chart", sr)
	}
	res := sa.expect("result")
	if res["correct"] != true || num(res, "points") != 1000 || num(res, "rank") != 1 || num(res, "of") != 2 {
		t.Errorf("Ali's result %v, want correct, 1000 points, rank 1 of 2", res)
	}
	if res := sb.expect("result"); res["correct"] != false || num(res, "rank") != 2 {
		t.Errorf("Bo's result %v, want wrong, rank 2", res)
	}
	teacher.send(map[string]any{"type": "board", "q": 0})
	if b := screen.expect("board")["board"].([]any); len(b) != 2 || b[0].(map[string]any)["nickname"] != "Ali" {
		t.Errorf("board %v, want Ali first", b)
	}
	teacher.send(map[string]any{"type": "next", "q": 0})
	sa.expect("question")
	// A double tap: the second "next" was meant for question 0.
	teacher.send(map[string]any{"type": "close", "q": 1})
	teacher.send(map[string]any{"type": "next", "q": 0})
	teacher.expectError("stale")
	teacher.send(map[string]any{"type": "end"})
	if e := sa.expect("ended"); len(e["board"].([]any)) != 2 {
		t.Errorf("ended %v, want the final board", e)
	}
	teacher.send(map[string]any{"type": "start"})
	teacher.expectError("ended")

	// Everything was stored: two answers, the session ended.
	rs, err := h.db.LiveResponses(context.Background(), h.sessions.roomFor(t, s.Code).s.ID)
	if err != nil || len(rs) != 2 {
		t.Fatalf("stored responses %v %v, want 2", rs, err)
	}
	waitFor(t, "the session's end stored", func() bool {
		rec, _ := h.db.LiveSessionByCode(context.Background(), s.Code)
		return rec.Phase == "ended"
	})
}

func (h *Sessions) roomFor(t *testing.T, code string) *room {
	t.Helper()
	r, ok := h.room(code)
	if !ok {
		t.Fatalf("no room %s", code)
	}
	return r
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 5 s", what)
}

// A resend of an answer (same id) is acknowledged again and stored once,
// also from a new connection after a drop.
func TestResendIsAppliedOnce(t *testing.T) {
	h := newHarness(t)
	s, ali, _, c := h.asking(Options{Points: true}, questions(t)[:1])
	id := newAnswerID()
	c.send(answerMsg(s.Code, 0, id, 1))
	c.send(answerMsg(s.Code, 0, id, 1)) // while the first is being stored: acknowledged once, when it is
	c.expect("ack")
	c.send(answerMsg(s.Code, 0, id, 1)) // once stored: acknowledged again
	c.expect("ack")
	c.ws.Close()
	c2 := h.dial(s.Code, RoleStudent, ali.Token)
	st := c2.expect("state")
	if a := st["answer"].(map[string]any); a["id"] != id || a["stored"] != true {
		t.Errorf("state after reconnect: answer %v, want %s stored", a, id)
	}
	c2.send(answerMsg(s.Code, 0, id, 1))
	if ack := c2.expect("ack"); ack["id"] != id {
		t.Errorf("ack %v", ack)
	}
	// A different answer is refused; the first one stands.
	c2.send(answerMsg(s.Code, 0, newAnswerID(), 0))
	c2.expectError("already_answered")
	rs, _ := h.db.LiveResponses(context.Background(), h.sessions.roomFor(t, s.Code).s.ID)
	if len(rs) != 1 || rs[0].ID != id {
		t.Fatalf("stored %v, want the one answer %s", rs, id)
	}
	evs, _ := h.db.EventsAfter(context.Background(), 0, 100)
	n := 0
	for _, ev := range evs {
		if ev.Kind == event.KindLiveResponse {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d live.response events, want 1", n)
	}
}

// A reconnecting student gets the whole state: the question, their own
// answer and, after the reveal, their result and score.
func TestReconnectGetsFullState(t *testing.T) {
	h := newHarness(t)
	s, ali, teacher, c := h.asking(Options{Points: true, OnDevices: true, Timer: time.Minute}, questions(t)[:2])
	id := newAnswerID()
	c.send(answerMsg(s.Code, 0, id, 1))
	c.expect("ack")
	c.ws.Close()

	c = h.dial(s.Code, RoleStudent, ali.Token)
	st := c.expect("state")
	q := st["question"].(map[string]any)
	if st["phase"] != "open" || q["prompt"] != "2+2?" || num(q, "remaining_ms") <= 0 || num(q, "time_ms") != 60000 {
		t.Errorf("state %v: want the open question with its prompt and the time left", st)
	}
	if a := st["answer"].(map[string]any); a["id"] != id || a["choices"].([]any)[0] != float64(1) {
		t.Errorf("answer in the state %v", a)
	}
	c.ws.Close()
	teacher.send(map[string]any{"type": "close"})
	teacher.send(map[string]any{"type": "reveal"})
	teacher.expect("reveal")
	c = h.dial(s.Code, RoleStudent, ali.Token)
	st = c.expect("state")
	res := st["result"].(map[string]any)
	if st["phase"] != "revealed" || res["correct"] != true || num(res, "score") < 500 || st["reveal"] == nil {
		t.Errorf("state after the reveal %v: want the reveal and a correct result with the score", st)
	}
	if num(st["me"].(map[string]any), "score") != num(res, "score") {
		t.Errorf("me %v and result %v disagree on the score", st["me"], res)
	}
}

// A student whose phone cannot keep up is dropped; the room goes on for
// everyone else without waiting for it.
func TestSlowClientIsDropped(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir()+"/box.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Small kernel buffers on the server's side of the slow student's
	// connection, so that a client that does not read blocks its writer
	// soon.
	small := &smallBuffers{}
	h := startHarness(t, db, db, "", func(ln net.Listener) net.Listener { small.Listener = ln; return small })
	var qs []Question
	long := strings.Repeat("Сколько будет дважды два? ", 18) // ~ 900 bytes
	for i := range 60 {
		q, _ := AdHoc{Kind: learn.Choice, Prompt: long, Choices: []string{"3", "4"}, Correct: []int{1}}.Question("q"+string(rune('a'+i%26)), "ru")
		qs = append(qs, q)
	}
	s := h.create(Options{OnDevices: true}, qs)
	slow, fast := h.join(s.Code, "Slow"), h.join(s.Code, "Fast")
	teacher := h.dial(s.Code, RoleTeacher, s.Token)
	screen := h.dial(s.Code, RoleScreen, "")

	// The slow client: a websocket that never reads after the handshake,
	// with a tiny receive buffer.
	d := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(1024)
		}
		return c, err
	}}
	f := h.dial(s.Code, RoleStudent, fast.Token)
	f.expect("state")
	u := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws/" + s.Code + "?role=student&secret=" + slow.Token
	small.on.Store(true)
	slowWS, _, err := d.Dial(u, nil)
	small.on.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	defer slowWS.Close()
	waitFor(t, "both students online", func() bool {
		st := screen.expect("players")
		return num(st, "online") == 2
	})

	start := time.Now()
	teacher.send(map[string]any{"type": "start"})
	for i := range len(qs) {
		m := f.expectQ(t, i)
		if num(m, "q") != i {
			t.Fatalf("fast student got question %d, want %d", num(m, "q"), i)
		}
		if i < len(qs)-1 {
			teacher.send(map[string]any{"type": "close"})
			teacher.send(map[string]any{"type": "next"})
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("60 questions took %v to reach the fast student: the slow one held the room up", d)
	}
	// The screen sees the slow student go offline.
	waitFor(t, "the slow student dropped", func() bool {
		select {
		case m := <-screen.msgs:
			return m["type"] == "players" && num(m, "online") == 1
		default:
			return false
		}
	})
	// The fast student still answers.
	id := newAnswerID()
	f.send(answerMsg(s.Code, len(qs)-1, id, 1))
	f.expect("ack")
}

// expectQ waits for question i, saying what else came meanwhile.
func (c *client) expectQ(t *testing.T, i int) msg {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m["type"] == "question" {
				return m
			}
			if m["type"] != "closed" {
				t.Logf("fast student, waiting for question %d, got %v", i, m)
			}
		case <-c.closed:
			t.Fatalf("fast student closed (%d %v) waiting for question %d", c.code.Load(), c.reason.Load(), i)
		case <-deadline:
			t.Fatalf("fast student: no question %d within 5 s", i)
		}
	}
}

// smallBuffers gives the connections accepted while on is set a small
// kernel send buffer.
type smallBuffers struct {
	net.Listener
	on atomic.Bool
}

func (l *smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && l.on.Load() {
		tc.SetWriteBuffer(2048)
	}
	return c, err
}

// Every kind of bad message is refused on its socket, and the session goes
// on for the others.
func TestRefusals(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:2])
	ali, bo := h.join(s.Code, "Ali"), h.join(s.Code, "Bo")
	teacher := h.dial(s.Code, RoleTeacher, s.Token)
	a := h.dial(s.Code, RoleStudent, ali.Token)
	a.expect("state")

	for _, tc := range []struct {
		name string
		send any
		code string
	}{
		{"malformed JSON", `{"type": "answer", `, CodeBadJSON},
		{"not an object", `[1, 2]`, CodeBadJSON},
		{"unknown type", `{"type": "dance"}`, CodeUnknownType},
		{"no type", `{}`, CodeUnknownType},
		{"control from a student", map[string]any{"type": "next"}, CodeNotAllowed},
		{"kick from a student", map[string]any{"type": "kick", "player": "p2"}, CodeNotAllowed},
		{"another session", answerMsg("XXXXXX", 0, newAnswerID(), 1), CodeWrongSession},
		{"answer without id", map[string]any{"type": "answer", "q": 0, "choices": []int{1}}, CodeBadMessage},
		{"answer with a long text", map[string]any{"type": "answer", "q": 0, "id": newAnswerID(), "text": strings.Repeat("x", 201)}, CodeBadMessage},
		{"answer in the lobby", answerMsg(s.Code, 0, newAnswerID(), 1), "not_open"},
	} {
		a.send(tc.send)
		if m := a.expect("error"); m["code"] != tc.code {
			t.Errorf("%s: error %v, want %s", tc.name, m, tc.code)
		}
	}
	a.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	a.expectError(CodeBadFrame)

	teacher.send(map[string]any{"type": "answer", "q": 0, "id": newAnswerID(), "choices": []int{1}})
	teacher.expectError(CodeNotAllowed)
	teacher.send(map[string]any{"type": "reveal"})
	teacher.expectError("illegal")
	teacher.send(map[string]any{"type": "kick", "player": "p99"})
	teacher.expectError("no_player")
	teacher.send(map[string]any{"type": "start"})
	a.expect("question")
	a.send(map[string]any{"type": "answer", "q": 0, "id": newAnswerID(), "choices": []int{9}})
	a.expectError("bad_answer")
	a.send(map[string]any{"type": "answer", "q": 0, "id": "nope", "choices": []int{1}})
	a.expectError("bad_id")
	a.send(answerMsg(s.Code, 1, newAnswerID(), 1))
	a.expectError("wrong_question")
	teacher.send(map[string]any{"type": "close"})
	a.expect("closed")
	a.send(answerMsg(s.Code, 0, newAnswerID(), 1))
	a.expectError("question_closed")

	screen := h.dial(s.Code, RoleScreen, "")
	screen.expect("state")
	screen.send(map[string]any{"type": "next"})
	screen.expectError(CodeNotAllowed)

	// Wrong secrets and unknown players are closed with a reason.
	bad := h.dial(s.Code, RoleTeacher, "guess")
	bad.expectError(CodeUnauthorized)
	bad.expectClose(CloseUnauthorized)
	nobody := h.dial(s.Code, RoleStudent, "guess")
	nobody.expectClose(CloseNotJoined)

	// An oversized frame closes that socket with 1009.
	big := h.dial(s.Code, RoleStudent, bo.Token)
	big.expect("state")
	big.send(`{"type":"answer","text":"` + strings.Repeat("x", maxMessageBytes) + `"}`)
	big.expectClose(websocket.CloseMessageTooBig)

	// A flood: refused, then closed.
	flood := h.dial(s.Code, RoleStudent, bo.Token)
	flood.expect("state")
	for range rateBurst + floodLimit + 5 {
		if err := flood.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"sync"}`)); err != nil {
			break
		}
	}
	flood.expectError(CodeRateLimited)
	flood.expectClose(CloseFlood)

	// A removed student is told and closed, and cannot come back.
	bob := h.dial(s.Code, RoleStudent, bo.Token)
	bob.expect("state")
	teacher.send(map[string]any{"type": "kick", "player": bo.Player})
	bob.expectError("removed")
	bob.expectClose(CloseRemoved)
	again := h.dial(s.Code, RoleStudent, bo.Token)
	again.expectClose(CloseNotJoined)

	// A handshake from another site's page is refused.
	hdr := http.Header{"Origin": {"http://evil.example"}}
	u := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws/" + s.Code + "?role=screen"
	if _, resp, err := websocket.DefaultDialer.Dial(u, hdr); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin handshake: err %v, want 403", err)
	}

	// Through all of it, the session went on.
	teacher.send(map[string]any{"type": "next"})
	a.expect("question")
	a.send(answerMsg(s.Code, 1, newAnswerID(), 0, 2))
	a.expect("ack")
}

// The same student connecting twice: the older connection is closed.
func TestSecondConnectionReplacesFirst(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	ali := h.join(s.Code, "Ali")
	first := h.dial(s.Code, RoleStudent, ali.Token)
	first.expect("state")
	second := h.dial(s.Code, RoleStudent, ali.Token)
	second.expect("state")
	first.expectClose(CloseReplaced)
}

// A box that restarts mid-session resumes it with every stored answer;
// students reconnect with the secrets they hold.
func TestRestartResumesSession(t *testing.T) {
	h := newHarness(t)
	s, ali, _, c := h.asking(Options{Points: true}, questions(t)[:2])
	id := newAnswerID()
	c.send(answerMsg(s.Code, 0, id, 1))
	c.expect("ack")

	h.stop() // the power cut (after the acknowledged write)
	c.expectClose(CloseGoingAway)

	h2 := startHarness(t, h.db, h.db, h.path, nil)
	c = h2.dial(s.Code, RoleStudent, ali.Token)
	st := c.expect("state")
	if st["phase"] != "open" || st["answer"].(map[string]any)["id"] != id {
		t.Fatalf("state after the restart %v: want question 0 open with the stored answer", st)
	}
	c.send(answerMsg(s.Code, 0, id, 1))
	c.expect("ack")
	t2 := h2.dial(s.Code, RoleTeacher, s.Token)
	if st := t2.expect("state"); num(st, "answered") != 1 || num(st, "count") != 1 {
		t.Errorf("teacher's state after the restart %v: want 1 player, 1 answer", st)
	}
	t2.send(map[string]any{"type": "close"})
	t2.send(map[string]any{"type": "reveal"})
	if res := c.expect("result"); num(res, "score") != 1000 {
		t.Errorf("result after the restart %v, want the score kept", res)
	}
}

// failingStore fails answer writes while fail is set.
type failingStore struct {
	*store.DB
	fail atomic.Bool
}

func (f *failingStore) WriteLive(ctx context.Context, ws []store.LiveWrite) ([]error, error) {
	if f.fail.Load() {
		for _, w := range ws {
			if w.Response != nil {
				err := errors.New("disk I/O error")
				errs := make([]error, len(ws))
				for i := range errs {
					errs[i] = err
				}
				return errs, err
			}
		}
	}
	return f.DB.WriteLive(ctx, ws)
}

// An answer the box could not store is not acknowledged; sent again, it is.
func TestStoreFailureIsNotAcknowledged(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir()+"/box.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fs := &failingStore{DB: db}
	h := startHarness(t, db, fs, "", nil)
	s, _, _, c := h.asking(Options{}, questions(t)[:1])
	fs.fail.Store(true)
	id := newAnswerID()
	c.send(answerMsg(s.Code, 0, id, 1))
	if m := c.expectError(CodeStoreFailed); m["ref"] != id {
		t.Errorf("error %v, want ref %s", m, id)
	}
	fs.fail.Store(false)
	c.send(answerMsg(s.Code, 0, id, 1))
	c.expect("ack")
}

// Shutting the box down closes every socket with 1001.
func TestShutdownClosesSockets(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	ali := h.join(s.Code, "Ali")
	c := h.dial(s.Code, RoleStudent, ali.Token)
	c.expect("state")
	scr := h.dial(s.Code, RoleScreen, "")
	scr.expect("state")
	h.cancel()
	c.expectClose(CloseGoingAway)
	scr.expectClose(CloseGoingAway)
}

// Joining: nicknames unique, generated when asked, late joiners refused.
func TestJoinThroughSessions(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	h.join(s.Code, "Ali")
	if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:x", Nickname: "ali"}); !errors.Is(err, ErrNicknameTaken) {
		t.Errorf("same nickname: err %v", err)
	}
	if _, err := h.sessions.Join(context.Background(), "ZZZZZZ", JoinRequest{Learner: "guest:x", Nickname: "Z"}); !errors.Is(err, ErrNoSession) {
		t.Errorf("unknown code: err %v", err)
	}
	j, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:y", Lang: "ru"})
	if err != nil || j.Nickname == "" {
		t.Fatalf("generated nickname: %+v %v", j, err)
	}
	if id, nick, ok := h.sessions.Player(context.Background(), s.Code, j.Token); !ok || id != j.Player || nick != j.Nickname {
		t.Errorf("Player(token) = %s %s %v, want %s %s", id, nick, ok, j.Player, j.Nickname)
	}
	// A signed-in student joining again is the same player, with a new secret.
	s1, _ := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "student:42", Nickname: "Zarina"})
	s2, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "student:42", Nickname: "Zarina"})
	if err != nil || s2.Player != s1.Player {
		t.Errorf("signed-in student again: %+v %v, want player %s", s2, err, s1.Player)
	}
	if _, _, ok := h.sessions.Player(context.Background(), s.Code, s1.Token); ok {
		t.Error("the first device's secret still works")
	}
	teacher := h.dial(s.Code, RoleTeacher, s.Token)
	teacher.send(map[string]any{"type": "start"})
	teacher.expect("question")
	if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:z", Nickname: "Late"}); !errors.Is(err, ErrLateJoin) {
		t.Errorf("late join: err %v", err)
	}
	if !h.sessions.Teacher(s.Code, s.Token) || h.sessions.Teacher(s.Code, "x") || h.sessions.Teacher("ZZZZZZ", s.Token) {
		t.Error("Teacher() does not tell the teacher's secret apart")
	}
}
