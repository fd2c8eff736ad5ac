package content

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/mitstem/stembox/internal/failure"
)

// Keyring is the set of keys a box trusts to sign packs. It is safe for
// concurrent use. Its own keys — the files of its folders, the keys added
// by Add — are its roots: they are trusted for good, and only they may
// sign a key list. A key list (keylist.go) adds the keys it lists, and
// takes back the keys it revokes, while the box runs.
type Keyring struct {
	mu   sync.RWMutex
	keys map[string]PublicKey // the roots
	dirs []string             // read again by Refresh; the first holds the key list

	list    *SignedKeyList        // the key list taken, if any
	listed  map[string]PublicKey  // its keys
	revoked map[string]RevokedKey // the keys it revokes
	gen     uint64                // counts changes of what is trusted

	listProblem error // why the list kept on disk was not taken

	boxMu  sync.Mutex        // one change of the box key folder at a time
	boxDir string            // the box key folder (boxkeys.go)
	boxes  map[string]BoxKey // other boxes' keys, each for its namespace only

	boxProblem error // the box key files not taken, and why
}

// KeyListName is the file, in the keyring's first folder, that holds the
// key list it took.
const KeyListName = "keylist"

// NewKeyring returns a keyring holding keys.
func NewKeyring(keys ...PublicKey) *Keyring {
	kr := &Keyring{keys: map[string]PublicKey{}}
	for _, k := range keys {
		kr.keys[k.ID] = k
	}
	return kr
}

// Add trusts k, as a root.
func (kr *Keyring) Add(k PublicKey) {
	kr.mu.Lock()
	if _, ok := kr.keys[k.ID]; !ok {
		kr.keys[k.ID] = k
		kr.gen++
	}
	kr.mu.Unlock()
}

// IDs lists the ids of the keys trusted now (roots and listed keys not
// revoked), sorted.
func (kr *Keyring) IDs() []string {
	kr.mu.RLock()
	ids := make([]string, 0, len(kr.keys)+len(kr.listed))
	for id := range kr.keys {
		ids = append(ids, id)
	}
	for id := range kr.listed {
		if _, root := kr.keys[id]; !root {
			ids = append(ids, id)
		}
	}
	kr.mu.RUnlock()
	sort.Strings(ids)
	return ids
}

// Generation changes whenever what the keyring trusts changes: a pack
// refused before may be taken now (or the reverse).
func (kr *Keyring) Generation() uint64 {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.gen
}

// Key returns the trusted key with the given id.
func (kr *Keyring) Key(id string) (PublicKey, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.key(id)
}

func (kr *Keyring) key(id string) (PublicKey, bool) {
	if k, ok := kr.keys[id]; ok {
		return k, true
	}
	k, ok := kr.listed[id]
	return k, ok
}

// Trusts says whether a key id is trusted now.
func (kr *Keyring) Trusts(id string) bool {
	_, ok := kr.Key(id)
	return ok
}

// Revoked returns why the key list took back key id, if it did.
func (kr *Keyring) Revoked(id string) (RevokedKey, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	r, ok := kr.revoked[id]
	return r, ok
}

// KeyList returns the key list the keyring took, or nil.
func (kr *Keyring) KeyList() *SignedKeyList {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.list
}

// LoadKeyFile adds every key line of a file (blank lines and # comments
// skipped) to the keyring.
func (kr *Keyring) LoadKeyFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("content: trusted keys: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParsePublicKey(line)
		if err != nil {
			return fmt.Errorf("content: %s:%d: %w", path, n, err)
		}
		kr.Add(k)
	}
	return sc.Err()
}

// LoadKeyDir adds the keys of every *.pub file in dir, and takes the key
// list kept there; a missing dir adds none. Refresh reads dir again.
func (kr *Keyring) LoadKeyDir(dir string) error {
	kr.mu.Lock()
	kr.dirs = append(kr.dirs, dir)
	kr.mu.Unlock()
	return kr.loadDir(dir)
}

// Refresh adds the keys put in the folders of LoadKeyDir since (by
// `stembox pack install --trust`, say), and takes a newer key list kept
// there (by `stembox sync import`). A root key removed from them stays
// trusted until the keyring is made anew (the box restarts); the box keys
// are those of the box key folder now (LoadBoxKeyDir).
func (kr *Keyring) Refresh() error {
	kr.mu.RLock()
	dirs := slices.Clone(kr.dirs)
	kr.mu.RUnlock()
	for _, d := range dirs {
		if err := kr.loadDir(d); err != nil {
			return err
		}
	}
	return kr.loadBoxDir()
}

func (kr *Keyring) loadDir(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := kr.LoadKeyFile(f); err != nil {
			return err
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, KeyListName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("content: key list: %w", err)
	}
	if cur := kr.KeyList(); cur != nil && bytes.Equal(cur.Raw, raw) {
		return nil
	}
	s, err := kr.verifyKeyList(raw)
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if err != nil {
		// Kept, not fatal: a box whose root key file was removed still
		// starts, trusting its own keys only (ListProblem says why).
		kr.listProblem = fmt.Errorf("content: %s: %w", filepath.Join(dir, KeyListName), err)
		return nil
	}
	kr.listProblem = nil
	if kr.list == nil || s.List.Serial > kr.list.List.Serial {
		kr.use(s)
	}
	return nil
}

// ListProblem says why the key list kept in the keyring's folder was not
// taken when it was last read, or nil.
func (kr *Keyring) ListProblem() error {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.listProblem
}

// KeyListChange says what taking a key list changed.
type KeyListChange struct {
	Serial    int64
	Unchanged bool     // the keyring held this very list already
	Added     []string // key ids trusted now that were not before
	Revoked   []string // key ids trusted before that are not now
}

// AcceptKeyList takes a key list: it must be signed by a root, revoke no
// root, and be newer than the list held (the same list again changes
// nothing). The list is kept in the keyring's first folder (written whole
// and flushed before it is used) and applies at once. An error changes
// nothing.
func (kr *Keyring) AcceptKeyList(raw []byte) (KeyListChange, error) {
	s, err := kr.verifyKeyList(raw)
	if err != nil {
		return KeyListChange{}, err
	}
	kr.mu.RLock()
	home := ""
	if len(kr.dirs) > 0 {
		home = kr.dirs[0]
	}
	kr.mu.RUnlock()
	if home != "" {
		// Another process (stembox sync import beside the running box)
		// may be taking a list too: one at a time, judged against the
		// list on disk.
		unlock, err := lockFile(filepath.Join(home, KeyListName+".lock"))
		if err != nil {
			return KeyListChange{}, err
		}
		defer unlock()
		if err := kr.loadDir(home); err != nil {
			return KeyListChange{}, err
		}
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if cur := kr.list; cur != nil {
		switch {
		case bytes.Equal(cur.Raw, s.Raw):
			return KeyListChange{Serial: cur.List.Serial, Unchanged: true}, nil
		case s.List.Serial < cur.List.Serial:
			return KeyListChange{}, failure.Errorf(failure.Conflict,
				"key list: serial %d is older than the list this box holds (%d); kept the newer list", s.List.Serial, cur.List.Serial)
		case s.List.Serial == cur.List.Serial:
			return KeyListChange{}, failure.Errorf(failure.Conflict,
				"key list: another list with serial %d is held already; a new list needs a higher serial", s.List.Serial)
		}
	}
	if home != "" {
		if err := writeFileAtomic(filepath.Join(home, KeyListName), s.Raw, 0o644); err != nil {
			return KeyListChange{}, err
		}
	}
	before := kr.trustedLocked()
	kr.use(s)
	after := kr.trustedLocked()
	ch := KeyListChange{Serial: s.List.Serial}
	for id := range after {
		if !before[id] {
			ch.Added = append(ch.Added, id)
		}
	}
	for id := range before {
		if !after[id] {
			ch.Revoked = append(ch.Revoked, id)
		}
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Revoked)
	return ch, nil
}

// UseKeyList trusts the keys of a list, and takes back those it revokes,
// without checking who signed it: for the hub, whose own list it is.
func (kr *Keyring) UseKeyList(s *SignedKeyList) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.list == nil || !bytes.Equal(kr.list.Raw, s.Raw) {
		kr.use(s)
	}
}

func (kr *Keyring) trustedLocked() map[string]bool {
	out := map[string]bool{}
	for id := range kr.keys {
		out[id] = true
	}
	for id := range kr.listed {
		out[id] = true
	}
	return out
}

// use makes s the list; kr.mu is held.
func (kr *Keyring) use(s *SignedKeyList) {
	listed, _ := s.List.keys() // checked by ParseKeyList
	kr.revoked = map[string]RevokedKey{}
	for _, r := range s.List.Revoked {
		kr.revoked[r.ID] = r
	}
	kr.list, kr.listed = s, listed
	kr.gen++
}

// verifyKeyList parses a key list and checks that a root signed it and
// that it revokes no root.
func (kr *Keyring) verifyKeyList(raw []byte) (*SignedKeyList, error) {
	s, err := ParseKeyList(raw)
	if err != nil {
		return nil, err
	}
	kr.mu.RLock()
	root, ok := kr.keys[s.SignerID]
	var revokesRoot []string
	for _, r := range s.List.Revoked {
		if _, ok := kr.keys[r.ID]; ok {
			revokesRoot = append(revokesRoot, r.ID)
		}
	}
	kr.mu.RUnlock()
	if !ok {
		return nil, failure.Errorf(failure.Invalid,
			"key list %d: signed by key %s, which is not one of this box's own trusted keys (only those may sign a key list)", s.List.Serial, s.SignerID)
	}
	if _, raw, err := signatureKeyID(s.sig); err != nil || !ed25519.Verify(root.Key, s.body, raw) {
		return nil, failure.Errorf(failure.Invalid,
			"key list %d: the signature by key %s does not match the list (it was altered)", s.List.Serial, s.SignerID)
	}
	if len(revokesRoot) > 0 {
		return nil, failure.Errorf(failure.Invalid,
			"key list %d: revokes %s, which this box trusts on its own (a key list cannot revoke those; remove the key's file from the box's trusted keys instead)",
			s.List.Serial, strings.Join(revokesRoot, ", "))
	}
	return s, nil
}

// signatureKeyID reads a signature line, "ed25519:KEYID:BASE64".
func signatureKeyID(sig []byte) (string, []byte, error) {
	parts := strings.Split(strings.TrimSpace(string(sig)), ":")
	if len(parts) != 3 || parts[0] != "ed25519" {
		return "", nil, fmt.Errorf("signature is not of the form ed25519:KEYID:BASE64")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != ed25519.SignatureSize {
		return parts[1], nil, fmt.Errorf("signature by key %s is malformed", parts[1])
	}
	return parts[1], raw, nil
}

// Verify checks that sig is a valid signature of manifest by a trusted key:
// a root or a listed key, or a box key over a pack of its namespace.
func (kr *Keyring) Verify(manifest, sig []byte) (keyID string, err error) {
	id, raw, err := signatureKeyID(sig)
	if err != nil {
		return id, err
	}
	kr.mu.RLock()
	k, ok := kr.key(id)
	bk, boxKey := kr.boxes[id]
	rev, revoked := kr.revoked[id]
	serial := int64(0)
	if kr.list != nil {
		serial = kr.list.List.Serial
	}
	kr.mu.RUnlock()
	if !ok && revoked {
		why := ""
		if rev.Reason != "" {
			why = ": " + rev.Reason
		}
		return id, fmt.Errorf("signed by key %s, which the hub's key list (serial %d) revoked%s", id, serial, why)
	}
	if !ok && boxKey {
		return id, verifyBoxKey(bk, manifest, raw)
	}
	if !ok {
		return id, fmt.Errorf("signed by key %s, which this box does not trust", id)
	}
	if !ed25519.Verify(k.Key, manifest, raw) {
		return k.ID, fmt.Errorf("signature by key %s does not match the manifest (the pack was altered)", k.ID)
	}
	return k.ID, nil
}

// lockFile takes an exclusive lock on path (made if missing), waiting for
// it; unlock gives it back.
func lockFile(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("content: lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("content: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
