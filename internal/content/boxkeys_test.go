package content_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// boxKeyring is a box's keyring whose box keys are kept in dir/boxes.
func boxKeyring(t *testing.T, dir string) *content.Keyring {
	t.Helper()
	kr := content.NewKeyring()
	if err := kr.LoadKeyDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := kr.LoadBoxKeyDir(filepath.Join(dir, "boxes")); err != nil {
		t.Fatal(err)
	}
	return kr
}

// A box key signs the packs of its namespace, and nothing else: not a
// pack of the shared catalogue's ids, not another box's namespace, and
// not an id that only starts like its namespace.
func TestBoxKeyIsTrustedForItsNamespaceOnly(t *testing.T) {
	dir := t.TempDir()
	kr := boxKeyring(t, dir)
	other, third := mustSigner(t), mustSigner(t)
	ns := content.Namespace(other.Public().ID)
	manifest := func(id string) []byte { return []byte(`{"id":"` + id + `","version":"1.0.0"}`) }
	if _, err := kr.Verify(manifest(ns+"quiz"), other.Sign(manifest(ns+"quiz"))); err == nil {
		t.Fatal("a box key nobody trusted was taken")
	}
	if err := kr.TrustBox(content.BoxKey{Key: other.Public(), BoxID: "box-1", Name: "School 5\nlab"}); err != nil {
		t.Fatal(err)
	}
	if id, err := kr.Verify(manifest(ns+"quiz"), other.Sign(manifest(ns+"quiz"))); err != nil || id != other.Public().ID {
		t.Fatalf("a pack in the trusted box key's namespace: %q %v, want taken", id, err)
	}
	for _, id := range []string{"mini", content.Namespace(third.Public().ID) + "quiz", strings.TrimSuffix(ns, "-") + "x-quiz", ns} {
		_, err := kr.Verify(manifest(id), other.Sign(manifest(id)))
		if err == nil || !strings.Contains(err.Error(), "trusts only for packs whose id starts with "+ns) {
			t.Errorf("pack %q signed by the box key: %v, want refused as outside its namespace", id, err)
		}
	}
	if kr.TrustsFor(other.Public().ID, "mini") || !kr.TrustsFor(other.Public().ID, ns+"quiz") {
		t.Error("TrustsFor does not follow the namespace")
	}
	if kr.Trusts(other.Public().ID) {
		t.Error("a box key counts as a key trusted for every pack")
	}
	// Kept on disk: a keyring made anew (the box restarted) trusts it.
	again := boxKeyring(t, dir)
	bk, ok := again.BoxKey(other.Public().ID)
	if !ok || bk.BoxID != "box-1" || bk.Name != "School 5 lab" {
		t.Fatalf("after a restart the box key is %+v %v, want kept with its box and a one-line name", bk, ok)
	}
	// Taken back: refused at once, here and after a restart.
	gen := kr.Generation()
	if err := kr.UntrustBox(other.Public().ID); err != nil {
		t.Fatal(err)
	}
	if kr.Generation() == gen {
		t.Error("taking a box key back did not change the keyring's generation")
	}
	if _, err := kr.Verify(manifest(ns+"quiz"), other.Sign(manifest(ns+"quiz"))); err == nil {
		t.Error("a box key taken back is still trusted")
	}
	if err := again.Refresh(); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.BoxKey(other.Public().ID); ok {
		t.Error("another keyring on the same folder still trusts the key after a refresh")
	}
	if err := kr.UntrustBox(other.Public().ID); err == nil {
		t.Error("taking back a key not trusted: no error")
	}
}

// A signed pack whose id is outside the box key's namespace is refused by
// an install, and a pack inside it installs.
func TestLibraryRefusesABoxKeysPackOutsideItsNamespace(t *testing.T) {
	mini, _ := contenttest.MiniPack(t)
	dir := t.TempDir()
	kr := boxKeyring(t, filepath.Join(dir, "keys"))
	boxA := mustSigner(t)
	if err := kr.TrustBox(content.BoxKey{Key: boxA.Public(), BoxID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	lib, err := content.OpenLibrary(filepath.Join(dir, "packs"), kr, content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	wrong := contenttest.Retag(t, mini, "mini", "9.0.0", boxA)
	if _, err := lib.Install(bytes.NewReader(wrong), int64(len(wrong)), content.InstallOptions{}); err == nil || !strings.Contains(err.Error(), "trusts only for packs whose id starts with") {
		t.Fatalf("installing mini signed by a box key: %v, want refused", err)
	}
	if _, ok := lib.Pack("mini"); ok {
		t.Fatal("the refused pack is served")
	}
	id := content.Namespace(boxA.Public().ID) + "d1"
	right := contenttest.Retag(t, mini, id, "1.0.0", boxA)
	if _, err := lib.Install(bytes.NewReader(right), int64(len(right)), content.InstallOptions{}); err != nil {
		t.Fatalf("installing the box's own pack: %v", err)
	}
	// The key taken back by another process (a file removed): the pack is
	// no longer served after a reload.
	if err := os.Remove(filepath.Join(dir, "keys", "boxes", boxA.Public().ID+".pub")); err != nil {
		t.Fatal(err)
	}
	if err := lib.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Pack(id); ok {
		t.Error("a pack signed by a box key taken back is still served")
	}
}

// Trusting and taking back keys at once, from many goroutines, leaves a
// folder and a keyring that agree.
func TestBoxKeysConcurrently(t *testing.T) {
	dir := t.TempDir()
	kr := boxKeyring(t, dir)
	keys := make([]*content.Signer, 8)
	for i := range keys {
		keys[i] = mustSigner(t)
	}
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			for range 2 {
				if err := kr.TrustBox(content.BoxKey{Key: k.Public(), Name: "box"}); err != nil {
					t.Error(err)
				}
				kr.Refresh()
			}
			if i%2 == 0 {
				if err := kr.UntrustBox(k.Public().ID); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := len(kr.BoxKeys()); got != len(keys)/2 {
		t.Errorf("%d box keys trusted, want %d", got, len(keys)/2)
	}
	again := boxKeyring(t, dir)
	if got := len(again.BoxKeys()); got != len(keys)/2 {
		t.Errorf("%d box keys on disk, want %d", got, len(keys)/2)
	}
}

// A damaged box key file stops nothing: that key is not trusted, the
// others are, and the keyring says which file and why.
func TestDamagedBoxKeyFile(t *testing.T) {
	dir := t.TempDir()
	kr := boxKeyring(t, dir)
	good := mustSigner(t)
	if err := kr.TrustBox(content.BoxKey{Key: good.Public(), Name: "A"}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "boxes", "0123456789abcdef.pub")
	if err := os.WriteFile(bad, []byte("# box: x\ned25519:0123456789abcdef:AAAA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := content.NewKeyring()
	if err := again.LoadBoxKeyDir(filepath.Join(dir, "boxes")); err != nil {
		t.Fatalf("a damaged box key file stopped the keyring: %v", err)
	}
	if _, ok := again.BoxKey(good.Public().ID); !ok || len(again.BoxKeys()) != 1 {
		t.Errorf("box keys trusted: %+v, want the good one only", again.BoxKeys())
	}
	if p := again.BoxKeysProblem(); p == nil || !strings.Contains(p.Error(), bad) {
		t.Errorf("problem %v, want the damaged file named", p)
	}
}

func TestFingerprint(t *testing.T) {
	k := mustSigner(t).Public()
	fp := content.Fingerprint(k)
	if len(fp) != 19 || strings.Count(fp, " ") != 3 || strings.ReplaceAll(strings.ToLower(fp), " ", "") != k.ID {
		t.Errorf("fingerprint %q of key %s, want its id in four groups of four", fp, k.ID)
	}
}
