package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/learn"
)

// checkLoad is the complete check that a box can serve a pack: the one
// function behind `stembox pack verify`, every install (from a file, a peer,
// the hub or a USB stick), the hub's publish and a library's (re)load.
// read returns the bytes of a file the manifest lists (from the archive, or
// from the installed folder). It parses every exercise set and checks every
// item can be graded, reads every lesson, and checks that every file a
// lesson or an exercise links to is in the pack. Errors name the file and
// what is wrong with it.
func checkLoad(m *Manifest, read func(path string) ([]byte, error)) (map[string]*learn.Set, error) {
	for _, l := range m.Lessons {
		for _, lang := range m.Languages {
			p := LessonPath(l.ID, lang)
			b, err := read(p)
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, fmt.Errorf("%s is not UTF-8 text", p)
			}
			if err := checkLinks(m, p, string(b)); err != nil {
				return nil, err
			}
		}
	}
	sets := make(map[string]*learn.Set, len(m.Sets))
	for _, info := range m.Sets {
		p := SetPath(info.ID)
		b, err := read(p)
		if err != nil {
			return nil, err
		}
		set, err := parseSet(m, p, info, b)
		if err != nil {
			return nil, err
		}
		sets[info.ID] = set
	}
	return sets, nil
}

// parseSet reads a built exercise set and checks every item of it.
func parseSet(m *Manifest, p string, info SetInfo, b []byte) (*learn.Set, error) {
	var set learn.Set
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("%s is not a valid exercise set: %w", p, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s is not a valid exercise set: text after its end", p)
	}
	if set.ID != info.ID {
		return nil, fmt.Errorf("%s says it is exercise set %q, not %q", p, set.ID, info.ID)
	}
	if len(set.Items) == 0 {
		return nil, fmt.Errorf("%s has no items", p)
	}
	ids := map[string]bool{}
	for i := range set.Items {
		it := &set.Items[i]
		if err := it.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if ids[it.ID] {
			return nil, fmt.Errorf("%s: item id %q is used twice", p, it.ID)
		}
		ids[it.ID] = true
		for _, t := range itemTexts(it) {
			for _, s := range t {
				if err := checkLinks(m, p, s); err != nil {
					return nil, err
				}
			}
		}
	}
	return &set, nil
}

// jsonProblem makes a JSON decoding error say where and what.
func jsonProblem(err error) error {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %q holds a %s where a %s belongs", e.Field, e.Value, e.Type)
	case *json.SyntaxError:
		return fmt.Errorf("not JSON at byte %d: %v", e.Offset, e)
	}
	if err == io.EOF {
		return fmt.Errorf("the file is empty")
	}
	return err
}

func itemTexts(it *learn.Item) []learn.Text {
	out := []learn.Text{it.Prompt, it.Feedback.Correct, it.Feedback.Incorrect, it.Feedback.General}
	for _, c := range it.Choices {
		out = append(out, c.Text, c.Feedback)
	}
	for _, n := range it.Numbers {
		out = append(out, n.Feedback)
	}
	for _, t := range it.Texts {
		out = append(out, t.Feedback)
	}
	return out
}

// packLink finds the links of built HTML to files of its own pack.
var packLink = regexp.MustCompile(`(?:src|href)="` + PackURLScheme + `([^"#?]*)`)

// checkLinks refuses HTML that links to a file the pack does not hold: the
// box would show a broken image or link.
func checkLinks(m *Manifest, file, html string) error {
	if !strings.Contains(html, PackURLScheme) {
		return nil
	}
	for _, match := range packLink.FindAllStringSubmatch(html, -1) {
		if _, ok := m.File(match[1]); !ok {
			return fmt.Errorf("%s links to %s, which the pack does not hold", file, match[1])
		}
	}
	return nil
}

// maxCheckedText bounds a lesson or exercise set read whole for the check.
const maxCheckedText = 64 << 20

// Check reads every file of the archive, checking its size and hash, and
// makes the complete load check a box makes before serving a pack: a pack
// that passes is one the box can serve.
func (a *Archive) Check() error {
	texts := map[string][]byte{}
	for _, f := range a.Manifest.Files {
		r, err := a.Open(f.Path)
		if err != nil {
			return err
		}
		if isCheckedText(f.Path) {
			if f.Size > maxCheckedText {
				r.Close()
				return invalid("%s is %d bytes, more than the %d a lesson or exercise set may have", f.Path, f.Size, maxCheckedText)
			}
			texts[f.Path], err = io.ReadAll(r)
		} else {
			_, err = io.Copy(io.Discard, r)
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	_, err := checkLoad(&a.Manifest, func(p string) ([]byte, error) {
		b, ok := texts[p]
		if !ok {
			return nil, fmt.Errorf("the pack lacks %s", p)
		}
		return b, nil
	})
	if err != nil {
		return invalid("%v", err)
	}
	return nil
}

func isCheckedText(p string) bool {
	return strings.HasPrefix(p, "lessons/") && strings.HasSuffix(p, ".html") ||
		strings.HasPrefix(p, "exercises/") && strings.HasSuffix(p, ".json")
}

// VerifyArchive opens a pack archive as OpenArchive does and checks it
// completely (Check): what `stembox pack verify` and the hub's publish do.
func VerifyArchive(r io.ReaderAt, size int64, kr *Keyring, lim Limits) (*Archive, error) {
	a, err := OpenArchive(r, size, kr, lim)
	if err != nil {
		return nil, err
	}
	if err := a.Check(); err != nil {
		return nil, err
	}
	return a, nil
}

// Sets reads and parses the exercise sets of the archive (checking each
// file's hash), by id: for showing a pack's questions and answers before
// it is published (the hub's contributions).
func (a *Archive) Sets() (map[string]*learn.Set, error) {
	sets := make(map[string]*learn.Set, len(a.Manifest.Sets))
	for _, info := range a.Manifest.Sets {
		p := SetPath(info.ID)
		r, err := a.Open(p)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(r, maxCheckedText+1))
		r.Close()
		if err != nil {
			return nil, err
		}
		set, err := parseSet(&a.Manifest, p, info, b)
		if err != nil {
			return nil, invalid("%v", err)
		}
		sets[info.ID] = set
	}
	return sets, nil
}
