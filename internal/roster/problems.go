package roster

import (
	"encoding/csv"
	"errors"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
)

// Problem is what is wrong with one line, as a message of the i18n
// catalogue ("roster.err." + Key) so that each page shows it in its own
// language; Reason is the English text, for the command line and logs.
type Problem struct {
	Line   int // 0: not about one line
	Key    string
	Args   []any
	Reason string
}

func problem(line int, key string, args ...any) Problem {
	p := Problem{Line: line, Key: key, Args: args}
	p.Reason = p.text("en")
	return p
}

// InClass is the problem of a name the class already has.
func InClass(line int, name string) Problem { return problem(line, "in_class", name) }

func csvProblem(line int, err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return problem(line, "csv", err.Error())
}

func (p Problem) text(lang string) string { return i18n.T(lang, "roster.err."+p.Key, p.Args...) }

// Text is the problem with its line, in lang: "Row 3: …".
func (p Problem) Text(lang string) string {
	if p.Line <= 0 {
		return p.text(lang)
	}
	return i18n.T(lang, "roster.row", p.Line, p.text(lang))
}

func (p Problem) String() string { return p.Text("en") }

// Problems is every problem found in a roster; a roster with any is refused
// whole.
type Problems []Problem

func (ps Problems) Error() string { return strings.Join(ps.Lines("en"), "; ") }

// Lines are the problems in lang, one a line.
func (ps Problems) Lines(lang string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Text(lang)
	}
	return out
}
