package markup_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/markup"
)

// FuzzInline renders arbitrary text as an exercise prompt. It may fail (bad
// formulas, unclosed $$) but must not panic, and its HTML must never hold a
// script element. Seeds are in testdata/fuzz/FuzzInline.
func FuzzInline(f *testing.F) {
	r := MustRenderer(f)
	resolve := func(dest string) (string, error) { return dest, nil }
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) || len(src) > 2000 {
			return
		}
		html, err := r.Inline(src, markup.Options{ResolveLink: resolve})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "markup: ") {
				t.Errorf("Inline(%q) error %q lacks the markup: prefix", src, err)
			}
			return
		}
		if strings.Contains(strings.ToLower(html), "<script") {
			t.Errorf("Inline(%q) = %q, which holds a script element", src, html)
		}
	})
}

func BenchmarkLesson(b *testing.B) {
	r := MustRenderer(b)
	src := MustRead(b, "typical.en.md")
	opt := markup.Options{ResolveLink: func(dest string) (string, error) { return dest, nil }}
	// Each iteration ends every formula with a new TeX comment, so that the
	// katex cache does not answer; BenchmarkLessonCached measures it warm.
	formula := regexp.MustCompile(`\$\$[^$]+\$\$|\$[^$]+\$`)
	for i := 0; b.Loop(); i++ {
		v := formula.ReplaceAllStringFunc(string(src), func(f string) string {
			body := strings.TrimRight(f, "$")
			return fmt.Sprintf("%s %%%d%s", body, i, f[len(body):])
		})
		if _, err := r.Lesson([]byte(v), opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLessonCached(b *testing.B) {
	r := MustRenderer(b)
	src := MustRead(b, "typical.en.md")
	opt := markup.Options{ResolveLink: func(dest string) (string, error) { return dest, nil }}
	for b.Loop() {
		if _, err := r.Lesson(src, opt); err != nil {
			b.Fatal(err)
		}
	}
}
