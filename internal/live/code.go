package live

import (
	"strings"

	"github.com/mitstem/stembox/internal/school"
)

// Join codes are short and hard to misread: six characters from an alphabet
// without look-alikes (no 0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B, G, U/V).
const (
	CodeAlphabet = "ACEFHJKMNPRTWXY34679"
	CodeLength   = 6
)

// NewCode makes a join code from the random source rnd, which returns an int
// in [0, n).
func NewCode(rnd func(n int) int) string {
	b := make([]byte, CodeLength)
	for i := range b {
		b[i] = CodeAlphabet[rnd(len(CodeAlphabet))]
	}
	return string(b)
}

// NormalizeCode reads a join code as a student types it: case, spaces and
// dashes do not matter, nor Cyrillic look-alike letters. It returns "" for
// something that cannot be a code.
func NormalizeCode(s string) string {
	if len(s) > 4*CodeLength {
		return ""
	}
	s = school.ReadCode(s)
	if len(s) != CodeLength {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(CodeAlphabet, s[i]) < 0 {
			return ""
		}
	}
	return s
}
