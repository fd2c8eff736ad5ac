package i18n

import (
	"testing"
	"time"
)

func TestDateAndDecimal(t *testing.T) {
	d := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{"en": "2 March 2026", "ru": "2 марта 2026 г.", "tg": "2 марти 2026", "xx": "2 March 2026"} {
		if got := Date(lang, d); got != want {
			t.Errorf("Date(%s) = %q, want %q", lang, got, want)
		}
	}
	for _, tc := range []struct {
		lang string
		v    float64
		want string
	}{{"en", 9.80, "9.8"}, {"ru", 9.80, "9,8"}, {"tg", 12, "12"}, {"ru", 0.126, "0,13"}} {
		if got := Decimal(tc.lang, tc.v, 2); got != tc.want {
			t.Errorf("Decimal(%s, %v) = %q, want %q", tc.lang, tc.v, got, tc.want)
		}
	}
}
