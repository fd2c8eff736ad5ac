package content_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

func mustBuilder(tb testing.TB) *content.Builder { return contenttest.Builder(tb) }

func mustSigner(tb testing.TB) *content.Signer { return contenttest.Signer(tb) }

// copyTree copies a source pack into a temporary folder a test may change.
func copyTree(tb testing.TB, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	contenttest.CopyTree(tb, src, dst)
	return dst
}

// buildPack builds the pack source in dir and returns the archive's bytes.
func buildPack(tb testing.TB, dir string, s *content.Signer) []byte {
	tb.Helper()
	return contenttest.Build(tb, dir, s)
}

// entry is one member of a hand-made archive.
type entry struct {
	name string
	data []byte
	mode os.FileMode // 0 means a regular file
	// declared, when set, is the uncompressed size written in the zip header
	// instead of the real one (to make an archive that lies).
	declared uint64
}

// craft writes a zip of the entries as given, without any checks.
func craft(tb testing.TB, entries []entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		} else {
			h.SetMode(0o644)
		}
		if e.declared != 0 {
			// Compress the real data, but claim another size.
			var comp bytes.Buffer
			cw, _ := newDeflater(&comp)
			cw.Write(e.data)
			cw.Close()
			h.UncompressedSize64 = e.declared
			h.CompressedSize64 = uint64(comp.Len())
			w, err := zw.CreateRaw(h)
			if err != nil {
				tb.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// unpack returns the members of an archive by name.
func unpack(tb testing.TB, archive []byte) map[string][]byte {
	tb.Helper()
	return contenttest.Members(tb, archive)
}

// repack builds an archive from members, re-signing the manifest with s when
// s is not nil, and recomputing the manifest's file list when fix is set.
func repack(tb testing.TB, members map[string][]byte, s *content.Signer, fix bool) []byte {
	tb.Helper()
	if fix {
		var m map[string]any
		if err := json.Unmarshal(members["manifest.json"], &m); err != nil {
			tb.Fatal(err)
		}
		var files []map[string]any
		var names []string
		for name := range members {
			if name != "manifest.json" && name != "manifest.sig" {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			sum := sha256.Sum256(members[name])
			files = append(files, map[string]any{"path": name, "size": len(members[name]), "sha256": hex.EncodeToString(sum[:])})
		}
		m["files"] = files
		b, _ := json.Marshal(m)
		members["manifest.json"] = b
	}
	if s != nil {
		members["manifest.sig"] = s.Sign(members["manifest.json"])
	}
	var entries []entry
	for _, name := range []string{"manifest.json", "manifest.sig"} {
		if b, ok := members[name]; ok {
			entries = append(entries, entry{name: name, data: b})
		}
	}
	var names []string
	for name := range members {
		if !strings.HasPrefix(name, "manifest.") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		entries = append(entries, entry{name: name, data: members[name]})
	}
	return craft(tb, entries)
}
