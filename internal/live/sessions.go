package live

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

// Store is what Sessions keeps sessions in: *store.DB, or a fake in tests.
// Every write returns once it is durably stored.
type Store interface {
	NewID() string
	CreateLiveSession(ctx context.Context, s store.LiveSession) error
	WriteLive(ctx context.Context, writes []store.LiveWrite) ([]error, error)
	RunningLiveSessions(ctx context.Context) ([]store.LiveSession, error)
	LivePlayers(ctx context.Context, session string) ([]store.LivePlayer, error)
	LiveResponses(ctx context.Context, session string) ([]event.LiveResponse, error)
}

// Sessions holds the box's live sessions, each in a room: one goroutine that owns
// the session's state and its connections.
type Sessions struct {
	log      *slog.Logger
	st       Store
	upgrader websocket.Upgrader

	mu      sync.Mutex
	rooms   map[string]*room // by join code
	ctx     context.Context  // set by Run; rooms made before it wait for it
	running sync.WaitGroup   // room goroutines

	// The persister (persist.go): rooms queue their writes, one goroutine
	// stores them in batches.
	queue     chan writeReq
	qmu       sync.RWMutex
	qclosed   bool
	persisted chan struct{}

	// Every websocket, tracked so that a shutdown closes each with a
	// close frame (1001) and waits for its writer to send it.
	cmu     sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	writers sync.WaitGroup

	joins joinLimiter // per source address

	// maxPending bounds the answers a room waits to have stored; more get
	// "busy" and are sent again by their clients.
	maxPending int
	// abandonAfter is how long a session may have nobody connected before
	// its room ends it (abandonedAfter; tests shorten it).
	abandonAfter time.Duration
}

// NewSessions returns the live sessions of a box, stored sessions in st. Call Restore, then Run.
func NewSessions(st Store, logger *slog.Logger) *Sessions {
	ss := &Sessions{log: logger, st: st, rooms: map[string]*room{}, conns: map[*conn]struct{}{}, maxPending: 20000, abandonAfter: abandonedAfter,
		queue: make(chan writeReq, queueSize), persisted: make(chan struct{})}
	ss.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// What a client sends is small (maxMessageBytes): a small read
		// buffer of its own lets the HTTP connection's 4 KB one go. Writes
		// borrow a buffer from the pool only while they write (broadcasts
		// need none: they are framed once), so an idle student costs no
		// write buffer.
		ReadBufferSize:  512,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     sameOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	return ss
}

// sameOrigin accepts a handshake from a page of this box (its Origin is
// the Host it asked), or from a client that sends no Origin (not a browser).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return strings.EqualFold(o, "http://"+r.Host) || strings.EqualFold(o, "https://"+r.Host)
}

// Restore loads the sessions that were running when the box stopped, so
// they resume with every stored answer. A session that cannot be restored is
// logged and skipped.
func (ss *Sessions) Restore(ctx context.Context) error {
	sessions, err := ss.st.RunningLiveSessions(ctx)
	if err != nil {
		return fmt.Errorf("live: restore: %w", err)
	}
	for _, rec := range sessions {
		s, lang, hash, err := ss.restoreOne(ctx, rec)
		if err != nil {
			ss.log.Error("live session not resumed", "code", rec.Code, "err", err)
			continue
		}
		r := newRoom(ss, s, lang, hash)
		ss.mu.Lock()
		ss.rooms[s.Code] = r
		ss.mu.Unlock()
		ss.log.Info("live session resumed", "code", s.Code, "phase", s.Phase(), "players", len(s.Players()))
	}
	return nil
}

func (ss *Sessions) restoreOne(ctx context.Context, rec store.LiveSession) (*Session, string, string, error) {
	base, err := decodeSession(rec)
	if err != nil {
		return nil, "", "", err
	}
	players, err := ss.st.LivePlayers(ctx, rec.ID)
	if err != nil {
		return nil, "", "", err
	}
	responses, err := ss.st.LiveResponses(ctx, rec.ID)
	if err != nil {
		return nil, "", "", err
	}
	ps := make([]Player, len(players))
	for i, p := range players {
		ps[i] = Player{ID: p.ID, Learner: p.Learner, Nickname: p.Nickname, Joined: p.Joined, Removed: p.Removed, TokenHash: p.TokenHash}
	}
	as := make([]Answer, len(responses))
	for i, r := range responses {
		as[i] = Answer{ID: r.ID, Player: r.Player, Question: r.Question, Correct: r.Correct, Score: r.Score, Points: r.Points,
			Elapsed: time.Duration(r.ElapsedMS) * time.Millisecond}
		as[i].Response.Choices, as[i].Response.Text = r.Choices, r.Text
	}
	var o optionsRecord
	json.Unmarshal(rec.Options, &o) // decodeSession read them
	snap := Snapshot{Phase: Phase(rec.Phase), Current: rec.Current, Version: rec.Version, Locked: o.Locked}
	s, err := Restore(time.Now(), base, snap, ps, as)
	if err != nil {
		return nil, "", "", err
	}
	return s, rec.Lang, rec.TeacherHash, nil
}

// optionsRecord is how Options are stored.
type optionsRecord struct {
	TimerMS        int64 `json:"timer_ms"`
	Points         bool  `json:"points"`
	OnDevices      bool  `json:"on_devices"`
	LateJoin       bool  `json:"late_join"`
	GeneratedNames bool  `json:"generated_names"`
	Locked         bool  `json:"locked,omitempty"` // set by the state's writes, not at creation
}

func decodeSession(rec store.LiveSession) (*Session, error) {
	var o optionsRecord
	if err := json.Unmarshal(rec.Options, &o); err != nil {
		return nil, fmt.Errorf("live: options of %s: %w", rec.Code, err)
	}
	var qs []Question
	if err := json.Unmarshal(rec.Questions, &qs); err != nil {
		return nil, fmt.Errorf("live: questions of %s: %w", rec.Code, err)
	}
	opts := Options{Timer: time.Duration(o.TimerMS) * time.Millisecond, Points: o.Points, OnDevices: o.OnDevices, LateJoin: o.LateJoin, GeneratedNames: o.GeneratedNames}
	return New(rec.ID, rec.Code, rec.Title, opts, qs)
}

// Run runs the rooms and the persister until ctx ends, then closes every
// connection (close 1001), waits for the rooms to stop, and stores every
// write still queued before it returns. A box runs it under the errgroup
// whose context is also its http.Server's BaseContext, so a shutdown closes
// the sockets that http.Server.Shutdown does not track (hijacked ones).
func (ss *Sessions) Run(ctx context.Context) error {
	go ss.persist()
	ss.mu.Lock()
	ss.ctx = ctx
	for _, r := range ss.rooms {
		ss.start(r)
	}
	ss.mu.Unlock()
	<-ctx.Done()
	ss.running.Wait()
	ss.closeConns()
	ss.closeQueue()
	<-ss.persisted
	return nil
}

// track counts a new connection's writer; false once Sessions is shutting
// down (the connection is to be closed at once).
func (ss *Sessions) track(c *conn) bool {
	ss.cmu.Lock()
	defer ss.cmu.Unlock()
	ss.writers.Add(1)
	if ss.closing {
		return false
	}
	ss.conns[c] = struct{}{}
	return true
}

// untrack is called by a connection's writer as it ends.
func (ss *Sessions) untrack(c *conn) {
	ss.cmu.Lock()
	delete(ss.conns, c)
	ss.cmu.Unlock()
	ss.writers.Done()
}

// closeConns closes every connection still open with 1001 (going away),
// whatever its room did, and waits until each writer has sent its close
// frame or given up (closeGrace, twice at most): the box must not exit
// with sockets its clients would see dropped without a word (1006).
func (ss *Sessions) closeConns() {
	ss.cmu.Lock()
	ss.closing = true
	for c := range ss.conns {
		c.close(CloseGoingAway, "the box is restarting")
	}
	ss.cmu.Unlock()
	ss.writers.Wait()
}

// start runs a room's goroutine; ss.mu is held.
func (ss *Sessions) start(r *room) {
	ss.running.Add(1)
	go func() {
		defer ss.running.Done()
		r.run(ss.ctx)
		ss.mu.Lock()
		if ss.rooms[r.code] == r {
			delete(ss.rooms, r.code)
		}
		ss.mu.Unlock()
	}()
}

func (ss *Sessions) add(r *room) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.rooms[r.code] = r
	if ss.ctx != nil && ss.ctx.Err() == nil {
		ss.start(r)
	}
}

func (ss *Sessions) room(code string) (*room, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	r, ok := ss.rooms[code]
	return r, ok
}

// Spec is what a teacher asks for when making a session.
type Spec struct {
	Title     string
	Lang      string // the UI language it is made in: generated nicknames use it
	Opts      Options
	Questions []Question
}

// Created is a new session: its join code and the teacher's secret, which
// is shown once (in the control link) and stored only as a hash.
type Created struct {
	Code, Token string
}

// Create makes and stores a session and opens its room.
func (ss *Sessions) Create(ctx context.Context, spec Spec) (Created, error) {
	id := ss.st.NewID()
	s, err := New(id, "", spec.Title, spec.Opts, spec.Questions)
	if err != nil {
		return Created{}, failure.Wrap(failure.Invalid, err, err.Error())
	}
	opts, _ := json.Marshal(optionsRecord{TimerMS: ms(spec.Opts.Timer), Points: spec.Opts.Points, OnDevices: spec.Opts.OnDevices,
		LateJoin: spec.Opts.LateJoin, GeneratedNames: spec.Opts.GeneratedNames})
	qs, err := json.Marshal(spec.Questions)
	if err != nil {
		return Created{}, fmt.Errorf("live: encode questions: %w", err)
	}
	token := NewToken()
	for try := 0; ; try++ {
		code := NewCode(randIntN)
		if _, taken := ss.room(code); taken {
			continue
		}
		rec := store.LiveSession{ID: id, Code: code, TeacherHash: HashToken(token), Title: spec.Title, Lang: spec.Lang,
			Options: opts, Questions: qs, Phase: string(Lobby), Current: -1, Version: s.Version()}
		err := ss.st.CreateLiveSession(ctx, rec)
		if failure.KindOf(err) == failure.Conflict && try < 10 {
			continue
		}
		if err != nil {
			return Created{}, err
		}
		s.Code = code
		ss.add(newRoom(ss, s, spec.Lang, rec.TeacherHash))
		ss.log.Info("live session created", "code", code, "questions", len(spec.Questions))
		return Created{Code: code, Token: token}, nil
	}
}

// Info is what pages need to know of a running session.
type Info struct {
	Code, Title, Lang string
	Phase             Phase
	Opts              Options
	Questions         int
	Players           int
}

// Info returns a running session's info.
func (ss *Sessions) Info(code string) (Info, bool) {
	r, ok := ss.room(code)
	if !ok {
		return Info{}, false
	}
	return *r.info.Load(), true
}

// Teacher reports whether token is the teacher's secret of session code.
func (ss *Sessions) Teacher(code, token string) bool {
	r, ok := ss.room(code)
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(r.teacherHash)) == 1
}

// JoinRequest is a student asking to join.
type JoinRequest struct {
	Learner  string // guest:ID or student:ID
	Nickname string // as typed; "" (or a session with generated names) gets a generated one
	Lang     string // the student's UI language, for a generated nickname
	// Addr is the address the request came from (its IP), for the limits
	// of joins per address (joinlimit.go); "" is not limited.
	Addr string
}

// Joined is a player who joined: Token is the secret their device keeps.
type Joined struct {
	Player, Nickname, Token string
}

// ErrNoSession is returned for a join code of no running session.
var ErrNoSession = &Error{Code: "no_session", Message: "no live session has that code"}

// Join adds a player to session code and returns once the player is
// stored.
func (ss *Sessions) Join(ctx context.Context, code string, req JoinRequest) (Joined, error) {
	r, ok := ss.room(code)
	if !ok {
		return Joined{}, ErrNoSession
	}
	if !ss.joins.allow(req.Addr, time.Now()) {
		return Joined{}, ErrJoinRate
	}
	reply := make(chan joinResult, 1)
	if !r.postCtx(ctx, joinReq{req: req, reply: reply}) {
		return Joined{}, failure.Errorf(failure.Unavailable, "the session is not running")
	}
	select {
	case res := <-reply:
		return res.joined, res.err
	case <-ctx.Done():
		return Joined{}, ctx.Err()
	}
}

// Player returns the id and nickname of the player whose device holds token
// in session code.
func (ss *Sessions) Player(ctx context.Context, code, token string) (id, nickname string, ok bool) {
	r, found := ss.room(code)
	if !found || token == "" {
		return "", "", false
	}
	reply := make(chan lookupResult, 1)
	if !r.postCtx(ctx, lookupReq{hash: HashToken(token), reply: reply}) {
		return "", "", false
	}
	select {
	case res := <-reply:
		return res.id, res.nickname, res.id != ""
	case <-ctx.Done():
		return "", "", false
	}
}

// ServeWS upgrades a request to a websocket of session code for role;
// secret is the player's or teacher's token (from their cookie). Who may
// connect is decided by the room after the upgrade, which refuses with a
// close frame whose code and reason the client can read.
func (ss *Sessions) ServeWS(w http.ResponseWriter, r *http.Request, code string, role Role, secret string) {
	rm, ok := ss.room(code)
	if !ok {
		http.Error(w, "no live session "+code, http.StatusNotFound)
		return
	}
	ws, err := ss.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := newConn(ws, rm, role, secret)
	open := ss.track(c)
	go c.writeLoop()
	if !open || !rm.post(register{c}) {
		c.close(CloseGoingAway, "the session is closing")
		return
	}
	go c.readLoop()
}

// NewToken returns a new random secret, URL-safe.
func NewToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic("live: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what is stored of a secret.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randIntN is a uniform random int in [0, n) from the system's randomness,
// for codes and nicknames nobody should guess.
func randIntN(n int) int {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("live: no randomness: " + err.Error())
	}
	return int(binary.LittleEndian.Uint64(b[:]) % uint64(n)) // n is tiny: the bias is negligible
}
