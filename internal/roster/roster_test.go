package roster

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := "\ufeffName,Gender,Birth Year,external_id,pin\n" +
		"Нигина Алиева,ж,2013,S-001,1234\n" +
		"Farrukh Karimov,m,,S-002,\n" +
		"\n" +
		"\"Sino, Jr\",unspecified,2012,,\n"
	got, err := Parse(strings.NewReader(src), 2026)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Line: 2, Name: "Нигина Алиева", Gender: "female", BirthYear: 2013, ExternalID: "S-001", PIN: "1234"},
		{Line: 3, Name: "Farrukh Karimov", Gender: "male", ExternalID: "S-002"},
		{Line: 5, Name: "Sino, Jr", Gender: "unspecified", BirthYear: 2012},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseOneRoster(t *testing.T) {
	src := "sourcedId,status,role,username,givenName,familyName,email\n" +
		"u1,active,teacher,t1,Rustam,Saidov,\n" +
		"u2,active,student,s1,Madina,Rahimova,\n" +
		"u3,active,student,s2,Jamshed,Nazarov,\n"
	got, err := Parse(strings.NewReader(src), 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "Madina Rahimova" || got[0].ExternalID != "u2" || got[1].Line != 4 {
		t.Errorf("OneRoster entries = %+v, want the two students with sourcedId", got)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := "name,gender,birth_year,pin\n" +
		",female,2013,\n" +
		"Ali,robot,2013,\n" +
		"Vali,male,1850,\n" +
		"Ali,male,2012,12\n" +
		"Sara,female,2012,1111\n"
	_, err := Parse(strings.NewReader(src), 2026)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := []string{
		"Row 2: the name is empty",
		"Row 3: gender “robot” is not understood; write F or M (also Д/Ж/З or М/П, or a word such as girl, boy), or leave it empty",
		"Row 4: birth year “1850” is not a year between 1926 and 2026",
		"Row 5: “Ali” is also on row 3; names in a class must differ (add an initial)",
		"Row 5: PIN “12” is not 4 digits",
	}
	if len(ps) != len(want) {
		t.Fatalf("problems = %v, want %d", ps, len(want))
	}
	for i := range want {
		if ps[i].String() != want[i] {
			t.Errorf("problem %d = %q, want %q", i, ps[i].String(), want[i])
		}
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "the file is empty"},
		{"blank", "\ufeff \r\n\r\n", "the file is empty"},
		{"no name column", "gender,birth_year\nf,2012\n", "one must hold the names"},
		{"header only", "name\n", "no students"},
		{"bad quotes", "name\n\"Ali\n", "cannot be read as CSV"},
		{"too large", "name\n" + strings.Repeat("a", MaxBytes), "larger than 1024 KB"},
	} {
		_, err := Parse(strings.NewReader(tc.src), 2026)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteRoundTripAndInjection(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{{Name: "Нигина", Gender: "female", BirthYear: 2013}, {Name: "=HYPERLINK(\"x\")", Gender: "male"}}
	if err := Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\n=HYPERLINK") {
		t.Error("a formula was written as it is")
	}
	got, err := Parse(&buf, 2026)
	if err != nil || got[0].Name != "Нигина" || got[0].BirthYear != 2013 {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}
