package box_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The layers of docs/architecture.md: a package may import packages of its
// own layer and of the layers above it in this list, never below. Every
// package under internal/ must be named here, so that a new one is placed
// on purpose.
var layers = []struct {
	name     string
	packages []string
}{
	{"domain (no I/O)", []string{"event", "school", "learn", "auth", "failure", "redirect", "roster", "gift", "studio", "picture", "markup", "katex", "i18n", "upstream/wire"}},
	{"infrastructure", []string{"clock", "timekeeper", "durable", "migrate", "httplog", "serve", "metrics", "ops", "term", "discovery"}},
	{"storage and packs", []string{"store", "content", "peer"}},
	{"features", []string{"gradebook", "live", "upstream", "server", "hub"}},
	{"assembly", []string{"box", "tour"}},
}

// apart are pairs that share a layer but must not meet: the hub is another
// program than the box, and talks to it only through upstream/wire.
var apart = map[string][]string{
	"hub":      {"live", "upstream", "server", "store", "peer", "box"},
	"server":   {"hub"},
	"upstream": {"hub", "server", "live"},
	"live":     {"server", "upstream", "hub"},
}

const module = "github.com/mitstem/stembox/"

// TestLayers checks the import rules of docs/architecture.md on the real
// import lists of every package's non-test files.
func TestLayers(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l.packages {
			layerOf[p] = i
		}
	}
	root := filepath.Join("..", "..")
	dirs := map[string]string{} // package (under internal/) → dir
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			if d != nil && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return err
		}
		if _, err := build.ImportDir(path, 0); err != nil {
			return nil // no Go files, or only tests
		}
		rel, _ := filepath.Rel(filepath.Join(root, "internal"), path)
		dirs[filepath.ToSlash(rel)] = path
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 20 {
		t.Fatalf("found %d packages under internal/, want the whole tree", len(dirs))
	}
	var names []string
	for p := range dirs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		pkg, _ := build.ImportDir(dirs[p], 0)
		helper := strings.HasSuffix(p, "test") // contenttest, hubtest, logtest, …: for tests only
		mine, placed := layerOf[p]
		if !placed && !helper {
			t.Errorf("internal/%s is in no layer: place it in TestLayers and docs/architecture.md", p)
			continue
		}
		for _, imp := range pkg.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"internal/")
			if dep == imp || helper {
				continue // web/, or a test helper's own imports
			}
			if strings.HasSuffix(dep, "test") {
				t.Errorf("internal/%s imports the test helper %s outside its tests", p, dep)
				continue
			}
			theirs, ok := layerOf[dep]
			if ok && theirs > mine {
				t.Errorf("internal/%s (%s) imports internal/%s (%s), a layer below it", p, layers[mine].name, dep, layers[theirs].name)
			}
			for _, no := range apart[p] {
				if dep == no {
					t.Errorf("internal/%s imports internal/%s, which it must not meet", p, dep)
				}
			}
		}
	}
}
