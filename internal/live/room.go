package live

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/store"
)

const (
	inboxSize  = 4096
	flushEvery = 250 * time.Millisecond // how often screens get player and answer counts
	// An ended session's room stops once nobody has been connected for
	// this long; its results stay in the database.
	endedLinger = 10 * time.Minute
	// A session nobody has been connected to for this long was forgotten
	// by its teacher: its room ends it, as the teacher would have (a
	// school day fits in it; the night does not). Without this, forgotten
	// sessions would stay in memory and be resumed at every start.
	abandonedAfter = 12 * time.Hour
)

// Events a room handles, posted to its inbox.
type (
	register   struct{ c *conn }
	unregister struct{ c *conn }
	inbound    struct {
		c *conn
		m inMsg
	}
	joinReq struct {
		req   JoinRequest
		reply chan joinResult
	}
	joinResult struct {
		joined Joined
		err    error
	}
	lookupReq struct {
		hash  string
		reply chan lookupResult
	}
	lookupResult struct{ id, nickname string }
	// stored is the outcome of a write the room started.
	stored struct {
		apply func(r *room, err error)
		err   error
	}
)

// room is one live session with its connections. Only its goroutine (run)
// touches its fields; others post events to its inbox.
type room struct {
	sessions    *Sessions
	code        string
	lang        string
	teacherHash string
	s           *Session
	info        atomic.Pointer[Info]

	in   chan any
	quit chan struct{} // closed when run returns

	students map[*conn]bool
	hosts    map[*conn]bool // teachers and screens
	byPlayer map[string]*conn
	tokens   map[string]string // token hash → player id
	// Where players joined from, since the box started (addresses are
	// not stored): joins per address, and each player's address.
	joinsFrom map[string]int
	addrOf    map[string]string
	pending   int // answers being stored

	// Changes for the screens, sent together every flushEvery.
	changed  map[string]bool // player ids joined, renamed, online or offline
	removed  []string
	counts   bool
	ranks    map[string]int // player → rank, nil when scores changed
	unsaved  bool           // the last phase change could not be stored: store it again
	timer    *time.Timer
	endedAt  time.Time
	lastConn time.Time
}

func newRoom(ss *Sessions, s *Session, lang, teacherHash string) *room {
	r := &room{sessions: ss, code: s.Code, lang: lang, teacherHash: teacherHash, s: s,
		in: make(chan any, inboxSize), quit: make(chan struct{}),
		students: map[*conn]bool{}, hosts: map[*conn]bool{}, byPlayer: map[string]*conn{}, tokens: map[string]string{},
		joinsFrom: map[string]int{}, addrOf: map[string]string{},
		changed: map[string]bool{}, lastConn: time.Now()}
	for _, p := range s.Players() {
		r.tokens[p.TokenHash] = p.ID
	}
	r.publish()
	return r
}

// post hands an event to the room, waiting while its inbox is full; it
// reports false once the room has stopped.
func (r *room) post(ev any) bool {
	select {
	case r.in <- ev:
		return true
	case <-r.quit:
		return false
	}
}

func (r *room) postCtx(ctx context.Context, ev any) bool {
	select {
	case r.in <- ev:
		return true
	case <-r.quit:
		return false
	case <-ctx.Done():
		return false
	}
}

func (r *room) run(ctx context.Context) {
	defer close(r.quit)
	r.timer = time.NewTimer(time.Hour)
	r.timer.Stop()
	r.schedule()
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			for c := range r.students {
				c.close(CloseGoingAway, "the box is restarting")
			}
			for c := range r.hosts {
				c.close(CloseGoingAway, "the box is restarting")
			}
			return
		case ev := <-r.in:
			r.handle(ev)
		case <-r.timer.C:
			if r.s.Tick(time.Now()) {
				r.changedPhase()
			}
		case now := <-flush.C:
			if r.unsaved {
				r.saveState(nil)
			}
			r.flush()
			empty := len(r.students)+len(r.hosts) == 0 && r.pending == 0
			if empty && r.s.Phase() != Ended && now.Sub(r.lastConn) > r.sessions.abandonAfter {
				r.abandon(now)
			}
			if empty && r.s.Phase() == Ended && now.Sub(r.lastConn) > endedLinger && now.Sub(r.endedAt) > endedLinger {
				return
			}
		}
	}
}

func (r *room) handle(ev any) {
	switch ev := ev.(type) {
	case register:
		r.register(ev.c)
	case unregister:
		r.unregister(ev.c)
	case inbound:
		if ev.c.gone {
			return
		}
		r.message(ev.c, ev.m)
	case joinReq:
		r.join(ev)
	case lookupReq:
		id := r.tokens[ev.hash]
		if p, ok := r.s.Player(id); ok && !p.Removed {
			ev.reply <- lookupResult{id: p.ID, nickname: p.Nickname}
		} else {
			ev.reply <- lookupResult{}
		}
	case stored:
		ev.apply(r, ev.err)
	}
}

// write queues a write for the Sessions' persister and applies its outcome
// back on the room's goroutine; the room never waits for the disk.
func (r *room) write(w store.LiveWrite, then func(r *room, err error)) {
	if !r.sessions.enqueue(writeReq{w: w, done: func(err error) { r.post(stored{apply: then, err: err}) }}) {
		then(r, errBusy)
	}
}

// saveState stores where the session is, then calls then. A state that
// could not be stored is stored again at the next flush (unsaved), with
// whatever state the session is in by then.
func (r *room) saveState(then func(r *room)) {
	snap := r.s.Snapshot()
	r.unsaved = false
	r.write(store.LiveWrite{State: &store.LiveState{Session: r.s.ID, Phase: string(snap.Phase), Current: snap.Current, Version: snap.Version,
		Locked: snap.Locked}},
		func(r *room, err error) {
			if err != nil {
				r.sessions.log.Error("live: store session state", "code", r.code, "phase", snap.Phase, "err", err)
				r.unsaved = true
			}
			if then != nil {
				then(r)
			}
		})
}

func (r *room) publish() {
	r.info.Store(&Info{Code: r.code, Title: r.s.Title, Lang: r.lang, Phase: r.s.Phase(), Opts: r.s.Opts,
		Questions: len(r.s.Questions), Players: r.s.PlayerCount()})
}

// send queues m for c; a connection that cannot take it is dropped.
func (r *room) send(c *conn, m outMsg) {
	if c.gone {
		return
	}
	if !c.enqueue(m) {
		r.sessions.log.Debug("live: dropped a slow connection", "code", r.code, "role", c.role, "player", c.player)
		r.drop(c)
	}
}

func (r *room) sendJSON(c *conn, v any) { r.send(c, outMsg{data: marshal(v)}) }

// broadcast sends one message to every student and another to every screen
// and teacher, each encoded and framed once for all.
func (r *room) broadcast(students, hosts any) {
	for _, target := range []struct {
		conns map[*conn]bool
		v     any
	}{{r.students, students}, {r.hosts, hosts}} {
		if target.v == nil || len(target.conns) == 0 {
			continue
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, marshal(target.v))
		if err != nil {
			r.sessions.log.Error("live: prepare message", "err", err)
			continue
		}
		for c := range target.conns {
			r.send(c, outMsg{pm: pm})
		}
	}
}

// drop forgets a connection the room will not write to any more.
func (r *room) drop(c *conn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(r.students, c)
	delete(r.hosts, c)
	if c.player != "" && r.byPlayer[c.player] == c {
		delete(r.byPlayer, c.player)
		r.changed[c.player] = true
	}
	r.lastConn = time.Now()
}

func (r *room) register(c *conn) {
	switch c.role {
	case RoleStudent:
		id, ok := r.tokens[HashToken(c.secret)]
		p, _ := r.s.Player(id)
		switch {
		case !ok || p == nil:
			r.refuseConn(c, CodeNotJoined, CloseNotJoined, "join the session first")
			return
		case p.Removed:
			r.refuseConn(c, ErrRemoved.Code, CloseRemoved, "removed by the teacher")
			return
		}
		if old, ok := r.byPlayer[id]; ok {
			old.close(CloseReplaced, "connected again elsewhere")
			r.drop(old)
		}
		c.player = id
		r.byPlayer[id] = c
		r.students[c] = true
		r.changed[id] = true
	case RoleTeacher:
		if !constantEqual(HashToken(c.secret), r.teacherHash) {
			r.refuseConn(c, CodeUnauthorized, CloseUnauthorized, "not the teacher of this session")
			return
		}
		r.hosts[c] = true
	default:
		r.hosts[c] = true
	}
	r.lastConn = time.Now()
	r.sendJSON(c, r.state(c))
}

func (r *room) refuseConn(c *conn, code string, closeCode int, reason string) {
	c.refuse(code, reason, "")
	c.gone = true
	c.close(closeCode, reason)
}

func (r *room) unregister(c *conn) { r.drop(c) }

func (r *room) message(c *conn, m inMsg) {
	switch m.Type {
	case msgSync:
		r.sendJSON(c, r.state(c))
	case msgAnswer:
		r.answer(c, m)
	case msgKick:
		r.kick(c, m)
	case msgLock, msgUnlock:
		r.lock(c, m.Type == msgLock)
	case msgRename:
		r.rename(c, m.Player)
	default:
		expect := -1
		if m.Q != nil {
			expect = *m.Q
		}
		if err := r.s.Do(time.Now(), Command(m.Type), expect); err != nil {
			r.refuseErr(c, err, m.Type)
			return
		}
		r.changedPhase()
	}
}

// refuseErr sends a state machine's refusal to c.
func (r *room) refuseErr(c *conn, err error, ref string) {
	var le *Error
	if errors.As(err, &le) {
		msg := le.Message
		if le.Err != nil {
			msg = le.Err.Error()
		}
		r.sendJSON(c, errorMsg{Type: "error", Code: le.Code, Message: msg, Ref: clip(ref, 64)})
		return
	}
	r.sessions.log.Error("live: refused", "code", r.code, "err", err)
	r.sendJSON(c, errorMsg{Type: "error", Code: "internal", Message: "internal error", Ref: clip(ref, 64)})
}

func (r *room) answer(c *conn, m inMsg) {
	resp := learn.Response{Choices: m.Choices}
	if m.Text != nil {
		resp.Text = *m.Text
	}
	a, dup, err := r.s.Submit(time.Now(), c.player, *m.Q, m.ID, resp)
	if err != nil {
		r.refuseErr(c, err, m.ID)
		return
	}
	if dup {
		if a.Stored {
			r.sendJSON(c, ackMsg{Type: "ack", ID: a.ID, Q: a.Question})
		}
		return // an answer being stored is acknowledged when it is
	}
	if r.pending >= r.sessions.maxPending {
		r.s.Forget(a.ID)
		r.sendJSON(c, errorMsg{Type: "error", Code: CodeBusy, Message: "the box is busy: send again", Ref: a.ID})
		return
	}
	r.pending++
	rec := r.response(a)
	r.write(store.LiveWrite{Response: &rec}, func(r *room, err error) { r.answerStored(a, err) })
}

// response is how an answer is stored.
func (r *room) response(a *Answer) event.LiveResponse {
	q := &r.s.Questions[a.Question]
	p, _ := r.s.Player(a.Player)
	return event.LiveResponse{ID: a.ID, Learner: p.Learner, Session: r.s.ID, Question: a.Question, Player: a.Player,
		Item: q.Item.ID, Kind: string(q.Kind()), Pack: q.Pack, PackVersion: q.PackVersion, Set: q.Set, Lang: q.Lang,
		Choices: a.Response.Choices, Text: a.Response.Text, Correct: a.Correct, Score: a.Score, Points: a.Points, ElapsedMS: ms(a.Elapsed)}
}

func (r *room) answerStored(a *Answer, err error) {
	r.pending--
	c := r.byPlayer[a.Player]
	if err != nil {
		r.s.Forget(a.ID)
		if errors.Is(err, errBusy) {
			if c != nil {
				r.sendJSON(c, errorMsg{Type: "error", Code: CodeBusy, Message: "the box is busy: send again", Ref: a.ID})
			}
			return
		}
		if failure.KindOf(err) == failure.Conflict {
			if c != nil {
				r.sendJSON(c, errorMsg{Type: "error", Code: ErrIDConflict.Code, Message: ErrIDConflict.Message, Ref: a.ID})
			}
			return
		}
		r.sessions.log.Error("live: store answer", "code", r.code, "err", err)
		if c != nil {
			r.sendJSON(c, errorMsg{Type: "error", Code: CodeStoreFailed, Message: "the box could not store the answer: send again", Ref: a.ID})
		}
		return
	}
	r.s.Stored(a.ID)
	r.counts = true
	r.ranks = nil
	if c != nil {
		r.sendJSON(c, ackMsg{Type: "ack", ID: a.ID, Q: a.Question})
	}
}

func (r *room) logStoreErr(what string) func(*room, error) {
	return func(r *room, err error) {
		if err != nil {
			r.sessions.log.Error("live: "+what, "code", r.code, "err", err)
		}
	}
}

// changedPhase stores the session's new phase and, once it is stored,
// tells everyone. Nobody hears of a phase the box would not come back to
// after a power cut. The messages are made now, as the phase is; should
// storing fail (the disk), they are sent all the same (the class goes
// on) and the state is stored again at the next flush.
func (r *room) changedPhase() {
	r.schedule()
	r.publish()
	if r.s.Phase() == Ended {
		r.endedAt = time.Now()
	}
	if r.s.Phase() == Closed {
		r.counts = true
	}
	students, hosts := r.phaseMessages()
	results := r.results()
	r.saveState(func(r *room) {
		r.broadcast(students, hosts)
		for c, res := range results {
			r.sendJSON(c, res)
		}
	})
}

// phaseMessages are what students and hosts are told of the phase the
// session is in.
func (r *room) phaseMessages() (students, hosts any) {
	q := r.s.Current()
	switch r.s.Phase() {
	case Open:
		st, host := r.questionView(RoleStudent, time.Now()), r.questionView(RoleScreen, time.Now())
		return questionMsg{Type: "question", questionView: *st}, questionMsg{Type: "question", questionView: *host}
	case Closed:
		m := closedMsg{Type: "closed", Q: q}
		return m, m
	case Revealed:
		st, host := r.revealView(false), r.revealView(true)
		return revealMsg{Type: "reveal", revealView: *st}, revealMsg{Type: "reveal", revealView: *host}
	case Board:
		m := boardMsg{Type: "board", Board: r.top()}
		return m, m
	case Ended:
		m := endedMsg{Type: "ended"}
		if r.s.Opts.Points {
			m.Board = r.top()
		}
		return m, m
	}
	return nil, nil
}

// results are every connected student's own result, after a reveal and at
// the end (nil in other phases).
func (r *room) results() map[*conn]resultMsg {
	if p := r.s.Phase(); p != Revealed && p != Ended {
		return nil
	}
	out := make(map[*conn]resultMsg, len(r.students))
	for c := range r.students {
		if res := r.resultView(c.player); res != nil {
			out[c] = resultMsg{Type: "result", resultView: *res}
		}
	}
	return out
}

// abandon ends a session nobody has been connected to for Sessions'
// abandonAfter. Its players and answers stay, as when a teacher ends one.
func (r *room) abandon(now time.Time) {
	if err := r.s.Do(now, End, -1); err != nil {
		return
	}
	r.sessions.log.Info("live session ended: nobody was connected", "code", r.code, "since", r.lastConn.Format(time.RFC3339))
	r.changedPhase()
}

// schedule sets the timer for the open question's deadline.
func (r *room) schedule() {
	r.timer.Stop()
	if d := r.s.Deadline(); !d.IsZero() {
		r.timer.Reset(time.Until(d))
	}
}

// flush sends the screens what changed since the last flush: who joined,
// left or came back, and how many answered.
func (r *room) flush() {
	if len(r.changed) == 0 && len(r.removed) == 0 && !r.counts {
		return
	}
	if len(r.hosts) == 0 {
		clear(r.changed)
		r.removed, r.counts = nil, false
		return
	}
	if len(r.changed) > 0 || len(r.removed) > 0 {
		m := playersMsg{Type: "players", Remove: r.removed}
		for id := range r.changed {
			if p, ok := r.s.Player(id); ok && !p.Removed {
				_, online := r.byPlayer[id]
				m.Add = append(m.Add, playerView{ID: id, Nickname: p.Nickname, Online: online})
			}
		}
		m.Count, m.Online, m.Answered = r.s.PlayerCount(), len(r.byPlayer), r.s.Answered(r.s.Current())
		r.broadcast(nil, m)
		clear(r.changed)
		r.removed = nil
	}
	if r.counts && r.s.Current() >= 0 {
		r.broadcast(nil, countsMsg{Type: "counts", Q: r.s.Current(), Answered: r.s.Answered(r.s.Current()), Players: r.s.PlayerCount()})
	}
	r.counts = false
}

func constantEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
