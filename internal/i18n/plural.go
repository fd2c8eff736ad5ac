package i18n

import "fmt"

// Plural categories of CLDR.
const (
	One   = "one"
	Few   = "few"
	Many  = "many"
	Other = "other"
)

// pluralRules gives, per language, the CLDR category of an integer count, and
// the categories a message in that language must have.
var pluralRules = map[string]struct {
	of    func(n int) string
	needs []string
}{
	"en": {func(n int) string {
		if n == 1 {
			return One
		}
		return Other
	}, []string{One, Other}},
	// Russian: 1, 21, 31 урок; 2–4, 22–24 урока; 5–20, 25–30 уроков.
	"ru": {func(n int) string {
		if n < 0 {
			n = -n
		}
		switch m10, m100 := n%10, n%100; {
		case m10 == 1 && m100 != 11:
			return One
		case m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14):
			return Few
		default:
			return Many
		}
	}, []string{One, Few, Many, Other}},
	// Tajik: a noun after a numeral stays singular (се дарс), so one form.
	"tg": {func(int) string { return Other }, []string{Other}},
}

// N returns the plural message key in lang for the count n, formatted with
// n and then args. Plural messages are stored as "key#category".
func N(lang, key string, n int, args ...any) string {
	rule, ok := pluralRules[lang]
	if !ok {
		lang, rule = "en", pluralRules["en"]
	}
	all := append([]any{n}, args...)
	for _, cat := range []string{rule.of(n), Other} {
		if msg, ok := catalog[lang][key+"#"+cat]; ok {
			return fmt.Sprintf(msg, all...)
		}
	}
	return T(lang, key, all...)
}
