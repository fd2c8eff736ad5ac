package roster

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// A roster as a Tajik or Russian teacher's Excel saves it: semicolons or
// tabs, headers in their language, genders as letters.
func TestParseTeachersFiles(t *testing.T) {
	want := []Entry{
		{Line: 2, Name: "Нигина Алиева", Gender: "female", BirthYear: 2013},
		{Line: 3, Name: "Фаррух Каримов", Gender: "male", BirthYear: 2012},
		{Line: 4, Name: "Сино Раҳимов", Gender: "male"},
		{Line: 5, Name: "Мадина Назарова", Gender: "unspecified"},
	}
	for _, tc := range []struct{ name, src string }{
		{"tg, semicolons", "\ufeffНому насаб;Ҷинс;Соли таваллуд\r\nНигина Алиева;Д;2013\r\nФаррух Каримов;П;2012\r\nСино Раҳимов;писар;\r\nМадина Назарова;;\r\n"},
		{"tg without Tajik letters, М for мард", "Ном ва насаб;Чинс;Соли таваллуд\nНигина Алиева;духтар;01.05.2013\nФаррух Каримов;М;2012\nСино Раҳимов;мард;\nМадина Назарова;-;\n"},
		{"ru, tabs pasted from a sheet", "№\tФ.И.О.\tПол\tГод рождения\n1\tНигина Алиева\tЖ\t2013\n2\tФаррух Каримов\tм\t2012\n3\tСино Раҳимов\tмуж.\t\n4\tМадина Назарова\t\t\n"},
		{"ru, Фамилия and Имя in the file's order", "Имя;Фамилия;Пол;Дата рождения\nНигина;Алиева;жен;12.03.2013\nФаррух;Каримов;мальчик;2012-01-01\nСино;Раҳимов;M;\nМадина;Назарова;;\n"},
		{"en, commas, girl/boy", "Name,Gender,Birth year\nНигина Алиева,girl,2013\nФаррух Каримов,boy,2012\nСино Раҳимов,m,\nМадина Назарова,,\n"},
	} {
		got, err := Parse(strings.NewReader(tc.src), 2026)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d entries, want %d: %+v", tc.name, len(got), len(want), got)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: entry %d = %+v, want %+v", tc.name, i, got[i], want[i])
			}
		}
	}
}

// Excel's other encodings: a Russian Excel's CSV is Windows-1251, its
// "Unicode text" UTF-16 with tabs.
func TestParseExcelEncodings(t *testing.T) {
	src := "Фамилия;Имя;Пол\nАлиева;Нигина;Ж\n"
	cp, err := charmap.Windows1251.NewEncoder().String(src)
	if err != nil {
		t.Fatal(err)
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(src, ";", "\t"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{"windows-1251": cp, "utf-16": u16} {
		got, err := Parse(strings.NewReader(in), 2026)
		if err != nil || len(got) != 1 || got[0].Name != "Алиева Нигина" || got[0].Gender != "female" {
			t.Errorf("%s: %+v, %v; want Алиева Нигина, female", name, got, err)
		}
	}
}

// Every problem in the page's language, one a row; a gender that could be
// either is refused for its row, never guessed.
func TestProblemsInEveryLanguage(t *testing.T) {
	src := "Ному насаб;Ҷинс;Соли таваллуд\nНигина;м/ж;2013\nФаррух;2;3000\n;Д;\n"
	_, err := Parse(strings.NewReader(src), 2026)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := map[string][]string{
		"tg": {"Сатри 2: ҷинси «м/ж» фаҳмо нест", "Сатри 3: ҷинси «2» фаҳмо нест", "Сатри 3: соли таваллуди «3000»", "Сатри 4: ном холӣ аст"},
		"ru": {"Строка 2: пол «м/ж» не понятен", "Строка 3: пол «2» не понятен", "Строка 3: год рождения «3000»", "Строка 4: имя пустое"},
		"en": {"Row 2: gender “м/ж” is not understood", "Row 3: gender “2” is not understood", "Row 3: birth year “3000”", "Row 4: the name is empty"},
	}
	for lang, lines := range want {
		got := ps.Lines(lang)
		if len(got) != len(lines) {
			t.Fatalf("%s: %d problems %q, want %d", lang, len(got), got, len(lines))
		}
		for i := range lines {
			if !strings.HasPrefix(got[i], lines[i]) {
				t.Errorf("%s: problem %d = %q, want it to start %q", lang, i, got[i], lines[i])
			}
		}
	}
}

func TestDelimiterIgnoresQuotedSeparators(t *testing.T) {
	got, err := Parse(strings.NewReader("name,gender,\"note; more\"\n\"Ali; Jr\",m,x\n"), 2026)
	if err != nil || len(got) != 1 || got[0].Name != "Ali; Jr" {
		t.Errorf("got %+v, %v; want one student \"Ali; Jr\" read with commas", got, err)
	}
}

// Excel's "sep=;" first line names the separator; rows keep the numbers a
// spreadsheet shows them under.
func TestParseExcelSeparatorLine(t *testing.T) {
	got, err := Parse(strings.NewReader("sep=;\r\nФИО;Пол\r\nАли, мл.;М\r\n"), 2026)
	if err != nil || len(got) != 1 || got[0].Name != "Али, мл." || got[0].Line != 3 {
		t.Errorf("got %+v, %v; want Али, мл. on row 3", got, err)
	}
	_, err = Parse(strings.NewReader("sep=;\nФИО;Пол\nАли;?!\n"), 2026)
	if ps, ok := err.(Problems); !ok || len(ps) != 1 || ps[0].Line != 3 {
		t.Errorf("err = %v, want the gender of row 3", err)
	}
}
