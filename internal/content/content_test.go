package content_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/learn"
)

func TestBuildRendersEverything(t *testing.T) {
	s := mustSigner(t)
	archive := buildPack(t, "testdata/mini", s)
	a, err := content.OpenArchive(bytes.NewReader(archive), int64(len(archive)), content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatalf("open the archive just built: %v", err)
	}
	if err := a.VerifyAll(); err != nil {
		t.Fatal(err)
	}
	m := a.Manifest
	if m.ID != "mini" || m.Version != "1.0.0" || len(m.Lessons) != 2 || len(m.Sets) != 2 {
		t.Fatalf("manifest = %+v, want mini 1.0.0 with 2 lessons and 2 sets", m)
	}
	if got := m.Lessons[0].Title; got["en"] != "Speed" || got["ru"] != "Скорость" {
		t.Errorf("lesson titles = %v, want them from the first heading of each language", got)
	}
	members := unpack(t, archive)
	en := string(members["lessons/speed.en.html"])
	for _, want := range []string{`class="katex`, `src="pack:media/graph.svg"`, `alt="A graph of distance against time"`, "&lt;script&gt;", "$1"} {
		if !strings.Contains(en, want) {
			t.Errorf("rendered lesson lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(en, "<script>") || strings.Contains(en, "<h1") {
		t.Errorf("rendered lesson has raw script or its title heading:\n%s", en)
	}
	var set learn.Set
	if err := json.Unmarshal(members["exercises/speed.json"], &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Items) != 5 || set.Lesson != "speed" {
		t.Fatalf("speed set has %d items, lesson %q; want 5 items of lesson speed", len(set.Items), set.Lesson)
	}
	kinds := ""
	for _, it := range set.Items {
		kinds += string(it.Kind) + " "
	}
	if kinds != "choice multi truefalse numeric text " {
		t.Errorf("item kinds = %q", kinds)
	}
	multi := set.Items[1]
	if multi.Choices[0].Weight != 0.5 || multi.Choices[2].Weight != -0.5 {
		t.Errorf("multi weights = %v, %v; want right choices to share 1 and wrong ones to cancel them", multi.Choices[0].Weight, multi.Choices[2].Weight)
	}
	if num := set.Items[3].Numbers[0]; num.Min > 5 || num.Max < 5 || num.Max-num.Min > 0.021 {
		t.Errorf("numeric range = %+v, want 5 ± 0.01", num)
	}
	var quiz learn.Set
	if err := json.Unmarshal(members["exercises/quiz.json"], &quiz); err != nil {
		t.Fatal(err)
	}
	if len(quiz.Items) != 2 || quiz.Items[0].Prompt["ru"] == "" || quiz.Items[0].Prompt["en"] == "" {
		t.Fatalf("GIFT set = %+v, want two items with English and Russian prompts merged", quiz.Items)
	}
	if quiz.Title["ru"] != "Викторина" {
		t.Errorf("GIFT set title = %v, want it from pack.yaml", quiz.Title)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	s := mustSigner(t)
	a := buildPack(t, "testdata/mini", s)
	b := buildPack(t, "testdata/mini", s)
	if !bytes.Equal(a, b) {
		t.Error("building the same source twice gave different archives")
	}
}

func TestBuildReportsFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"unknown field", "exercises/speed.yaml", "title: {en: S, ru: С}\nitems:\n  - id: a\n    type: choice\n    promt: {en: x, ru: y}\n", `line 5: unknown field "promt"`},
		{"two right choices", "exercises/speed.yaml", "title: {en: S, ru: С}\nitems:\n  - id: a\n    type: choice\n    prompt: x\n    choices:\n      - {text: a, correct: true}\n      - {text: b, correct: true}\n", "exercises/speed.yaml:3: item \"a\": a choice item needs exactly one correct choice"},
		{"missing language", "exercises/speed.yaml", "title: {en: S, ru: С}\nitems:\n  - id: a\n    type: truefalse\n    prompt: {en: only English}\n    answer: true\n", "exercises/speed.yaml:5: prompt has no ru text"},
		{"bad yaml", "pack.yaml", "id: mini\nversion: [1\n", "pack.yaml: line 1"},
		{"bad formula", "lessons/force.en.md", "# Force\n\nText\n\nA $\\frac{1}{$ formula.\n", "lessons/force.en.md: markup: line 5: formula"},
		{"missing image", "lessons/force.en.md", "# Force\n\n![x](media/nothing.png)\n", "the pack has no file media/nothing.png"},
		{"image outside", "lessons/force.en.md", "# Force\n\n![x](../../secret.png)\n", "leaves the pack"},
		{"script link", "lessons/force.en.md", "# Force\n\n[x](javascript:alert(1))\n", "only http, https and mailto"},
		{"poll with a right answer", "exercises/speed.yaml", "title: {en: S, ru: С}\nitems:\n  - id: a\n    type: poll\n    prompt: x\n    choices:\n      - {text: a, correct: true}\n      - {text: b}\n", "exercises/speed.yaml:3: item \"a\": a poll has no right answer"},
		{"gift matching", "exercises/quiz.ru.gift", "::units::Сопоставьте {=a -> b =c -> d}\n", "exercises/quiz.ru.gift:1: matching questions are not supported"},
		{"gift differs", "exercises/quiz.ru.gift", "::other::Вопрос?{T}\n\n::sun-east::Солнце.{T}\n", "must match across languages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/mini")
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := mustBuilder(t).Build(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("build error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestBuildRefusesLinksInSource(t *testing.T) {
	dir := copyTree(t, "testdata/mini")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "media", "passwd.svg")); err != nil {
		t.Skip("cannot make symlinks here:", err)
	}
	_, err := mustBuilder(t).Build(dir)
	if err == nil || !strings.Contains(err.Error(), "link or special file") {
		t.Fatalf("build with a symlink in media/: err = %v, want a refusal", err)
	}
}

// The archive checks: every way a pack can be wrong is refused with a
// message that says what is wrong.
func TestOpenArchiveRefusesBadPacks(t *testing.T) {
	s := mustSigner(t)
	kr := content.NewKeyring(s.Public())
	good := buildPack(t, "testdata/mini", s)
	other := mustSigner(t)

	tamper := func(f func(m map[string][]byte)) []byte {
		m := unpack(t, good)
		f(m)
		return repack(t, m, nil, false)
	}
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
		atRead  bool // refused only when the file is read
	}{
		{"not a zip", []byte("hello, this is not a pack"), "not a pack archive", false},
		{"no signature", tamper(func(m map[string][]byte) { delete(m, "manifest.sig") }), "has no manifest.sig", false},
		{"garbled signature", tamper(func(m map[string][]byte) { m["manifest.sig"] = []byte("hello") }), "not of the form", false},
		{"untrusted key", repack(t, unpack(t, good), other, false), "does not trust", false},
		{"edited manifest", tamper(func(m map[string][]byte) {
			m["manifest.json"] = bytes.Replace(m["manifest.json"], []byte(`"1.0.0"`), []byte(`"9.0.0"`), 1)
		}), "does not match the manifest", false},
		{"tampered lesson", tamper(func(m map[string][]byte) {
			b := m["lessons/speed.en.html"]
			m["lessons/speed.en.html"] = bytes.Replace(b, []byte("Speed is"), []byte("Speed IS"), 1)
		}), "does not match its hash", true},
		{"missing file", tamper(func(m map[string][]byte) { delete(m, "media/graph.svg") }), "archive lacks it", false},
		{"extra file", tamper(func(m map[string][]byte) { m["media/extra.svg"] = []byte("<svg/>") }), "does not list", false},
		{"dot-dot path", repack(t, withFile(unpack(t, good), "../evil.sh", "rm -rf /"), s, true), "leaves the pack", false},
		{"absolute path", repack(t, withFile(unpack(t, good), "/etc/cron.d/evil", "x"), s, true), "is absolute", false},
		{"backslash path", repack(t, withFile(unpack(t, good), `media\..\..\evil`, "x"), s, true), "backslash", false},
		{"manifest lists dot-dot", repack(t, withManifestFile(unpack(t, good), "../x"), s, false), "leaves the pack", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := content.OpenArchive(bytes.NewReader(tc.archive), int64(len(tc.archive)), kr, content.DefaultLimits)
			if tc.atRead {
				if err != nil {
					t.Fatalf("open: %v (the problem is in a file's content, found when read)", err)
				}
				err = a.VerifyAll()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if failure.KindOf(err) != failure.Invalid {
				t.Errorf("err kind = %s, want invalid", failure.KindOf(err))
			}
		})
	}
}

func withFile(m map[string][]byte, name, data string) map[string][]byte {
	m[name] = []byte(data)
	return m
}

func withManifestFile(m map[string][]byte, path string) map[string][]byte {
	var man map[string]any
	json.Unmarshal(m["manifest.json"], &man)
	files := man["files"].([]any)
	man["files"] = append([]any{map[string]any{"path": path, "size": 1, "sha256": strings.Repeat("ab", 32)}}, files...)
	m["manifest.json"], _ = json.Marshal(man)
	return m
}

func TestOpenArchiveRefusesSymlinksAndBombs(t *testing.T) {
	s := mustSigner(t)
	kr := content.NewKeyring(s.Public())
	members := unpack(t, buildPack(t, "testdata/mini", s))

	// A symlink entry with a valid manifest entry for its bytes.
	entries := []entry{{name: "manifest.json", data: members["manifest.json"]}, {name: "manifest.sig", data: members["manifest.sig"]}}
	for name, data := range members {
		if strings.HasPrefix(name, "manifest.") {
			continue
		}
		e := entry{name: name, data: data}
		if name == "media/graph.svg" {
			e.mode = os.ModeSymlink | 0o777
		}
		entries = append(entries, e)
	}
	link := craft(t, entries)
	if _, err := content.OpenArchive(bytes.NewReader(link), int64(len(link)), kr, content.DefaultLimits); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink entry: err = %v, want a refusal naming the symbolic link", err)
	}

	// A file that declares its manifest size but expands to 50 MB.
	huge := bytes.Repeat([]byte("A"), 50<<20)
	for i := range entries {
		entries[i].mode = 0
		if entries[i].name == "media/graph.svg" {
			entries[i].data = huge
			entries[i].declared = uint64(len(members["media/graph.svg"]))
		}
	}
	bomb := craft(t, entries)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes; it should be small", len(bomb))
	}
	a, err := content.OpenArchive(bytes.NewReader(bomb), int64(len(bomb)), kr, content.DefaultLimits)
	if err != nil {
		t.Fatalf("open: %v (sizes are declared right, so the bomb shows only when read)", err)
	}
	if err := a.VerifyAll(); err == nil || !strings.Contains(err.Error(), "expands beyond") {
		t.Errorf("bomb: err = %v, want a refusal saying it expands beyond its size", err)
	}

	// Limits on the declared sizes.
	good := buildPack(t, "testdata/mini", s)
	lim := content.DefaultLimits
	lim.MaxTotal = 100
	if _, err := content.OpenArchive(bytes.NewReader(good), int64(len(good)), kr, lim); err == nil || !strings.Contains(err.Error(), "expands to") {
		t.Errorf("pack over the total limit: err = %v", err)
	}
}

func TestKeys(t *testing.T) {
	s := mustSigner(t)
	path := filepath.Join(t.TempDir(), "key")
	if err := s.WriteKeyFiles(path); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKeyFiles(path); err == nil {
		t.Error("writing a key over an existing one succeeded; it must never overwrite a key")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", st.Mode().Perm())
	}
	loaded, err := content.LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Public().String() != s.Public().String() {
		t.Error("the loaded key differs from the written one")
	}
	kr := content.NewKeyring()
	if err := kr.LoadKeyFile(path + ".pub"); err != nil {
		t.Fatal(err)
	}
	msg := []byte("manifest")
	if _, err := kr.Verify(msg, s.Sign(msg)); err != nil {
		t.Errorf("verify with the loaded public key: %v", err)
	}
	// A key line that lies about its id is refused.
	pub := s.Public().String()
	forged := strings.Replace(pub, s.Public().ID, "0000000000000000", 1)
	if _, err := content.ParsePublicKey(forged); err == nil {
		t.Error("a key claiming another id was accepted")
	}
	if _, err := content.LoadSigner(path + ".pub"); err == nil {
		t.Error("a public key file was accepted as a signing key")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0}, {"1.0.0", "1.0.1", -1}, {"1.10.0", "1.9.0", 1}, {"2.0.0", "10.0.0", -1},
		{"1.0.0-rc1", "1.0.0", -1}, {"1.0.0", "1.0.0-rc1", 1}, {"1.0.0-a", "1.0.0-b", -1},
	} {
		if got := content.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// A poll builds, and the built form keeps every text's source (exercises'
// Markdown under "source", lessons' Markdown beside their HTML) for the
// studio's remix.
func TestBuildKeepsSourcesAndPolls(t *testing.T) {
	dir := copyTree(t, "testdata/mini")
	set := "title: {en: S, ru: С}\nitems:\n  - id: p\n    type: poll\n    prompt: {en: 'Guess $x$', ru: 'Угадайте $x$'}\n" +
		"    choices:\n      - {text: '$1$', feedback: {en: One, ru: Один}}\n      - {text: '2'}\n    feedback: {general: {en: '**Try**', ru: '**Проверьте**'}}\n"
	if err := os.WriteFile(filepath.Join(dir, "exercises", "speed.yaml"), []byte(set), 0o644); err != nil {
		t.Fatal(err)
	}
	bt, err := mustBuilder(t).Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := mustSigner(t)
	lib, err := content.OpenLibrary(t.TempDir(), content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bt.Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Install(bytes.NewReader(buf.Bytes()), int64(buf.Len()), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ := lib.Pack("mini")
	it := p.Sets["speed"].Items[0]
	if it.Kind != "poll" || len(it.Choices) != 2 || it.Choices[0].Weight != 0 || it.Source == nil {
		t.Fatalf("the poll as built: %+v", it)
	}
	if it.Source.Prompt["ru"] != "Угадайте $x$" || it.Source.Choices[0].Text["en"] != "$1$" || it.Source.Choices[0].Feedback["ru"] != "Один" ||
		it.Source.Feedback.General["en"] != "**Try**" || !strings.Contains(it.Prompt["ru"], "katex") {
		t.Errorf("sources kept: %+v, prompt %q", it.Source, it.Prompt["ru"])
	}
	gift := p.Sets["quiz"].Items[0]
	if gift.Source == nil || gift.Source.Prompt["ru"] == "" || gift.Source.Prompt["en"] == "" {
		t.Errorf("a GIFT item's source in both languages: %+v", gift.Source)
	}
	name, _, ok := p.FilePath(content.LessonSourcePath("speed", "en"))
	if !ok {
		t.Fatal("the lesson's Markdown is not in the built pack")
	}
	if md, _ := os.ReadFile(name); !strings.HasPrefix(string(md), "# Speed") {
		t.Errorf("the lesson's Markdown: %.80q", md)
	}
}
