// Package school holds the people and groups of a school box: the
// teachers and admins who sign in with a password (User), the classes they
// teach (Class) and the students in them (Student). They are plain values:
// the box's store (internal/store) keeps them in SQLite, the roster and
// gradebook read and write them as files, and the pages show them. Student
// names never leave the box; the hub sees students by their ids.
package school

import (
	"strings"
	"time"
)

// Roles of users who sign in with a password.
const (
	RoleAdmin   = "admin"
	RoleTeacher = "teacher"
)

// User is an admin or a teacher.
type User struct {
	ID, Role, Username, DisplayName string
	PasswordHash                    string
	Created                         time.Time
}

// Sign-in modes of a class.
const (
	SignInName    = "name"    // tap your name
	SignInPIN     = "pin"     // and type a 4-digit PIN
	SignInPicture = "picture" // and pick two pictures
)

// DefaultMastery is the rule a new class starts with (learn.DefaultMastery).
const DefaultMastery = "last:4/5"

// Class is a class of students.
type Class struct {
	ID, Name, Code, SignIn, Mastery string
	Grade                           int
	Created                         time.Time
}

// Student is a learner in a class. Gender is recorded for the programme's
// gender-disaggregated reports and never shown to other students.
type Student struct {
	ID, ClassID, Name, Gender, ExternalID string
	BirthYear                             int // 0 when unknown
	HasSecret                             bool
	SecretHash                            string
	SecretKind                            string // SignInPIN or SignInPicture when HasSecret
}

// LearnerID is how a student appears as the actor of events.
func (s Student) LearnerID() string { return "student:" + s.ID }

// LearnerIDs returns the students' learner ids, in order.
func LearnerIDs(students []Student) []string {
	ids := make([]string, len(students))
	for i, s := range students {
		ids[i] = s.LearnerID()
	}
	return ids
}

// NewStudent is a student to add to a class.
type NewStudent struct {
	Name, Gender, ExternalID string
	BirthYear                int
	SecretHash               string // "" for none
	SecretKind               string // SignInPIN (the default for a hash) or SignInPicture
}

// codeLookalikes maps the Cyrillic letters a student on a Russian or Tajik
// keyboard types for the Latin letters of a code, and drops spaces and
// dashes. (Built once: a Replacer is read-only once made.)
var codeLookalikes = strings.NewReplacer(
	"А", "A", "С", "C", "Е", "E", "Н", "H", "К", "K", "М", "M", "Р", "P", "Т", "T", "Х", "X", "У", "Y", "В", "B", "О", "O",
	"а", "A", "с", "C", "е", "E", "н", "H", "к", "K", "м", "M", "р", "P", "т", "T", "х", "X", "у", "Y", "в", "B", "о", "O",
	" ", "", "-", "", "\t", "",
)

// ReadCode reads a code (a class's or a live session's) as a student types
// it: case, spaces and dashes do not matter, nor Cyrillic letters that look
// like the code's Latin ones ("кн7" is "KH7"). Whether the result is a
// code at all is for the caller to say.
func ReadCode(typed string) string {
	return strings.ToUpper(codeLookalikes.Replace(strings.TrimSpace(typed)))
}
