package roster

import (
	"strings"
	"unicode"
)

// The header names a teacher writes, in English, Russian and Tajik (with
// or without Tajik letters: "ҷинс" is often typed "чинс"), read after
// normalizeHeader. A column named for a whole name wins over separate
// given and family names; "имя" or "ном" alone is the whole name.
var (
	fullNameHeaders = []string{"name", "full_name", "fullname", "student", "student_name",
		"фио", "ф_и_о", "имя_фамилия", "фамилия_имя", "фамилия_и_имя", "фамилия_имя_отчество", "ученик", "ученица", "имя_ученика",
		"ному_насаб", "ном_ва_насаб", "насаб_ва_ном", "насаб_ном", "ном_насаб", "хонанда", "номи_хонанда"}
	givenHeaders  = []string{"givenname", "given_name", "first_name", "firstname", "имя", "ном"}
	familyHeaders = []string{"familyname", "family_name", "last_name", "lastname", "surname", "фамилия", "насаб"}
	genderHeaders = []string{"gender", "sex", "пол", "ҷинс", "чинс", "ҷинсият", "чинсият"}
	yearHeaders   = []string{"birth_year", "birthyear", "birthdate", "birth_date", "year_of_birth", "date_of_birth",
		"год_рождения", "дата_рождения", "год", "соли_таваллуд", "санаи_таваллуд", "таваллуд", "сол"}
	idHeaders   = []string{"external_id", "sourcedid", "id", "student_id", "код", "код_ученика", "рамзи_хонанда"}
	pinHeaders  = []string{"pin", "pin_code", "pincode", "пин", "пин_код", "пинкод"}
	roleHeaders = []string{"role", "роль", "нақш", "накш"}
)

// normalizeHeader reads a header cell the way the alias lists are written:
// lower case, no byte-order mark, no dots, colons or asterisks, and runs
// of spaces, dashes and underscores as one underscore ("Ф.И.О.", "Birth
// year", "Пин-код:" become "фио", "birth_year", "пин_код").
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	var b strings.Builder
	sep := false
	for _, r := range h {
		switch {
		case r == '.' || r == ':' || r == '*' || r == '"' || r == '№':
		case r == '_' || r == '-' || r == '/' || unicode.IsSpace(r):
			sep = b.Len() > 0
		default:
			if sep {
				b.WriteByte('_')
				sep = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// columns maps the roster's fields to the header's column indexes (-1: none).
type columns struct {
	full, given, family, gender, year, id, pin, role int
}

func findColumns(header []string) columns {
	idx := map[string]int{}
	for i, h := range header {
		if n := normalizeHeader(h); n != "" {
			if _, dup := idx[n]; !dup {
				idx[n] = i
			}
		}
	}
	find := func(names []string) int {
		for _, n := range names {
			if i, ok := idx[n]; ok {
				return i
			}
		}
		return -1
	}
	c := columns{full: find(fullNameHeaders), given: find(givenHeaders), family: find(familyHeaders),
		gender: find(genderHeaders), year: find(yearHeaders), id: find(idHeaders), pin: find(pinHeaders), role: find(roleHeaders)}
	if c.full < 0 && c.given >= 0 && c.family < 0 {
		c.full, c.given = c.given, -1 // "Имя" or "Ном" alone holds the whole name
	}
	return c
}

func (c columns) hasName() bool { return c.full >= 0 || c.given >= 0 || c.family >= 0 }

// name is a row's name: the whole-name column, else the given and family
// names in the order the file has them ("Фамилия;Имя" gives "Каримов Фаррух").
func (c columns) name(get func(int) string) string {
	if c.full >= 0 {
		return get(c.full)
	}
	first, second := c.given, c.family
	if second >= 0 && (first < 0 || second < first) {
		first, second = second, first
	}
	return strings.TrimSpace(get(first) + " " + get(second))
}

// Genders as a teacher writes them. Letters first: Д (духтар, девочка), Ж
// (женский), З (зан) and F or G are female; М (мард, мужской, мальчик), П
// (писар) and M or B are male — no letter means one in one language and
// the other in another, so a Tajik "М" and a Russian "М" are both male.
// Anything else (1/2, "м/ж", "?") is refused for its row rather than
// guessed; blank, "-" and "unspecified" leave it unspecified.
var genders = map[string]string{
	"female": "female", "f": "female", "girl": "female", "g": "female", "w": "female", "woman": "female",
	"ж": "female", "жен": "female", "женский": "female", "женская": "female", "женщина": "female", "д": "female", "девочка": "female", "девушка": "female",
	"з": "female", "зан": "female", "занона": "female", "духтар": "female",
	"male": "male", "m": "male", "boy": "male", "b": "male", "man": "male",
	"м": "male", "муж": "male", "мужской": "male", "мужская": "male", "мужчина": "male", "мальчик": "male", "юноша": "male",
	"мард": "male", "мардона": "male", "п": "male", "писар": "male",
	"": "unspecified", "-": "unspecified", "—": "unspecified", "unspecified": "unspecified", "other": "unspecified",
	"?": "unspecified", "не_указан": "unspecified", "не_указано": "unspecified", "номаълум": "unspecified",
}

// gender reads a gender cell ("Ж", "жен.", "Духтар", "F").
func gender(s string) (string, bool) {
	g, ok := genders[normalizeHeader(s)]
	return g, ok
}
