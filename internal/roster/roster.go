// Package roster reads and writes class rosters as CSV: stembox's own
// columns, and the common subset of OneRoster's users.csv. It does no I/O
// beyond the reader and writer it is given.
//
// stembox's columns (a header row is required; names are case-insensitive,
// order is free, unknown columns are ignored):
//
//	name         the student's name as classmates know it (required)
//	gender       female, male or unspecified (also f/m, ж/м, з/м, blank)
//	birth_year   e.g. 2012 (optional)
//	external_id  the school's id for the student (optional)
//	pin          a 4-digit PIN, for classes that sign in with one (optional)
//
// OneRoster users.csv: givenName and familyName make the name, sourcedId is
// the external id, and rows whose role is not "student" are skipped; a sex
// or gender column is read if present.
package roster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entry is one student read from a roster.
type Entry struct {
	Line       int
	Name       string
	Gender     string // female, male or unspecified
	BirthYear  int    // 0 when not given
	ExternalID string
	PIN        string
}

// Problem is what is wrong with one line.
type Problem struct {
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Problems is every problem found in a roster; a roster with any is refused
// whole.
type Problems []Problem

func (ps Problems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// MaxStudents bounds one import.
const MaxStudents = 500

// Parse reads a roster. It returns the entries, or every problem found (with
// line numbers) and no entries. thisYear bounds birth years.
func Parse(r io.Reader, thisYear int) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Problems{{Line: 1, Reason: "the file is empty"}}
	}
	if err != nil {
		return nil, Problems{{Line: 1, Reason: csvReason(err)}}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		h = strings.NewReplacer(" ", "_", "-", "_").Replace(h)
		col[h] = i
	}
	_, hasName := col["name"]
	_, hasGiven := col["givenname"]
	if !hasName && !hasGiven {
		return nil, Problems{{Line: 1, Reason: "no name column: the header needs name (or OneRoster's givenName and familyName)"}}
	}
	get := func(rec []string, names ...string) string {
		for _, n := range names {
			if i, ok := col[n]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
		}
		return ""
	}
	var entries []Entry
	var problems Problems
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				problems = append(problems, Problem{Line: 0, Reason: err.Error()})
				break
			}
			problems = append(problems, Problem{Line: pe.StartLine, Reason: csvReason(err)})
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				break // the rest of the file is read out of step
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if role := strings.ToLower(get(rec, "role")); role != "" && role != "student" {
			continue
		}
		e := Entry{Line: line, ExternalID: get(rec, "external_id", "sourcedid"), PIN: get(rec, "pin")}
		e.Name = get(rec, "name")
		if e.Name == "" {
			e.Name = strings.TrimSpace(get(rec, "givenname") + " " + get(rec, "familyname"))
		}
		bad := func(format string, args ...any) {
			problems = append(problems, Problem{Line: line, Reason: fmt.Sprintf(format, args...)})
		}
		switch {
		case e.Name == "":
			bad("the name is empty")
		case !utf8.ValidString(e.Name):
			bad("the name is not UTF-8 text (save the file as UTF-8)")
		case utf8.RuneCountInString(e.Name) > 60:
			bad("the name is longer than 60 characters")
		default:
			key := strings.ToLower(e.Name)
			if first, dup := seen[key]; dup {
				bad("%q is also on line %d; names in a class must differ (add an initial)", e.Name, first)
			} else {
				seen[key] = line
			}
		}
		g, ok := gender(get(rec, "gender", "sex"))
		if !ok {
			bad("gender %q is not female, male or unspecified", get(rec, "gender", "sex"))
		}
		e.Gender = g
		if y := get(rec, "birth_year", "birthyear", "birthdate"); y != "" {
			if len(y) > 4 && y[4] == '-' { // OneRoster demographics birthDate 2012-05-01
				y = y[:4]
			}
			n, err := strconv.Atoi(y)
			if err != nil || n < thisYear-100 || n > thisYear {
				bad("birth year %q is not a year between %d and %d", y, thisYear-100, thisYear)
			}
			e.BirthYear = n
		}
		if e.PIN != "" && !isPIN(e.PIN) {
			bad("PIN %q is not 4 digits", e.PIN)
		}
		entries = append(entries, e)
		if len(entries) > MaxStudents {
			bad("more than %d students in one file", MaxStudents)
			break
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(entries) == 0 {
		return nil, Problems{{Line: 2, Reason: "no students in the file"}}
	}
	return entries, nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return err.Error()
}

func gender(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "female", "f", "girl", "ж", "жен", "женский", "з", "зан", "духтар":
		return "female", true
	case "male", "m", "boy", "м", "муж", "мужской", "мард", "писар":
		return "male", true
	case "", "unspecified", "other", "-", "?":
		return "unspecified", true
	}
	return "", false
}

func isPIN(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Row is a student as written by Write.
type Row struct {
	Name, Gender, ExternalID string
	BirthYear                int
}

// Write writes a roster in stembox's columns (without PINs, which are kept
// only as hashes).
func Write(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"name", "gender", "birth_year", "external_id"})
	for _, r := range rows {
		year := ""
		if r.BirthYear != 0 {
			year = strconv.Itoa(r.BirthYear)
		}
		cw.Write([]string{SafeCell(r.Name), r.Gender, year, SafeCell(r.ExternalID)})
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a cell starting with = + - @ gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
