package learn

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText reduces a short-text answer to a form in which two answers
// that a teacher would accept as the same spelling compare equal. The result
// is only for comparing: it is not meant to be shown. The rules, in order:
//
//   - Unicode NFKC: combining marks join their letter (и + U+0304 → ӣ,
//     е + U+0308 → ё), sub- and superscript digits become plain digits
//     (CO₂ → CO2), full-width forms, ligatures and no-break spaces become their
//     plain forms;
//   - lower case;
//   - letters that look alike in lower case are folded to Latin: Cyrillic
//     а е о р с у х к і ј ѕ → a e o p c y x k i j s, and ё → e; Tajik letters
//     are folded to the Russian letters students type for them on Russian
//     keyboards (ӣ → и, ӯ → у → y, ҳ → х → x, қ → к → k, ғ → г, ҷ → ч). So
//     "СО2" typed with Cyrillic С and О equals "CO2", and "ҳаво" equals
//     "хаво". Letters that only look alike in upper case (В/B, Н/H, М/M, Т/T)
//     differ once lower-cased and are not folded; й stays distinct from и;
//   - every dash (-, ‐, ‑, ‒, –, —, ―, −) that joins two words, with or
//     without spaces around it, counts as a space, so "северо-запад" equals
//     "северо запад". A dash anywhere else (before a digit, say) is kept, as
//     ASCII "-", so "-5" still differs from "5";
//   - runs of white space become one space;
//   - spaces, the punctuation . , ! ? ; : … and quotes (" ' ` « » „ “ ” ‘ ’ ‚
//     ‹ ›) are dropped from both ends: "«Углекислый  газ.»" equals
//     "углекислый газ". Punctuation inside the answer is kept.
func NormalizeText(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			r = ' '
		case isDash(r):
			r = '-'
		default:
			r = foldTextRune(r)
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		if r == '-' && letterBeside(rs, i, -1) && letterBeside(rs, i, 1) {
			rs[i] = ' '
		}
	}
	return strings.TrimFunc(strings.Join(strings.Fields(string(rs)), " "), isEdgeMark)
}

// letterBeside reports whether the first rune from rs[i] in direction dir
// (-1 or 1) that is neither a space nor a dash is a letter.
func letterBeside(rs []rune, i, dir int) bool {
	for i += dir; i >= 0 && i < len(rs); i += dir {
		if rs[i] != ' ' && rs[i] != '-' {
			return unicode.IsLetter(rs[i]) || rs[i] == anyRun // a wildcard stands for letters too
		}
	}
	return false
}

// isDash reports whether r is a hyphen, dash or minus sign.
func isDash(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−':
		return true
	}
	return false
}

// isEdgeMark reports whether r is dropped from the ends of a text answer.
func isEdgeMark(r rune) bool {
	switch r {
	case ' ', '.', ',', '!', '?', ';', ':', '…',
		'"', '\'', '`', '«', '»', '„', '“', '”', '‘', '’', '‚', '‹', '›':
		return true
	}
	return false
}

// foldTextRune folds a lower-case rune as NormalizeText describes.
func foldTextRune(r rune) rune {
	switch r {
	case 'а':
		return 'a'
	case 'е', 'ё':
		return 'e'
	case 'о':
		return 'o'
	case 'р':
		return 'p'
	case 'с':
		return 'c'
	case 'у', 'ӯ':
		return 'y'
	case 'х', 'ҳ':
		return 'x'
	case 'к', 'қ':
		return 'k'
	case 'і':
		return 'i'
	case 'ј':
		return 'j'
	case 'ѕ':
		return 's'
	case 'ӣ':
		return 'и'
	case 'ғ':
		return 'г'
	case 'ҷ':
		return 'ч'
	}
	return r
}

// SameUnit reports whether the unit a student typed is one of the spellings
// of want, in any of its languages (a student may type "м/с" in the English
// interface). Case is kept, because it matters for SI prefixes (M is mega, m
// is milli). Both sides are first brought to one form:
//
//   - Unicode NFC; ℃ and ºC (ordinal indicator) become °C, ℉ becomes °F and
//     the micro sign µ becomes Greek μ;
//   - look-alike Cyrillic letters are folded to Latin within their case: lower
//     а е о р с у х к і ј ѕ, upper А Е К М О Р С Т Х. Upper-case Н and В are
//     not folded: in Russian they are the newton and the volt, while Latin H
//     and B are the henry and the bel;
//   - exponents: ^2, ^(2), ^-1, ^−1 and digits right after a letter become
//     superscripts, so m/s^2, m/s2 and m/s² are equal (but s-1 is not s⁻¹: a
//     hyphen may join unit names);
//   - products: *, ·, ⋅, ∙, × and . between factors, and spaces between two
//     letters, become one ·, so "N m", "N*m" and "N·m" are equal but "Nm" is
//     not (ms is a millisecond, m·s a metre-second); spaces anywhere else
//     (around / or after °) and a · at either end are dropped.
//
// No unit is converted: km/h is not m/s. An empty got is never the same unit.
func SameUnit(got string, want Text) bool {
	g := normUnit(got)
	if g == "" {
		return false
	}
	for _, w := range want {
		if normUnit(w) == g {
			return true
		}
	}
	return false
}

var unitReplacer = strings.NewReplacer(
	"℃", "°C", "℉", "°F", "º", "°", "µ", "μ",
	"*", "·", "⋅", "·", "∙", "·", "×", "·", ".", "·",
)

// normUnit brings a unit to the form SameUnit compares.
func normUnit(s string) string {
	rs := []rune(unitReplacer.Replace(norm.NFC.String(s)))
	out := make([]rune, 0, len(rs))
	last := func() rune {
		if len(out) == 0 {
			return 0
		}
		return out[len(out)-1]
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			j := i
			for j < len(rs) && unicode.IsSpace(rs[j]) {
				j++
			}
			if j < len(rs) && isFactorEnd(last()) && unicode.IsLetter(rs[j]) {
				out = append(out, '·')
			}
			i = j - 1
		case r == '^':
			sup, n := caretExponent(rs[i+1:])
			if n == 0 {
				out = append(out, r)
				continue
			}
			out = append(out, sup...)
			i += n
		case isASCIIDigit(r) && unicode.IsLetter(last()):
			for ; i < len(rs) && isASCIIDigit(rs[i]); i++ {
				out = append(out, superscriptDigits[rs[i]-'0'])
			}
			i--
		case r == '·':
			if l := last(); l != 0 && l != '·' && l != '/' {
				out = append(out, r)
			}
		case r == '/':
			if last() == '·' {
				out = out[:len(out)-1]
			}
			out = append(out, r)
		default:
			out = append(out, foldUnitRune(r))
		}
	}
	if last() == '·' {
		out = out[:len(out)-1]
	}
	return string(out)
}

// isFactorEnd reports whether r can end a unit factor that a space separates
// from the next one.
func isFactorEnd(r rune) bool {
	_, sup := superscriptValue(r)
	return unicode.IsLetter(r) || sup
}

// caretExponent reads what follows a ^: an optional "(", an optional sign,
// ASCII digits and, if "(" was read, ")". It returns the exponent as
// superscripts and the number of runes read, or 0 if rs holds no exponent.
func caretExponent(rs []rune) ([]rune, int) {
	i := 0
	paren := len(rs) > 0 && rs[0] == '('
	if paren {
		i++
	}
	var sup []rune
	if i < len(rs) && (isMinus(rs[i]) || rs[i] == '+') {
		if rs[i] != '+' {
			sup = append(sup, '⁻')
		}
		i++
	}
	start := i
	for ; i < len(rs) && isASCIIDigit(rs[i]); i++ {
		sup = append(sup, superscriptDigits[rs[i]-'0'])
	}
	if i == start {
		return nil, 0
	}
	if paren {
		if i >= len(rs) || rs[i] != ')' {
			return nil, 0
		}
		i++
	}
	return sup, i
}

// foldUnitRune folds look-alike Cyrillic letters to Latin within their case,
// as SameUnit describes.
func foldUnitRune(r rune) rune {
	switch r {
	case 'а':
		return 'a'
	case 'е':
		return 'e'
	case 'о':
		return 'o'
	case 'р':
		return 'p'
	case 'с':
		return 'c'
	case 'у':
		return 'y'
	case 'х':
		return 'x'
	case 'к':
		return 'k'
	case 'і':
		return 'i'
	case 'ј':
		return 'j'
	case 'ѕ':
		return 's'
	case 'А':
		return 'A'
	case 'Е':
		return 'E'
	case 'К':
		return 'K'
	case 'М':
		return 'M'
	case 'О':
		return 'O'
	case 'Р':
		return 'P'
	case 'С':
		return 'C'
	case 'Т':
		return 'T'
	case 'Х':
		return 'X'
	}
	return r
}

// superscriptDigits holds ⁰ to ⁹.
var superscriptDigits = [10]rune{'⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'}

// superscriptValue returns the value of a superscript digit.
func superscriptValue(r rune) (int, bool) {
	for d, s := range superscriptDigits {
		if r == s {
			return d, true
		}
	}
	return 0, false
}

func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

// isMinus reports whether r is read as a minus sign in front of a number:
// the ASCII hyphen-minus, U+2212 and the hyphens and dashes that phone
// keyboards substitute for it (but not the em dash).
func isMinus(r rune) bool {
	switch r {
	case '-', '−', '‐', '‑', '‒', '–':
		return true
	}
	return false
}
