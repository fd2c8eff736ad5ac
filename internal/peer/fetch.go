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
	partial := filepath.Join(dir, id+content.Extension+".partial")
	if err := c.Download(ctx, base, id, partial, progress); err != nil {
		return content.InstallResult{}, err
	}
	discard := func() {
		os.Remove(partial)
		os.Remove(partial + ".etag")
	}
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
