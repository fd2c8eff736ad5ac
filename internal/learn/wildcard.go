package learn

import "strings"

// Wildcard answers, as in Moodle's short answers: in the Text of a
// TextAnswer with Wildcard set, "*" stands for any run of characters (none
// included), "\*" is a literal star and "\\" a literal backslash. The
// answer and the response are compared after NormalizeText, so "=cat*"
// accepts "Catfish" and "cat".

// anyRun is what a wildcard becomes while a pattern is normalized: a
// private-use character that NormalizeText keeps as it is.
const anyRun = '\uE000'

// accepts reports whether answer a accepts got, a response already passed
// through NormalizeText.
func (a TextAnswer) accepts(got string) bool {
	if !a.Wildcard {
		return NormalizeText(a.Text) == got
	}
	parts := strings.Split(NormalizeText(wildcardPattern(a.Text)), string(anyRun))
	if len(parts) == 1 {
		return parts[0] == got
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(got) < len(first)+len(last) || !strings.HasPrefix(got, first) || !strings.HasSuffix(got, last) {
		return false
	}
	rest := got[len(first) : len(got)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// wildcardPattern turns the text of a wildcard answer into the text to
// normalize: every "*" becomes anyRun, "\*" a star and "\\" a backslash.
func wildcardPattern(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case c == '*':
			b.WriteRune(anyRun)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// shown is how a text answer is shown as the right one: a wildcard answer
// with its escapes resolved ("cat*" for "cat*", "2*3" for "2\*3").
func (a TextAnswer) shown() string {
	if !a.Wildcard {
		return a.Text
	}
	return strings.NewReplacer(`\*`, "*", `\\`, `\`).Replace(a.Text)
}
