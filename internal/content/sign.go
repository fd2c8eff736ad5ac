package content

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// A public key is written as one line, "ed25519:KEYID:BASE64", where KEYID is
// the first 8 bytes of the key's SHA-256 in hex, so a key cannot claim
// another's id. A signature is "ed25519:KEYID:BASE64" over the manifest bytes.
// A private key file holds "stembox-signing-key ed25519 BASE64SEED".

const privateKeyTag = "stembox-signing-key ed25519 "

// PublicKey is a key that signs packs.
type PublicKey struct {
	ID  string
	Key ed25519.PublicKey
}

// KeyID returns the id of an Ed25519 public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// String encodes the key as a public key line.
func (k PublicKey) String() string {
	return "ed25519:" + k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// ParsePublicKey reads a public key line.
func ParsePublicKey(s string) (PublicKey, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 || parts[0] != "ed25519" {
		return PublicKey{}, fmt.Errorf("public key %q is not of the form ed25519:KEYID:BASE64", abbreviate(s))
	}
	b, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(b) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("public key %s: not a base64 Ed25519 key", parts[1])
	}
	k := PublicKey{ID: KeyID(b), Key: b}
	if k.ID != parts[1] {
		return PublicKey{}, fmt.Errorf("public key claims id %s but its id is %s", parts[1], k.ID)
	}
	return k, nil
}

// Signer signs manifests.
type Signer struct {
	priv ed25519.PrivateKey
}

// GenerateKey makes a new signing key.
func GenerateKey() (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("content: generate key: %w", err)
	}
	return &Signer{priv: priv}, nil
}

// Public returns the signer's public key.
func (s *Signer) Public() PublicKey {
	pub := s.priv.Public().(ed25519.PublicKey)
	return PublicKey{ID: KeyID(pub), Key: pub}
}

// Sign returns the signature line for the manifest bytes.
func (s *Signer) Sign(manifest []byte) []byte {
	sig := ed25519.Sign(s.priv, manifest)
	return []byte("ed25519:" + s.Public().ID + ":" + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// MarshalText encodes the private key for a key file.
func (s *Signer) MarshalText() []byte {
	return []byte(privateKeyTag + base64.StdEncoding.EncodeToString(s.priv.Seed()) + "\n")
}

// WriteKeyFiles writes the private key to path (mode 0600, refusing to
// overwrite) and the public key to path + ".pub".
func (s *Signer) WriteKeyFiles(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("content: write key: %w", err)
	}
	if _, err := f.Write(s.MarshalText()); err != nil {
		f.Close()
		return fmt.Errorf("content: write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("content: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("content: write key: %w", err)
	}
	return writeFileAtomic(path+".pub", []byte(s.Public().String()+"\n"), 0o644)
}

// LoadSigner reads a private key file.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("content: read key: %w", err)
	}
	text := strings.TrimSpace(string(b))
	if !strings.HasPrefix(text, privateKeyTag) {
		return nil, fmt.Errorf("content: %s is not a stembox signing key", path)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(text, privateKeyTag))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("content: %s: damaged signing key", path)
	}
	return &Signer{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Keyring is the set of keys a box trusts to sign packs. It is safe for
// concurrent use.
type Keyring struct {
	mu   sync.RWMutex
	keys map[string]PublicKey
	dirs []string // read again by Refresh
}

// NewKeyring returns a keyring holding keys.
func NewKeyring(keys ...PublicKey) *Keyring {
	kr := &Keyring{keys: map[string]PublicKey{}}
	for _, k := range keys {
		kr.keys[k.ID] = k
	}
	return kr
}

// Add trusts k.
func (kr *Keyring) Add(k PublicKey) {
	kr.mu.Lock()
	kr.keys[k.ID] = k
	kr.mu.Unlock()
}

// IDs lists the trusted key ids, sorted.
func (kr *Keyring) IDs() []string {
	kr.mu.RLock()
	ids := make([]string, 0, len(kr.keys))
	for id := range kr.keys {
		ids = append(ids, id)
	}
	kr.mu.RUnlock()
	sort.Strings(ids)
	return ids
}

// Key returns the trusted key with the given id.
func (kr *Keyring) Key(id string) (PublicKey, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	k, ok := kr.keys[id]
	return k, ok
}

// WriteKeyFile writes a public key file (atomically).
func WriteKeyFile(path string, k PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return writeFileAtomic(path, []byte(k.String()+"\n"), 0o644)
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

// LoadKeyDir adds the keys of every *.pub file in dir; a missing dir adds
// none. Refresh reads dir again.
func (kr *Keyring) LoadKeyDir(dir string) error {
	kr.mu.Lock()
	kr.dirs = append(kr.dirs, dir)
	kr.mu.Unlock()
	return kr.loadDir(dir)
}

// Refresh adds the keys put in the folders of LoadKeyDir since (by
// `stembox pack install --trust`, say). A key removed from them stays
// trusted until the keyring is made anew (the box restarts).
func (kr *Keyring) Refresh() error {
	kr.mu.RLock()
	dirs := slices.Clone(kr.dirs)
	kr.mu.RUnlock()
	for _, d := range dirs {
		if err := kr.loadDir(d); err != nil {
			return err
		}
	}
	return nil
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
	return nil
}

// Verify checks that sig is a valid signature of manifest by a trusted key.
func (kr *Keyring) Verify(manifest, sig []byte) (keyID string, err error) {
	parts := strings.Split(strings.TrimSpace(string(sig)), ":")
	if len(parts) != 3 || parts[0] != "ed25519" {
		return "", fmt.Errorf("signature is not of the form ed25519:KEYID:BASE64")
	}
	kr.mu.RLock()
	k, ok := kr.keys[parts[1]]
	kr.mu.RUnlock()
	if !ok {
		return parts[1], fmt.Errorf("signed by key %s, which this box does not trust", parts[1])
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != ed25519.SignatureSize {
		return k.ID, fmt.Errorf("signature by key %s is malformed", k.ID)
	}
	if !ed25519.Verify(k.Key, manifest, raw) {
		return k.ID, fmt.Errorf("signature by key %s does not match the manifest (the pack was altered)", k.ID)
	}
	return k.ID, nil
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
