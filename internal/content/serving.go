package content

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Two processes share a library: the running box serves it, and commands
// (stembox pack install, sync import, peer copy) install into it beside
// the box. They may trust different keys for a while (serve --trust, a key
// list the other has not read yet), so an install must never take away
// the version the box serves: the box writes the version it serves into
// DIR/ID/serving, and an install keeps that version, the one it replaced
// and the one "current" named before it, whoever serves them.

// servedMarkName is the file, in a pack's folder, naming the version the
// serving process serves.
const servedMarkName = "serving"

// servingMarks remembers which versions this process marked as served.
type servingMarks struct {
	mu   sync.Mutex
	name map[string]string // by pack id
}

// Serve says that this process serves the library (the box does; commands
// beside it do not): it marks the version of each pack it serves, so that
// another process's install keeps it on disk.
func (l *Library) Serve() {
	l.mu.Lock()
	if l.serving == nil {
		l.serving = &servingMarks{name: map[string]string{}}
	}
	packs := l.packs
	l.mu.Unlock()
	l.markServed(packs)
}

// markServed writes the serving mark of the packs whose served version
// changed.
func (l *Library) markServed(packs map[string]*Pack) {
	l.mu.RLock()
	m := l.serving
	l.mu.RUnlock()
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, p := range packs {
		if m.name[id] == p.Name {
			continue
		}
		if servedName(filepath.Join(l.dir, id)) == p.Name { // marked by an earlier run
			m.name[id] = p.Name
			continue
		}
		if err := writeFileAtomic(filepath.Join(l.dir, id, servedMarkName), []byte(p.Name+"\n"), 0o644); err == nil {
			m.name[id] = p.Name
		}
	}
}

// Keys returns the keys the library trusts.
func (l *Library) Keys() *Keyring { return l.keys }

// Unserved returns, per pack id, why an installed pack is not served at
// all (no version of it loads): students following a link to it get
// "not found". A pack whose update was refused but whose older version is
// still served is not in it (Problems has both).
func (l *Library) Unserved() map[string]error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string]error{}
	for id := range l.unserved {
		out[id] = l.problems[id]
	}
	return out
}

func readName(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return ""
	}
	return name
}

// currentName is the version "current" names in a pack's folder, or "".
func currentName(packDir string) string { return readName(filepath.Join(packDir, "current")) }

// servedName is the version the serving process marked, or "".
func servedName(packDir string) string { return readName(filepath.Join(packDir, servedMarkName)) }

// installedElsewhere reads the manifest of the version installed as
// current of pack id, which this process does not serve (it does not
// load here), without checking its signature: only to compare versions.
func (l *Library) installedElsewhere(id string) *Pack {
	name := currentName(filepath.Join(l.dir, id))
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(l.dir, id, name, manifestName))
	if err != nil {
		return nil
	}
	p := &Pack{Name: name}
	if json.Unmarshal(b, &p.Manifest) != nil || p.Manifest.ID != id {
		return nil
	}
	return p
}

// resign replaces the signature of an installed version whose manifest
// is the same as the one being installed: the same pack, signed again
// (by a new key, after the old one was revoked).
func resign(dir string, sig []byte) error {
	path := filepath.Join(dir, signatureName)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, sig) {
		return nil
	}
	return writeFileAtomic(path, sig, 0o644)
}
