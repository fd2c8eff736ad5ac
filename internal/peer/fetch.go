package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// Fetch downloads pack id from the peer at base into dir (resuming an
// earlier try) and installs it into lib, which checks its signature and
// every file as for any install. A pack that fails those checks is removed
// from dir, so the next try starts over; nothing installed changes.
func Fetch(ctx context.Context, c *Client, lib *content.Library, dir, base, id string, progress func(Progress)) (content.InstallResult, error) {
	if !content.ValidID(id) {
		return content.InstallResult{}, failure.Errorf(failure.Invalid, "peer: %q is not a pack id", id)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return content.InstallResult{}, fmt.Errorf("peer: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, id+".lock"))
	if err != nil {
		return content.InstallResult{}, err
	}
	defer unlock()
	sweep(dir, lib, id)
	partial := filepath.Join(dir, id+content.Extension+".partial")
	// The download is judged by its manifest as soon as that arrives: a
	// pack this box would not install, or another pack than asked for, is
	// refused then, and no more bytes are taken than the manifest declares.
	judge := func(manifest, sig []byte) (int64, error) {
		m, err := lib.CheckSigned(manifest, sig)
		if err != nil {
			return 0, fmt.Errorf("peer: pack %s from %s refused: %w", id, base, err)
		}
		if m.ID != id {
			return 0, failure.Errorf(failure.Invalid, "peer: asked for pack %s but got %s; refused", id, m.ID)
		}
		return content.ArchiveBound(m, len(manifest), len(sig)), nil
	}
	if err := c.Download(ctx, base, id, partial, judge, progress); err != nil {
		return content.InstallResult{}, err
	}
	discard := func() { removePartial(partial) }
	if err := checkID(partial, id); err != nil {
		discard()
		return content.InstallResult{}, err
	}
	res, err := lib.InstallFile(partial, content.InstallOptions{})
	if err != nil {
		if k := failure.KindOf(err); k == failure.Invalid || k == failure.Conflict {
			discard() // refused: these bytes will never install
		}
		return content.InstallResult{}, fmt.Errorf("peer: pack %s from %s refused: %w", id, base, err)
	}
	discard()
	return res, nil
}

const partialSuffix = content.Extension + ".partial"

// sweep removes the partial downloads in dir, other than pack skip's, that
// no fetch will resume: of a pack since installed at their version or a
// newer one, or whose manifest this box refuses. A partial whose manifest
// has not all arrived is kept while it is small (maxHead).
func sweep(dir string, lib *content.Library, skip string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), partialSuffix)
		if !ok || id == skip || !content.ValidID(id) {
			continue
		}
		unlock, err := lockFile(filepath.Join(dir, id+".lock"))
		if err != nil {
			continue // being fetched
		}
		if stale(filepath.Join(dir, e.Name()), lib) {
			removePartial(filepath.Join(dir, e.Name()))
		}
		unlock()
	}
}

func stale(partial string, lib *content.Library) bool {
	f, err := os.Open(partial)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	manifest, sig, err := content.ReadArchiveHead(io.NewSectionReader(f, 0, st.Size()), content.DefaultLimits.MaxManifest)
	if errors.Is(err, content.ErrShortHead) {
		return st.Size() > maxHead
	}
	if err != nil {
		return true
	}
	m, err := lib.CheckSigned(manifest, sig)
	if err != nil {
		return true
	}
	cur, ok := lib.Pack(m.ID)
	return ok && content.CompareVersions(cur.Manifest.Version, m.Version) >= 0
}

// checkID makes sure the archive is the pack asked for, before installing
// it: a peer must not slip in another pack under its name.
func checkID(path, id string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	a, err := content.InspectArchive(f, st.Size(), content.DefaultLimits)
	if err != nil {
		return fmt.Errorf("peer: pack %s refused: %w", id, err)
	}
	if a.Manifest.ID != id {
		return failure.Errorf(failure.Invalid, "peer: asked for pack %s but got %s; refused", id, a.Manifest.ID)
	}
	return nil
}

func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("peer: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("peer: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrBusy says another fetch of the same pack is under way.
var ErrBusy = errors.New("peer: this pack is being fetched already")
