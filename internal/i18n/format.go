package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Month names as used in a date ("2 марта"): Russian takes the genitive.
var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"ru": {"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"},
	"tg": {"январ", "феврал", "март", "апрел", "май", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"},
}

// Date formats a day the way readers of lang write it: "2 March 2026",
// "2 марта 2026 г.", "2 марти 2026".
func Date(lang string, t time.Time) string {
	m, ok := months[lang]
	if !ok {
		lang, m = "en", months["en"]
	}
	name := m[t.Month()-1]
	switch lang {
	case "ru":
		return fmt.Sprintf("%d %s %d г.", t.Day(), name, t.Year())
	case "tg":
		return fmt.Sprintf("%d %s %d", t.Day(), name+"и", t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), name, t.Year())
}

// Decimal formats a number with the decimal separator of lang (a comma in
// Russian and Tajik) and at most digits decimals, trailing zeros dropped.
func Decimal(lang string, v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if lang == "ru" || lang == "tg" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Bytes writes n in MB or GB with one decimal, with the decimal separator
// of lang: "812.4 MB", "3,1 ГБ".
func Bytes(lang string, n uint64) string {
	key, v := "status.mb", float64(n)/(1<<20)
	if n >= 1<<30 {
		key, v = "status.gb", float64(n)/(1<<30)
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	if lang != "en" {
		num = strings.Replace(num, ".", ",", 1)
	}
	return T(lang, key, num)
}
