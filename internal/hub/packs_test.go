package hub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// miniPack is the mini pack, built once for all tests.
func miniPack(tb testing.TB) ([]byte, *content.Signer) { return contenttest.MiniPack(tb) }

func TestPublishAndServePacks(t *testing.T) {
	archive, key := miniPack(t)
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		trusted := content.NewKeyring(key.Public())
		// Only packs signed by a trusted key, intact, are published.
		if _, err := st.Publish(ctx, bytes.NewReader(archive), int64(len(archive)), content.NewKeyring(contenttest.Signer(t).Public()), nil); failure.KindOf(err) != failure.Invalid {
			t.Errorf("a pack signed by an untrusted key: %v, want refused", err)
		}
		tampered := bytes.Clone(archive)
		i := bytes.LastIndex(tampered, []byte("speed"))
		tampered[i] ^= 0x20
		if _, err := st.Publish(ctx, bytes.NewReader(tampered), int64(len(tampered)), trusted, nil); err == nil {
			t.Error("a tampered pack was published")
		}
		if packs, _ := st.Packs(ctx); len(packs) != 0 {
			t.Fatalf("refused packs left %d published", len(packs))
		}
		tok, err := st.CreateSchool(ctx, "School 1", "Sughd", 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Publish(ctx, bytes.NewReader(archive), int64(len(archive)), trusted, []hub.Requirement{{Scope: "region", Value: "Sughd"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ID != "mini" || res.NewFiles != res.Files || res.Unchanged {
			t.Errorf("publish = %+v", res)
		}
		again, err := st.Publish(ctx, bytes.NewReader(archive), int64(len(archive)), trusted, nil)
		if err != nil || !again.Unchanged || again.NewFiles != 0 {
			t.Errorf("publishing again = %+v, %v; want unchanged", again, err)
		}
		cat, err := st.Catalogue(ctx, tok.School.ID)
		if err != nil || len(cat.Packs) != 1 || !cat.Packs[0].Required {
			t.Fatalf("catalogue of a school in Sughd = %+v, %v; want mini, required", cat, err)
		}
		other, _ := st.CreateSchool(ctx, "School 2", "Khatlon", 0)
		cat, _ = st.Catalogue(ctx, other.School.ID)
		if len(cat.Packs) != 1 || cat.Packs[0].Required {
			t.Errorf("catalogue of a school in Khatlon = %+v; want mini, not required", cat)
		}
		// The archive rebuilt from what the hub holds is the pack itself.
		var buf bytes.Buffer
		if err := st.WritePackArchive(ctx, "mini", res.Version, &buf); err != nil {
			t.Fatal(err)
		}
		a, err := content.OpenArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), trusted, content.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.VerifyAll(); err != nil {
			t.Fatalf("rebuilt archive: %v", err)
		}
	})
}

// TestFileRanges fetches a pack file in pieces over HTTP, as a box resuming
// a download does.
func TestFileRanges(t *testing.T) {
	archive, key := miniPack(t)
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	if _, err := h.Store().Publish(t.Context(), bytes.NewReader(archive), int64(len(archive)), content.NewKeyring(key.Public()), []hub.Requirement{{Scope: "all"}}); err != nil {
		t.Fatal(err)
	}
	box, _ := enrollOverHTTP(t, h, "School 1", "BOX1")
	code, body, _ := box.do("GET", wire.PathCatalogue, "", nil)
	var cat wire.Catalogue
	if code != 200 || json.Unmarshal(body, &cat) != nil || len(cat.Packs) != 1 {
		t.Fatalf("catalogue: %d %s", code, body)
	}
	p := cat.Packs[0]
	code, manifest, _ := box.do("GET", wire.PathPacks+p.ID+"/"+p.Version+"/manifest", "", nil)
	sum := sha256.Sum256(manifest)
	if code != 200 || hex.EncodeToString(sum[:]) != p.ManifestSHA256 {
		t.Fatalf("manifest: %d, hash %x, want %s", code, sum, p.ManifestSHA256)
	}
	var m content.Manifest
	json.Unmarshal(manifest, &m)
	var f content.File
	for _, x := range m.Files {
		if x.Size > f.Size {
			f = x
		}
	}
	code, whole, _ := box.do("GET", wire.PathFiles+f.SHA256, "", nil)
	if code != 200 || int64(len(whole)) != f.Size {
		t.Fatalf("whole file: %d, %d bytes, want %d", code, len(whole), f.Size)
	}
	half := f.Size / 2
	code, tail, hdr := box.do("GET", wire.PathFiles+f.SHA256, "", nil, "Range", "bytes="+itoa(half)+"-")
	if code != http.StatusPartialContent || !bytes.Equal(tail, whole[half:]) || !strings.HasPrefix(hdr.Get("Content-Range"), "bytes "+itoa(half)+"-") {
		t.Fatalf("range from %d: %d, %d bytes, Content-Range %q", half, code, len(tail), hdr.Get("Content-Range"))
	}
	if code, _, _ := box.do("GET", wire.PathFiles+strings.Repeat("0", 64), "", nil); code != http.StatusNotFound {
		t.Errorf("an unknown file: %d, want 404", code)
	}
	if code, _, _ := box.do("GET", wire.PathPacks+p.ID+"/"+p.Version+"/archive", "", nil); code != http.StatusNotFound {
		t.Errorf("a whole archive with a box credential: %d, want 404", code)
	}
	anon := &client{t: t, base: h.URL}
	if code, _, _ := anon.do("GET", wire.PathFiles+f.SHA256, "", nil); code != http.StatusUnauthorized {
		t.Errorf("a file without a credential: %d, want 401", code)
	}
}
