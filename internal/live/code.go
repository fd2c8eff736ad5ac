package live

import "strings"

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

// cyrillicLookalikes maps the Cyrillic letters a student on a Russian or
// Tajik keyboard types for the Latin letters of a code, and drops spaces and
// dashes. (Built once: a Replacer is read-only once made.)
var cyrillicLookalikes = strings.NewReplacer(
	"А", "A", "С", "C", "Е", "E", "Н", "H", "К", "K", "М", "M", "Р", "P", "Т", "T", "Х", "X", "У", "Y",
	"а", "A", "с", "C", "е", "E", "н", "H", "к", "K", "м", "M", "р", "P", "т", "T", "х", "X", "у", "Y",
	" ", "", "-", "", "\t", "",
)

// NormalizeCode reads a join code as a student types it: case, spaces and
// dashes do not matter, nor Cyrillic look-alike letters. It returns "" for
// something that cannot be a code.
func NormalizeCode(s string) string {
	if len(s) > 4*CodeLength {
		return ""
	}
	s = strings.ToUpper(cyrillicLookalikes.Replace(s))
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
