// Package school holds the people and groups of a school box: the
// teachers and admins who sign in with a password (User), the classes they
// teach (Class) and the students in them (Student). They are plain values:
// the box's store (internal/store) keeps them in SQLite, the roster and
// gradebook read and write them as files, and the pages show them. Student
// names never leave the box; the hub sees students by their ids.
package school

import "time"

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
}
