package content_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// rootKeyring is a box's keyring: root trusted on its own, in dir.
func rootKeyring(t *testing.T, dir string, root *content.Signer) *content.Keyring {
	t.Helper()
	if err := content.WriteKeyFile(filepath.Join(dir, "root.pub"), root.Public()); err != nil {
		t.Fatal(err)
	}
	kr := content.NewKeyring()
	if err := kr.LoadKeyDir(dir); err != nil {
		t.Fatal(err)
	}
	return kr
}

// A key list signed by the box's root trusts its keys at once, is kept in
// the keyring's folder for the next start, and revokes keys later.
func TestKeyListTrustsAndRevokes(t *testing.T) {
	dir := t.TempDir()
	root, publisher := mustSigner(t), mustSigner(t)
	kr := rootKeyring(t, dir, root)
	manifest := []byte(`{"id":"x"}`)
	sig := publisher.Sign(manifest)
	if _, err := kr.Verify(manifest, sig); err == nil {
		t.Fatal("a key nobody listed is trusted")
	}
	ch, err := kr.AcceptKeyList(contenttest.KeyList(t, root, 1, []content.PublicKey{publisher.Public()}))
	if err != nil || !slices.Equal(ch.Added, []string{publisher.Public().ID}) {
		t.Fatalf("accept list 1: %+v, %v", ch, err)
	}
	if _, err := kr.Verify(manifest, sig); err != nil {
		t.Fatalf("a listed key is not trusted: %v", err)
	}
	// Twice: nothing changes.
	if ch, err := kr.AcceptKeyList(contenttest.KeyList(t, root, 1, []content.PublicKey{publisher.Public()})); err != nil || !ch.Unchanged {
		t.Fatalf("the same list again: %+v, %v; want unchanged", ch, err)
	}
	// A box started again holds the list.
	again := content.NewKeyring()
	if err := again.LoadKeyDir(dir); err != nil {
		t.Fatal(err)
	}
	if !again.Trusts(publisher.Public().ID) || again.KeyList().List.Serial != 1 {
		t.Fatalf("after a restart the box does not hold list 1: %v", again.IDs())
	}
	// Revoked.
	gen := kr.Generation()
	ch, err = kr.AcceptKeyList(contenttest.KeyList(t, root, 2, nil, publisher.Public().ID))
	if err != nil || !slices.Equal(ch.Revoked, []string{publisher.Public().ID}) || kr.Generation() == gen {
		t.Fatalf("accept list 2: %+v, %v", ch, err)
	}
	if _, err := kr.Verify(manifest, sig); err == nil || !strings.Contains(err.Error(), "revoked: leaked") {
		t.Fatalf("a revoked key: err = %v, want revoked with the reason", err)
	}
	// Another process's keyring on the same folder takes it at its refresh.
	if err := again.Refresh(); err != nil {
		t.Fatal(err)
	}
	if again.Trusts(publisher.Public().ID) {
		t.Error("a keyring refreshed from the folder still trusts the revoked key")
	}
}

// Every wrong list is refused with a clear error, and changes nothing:
// not the keys trusted, not the list held, not the file on disk.
func TestKeyListRefusesWrongLists(t *testing.T) {
	dir := t.TempDir()
	root, other, publisher, second := mustSigner(t), mustSigner(t), mustSigner(t), mustSigner(t)
	kr := rootKeyring(t, dir, root)
	good := contenttest.KeyList(t, root, 5, []content.PublicKey{publisher.Public()})
	if _, err := kr.AcceptKeyList(good); err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(contenttest.KeyList(t, root, 6, []content.PublicKey{publisher.Public()}), []byte(`"serial":6`), []byte(`"serial":7`), 1)
	cases := []struct {
		name, raw, want string
	}{
		{"signed by a key the box does not hold", string(contenttest.KeyList(t, other, 6, []content.PublicKey{second.Public()})), "not one of this box's own trusted keys"},
		{"signed by a listed key, not a root", string(contenttest.KeyList(t, publisher, 6, []content.PublicKey{second.Public()})), "not one of this box's own trusted keys"},
		{"older serial", string(contenttest.KeyList(t, root, 4, []content.PublicKey{second.Public()})), "older than the list this box holds (5)"},
		{"same serial, other keys", string(contenttest.KeyList(t, root, 5, []content.PublicKey{second.Public()})), "serial 5 is held already"},
		{"tampered", string(tampered), "does not match the list (it was altered)"},
		{"revokes the root", string(contenttest.KeyList(t, root, 6, nil, root.Public().ID)), "cannot revoke those"},
		{"one line", `{"format":"stembox-keylist/1","serial":9}`, "not two lines"},
		{"not JSON", "hello\ned25519:x:y\n", "not the JSON expected"},
		{"no format", string(bytes.Replace(contenttest.KeyList(t, root, 6, nil), []byte("stembox-keylist/1"), []byte("other/1"), 1)), "format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := kr.AcceptKeyList([]byte(c.raw))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
			if got := kr.KeyList(); got == nil || got.List.Serial != 5 || kr.Trusts(second.Public().ID) || !kr.Trusts(publisher.Public().ID) {
				t.Fatalf("the refused list changed the keyring: serial %v, ids %v", got, kr.IDs())
			}
			if disk, _ := os.ReadFile(filepath.Join(dir, content.KeyListName)); !bytes.Equal(disk, good) {
				t.Fatal("the refused list changed the file on disk")
			}
		})
	}
}

// Two processes taking lists at once (the box's sync, a sync import
// beside it) end with the newest on disk and in both, never an older one.
func TestKeyListConcurrentAcceptKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	root := mustSigner(t)
	a, b := rootKeyring(t, dir, root), content.NewKeyring()
	if err := b.LoadKeyDir(dir); err != nil {
		t.Fatal(err)
	}
	lists := make([][]byte, 21)
	for i := 1; i <= 20; i++ {
		lists[i] = contenttest.KeyList(t, root, int64(i), []content.PublicKey{mustSigner(t).Public()})
	}
	var wg sync.WaitGroup
	for _, kr := range []*content.Keyring{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 20; i++ {
				kr.AcceptKeyList(lists[i]) // an older one is refused: fine
			}
		}()
	}
	wg.Wait()
	if disk, _ := os.ReadFile(filepath.Join(dir, content.KeyListName)); !bytes.Equal(disk, lists[20]) {
		t.Fatalf("the folder holds %.60q, want list 20", disk)
	}
	for _, kr := range []*content.Keyring{a, b} {
		kr.Refresh()
		if kr.KeyList().List.Serial != 20 {
			t.Errorf("a keyring holds list %d, want 20", kr.KeyList().List.Serial)
		}
	}
}

// A pack signed only by a key the list revokes stops being served at the
// library's next reload, says why, and never installs again; an older
// version signed by a key still trusted is served instead.
func TestRevokedKeyStopsServingItsPacks(t *testing.T) {
	dir := t.TempDir()
	root, publisher := mustSigner(t), mustSigner(t)
	keyDir := filepath.Join(dir, "keys")
	kr := rootKeyring(t, keyDir, root)
	if _, err := kr.AcceptKeyList(contenttest.KeyList(t, root, 1, []content.PublicKey{publisher.Public()})); err != nil {
		t.Fatal(err)
	}
	lib, err := content.OpenLibrary(filepath.Join(dir, "packs"), kr, content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	archive := buildPack(t, copyTree(t, contenttest.MiniDir()), publisher)
	if _, err := lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.AcceptKeyList(contenttest.KeyList(t, root, 2, nil, publisher.Public().ID)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := lib.Reload(); err != nil {
			t.Fatal(err)
		}
		if p, ok := lib.Pack("mini"); ok {
			t.Fatalf("reload %d: the pack of a revoked key is served: %s", i, p.KeyID)
		}
		if err := lib.Unserved()["mini"]; err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("reload %d: Unserved says %v, want the pack, revoked", i, lib.Unserved())
		}
	}
	if _, err := lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("installing it again: err = %v, want refused, revoked", err)
	}
	for restart := 1; restart <= 2; restart++ { // the box started again, twice
		kr2 := content.NewKeyring()
		if err := kr2.LoadKeyDir(keyDir); err != nil {
			t.Fatal(err)
		}
		lib2, err := content.OpenLibrary(filepath.Join(dir, "packs"), kr2, content.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := lib2.Pack("mini"); ok || lib2.Unserved()["mini"] == nil {
			t.Fatalf("restart %d: the revoked key's pack is served again (unserved %v)", restart, lib2.Unserved())
		}
	}
	// The same pack signed again by the root (the programme's fix) is
	// served again.
	m := contenttest.Members(t, archive)
	m["manifest.sig"] = root.Sign(m["manifest.json"])
	resigned := contenttest.Zip(t, m)
	if _, err := lib.Install(bytes.NewReader(resigned), int64(len(resigned)), content.InstallOptions{}); err != nil {
		t.Fatalf("the pack signed again: %v", err)
	}
	if p, ok := lib.Pack("mini"); !ok || p.KeyID != root.Public().ID || len(lib.Unserved()) != 0 {
		t.Fatalf("after signing it again: %v, unserved %v", p, lib.Unserved())
	}
}

// A key list kept on disk that no longer verifies (its root's file was
// removed) does not stop the box from starting: it trusts its own keys
// only, and says why.
func TestKeyListOnDiskThatNoLongerVerifies(t *testing.T) {
	dir := t.TempDir()
	root, publisher := mustSigner(t), mustSigner(t)
	kr := rootKeyring(t, dir, root)
	if _, err := kr.AcceptKeyList(contenttest.KeyList(t, root, 1, []content.PublicKey{publisher.Public()})); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "root.pub"))
	again := content.NewKeyring()
	if err := again.LoadKeyDir(dir); err != nil {
		t.Fatalf("a keyring whose list does not verify: %v, want it made anyway", err)
	}
	if again.Trusts(publisher.Public().ID) || again.KeyList() != nil {
		t.Error("the unverified list's keys are trusted")
	}
	if p := again.ListProblem(); p == nil || !strings.Contains(p.Error(), "not one of this box's own trusted keys") {
		t.Errorf("ListProblem = %v, want why", p)
	}
	// Given the root again (serve --trust), the list is taken.
	withRoot := content.NewKeyring(root.Public())
	if err := withRoot.LoadKeyDir(dir); err != nil || !withRoot.Trusts(publisher.Public().ID) || withRoot.ListProblem() != nil {
		t.Errorf("with the root given first: %v, trusts %v", err, withRoot.IDs())
	}
}
