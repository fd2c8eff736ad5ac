package studio

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// idLen is the length of a draft's ID: 36^10 ≈ 3.7e15 ids, so two drafts of
// one box never meet.
const idLen = 10

var idPattern = regexp.MustCompile(`^[a-z0-9]{10}$`)

// NewID returns a new draft ID: ten lower-case letters and digits, so that
// content.Namespace(key)+ID is a valid pack id.
func NewID() string {
	var b [idLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("studio: no randomness: " + err.Error()) // crypto/rand never fails on Linux
	}
	for i := range b {
		// 256 = 7*36 + 4: the first four letters are a hair more likely; an id
		// needs no more than that.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}

// ValidID reports whether id has the shape NewID makes.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// VersionName returns the pack version of a draft's nth publication: "n.0.0".
func VersionName(n int64) string { return strconv.FormatInt(n, 10) + ".0.0" }

// Major returns n of a version "n.0.0" that VersionName made.
func Major(version string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSuffix(version, ".0.0"), 10, 64)
	if err != nil || n < 1 || VersionName(n) != version {
		return 0, fmt.Errorf("studio: %q is not a published version like 2.0.0", version)
	}
	return n, nil
}
