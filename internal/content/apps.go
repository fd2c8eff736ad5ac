package content

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mitstem/stembox/internal/learn"
)

// App is an interactive page of a pack (a simulation, a virtual lab): an
// HTML file with its scripts, styles, images and data, served to browsers
// in a sandbox (docs/pack-format.md, "Apps"). It is either one file,
// apps/ID.html (as PhET publishes its simulations), or a folder, apps/ID/,
// whose page is apps/ID/index.html.
type App struct {
	ID     string     `json:"id"`
	Title  learn.Text `json:"title"`
	Entry  string     `json:"entry"` // the page that starts it
	Grades []int      `json:"grades,omitempty"`
	Lesson string     `json:"lesson,omitempty"` // the lesson it belongs to
}

// AppsDir is the folder of a pack that holds its apps.
const AppsDir = "apps/"

// singleEntry and folderEntry are the two places an app's page may be.
func singleEntry(id string) string { return AppsDir + id + ".html" }
func folderEntry(id string) string { return AppsDir + id + "/index.html" }

// Single reports whether the app is one file.
func (a *App) Single() bool { return a.Entry == singleEntry(a.ID) }

// Scope is the path of the app's one file, or its folder with a final
// '/': every file it may load starts with it.
func (a *App) Scope() string {
	if a.Single() {
		return a.Entry
	}
	return AppsDir + a.ID + "/"
}

// Owns reports whether the pack file at p is one of the app's.
func (a *App) Owns(p string) bool {
	if a.Single() {
		return p == a.Entry
	}
	return strings.HasPrefix(p, a.Scope())
}

// App returns the app with the given id.
func (m *Manifest) App(id string) (App, bool) {
	for _, a := range m.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return App{}, false
}

// AppOf returns the app a file of the pack belongs to.
func (m *Manifest) AppOf(p string) (App, bool) {
	if !strings.HasPrefix(p, AppsDir) {
		return App{}, false
	}
	for _, a := range m.Apps {
		if a.Owns(p) {
			return a, true
		}
	}
	return App{}, false
}

// validateApps checks the apps of a manifest: ids, titles, pages, grades,
// lessons, and that every file under apps/ belongs to exactly one app.
func (m *Manifest) validateApps(lessons, files map[string]bool) error {
	ids := map[string]bool{}
	for _, a := range m.Apps {
		if !ValidID(a.ID) || ids[a.ID] {
			return fmt.Errorf("manifest: app id %q is invalid or repeated", a.ID)
		}
		ids[a.ID] = true
		if a.Entry != singleEntry(a.ID) && a.Entry != folderEntry(a.ID) {
			return fmt.Errorf("manifest: app %q starts at %q, not at %s or %s", a.ID, a.Entry, singleEntry(a.ID), folderEntry(a.ID))
		}
		if !files[a.Entry] {
			return fmt.Errorf("manifest: app %q has no file %s", a.ID, a.Entry)
		}
		if a.Title[m.Languages[0]] == "" {
			return fmt.Errorf("manifest: app %q has no title in the pack's first language %q", a.ID, m.Languages[0])
		}
		for _, g := range a.Grades {
			if g < 1 || g > 12 {
				return fmt.Errorf("manifest: app %q: grade %d is not between 1 and 12", a.ID, g)
			}
		}
		if a.Lesson != "" && !lessons[a.Lesson] {
			return fmt.Errorf("manifest: app %q belongs to lesson %q, which the pack lacks", a.ID, a.Lesson)
		}
	}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, AppsDir) {
			continue
		}
		owners := 0
		for _, a := range m.Apps {
			if a.Owns(f.Path) {
				owners++
			}
		}
		if owners != 1 {
			return fmt.Errorf("manifest: %s belongs to no app of the pack (an app is apps/ID.html or the folder apps/ID/)", f.Path)
		}
	}
	return nil
}

// sourceApp is an app as pack.yaml lists it.
type sourceApp struct {
	ID     string     `yaml:"id"`
	Title  sourceText `yaml:"title"`
	Grades []int      `yaml:"grades"`
	Lesson string     `yaml:"lesson"`
	line   int
}

func (a *sourceApp) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceApp
	if err := decodeStrict(n, (*plain)(a)); err != nil {
		return err
	}
	a.line = n.Line
	return nil
}

// buildApps finds each app's page in the source folder dir and makes the
// manifest's entries; files lists the source's files under apps/.
func (b *Builder) buildApps(dir string, sp *sourcePack, files []string) ([]App, error) {
	var out []App
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	for _, sa := range sp.Apps {
		if !ValidID(sa.ID) {
			return nil, fmt.Errorf("pack.yaml:%d: app id %q is invalid (a-z, 0-9, -)", sa.line, sa.ID)
		}
		a := App{ID: sa.ID, Grades: sa.Grades, Lesson: sa.Lesson}
		single, folder := have[singleEntry(sa.ID)], have[folderEntry(sa.ID)]
		switch {
		case single && folder:
			return nil, fmt.Errorf("pack.yaml:%d: app %q is both %s and the folder %s; keep one", sa.line, sa.ID, singleEntry(sa.ID), AppsDir+sa.ID+"/")
		case single:
			a.Entry = singleEntry(sa.ID)
		case folder:
			a.Entry = folderEntry(sa.ID)
		default:
			if _, err := os.Stat(filepath.Join(dir, "apps", sa.ID)); err == nil {
				return nil, fmt.Errorf("pack.yaml:%d: app %q: the folder apps/%s has no index.html", sa.line, sa.ID, sa.ID)
			}
			return nil, fmt.Errorf("pack.yaml:%d: app %q: no file %s and no folder apps/%s/ with an index.html", sa.line, sa.ID, singleEntry(sa.ID), sa.ID)
		}
		var err error
		if a.Title, err = b.plainText("pack.yaml", "app "+sa.ID+": title", sa.Title, sp.Languages, true); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
