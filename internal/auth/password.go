// Package auth holds the rules of signing in: password and PIN hashing,
// session tokens, and the limiter that slows down guessing. It does no I/O.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters, chosen for a box with 1 GB of RAM: 12 MiB and 3
// passes, one of OWASP's equivalent settings (as costly to guess as its
// 19 MiB with 2 passes, for two thirds of the memory), which a Raspberry Pi
// computes in a fraction of a second. A box hashes at most a Pool's Size
// (4) secrets at once, so sign-ins never hold more than 48 MiB. Hashes made
// with other parameters (19 MiB before 2026) keep verifying: Verify reads
// them from the hash.
const (
	argonMemory  = 12 * 1024
	argonTime    = 3
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password a teacher or admin may choose.
const MinPasswordLength = 8

// ErrWeakPassword says a password is too short.
var ErrWeakPassword = fmt.Errorf("a password needs at least %d characters", MinPasswordLength)

// CheckPasswordStrength refuses passwords too short to resist guessing.
func CheckPasswordStrength(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return ErrWeakPassword
	}
	return nil
}

// Hash returns an argon2id hash of secret in the PHC string format.
func Hash(secret string) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether secret matches hash, in time that does not depend
// on where they differ.
func Verify(hash, secret string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || m > 256*1024 || t > 10 {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewToken returns a random session token for a cookie.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is what the database keeps of a token, so a stolen database
// file holds no usable session.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrBadPIN says a PIN is not four digits.
var ErrBadPIN = errors.New("a PIN is 4 digits")

// CheckPIN accepts four ASCII digits.
func CheckPIN(pin string) error {
	if len(pin) != 4 {
		return ErrBadPIN
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrBadPIN
		}
	}
	return nil
}

// NewPIN returns a random 4-digit PIN.
func NewPIN() string {
	b := make([]byte, 2)
	rand.Read(b)
	return fmt.Sprintf("%04d", (int(b[0])<<8|int(b[1]))%10000)
}

// Pictures a student may choose from for a picture password: two of them, in
// order. Each names an icon the box draws.
var Pictures = []string{"sun", "moon", "star", "tree", "fish", "apple", "house", "ball", "flower"}

// NewPicturePassword returns two different random pictures, as "a-b".
func NewPicturePassword() string {
	b := make([]byte, 2)
	rand.Read(b)
	i := int(b[0]) % len(Pictures)
	j := int(b[1]) % (len(Pictures) - 1)
	if j >= i {
		j++
	}
	return Pictures[i] + "-" + Pictures[j]
}

// CheckPicturePassword accepts "a-b" with two different known pictures.
func CheckPicturePassword(s string) error {
	a, b, ok := strings.Cut(s, "-")
	if !ok || a == b || !isPicture(a) || !isPicture(b) {
		return errors.New("a picture password is two different pictures")
	}
	return nil
}

func isPicture(s string) bool {
	for _, p := range Pictures {
		if p == s {
			return true
		}
	}
	return false
}
