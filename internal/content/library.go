package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/learn"
)

// Library is the set of packs installed on a box, in a directory:
//
//	DIR/ID/VERSION-HASH/…  an installed pack: manifest.json, manifest.sig and its files
//	DIR/ID/current         the name of the VERSION-HASH directory being served
//	DIR/.staging/          packs being installed; emptied at start
//
// An install writes a complete new directory, then switches "current" with
// an atomic rename, so a crash at any point leaves the old version serving.
// The version it replaced is kept (for a rollback) until the next install.
type Library struct {
	dir    string
	keys   *Keyring
	limits Limits

	mu       sync.RWMutex
	packs    map[string]*Pack
	problems map[string]error // per pack id, why it (or its update) is not served
	failed   map[string]failedLoad
	unserved map[string]bool // installed packs of which no version is served
	serving  *servingMarks   // set by Serve: this process serves the library

	installMu sync.Mutex // one install at a time
	// afterFile, when set (by tests), runs after each file is written during
	// an install; an error aborts the install as a crash would.
	afterFile func(path string) error
}

// Pack is an installed pack as it is served. It does not change once loaded.
type Pack struct {
	Manifest Manifest
	Name     string // VERSION-HASH: names the installed directory and appears in URLs
	Dir      string
	// Installed is when this version was installed (the directory's time),
	// the Last-Modified of its pages and files.
	Installed time.Time
	KeyID     string
	Sets      map[string]*learn.Set
}

// OpenLibrary opens the library in dir (creating it), trusting keys, and
// loads every installed pack. Packs that cannot be loaded are skipped and
// reported by Problems.
func OpenLibrary(dir string, keys *Keyring, lim Limits) (*Library, error) {
	l := &Library{dir: dir, keys: keys, limits: lim, packs: map[string]*Pack{}, problems: map[string]error{}, failed: map[string]failedLoad{}, unserved: map[string]bool{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("content: library: %w", err)
	}
	if err := os.RemoveAll(l.staging()); err != nil {
		return nil, fmt.Errorf("content: library: clean staging: %w", err)
	}
	if err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Library) staging() string { return filepath.Join(l.dir, ".staging") }

// Dir returns the library's directory.
func (l *Library) Dir() string { return l.dir }

// Reload re-reads which version of each pack is current, loading packs that
// changed since the last load (for instance, installed by another process).
// A version that does not load completely is never served: the version
// served before it stays (or, after a restart, the newest other installed
// version that loads), and Problems says why.
func (l *Library) Reload() error {
	keysErr := l.keys.Refresh()
	keys := l.keys.Generation()
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("content: library: %w", err)
	}
	l.mu.RLock()
	old, oldFailed := maps.Clone(l.packs), maps.Clone(l.failed) // an install changes them meanwhile
	l.mu.RUnlock()
	for id, p := range old {
		if !l.keys.TrustsFor(p.KeyID, id) {
			delete(old, id) // its key was revoked: load it again, and fail
		}
	}
	packs := map[string]*Pack{}
	problems := map[string]error{}
	failed := map[string]failedLoad{}
	unserved := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || !ValidID(e.Name()) {
			continue
		}
		id := e.Name()
		if refused := l.readRefused(id); refused != nil {
			problems[id] = refused
		}
		cur, err := os.ReadFile(filepath.Join(l.dir, id, "current"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // an install that never finished
		}
		if err != nil {
			problems[id] = err
			continue
		}
		name := strings.TrimSpace(string(cur))
		if p, ok := old[id]; ok && p.Name == name {
			packs[id] = p
			continue
		}
		var lerr error
		sig, _ := os.ReadFile(filepath.Join(l.dir, id, name, signatureName))
		if f, ok := oldFailed[id]; ok && f.name == name && f.keys == keys && f.sig == string(sig) {
			lerr = f.err // it failed already: do not read it again every reload
		} else if p, err := l.load(id, name); err == nil {
			packs[id] = p
			continue
		} else {
			lerr = err
		}
		failed[id] = failedLoad{name: name, err: lerr, keys: keys, sig: string(sig)}
		prev, ok := old[id]
		if !ok {
			prev = l.fallback(id, name)
		}
		if prev == nil {
			problems[id] = lerr
			unserved[id] = true
			continue
		}
		packs[id] = prev
		problems[id] = fmt.Errorf("%s is still served, because the installed update does not load: %w", prev.Manifest.Version, lerr)
	}
	l.mu.Lock()
	l.packs, l.problems, l.failed, l.unserved = packs, problems, failed, unserved
	l.mu.Unlock()
	l.markServed(packs)
	return keysErr
}

// failedLoad is an installed version that did not load.
type failedLoad struct {
	name string
	err  error
	keys uint64 // the keyring's generation then: a new key may make it load
	sig  string // its signature then: signed again, it may load
}

// fallback loads the newest installed version of pack id other than skip,
// or returns nil if none loads.
func (l *Library) fallback(id, skip string) *Pack {
	entries, err := os.ReadDir(filepath.Join(l.dir, id))
	if err != nil {
		return nil
	}
	var best *Pack
	for _, e := range entries {
		if !e.IsDir() || e.Name() == skip || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p, err := l.load(id, e.Name())
		if err != nil {
			continue
		}
		if best == nil || CompareVersions(p.Manifest.Version, best.Manifest.Version) > 0 {
			best = p
		}
	}
	return best
}

// refusedName, in a pack's folder, says why the last update of the pack
// was refused; a successful install removes it.
const refusedName = "refused"

func (l *Library) readRefused(id string) error {
	b, err := os.ReadFile(filepath.Join(l.dir, id, refusedName))
	if err != nil || len(b) == 0 {
		return nil
	}
	return errors.New(strings.TrimSpace(string(b)))
}

// refuse records why an update of a pack (whose signature verified) was
// refused, where this process's Problems and every other's reload see it.
func (l *Library) refuse(m *Manifest, cause error) error {
	msg := fmt.Errorf("update to %s refused, %w", m.Version, cause)
	l.mu.Lock()
	if cur, ok := l.packs[m.ID]; ok {
		msg = fmt.Errorf("%s is still served; update to %s refused, %w", cur.Manifest.Version, m.Version, cause)
	}
	l.problems[m.ID] = msg
	l.mu.Unlock()
	dir := filepath.Join(l.dir, m.ID)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		writeFileAtomic(filepath.Join(dir, refusedName), []byte(msg.Error()+"\n"), 0o644)
	}
	return cause
}

// load reads an installed pack, verifying its signature and that each file is
// present with its declared size. (Hashes were checked when it was installed.)
func (l *Library) load(id, name string) (*Pack, error) {
	if strings.ContainsAny(name, "/\\") || name == "" || strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("content: %s: bad current version %q", id, name)
	}
	dir := filepath.Join(l.dir, id, name)
	mb, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("content: %s: %w", id, err)
	}
	sig, err := os.ReadFile(filepath.Join(dir, signatureName))
	if err != nil {
		return nil, fmt.Errorf("content: %s: %w", id, err)
	}
	keyID, err := l.keys.Verify(mb, sig)
	if err != nil {
		return nil, fmt.Errorf("content: %s: %w", id, err)
	}
	p := &Pack{Name: name, Dir: dir, KeyID: keyID, Sets: map[string]*learn.Set{}}
	if st, err := os.Stat(filepath.Join(dir, manifestName)); err == nil {
		p.Installed = st.ModTime().UTC().Truncate(time.Second)
	}
	if err := json.Unmarshal(mb, &p.Manifest); err != nil {
		return nil, fmt.Errorf("content: %s: manifest: %w", id, err)
	}
	if err := p.Manifest.Validate(); err != nil {
		return nil, fmt.Errorf("content: %s: %w", id, err)
	}
	if p.Manifest.ID != id {
		return nil, fmt.Errorf("content: %s: installed pack says it is %q", id, p.Manifest.ID)
	}
	for _, f := range p.Manifest.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || st.Size() != f.Size {
			return nil, fmt.Errorf("content: %s: %s is missing or has the wrong size; reinstall the pack", id, f.Path)
		}
	}
	sets, err := checkLoad(&p.Manifest, func(rel string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	})
	if err != nil {
		return nil, fmt.Errorf("content: %s %s: %w", id, p.Manifest.Version, err)
	}
	p.Sets = sets
	return p, nil
}

// Packs returns the installed packs by subject, lowest grade and id.
func (l *Library) Packs() []*Pack {
	l.mu.RLock()
	out := make([]*Pack, 0, len(l.packs))
	for _, p := range l.packs {
		out = append(out, p)
	}
	l.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Manifest, out[j].Manifest
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Grades[0] != b.Grades[0] {
			return a.Grades[0] < b.Grades[0]
		}
		return a.ID < b.ID
	})
	return out
}

// Pack returns the installed pack with the given id.
func (l *Library) Pack(id string) (*Pack, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	p, ok := l.packs[id]
	return p, ok
}

// Problems returns, per pack id, why an installed pack, or the update of
// one, is not being served.
func (l *Library) Problems() map[string]error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]error, len(l.problems))
	for k, v := range l.problems {
		out[k] = v
	}
	return out
}

// InstallOptions change how Install treats a pack that is not newer than
// the version served. By default a box never goes back: an older version
// is refused, and so is another build of the version served (a peer's or a
// hub's copy whose manifest differs: two packs under one version is a
// conflict a person must sort out). Every way in — `stembox pack install`,
// a hub's pull, a peer's copy, a USB stick, the dev packs built at start —
// goes through this one rule.
type InstallOptions struct {
	// Rollback installs the pack even if it is older than the version
	// served, or another build of it: an admin's explicit choice
	// (`stembox pack install --rollback`).
	Rollback bool
	// Rebuild lets another build of the version served replace it when
	// both are signed by the same key: a pack rebuilt from edited source
	// without a new version number (the dev packs of `--dev-packs`). An
	// older version is still refused.
	Rebuild bool
}

// InstallResult says what an install did.
type InstallResult struct {
	Pack      *Pack
	Replaced  string // the version it replaced, if any
	Unchanged bool   // that exact pack was already being served
}

// InstallFile installs the pack archive at path.
func (l *Library) InstallFile(path string, opt InstallOptions) (InstallResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return InstallResult{}, failure.Wrap(failure.Invalid, err, fmt.Sprintf("pack: cannot read %s", path))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return InstallResult{}, fmt.Errorf("content: %w", err)
	}
	return l.Install(f, st.Size(), opt)
}

// Install verifies the pack archive in r and installs it atomically. Nothing
// already installed changes unless the whole new pack verified, is on disk
// and loaded completely: only then does it become the version served.
func (l *Library) Install(r io.ReaderAt, size int64, opt InstallOptions) (InstallResult, error) {
	a, err := openArchive(r, size, l.keys, l.limits)
	if err != nil {
		if a != nil && a.KeyID != "" && ValidID(a.Manifest.ID) {
			// A trusted signer's pack that is refused: say so on the box.
			return InstallResult{}, l.refuse(&a.Manifest, err)
		}
		return InstallResult{}, err
	}
	m := &a.Manifest
	l.installMu.Lock()
	defer l.installMu.Unlock()

	sum := sha256.Sum256(a.ManifestBytes)
	name := m.Version + "-" + hex.EncodeToString(sum[:6])
	var res InstallResult
	previous := ""
	if cur, ok := l.Pack(m.ID); ok {
		if cur.Name == name {
			return InstallResult{Pack: cur, Unchanged: true}, nil
		}
		if err := notNewer(m, a.KeyID, cur, opt); err != nil {
			return InstallResult{}, err
		}
		res.Replaced = cur.Manifest.Version
		previous = cur.Name
	} else if cur := l.installedElsewhere(m.ID); cur != nil && cur.Name != name {
		// Installed, but not served by this process (another one, which
		// trusts other keys, may serve it): it still may not go back.
		if err := notNewer(m, a.KeyID, cur, opt); err != nil {
			return InstallResult{}, err
		}
		res.Replaced = cur.Manifest.Version
	}
	if err := a.Check(); err != nil {
		return InstallResult{}, l.refuse(m, err)
	}

	packDir := filepath.Join(l.dir, m.ID)
	final := filepath.Join(packDir, name)
	if _, err := os.Stat(final); err != nil {
		if err := l.extract(a, packDir, name); err != nil {
			return InstallResult{}, err
		}
	} else if err := resign(final, a.Signature); err != nil {
		return InstallResult{}, err
	}
	// Load the new version completely before it becomes current.
	p, err := l.load(m.ID, name)
	if err != nil {
		if cur, _ := os.ReadFile(filepath.Join(packDir, "current")); strings.TrimSpace(string(cur)) != name {
			os.RemoveAll(final)
		}
		return InstallResult{}, l.refuse(m, failure.Wrap(failure.Invalid, err, "pack: "+err.Error()))
	}
	onDisk := currentName(packDir) // the version another process may serve
	if err := writeFileAtomic(filepath.Join(packDir, "current"), []byte(name+"\n"), 0o644); err != nil {
		return InstallResult{}, err
	}
	os.Remove(filepath.Join(packDir, refusedName))
	l.mu.Lock()
	l.packs[m.ID] = p
	delete(l.problems, m.ID)
	delete(l.failed, m.ID)
	delete(l.unserved, m.ID)
	l.mu.Unlock()
	l.markServed(map[string]*Pack{m.ID: p})
	l.prune(packDir, name, previous, onDisk, servedName(packDir))
	res.Pack = p
	return res, nil
}

// notNewer refuses a pack m (signed by keyID) that would take the box
// back: older than cur, or another build of cur's version; see
// InstallOptions.
func notNewer(m *Manifest, keyID string, cur *Pack, opt InstallOptions) error {
	if opt.Rollback {
		return nil
	}
	switch c := CompareVersions(m.Version, cur.Manifest.Version); {
	case c < 0:
		return refused(RefusedOlder, failure.Errorf(failure.Conflict,
			"pack: %s %s is older than the installed %s; kept the newer version (to roll back, install it with --rollback)", m.ID, m.Version, cur.Manifest.Version))
	case c == 0 && !(opt.Rebuild && keyID == cur.KeyID):
		return refused(RefusedOtherBuild, failure.Errorf(failure.Conflict,
			"pack: another build of %s %s is installed (its manifest differs); kept the installed one (a new build needs a new version number, or install it with --rollback)", m.ID, m.Version))
	}
	return nil
}

// extract writes every file of a into a staging directory, checking each
// against the manifest, syncs it all, and moves it to packDir/name.
func (l *Library) extract(a *Archive, packDir, name string) error {
	if err := os.MkdirAll(l.staging(), 0o755); err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	tmp, err := os.MkdirTemp(l.staging(), a.Manifest.ID+"-")
	if err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	dirs := map[string]bool{tmp: true}
	write := func(rel string, r io.Reader) error {
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		for d := filepath.Dir(dst); d != tmp && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if l.afterFile != nil {
			return l.afterFile(rel)
		}
		return nil
	}
	for _, f := range a.Manifest.Files {
		rc, err := a.Open(f.Path)
		if err != nil {
			return err
		}
		err = write(f.Path, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("content: install %s: %w", f.Path, err)
		}
	}
	if err := write(manifestName, bytes.NewReader(a.ManifestBytes)); err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	if err := write(signatureName, bytes.NewReader(a.Signature)); err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(packDir, name)); err != nil {
		return fmt.Errorf("content: install: %w", err)
	}
	if err := syncDir(packDir); err != nil {
		return err
	}
	return syncDir(l.dir)
}

// prune removes installed versions of a pack other than the current one and
// the one it replaced.
func (l *Library) prune(packDir string, keep ...string) {
	entries, err := os.ReadDir(packDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || slices.Contains(keep, e.Name()) {
			continue
		}
		os.RemoveAll(filepath.Join(packDir, e.Name()))
	}
}

// FilePath returns the path on disk of a file of the pack, or false if the
// manifest does not list it.
func (p *Pack) FilePath(rel string) (string, File, bool) {
	f, ok := p.Manifest.File(rel)
	if !ok {
		return "", File{}, false
	}
	return filepath.Join(p.Dir, filepath.FromSlash(rel)), f, true
}

// LessonHTML returns a lesson's rendered HTML in lang.
func (p *Pack) LessonHTML(lesson, lang string) ([]byte, error) {
	path, _, ok := p.FilePath(LessonPath(lesson, lang))
	if !ok {
		return nil, failure.Errorf(failure.NotFound, "pack %s has no lesson %s in %s", p.Manifest.ID, lesson, lang)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	return b, nil
}
