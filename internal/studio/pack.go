package studio

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The one set or lesson a draft's pack holds.
const (
	PackSet    = "set"    // exercises/set.yaml
	PackLesson = "lesson" // lessons/lesson.LANG.md
)

// SetFile is the path of a draft's set in its pack's source form.
const SetFile = "exercises/set.yaml"

// PackSource is a draft as a pack's source form (docs/pack-format.md):
// the files a pack author would write, for the builder.
type PackSource struct {
	Files map[string][]byte // pack.yaml, exercises/set.yaml or lessons/lesson.LANG.md
	Media []string          // the pictures the texts show, as media/NAME paths
	// itemLines is the first line of each item in SetFile, to tell which
	// item a build error is about.
	itemLines []int
}

// mediaRef finds the pictures a text shows: media/ and a name as the
// store keeps them (the SHA-256 of the picture and its type).
var mediaRef = regexp.MustCompile(`media/[0-9a-f]{64}\.(?:jpg|png)`)

// Source turns a draft (valid: see Validate) into the source form of the
// pack id at version: one set with the id "set", or one lesson with the id
// "lesson". It does no I/O: the caller writes the files and the pictures of
// Media beside them.
func Source(doc Doc, kind, id, version string) (*PackSource, error) {
	ps := &PackSource{Files: map[string][]byte{}}
	pack := packYAML{ID: id, Version: version, Subject: doc.Subject, Grades: doc.Grades, Languages: doc.Languages,
		Title: in(doc.Title, doc.Languages)}
	switch kind {
	case KindSet:
		pack.Exercises = []packRef{{ID: PackSet, File: SetFile}}
		set, lines, err := setYAML(doc)
		if err != nil {
			return nil, err
		}
		ps.Files[SetFile], ps.itemLines = set, lines
	case KindLesson:
		pack.Lessons = []packRef{{ID: PackLesson}}
		for _, l := range doc.Languages {
			ps.Files[LessonFile(l)] = []byte(lessonMarkdown(doc.Title[l], doc.Body[l]))
		}
	default:
		return nil, fmt.Errorf("studio: unknown kind %q", kind)
	}
	b, err := yaml.Marshal(pack)
	if err != nil {
		return nil, fmt.Errorf("studio: pack.yaml: %w", err)
	}
	ps.Files["pack.yaml"] = b
	seen := map[string]bool{}
	for _, f := range ps.Files {
		for _, m := range mediaRef.FindAll(f, -1) {
			if !seen[string(m)] {
				seen[string(m)] = true
				ps.Media = append(ps.Media, string(m))
			}
		}
	}
	slices.Sort(ps.Media)
	return ps, nil
}

// LessonFile is the path of a draft's lesson in one language in its pack's
// source form.
func LessonFile(lang string) string { return "lessons/" + PackLesson + "." + lang + ".md" }

// lessonMarkdown is a lesson's Markdown: its body, under its title as the
// first heading unless the body starts with one.
func lessonMarkdown(title, body string) string {
	body = strings.TrimLeft(strings.ReplaceAll(body, "\r\n", "\n"), "\n ")
	if strings.HasPrefix(body, "# ") {
		return body
	}
	return "# " + strings.Join(strings.Fields(title), " ") + "\n\n" + body + "\n"
}

// Problem turns an error of the pack builder about a draft's pack into a
// Problem naming the item (or the lesson's language) it is about.
func (ps *PackSource) Problem(err error) Problem {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, SetFile+":"); ok {
		n, after, _ := strings.Cut(rest, ":")
		if line, err := strconv.Atoi(n); err == nil {
			return Problem{Item: ps.itemAt(line), Key: "studio.problem.markup", Args: []any{strings.TrimSpace(after)}}
		}
	}
	if rest, ok := strings.CutPrefix(msg, "lessons/"+PackLesson+"."); ok {
		lang, after, _ := strings.Cut(rest, ".md:")
		return Problem{Field: "body." + lang, Key: "studio.problem.markup", Args: []any{strings.TrimSpace(after)}}
	}
	return Problem{Key: "studio.problem.build", Args: []any{msg}}
}

// itemAt is the number (from 1) of the item at a line of SetFile; 0 before
// the first.
func (ps *PackSource) itemAt(line int) int {
	n := 0
	for i, first := range ps.itemLines {
		if first <= line {
			n = i + 1
		}
	}
	return n
}

type packYAML struct {
	ID        string            `yaml:"id"`
	Version   string            `yaml:"version"`
	Subject   string            `yaml:"subject"`
	Grades    []int             `yaml:"grades,flow"`
	Languages []string          `yaml:"languages,flow"`
	Title     map[string]string `yaml:"title"`
	Lessons   []packRef         `yaml:"lessons,omitempty"`
	Exercises []packRef         `yaml:"exercises,omitempty"`
}

type packRef struct {
	ID   string `yaml:"id"`
	File string `yaml:"file,omitempty"`
}

type setItem struct {
	ID        string              `yaml:"id"`
	Type      string              `yaml:"type"`
	Prompt    map[string]string   `yaml:"prompt"`
	Choices   []setChoice         `yaml:"choices,omitempty"`
	Answer    any                 `yaml:"answer,omitempty"` // truefalse: a bool; numeric: a number
	Tolerance float64             `yaml:"tolerance,omitempty"`
	Unit      map[string]string   `yaml:"unit,omitempty"`
	Answers   map[string][]string `yaml:"answers,omitempty"`
	Feedback  *setFeedback        `yaml:"feedback,omitempty"`
}

type setChoice struct {
	Text     map[string]string `yaml:"text"`
	Correct  bool              `yaml:"correct,omitempty"`
	Feedback map[string]string `yaml:"feedback,omitempty"`
}

type setFeedback struct {
	Correct   map[string]string `yaml:"correct,omitempty"`
	Incorrect map[string]string `yaml:"incorrect,omitempty"`
	General   map[string]string `yaml:"general,omitempty"`
}

// in is t in the languages langs, leaving out the empty texts (nil if
// none is left).
func in(t Text, langs []string) map[string]string {
	var out map[string]string
	for _, l := range langs {
		if s := t[l]; strings.TrimSpace(s) != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[l] = s
		}
	}
	return out
}

// setYAML writes a draft's items as an exercises YAML file, and the first
// line of each item in it.
func setYAML(doc Doc) ([]byte, []int, error) {
	var buf bytes.Buffer
	head, err := yaml.Marshal(struct {
		Title map[string]string `yaml:"title"`
	}{in(doc.Title, doc.Languages)})
	if err != nil {
		return nil, nil, fmt.Errorf("studio: set: %w", err)
	}
	buf.Write(head)
	buf.WriteString("items:\n")
	lines := make([]int, 0, len(doc.Items))
	for _, it := range doc.Items {
		lines = append(lines, bytes.Count(buf.Bytes(), []byte("\n"))+1)
		b, err := yaml.Marshal([]setItem{toSetItem(it, doc.Languages)})
		if err != nil {
			return nil, nil, fmt.Errorf("studio: set: item %q: %w", it.ID, err)
		}
		buf.Write(b)
	}
	return buf.Bytes(), lines, nil
}

func toSetItem(it Item, langs []string) setItem {
	si := setItem{ID: it.ID, Type: it.Type, Prompt: in(it.Prompt, langs)}
	switch it.Type {
	case "choice", "multi", "poll":
		for _, c := range it.Choices {
			si.Choices = append(si.Choices, setChoice{Text: in(c.Text, langs), Correct: c.Correct && it.Type != "poll", Feedback: in(c.Feedback, langs)})
		}
	case "truefalse":
		si.Answer = it.True
	case "numeric":
		si.Answer, si.Tolerance, si.Unit = it.Answer, it.Tolerance, in(it.Unit, langs)
	case "text":
		for _, l := range langs {
			for _, a := range it.Accepted[l] {
				if a = strings.TrimSpace(a); a != "" {
					if si.Answers == nil {
						si.Answers = map[string][]string{}
					}
					si.Answers[l] = append(si.Answers[l], a)
				}
			}
		}
	}
	fb := setFeedback{Correct: in(it.Feedback.Correct, langs), Incorrect: in(it.Feedback.Incorrect, langs), General: in(it.Feedback.General, langs)}
	if fb.Correct != nil || fb.Incorrect != nil || fb.General != nil {
		si.Feedback = &fb
	}
	return si
}
