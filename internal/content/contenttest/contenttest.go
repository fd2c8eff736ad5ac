// Package contenttest helps tests that need real content packs: a shared
// builder, the small test pack every feature of the format is used in, and a
// way to copy pack sources so a test may change them.
package contenttest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/markup"
)

var (
	once    sync.Once
	builder *content.Builder
	err     error
)

// Builder returns a pack builder shared by a test binary (KaTeX takes a
// moment to start).
func Builder(tb testing.TB) *content.Builder {
	tb.Helper()
	once.Do(func() {
		var k *katex.Renderer
		if k, err = katex.New(); err == nil {
			builder = &content.Builder{Markup: markup.New(k)}
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return builder
}

// MiniDir is the source folder of the test pack "mini": two lessons in
// English and Russian, an exercise set of every kind in YAML, and a GIFT set.
func MiniDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "mini")
}

// Signer returns a new signing key.
func Signer(tb testing.TB) *content.Signer {
	tb.Helper()
	s, err := content.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Build builds the pack source in dir, signs it with s, and returns the
// archive's bytes.
func Build(tb testing.TB, dir string, s *content.Signer) []byte {
	tb.Helper()
	built, err := Builder(tb).Build(dir)
	if err != nil {
		tb.Fatalf("build %s: %v", dir, err)
	}
	var buf bytes.Buffer
	if err := built.Write(&buf, s); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// CopyTree copies the folder src to dst (created), for a test to change.
func CopyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
