package event

import "time"

// The kinds of events. Version 1 of a kind is its plain name (doc.go).
const (
	KindAnswerSubmitted    = "answer.submitted"     // Answer
	KindLiveResponse       = "live.response"        // LiveResponse
	KindLessonCompleted    = "lesson.completed"     // LessonCompleted
	KindUserCreated        = "user.created"         // UserCreated
	KindClassCreated       = "class.created"        // ClassCreated
	KindClassUpdated       = "class.updated"        // ClassUpdated
	KindStudentCreated     = "student.created"      // StudentCreated
	KindStudentSecretReset = "student.secret_reset" // StudentSecretReset
	KindAssignmentCreated  = "assignment.created"   // AssignmentCreated
	KindAssignmentRemoved  = "assignment.removed"   // AssignmentRemoved
)

// specs are the kinds this package defines: adding a kind adds a line.
var specs = map[string]spec{
	KindAnswerSubmitted:    {1, decoder[Answer]()},
	KindLiveResponse:       {1, decoder[LiveResponse]()},
	KindLessonCompleted:    {1, decoder[LessonCompleted]()},
	KindUserCreated:        {1, decoder[UserCreated]()},
	KindClassCreated:       {1, decoder[ClassCreated]()},
	KindClassUpdated:       {1, decoder[ClassUpdated]()},
	KindStudentCreated:     {1, decoder[StudentCreated]()},
	KindStudentSecretReset: {1, decoder[StudentSecretReset]()},
	KindAssignmentCreated:  {1, decoder[AssignmentCreated]()},
	KindAssignmentRemoved:  {1, decoder[AssignmentRemoved]()},
	KindAppResult:          {1, decoder[AppResult]()},
	KindStudioPublished:    {1, decoder[StudioPublished]()},
}

// QuestionPoll is the kind of a live question with no right answer.
const QuestionPoll = "poll"

// required returns an error naming the first key whose value is empty, of
// pairs of key and value.
func required(kind string, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			return invalid(kind, "%q is required", kv[i])
		}
	}
	return nil
}

// Answer is an answer.submitted payload: a graded answer to an exercise
// item, the actor being the learner.
type Answer struct {
	ID          string   `json:"-"` // the event's id: made by the client for offline answers, else by the box
	Learner     string   `json:"-"` // the event's actor
	Pack        string   `json:"pack"`
	PackVersion string   `json:"version"` // of the pack, as graded
	Set         string   `json:"set"`     // the exercise set
	Item        string   `json:"item"`
	Lang        string   `json:"lang"` // the language it was shown in
	Choices     []int    `json:"choices,omitempty"`
	Text        string   `json:"text,omitempty"`
	Correct     bool     `json:"correct"`
	Score       float64  `json:"score"`          // 0 to 1
	Kind        string   `json:"kind,omitempty"` // "poll" for a poll (never correct, counts for no score); else empty
	Feedback    []string `json:"-"`              // not in the payload: shown with the verdict, derived from the pack
	// Age is how long before it reached the box the answer was given, by
	// the device's clock (an answer kept on a device while the box was
	// away); not in the payload: the event is dated that much earlier.
	Age time.Duration `json:"-"`
}

func (Answer) EventKind() string { return KindAnswerSubmitted }

func (a Answer) validate() error {
	return required(KindAnswerSubmitted, "pack", a.Pack, "set", a.Set, "item", a.Item)
}

// LiveResponse is a live.response payload: an answer in a live session,
// the actor being the learner. Nicknames are not in it: names stay on the
// box.
type LiveResponse struct {
	ID          string  `json:"-"` // the event's id, made by the client
	Learner     string  `json:"-"` // the event's actor
	Session     string  `json:"session"`
	Question    int     `json:"question"` // 0-based, in the session
	Player      string  `json:"player"`
	Item        string  `json:"item"`
	Kind        string  `json:"kind"`           // the question's kind: choice, multi, …, or poll (no right answer)
	Pack        string  `json:"pack,omitempty"` // empty for a question the teacher typed
	PackVersion string  `json:"version,omitempty"`
	Set         string  `json:"set,omitempty"`
	Lang        string  `json:"lang"`
	Choices     []int   `json:"choices,omitempty"`
	Text        string  `json:"text,omitempty"`
	Correct     bool    `json:"correct"`
	Score       float64 `json:"score"`
	Points      int     `json:"points"`
	ElapsedMS   int64   `json:"elapsed_ms"` // from the question's opening to the answer
}

func (LiveResponse) EventKind() string { return KindLiveResponse }

func (r LiveResponse) validate() error {
	if r.Question < 0 {
		return invalid(KindLiveResponse, "question %d is negative", r.Question)
	}
	return required(KindLiveResponse, "session", r.Session, "player", r.Player)
}

// LessonCompleted is a lesson.completed payload: the actor finished
// reading a lesson.
type LessonCompleted struct {
	Lesson  string `json:"lesson"`
	Pack    string `json:"pack"`
	Version string `json:"version"` // of the pack
}

func (LessonCompleted) EventKind() string { return KindLessonCompleted }

func (l LessonCompleted) validate() error {
	return required(KindLessonCompleted, "pack", l.Pack, "lesson", l.Lesson)
}

// UserCreated is a user.created payload: an admin or a teacher was added.
type UserCreated struct {
	Role string `json:"role"` // admin or teacher
	User string `json:"user"` // the user's id
}

func (UserCreated) EventKind() string { return KindUserCreated }

func (u UserCreated) validate() error {
	return required(KindUserCreated, "user", u.User, "role", u.Role)
}

// ClassCreated is a class.created payload.
type ClassCreated struct {
	Class   string `json:"class"` // the class's id
	Grade   int    `json:"grade"` // 1 to 12
	Name    string `json:"name"`  // e.g. "7A"
	Teacher string `json:"teacher"`
}

func (ClassCreated) EventKind() string { return KindClassCreated }

func (c ClassCreated) validate() error {
	if c.Grade < 1 || c.Grade > 12 {
		return invalid(KindClassCreated, "grade %d is not 1–12", c.Grade)
	}
	return required(KindClassCreated, "class", c.Class)
}

// ClassUpdated is a class.updated payload: its sign-in mode and mastery
// rule as they now are.
type ClassUpdated struct {
	Class   string `json:"class"`
	Mastery string `json:"mastery"` // all | streak:N | last:M/N
	SignIn  string `json:"sign_in"` // name | pin | picture
}

func (ClassUpdated) EventKind() string { return KindClassUpdated }

func (c ClassUpdated) validate() error { return required(KindClassUpdated, "class", c.Class) }

// StudentCreated is a student.created payload: what the hub needs of a
// student (a pseudonymous id, class, gender, birth year); the name stays on
// the box.
type StudentCreated struct {
	BirthYear int    `json:"birth_year"` // 0 when not given
	Class     string `json:"class"`
	Gender    string `json:"gender"` // female | male | unspecified
	Student   string `json:"student"`
}

func (StudentCreated) EventKind() string { return KindStudentCreated }

func (s StudentCreated) validate() error {
	return required(KindStudentCreated, "student", s.Student, "class", s.Class)
}

// StudentSecretReset is a student.secret_reset payload: a student's PIN or
// picture was set again (the secret is not in it).
type StudentSecretReset struct {
	Student string `json:"student"`
}

func (StudentSecretReset) EventKind() string { return KindStudentSecretReset }

func (s StudentSecretReset) validate() error {
	return required(KindStudentSecretReset, "student", s.Student)
}

// AssignmentCreated is an assignment.created payload: a teacher gave a
// class a lesson or an exercise set.
type AssignmentCreated struct {
	Assignment string `json:"assignment"`
	Class      string `json:"class"`
	Kind       string `json:"kind"` // lesson, set or app
	Pack       string `json:"pack"`
	Ref        string `json:"ref"` // the lesson's or the set's id
}

func (AssignmentCreated) EventKind() string { return KindAssignmentCreated }

func (a AssignmentCreated) validate() error {
	return required(KindAssignmentCreated, "assignment", a.Assignment, "class", a.Class, "pack", a.Pack, "kind", a.Kind, "ref", a.Ref)
}

// AssignmentRemoved is an assignment.removed payload.
type AssignmentRemoved struct {
	Assignment string `json:"assignment"`
	Class      string `json:"class"`
}

func (AssignmentRemoved) EventKind() string { return KindAssignmentRemoved }

func (a AssignmentRemoved) validate() error {
	return required(KindAssignmentRemoved, "assignment", a.Assignment, "class", a.Class)
}
