package gift

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// space is the white space GIFT trims around answers and weights.
const space = " \t\n"

// indexUnescaped returns the index of the first occurrence of seq in s that
// is not part of a backslash escape, or -1. seq must not hold a backslash.
func indexUnescaped(s, seq string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], seq) {
			return i
		}
	}
	return -1
}

// indexAnyUnescaped returns the index of the first byte of s that is one of
// chars (ASCII, no backslash) and is not escaped, or -1.
func indexAnyUnescaped(s, chars string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case strings.IndexByte(chars, s[i]) >= 0:
			return i
		}
	}
	return -1
}

// formats are the markers of a text's format that GIFT allows at its start.
var formats = []string{"[markdown]", "[plain]", "[moodle]", "[html]"}

// clean turns raw GIFT text into plain text (a title, an accepted answer):
// a leading format marker is dropped, escapes are resolved and space is
// trimmed.
func clean(raw string) string {
	return strings.TrimSpace(unescape(dropFormat(raw), false))
}

// markdown turns raw GIFT text into the Markdown the builder renders: as
// clean, but a GIFT escape outside TeX becomes a Markdown escape, so that
// the character stays literal ("\#" is "#", never a heading).
func markdown(raw string) string {
	return strings.TrimSpace(unescape(dropFormat(raw), true))
}

func dropFormat(raw string) string {
	raw = strings.TrimLeft(raw, space)
	for _, f := range formats {
		if strings.HasPrefix(raw, f) {
			return raw[len(f):]
		}
	}
	return raw
}

// shortAnswer turns the raw text of an accepted short answer into plain
// text, or, when it holds a "*" (Moodle's wildcard: any characters), into a
// learn wildcard pattern, where "\*" is a literal star and "\\" a literal
// backslash. Outside a pattern "\*" is a star too.
func shortAnswer(raw string) (text string, wildcard bool) {
	s := dropFormat(raw)
	wildcard = indexUnescaped(s, "*") >= 0
	var b strings.Builder
	tex := false // inside $…$ (or $$…$$), where \n begins a command
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			tex = !tex
		}
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch n := s[i]; {
		case n == '*' || n == '\\':
			if wildcard {
				b.WriteByte('\\')
			}
			b.WriteByte(n)
		case strings.IndexByte("~=#{}:", n) >= 0:
			b.WriteByte(n)
		case n == 'n' && !tex:
			b.WriteByte('\n')
		default:
			b.WriteByte(c)
			b.WriteByte(n)
		}
	}
	return strings.TrimSpace(b.String()), wildcard
}

// inline keeps Markdown text s on its lines: a line that starts as a
// heading, a list item, a quote, a rule, a setext underline or a code fence
// would makes it a block, so that start is escaped. A choice is inline text.
func inline(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		lead := l[:len(l)-len(t)]
		switch {
		case t == "":
		case strings.IndexByte("#>+-=|", t[0]) >= 0, strings.HasPrefix(t, "```"):
			lines[i] = lead + "\\" + t
		case (t[0] == '*' || t[0] == '_') && (len(t) == 1 || t[1] == ' ' || t[1] == '\t' || isRule(t)):
			lines[i] = lead + "\\" + t
		default:
			// An ordered list item: 1–9 digits, then "." or ")" and a space.
			d := 0
			for d < len(t) && d < 10 && t[d] >= '0' && t[d] <= '9' {
				d++
			}
			if d > 0 && d < 10 && d < len(t) && (t[d] == '.' || t[d] == ')') && (d+1 == len(t) || t[d+1] == ' ' || t[d+1] == '\t') {
				lines[i] = lead + t[:d] + "\\" + t[d:]
			}
		}
	}
	return strings.Join(lines, "\n")
}

// isRule reports whether t is a thematic break such as "***" or "_ _ _".
func isRule(t string) bool {
	n := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case t[0]:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// unescape resolves the GIFT escapes \~ \= \# \{ \} \: \\ and \n (for
// Markdown, outside TeX, into Markdown escapes of the same). Any other
// backslash is kept with the character after it, so Markdown escapes (\$,
// \*) and TeX commands (\frac) reach the builder as written. Inside TeX
// formulas ($…$ and $$…$$) \n is kept too: there it begins a command such as
// \nu or \neq, never a line break.
func unescape(s string, markdown bool) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inline, display := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch n := s[i]; {
			case strings.IndexByte(`~=#{}:\`, n) >= 0:
				if markdown && !inline && !display {
					b.WriteByte('\\')
				}
				b.WriteByte(n)
			case n == 'n' && !inline && !display:
				b.WriteByte('\n')
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
		case c == '$' && strings.HasPrefix(s[i:], "$$") && !inline:
			display = !display
			b.WriteString("$$")
			i++
		case c == '$' && !display:
			inline = !inline
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isDecimal reports whether s is a plain decimal number: an optional sign,
// digits with at most one decimal point, and an optional exponent. It rules
// out what strconv.ParseFloat also takes: "inf", "nan", hex and underscores.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !point {
			point = true
		} else {
			break
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseNumber parses a finite decimal number.
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if !isDecimal(s) {
		return 0, newProblem("gift.bad_number", quote(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, newProblem("gift.number_range", quote(s))
	}
	return f, nil
}

// parseWeight parses the NUMBER of a %NUMBER% weight into a fraction from -1
// to 1. A weight within 0.005 points of a simple fraction such as 1/3 (written
// 33.333%) is rounded to it, so that weights like Moodle's 33.33333% add up to
// exactly 100%.
func parseWeight(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if !isDecimal(s) {
		return 0, newProblem("gift.bad_weight", quote("%"+s+"%"))
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || p < -100 || p > 100 {
		return 0, newProblem("gift.weight_range", s)
	}
	w := p / 100
	for d := 1.0; d <= 12; d++ {
		n := math.Round(w * d)
		if math.Abs(w-n/d) < 5e-5 {
			return n / d, nil
		}
	}
	return w, nil
}

// quote quotes s for an error message, shortened to 40 characters.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:39]) + "…"
	}
	return strconv.Quote(s)
}

// maxID is the longest id a title is turned into, as content ids allow.
const maxID = 64

// slug turns a title into an item id: lower-case ASCII letters, digits and
// single dashes. Cyrillic letters (Russian, Tajik and their neighbours) are
// transliterated and common accented Latin letters lose their accents;
// letters of other scripts are left out. The result may be "" (a title of
// Greek or Chinese letters, or of punctuation only): the caller numbers such
// questions like untitled ones.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		var s string
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			s = string(r)
		case translit[r] != "":
			s = translit[r]
		case strings.ContainsRune("'’ʼʻ", r),
			unicode.IsLetter(r), unicode.IsMark(r), unicode.IsNumber(r):
			continue
		default:
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(s)
		if b.Len() >= maxID {
			break
		}
	}
	id := b.String()
	if len(id) > maxID {
		id = id[:maxID]
	}
	return strings.Trim(id, "-")
}

// translit spells lower-case Cyrillic and accented Latin letters in ASCII.
// Letters mapped to nothing (ъ, ь) are simply left out.
var translit = map[rune]string{
	// Russian.
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo",
	'ж': "zh", 'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m",
	'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
	'ы': "y", 'э': "e", 'ю': "yu", 'я': "ya",
	// Tajik.
	'ғ': "gh", 'ӣ': "i", 'қ': "q", 'ӯ': "u", 'ҳ': "h", 'ҷ': "j",
	// Ukrainian, Belarusian, Kazakh, Kyrgyz, Uzbek.
	'є': "ye", 'і': "i", 'ї': "yi", 'ґ': "g", 'ў': "u", 'ә': "a", 'ө': "o",
	'ү': "u", 'ұ': "u", 'ң': "ng", 'һ': "h",
	// Latin with accents.
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae",
	'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i",
	'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o",
	'ö': "o", 'ø': "o", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y",
	'ÿ': "y", 'ß': "ss", 'ğ': "g", 'ı': "i", 'ş': "s", 'ő': "o", 'ű': "u",
	'č': "c", 'ď': "d", 'ě': "e", 'ň': "n", 'ř': "r", 'š': "s", 'ť': "t",
	'ů': "u", 'ž': "z", 'ł': "l", 'ą': "a", 'ę': "e", 'ć': "c", 'ń': "n",
	'ś': "s", 'ź': "z", 'ż': "z", 'ā': "a", 'ē': "e", 'ī': "i", 'ū': "u",
}
