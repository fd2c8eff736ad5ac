package contenttest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
)

// Broken is a way to break a built pack of "mini" that a box must refuse
// though its signer is trusted (except Untrusted, signed by another key).
type Broken struct {
	Name string
	// Want is part of the message the refusal must give.
	Want string
	// Untrusted signs the pack with a key the box does not trust.
	Untrusted bool
	// Anonymous: the box cannot tell which pack it is, so it cannot note
	// the refusal beside the pack.
	Anonymous bool
	// Break changes the archive's members (manifest.json is a JSON object).
	Break func(tb testing.TB, members map[string][]byte)
}

// BrokenKinds are the signed packs a box cannot serve, one of each kind.
func BrokenKinds() []Broken {
	return []Broken{
		{Name: "exercises not parseable", Want: "exercises/speed.json is not a valid exercise set",
			Break: func(tb testing.TB, m map[string][]byte) {
				m["exercises/speed.json"] = []byte("title: Speed\nitems:\n  - id: speed-1\n    prompt: [unclosed\n")
			}},
		{Name: "exercise field of the wrong type", Want: "exercises/speed.json is not a valid exercise set: field",
			Break: func(tb testing.TB, m map[string][]byte) {
				editJSON(tb, m, "exercises/speed.json", func(set map[string]any) {
					set["items"].([]any)[0].(map[string]any)["prompt"] = 42
				})
			}},
		{Name: "exercise that cannot be graded", Want: "exercises/speed.json: item",
			Break: func(tb testing.TB, m map[string][]byte) {
				editJSON(tb, m, "exercises/speed.json", func(set map[string]any) {
					set["items"].([]any)[0].(map[string]any)["type"] = "essay"
				})
			}},
		{Name: "referenced media missing", Want: "links to media/graph.svg, which the pack does not hold",
			Break: func(tb testing.TB, m map[string][]byte) { delete(m, "media/graph.svg") }},
		{Name: "lesson file missing", Want: "lesson \"force\" has no file lessons/force.ru.html",
			Break: func(tb testing.TB, m map[string][]byte) { delete(m, "lessons/force.ru.html") }},
		{Name: "file and folder of the same name", Want: "media is both a file and the folder of media/graph.svg",
			Break: func(tb testing.TB, m map[string][]byte) { m["media"] = []byte("a file named like a folder") }},
		{Name: "oversized manifest", Want: "manifest.json is larger than", Anonymous: true,
			Break: func(tb testing.TB, m map[string][]byte) {
				editJSON(tb, m, "manifest.json", func(man map[string]any) {
					man["description"] = map[string]any{"en": strings.Repeat("long ", 2<<20)}
				})
			}},
		{Name: "signed by an untrusted key", Want: "which this box does not trust", Untrusted: true, Anonymous: true,
			Break: func(tb testing.TB, m map[string][]byte) {}},
	}
}

func editJSON(tb testing.TB, m map[string][]byte, name string, edit func(map[string]any)) {
	tb.Helper()
	var v map[string]any
	if err := json.Unmarshal(m[name], &v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	edit(v)
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	m[name] = b
}

// Break applies b to the built pack archive, lists the files as they now
// are in the manifest at version, and signs it with s (or, for an
// Untrusted kind, with a new key).
func Break(tb testing.TB, archive []byte, s *content.Signer, version string, b Broken) []byte {
	tb.Helper()
	members := Members(tb, archive)
	SetVersion(tb, members, version)
	b.Break(tb, members)
	if b.Untrusted {
		s = Signer(tb)
	}
	return Repack(tb, members, s)
}

// SetVersion changes the version in the members' manifest.
func SetVersion(tb testing.TB, members map[string][]byte, version string) {
	tb.Helper()
	editJSON(tb, members, "manifest.json", func(man map[string]any) { man["version"] = version })
}

// Members returns the members of an archive by name.
func Members(tb testing.TB, archive []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		out[f.Name] = buf.Bytes()
	}
	return out
}

// Repack lists the members in the manifest (path, size, hash), signs it
// with s and writes the archive.
func Repack(tb testing.TB, members map[string][]byte, s *content.Signer) []byte {
	tb.Helper()
	Sign(tb, members, s)
	return Zip(tb, members)
}

// Sign lists the members in the manifest (path, size, hash) and signs it
// with s, in members.
func Sign(tb testing.TB, members map[string][]byte, s *content.Signer) {
	tb.Helper()
	names := fileNames(members)
	editJSON(tb, members, "manifest.json", func(man map[string]any) {
		files := []map[string]any{}
		for _, name := range names {
			sum := sha256.Sum256(members[name])
			files = append(files, map[string]any{"path": name, "size": len(members[name]), "sha256": hex.EncodeToString(sum[:])})
		}
		man["files"] = files
	})
	members["manifest.sig"] = s.Sign(members["manifest.json"])
}

// Zip writes the members as an archive as they are (the manifest first,
// then its signature, then the files by path), checking nothing.
func Zip(tb testing.TB, members map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range append([]string{"manifest.json", "manifest.sig"}, fileNames(members)...) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(members[name])
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func fileNames(members map[string][]byte) []string {
	var names []string
	for name := range members {
		if name != "manifest.json" && name != "manifest.sig" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
