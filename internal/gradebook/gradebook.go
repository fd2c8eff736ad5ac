// Package gradebook moves a class's records in and out of the box as
// files: a roster CSV in (ImportRoster), every answer as a results CSV out
// (WriteResults). The teacher's pages and stembox admin both call it, so
// the web and the command line import and export the same way.
package gradebook

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/roster"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

// ImportRoster adds the students of a roster CSV (internal/roster's
// columns, or OneRoster's users.csv) to class c, all or none; a PIN is
// stored hashed. A roster with problems returns roster.Problems (every
// line's problem, a name the class already has included) and adds nobody;
// a student added meanwhile refuses the whole roster with the store's
// error (failure.Conflict). PINs are
// hashed through hashes, the box's bounded pool (auth.ErrBusy when it stays
// full). thisYear bounds birth years.
func ImportRoster(ctx context.Context, db *store.DB, hashes *auth.Pool, actor string, c school.Class, src io.Reader, thisYear int) ([]school.Student, error) {
	entries, err := roster.Parse(src, thisYear)
	if err != nil {
		return nil, err
	}
	// A name the class already has is a problem of its row, found before
	// any PIN is hashed; the store still refuses one that slips in between.
	have, err := db.Students(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(have))
	for _, s := range have {
		names[strings.ToLower(s.Name)] = true
	}
	var problems roster.Problems
	for _, e := range entries {
		if names[strings.ToLower(e.Name)] {
			problems = append(problems, roster.InClass(e.Line, e.Name))
		}
	}
	if problems != nil {
		return nil, problems
	}
	students := make([]school.NewStudent, len(entries))
	for i, e := range entries {
		students[i] = school.NewStudent{Name: e.Name, Gender: e.Gender, BirthYear: e.BirthYear, ExternalID: e.ExternalID}
		if e.PIN != "" {
			if students[i].SecretHash, err = hashes.Hash(ctx, e.PIN); err != nil {
				return nil, err
			}
		}
	}
	return db.AddStudents(ctx, actor, c.ID, students)
}

// Problems returns the problems of a refused roster, or nil when err is
// not about the roster's lines.
func Problems(err error) roster.Problems {
	var ps roster.Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}

// BOM starts every CSV file the box hands out, so that spreadsheets read
// Cyrillic as UTF-8.
const BOM = "\ufeff"

// ResultsColumns are the columns of the results CSV, one row an answer.
var ResultsColumns = []string{"class", "student", "gender", "external_id", "pack", "set", "item", "question", "correct", "score", "answer", "right_answer", "time"}

// ResultsFormat says how to write a results CSV for its reader.
type ResultsFormat struct {
	// Lib finds each answer's question, to write it, the answer and the
	// right one as text; nil (or a pack no longer installed) writes the
	// answer as stored, picked choices as their indexes ([2,0]).
	Lib *content.Library
	// SetAt, when set, finds the set an answer was given on by the pack's
	// version (an older version's, kept by the box, when the installed one
	// differs), instead of Lib's installed version.
	SetAt func(pack, version, set string) (*content.Manifest, *learn.Set, bool)
	// Lang is the reader's language: of the questions when the pack has
	// it, and of true/false.
	Lang string
	// Zone is the time zone of the time column (nil: the system's).
	Zone *time.Location
	// Semicolons separates cells with ';' and writes decimals with a comma,
	// as a spreadsheet set to Russian (or Tajik) reads CSV files.
	Semicolons bool
}

// TimeLayout is the results CSV's time: local to Zone, to the second, in
// a form spreadsheets read as a date and time.
const TimeLayout = "2006-01-02 15:04:05"

// WriteResults writes every answer of the students of the classes as CSV
// (UTF-8 with a BOM), class by class in the order given, each class's
// answers in the order they were given. Names, ids and answers are made
// safe from spreadsheet formulas.
func WriteResults(ctx context.Context, db *store.DB, classes []school.Class, w io.Writer, f ResultsFormat) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return fmt.Errorf("gradebook: results: %w", err)
	}
	zone := f.Zone
	if zone == nil {
		zone = time.Local
	}
	cw := csv.NewWriter(w)
	if f.Semicolons {
		cw.Comma = ';'
	}
	cw.Write(ResultsColumns)
	for _, c := range classes {
		students, err := db.Students(ctx, c.ID)
		if err != nil {
			return err
		}
		by := make(map[string]school.Student, len(students))
		for _, s := range students {
			by[s.LearnerID()] = s
		}
		atts, err := db.Attempts(ctx, school.LearnerIDs(students), "", "")
		if err != nil {
			return err
		}
		for _, a := range atts {
			s := by[a.Learner]
			question, answer, right := "", a.Answer, ""
			if q, ok := f.question(a); ok {
				question, answer, right = PlainText(q.Prompt()), PlainText(q.AnswerHTML(f.Lang, a.Answer)), PlainText(q.RightHTML(f.Lang))
			}
			score := strconv.FormatFloat(a.Score, 'f', -1, 64)
			if f.Semicolons {
				score = strings.Replace(score, ".", ",", 1)
			}
			cw.Write([]string{roster.SafeCell(c.Name), roster.SafeCell(s.Name), s.Gender, roster.SafeCell(s.ExternalID), a.Pack, a.Set, a.Item,
				roster.SafeCell(question), strconv.FormatBool(a.Correct), score, roster.SafeCell(answer), roster.SafeCell(right), a.Time.In(zone).Format(TimeLayout)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("gradebook: results: %w", err)
	}
	return nil
}

// question finds the question of an answer (see SetAt).
func (f ResultsFormat) question(a store.Attempt) (Question, bool) {
	if f.SetAt != nil {
		m, s, ok := f.SetAt(a.Pack, a.Version, a.Set)
		if !ok {
			return Question{}, false
		}
		return QuestionIn(m, s, f.Lang, a.Item)
	}
	return FindQuestion(f.Lib, f.Lang, a.Pack, a.Set, a.Item)
}
