package learn

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// ParseNumber reads a numeric answer as students type it on phones with
// English, Russian or Tajik keyboards, and returns its value and the unit
// typed after it (trimmed; "" if none). It accepts, in order:
//
//   - an optional sign: +, -, − (U+2212) or a hyphen or en dash that a
//     keyboard put in place of the minus, optionally followed by spaces;
//   - digits, optionally in groups of three after a first group of one to
//     three digits, each group after one space, no-break space (U+00A0),
//     figure space (U+2007), thin space (U+2009) or narrow no-break space
//     (U+202F): 1 000 000;
//   - an optional decimal point or comma with the fraction: 9.8, 9,8, .5, 5.
//     (a number needs a digit before or after the mark). A comma followed by
//     exactly three digits, after one to three digits not starting with 0 and
//     without space groups (1,500 or 12,345,678), gives ErrAmbiguousNumber:
//     it is 1.5 in Russian and Tajik but 1500 in English, and guessing would
//     grade a right answer wrong;
//   - an optional power of ten: e or E (or the Cyrillic е, Е of a Russian
//     layout) with a signed integer (3e8, 3E-2), or a multiplication sign
//     (· ⋅ ∙ * × x X х Х, with or without spaces around it) followed by 10 and
//     an exponent written ^8, ^-8, ^(−8) or with superscripts ⁸ ⁻⁸: 3·10^8,
//     3x10^8, 3×10⁸. A bare power of ten, 10^8 or 10⁻³, is read too;
//   - an optional unit, after spaces or not: 9.8 m/s², 20м/с, 4 %. A unit
//     starts with a letter, %, ‰, °, º, ℃, ℉, ′, ″ or a currency sign.
//
// Anything else is ErrNotANumber: no digits, a second decimal mark (1,2,3 and
// 1.2.3), text after the number that does not start like a unit, NaN,
// infinities and values too large for a float64. Empty input is ErrEmpty.
func ParseNumber(s string) (value float64, unit string, err error) {
	p := numScanner{rs: []rune(strings.TrimSpace(s))}
	if len(p.rs) == 0 {
		return 0, "", ErrEmpty
	}
	neg := false
	if isMinus(p.peek(0)) || p.peek(0) == '+' {
		neg = p.peek(0) != '+'
		p.i++
		p.skipSpaces()
	}
	whole, grouped := p.integer()
	frac, hasMark := "", false
	if m := p.peek(0); m == '.' || m == ',' {
		hasMark = true
		p.i++
		start := p.i
		for isASCIIDigit(p.peek(0)) {
			p.i++
		}
		frac = string(p.rs[start:p.i])
		if m == ',' && !grouped && len(frac) == 3 && len(whole) >= 1 && len(whole) <= 3 && whole[0] != '0' {
			return 0, "", ErrAmbiguousNumber
		}
	}
	if whole == "" && frac == "" {
		return 0, "", ErrNotANumber
	}
	exp := ""
	switch {
	case isExponentE(p.peek(0)) && p.signedDigitsAt(1):
		p.i++
		exp = p.signedDigits()
	case whole == "10" && !hasMark:
		if e, ok := p.power(); ok {
			whole, exp = "1", e
			break
		}
		exp, _ = p.timesTen()
	default:
		exp, _ = p.timesTen()
	}
	p.skipSpaces()
	unit = string(p.rs[p.i:])
	if unit != "" && !isUnitStart(p.rs[p.i]) {
		return 0, "", ErrNotANumber
	}

	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(orZero(whole))
	b.WriteByte('.')
	b.WriteString(orZero(frac))
	if exp != "" {
		b.WriteByte('e')
		b.WriteString(exp)
	}
	v, perr := strconv.ParseFloat(b.String(), 64)
	if perr != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, "", ErrNotANumber
	}
	if v == 0 {
		v = 0 // no negative zero
	}
	return v, unit, nil
}

func orZero(digits string) string {
	if digits == "" {
		return "0"
	}
	return digits
}

// numScanner walks the runes of a numeric answer.
type numScanner struct {
	rs []rune
	i  int
}

// peek returns the rune k places ahead, or -1 past the end.
func (p *numScanner) peek(k int) rune {
	if j := p.i + k; j >= 0 && j < len(p.rs) {
		return p.rs[j]
	}
	return -1
}

func (p *numScanner) skipSpaces() {
	for unicode.IsSpace(p.peek(0)) {
		p.i++
	}
}

// integer reads digits with optional space-separated groups of three. It
// reports whether groups were read.
func (p *numScanner) integer() (digits string, grouped bool) {
	start := p.i
	for isASCIIDigit(p.peek(0)) {
		p.i++
	}
	digits = string(p.rs[start:p.i])
	if len(digits) == 0 || len(digits) > 3 {
		return digits, false
	}
	for isGroupSpace(p.peek(0)) && isASCIIDigit(p.peek(1)) && isASCIIDigit(p.peek(2)) &&
		isASCIIDigit(p.peek(3)) && !isASCIIDigit(p.peek(4)) {
		digits += string(p.rs[p.i+1 : p.i+4])
		p.i += 4
		grouped = true
	}
	return digits, grouped
}

// signedDigitsAt reports whether an optional sign and a digit start k runes
// ahead.
func (p *numScanner) signedDigitsAt(k int) bool {
	if r := p.peek(k); isMinus(r) || r == '+' {
		k++
	}
	return isASCIIDigit(p.peek(k))
}

// signedDigits reads an optional sign and digits, as strconv wants them.
func (p *numScanner) signedDigits() string {
	var b strings.Builder
	if r := p.peek(0); isMinus(r) || r == '+' {
		if r != '+' {
			b.WriteByte('-')
		}
		p.i++
	}
	for isASCIIDigit(p.peek(0)) {
		b.WriteRune(p.peek(0))
		p.i++
	}
	return b.String()
}

// timesTen reads "·10^8" and its variants (see ParseNumber) and returns the
// exponent. If they are not there it reads nothing.
func (p *numScanner) timesTen() (string, bool) {
	start := p.i
	p.skipSpaces()
	if isTimes(p.peek(0)) {
		p.i++
		p.skipSpaces()
		if p.peek(0) == '1' && p.peek(1) == '0' {
			p.i += 2
			if e, ok := p.power(); ok {
				return e, true
			}
		}
	}
	p.i = start
	return "", false
}

// power reads an exponent after 10: ^8, ^-8, ^(−8), ⁸ or ⁻⁸. If there is
// none it reads nothing.
func (p *numScanner) power() (string, bool) {
	if p.peek(0) == '^' {
		sup, n := caretExponent(p.rs[p.i+1:])
		if n == 0 {
			return "", false
		}
		p.i += 1 + n
		return superscriptToASCII(sup), true
	}
	start := p.i
	var b strings.Builder
	if r := p.peek(0); r == '⁻' || r == '⁺' {
		if r == '⁻' {
			b.WriteByte('-')
		}
		p.i++
	}
	digits := 0
	for {
		d, ok := superscriptValue(p.peek(0))
		if !ok {
			break
		}
		b.WriteByte(byte('0' + d))
		p.i++
		digits++
	}
	if digits == 0 {
		p.i = start
		return "", false
	}
	return b.String(), true
}

// superscriptToASCII turns superscript digits and ⁻ into ASCII.
func superscriptToASCII(sup []rune) string {
	var b strings.Builder
	for _, r := range sup {
		if r == '⁻' {
			b.WriteByte('-')
		} else if d, ok := superscriptValue(r); ok {
			b.WriteByte(byte('0' + d))
		}
	}
	return b.String()
}

func isGroupSpace(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u2007', '\u2009', '\u202f':
		return true
	}
	return false
}

func isExponentE(r rune) bool {
	return r == 'e' || r == 'E' || r == 'е' || r == 'Е'
}

func isTimes(r rune) bool {
	switch r {
	case '·', '⋅', '∙', '*', '×', 'x', 'X', 'х', 'Х':
		return true
	}
	return false
}

func isUnitStart(r rune) bool {
	switch r {
	case '%', '‰', '°', 'º', '℃', '℉', '′', '″':
		return true
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Sc, r)
}

// Display of numbers in solutions.

// noise is the relative error below which two floats are shown as the same
// number: far above the rounding of a few float operations, far below any
// tolerance a teacher would set.
const noise = 1e-12

// sigDigits returns the fewest significant digits that show v to within
// noise·scale, and v rounded to them.
func sigDigits(v, scale float64) (int, float64) {
	if v == 0 {
		return 1, 0
	}
	tol := noise * max(scale, math.Abs(v))
	for p := 1; p < 17; p++ {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'e', p-1, 64), 64)
		if math.Abs(r-v) <= tol {
			return p, r
		}
	}
	return 17, v
}

// formatNumber shows v for a student as an HTML fragment: with the fewest
// digits that hold it to within noise·scale (so 0.30000000000000004 shows as
// 0.3), a decimal comma if comma is set, and magnitudes from a million up or
// below 0.0001 as m·10<sup>e</sup>.
func formatNumber(v, scale float64, comma bool) string {
	p, r := sigDigits(v, scale)
	e := strconv.FormatFloat(r, 'e', p-1, 64) // "6.67e-11"
	mant, expStr, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(expStr)
	var s string
	switch {
	case r != 0 && (x >= 6 || x < -4):
		s = "10<sup>" + strconv.Itoa(x) + "</sup>"
		switch mant {
		case "1":
		case "-1":
			s = "-" + s
		default:
			s = mant + "·" + s
		}
	default:
		s = strconv.FormatFloat(r, 'f', -1, 64)
	}
	if comma {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return s
}

// formatRange shows the numbers of a NumberAnswer: one number if Min and Max
// agree, "mid ± half" if the range reads as an answer with a tolerance (its
// midpoint needs no more digits than its bounds and the tolerance is under a
// quarter of the midpoint, or the midpoint is 0), else "Min..Max".
func formatRange(n NumberAnswer, comma bool) string {
	scale := max(math.Abs(n.Min), math.Abs(n.Max))
	mid, half := n.Min/2+n.Max/2, n.Max/2-n.Min/2
	if half <= noise*scale {
		return formatNumber(mid, scale, comma)
	}
	pm, _ := sigDigits(mid, scale)
	pa, _ := sigDigits(n.Min, scale)
	pb, _ := sigDigits(n.Max, scale)
	midZero := math.Abs(mid) <= noise*scale
	if midZero || (pm <= max(pa, pb) && half < math.Abs(mid)/4) {
		if midZero {
			mid = 0
		}
		return formatNumber(mid, scale, comma) + " ± " + formatNumber(half, scale, comma)
	}
	return formatNumber(n.Min, scale, comma) + ".." + formatNumber(n.Max, scale, comma)
}
