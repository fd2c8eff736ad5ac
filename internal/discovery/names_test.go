package discovery

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Room 5", "Room 5"},
		{"  School 12,\tRoom 5\n", "School 12, Room 5"},
		{"Мактаби №5", "Мактаби №5"},
		{"...dots.", "dots"},
		{"", DefaultName},
		{"\x00\x07", DefaultName},
		{"a\u0000b", "ab"},
		{strings.Repeat("я", 40), strings.Repeat("я", 31)}, // 63 bytes at most, whole letters
	} {
		got := CleanName(tc.in)
		if got != tc.want {
			t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 63 || !utf8.ValidString(got) {
			t.Errorf("CleanName(%q) = %q: not a valid label", tc.in, got)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for in, want := range map[string]string{"stembox": "stembox", "School-5": "school-5", "box7.local": "box7", "box7.local.": "box7"} {
		if got, err := CheckHost(in); err != nil || got != want {
			t.Errorf("CheckHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-box", "box-", "my box", "box_5", "мактаб", "a.b", strings.Repeat("a", 64)} {
		if got, err := CheckHost(bad); err == nil {
			t.Errorf("CheckHost(%q) = %q, want an error", bad, got)
		}
	}
}

func TestFreeName(t *testing.T) {
	takenSet := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, x := range names {
				if sameName(x, n) {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name  string
		taken []string
		want  string
	}{
		{"Room 5", nil, "Room 5"},
		{"Room 5", []string{"Room 5"}, "Room 5 (2)"},
		{"Room 5", []string{"room 5"}, "Room 5 (2)"}, // DNS names ignore case
		{"Room 5", []string{"Room 5", "Room 5 (2)"}, "Room 5 (3)"},
		{"Room 5 (2)", []string{"Room 5 (2)"}, "Room 5 (3)"}, // a renamed box renames onwards
		{"Year (1)", []string{"Year (1)"}, "Year (1) (2)"},   // "(1)" is no rename suffix
		{strings.Repeat("x", 63), []string{strings.Repeat("x", 63)}, strings.Repeat("x", 59) + " (2)"},
	} {
		if got := FreeName(tc.name, takenSet(tc.taken...)); got != tc.want {
			t.Errorf("FreeName(%q, taken %q) = %q, want %q", tc.name, tc.taken, got, tc.want)
		}
	}
	for _, tc := range []struct {
		host  string
		taken []string
		want  string
	}{
		{"stembox", nil, "stembox"},
		{"stembox", []string{"stembox"}, "stembox-2"},
		{"stembox", []string{"stembox", "stembox-2"}, "stembox-3"},
		{"stembox-2", []string{"stembox-2"}, "stembox-3"},
		{"room-1", []string{"room-1"}, "room-1-2"},
		{strings.Repeat("h", 63), []string{strings.Repeat("h", 63)}, strings.Repeat("h", 61) + "-2"},
	} {
		got := FreeHost(tc.host, takenSet(tc.taken...))
		if got != tc.want {
			t.Errorf("FreeHost(%q, taken %q) = %q, want %q", tc.host, tc.taken, got, tc.want)
		}
		if _, err := CheckHost(got); err != nil {
			t.Errorf("FreeHost(%q) = %q, which is no host name: %v", tc.host, got, err)
		}
	}
}

func TestLabelEscaping(t *testing.T) {
	for _, raw := range []string{"Room 5 (2)", "Мактаби №5", `a.b\c"d;e@f'g`, "plain"} {
		esc := escapeLabel(raw)
		if esc == "" {
			t.Fatalf("escapeLabel(%q) is empty", raw)
		}
		label, rest, ok := splitFirstLabel(esc + "._stembox._tcp.local.")
		if !ok || label != raw || rest != "_stembox._tcp.local." {
			t.Errorf("escape then split %q: got %q, %q, %v", raw, label, rest, ok)
		}
	}
	if got := escapeLabel("Room 5 (2)"); got != `Room\ 5\ \(2\)` {
		t.Errorf(`escapeLabel("Room 5 (2)") = %q, want miekg/dns's form`, got)
	}
	for _, bad := range []string{`a\`, `\999.b`, "no-dot"} {
		if _, _, ok := splitFirstLabel(bad); ok {
			t.Errorf("splitFirstLabel(%q) accepted a broken name", bad)
		}
	}
}

func TestTXT(t *testing.T) {
	in := Info{ID: "01JCQ8ZB8Y7XK4N3P5R2S6T9VW", Version: "v1.2.3", Path: "/"}
	got, err := ParseTXT(in.TXT())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Info{Proto: Proto, ID: in.ID, Version: "v1.2.3", Path: "/"}); got != want {
		t.Errorf("ParseTXT(TXT()) = %+v, want %+v", got, want)
	}
	for name, txt := range map[string][]string{
		"no id":         {"proto=1", "version=1"},
		"huge":          {"id=x", strings.Repeat("k=vvvvvvvvvv", 200)},
		"long value":    {"id=" + strings.Repeat("1", 65)},
		"control chars": {"id=ab\x00cd"},
		"spaces":        {"id=ab cd"},
	} {
		if info, err := ParseTXT(txt); err == nil {
			t.Errorf("%s: ParseTXT accepted %q as %+v", name, txt, info)
		}
	}
	// Unknown keys are ignored, the first of a repeated key counts, and a
	// missing path means "/".
	got, err = ParseTXT([]string{"id=A", "id=B", "colour=green", "path=nonsense"})
	if err != nil || got.ID != "A" || got.Path != "/" {
		t.Errorf("ParseTXT = %+v, %v", got, err)
	}
}
