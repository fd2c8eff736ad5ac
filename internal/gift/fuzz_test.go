package gift

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// idPattern is the shape of content ids (see internal/content).
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// FuzzParse checks that Parse never panics, that its errors are *Error with
// a line inside the file, and that what it returns is valid. The seed corpus
// is in testdata/fuzz/FuzzParse, plus the sample files in testdata.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.gift")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		items, err := Parse("f.gift", src, "en")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got error of type %T, want *gift.Error: %v", err, err)
			}
			lines := 1 + strings.Count(string(src), "\n") + strings.Count(string(src), "\r")
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("got error at line %d of a file of %d lines: %v", e.Line, lines, err)
			}
			if items != nil {
				t.Fatalf("got items %v with error %v", items, err)
			}
			// ParseAll reports that problem too, and Localize says every
			// one of its problems with a key the catalogue has.
			_, all := ParseAll("f.gift", src, "en")
			if all == nil {
				t.Fatalf("Parse failed (%v), ParseAll did not", err)
			}
			for _, l := range Localize(all, "tg") {
				if strings.Contains(l, "!gift.") || strings.Contains(l, "%!") && !strings.Contains(string(src), "%!") {
					t.Fatalf("Localize: %q", l)
				}
			}
			return
		}
		ids := map[string]bool{}
		for _, it := range items {
			if err := it.Validate(); err != nil {
				t.Fatalf("got invalid item: %v", err)
			}
			if !idPattern.MatchString(it.ID) {
				t.Fatalf("got id %q, want one like %v", it.ID, idPattern)
			}
			if ids[it.ID] {
				t.Fatalf("got id %q twice", it.ID)
			}
			ids[it.ID] = true
			for _, text := range texts(&it) {
				if s, ok := text["en"]; !ok || len(text) != 1 || s == "" {
					t.Fatalf("item %q: got text %q, want one non-empty text in en", it.ID, text)
				}
			}
		}
	})
}
