package learn

import "testing"

func TestNormalizeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only spaces and punctuation", "  ?! . ", ""},
		{"lower case", "Carbon Dioxide", "carbon dioxide"},
		{"trim and collapse spaces", "  carbon \t\n  dioxide  ", "carbon dioxide"},
		{"no-break and thin spaces", "carbon\u00a0\u2009dioxide", "carbon dioxide"},
		{"trailing full stop", "carbon dioxide.", "carbon dioxide"},
		{"trailing marks with spaces", "water !?", "water"},
		{"leading and trailing ellipsis", "…water...", "water"},
		{"straight quotes", `"water"`, "water"},
		{"guillemets", "«вода»", "вoдa"},
		{"curly quotes and full stop", "“water.”", "water"},
		{"inner punctuation kept", "h2o, co2", "h2o, co2"},
		{"decimal point kept", "3.5", "3.5"},
		{"subscript digit", "CO₂", "co2"},
		{"superscript digit", "m²", "m2"},
		{"full-width letters", "ＣＯ２", "co2"},
		{"Cyrillic look-alikes fold to Latin", "СО2", "co2"},
		{"all lower-case look-alikes", "аеорсухк", "aeopcyxk"},
		{"ё folds to е and then e", "ёж", "eж"},
		{"Tajik letters", "ӣӯҳқғҷ", "иyxkгч"},
		{"Tajik capitals", "ӢӮҲҚҒҶ", "иyxkгч"},
		{"и with combining macron composes to ӣ", "и\u0304", "и"},
		{"е with combining diaeresis composes to ё", "е\u0308", "e"},
		{"й stays", "й", "й"},
		{"upper-case-only look-alikes are not folded", "ВНМТ", "внмт"},
		{"hyphen between words", "северо-запад", "ceвepo зaпaд"},
		{"en dash with spaces between words", "north – west", "north west"},
		{"dash before a digit kept", "-5", "-5"},
		{"minus sign before a digit becomes hyphen", "−5", "-5"},
		{"dash between digits kept", "2-3", "2-3"},
		{"trailing dash kept", "x-", "x-"},
	}
	for _, tt := range tests {
		if got := NormalizeText(tt.in); got != tt.want {
			t.Errorf("%s: NormalizeText(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestNormalizeTextMatches(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"СО2", "CO2", true},
		{"CO₂", "co2", true},
		{"Углекислый  газ.", "углекислый газ", true},
		{"гази карбон", "Гази  карбон!", true},
		{"ҳаво", "хаво", true},
		{"ҲАВО", "хаво", true},
		{"қувва", "кувва", true},
		{"ёлка", "елка", true},
		{"диоксид-углерода", "диоксид углерода", true},
		{"'oxygen'", "oxygen", true},
		{"йод", "иод", false},
		{"-5", "5", false},
		{"carbon dioxide", "carbondioxide", false},
		{"CO", "CO2", false},
	}
	for _, tt := range tests {
		a, b := NormalizeText(tt.a), NormalizeText(tt.b)
		if got := a == b; got != tt.same {
			t.Errorf("NormalizeText(%q) = %q, NormalizeText(%q) = %q: equal = %v, want %v", tt.a, a, tt.b, b, got, tt.same)
		}
	}
}

func TestSameUnit(t *testing.T) {
	speed := Text{"en": "m/s", "ru": "м/с", "tg": "м/с"}
	accel := Text{"en": "m/s²", "ru": "м/с²"}
	tests := []struct {
		name string
		got  string
		want Text
		same bool
	}{
		{"exact English", "m/s", speed, true},
		{"exact Russian in any language", "м/с", speed, true},
		{"spaces around slash", "m / s", speed, true},
		{"Latin c in Russian unit", "м/c", speed, true},
		{"Latin m is not Cyrillic м", "m/с", speed, false},
		{"other unit", "km/h", speed, false},
		{"empty is never the same", "", speed, false},
		{"only spaces", "  ", speed, false},
		{"caret exponent", "m/s^2", accel, true},
		{"plain digit exponent", "m/s2", accel, true},
		{"Russian with caret", "м/с^2", accel, true},
		{"caret with parentheses", "m/s^(2)", accel, true},
		{"missing exponent", "m/s", accel, false},
		{"wrong exponent", "m/s^3", accel, false},
		{"negative exponent", "m·s^-2", Text{"en": "m·s⁻²"}, true},
		{"negative exponent with U+2212", "m s^−2", Text{"en": "m·s⁻²"}, true},
		{"cube", "cm^3", Text{"en": "cm³", "ru": "см³"}, true},
		{"Cyrillic cube", "см3", Text{"en": "cm³", "ru": "см³"}, true},
		{"space as product", "N m", Text{"en": "N·m"}, true},
		{"star as product", "N*m", Text{"en": "N·m"}, true},
		{"dot as product", "N.m", Text{"en": "N·m"}, true},
		{"dot operator as product", "N⋅m", Text{"en": "N·m"}, true},
		{"no product is another unit", "Nm", Text{"en": "N·m"}, false},
		{"millisecond is not metre-second", "ms", Text{"en": "m·s"}, false},
		{"product in Russian", "Н·м", Text{"en": "N·m", "ru": "Н·м"}, true},
		{"trailing full stop", "m/s.", speed, true},
		{"prefix case matters", "Mm", Text{"en": "mm"}, false},
		{"kelvin is not kilo", "Km/h", Text{"en": "km/h"}, false},
		{"Cyrillic к as kilo", "кg", Text{"en": "kg"}, true},
		{"Cyrillic capital К as kelvin", "К", Text{"en": "K"}, true},
		{"Cyrillic capital М as mega", "МJ", Text{"en": "MJ"}, true},
		{"Cyrillic Н is newton, not henry", "Н", Text{"en": "H"}, false},
		{"Cyrillic В is volt, not bel", "В", Text{"en": "B"}, false},
		{"degree Celsius", "°C", Text{"en": "°C"}, true},
		{"ordinal indicator as degree", "ºC", Text{"en": "°C"}, true},
		{"Celsius sign", "℃", Text{"en": "°C"}, true},
		{"Cyrillic С in °С", "°С", Text{"en": "°C"}, true},
		{"space after degree", "° C", Text{"en": "°C"}, true},
		{"C° is not accepted", "C°", Text{"en": "°C"}, false},
		{"micro sign", "µm", Text{"en": "μm"}, true},
		{"percent", "%", Text{"en": "%"}, true},
		{"lower case c is not C", "°c", Text{"en": "°C"}, false},
	}
	for _, tt := range tests {
		if got := SameUnit(tt.got, tt.want); got != tt.same {
			t.Errorf("%s: SameUnit(%q, %v) = %v, want %v (normalised %q)", tt.name, tt.got, tt.want, got, tt.same, normUnit(tt.got))
		}
	}
}
