package live

import (
	"encoding/json"
	"time"

	"github.com/mitstem/stembox/internal/learn"
)

// The wire protocol: JSON text frames, one message per frame, each with a
// "type". docs/live-protocol.md describes every message; keep it in step.

// Roles of a connection.
type Role string

// The roles.
const (
	RoleStudent Role = "student" // a player: answers
	RoleTeacher Role = "teacher" // holds the control token: commands
	RoleScreen  Role = "screen"  // the projector: watches, needs no secret
)

// Error codes of the transport (the state machine's are in errors.go).
const (
	CodeBadJSON      = "bad_json"      // the frame is not a JSON object
	CodeBadFrame     = "bad_frame"     // a binary frame
	CodeBadMessage   = "bad_message"   // a known type with missing or malformed fields
	CodeUnknownType  = "unknown_type"  // a type the server does not know
	CodeNotAllowed   = "not_allowed"   // a message the connection's role may not send
	CodeWrongSession = "wrong_session" // the message names another session
	CodeRateLimited  = "rate_limited"  // too many messages: this one was dropped
	CodeBusy         = "busy"          // the box has too many answers waiting to be stored: send again
	CodeStoreFailed  = "store_failed"  // the box could not store the answer: send again
	CodeNotJoined    = "not_joined"    // no player of this session holds that secret
	CodeUnauthorized = "unauthorized"  // the teacher's secret is wrong
)

// Close codes (RFC 6455 leaves 4000–4999 to applications), with the reason
// sent in the close frame.
const (
	CloseReplaced     = 4000 // the same player or teacher connected again elsewhere
	CloseNotJoined    = 4001 // no such player: join again
	CloseRemoved      = 4003 // the teacher removed the player
	CloseSlow         = 4008 // the connection could not keep up; reconnect
	CloseUnauthorized = 4010 // wrong teacher secret
	CloseFlood        = 1008 // policy violation: far too many messages
	CloseTooBig       = 1009 // a frame over the read limit (gorilla sends it)
	CloseGoingAway    = 1001 // the box is shutting down
)

// inMsg is any message a client sends; which fields matter depends on Type.
type inMsg struct {
	Type    string  `json:"type"`
	Session string  `json:"session,omitempty"` // the join code, optional: checked when present
	Q       *int    `json:"q,omitempty"`       // answer: the question; commands: the question the teacher saw
	ID      string  `json:"id,omitempty"`      // answer: the client-made ULID
	Choices []int   `json:"choices,omitempty"` // answer
	Text    *string `json:"text,omitempty"`    // answer
	Player  string  `json:"player,omitempty"`  // kick, rename
	// kick: more players at once, and everyone who joined from the
	// address any of them joined from.
	Players     []string `json:"players,omitempty"`
	SameAddress bool     `json:"same_address,omitempty"`
}

// Limits on what a client may send.
const (
	maxMessageBytes = 2048 // an answer is well under 200 bytes
	maxAnswerRunes  = 200
	maxAnswerChoice = 16
	maxKick         = 200 // players in one kick
)

// Message types a client sends.
const (
	msgAnswer = "answer"
	msgSync   = "sync"
	msgKick   = "kick"
	msgRename = "rename"
	msgLock   = "lock"   // the teacher locks joining
	msgUnlock = "unlock" // and unlocks it
)

// studentMessages and teacherMessages are what each role may send; a screen
// may only ask for the state.
var (
	studentMessages = map[string]bool{msgAnswer: true, msgSync: true}
	teacherMessages = map[string]bool{msgSync: true, msgKick: true, msgRename: true, msgLock: true, msgUnlock: true,
		string(Start): true, string(Next): true, string(Close): true, string(Reveal): true, string(ShowBoard): true, string(End): true}
	knownMessages = map[string]bool{msgAnswer: true, msgSync: true, msgKick: true, msgRename: true, msgLock: true, msgUnlock: true,
		string(Start): true, string(Next): true, string(Close): true, string(Reveal): true, string(ShowBoard): true, string(End): true}
)

// Messages the server sends.

type errorMsg struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"` // the answer id or the command it refuses
}

type lockedMsg struct {
	Type   string `json:"type"` // "locked"
	Locked bool   `json:"locked"`
}

type ackMsg struct {
	Type string `json:"type"` // "ack"
	ID   string `json:"id"`
	Q    int    `json:"q"`
}

// questionView is a question as a connection sees it. For students of a
// session that shows questions only on the projector, Prompt and Choices'
// texts are left out (Choices keeps their number as empty strings).
type questionView struct {
	Q           int        `json:"q"`
	N           int        `json:"n"` // questions in the session
	Kind        learn.Kind `json:"kind"`
	Prompt      string     `json:"prompt,omitempty"` // an HTML fragment
	Choices     []string   `json:"choices,omitempty"`
	Unit        string     `json:"unit,omitempty"`
	Lang        string     `json:"lang,omitempty"`
	TimeMS      int64      `json:"time_ms,omitempty"`      // the timer, 0 for none
	RemainingMS int64      `json:"remaining_ms,omitempty"` // left when the message was made
}

type questionMsg struct {
	Type string `json:"type"` // "question"
	questionView
}

type closedMsg struct {
	Type string `json:"type"` // "closed"
	Q    int    `json:"q"`
}

type revealView struct {
	Q        int    `json:"q"`
	Right    []int  `json:"right,omitempty"`    // the choices that earn credit
	Solution string `json:"solution,omitempty"` // true/false, number or text (HTML)
	Bars     []Bar  `json:"bars,omitempty"`     // screens and teachers only
	Answered int    `json:"answered"`
	Players  int    `json:"players"`
}

type revealMsg struct {
	Type string `json:"type"` // "reveal"
	revealView
}

// resultView is a player's own result on a question and overall.
type resultView struct {
	Q        int  `json:"q"`
	Answered bool `json:"answered"`
	Correct  bool `json:"correct"`
	Points   int  `json:"points"`
	Score    int  `json:"score"`
	Rank     int  `json:"rank,omitempty"` // with points on
	Of       int  `json:"of,omitempty"`   // players ranked
}

type resultMsg struct {
	Type string `json:"type"` // "result"
	resultView
}

type boardMsg struct {
	Type  string     `json:"type"` // "board"
	Board []Standing `json:"board"`
}

type endedMsg struct {
	Type  string     `json:"type"` // "ended"
	Board []Standing `json:"board,omitempty"`
}

type playerView struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Online   bool   `json:"online"`
}

type playersMsg struct {
	Type     string       `json:"type"` // "players"
	Count    int          `json:"count"`
	Online   int          `json:"online"`
	Add      []playerView `json:"add,omitempty"`    // joined, renamed or came online/offline
	Remove   []string     `json:"remove,omitempty"` // removed by the teacher
	Answered int          `json:"answered"`
}

type countsMsg struct {
	Type     string `json:"type"` // "counts"
	Q        int    `json:"q"`
	Answered int    `json:"answered"`
	Players  int    `json:"players"`
}

type youMsg struct {
	Type     string `json:"type"` // "you"
	Player   string `json:"player"`
	Nickname string `json:"nickname"`
	Score    int    `json:"score"`
}

type optionsView struct {
	TimerMS   int64 `json:"timer_ms"`
	Points    bool  `json:"points"`
	OnDevices bool  `json:"on_devices"`
	LateJoin  bool  `json:"late_join"`
}

// answerView is a player's own answer, as the state gives it back after a
// reconnect.
type answerView struct {
	ID      string `json:"id"`
	Q       int    `json:"q"`
	Choices []int  `json:"choices,omitempty"`
	Text    string `json:"text,omitempty"`
	Stored  bool   `json:"stored"`
}

// stateMsg is the whole state as one connection sees it: sent when it
// connects and when it asks ("sync").
type stateMsg struct {
	Type     string        `json:"type"` // "state"
	Role     Role          `json:"role"`
	Session  string        `json:"session"` // the join code
	Title    string        `json:"title"`
	Phase    Phase         `json:"phase"`
	Q        int           `json:"q"`
	N        int           `json:"n"`
	Options  optionsView   `json:"options"`
	Locked   bool          `json:"locked"` // the teacher locked joining
	Question *questionView `json:"question,omitempty"`
	Reveal   *revealView   `json:"reveal,omitempty"`
	Board    []Standing    `json:"board,omitempty"`
	// Students.
	Me     *youMsg     `json:"me,omitempty"`
	Answer *answerView `json:"answer,omitempty"`
	Result *resultView `json:"result,omitempty"`
	// Screens and teachers.
	Players  []playerView `json:"players,omitempty"`
	Count    int          `json:"count"`
	Online   int          `json:"online"`
	Answered int          `json:"answered"`
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("live: marshal: " + err.Error()) // our own types: cannot fail
	}
	return b
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
