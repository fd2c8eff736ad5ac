// Package i18n holds the box's user-interface strings in every language it
// speaks, and chooses a language for a request.
package i18n

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Language is a UI language.
type Language struct {
	Code string // "en", "ru", "tg"
	Name string // its own name for itself
}

// Languages are the UI languages, in the order the switcher shows them.
var Languages = []Language{
	{Code: "tg", Name: "Тоҷикӣ"},
	{Code: "ru", Name: "Русский"},
	{Code: "en", Name: "English"},
}

// fallbacks are the languages to show content in when it lacks the UI
// language, most readable first: a Tajik school reads Russian before English.
var fallbacks = map[string][]string{
	"tg": {"tg", "ru", "en"},
	"ru": {"ru", "en", "tg"},
	"en": {"en", "ru", "tg"},
}

// Fallbacks returns lang followed by the languages its readers are most likely
// to read, in order.
func Fallbacks(lang string) []string {
	if f, ok := fallbacks[lang]; ok {
		return f
	}
	return []string{lang}
}

// Supported reports whether code is a UI language.
func Supported(code string) bool {
	_, ok := catalog[code]
	return ok
}

// T returns the message key in lang, formatted with args (fmt verbs). A key
// missing in lang falls back to English; a key missing everywhere is returned
// as "!key" so that it shows in the page and in tests.
func T(lang, key string, args ...any) string {
	msg, ok := catalog[lang][key]
	if !ok {
		if msg, ok = catalog["en"][key]; !ok {
			return "!" + key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Keys returns every message key of lang, sorted.
func Keys(lang string) []string {
	keys := make([]string, 0, len(catalog[lang]))
	for k := range catalog[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Match picks the best UI language for an Accept-Language header, or "".
// It runs on every page request, so it scans without allocating.
func Match(acceptLanguage string) string {
	best, bestQ := "", 0.0
	for rest := acceptLanguage; rest != ""; {
		var part string
		if i := strings.IndexByte(rest, ','); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			part, rest = rest, ""
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base := tag
		if i := strings.IndexByte(tag, '-'); i >= 0 {
			base = tag[:i]
		}
		if code := supportedCode(base); code != "" && q > bestQ {
			best, bestQ = code, q
		}
	}
	return best
}

// supportedCode returns the UI language code equal to s ignoring case, or "".
func supportedCode(s string) string {
	for _, l := range Languages {
		if strings.EqualFold(l.Code, s) {
			return l.Code
		}
	}
	return ""
}
