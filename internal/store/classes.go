package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/school"
)

// CreateClass adds a class taught by teacherID, with a fresh class code.
func (db *DB) CreateClass(ctx context.Context, actor, name string, grade int, teacherID string) (school.Class, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 60 {
		return school.Class{}, failure.Errorf(failure.Invalid, "a class name is 1–60 characters")
	}
	if grade < 1 || grade > 12 {
		return school.Class{}, failure.Errorf(failure.Invalid, "grade %d is not between 1 and 12", grade)
	}
	c := school.Class{ID: db.NewID(), Name: name, Grade: grade, SignIn: school.SignInName, Mastery: school.DefaultMastery, Created: db.clock.Now().Wall}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for try := 0; ; try++ {
			c.Code = NewCode(5)
			_, err := tx.ExecContext(ctx, "INSERT INTO classes (id, name, grade, code, sign_in, mastery, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
				c.ID, c.Name, c.Grade, c.Code, c.SignIn, c.Mastery, c.Created.UnixMilli())
			if isUnique(err) && try < 10 {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: create class: %w", describe(err))
			}
			break
		}
		if teacherID != "" {
			if _, err := tx.ExecContext(ctx, "INSERT INTO class_teachers (class_id, user_id) VALUES (?, ?)", c.ID, teacherID); err != nil {
				return fmt.Errorf("store: class teacher: %w", describe(err))
			}
		}
		return db.event(ctx, tx, actor, event.ClassCreated{Class: c.ID, Name: c.Name, Grade: c.Grade, Teacher: teacherID})
	})
	if err != nil {
		return school.Class{}, err
	}
	return c, nil
}

// UpdateClass changes a class's sign-in mode and mastery rule.
func (db *DB) UpdateClass(ctx context.Context, actor, classID, signIn, mastery string) error {
	if signIn != school.SignInName && signIn != school.SignInPIN && signIn != school.SignInPicture {
		return failure.Errorf(failure.Invalid, "unknown sign-in mode %q", signIn)
	}
	if _, err := learn.ParseMasteryRule(mastery); err != nil {
		return failure.Wrap(failure.Invalid, err, err.Error())
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE classes SET sign_in = ?, mastery = ? WHERE id = ?", signIn, mastery, classID)
		if err != nil {
			return fmt.Errorf("store: update class: %w", describe(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no class %s", classID)
		}
		return db.event(ctx, tx, actor, event.ClassUpdated{Class: classID, SignIn: signIn, Mastery: mastery})
	})
}

const classColumns = "c.id, c.name, c.grade, c.code, c.sign_in, c.mastery, c.created_ms"

func scanClass(row interface{ Scan(...any) error }) (school.Class, error) {
	var c school.Class
	var created int64
	err := row.Scan(&c.ID, &c.Name, &c.Grade, &c.Code, &c.SignIn, &c.Mastery, &created)
	c.Created = time.UnixMilli(created)
	return c, err
}

func (db *DB) classes(ctx context.Context, query string, args ...any) ([]school.Class, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: classes: %w", err)
	}
	defer rows.Close()
	var out []school.Class
	for rows.Next() {
		c, err := scanClass(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Classes lists every class, by grade and name.
func (db *DB) Classes(ctx context.Context) ([]school.Class, error) {
	return db.classes(ctx, "SELECT "+classColumns+" FROM classes c ORDER BY c.grade, c.name COLLATE NOCASE")
}

// ClassesOf lists the classes a teacher teaches.
func (db *DB) ClassesOf(ctx context.Context, teacherID string) ([]school.Class, error) {
	return db.classes(ctx, "SELECT "+classColumns+" FROM classes c JOIN class_teachers t ON t.class_id = c.id WHERE t.user_id = ? ORDER BY c.grade, c.name COLLATE NOCASE", teacherID)
}

// Class returns a class by id.
func (db *DB) Class(ctx context.Context, id string) (school.Class, error) {
	c, err := scanClass(db.read.QueryRowContext(ctx, "SELECT "+classColumns+" FROM classes c WHERE c.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return school.Class{}, failure.Errorf(failure.NotFound, "no class %s", id)
	}
	return c, err
}

// ClassByCode returns a class by its code, read as a student types it
// (school.ReadCode: case, spaces and Cyrillic look-alikes do not matter).
func (db *DB) ClassByCode(ctx context.Context, code string) (school.Class, error) {
	c, err := scanClass(db.read.QueryRowContext(ctx, "SELECT "+classColumns+" FROM classes c WHERE c.code = ?", school.ReadCode(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return school.Class{}, failure.Errorf(failure.NotFound, "no class has the code %q", code)
	}
	return c, err
}

// Teaches reports whether a teacher teaches a class.
func (db *DB) Teaches(ctx context.Context, teacherID, classID string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM class_teachers WHERE user_id = ? AND class_id = ?", teacherID, classID).Scan(&n)
	return n > 0, err
}

// AddStudents adds students to a class, all or none: a name already in the
// class refuses the whole batch. Each is a student.created event.
func (db *DB) AddStudents(ctx context.Context, actor, classID string, students []school.NewStudent) ([]school.Student, error) {
	var out []school.Student
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		now := db.clock.Now().Wall.UnixMilli()
		for _, ns := range students {
			st := school.Student{ID: db.NewID(), ClassID: classID, Name: strings.TrimSpace(ns.Name), Gender: ns.Gender, ExternalID: ns.ExternalID, BirthYear: ns.BirthYear, HasSecret: ns.SecretHash != ""}
			if st.Gender == "" {
				st.Gender = "unspecified"
			}
			var birth, secret, ext any
			if st.BirthYear != 0 {
				birth = st.BirthYear
			}
			if ns.SecretHash != "" {
				secret = ns.SecretHash
				st.SecretKind = ns.SecretKind
				if st.SecretKind == "" {
					st.SecretKind = school.SignInPIN
				}
			}
			if st.ExternalID != "" {
				ext = st.ExternalID
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO students (id, class_id, name, gender, birth_year, external_id, secret_hash, secret_kind, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				st.ID, classID, st.Name, st.Gender, birth, ext, secret, st.SecretKind, now)
			if isUnique(err) {
				return failure.Errorf(failure.Conflict, "the class already has a student called %q", st.Name)
			}
			if err != nil {
				return fmt.Errorf("store: add student: %w", describe(err))
			}
			// The event carries what the hub needs (pseudonymous id, class,
			// gender, birth year); the name stays on the box.
			if err := db.event(ctx, tx, actor, event.StudentCreated{Student: st.ID, Class: classID, Gender: st.Gender, BirthYear: st.BirthYear}); err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const studentColumns = "id, class_id, name, gender, coalesce(birth_year, 0), coalesce(external_id, ''), coalesce(secret_hash, ''), secret_kind"

func scanStudent(row interface{ Scan(...any) error }) (school.Student, error) {
	var s school.Student
	err := row.Scan(&s.ID, &s.ClassID, &s.Name, &s.Gender, &s.BirthYear, &s.ExternalID, &s.SecretHash, &s.SecretKind)
	s.HasSecret = s.SecretHash != ""
	return s, err
}

// Students lists a class's students by name.
func (db *DB) Students(ctx context.Context, classID string) ([]school.Student, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+studentColumns+" FROM students WHERE class_id = ? ORDER BY name COLLATE NOCASE", classID)
	if err != nil {
		return nil, fmt.Errorf("store: students: %w", err)
	}
	defer rows.Close()
	var out []school.Student
	for rows.Next() {
		s, err := scanStudent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Student returns a student by id.
func (db *DB) Student(ctx context.Context, id string) (school.Student, error) {
	s, err := scanStudent(db.read.QueryRowContext(ctx, "SELECT "+studentColumns+" FROM students WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return school.Student{}, failure.Errorf(failure.NotFound, "no student %s", id)
	}
	return s, err
}

// SetStudentSecret gives a student a new PIN (hashed) and signs the
// student out everywhere; SetStudentSecrets gives picture passwords too.
func (db *DB) SetStudentSecret(ctx context.Context, actor, studentID, secretHash string) error {
	return db.SetStudentSecrets(ctx, actor, map[string]string{studentID: secretHash}, school.SignInPIN)
}

// SetStudentSecrets gives several students new secrets of one kind (hashes
// by student id), all or none: the teacher prints their cards at once.
func (db *DB) SetStudentSecrets(ctx context.Context, actor string, hashes map[string]string, kind string) error {
	if kind != school.SignInPIN && kind != school.SignInPicture {
		return failure.Errorf(failure.Invalid, "unknown kind of secret %q", kind)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for studentID, secretHash := range hashes {
			res, err := tx.ExecContext(ctx, "UPDATE students SET secret_hash = ?, secret_kind = ? WHERE id = ?", secretHash, kind, studentID)
			if err != nil {
				return fmt.Errorf("store: set secret: %w", describe(err))
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return failure.Errorf(failure.NotFound, "no student %s", studentID)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE subject_id = ?", studentID); err != nil {
				return err
			}
			if err := db.event(ctx, tx, actor, event.StudentSecretReset{Student: studentID}); err != nil {
				return err
			}
		}
		return nil
	})
}
