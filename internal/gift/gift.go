// Package gift reads exercise sets written in Moodle's GIFT quiz format into
// learn items, one language per file. It does no I/O.
//
// Questions are separated by blank lines and may span several lines. Lines
// starting with // are comments and $CATEGORY: lines are ignored; neither
// ends a question. A question is
//
//	::Title:: [format]question text {answers}
//
// where the title and the format marker are optional, and the answer block
// holds one of:
//
//	=right ~wrong ~wrong                   choice: one right option
//	~%50%a ~%50%b ~%-100%c                 multi: weighted options, no "="
//	T, TRUE, F or FALSE (any case)         truefalse
//	=answer =%50%partly right =cat*        text: accepted answers ("*" any characters)
//	#3.14:0.01, #1..5, #=2:0 =%50%2.5:0.5  numeric: value:tolerance or min..max
//
// An answer may be followed by #feedback (true/false takes #feedback for a
// wrong answer#feedback for a right one), and the block may end with
// ####general feedback. A numeric block may end with ~#feedback, shown for
// any other answer: it becomes the item's incorrect feedback; as in Moodle,
// its first answer may omit "=" ({#4#right ~#wrong}). In a short answer "*"
// is Moodle's wildcard (the learn.TextAnswer is a Wildcard one) and "\*" a
// literal star. Weights run from
// -100% to 100%; one within 0.005 points of a simple fraction (33.333%) is
// rounded to it. Text answers and numbers need one answer worth 100%.
//
// Refused, with the line where the question starts: matching questions (an
// answer block with ->), missing-word questions (text after the answer
// block), essays ({}) and descriptions (no answer block).
//
// Texts (prompts, options, feedback) come back as Markdown for the pack
// builder to render, space trimmed, with \n resolved and the GIFT escapes
// \~ \= \# \{ \} \: \\ turned into the same Markdown escapes, so that the
// characters stay literal; nothing is HTML-escaped here. An option is inline
// text: a line of it that would start a Markdown block (a heading, a list
// item, a quote, a rule) has that start escaped. Titles and short answers
// are plain text, with the escapes resolved. A leading
// format marker ([markdown], [plain], [moodle] or [html]) is dropped. The
// builder treats every text as Markdown, [html] ones too, so raw HTML in a
// GIFT file is escaped, not rendered. Inside TeX formulas ($…$, $$…$$) \n is
// kept as written, so \nu and \neq survive; as in the builder, a literal
// dollar sign is written \$.
//
// A title becomes the item's Title and its id: lower-case ASCII letters,
// digits and dashes, at most 64 characters, with Cyrillic letters
// transliterated ("Закон Ньютона" is "zakon-nyutona"). Untitled questions, and
// titles with no letter or digit left, are numbered by position: q1, q2, ….
package gift

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/learn"
)

// Error is a problem in a GIFT file. Its text is "FILE:LINE: message".
type Error struct {
	File string // the name given to Parse
	Line int    // 1-based line of the problem, or where its question starts
	Msg  string // in English, for the command line and logs
	Err  error  // the cause, when the item failed (*learn.Item).Validate

	// Key is the i18n key of the problem ("gift.unclosed_brace") and Args
	// its arguments, for showing it in the page's language (Localize).
	Key  string
	Args []any
}

// Error returns "FILE:LINE: message".
func (e *Error) Error() string { return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Parse reads the GIFT file src, named name in errors, whose texts are in
// language lang, and returns its questions as items in file order. Every
// text of the items has the single key lang, and every item passes
// (*learn.Item).Validate. The first problem found is returned as an *Error
// (only an empty lang is a plain error); then there are no items (ParseAll
// goes on and reports every problem). A file with no questions gives no
// items and no error. Windows line endings and a leading byte order mark are fine; the
// file must be UTF-8.
func Parse(name string, src []byte, lang string) ([]learn.Item, error) {
	if lang == "" {
		return nil, fmt.Errorf("%s: no language given", name)
	}
	text, err := normalize(name, src)
	if err != nil {
		return nil, err
	}
	var items []learn.Item
	lines := map[string]int{} // the line where each id was given
	for _, c := range split(text) {
		it, err := parseQuestion(name, lang, c, len(items)+1, lines)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// normalize drops a byte order mark and makes every line end in \n; text
// that is not UTF-8 is an *Error at its line.
func normalize(name string, src []byte) (string, *Error) {
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if bad := invalidUTF8(text); bad >= 0 {
		return "", newError(name, 1+strings.Count(text[:bad], "\n"), "gift.not_utf8")
	}
	return text, nil
}

// parseQuestion reads the question c, at position pos of its file, and
// checks it: its id is not in lines (where each id was given), which
// records it, and the item can be graded.
func parseQuestion(name, lang string, c *chunk, pos int, lines map[string]int) (learn.Item, error) {
	q := question{file: name, lang: lang, c: c}
	it, err := q.parse(pos)
	if err != nil {
		return it, err
	}
	start := c.lines[0]
	if first, ok := lines[it.ID]; ok {
		return it, q.errAt(0, "gift.duplicate_id", it.ID, first)
	}
	lines[it.ID] = start
	if err := it.Validate(); err != nil {
		key, args := validateProblem(&it)
		return it, &Error{File: name, Line: start, Msg: err.Error(), Err: err, Key: key, Args: args}
	}
	return it, nil
}

// invalidUTF8 returns the offset of the first byte of s that is not UTF-8,
// or -1.
func invalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// A chunk is the text of one question: its lines, less comments, joined by
// newlines.
type chunk struct {
	text   string
	starts []int // the offset in text where each line starts
	lines  []int // the line number in the file of each line
}

// line returns the line in the file of the byte at offset off of the text.
func (c *chunk) line(off int) int {
	i := sort.Search(len(c.starts), func(i int) bool { return c.starts[i] > off })
	return c.lines[max(i-1, 0)]
}

// split cuts text into questions at blank lines, leaving out comments and
// $CATEGORY: lines.
func split(text string) []*chunk {
	var (
		out []*chunk
		cur *chunk
		b   strings.Builder
	)
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			if cur != nil {
				cur.text = b.String()
				out = append(out, cur)
				cur = nil
			}
			continue
		case strings.HasPrefix(t, "//"), strings.HasPrefix(t, "$CATEGORY:"):
			continue
		}
		if cur == nil {
			cur = &chunk{}
			b.Reset()
		} else {
			b.WriteByte('\n')
		}
		cur.starts = append(cur.starts, b.Len())
		cur.lines = append(cur.lines, i+1)
		b.WriteString(line)
	}
	if cur != nil {
		cur.text = b.String()
		out = append(out, cur)
	}
	return out
}

// question parses one chunk.
type question struct {
	file, lang string
	c          *chunk
}

// errAt returns an error at the line of offset off in the question's text.
func (q *question) errAt(off int, key string, args ...any) error {
	return newError(q.file, q.c.line(off), key, args...)
}

// errFrom returns err, a *problem, at the line of offset off.
func (q *question) errFrom(off int, err error) error {
	var p *problem
	if errors.As(err, &p) {
		return q.errAt(off, p.key, p.args...)
	}
	return &Error{File: q.file, Line: q.c.line(off), Msg: err.Error(), Key: "gift.invalid_item"}
}

// refuse returns an error for a kind of question that is not supported, at
// the line where the question starts.
func (q *question) refuse(kind string) error {
	return q.errAt(0, "gift.unsupported_"+strings.ReplaceAll(kind, "-", "_"))
}

// text returns raw GIFT text as a learn.Text, or nil if it is empty.
func (q *question) text(raw string) learn.Text {
	if s := markdown(raw); s != "" {
		return learn.Text{q.lang: s}
	}
	return nil
}

// parse reads the question at position pos (from 1) of its file.
func (q *question) parse(pos int) (learn.Item, error) {
	var it learn.Item
	s := q.c.text
	i := len(s) - len(strings.TrimLeft(s, space))
	if strings.HasPrefix(s[i:], "::") {
		end := indexUnescaped(s[i+2:], "::")
		if end < 0 {
			return it, q.errAt(i, "gift.title_unclosed")
		}
		it.Title = clean(s[i+2 : i+2+end])
		i += 2 + end + 2
	}
	it.ID = slug(it.Title)
	if it.ID == "" {
		it.ID = "q" + strconv.Itoa(pos)
	}

	open := indexAnyUnescaped(s[i:], "{}")
	if open < 0 {
		return it, q.refuse("description")
	}
	open += i
	if s[open] == '}' {
		return it, q.errAt(open, "gift.close_without_open")
	}
	end := indexAnyUnescaped(s[open+1:], "{}")
	if end < 0 {
		return it, q.errAt(open, "gift.unclosed_brace")
	}
	end += open + 1
	if s[end] == '{' {
		return it, q.errAt(end, "gift.brace_inside")
	}
	if err := q.answers(&it, s[open+1:end], open+1); err != nil {
		return it, err
	}
	if strings.TrimSpace(s[end+1:]) != "" {
		return it, q.refuse("missing-word")
	}
	prompt := q.text(s[i:open])
	if prompt == nil {
		return it, q.errAt(0, "gift.no_text")
	}
	it.Prompt = prompt
	return it, nil
}
