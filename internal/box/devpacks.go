package box

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/markup"
)

// ensureDevKey makes the box's development signing key if it has none.
func ensureDevKey(data string) error {
	if _, err := os.Stat(DevKeyPath(data)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("box: dev key: %w", err)
	}
	s, err := content.GenerateKey()
	if err != nil {
		return err
	}
	return s.WriteKeyFiles(DevKeyPath(data))
}

// OwnKey returns the public key of a data directory's box (made when the
// box first starts).
func OwnKey(data string) (content.PublicKey, error) {
	kr := content.NewKeyring()
	if err := kr.LoadKeyFile(DevKeyPath(data) + ".pub"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return content.PublicKey{}, fmt.Errorf("box: %s has no key yet: the box makes it when it first starts", data)
		}
		return content.PublicKey{}, err
	}
	ids := kr.IDs()
	if len(ids) != 1 {
		return content.PublicKey{}, fmt.Errorf("box: %s holds %d keys, want 1", DevKeyPath(data)+".pub", len(ids))
	}
	k, _ := kr.Key(ids[0])
	return k, nil
}

// NewBuilder returns a pack builder; starting KaTeX takes a moment, so it is
// made only when a pack needs building.
func NewBuilder() (*content.Builder, error) {
	k, err := katex.New()
	if err != nil {
		return nil, err
	}
	return &content.Builder{Markup: markup.New(k)}, nil
}

// installDevPacks builds every pack source under dir whose source changed
// since it was installed, signs it with the box's development key and
// installs it. A pack that fails to build is logged and skipped: the box
// still serves the others.
//
// It never builds over a pack that came from elsewhere: a pack of the same
// id installed from a publisher (a hub, a peer, `stembox pack install`, a
// USB stick: signed by another key than the box's own) is kept whatever
// its version, and so is a newer version of the box's own build. Only an
// absent pack, or the box's own build of an older or the same version (a
// source edited without a new version number), is built and installed.
func (b *Box) installDevPacks(dir string) error {
	srcs, err := PackSources(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			b.log.Info("no pack sources to build", "dir", dir)
			return nil
		}
		return err
	}
	var builder *content.Builder
	signer, err := content.LoadSigner(DevKeyPath(b.cfg.DataDir))
	if err != nil {
		return err
	}
	for _, src := range srcs {
		hash, err := content.SourceHash(src)
		if err != nil {
			b.log.Error("pack source", "dir", src, "err", err)
			continue
		}
		if installedFrom(b.lib, hash) || !b.devPackWanted(src, signer) {
			continue
		}
		if builder == nil {
			if builder, err = NewBuilder(); err != nil {
				return err
			}
		}
		built, err := builder.Build(src)
		if err != nil {
			b.log.Error("pack does not build; fix it and restart", "dir", src, "err", err)
			continue
		}
		out, err := built.WriteFile(filepath.Join(b.cfg.DataDir, "built"), signer)
		if err != nil {
			return err
		}
		res, err := b.lib.InstallFile(out, content.InstallOptions{Rebuild: true})
		if err != nil {
			b.log.Error("pack does not install", "file", out, "err", err)
			continue
		}
		b.log.Info("pack built from source and installed", "pack", built.Manifest.ID, "version", built.Manifest.Version, "replaced", res.Replaced)
	}
	return nil
}

// devPackWanted says whether the pack source in src may be built over what
// the library holds (see installDevPacks), logging why not.
func (b *Box) devPackWanted(src string, own *content.Signer) bool {
	id, version, err := content.SourceVersion(src)
	if err != nil {
		return true // the build says what is wrong
	}
	cur, ok := b.lib.Pack(id)
	switch {
	case !ok:
		return true
	case cur.KeyID != own.Public().ID:
		b.log.Info("pack from a publisher installed; not building the sample pack over it",
			"pack", id, "installed", cur.Manifest.Version, "signed_by", cur.KeyID, "source", version)
		return false
	case content.CompareVersions(version, cur.Manifest.Version) < 0:
		b.log.Info("kept newer "+cur.Manifest.Version+"; not building the older sample pack over it",
			"pack", id, "installed", cur.Manifest.Version, "source", version)
		return false
	}
	return true
}

// PackSources lists the folders under dir that hold a pack.yaml.
func PackSources(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "pack.yaml")); err == nil {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func installedFrom(lib *content.Library, sourceHash string) bool {
	for _, p := range lib.Packs() {
		if p.Manifest.Source == sourceHash {
			return true
		}
	}
	return false
}
