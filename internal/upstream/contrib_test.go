package upstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
)

// sentCount is how many contributions the box recorded as acknowledged.
func sentCount(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var st struct{ Acked map[string]any }
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return len(st.Acked)
}

// A contribution the hub refuses does not stop the sync (the events went
// up: a *PullError), is not recorded, is reported at every sync (sent again
// at the catalogue's pace, or at once after "sync now") until the hub takes
// it: here, once the operator reset the key bound to the box (the box came
// back with a new key, as after a reinstall).
func TestContributionRefusedIsSentAgainUntilTaken(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	mini, _ := miniPack(t)
	key1, key2 := contenttest.Signer(t), contenttest.Signer(t)
	box := newBox(t, content.NewKeyring(key1.Public(), key2.Public()))
	dir := filepath.Join(box.dir, "studio", "packs")
	os.MkdirAll(dir, 0o755)
	put := func(k *content.Signer, version string) {
		id := content.Namespace(k.Public().ID) + "quiz"
		if err := os.WriteFile(filepath.Join(dir, content.ArchiveName(id, version)), contenttest.Retag(t, mini, id, version, k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(key1, "1.0.0")
	put(key1, "2.0.0")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a pack"), 0o644)
	sent := filepath.Join(box.dir, "studio", "contributed.json")
	cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 1", "Sughd"),
		Contributions: upstream.Contributions{OwnKey: key1.Public(), Dir: dir, Sent: sent}}
	if err := box.syncer(cfg).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sentCount(t, sent); n != 2 {
		t.Fatalf("%d contributions acknowledged, want 2", n)
	}

	// A new key: the hub refuses it (bound to key1).
	put(key2, "1.0.0")
	cfg.Contributions.OwnKey = key2.Public()
	s := box.syncer(cfg)
	for range 2 {
		err := s.Sync(ctx)
		var pe *upstream.PullError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "reset") {
			t.Fatalf("sync with a contribution refused: %v, want the push done and the refusal reported", err)
		}
		if n := sentCount(t, sent); n != 2 {
			t.Fatalf("%d contributions acknowledged after a refusal, want still 2", n)
		}
	}
	if err := h.Store().ResetBoxKey(ctx, box.boxID(t)); err != nil {
		t.Fatal(err)
	}
	s.Poke() // the admin's "sync now": refused contributions are sent again at once
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after the operator reset the box's key: %v", err)
	}
	if n := sentCount(t, sent); n != 3 {
		t.Fatalf("%d contributions acknowledged, want 3", n)
	}
	cs, _ := h.Store().Contributions(ctx)
	if len(cs) != 3 {
		t.Fatalf("the hub holds %d contributions, want 3", len(cs))
	}
}
