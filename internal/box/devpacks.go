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
		if installedFrom(b.lib, hash) {
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
		res, err := b.lib.InstallFile(out, content.InstallOptions{AllowDowngrade: true})
		if err != nil {
			b.log.Error("pack does not install", "file", out, "err", err)
			continue
		}
		b.log.Info("pack built from source and installed", "pack", built.Manifest.ID, "version", built.Manifest.Version, "replaced", res.Replaced)
	}
	return nil
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
