package upstream_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/upstream"
)

// A USB stick carrying an older version of a pack the box holds (it got
// the newer one from a peer, say) does not take the box back, and the rest
// of the stick still applies.
func TestImportFromAStickNeverDowngrades(t *testing.T) {
	archive, key := miniPack(t)
	m := contenttest.Members(t, archive)
	contenttest.SetVersion(t, m, "1.1.0")
	newer := contenttest.Repack(t, m, key)
	other := contenttest.Members(t, archive)
	other["lessons/extra.txt"] = []byte("another build") // another manifest
	box := newBox(t, content.NewKeyring(key.Public()))
	if _, err := box.lib.Install(bytes.NewReader(newer), int64(len(newer)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	stick := t.TempDir()
	os.WriteFile(filepath.Join(stick, "mini-1.0.0"+content.Extension), archive, 0o644)
	res, err := upstream.Import(t.Context(), box.db, box.lib, stick)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(res.Kept) != 1 || !strings.Contains(res.Kept[0], "older than the installed 1.1.0") || len(res.Installed) != 0 {
		t.Errorf("import = %+v, want the older pack kept out", res)
	}
	if p, _ := box.lib.Pack("mini"); p == nil || p.Manifest.Version != "1.1.0" {
		t.Errorf("after the stick the box serves %v, want 1.1.0", p)
	}
	// Another build of the version served is a conflict, kept out too.
	contenttest.SetVersion(t, other, "1.1.0")
	rebuilt := contenttest.Repack(t, other, key)
	os.WriteFile(filepath.Join(stick, "mini-1.1.0"+content.Extension), rebuilt, 0o644)
	res, err = upstream.Import(t.Context(), box.db, box.lib, filepath.Join(stick, "mini-1.1.0"+content.Extension))
	if err != nil || len(res.Kept) != 1 || !strings.Contains(res.Kept[0], "another build of mini 1.1.0") {
		t.Errorf("import of another build = %+v, %v; want it kept out as a conflict", res, err)
	}
}
