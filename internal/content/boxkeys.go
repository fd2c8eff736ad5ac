package content

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mitstem/stembox/internal/failure"
)

// Box keys: the second kind of trust a keyring holds. Every school box
// signs the packs its teachers make (the teacher studio) with its own key,
// under ids in that key's namespace (Namespace). Another box's administrator
// may trust that key, after comparing its fingerprint with the one the other
// box shows; it is then trusted for ids in its namespace only: a box key
// that signs "algebra-7" or another box's "t…-" id signs nothing this box
// takes. Roots and the keys of the hub's key list stay as they are.
//
// Box keys are kept one a file, DIR/KEYID.pub, written whole and flushed
// (TrustBox), so they survive restarts; Refresh reads the folder again, and
// a file removed there (UntrustBox, or by hand) takes the key back at once.

// BoxKey is another school box's key, trusted for its namespace only.
type BoxKey struct {
	Key   PublicKey
	BoxID string // the box that showed the key, as it said (for people: the key is what is trusted)
	Name  string // its name, as it said
}

// Namespace is the id prefix the key signs.
func (b BoxKey) Namespace() string { return Namespace(b.Key.ID) }

// Fingerprint is a short form of a public key that two people can compare
// by reading it aloud: its id (the first 8 bytes of its SHA-256) as four
// groups of four characters, "3F2A 91BC 0D4E 77A1".
func Fingerprint(k PublicKey) string {
	id := strings.ToUpper(k.ID)
	if len(id) != 16 {
		return id
	}
	return id[0:4] + " " + id[4:8] + " " + id[8:12] + " " + id[12:16]
}

// InNamespace says whether a pack id is in the namespace of key id.
func InNamespace(keyID, packID string) bool {
	return keyID != "" && strings.HasPrefix(packID, Namespace(keyID)) && len(packID) > len(Namespace(keyID))
}

// LoadBoxKeyDir trusts the box keys kept in dir (a missing dir holds
// none); TrustBox writes there, and Refresh reads it again.
func (kr *Keyring) LoadBoxKeyDir(dir string) error {
	kr.mu.Lock()
	kr.boxDir = dir
	kr.mu.Unlock()
	return kr.loadBoxDir()
}

// loadBoxDir makes the box keys those of the files in the box key folder.
func (kr *Keyring) loadBoxDir() error {
	kr.boxMu.Lock()
	defer kr.boxMu.Unlock()
	kr.mu.RLock()
	dir := kr.boxDir
	kr.mu.RUnlock()
	if dir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		return err
	}
	keys := map[string]BoxKey{}
	var problems []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // taken back meanwhile
		}
		if err != nil {
			return fmt.Errorf("content: box keys: %w", err)
		}
		bk, err := parseBoxKeyFile(b)
		if err != nil {
			// Not trusted, and said: a damaged file stops no box.
			problems = append(problems, fmt.Errorf("content: %s: %w (not trusted; remove the file, and trust the box again)", f, err))
			continue
		}
		keys[bk.Key.ID] = bk
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.boxProblem = errors.Join(problems...)
	if !sameBoxKeys(kr.boxes, keys) {
		kr.gen++
	}
	kr.boxes = keys
	return nil
}

func sameBoxKeys(a, b map[string]BoxKey) bool {
	if len(a) != len(b) {
		return false
	}
	for id := range a {
		if _, ok := b[id]; !ok {
			return false
		}
	}
	return true
}

// BoxKeysProblem says which files of the box key folder were not taken
// when it was last read, and why; nil when all were.
func (kr *Keyring) BoxKeysProblem() error {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.boxProblem
}

// boxKeyFile is the text of a box key's file: comments people can read,
// and the key line.
func boxKeyFile(bk BoxKey) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# stembox box key: trusted for packs whose id starts with %s only\n", bk.Namespace())
	fmt.Fprintf(&b, "# fingerprint: %s\n", Fingerprint(bk.Key))
	fmt.Fprintf(&b, "# box: %s\n", oneLine(bk.BoxID))
	fmt.Fprintf(&b, "# name: %s\n", oneLine(bk.Name))
	b.WriteString(bk.Key.String() + "\n")
	return b.Bytes()
}

func parseBoxKeyFile(data []byte) (BoxKey, error) {
	var bk BoxKey
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# box: "):
			bk.BoxID = strings.TrimPrefix(line, "# box: ")
		case strings.HasPrefix(line, "# name: "):
			bk.Name = strings.TrimPrefix(line, "# name: ")
		case strings.HasPrefix(line, "#"):
		case found:
			return BoxKey{}, fmt.Errorf("a box key file holds one key")
		default:
			k, err := ParsePublicKey(line)
			if err != nil {
				return BoxKey{}, err
			}
			bk.Key, found = k, true
		}
	}
	if !found {
		return BoxKey{}, fmt.Errorf("no key in a box key file")
	}
	return bk, sc.Err()
}

// oneLine keeps what another box says of itself to one printable line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.TrimSpace(s)
}

// TrustBox trusts another box's key for its namespace, for good: the key
// is written to the box key folder (whole and flushed) before it is used.
// Trusting a key trusted already updates what it says of its box.
func (kr *Keyring) TrustBox(bk BoxKey) error {
	kr.boxMu.Lock()
	defer kr.boxMu.Unlock()
	kr.mu.RLock()
	dir := kr.boxDir
	kr.mu.RUnlock()
	if dir == "" {
		return failure.Errorf(failure.Unavailable, "this box keeps no box keys")
	}
	if bk.Key.ID == "" || bk.Key.ID != KeyID(bk.Key.Key) {
		return failure.Errorf(failure.Invalid, "not a public key")
	}
	bk.BoxID, bk.Name = oneLine(bk.BoxID), oneLine(bk.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("content: box keys: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, bk.Key.ID+".pub"), boxKeyFile(bk), 0o644); err != nil {
		return err
	}
	kr.AddBox(bk)
	return nil
}

// UntrustBox takes back the trust in a box key: its file is removed (and
// the removal flushed), and the packs it signed are no longer taken.
func (kr *Keyring) UntrustBox(keyID string) error {
	kr.boxMu.Lock()
	defer kr.boxMu.Unlock()
	kr.mu.RLock()
	dir := kr.boxDir
	_, ok := kr.boxes[keyID]
	kr.mu.RUnlock()
	if !ok || dir == "" {
		return failure.Errorf(failure.NotFound, "this box does not trust a box key %s", keyID)
	}
	if err := os.Remove(filepath.Join(dir, keyID+".pub")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("content: box keys: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if _, ok := kr.boxes[keyID]; ok {
		delete(kr.boxes, keyID)
		kr.gen++
	}
	return nil
}

// BoxKeys lists the box keys trusted, by name.
func (kr *Keyring) BoxKeys() []BoxKey {
	kr.mu.RLock()
	out := make([]BoxKey, 0, len(kr.boxes))
	for _, bk := range kr.boxes {
		out = append(out, bk)
	}
	kr.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Key.ID < out[j].Key.ID
	})
	return out
}

// BoxKey returns the trusted box key with id keyID.
func (kr *Keyring) BoxKey(keyID string) (BoxKey, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	bk, ok := kr.boxes[keyID]
	return bk, ok
}

// TrustsFor says whether key keyID may sign pack packID now: a root or a
// listed key signs any id, a box key the ids of its namespace.
func (kr *Keyring) TrustsFor(keyID, packID string) bool {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	if _, ok := kr.key(keyID); ok {
		return true
	}
	_, ok := kr.boxes[keyID]
	return ok && InNamespace(keyID, packID)
}

// verifyBoxKey checks a signature by a box key, and that the pack the
// manifest is of lies in the key's namespace.
func verifyBoxKey(bk BoxKey, manifest, raw []byte) error {
	if !ed25519.Verify(bk.Key.Key, manifest, raw) {
		return fmt.Errorf("signature by key %s does not match the manifest (the pack was altered)", bk.Key.ID)
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("manifest.json: %v", err)
	}
	if !InNamespace(bk.Key.ID, m.ID) {
		name := bk.Name
		if name == "" {
			name = bk.BoxID
		}
		return fmt.Errorf("pack %q is signed by the key of box %s (%s), which this box trusts only for packs whose id starts with %s; refused",
			m.ID, name, Fingerprint(bk.Key), bk.Namespace())
	}
	return nil
}

// AddBox trusts a box key for its namespace in this keyring only, without
// keeping it anywhere: for checking what one box sent (the hub).
func (kr *Keyring) AddBox(bk BoxKey) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.boxes == nil {
		kr.boxes = map[string]BoxKey{}
	}
	if _, ok := kr.boxes[bk.Key.ID]; !ok {
		kr.gen++
	}
	kr.boxes[bk.Key.ID] = bk
}
