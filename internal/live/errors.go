package live

// Error is a refusal of the session's rules: a command that is illegal in
// the current phase, an answer that comes too late, a nickname that is taken.
// Code is the stable error code of the wire protocol (docs/live-protocol.md);
// Message is English for logs and tests, the UI translates by code.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, such as a learn error for a response that is not an answer
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match errors by code, so a wrapped bad-answer error
// matches ErrBadAnswer.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Refusals of the state machine. Transport-level refusals (malformed frames,
// floods, …) are in protocol.go.
var (
	ErrIllegal         = &Error{Code: "illegal", Message: "that command is not allowed now"}
	ErrNoMoreQuestions = &Error{Code: "no_more_questions", Message: "this was the last question"}
	ErrNoPoints        = &Error{Code: "no_points", Message: "the session has no points, so no leaderboard"}
	ErrStale           = &Error{Code: "stale", Message: "the command was meant for another question"}
	ErrEnded           = &Error{Code: "ended", Message: "the session has ended"}
	ErrLateJoin        = &Error{Code: "late_join", Message: "the session has started and takes no late joiners"}
	ErrNicknameTaken   = &Error{Code: "nickname_taken", Message: "someone in the session already has that nickname"}
	ErrNicknameInvalid = &Error{Code: "nickname_invalid", Message: "a nickname has 1 to 24 letters, digits or spaces"}
	ErrTooManyPlayers  = &Error{Code: "full", Message: "the session has as many players as it can take"}
	ErrLocked          = &Error{Code: "locked", Message: "the teacher has locked joining this session"}
	ErrJoinRate        = &Error{Code: "too_many_joins", Message: "too many joins from this address: wait a few seconds"}
	ErrAddressFull     = &Error{Code: "address_full", Message: "as many players have joined from this address as the session takes from one"}
	ErrNoPlayer        = &Error{Code: "no_player", Message: "no such player in this session"}
	ErrRemoved         = &Error{Code: "removed", Message: "the teacher removed this player from the session"}
	ErrNotOpen         = &Error{Code: "not_open", Message: "no question is open for answers"}
	ErrQuestionClosed  = &Error{Code: "question_closed", Message: "answering this question is closed"}
	ErrWrongQuestion   = &Error{Code: "wrong_question", Message: "that question is not the one being asked"}
	ErrAlreadyAnswered = &Error{Code: "already_answered", Message: "this question was already answered"}
	ErrIDConflict      = &Error{Code: "id_conflict", Message: "that answer id was used for another answer"}
	ErrBadID           = &Error{Code: "bad_id", Message: "an answer needs an id made by the client (a ULID)"}
	ErrBadAnswer       = &Error{Code: "bad_answer", Message: "the response is not an answer to this question"}
)
