package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/mitstem/stembox/internal/failure"
)

// A key list is how a programme tells its boxes which keys sign packs,
// without a visit: the hub serves it (GET /api/v1/keys) and puts it on USB
// sticks, and a box takes it only if a key it already trusts on its own (a
// root: DATA/trusted-keys, --trust) signed it. It is two lines:
//
//	{"format":"stembox-keylist/1","serial":3,"issued":"…","keys":[…],"revoked":[…]}
//	ed25519:KEYID:BASE64
//
// the second the signature of the first line's bytes (docs/sync-protocol.md,
// "Signing keys"). Each new list has a higher serial; a box never takes
// one older than the list it holds, so nobody can bring back a revoked key
// by replaying an old list.

// KeyListFormat names the format of the first line.
const KeyListFormat = "stembox-keylist/1"

// KeyListFile is the name of a key list on a USB stick (the hub writes it
// next to the acknowledgement; stembox sync import takes it).
const KeyListFile = "keys.stemkeys"

// MaxKeyListBytes bounds a key list.
const MaxKeyListBytes = 1 << 20

// KeyList is what a key list says.
type KeyList struct {
	Format  string       `json:"format"`
	Serial  int64        `json:"serial"`
	Issued  time.Time    `json:"issued"`
	Keys    []ListedKey  `json:"keys"`
	Revoked []RevokedKey `json:"revoked"`
}

// ListedKey is a key the list trusts to sign packs.
type ListedKey struct {
	Key   string    `json:"key"` // a public key line, ed25519:KEYID:BASE64
	Note  string    `json:"note,omitempty"`
	Added time.Time `json:"added"`
}

// RevokedKey is a key no box may trust through the list any more: packs
// signed only by it are not served, and never installed again.
type RevokedKey struct {
	ID      string    `json:"id"`
	Reason  string    `json:"reason,omitempty"`
	Revoked time.Time `json:"revoked"`
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// SignedKeyList is a key list as it travels: its bytes, what they say and
// who says it signed them.
type SignedKeyList struct {
	List     KeyList
	Raw      []byte // the whole document, both lines
	SignerID string
	body     []byte // the first line, signed
	sig      []byte
}

// ETag is the list's entity tag: the SHA-256 of its bytes, quoted.
func (s *SignedKeyList) ETag() string { return KeyListETag(s.Raw) }

// KeyListETag is the entity tag of a key list's bytes.
func KeyListETag(raw []byte) string {
	sum := sha256.Sum256(raw)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// keys returns the listed keys, parsed.
func (kl *KeyList) keys() (map[string]PublicKey, error) {
	out := map[string]PublicKey{}
	for _, lk := range kl.Keys {
		k, err := ParsePublicKey(lk.Key)
		if err != nil {
			return nil, err
		}
		out[k.ID] = k
	}
	return out, nil
}

// Validate checks a key list's own rules: its format, a positive serial,
// well-formed keys, and no key both listed and revoked.
func (kl *KeyList) Validate() error {
	if kl.Format != KeyListFormat {
		return fmt.Errorf("key list: format %q, want %q", kl.Format, KeyListFormat)
	}
	if kl.Serial <= 0 {
		return fmt.Errorf("key list: serial %d is not positive", kl.Serial)
	}
	keys, err := kl.keys()
	if err != nil {
		return fmt.Errorf("key list: %w", err)
	}
	for _, r := range kl.Revoked {
		if !keyIDPattern.MatchString(r.ID) {
			return fmt.Errorf("key list: revoked key id %q is not 16 hex digits", abbreviate(r.ID))
		}
		if _, ok := keys[r.ID]; ok {
			return fmt.Errorf("key list: key %s is both listed and revoked", r.ID)
		}
	}
	return nil
}

// Sign returns the key list document signed by s.
func (kl *KeyList) Sign(s *Signer) ([]byte, error) {
	if err := kl.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(kl)
	if err != nil {
		return nil, fmt.Errorf("key list: %w", err)
	}
	return append(append(body, '\n'), s.Sign(body)...), nil
}

// ParseKeyList reads a key list document. It checks its form, not its
// signature: Keyring.AcceptKeyList does that.
func ParseKeyList(raw []byte) (*SignedKeyList, error) {
	bad := func(format string, a ...any) error {
		return failure.Errorf(failure.Invalid, "key list: "+format, a...)
	}
	if len(raw) > MaxKeyListBytes {
		return nil, bad("larger than %d bytes", MaxKeyListBytes)
	}
	body, sig, ok := bytes.Cut(bytes.TrimRight(raw, "\n"), []byte("\n"))
	if !ok || bytes.ContainsRune(sig, '\n') {
		return nil, bad("not two lines (the list, then its signature)")
	}
	s := &SignedKeyList{Raw: raw, body: body, sig: sig}
	if err := json.Unmarshal(body, &s.List); err != nil {
		return nil, bad("the first line is not the JSON expected: %v", err)
	}
	if err := s.List.Validate(); err != nil {
		return nil, failure.Wrap(failure.Invalid, err, err.Error())
	}
	id, _, err := signatureKeyID(sig)
	if err != nil {
		return nil, bad("%v", err)
	}
	s.SignerID = id
	return s, nil
}
