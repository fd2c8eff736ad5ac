package content_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// version writes a copy of the mini pack at another version, with a changed
// lesson so the versions can be told apart.
func version(t *testing.T, v, marker string) string {
	t.Helper()
	dir := copyTree(t, "testdata/mini")
	pack, _ := os.ReadFile(filepath.Join(dir, "pack.yaml"))
	os.WriteFile(filepath.Join(dir, "pack.yaml"), bytes.Replace(pack, []byte("version: 1.0.0"), []byte("version: "+v), 1), 0o644)
	os.WriteFile(filepath.Join(dir, "lessons", "force.en.md"), []byte("# Force\n\n"+marker+"\n"), 0o644)
	return dir
}

func install(t *testing.T, lib *content.Library, archive []byte, opt content.InstallOptions) (content.InstallResult, error) {
	t.Helper()
	return lib.Install(bytes.NewReader(archive), int64(len(archive)), opt)
}

func lessonText(t *testing.T, lib *content.Library) string {
	t.Helper()
	p, ok := lib.Pack("mini")
	if !ok {
		t.Fatal("pack mini is not served")
	}
	b, err := p.LessonHTML("force", "en")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstallUpgradeAndPrune(t *testing.T) {
	s := mustSigner(t)
	dir := t.TempDir()
	lib, err := content.OpenLibrary(dir, content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	v1 := buildPack(t, version(t, "1.0.0", "first"), s)
	v2 := buildPack(t, version(t, "1.1.0", "second"), s)
	v3 := buildPack(t, version(t, "1.2.0", "third"), s)

	if _, err := install(t, lib, v1, content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := install(t, lib, v1, content.InstallOptions{}); err != nil || !res.Unchanged {
		t.Errorf("installing the same pack again: %+v, %v; want unchanged", res, err)
	}
	res, err := install(t, lib, v2, content.InstallOptions{})
	if err != nil || res.Replaced != "1.0.0" {
		t.Fatalf("upgrade: %+v, %v", res, err)
	}
	if !strings.Contains(lessonText(t, lib), "second") {
		t.Error("after the upgrade the old lesson is served")
	}
	if _, err := install(t, lib, v3, content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "mini"))
	var versions []string
	for _, e := range entries {
		if e.IsDir() {
			versions = append(versions, strings.SplitN(e.Name(), "-", 2)[0])
		}
	}
	if strings.Join(versions, " ") != "1.1.0 1.2.0" {
		t.Errorf("installed versions on disk = %v, want the current one and the one it replaced", versions)
	}

	// A downgrade is refused unless asked for.
	_, err = install(t, lib, v2, content.InstallOptions{})
	if failure.KindOf(err) != failure.Conflict || !strings.Contains(err.Error(), "older") {
		t.Errorf("downgrade: err = %v, want a conflict saying it is older", err)
	}
	if !strings.Contains(lessonText(t, lib), "third") {
		t.Error("a refused downgrade changed what is served")
	}
	if _, err := install(t, lib, v2, content.InstallOptions{Rollback: true}); err != nil {
		t.Errorf("explicit roll-back: %v", err)
	}

	// Another process (a fresh library on the same folder) sees the same.
	again, err := content.OpenLibrary(dir, content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lessonText(t, again), "second") {
		t.Error("a reopened library does not serve the rolled-back version")
	}
}

func TestCrashMidInstallKeepsOldVersion(t *testing.T) {
	s := mustSigner(t)
	dir := t.TempDir()
	kr := content.NewKeyring(s.Public())
	lib, err := content.OpenLibrary(dir, kr, content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := install(t, lib, buildPack(t, version(t, "1.0.0", "old"), s), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	v2 := buildPack(t, version(t, "2.0.0", "new"), s)
	crash := errors.New("power cut")
	n := 0
	lib.SetAfterFile(func(string) error {
		if n++; n == 3 {
			return crash
		}
		return nil
	})
	if _, err := install(t, lib, v2, content.InstallOptions{}); !errors.Is(err, crash) {
		t.Fatalf("install with a crash after 3 files: err = %v", err)
	}
	if !strings.Contains(lessonText(t, lib), "old") {
		t.Error("after a failed install the old version is not served")
	}
	// A restart (a new library) still serves the old version and cleans up.
	lib2, err := content.OpenLibrary(dir, kr, content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lessonText(t, lib2), "old") {
		t.Error("after a restart the old version is not served")
	}
	if _, err := os.Stat(filepath.Join(dir, ".staging")); !os.IsNotExist(err) {
		t.Errorf("staging folder left behind after restart: %v", err)
	}
	if _, err := install(t, lib2, v2, content.InstallOptions{}); err != nil {
		t.Fatalf("installing again after the crash: %v", err)
	}
	if !strings.Contains(lessonText(t, lib2), "new") {
		t.Error("the retried install does not serve the new version")
	}
}

func TestRefusedInstallChangesNothing(t *testing.T) {
	s := mustSigner(t)
	dir := t.TempDir()
	lib, _ := content.OpenLibrary(dir, content.NewKeyring(s.Public()), content.DefaultLimits)
	good := buildPack(t, version(t, "1.0.0", "good"), s)
	if _, err := install(t, lib, good, content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	m := unpack(t, buildPack(t, version(t, "2.0.0", "evil"), s))
	// Same size, other bytes: only the hash can tell.
	m["lessons/force.en.html"] = bytes.Replace(m["lessons/force.en.html"], []byte("evil"), []byte("EVIL"), 1)
	tampered := repack(t, m, nil, false)
	if _, err := install(t, lib, tampered, content.InstallOptions{}); err == nil || !strings.Contains(err.Error(), "does not match its hash") {
		t.Fatalf("tampered install: err = %v", err)
	}
	if !strings.Contains(lessonText(t, lib), "good") {
		t.Error("a refused install changed what is served")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "mini"))
	if len(entries) != 3 { // current, the one version, and the note of the refusal
		t.Errorf("a refused install left files: %v", entries)
	}
	if p := lib.Problems()["mini"]; p == nil || !strings.Contains(p.Error(), "update to 2.0.0 refused") {
		t.Errorf("problem reported = %v, want the refused update", p)
	}
}

func TestLibraryDropsPacksOfUntrustedKeys(t *testing.T) {
	s := mustSigner(t)
	dir := t.TempDir()
	lib, _ := content.OpenLibrary(dir, content.NewKeyring(s.Public()), content.DefaultLimits)
	if _, err := install(t, lib, buildPack(t, "testdata/mini", s), content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	// The operator stops trusting the key: its packs stop being served.
	lib2, err := content.OpenLibrary(dir, content.NewKeyring(), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lib2.Pack("mini"); ok {
		t.Error("a pack signed by a key no longer trusted is served")
	}
	if p := lib2.Problems()["mini"]; p == nil || !strings.Contains(p.Error(), "does not trust") {
		t.Errorf("problem reported = %v, want the untrusted key", p)
	}
}

// Another build of the version served is a conflict — two packs under one
// version — unless it is the same signer's rebuild (dev packs) or an
// explicit rollback; an older version stays refused for a rebuild.
func TestInstallRefusesAnotherBuildOfTheSameVersion(t *testing.T) {
	s, other := mustSigner(t), mustSigner(t)
	lib, err := content.OpenLibrary(t.TempDir(), content.NewKeyring(s.Public(), other.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	first := buildPack(t, version(t, "1.1.0", "first"), s)
	if _, err := install(t, lib, first, content.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	rebuilt := buildPack(t, version(t, "1.1.0", "rebuilt"), s)
	byOther := buildPack(t, version(t, "1.1.0", "other"), other)
	older := buildPack(t, version(t, "1.0.0", "older"), s)
	for _, c := range []struct {
		name    string
		archive []byte
		opt     content.InstallOptions
		want    string
	}{
		{"same version, another build", rebuilt, content.InstallOptions{}, "another build of mini 1.1.0"},
		{"same version, another signer's rebuild", byOther, content.InstallOptions{Rebuild: true}, "another build of mini 1.1.0"},
		{"older version, as a rebuild", older, content.InstallOptions{Rebuild: true}, "older than the installed 1.1.0"},
	} {
		_, err := install(t, lib, c.archive, c.opt)
		if failure.KindOf(err) != failure.Conflict || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a conflict saying %q", c.name, err, c.want)
		}
		if !strings.Contains(lessonText(t, lib), "first") {
			t.Fatalf("%s: a refused install changed what is served", c.name)
		}
	}
	if res, err := install(t, lib, rebuilt, content.InstallOptions{Rebuild: true}); err != nil || res.Replaced != "1.1.0" {
		t.Fatalf("the same signer's rebuild: %+v, %v", res, err)
	}
	if !strings.Contains(lessonText(t, lib), "rebuilt") {
		t.Error("the rebuild is not served")
	}
	if _, err := install(t, lib, byOther, content.InstallOptions{Rollback: true}); err != nil {
		t.Fatalf("an explicit rollback to another build: %v", err)
	}
	if !strings.Contains(lessonText(t, lib), "other") {
		t.Error("the rolled-back build is not served")
	}
}
