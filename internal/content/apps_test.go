package content_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// TestBuildApps builds a pack with a single-file app embedded in a lesson
// and a folder app, and checks the manifest, the lesson's frame and the
// archive's verification.
func TestBuildApps(t *testing.T) {
	dir := copyTree(t, contenttest.MiniDir())
	contenttest.AddApp(t, dir, "slope", []byte("<!doctype html><title>Slope</title><script>1</script>"), "force")
	os.MkdirAll(filepath.Join(dir, "apps", "lab", "img"), 0o755)
	os.WriteFile(filepath.Join(dir, "apps", "lab", "index.html"), []byte(`<!doctype html><script src="lab.js"></script>`), 0o644)
	os.WriteFile(filepath.Join(dir, "apps", "lab", "lab.js"), []byte(`parent.postMessage({}, "*")`), 0o644)
	os.WriteFile(filepath.Join(dir, "apps", "lab", "img", "a.png"), []byte("png"), 0o644)
	appendFile(t, filepath.Join(dir, "pack.yaml"), "  - id: lab\n    title: {en: Lab, ru: Лаборатория}\n    grades: [7, 8]\n")

	built, err := mustBuilder(t).Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := built.Manifest
	if len(m.Apps) != 2 {
		t.Fatalf("the manifest lists apps %+v, want slope and lab", m.Apps)
	}
	slope, lab := m.Apps[0], m.Apps[1]
	if slope.Entry != "apps/slope.html" || !slope.Single() || slope.Lesson != "force" || slope.Title["ru"] != "Приложение slope" {
		t.Errorf("slope is %+v", slope)
	}
	if lab.Entry != "apps/lab/index.html" || lab.Single() || lab.Scope() != "apps/lab/" || len(lab.Grades) != 2 {
		t.Errorf("lab is %+v", lab)
	}
	for _, p := range []string{"apps/slope.html", "apps/lab/index.html", "apps/lab/lab.js", "apps/lab/img/a.png"} {
		if _, ok := m.File(p); !ok {
			t.Errorf("the manifest lacks %s", p)
		}
		if a, ok := m.AppOf(p); !ok || !a.Owns(p) {
			t.Errorf("AppOf(%s) = %+v, %v", p, a, ok)
		}
	}
	if _, ok := m.AppOf("apps/slope.html.bak"); ok {
		t.Error("a file beside a single-file app is said to be the app's")
	}

	s := mustSigner(t)
	var buf bytes.Buffer
	if err := built.Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	a, err := content.VerifyArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	r, err := a.Open(content.LessonPath("force", "ru"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var html bytes.Buffer
	html.ReadFrom(r)
	if want := `<iframe src="pack:apps/slope.html#lang=ru" sandbox="allow-scripts" title="Приложение slope"`; !strings.Contains(html.String(), want) {
		t.Errorf("the Russian lesson reads\n%s\nwant it to embed %s", html.String(), want)
	}
}

func TestBuildAppErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(dir string)
		want string
	}{
		{"no page", func(dir string) {
			appendFile(t, filepath.Join(dir, "pack.yaml"), "apps:\n  - id: ghost\n    title: Ghost\n")
		}, `app "ghost": no file apps/ghost.html and no folder apps/ghost/ with an index.html`},
		{"folder without index", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "apps", "lab"), 0o755)
			os.WriteFile(filepath.Join(dir, "apps", "lab", "main.html"), []byte("x"), 0o644)
			appendFile(t, filepath.Join(dir, "pack.yaml"), "apps:\n  - id: lab\n    title: Lab\n")
		}, "the folder apps/lab has no index.html"},
		{"a file of no app", func(dir string) {
			contenttest.AddApp(t, dir, "slope", []byte("x"), "")
			os.WriteFile(filepath.Join(dir, "apps", "stray.js"), []byte("x"), 0o644)
		}, "apps/stray.js belongs to no app"},
		{"no title", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "apps"), 0o755)
			os.WriteFile(filepath.Join(dir, "apps", "a.html"), []byte("x"), 0o644)
			appendFile(t, filepath.Join(dir, "pack.yaml"), "apps:\n  - id: a\n")
		}, "app a: title is missing"},
		{"unknown lesson", func(dir string) {
			contenttest.AddApp(t, dir, "slope", []byte("x"), "")
			appendFile(t, filepath.Join(dir, "pack.yaml"), "    lesson: nowhere\n")
		}, `app "slope" belongs to lesson "nowhere"`},
		{"unknown field", func(dir string) {
			contenttest.AddApp(t, dir, "slope", []byte("x"), "")
			appendFile(t, filepath.Join(dir, "pack.yaml"), "    entry: x.html\n")
		}, `unknown field "entry"`},
		{"embedding a missing app", func(dir string) {
			appendFile(t, filepath.Join(dir, "lessons", "speed.en.md"), "\n\n::app nothing\n")
		}, `lessons/speed.en.md: markup: line`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t, contenttest.MiniDir())
			c.edit(dir)
			_, err := mustBuilder(t).Build(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func appendFile(tb testing.TB, name, text string) {
	tb.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		tb.Fatal(err)
	}
}
