package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/markup"
)

// PackURLScheme prefixes links from a built lesson to files of its own pack
// ("pack:media/slope.svg"). The box replaces it with the URL it serves the
// pack's files from, which the builder cannot know.
const PackURLScheme = "pack:"

// Builder turns a pack's source folder into a built pack.
type Builder struct {
	Markup *markup.Renderer
}

// Built is a pack built in memory, ready to be signed and written.
type Built struct {
	Manifest Manifest
	rendered map[string][]byte // lessons and exercise sets
	dir      string            // the source folder, for media
}

// Build reads, checks and renders the pack in dir. Errors name the file and,
// where there is one, the line.
func (b *Builder) Build(dir string) (*Built, error) {
	sp, err := readSourcePack(dir)
	if err != nil {
		return nil, err
	}
	bt := &Built{rendered: map[string][]byte{}, dir: dir}
	m := &bt.Manifest
	*m = Manifest{
		Format: Format, ID: sp.ID, Version: sp.Version, Subject: sp.Subject, Grades: sp.Grades,
		Languages: sp.Languages, DraftLanguages: sp.DraftLanguages, License: sp.License, Authors: sp.Authors,
		Katex: katex.Version(),
	}
	if len(sp.Languages) == 0 {
		return nil, fmt.Errorf("pack.yaml: languages: list at least one language")
	}
	if m.Title, err = b.plainText("pack.yaml", "title", sp.Title, sp.Languages, true); err != nil {
		return nil, err
	}
	if m.Description, err = b.plainText("pack.yaml", "description", sp.Description, sp.Languages, false); err != nil {
		return nil, err
	}
	media, err := listFiles(dir, "media")
	if err != nil {
		return nil, err
	}
	appFiles, err := listFiles(dir, "apps")
	if err != nil {
		return nil, err
	}
	if m.Apps, err = b.buildApps(dir, sp, appFiles); err != nil {
		return nil, err
	}
	sets := map[string]bool{}
	for _, ref := range sp.Exercises {
		info, err := b.buildSet(bt, dir, ref, sp, media)
		if err != nil {
			return nil, err
		}
		if sets[info.ID] {
			return nil, fmt.Errorf("pack.yaml:%d: exercise set %q is listed twice", ref.line, ref.ID)
		}
		sets[info.ID] = true
		m.Sets = append(m.Sets, info)
	}
	lessons := map[string]bool{}
	for _, sl := range sp.Lessons {
		if !ValidID(sl.ID) || lessons[sl.ID] {
			return nil, fmt.Errorf("pack.yaml:%d: lesson id %q is invalid (a-z, 0-9, -) or repeated", sl.line, sl.ID)
		}
		lessons[sl.ID] = true
		if sl.Exercises != "" && !sets[sl.Exercises] {
			return nil, fmt.Errorf("pack.yaml:%d: lesson %q practises exercise set %q, which is not under exercises:", sl.line, sl.ID, sl.Exercises)
		}
		l := Lesson{ID: sl.ID, Exercises: sl.Exercises, Title: learn.Text{}}
		for _, lang := range sp.Languages {
			name := "lessons/" + sl.ID + "." + lang + ".md"
			src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil {
				return nil, fmt.Errorf("pack.yaml:%d: lesson %q in %s: %w", sl.line, sl.ID, lang, err)
			}
			doc, err := b.Markup.Lesson(src, markup.Options{ResolveLink: resolver(media), App: appEmbedder(m.Apps, lang)})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			l.Title[lang] = doc.Title
			bt.rendered[LessonPath(sl.ID, lang)] = []byte(doc.HTML)
			// The Markdown too, for a teacher to copy and edit (the studio).
			bt.rendered[LessonSourcePath(sl.ID, lang)] = src
		}
		m.Lessons = append(m.Lessons, l)
	}
	if len(m.Lessons) == 0 && len(m.Sets) == 0 && len(m.Apps) == 0 {
		return nil, fmt.Errorf("pack.yaml: the pack has no lessons, exercise sets or apps")
	}
	if m.Source, err = SourceHash(dir); err != nil {
		return nil, err
	}
	for p, data := range bt.rendered {
		m.Files = append(m.Files, fileEntry(p, data))
	}
	for _, p := range append(media, appFiles...) {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		m.Files = append(m.Files, fileEntry(p, data))
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pack.yaml: %w", err)
	}
	return bt, nil
}

func fileEntry(p string, data []byte) File {
	sum := sha256.Sum256(data)
	return File{Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

// Write signs the manifest with s and writes the pack archive to w.
func (bt *Built) Write(w io.Writer, s *Signer) error {
	mb, err := json.MarshalIndent(bt.Manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	return WriteArchive(w, mb, s.Sign(mb), func(p string) (io.ReadCloser, error) {
		if data, ok := bt.rendered[p]; ok {
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		return os.Open(filepath.Join(bt.dir, filepath.FromSlash(p)))
	})
}

// WriteFile signs and writes the pack as ID-VERSION.stempack in outDir and
// returns the file's path. The file appears whole or not at all.
func (bt *Built) WriteFile(outDir string, s *Signer) (string, error) {
	var buf bytes.Buffer
	if err := bt.Write(&buf, s); err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	out := filepath.Join(outDir, ArchiveName(bt.Manifest.ID, bt.Manifest.Version))
	return out, writeFileAtomic(out, buf.Bytes(), 0o644)
}

// listFiles lists the files under dir/sub (media, apps) as pack paths.
// Hidden files are skipped; links and special files are refused, since a
// pack must carry its files itself.
func listFiles(dir, sub string) ([]string, error) {
	var out []string
	root := filepath.Join(dir, sub)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is a link or special file; copy the file into the pack instead", rel)
		}
		if err := CheckPath(rel); err != nil {
			return err
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pack: %s: %w", sub, err)
	}
	sort.Strings(out)
	return out, nil
}

// appEmbedder resolves a lesson's app directive (::app ID) to the app's
// page, as a pack: link, and its title in lang.
func appEmbedder(apps []App, lang string) func(id string) (markup.App, error) {
	return func(id string) (markup.App, error) {
		for _, a := range apps {
			if a.ID == id {
				// The app learns the lesson's language from its URL's fragment.
				return markup.App{ID: id, Src: PackURLScheme + a.Entry + "#lang=" + lang, Title: a.Title[lang]}, nil
			}
		}
		return markup.App{}, fmt.Errorf("the pack has no app %q (list it under apps: in pack.yaml)", id)
	}
}

// resolver checks the links of a lesson or exercise: files of the pack must
// exist under media/, outside links must be http(s) or mailto.
func resolver(media []string) func(string) (string, error) {
	have := map[string]bool{}
	for _, m := range media {
		have[m] = true
	}
	return func(dest string) (string, error) {
		if strings.HasPrefix(dest, "#") {
			return dest, nil
		}
		u, err := url.Parse(dest)
		if err != nil {
			return "", fmt.Errorf("link %q: %v", dest, err)
		}
		switch u.Scheme {
		case "http", "https", "mailto":
			return dest, nil
		case "":
		default:
			return "", fmt.Errorf("link %q: only http, https and mailto links, and files of the pack, are allowed", dest)
		}
		p := path.Clean(strings.TrimPrefix(u.Path, "./"))
		if err := CheckPath(p); err != nil {
			return "", fmt.Errorf("link %q: %v", dest, err)
		}
		if !have[p] {
			return "", fmt.Errorf("link %q: the pack has no file %s (media files go under media/)", dest, p)
		}
		out := PackURLScheme + p
		if u.Fragment != "" {
			out += "#" + u.Fragment
		}
		return out, nil
	}
}

// plainText checks a text of pack.yaml: present in every language (when
// required), and plain (it is shown as text, not rendered).
func (b *Builder) plainText(file, field string, t sourceText, langs []string, required bool) (learn.Text, error) {
	out := learn.Text{}
	if t.empty() {
		if required {
			return nil, fmt.Errorf("%s: %s is missing", file, field)
		}
		return out, nil
	}
	for _, lang := range langs {
		s, ok := t.in(lang)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s has no %s text", file, t.line, field, lang)
		}
		out[lang] = strings.TrimSpace(s)
	}
	return out, nil
}

// SourceHash is the SHA-256 of a source folder's files (paths and contents,
// hidden files skipped): it changes exactly when the source does.
func SourceHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("pack: hash source: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
