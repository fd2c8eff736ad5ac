package live

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/learn"
)

// CheckNickname tidies a typed nickname (spaces trimmed and collapsed) and
// checks it: 1 to 24 letters, digits, spaces, and - _ . ' between them.
func CheckNickname(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	if n == 0 || n > maxNicknameRune {
		return "", ErrNicknameInvalid
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			letters++
		case unicode.Is(unicode.Mn, r): // a combining mark, as in some Tajik spellings
		case r == ' ' || r == '-' || r == '_' || r == '.' || r == '\'':
		default:
			return "", ErrNicknameInvalid
		}
	}
	if letters == 0 {
		return "", ErrNicknameInvalid
	}
	return s, nil
}

// foldNickname is the form in which two nicknames that look the same are
// equal: case, Cyrillic and Latin look-alikes and spacing folded (as short
// text answers are), so "Ali" and "АLI" with a Cyrillic А are one nickname.
func foldNickname(s string) string {
	return strings.ReplaceAll(learn.NormalizeText(s), " ", "")
}

// Nickname words: kind adjectives and animals that are no insult in any of
// the three languages (no pig, donkey, goat, cow, sheep, dog, crow, …) and
// no adjective about bodies or minds, so no pair of them is offensive. In
// Russian every animal is masculine so adjectives agree; in Tajik the
// adjective follows its noun with the izofat -и. The Tajik words await
// review by a native-speaking teacher, like the rest of the Tajik UI.
var nicknameWords = map[string]struct{ adjectives, animals []string }{
	"en": {
		adjectives: []string{"Brave", "Bright", "Calm", "Clever", "Cheerful", "Curious", "Friendly", "Gentle", "Golden", "Happy", "Kind", "Lucky", "Quick", "Quiet", "Shiny", "Sunny", "Swift", "Wise", "Bold", "Jolly"},
		animals:    []string{"Tiger", "Eagle", "Falcon", "Dolphin", "Panda", "Lion", "Owl", "Otter", "Penguin", "Leopard", "Beaver", "Koala", "Fox", "Gazelle", "Hawk", "Lynx", "Robin", "Swan", "Whale", "Zebra"},
	},
	"ru": {
		adjectives: []string{"Смелый", "Яркий", "Спокойный", "Умный", "Весёлый", "Любопытный", "Дружный", "Добрый", "Золотой", "Счастливый", "Ловкий", "Быстрый", "Тихий", "Солнечный", "Мудрый", "Храбрый", "Зоркий", "Звёздный", "Честный", "Бодрый"},
		animals:    []string{"Тигр", "Орёл", "Сокол", "Дельфин", "Барс", "Лев", "Пингвин", "Бобр", "Енот", "Кит", "Филин", "Ястреб", "Лебедь", "Журавль", "Соловей", "Гепард", "Олень", "Фламинго", "Зубр", "Рысь"},
	},
	"tg": {
		adjectives: []string{"далер", "тез", "доно", "зирак", "меҳрубон", "шодмон", "равшан", "чолок", "ором", "хушбахт", "ботамкин", "зарин", "поквиҷдон", "ҷасур", "бодиққат"},
		animals:    []string{"Шер", "Уқоб", "Паланг", "Оҳу", "Булбул", "Лочин", "Дельфин", "Бабр", "Кабк", "Сангпушт", "Пингвин", "Гавазн", "Қуқу", "Товус", "Лайлак"},
	},
}

// GenerateNickname makes a friendly nickname in lang ("Brave Tiger",
// "Смелый Тигр", "Шери далер") from two numbers of the random source rnd,
// which returns an int in [0, n).
func GenerateNickname(lang string, rnd func(n int) int) string {
	w, ok := nicknameWords[lang]
	if !ok {
		w = nicknameWords["en"]
	}
	adj := w.adjectives[rnd(len(w.adjectives))]
	animal := w.animals[rnd(len(w.animals))]
	if lang == "tg" {
		return animal + "и " + adj
	}
	return adj + " " + animal
}

// FreeNickname generates a nickname nobody in the session has; after a few
// tries it numbers one ("Brave Tiger 2").
func (s *Session) FreeNickname(lang string, rnd func(n int) int) string {
	var nick string
	for range 8 {
		if nick = GenerateNickname(lang, rnd); s.NicknameFree(nick) {
			return nick
		}
	}
	for i := 2; ; i++ {
		if n := nick + " " + strconv.Itoa(i); s.NicknameFree(n) {
			return n
		}
	}
}

// SuggestNickname generates a nickname in lang from the system's randomness.
func SuggestNickname(lang string) string { return GenerateNickname(lang, randIntN) }
