package content_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/mitstem/stembox/internal/content"
)

// FuzzInspectArchive feeds the pack reader arbitrary archives. It must never
// panic, never read more of a file than the manifest declares, and whatever
// it accepts must hold exactly the files the manifest lists with their hashes.
// The seed corpus is in testdata/fuzz/FuzzInspectArchive.
func FuzzInspectArchive(f *testing.F) {
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	lim := content.Limits{MaxArchive: 8 << 20, MaxTotal: 8 << 20, MaxFiles: 200, MaxManifest: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := content.InspectArchive(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		if err := a.Manifest.Validate(); err != nil {
			t.Fatalf("accepted a manifest that does not validate: %v", err)
		}
		for _, f := range a.Manifest.Files {
			r, err := a.Open(f.Path)
			if err != nil {
				continue // a damaged entry is refused when opened: fine
			}
			n, err := io.Copy(io.Discard, r)
			r.Close()
			if n > f.Size+1 {
				t.Fatalf("read %d bytes of %s, declared %d", n, f.Path, f.Size)
			}
			if err == nil && n != f.Size {
				t.Fatalf("%s: read %d bytes without error, declared %d", f.Path, n, f.Size)
			}
		}
	})
}
