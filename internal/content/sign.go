package content

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// Resign writes the archive a to w signed by s instead: the same manifest
// bytes (so the same id, version and file hashes) and the same files, each
// checked against its hash on the way. A pack re-signed so is installed
// by the boxes that trust s, whoever signed it first.
func Resign(w io.Writer, a *Archive, s *Signer) error {
	if err := a.VerifyAll(); err != nil {
		return err
	}
	return WriteArchive(w, a.ManifestBytes, s.Sign(a.ManifestBytes), a.Open)
}

// WriteKeyFile writes a public key file (atomically).
func WriteKeyFile(path string, k PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return writeFileAtomic(path, []byte(k.String()+"\n"), 0o644)
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Namespace returns the prefix of the ids of packs made on a box and signed
// with its own key (the teacher studio): "t", the key's id, and "-". Key ids
// are a hash of the key, so two boxes never share a namespace, and a box's
// key that another box trusts (not as a root) signs only ids in its own
// namespace.
func Namespace(keyID string) string { return "t" + keyID + "-" }
