package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/studio"
)

// StudioConfig is what the teacher studio needs to publish (docs/studio.md).
type StudioConfig struct {
	// Signer is the box's own key (box.DevKeyPath): it signs what teachers
	// publish, and its id makes the namespace of their packs' ids. Nil
	// turns publishing off.
	Signer *content.Signer
	// Dir is the studio's folder, DATA/studio: every published archive is
	// kept in Dir/packs as ID-VERSION.stempack.
	Dir string
	// Builder makes the pack builder at the first publish (KaTeX takes a
	// moment to start); nil makes none, and publishing fails.
	Builder func() (*content.Builder, error)
}

// studioState is the studio's builder, made once, and the lock that makes
// publishes one at a time (the builder's KaTeX is not shared, and versions
// are numbered in order).
type studioState struct {
	mu      sync.Mutex
	builder *content.Builder
}

// StudioArchive is the path of a kept archive of a published version in
// the studio's folder.
func StudioArchive(dir, pack, version string) string {
	return filepath.Join(dir, "packs", content.ArchiveName(pack, version))
}

// studioPackID is the id of a draft's pack: the box's namespace and the
// draft's id.
func (s *Server) studioPackID(draft string) string {
	return content.Namespace(s.cfg.Studio.Signer.Public().ID) + draft
}

// publishDraft publishes a draft, by the user with the id by, as the next
// version of its pack ("1.0.0", then "2.0.0", …): it writes the draft's pack
// source, builds it with the same KaTeX and Markdown path as every pack,
// signs it with the box's key, keeps the archive, installs it into the
// library and records the version and a studio.published event. A draft
// that cannot be published is failure.Invalid with studio.Problems naming
// the item (a TeX formula KaTeX refuses, a missing picture, …); nothing is
// installed then.
func (s *Server) publishDraft(ctx context.Context, d studio.Draft, by string) (studio.Version, error) {
	sc := s.cfg.Studio
	if sc.Signer == nil || sc.Builder == nil || sc.Dir == "" {
		return studio.Version{}, failure.Errorf(failure.Unavailable, "publishing is off: the box has no key of its own")
	}
	if err := studio.Validate(d.Doc, d.Kind); err != nil {
		return studio.Version{}, err
	}
	s.studio.mu.Lock()
	defer s.studio.mu.Unlock()
	if s.studio.builder == nil {
		b, err := sc.Builder()
		if err != nil {
			return studio.Version{}, fmt.Errorf("studio: builder: %w", err)
		}
		s.studio.builder = b
	}
	versions, err := s.db.DraftVersions(ctx, d.ID)
	if err != nil {
		return studio.Version{}, err
	}
	v := studio.Version{Version: studio.VersionName(int64(len(versions)) + 1), Rev: d.Rev}
	pack := s.studioPackID(d.ID)
	src, err := studio.Source(d.Doc, d.Kind, pack, v.Version)
	if err != nil {
		return studio.Version{}, err
	}
	if err := os.MkdirAll(sc.Dir, 0o750); err != nil {
		return studio.Version{}, fmt.Errorf("studio: %w", err)
	}
	tmp, err := os.MkdirTemp(sc.Dir, "build-")
	if err != nil {
		return studio.Version{}, fmt.Errorf("studio: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := s.writeStudioSource(ctx, tmp, src); err != nil {
		return studio.Version{}, err
	}
	built, err := s.studio.builder.Build(tmp)
	if err != nil {
		p := src.Problem(err)
		return studio.Version{}, failure.Wrap(failure.Invalid, studio.Problems{p}, p.Error())
	}
	out, err := built.WriteFile(filepath.Join(sc.Dir, "packs"), sc.Signer)
	if err != nil {
		return studio.Version{}, err
	}
	if v.SHA256, err = fileSHA256(out); err != nil {
		return studio.Version{}, err
	}
	// Rebuild: a version whose install was not recorded (the box stopped
	// in between) is built and installed again under the same number.
	if _, err := s.lib.InstallFile(out, content.InstallOptions{Rebuild: true}); err != nil {
		return studio.Version{}, fmt.Errorf("studio: install %s %s: %w", pack, v.Version, err)
	}
	v.Published = s.db.Clock().Now().Wall
	items := 0
	if d.Kind == studio.KindSet {
		items = len(d.Doc.Items)
	}
	if err := s.db.RecordPublish(ctx, "user:"+by, d.ID, v, event.StudioPublished{Pack: pack, Version: v.Version, Kind: d.Kind, Items: items, SHA256: v.SHA256}); err != nil {
		return studio.Version{}, err
	}
	s.log.Info("studio: published", "pack", pack, "version", v.Version, "by", by, "kind", d.Kind, "items", items)
	return v, nil
}

// writeStudioSource writes a draft's pack source and its pictures into dir.
func (s *Server) writeStudioSource(ctx context.Context, dir string, src *studio.PackSource) error {
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return fmt.Errorf("studio: %w", err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			return fmt.Errorf("studio: %w", err)
		}
		return nil
	}
	for name, data := range src.Files {
		if err := write(name, data); err != nil {
			return err
		}
	}
	var missing studio.Problems
	for _, m := range src.Media {
		data, _, err := s.db.Media(ctx, path.Base(m))
		if failure.KindOf(err) == failure.NotFound {
			missing = append(missing, studio.Problem{Field: m, Key: "studio.problem.media", Args: []any{path.Base(m)}})
			continue
		}
		if err != nil {
			return err
		}
		if err := write(m, data); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return failure.Wrap(failure.Invalid, missing, missing.Error())
	}
	return nil
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("studio: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("studio: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
