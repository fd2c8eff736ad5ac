package discovery

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLabel is the longest DNS label, in bytes: an instance name or a host
// name must fit in one.
const maxLabel = 63

// CleanName makes a name people gave the box (a school, a room) fit to be a
// DNS-SD instance name: one label of at most 63 bytes of UTF-8, without
// control characters or leading and trailing dots and spaces. An empty
// result becomes DefaultName.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case r == utf8.RuneError || unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = truncate(strings.Trim(s, ". "), maxLabel)
	s = strings.Trim(s, ". ")
	if s == "" {
		return DefaultName
	}
	return s
}

// CheckHost checks a host name the box answers to under .local: letters,
// digits and hyphens, not starting or ending with a hyphen, 1–63 bytes. A
// trailing ".local" is accepted and removed; the result is lower case.
func CheckHost(s string) (string, error) {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(s, "."), ".local"))
	if h == "" || len(h) > maxLabel {
		return "", fmt.Errorf("host name %q: use 1 to %d letters, digits or hyphens", s, maxLabel)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("host name %q: use only letters a–z, digits and hyphens", s)
		}
	}
	if h[0] == '-' || h[len(h)-1] == '-' {
		return "", fmt.Errorf("host name %q must not start or end with a hyphen", s)
	}
	return h, nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// baseName strips a " (N)" suffix that an earlier rename added.
func baseName(name string) string {
	if !strings.HasSuffix(name, ")") {
		return name
	}
	i := strings.LastIndex(name, " (")
	if i <= 0 {
		return name
	}
	if n, err := strconv.Atoi(name[i+2 : len(name)-1]); err != nil || n < 2 {
		return name
	}
	return name[:i]
}

// numberedName is the n-th alternative to name, as people and other mDNS
// responders write it: "Room 5 (2)", "Room 5 (3)", … (n ≥ 2). The base is
// shortened when the suffix would not fit in a label.
func numberedName(name string, n int) string {
	suffix := fmt.Sprintf(" (%d)", n)
	base := strings.TrimRight(truncate(baseName(name), maxLabel-len(suffix)), ". ")
	return base + suffix
}

// numberedHost is the n-th alternative to a host name: "stembox-2", … (n ≥ 2).
func numberedHost(host string, n int) string {
	if i := strings.LastIndexByte(host, '-'); i > 0 {
		if k, err := strconv.Atoi(host[i+1:]); err == nil && k >= 2 && strconv.Itoa(k) == host[i+1:] {
			host = host[:i]
		}
	}
	suffix := "-" + strconv.Itoa(n)
	return strings.TrimRight(truncate(host, maxLabel-len(suffix)), "-") + suffix
}

// FreeName returns name if taken says it is free, else the first free
// "name (2)", "name (3)", …. Names compare without regard to case, as DNS
// names do.
func FreeName(name string, taken func(string) bool) string {
	return free(name, numberedName, taken)
}

// FreeHost is FreeName for host names: "stembox", "stembox-2", ….
func FreeHost(host string, taken func(string) bool) string {
	return free(host, numberedHost, taken)
}

func free(name string, next func(string, int) string, taken func(string) bool) string {
	if !taken(name) {
		return name
	}
	for n := 2; n < 10000; n++ {
		if c := next(name, n); !taken(c) {
			return c
		}
	}
	return next(name, 10000)
}

// sameName compares DNS names as DNS does: ASCII letters without regard to case.
func sameName(a, b string) bool { return strings.EqualFold(a, b) }
