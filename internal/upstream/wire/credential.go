package wire

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// A credential is what a box holds to speak to the hub: an id and a random
// secret, written "sbx1.ID.SECRET" (the secret in unpadded base64url). The
// hub keeps only the SHA-256 of the secret and the public half of the
// box's bundle-signing key, which is derived from the secret
// (BundleKey), so a stolen hub database cannot be used to push as a box or
// to sign a bundle. Operator tokens have the same form with prefix "sbo1".

// Prefixes of the two kinds of secret.
const (
	BoxPrefix      = "sbx1"
	OperatorPrefix = "sbo1"
)

// Credential is a parsed credential or operator token.
type Credential struct {
	Prefix string
	ID     string
	Secret []byte
}

// NewCredential makes a credential with a fresh id and a 32-byte secret.
func NewCredential(prefix string) Credential {
	id := make([]byte, 8)
	secret := make([]byte, 32)
	rand.Read(id)
	rand.Read(secret)
	return Credential{Prefix: prefix, ID: hex.EncodeToString(id), Secret: secret}
}

// String is the form a box stores and sends as a bearer token.
func (c Credential) String() string {
	return c.Prefix + "." + c.ID + "." + base64.RawURLEncoding.EncodeToString(c.Secret)
}

// ParseCredential reads a credential or operator token.
func ParseCredential(s string) (Credential, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 || (parts[0] != BoxPrefix && parts[0] != OperatorPrefix) {
		return Credential{}, fmt.Errorf("not a stembox credential")
	}
	if len(parts[1]) != 16 {
		return Credential{}, fmt.Errorf("not a stembox credential")
	}
	if _, err := hex.DecodeString(parts[1]); err != nil {
		return Credential{}, fmt.Errorf("not a stembox credential")
	}
	secret, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(secret) != 32 {
		return Credential{}, fmt.Errorf("not a stembox credential")
	}
	return Credential{Prefix: parts[0], ID: parts[1], Secret: secret}, nil
}

// SecretHash is what the hub stores of a secret: its SHA-256 in hex.
func SecretHash(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// BundleKey derives the Ed25519 key a box signs its bundles with from its
// credential's secret: the seed is HMAC-SHA256(secret, "stembox bundle
// signing key v1").
func BundleKey(secret []byte) ed25519.PrivateKey {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("stembox bundle signing key v1"))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// EncodeKey and DecodeKey write an Ed25519 public key as base64.
func EncodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodeKey reads a key written by EncodeKey.
func DecodeKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("not an Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}
