// Package roster reads and writes class rosters as CSV: stembox's own
// columns, the header names a teacher writes in Tajik, Russian or English,
// and the common subset of OneRoster's users.csv. It does no I/O beyond the
// reader and writer it is given.
//
// A roster is what a spreadsheet saves: UTF-8 (with or without a
// byte-order mark), UTF-16 with one (Excel's "Unicode text") or
// Windows-1251 (the Cyrillic code page of a Russian Excel); cells separated
// by commas, semicolons (a Russian Excel's "CSV") or tabs (rows pasted from
// a spreadsheet), whichever the header row uses most, or the one a first
// line "sep=;" names. A header row is required; its names are read without
// regard to case, spaces, dots or dashes, in any order, and unknown columns
// are ignored:
//
//	name         name, ФИО, Ном, Ному насаб, Хонанда, Ученик (required; or
//	             given and family names: Имя + Фамилия, Ном + Насаб,
//	             givenName + familyName, kept in the file's order)
//	gender       gender, Пол, Ҷинс (Чинс): see gender for the values
//	birth_year   birth_year, Год рождения, Соли таваллуд: 2012, or a date
//	             such as 01.05.2012 or 2012-05-01 (optional)
//	external_id  external_id, id, Код: the school's id (optional)
//	pin          pin, ПИН, Пин-код: 4 digits, for classes that sign in
//	             with one (optional)
//
// OneRoster users.csv: givenName and familyName make the name, sourcedId is
// the external id, and rows whose role is not "student" are skipped.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
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

// MaxStudents bounds one import.
const MaxStudents = 500

// MaxBytes bounds the size of one roster file (500 students take ~50 KB).
const MaxBytes = 1 << 20

// Parse reads a roster. It returns the entries, or every problem found (with
// line numbers) and no entries. thisYear bounds birth years.
func Parse(r io.Reader, thisYear int) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, Problems{problem(0, "read", err.Error())}
	}
	if len(data) > MaxBytes {
		return nil, Problems{problem(0, "too_large", MaxBytes>>10)}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		// Excel's "Unicode text": UTF-16 with a byte-order mark, tabs between cells.
		if dec, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data); err == nil {
			data = dec
		}
	} else if !utf8.Valid(data) {
		// Not UTF-8: a Russian Excel's CSV is in Windows-1251, where every
		// byte is a letter, so this never fails; names that then read as
		// nonsense show on the class page at once.
		if dec, err := charmap.Windows1251.NewDecoder().Bytes(data); err == nil {
			data = dec
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Problems{problem(1, "empty")}
	}
	// Excel may write its separator first, as a line "sep=;"; the rows'
	// numbers stay those a spreadsheet shows.
	skip, comma := 0, delimiter(data)
	if first, rest, ok := bytes.Cut(data, []byte("\n")); ok && bytes.HasPrefix(first, []byte("sep=")) {
		if sep := []rune(strings.TrimSpace(string(first[4:]))); len(sep) == 1 && strings.ContainsRune(",;\t", sep[0]) {
			skip, comma, data = 1, sep[0], rest
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.LazyQuotes = false
	header, err := cr.Read()
	if err != nil {
		return nil, Problems{csvProblem(1, err)}
	}
	cols := findColumns(header)
	if !cols.hasName() {
		return nil, Problems{problem(1+skip, "no_name_column", strings.Join(header, string(cr.Comma)))}
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
				problems = append(problems, problem(0, "read", err.Error()))
				break
			}
			problems = append(problems, csvProblem(pe.StartLine+skip, err))
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				break // the rest of the file is read out of step
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		line += skip
		if blank(rec) {
			continue
		}
		get := func(i int) string {
			if i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if role := strings.ToLower(get(cols.role)); role != "" && role != "student" && role != "ученик" && role != "хонанда" {
			continue
		}
		e := Entry{Line: line, ExternalID: get(cols.id), PIN: get(cols.pin), Name: strings.Join(strings.Fields(cols.name(get)), " ")}
		bad := func(key string, args ...any) { problems = append(problems, problem(line, key, args...)) }
		switch {
		case e.Name == "":
			bad("name_empty")
		case utf8.RuneCountInString(e.Name) > 60:
			bad("name_long", 60)
		default:
			key := strings.ToLower(e.Name)
			if first, dup := seen[key]; dup {
				bad("duplicate", e.Name, first)
			} else {
				seen[key] = line
			}
		}
		g, ok := gender(get(cols.gender))
		if !ok {
			bad("gender", get(cols.gender))
		}
		e.Gender = g
		if y := get(cols.year); y != "" {
			n, ok := birthYear(y)
			if !ok || n < thisYear-100 || n > thisYear {
				bad("birth_year", y, thisYear-100, thisYear)
			}
			e.BirthYear = n
		}
		if e.PIN != "" && !isPIN(e.PIN) {
			bad("pin", e.PIN)
		}
		entries = append(entries, e)
		if len(entries) > MaxStudents {
			bad("too_many", MaxStudents)
			break
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(entries) == 0 {
		return nil, Problems{problem(2+skip, "no_students")}
	}
	return entries, nil
}

// delimiter is the separator the header row uses most, outside quotes:
// ';', '\t' or ',' (the default, also for a one-column file).
func delimiter(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		counts[c]++
	}
	best, n := ',', counts[',']
	for _, c := range []byte{';', '\t'} {
		if counts[c] > n {
			best, n = rune(c), counts[c]
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// birthYear reads 2012, 2012-05-01 (OneRoster) or 01.05.2012 and 1/5/2012
// (a spreadsheet's date).
func birthYear(s string) (int, bool) {
	switch {
	case len(s) > 4 && s[4] == '-':
		s = s[:4]
	case strings.ContainsAny(s, "./"):
		parts := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '/' })
		if len(parts) != 3 {
			return 0, false
		}
		s = parts[2]
	}
	if len(s) != 4 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
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
