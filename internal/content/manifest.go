// Package content is the content pack: its manifest, its signature, the
// archive boxes install, building it from the source authors edit, and the
// library of installed packs a box serves from.
package content

import (
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/learn"
)

// Format is the version of the built pack format this binary reads and writes.
const Format = 1

// Manifest describes a built pack: its metadata, its index of lessons and
// exercise sets, and every file with its size and SHA-256. Its exact bytes are
// what the pack's signature covers.
type Manifest struct {
	Format         int        `json:"format"`
	ID             string     `json:"id"`
	Version        string     `json:"version"`
	Subject        string     `json:"subject"`
	Grades         []int      `json:"grades"`
	Languages      []string   `json:"languages"`
	DraftLanguages []string   `json:"draft_languages,omitempty"`
	Title          learn.Text `json:"title"`
	Description    learn.Text `json:"description,omitempty"`
	License        string     `json:"license,omitempty"`
	Authors        []string   `json:"authors,omitempty"`
	Lessons        []Lesson   `json:"lessons"`
	Sets           []SetInfo  `json:"sets"`
	Apps           []App      `json:"apps,omitempty"`
	Files          []File     `json:"files"`
	// Katex is the version of KaTeX that rendered the formulas: their HTML
	// needs the stylesheet of the same version.
	Katex string `json:"katex,omitempty"`
	// Source is the SHA-256 of the source tree the pack was built from, so a
	// box that builds packs from source can tell when they changed.
	Source string `json:"source,omitempty"`
}

// Lesson is a lesson of a pack, in teaching order.
type Lesson struct {
	ID        string     `json:"id"`
	Title     learn.Text `json:"title"`
	Exercises string     `json:"exercises,omitempty"` // id of the set practised after it
}

// SetInfo describes an exercise set.
type SetInfo struct {
	ID        string     `json:"id"`
	Title     learn.Text `json:"title"`
	Languages []string   `json:"languages"`
	Items     int        `json:"items"`
}

// File is a file of the pack.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Subjects a pack may belong to.
var Subjects = []string{"physics", "mathematics", "climate", "chemistry", "biology", "informatics", "geography"}

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	langPattern   = regexp.MustCompile(`^[a-z]{2,3}$`)
	semverPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)
)

// ValidID reports whether s can be a pack, lesson or set id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// LessonPath is the path of a lesson's rendered HTML in a built pack.
func LessonPath(lesson, lang string) string { return "lessons/" + lesson + "." + lang + ".html" }

// LessonSourcePath is the path of a lesson's Markdown source in a built
// pack (packs built before it have none).
func LessonSourcePath(lesson, lang string) string { return "lessons/" + lesson + "." + lang + ".md" }

// SetPath is the path of an exercise set in a built pack.
func SetPath(set string) string { return "exercises/" + set + ".json" }

// Lesson returns the lesson with the given id.
func (m *Manifest) Lesson(id string) (Lesson, int, bool) {
	for i, l := range m.Lessons {
		if l.ID == id {
			return l, i, true
		}
	}
	return Lesson{}, -1, false
}

// File returns the file entry for path.
func (m *Manifest) File(p string) (File, bool) {
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= p })
	if i < len(m.Files) && m.Files[i].Path == p {
		return m.Files[i], true
	}
	return File{}, false
}

// TotalSize is the sum of the sizes of the pack's files.
func (m *Manifest) TotalSize() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Validate checks everything a box relies on before it installs a pack.
func (m *Manifest) Validate() error {
	if m.Format != Format {
		return fmt.Errorf("manifest: format %d is not supported (this stembox reads format %d)", m.Format, Format)
	}
	if !ValidID(m.ID) {
		return fmt.Errorf("manifest: id %q is not valid (lower-case letters, digits and '-')", m.ID)
	}
	if !semverPattern.MatchString(m.Version) {
		return fmt.Errorf("manifest: version %q is not a semantic version like 1.2.0", m.Version)
	}
	if !slices.Contains(Subjects, m.Subject) {
		return fmt.Errorf("manifest: subject %q is not one of %s", m.Subject, strings.Join(Subjects, ", "))
	}
	if len(m.Grades) == 0 {
		return fmt.Errorf("manifest: no grades")
	}
	for _, g := range m.Grades {
		if g < 1 || g > 12 {
			return fmt.Errorf("manifest: grade %d is not between 1 and 12", g)
		}
	}
	if len(m.Languages) == 0 {
		return fmt.Errorf("manifest: no languages")
	}
	for _, l := range m.Languages {
		if !langPattern.MatchString(l) {
			return fmt.Errorf("manifest: language %q is not a language code like en, ru or tg", l)
		}
	}
	for _, l := range m.DraftLanguages {
		if !slices.Contains(m.Languages, l) {
			return fmt.Errorf("manifest: draft language %q is not one of the pack's languages", l)
		}
	}
	if m.Title[m.Languages[0]] == "" {
		return fmt.Errorf("manifest: no title in the pack's first language %q", m.Languages[0])
	}
	seen := map[string]bool{}
	for i, f := range m.Files {
		if err := CheckPath(f.Path); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if i > 0 && m.Files[i-1].Path >= f.Path {
			return fmt.Errorf("manifest: files are not sorted by path, or %q is listed twice", f.Path)
		}
		if f.Size < 0 {
			return fmt.Errorf("manifest: %s has a negative size", f.Path)
		}
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("manifest: %s has a malformed sha256 %q", f.Path, f.SHA256)
		}
		seen[f.Path] = true
	}
	for _, f := range m.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if seen[dir] {
				return fmt.Errorf("manifest: %s is both a file and the folder of %s; a pack cannot hold both", dir, f.Path)
			}
		}
	}
	sets := map[string]bool{}
	for _, s := range m.Sets {
		if !ValidID(s.ID) || sets[s.ID] {
			return fmt.Errorf("manifest: exercise set id %q is invalid or repeated", s.ID)
		}
		sets[s.ID] = true
		if !seen[SetPath(s.ID)] {
			return fmt.Errorf("manifest: exercise set %q has no file %s", s.ID, SetPath(s.ID))
		}
	}
	lessons := map[string]bool{}
	for _, l := range m.Lessons {
		lessons[l.ID] = true
	}
	if err := m.validateApps(lessons, seen); err != nil {
		return err
	}
	lessons = map[string]bool{}
	for _, l := range m.Lessons {
		if !ValidID(l.ID) || lessons[l.ID] {
			return fmt.Errorf("manifest: lesson id %q is invalid or repeated", l.ID)
		}
		lessons[l.ID] = true
		for _, lang := range m.Languages {
			if !seen[LessonPath(l.ID, lang)] {
				return fmt.Errorf("manifest: lesson %q has no file %s", l.ID, LessonPath(l.ID, lang))
			}
		}
		if l.Exercises != "" && !sets[l.Exercises] {
			return fmt.Errorf("manifest: lesson %q practises exercise set %q, which the pack lacks", l.ID, l.Exercises)
		}
	}
	return nil
}

// CheckPath refuses a path that could escape the pack's folder or mean
// different files on different systems.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':'):
		return fmt.Errorf("path %q is absolute", p)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("path %q contains a backslash or NUL", p)
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == "..":
		return fmt.Errorf("path %q is not clean or leaves the pack (..)", p)
	case p == manifestName || p == signatureName:
		return fmt.Errorf("path %q is reserved", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || strings.HasPrefix(part, ".") {
			return fmt.Errorf("path %q has a hidden or parent component", p)
		}
	}
	return nil
}

// CompareVersions compares two semantic versions: -1, 0 or 1. Pre-releases
// sort before their release; their own order is by plain string comparison.
func CompareVersions(a, b string) int {
	pa, ra, _ := strings.Cut(a, "-")
	pb, rb, _ := strings.Cut(b, "-")
	na, nb := strings.Split(pa, "."), strings.Split(pb, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(na) {
			x, _ = strconv.Atoi(na[i])
		}
		if i < len(nb) {
			y, _ = strconv.Atoi(nb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case ra == rb:
		return 0
	case ra == "":
		return 1
	case rb == "":
		return -1
	case ra < rb:
		return -1
	}
	return 1
}
