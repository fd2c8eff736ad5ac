package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
)

// Event is one immutable learner action or roster change: the unit of
// upstream sync.
type Event struct {
	Seq     int64           // box-local, gap-free, from 1
	ID      string          // global ULID
	Kind    string          // e.g. answer.submitted
	Actor   string          // who did it: "guest:ID", "student:ID", "user:ID", "box"
	Wall    time.Time       // the box's wall clock (may be wrong)
	BootID  string          // the kernel's boot id
	Uptime  time.Duration   // time since that boot
	Payload json.RawMessage // a small JSON object, the kind's payload
}

// ValidID reports whether id is a well-formed event id (a ULID), as clients
// that queue answers offline make their own.
func ValidID(id string) bool {
	_, err := ulid.ParseStrict(id)
	return err == nil && len(id) == ulid.EncodedSize
}

// Payload is the payload of a kind this package defines: one of the structs
// of kinds.go.
type Payload interface {
	// EventKind is the kind (with its version) whose payload this is.
	EventKind() string
	// validate reports what a payload misses that its kind requires.
	validate() error
}

// InvalidError says a payload breaks its kind's contract.
type InvalidError struct {
	Kind   string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("event: %s payload: %s", e.Kind, e.Reason)
}

func invalid(kind, format string, args ...any) error {
	return &InvalidError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// Marshal validates p and returns it as its kind's JSON payload.
func Marshal(p Payload) (json.RawMessage, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("event: encode %s: %w", p.EventKind(), err)
	}
	return b, nil
}

// New returns an event of p's kind with its payload, for the box to stamp
// with a sequence number and clocks as it stores it.
func New(id, actor string, p Payload) (Event, error) {
	b, err := Marshal(p)
	if err != nil {
		return Event{}, err
	}
	return Event{ID: id, Kind: p.EventKind(), Actor: actor, Payload: b}, nil
}

// Decode returns a payload of a known kind as its struct (Answer,
// LiveResponse, …, as a value); an *InvalidError when it is not a JSON
// object of the right shape. It does not Check what the kind requires, so
// that history written before a requirement can still be read. Keys the
// struct does not have are ignored (they are a newer writer's optional
// keys). For a kind this package does not know it returns nil and no
// error: such events pass through untouched.
func Decode(kind string, payload []byte) (Payload, error) {
	s, ok := specs[kind]
	if !ok {
		return nil, nil
	}
	if !bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{")) {
		return nil, invalid(kind, "not a JSON object")
	}
	p, err := s.decode(payload)
	if err != nil {
		return nil, invalid(kind, "%v", err)
	}
	return p, nil
}

// Check returns an *InvalidError when p misses what its kind requires.
func Check(p Payload) error { return p.validate() }

// Validate checks a payload against its kind's contract: Decode, then
// Check. A kind this package does not know passes.
func Validate(kind string, payload []byte) error {
	p, err := Decode(kind, payload)
	if err != nil || p == nil {
		return err
	}
	return p.validate()
}

// Known reports whether this package defines kind.
func Known(kind string) bool {
	_, ok := specs[kind]
	return ok
}

// Version returns the payload version of a kind, 0 for an unknown kind.
func Version(kind string) int {
	return specs[kind].version
}

// Kinds returns every kind this package defines, sorted.
func Kinds() []string {
	out := make([]string, 0, len(specs))
	for k := range specs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// spec is what this package knows of a kind.
type spec struct {
	version int
	decode  func([]byte) (Payload, error)
}

// decoder decodes the payload struct P.
func decoder[P Payload]() func([]byte) (Payload, error) {
	return func(b []byte) (Payload, error) {
		var p P
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, err
		}
		return p, nil
	}
}

// Attempt is an answer to an item of a pack, whichever kind carries it:
// what progress, mastery and reports count.
type Attempt struct {
	Pack, Set, Item string
	Correct         bool
	Score           float64
	Answer          string // the text typed, or else the picked choices as JSON ("" for neither)
	// Poll marks an answer to a poll of a pack's set: recorded (the box
	// shows it with the learner's answers and in item analysis) but never
	// right or wrong, so mastery and reports leave it out.
	Poll bool
}

// AttemptOf returns the attempt a payload carries, if it carries one: every
// answer.submitted does, and a live.response to a scored item of a pack (a
// poll, or a question the teacher typed, does not).
func AttemptOf(p Payload) (Attempt, bool) {
	switch p := p.(type) {
	case Answer:
		a := attempt(p.Pack, p.Set, p.Item, p.Correct, p.Score, p.Text, p.Choices)
		a.Poll = p.Kind == QuestionPoll
		return a, true
	case LiveResponse:
		if p.Pack == "" || p.Item == "" || p.Kind == QuestionPoll {
			return Attempt{}, false
		}
		return attempt(p.Pack, p.Set, p.Item, p.Correct, p.Score, p.Text, p.Choices), true
	}
	return Attempt{}, false
}

func attempt(pack, set, item string, correct bool, score float64, text string, choices []int) Attempt {
	a := Attempt{Pack: pack, Set: set, Item: item, Correct: correct, Score: score, Answer: text}
	if a.Answer == "" && len(choices) > 0 {
		b, _ := json.Marshal(choices)
		a.Answer = string(b)
	}
	return a
}
