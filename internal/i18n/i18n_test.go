package i18n

import (
	"strings"
	"testing"
)

// Every message exists in every language, with every plural category that
// language needs, and with the same format verbs as in English.
func TestCatalogIsComplete(t *testing.T) {
	base := map[string]bool{}
	for lang := range catalog {
		for key := range catalog[lang] {
			k, _, _ := strings.Cut(key, "#")
			base[k] = strings.Contains(key, "#") || base[k]
		}
	}
	for _, l := range Languages {
		msgs, ok := catalog[l.Code]
		if !ok {
			t.Fatalf("language %s has no catalog", l.Code)
		}
		for key, plural := range base {
			if !plural {
				if _, ok := msgs[key]; !ok {
					t.Errorf("%s: message %q is missing", l.Code, key)
				}
				continue
			}
			for _, cat := range pluralRules[l.Code].needs {
				if _, ok := msgs[key+"#"+cat]; !ok {
					t.Errorf("%s: plural message %q lacks the %q form", l.Code, key, cat)
				}
			}
		}
		for key, msg := range msgs {
			en := catalog["en"][key]
			if k, _, ok := strings.Cut(key, "#"); ok {
				en = catalog["en"][k+"#other"]
			}
			if verbs(msg) != verbs(en) {
				t.Errorf("%s: %q has format verbs %q, English has %q", l.Code, key, verbs(msg), verbs(en))
			}
		}
	}
}

func verbs(s string) string {
	var out []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			out = append(out, s[i:i+2])
			i++
		}
	}
	return strings.Join(out, "")
}

func TestPlurals(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 lesson"}, {"en", 0, "0 lessons"}, {"en", 4, "4 lessons"},
		{"ru", 1, "1 урок"}, {"ru", 2, "2 урока"}, {"ru", 4, "4 урока"}, {"ru", 5, "5 уроков"},
		{"ru", 11, "11 уроков"}, {"ru", 12, "12 уроков"}, {"ru", 21, "21 урок"}, {"ru", 22, "22 урока"},
		{"ru", 111, "111 уроков"}, {"ru", 0, "0 уроков"},
		{"tg", 1, "1 дарс"}, {"tg", 5, "5 дарс"},
	} {
		if got := N(tc.lang, "pack.lessons", tc.n); got != tc.want {
			t.Errorf("N(%s, pack.lessons, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

func TestMatchAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"ru-RU,ru;q=0.9,en-US;q=0.8", "ru"},
		{"en-US,en;q=0.9", "en"},
		{"de-DE,tg;q=0.5,ru;q=0.4", "tg"},
		{"fr", ""},
		{"", ""},
	} {
		if got := Match(tc.header); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestMissingKeyShows(t *testing.T) {
	if got := T("ru", "no.such.key"); got != "!no.such.key" {
		t.Errorf("T of a missing key = %q, want it marked with !", got)
	}
}
