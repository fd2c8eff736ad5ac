// Package live runs live sessions: a teacher leads a class through questions
// on the school's LAN and every student answers from a browser.
//
// It has two halves. The session itself (Session, in session.go, question.go,
// nickname.go, results.go) is a pure state machine: it does no I/O, takes the time as an
// argument, and is tested with table tests. The transport (Sessions, in
// sessions.go, room.go, conn.go, persist.go) carries it over gorilla/websocket and stores every
// change; the wire protocol is written down in docs/live-protocol.md.
package live

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/learn"
)

// Phase is where a session is in its life:
//
//	lobby → open → closed → revealed → (board) → open → … → ended
//
// A question is asked in open (answers are taken), closed (answers are not
// taken any more), revealed (the right answer and the class's answers are
// shown) and, with points on, board (the leaderboard is shown). A session can
// end from every phase.
type Phase string

// The phases.
const (
	Lobby    Phase = "lobby"
	Open     Phase = "open"
	Closed   Phase = "closed"
	Revealed Phase = "revealed"
	Board    Phase = "board"
	Ended    Phase = "ended"
)

// Command is a teacher's order that moves the session from phase to phase.
type Command string

// The commands.
const (
	Start     Command = "start"  // lobby → open, the first question
	Next      Command = "next"   // closed, revealed or board → open, the next question
	Close     Command = "close"  // open → closed (the timer does it too)
	Reveal    Command = "reveal" // closed → revealed
	ShowBoard Command = "board"  // revealed → board, when points are on
	End       Command = "end"    // any phase but ended → ended
)

// Commands are every command, in the order a session uses them.
var Commands = []Command{Start, Next, Close, Reveal, ShowBoard, End}

// transitions says which phase each command leads to from each phase; a
// command missing for a phase is illegal there.
var transitions = map[Phase]map[Command]Phase{
	Lobby:    {Start: Open, End: Ended},
	Open:     {Close: Closed, End: Ended},
	Closed:   {Reveal: Revealed, Next: Open, End: Ended},
	Revealed: {ShowBoard: Board, Next: Open, End: Ended},
	Board:    {Next: Open, End: Ended},
	Ended:    {},
}

// Phases are every phase, in the order of a session.
var Phases = []Phase{Lobby, Open, Closed, Revealed, Board, Ended}

// Options are the teacher's choices for a session.
type Options struct {
	// Timer is how long each question stays open; 0 leaves it open until
	// the teacher closes it.
	Timer time.Duration `json:"-"`
	// Points: answers earn points (more for a quick right answer) and the
	// teacher may show a leaderboard. Off, nobody sees scores.
	Points bool
	// OnDevices: students see the question and the choices' texts on their
	// own device. Off, they see only answer buttons and read the question
	// on the projector.
	OnDevices bool
	// LateJoin: students may join after the first question was asked.
	LateJoin bool
	// GeneratedNames: the box gives every student a friendly nickname
	// instead of letting them type one.
	GeneratedNames bool
}

// Player is someone who joined a session.
type Player struct {
	ID string `json:"id"` // short, unique in the session
	// Learner is who the answers count for: "guest:ID" for a device
	// without a signed-in student, "student:ID" for a signed-in one.
	Learner  string    `json:"learner"`
	Nickname string    `json:"nickname"`
	Joined   time.Time `json:"joined"`
	Removed  bool      `json:"removed,omitempty"`
	// TokenHash is the hash of the secret the player's device holds; the
	// transport compares, the session only keeps it.
	TokenHash string `json:"-"`
	Score     int    `json:"score"` // points of stored answers
}

// Answer is a player's answer to one question.
type Answer struct {
	ID       string         `json:"id"` // made by the client: a resend carries the same id
	Player   string         `json:"player"`
	Question int            `json:"question"`
	Response learn.Response `json:"response"`
	Correct  bool           `json:"correct"`
	Score    float64        `json:"score"`  // fraction of full marks, 0 for a poll
	Points   int            `json:"points"` // 0 when points are off
	Elapsed  time.Duration  `json:"elapsed"`
	// Stored is set once the answer is durably stored; only stored answers
	// are acknowledged, counted and scored.
	Stored bool `json:"stored"`
}

// Limits of a session.
const (
	MaxPlayers = 10000
	maxPoints  = 1000 // for a right answer given at once
)

// Session is the state of one live session. It is not safe for concurrent
// use: one goroutine (the room) owns it.
type Session struct {
	ID        string
	Code      string
	Title     string
	Opts      Options
	Questions []Question

	phase    Phase
	current  int // the question asked, -1 in the lobby
	openedAt time.Time
	deadline time.Time // zero without a timer
	version  int64     // counts changes
	locked   bool      // the teacher locked joining: no new players

	players  map[string]*Player
	order    []string          // player ids in joining order
	nickOf   map[string]string // folded nickname → player id, for players not removed
	answers  []map[string]*Answer
	byID     map[string]*Answer
	nextID   int
	restored bool
}

// New returns a session in the lobby.
func New(id, code, title string, opts Options, questions []Question) (*Session, error) {
	if len(questions) == 0 {
		return nil, fmt.Errorf("live: a session needs at least one question")
	}
	if len(questions) > MaxQuestions {
		return nil, fmt.Errorf("live: a session has at most %d questions", MaxQuestions)
	}
	for i := range questions {
		if err := questions[i].Validate(); err != nil {
			return nil, fmt.Errorf("live: question %d: %w", i+1, err)
		}
	}
	if opts.Timer < 0 {
		opts.Timer = 0
	}
	s := &Session{
		ID: id, Code: code, Title: title, Opts: opts, Questions: questions,
		phase: Lobby, current: -1,
		players: map[string]*Player{}, nickOf: map[string]string{},
		answers: make([]map[string]*Answer, len(questions)), byID: map[string]*Answer{},
	}
	for i := range s.answers {
		s.answers[i] = map[string]*Answer{}
	}
	return s, nil
}

// Phase returns the session's phase.
func (s *Session) Phase() Phase { return s.phase }

// Current returns the index of the question being asked, -1 in the lobby.
func (s *Session) Current() int { return s.current }

// Version counts the session's changes: it grows with every one.
func (s *Session) Version() int64 { return s.version }

// Deadline returns when the open question closes by itself (zero if never).
func (s *Session) Deadline() time.Time { return s.deadline }

// OpenedAt returns when the current question was opened.
func (s *Session) OpenedAt() time.Time { return s.openedAt }

// Can reports whether c is legal now.
func (s *Session) Can(c Command) bool { return s.check(c, -1) == nil }

func (s *Session) check(c Command, expect int) error {
	to, ok := transitions[s.phase][c]
	if !ok {
		if s.phase == Ended {
			return ErrEnded
		}
		return ErrIllegal
	}
	if expect >= 0 && expect != s.current && c != End {
		return ErrStale
	}
	switch {
	case to == Open && s.current+1 >= len(s.Questions):
		return ErrNoMoreQuestions
	case to == Board && !s.Opts.Points:
		return ErrNoPoints
	}
	return nil
}

// Do carries out a teacher's command at time now. expect is the question
// the teacher's screen showed when they gave it (-1 to skip the check), so a
// double tap on "next" does not skip a question: it gets ErrStale.
func (s *Session) Do(now time.Time, c Command, expect int) error {
	if err := s.check(c, expect); err != nil {
		return err
	}
	to := transitions[s.phase][c]
	if to == Open {
		s.current++
		s.openedAt = now
		s.deadline = time.Time{}
		if s.Opts.Timer > 0 {
			s.deadline = now.Add(s.Opts.Timer)
		}
	}
	if to != Open {
		s.deadline = time.Time{}
	}
	s.phase = to
	s.version++
	return nil
}

// Locked reports whether the teacher locked joining.
func (s *Session) Locked() bool { return s.locked }

// Lock locks joining (or unlocks it): a locked session takes no new
// players; those who joined go on, and may reconnect.
func (s *Session) Lock(locked bool) error {
	if s.phase == Ended {
		return ErrEnded
	}
	if s.locked != locked {
		s.locked = locked
		s.version++
	}
	return nil
}

// Tick closes the open question if its timer ran out by now, and reports
// whether it did.
func (s *Session) Tick(now time.Time) bool {
	if s.phase != Open || s.deadline.IsZero() || now.Before(s.deadline) {
		return false
	}
	s.phase = Closed
	s.deadline = time.Time{}
	s.version++
	return true
}

// Join adds a player with a nickname (already checked with CheckNickname
// or made by a generator) and returns it.
func (s *Session) Join(now time.Time, learner, nickname, tokenHash string) (*Player, error) {
	switch {
	case s.phase == Ended:
		return nil, ErrEnded
	case s.locked:
		return nil, ErrLocked
	case s.phase != Lobby && !s.Opts.LateJoin:
		return nil, ErrLateJoin
	case s.activePlayers() >= MaxPlayers:
		return nil, ErrTooManyPlayers
	}
	nick, err := CheckNickname(nickname)
	if err != nil {
		return nil, err
	}
	if _, taken := s.nickOf[foldNickname(nick)]; taken {
		return nil, ErrNicknameTaken
	}
	s.nextID++
	p := &Player{ID: "p" + strconv.Itoa(s.nextID), Learner: learner, Nickname: nick, Joined: now, TokenHash: tokenHash}
	s.addPlayer(p)
	s.version++
	return p, nil
}

func (s *Session) addPlayer(p *Player) {
	s.players[p.ID] = p
	s.order = append(s.order, p.ID)
	if !p.Removed {
		s.nickOf[foldNickname(p.Nickname)] = p.ID
	}
}

func (s *Session) activePlayers() int { return len(s.nickOf) }

// Unjoin takes back a join that could not be stored, as if it never
// happened.
func (s *Session) Unjoin(id string) {
	p, ok := s.players[id]
	if !ok {
		return
	}
	delete(s.players, id)
	if s.nickOf[foldNickname(p.Nickname)] == id {
		delete(s.nickOf, foldNickname(p.Nickname))
	}
	for i, pid := range s.order {
		if pid == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.version++
}

// PlayerOfLearner returns the player, not removed, who joined as learner: a
// signed-in student who joins again from another device is that player.
func (s *Session) PlayerOfLearner(learner string) (*Player, bool) {
	for _, id := range s.order {
		if p := s.players[id]; p.Learner == learner && !p.Removed {
			return p, true
		}
	}
	return nil, false
}

// Rekey gives a player a new device secret (its hash).
func (s *Session) Rekey(id, tokenHash string) {
	if p, ok := s.players[id]; ok {
		p.TokenHash = tokenHash
		s.version++
	}
}

// NicknameFree reports whether nobody in the session has the nickname.
func (s *Session) NicknameFree(nick string) bool {
	_, taken := s.nickOf[foldNickname(nick)]
	return !taken
}

// Player returns a player by id, removed ones included.
func (s *Session) Player(id string) (*Player, bool) {
	p, ok := s.players[id]
	return p, ok
}

// PlayerCount is the number of players who were not removed.
func (s *Session) PlayerCount() int { return len(s.nickOf) }

// Players returns the players who were not removed, in joining order.
func (s *Session) Players() []*Player {
	out := make([]*Player, 0, len(s.nickOf))
	for _, id := range s.order {
		if p := s.players[id]; !p.Removed {
			out = append(out, p)
		}
	}
	return out
}

// Remove takes a player out of the session. Their stored answers stay (they
// are events), but they leave the leaderboard and cannot come back.
func (s *Session) Remove(id string) (*Player, error) {
	if s.phase == Ended {
		return nil, ErrEnded
	}
	p, ok := s.players[id]
	if !ok || p.Removed {
		return nil, ErrNoPlayer
	}
	p.Removed = true
	delete(s.nickOf, foldNickname(p.Nickname))
	s.version++
	return p, nil
}

// Rename gives a player another nickname: the teacher's answer to a rude
// one, with a nickname from the generator.
func (s *Session) Rename(id, nickname string) (*Player, error) {
	if s.phase == Ended {
		return nil, ErrEnded
	}
	p, ok := s.players[id]
	if !ok || p.Removed {
		return nil, ErrNoPlayer
	}
	nick, err := CheckNickname(nickname)
	if err != nil {
		return nil, err
	}
	if other, taken := s.nickOf[foldNickname(nick)]; taken && other != id {
		return nil, ErrNicknameTaken
	}
	delete(s.nickOf, foldNickname(p.Nickname))
	p.Nickname = nick
	s.nickOf[foldNickname(nick)] = id
	s.version++
	return p, nil
}

// Submit takes a player's answer to question q at time now. A resend of an
// answer already taken (same id, same player and question) returns the
// answer taken with dup set and changes nothing. A new answer is graded and
// kept, not yet Stored: the caller stores it durably, then calls Stored (or
// Forget when storing failed).
func (s *Session) Submit(now time.Time, player string, q int, id string, r learn.Response) (a *Answer, dup bool, err error) {
	if prev, ok := s.byID[id]; ok {
		if prev.Player != player || prev.Question != q {
			return nil, false, ErrIDConflict
		}
		return prev, true, nil
	}
	if _, err := ulid.ParseStrict(id); err != nil {
		return nil, false, ErrBadID
	}
	p, ok := s.players[player]
	switch {
	case !ok:
		return nil, false, ErrNoPlayer
	case p.Removed:
		return nil, false, ErrRemoved
	case s.phase == Ended:
		return nil, false, ErrEnded
	case s.phase == Lobby:
		return nil, false, ErrNotOpen
	case q < 0 || q >= len(s.Questions) || q > s.current:
		return nil, false, ErrWrongQuestion
	case q < s.current || s.phase != Open:
		return nil, false, ErrQuestionClosed
	case !s.deadline.IsZero() && !now.Before(s.deadline):
		return nil, false, ErrQuestionClosed
	}
	if prev, ok := s.answers[q][player]; ok && prev.ID != id {
		return nil, false, ErrAlreadyAnswered
	}
	question := &s.Questions[q]
	v, err := question.Grade(r)
	if err != nil {
		return nil, false, &Error{Code: ErrBadAnswer.Code, Message: ErrBadAnswer.Message, Err: err}
	}
	elapsed := max(now.Sub(s.openedAt), 0)
	a = &Answer{ID: id, Player: player, Question: q, Response: r, Correct: v.Correct, Score: v.Score, Elapsed: elapsed}
	if question.Kind() == Poll {
		a.Correct = false
	}
	a.Points = s.points(a)
	s.answers[q][player] = a
	s.byID[id] = a
	s.version++
	return a, false, nil
}

// points is what an answer earns: up to maxPoints for full marks, half of
// it at least, the other half shrinking as the timer runs down.
func (s *Session) points(a *Answer) int {
	if !s.Opts.Points || a.Score <= 0 {
		return 0
	}
	speed := 1.0
	if s.Opts.Timer > 0 {
		speed = 1 - math.Min(1, float64(a.Elapsed)/float64(s.Opts.Timer))/2
	}
	return int(math.Round(a.Score * maxPoints * speed))
}

// Stored marks an answer as durably stored: it now counts and scores.
func (s *Session) Stored(id string) (*Answer, bool) {
	a, ok := s.byID[id]
	if !ok || a.Stored {
		return a, false
	}
	a.Stored = true
	if p, ok := s.players[a.Player]; ok {
		p.Score += a.Points
	}
	s.version++
	return a, true
}

// Forget drops an answer that could not be stored, so the player may send
// it again.
func (s *Session) Forget(id string) {
	a, ok := s.byID[id]
	if !ok || a.Stored {
		return
	}
	delete(s.byID, id)
	delete(s.answers[a.Question], a.Player)
	s.version++
}

// AnswerOf returns a player's answer to question q, stored or not.
func (s *Session) AnswerOf(player string, q int) (*Answer, bool) {
	if q < 0 || q >= len(s.answers) {
		return nil, false
	}
	a, ok := s.answers[q][player]
	return a, ok
}

// Snapshot is what is kept of a session to resume it after a restart; the
// players and their stored answers are kept with it.
type Snapshot struct {
	Phase   Phase
	Current int
	// Version is the session's version when the snapshot was taken. A
	// restored session counts on from above it, so that what it stores
	// after the restart is newer than anything stored before.
	Version int64
	Locked  bool // joining is locked
}

// Snapshot returns the session's phase, question, version and lock.
func (s *Session) Snapshot() Snapshot {
	return Snapshot{Phase: s.phase, Current: s.current, Version: s.version, Locked: s.locked}
}

// Restore rebuilds a session after a restart, at time now, from its stored
// phase, players and answers. A question that was open is open again with
// a full timer: the box cannot know how long it was off.
func Restore(now time.Time, base *Session, snap Snapshot, players []Player, answers []Answer) (*Session, error) {
	s := base
	if _, ok := transitions[snap.Phase]; !ok {
		return nil, fmt.Errorf("live: restore %s: unknown phase %q", s.Code, snap.Phase)
	}
	if snap.Current < -1 || snap.Current >= len(s.Questions) || (snap.Phase == Lobby) != (snap.Current == -1) && snap.Phase != Ended {
		return nil, fmt.Errorf("live: restore %s: question %d in phase %s", s.Code, snap.Current, snap.Phase)
	}
	s.phase, s.current, s.locked = snap.Phase, snap.Current, snap.Locked
	if s.phase == Open {
		s.openedAt = now
		if s.Opts.Timer > 0 {
			s.deadline = now.Add(s.Opts.Timer)
		}
	}
	for i := range players {
		p := players[i]
		p.Score = 0
		s.addPlayer(&p)
		if n, err := strconv.Atoi(p.ID[min(1, len(p.ID)):]); err == nil && n > s.nextID {
			s.nextID = n
		}
	}
	for i := range answers {
		a := answers[i]
		p, ok := s.players[a.Player]
		if !ok || a.Question < 0 || a.Question >= len(s.Questions) {
			return nil, fmt.Errorf("live: restore %s: answer %s of unknown player %q or question %d", s.Code, a.ID, a.Player, a.Question)
		}
		a.Stored = true
		s.answers[a.Question][a.Player] = &a
		s.byID[a.ID] = &a
		p.Score += a.Points
	}
	s.restored = true
	// Versions only grow, across any number of restarts: a version that
	// began again from zero would make every state stored after the
	// restart look older than the one stored before it.
	s.version = max(s.version, snap.Version) + 1
	return s, nil
}

// Restored reports whether the session was rebuilt after a restart.
func (s *Session) Restored() bool { return s.restored }
