// Package redirect decides where a request may send a browser next.
//
// A "next" parameter (or any other redirect target taken from a request) is
// attacker-controlled: a link to the box or the hub can carry one that sends
// the person who follows it to another site, with the box's or hub's name
// still in the address they clicked. Browsers are lenient: they drop tabs and
// newlines anywhere in a URL, strip leading and trailing control characters
// and spaces, and read "\" as "/", so "/\t/evil", "/\evil" and "//evil" all
// leave the site. Local accepts only a plain path on the same origin.
package redirect

import (
	"net/url"
	"strings"
)

// maxLen bounds a target: nothing on the box or the hub needs a longer one.
const maxLen = 2048

// Local returns target when it is a path on this origin (it starts with a
// single "/" and, decoded any number of times, has no scheme, host,
// backslash or control character), and fallback otherwise.
func Local(target, fallback string) string {
	if !isLocal(target) {
		return fallback
	}
	return target
}

func isLocal(target string) bool {
	if target == "" || len(target) > maxLen {
		return false
	}
	// Check the raw form and every decoded form: a target that decodes to
	// something hostile is refused even if no browser decodes it today.
	s := target
	for round := 0; ; round++ {
		if !plainPath(s) {
			return false
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break // nothing (more) that anyone could decode
		}
		if round == 3 {
			return false // still encoded after several rounds: no path anyone types
		}
		s = d
	}
	u, err := url.Parse(target)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// plainPath reports whether s starts with exactly one "/" and holds no
// character a browser would drop or read as a slash.
func plainPath(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	// Unicode line and paragraph separators and the like: no legitimate path
	// on the box or the hub carries them raw.
	return !strings.ContainsAny(s, "\u0085\u2028\u2029\ufeff")
}
