package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// The hub's key list: at each sync, before the packs, the box asks for it
// (If-None-Match: the list it holds, and the one it refused last, so an
// unchanged list costs a 304), checks that one of its own keys signed it
// and that it is newer than the list it holds, keeps it in
// DATA/trusted-keys/keylist and applies it at once: packs signed by a key
// it lists come at the next pull, packs signed only by a key it revokes
// stop being served now. A list refused, or no list, does not slow the
// push (docs/sync-protocol.md, "Signing keys").

func (s *Syncer) pullKeys(ctx context.Context, c *hubClient) error {
	kr := s.cfg.Keys
	if kr == nil {
		return nil
	}
	// Ask for a list other than the one held, or, after a refusal, other
	// than the one refused (which is reported again while the hub has it).
	s.mu.Lock()
	refusedTag, refusedErr := s.keysRefused, s.keysRefusedErr
	s.mu.Unlock()
	hdr := map[string]string{}
	if refusedTag != "" {
		hdr["If-None-Match"] = refusedTag
	} else if cur := kr.KeyList(); cur != nil {
		hdr["If-None-Match"] = cur.ETag()
	}
	resp, cancel, err := c.send(ctx, http.MethodGet, wire.PathKeys, nil, hdr)
	var he *hubError
	if errors.As(err, &he) && he.status == http.StatusNotModified {
		return refusedErr // unchanged
	}
	if errors.As(err, &he) && he.status == http.StatusNotFound {
		return nil // the hub has no list (or predates key lists)
	}
	if err != nil {
		return fmt.Errorf("the hub's key list: %w", err)
	}
	defer cancel()
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, content.MaxKeyListBytes+1))
	c.received += int64(len(raw))
	if err != nil {
		return fmt.Errorf("the hub's key list: %w", err)
	}
	_, err = s.TakeKeyList(raw)
	if err != nil {
		err = fmt.Errorf("the hub's key list was refused: %w", err)
		refusedTag = content.KeyListETag(raw) // not fetched again until it changes
	} else {
		refusedTag = ""
	}
	s.mu.Lock()
	s.keysRefused, s.keysRefusedErr = refusedTag, err
	s.mu.Unlock()
	return err
}

// TakeKeyList takes a key list (from the hub, or a USB stick) into the
// box's keyring and applies it to the packs at once: it logs the keys
// trusted and revoked, and each pack that is no longer served.
func (s *Syncer) TakeKeyList(raw []byte) (content.KeyListChange, error) {
	return TakeKeyList(s.lib, raw, s.log)
}

// TakeKeyList takes a key list into lib's keyring (Keyring.AcceptKeyList)
// and reloads lib, logging what changed to log.
func TakeKeyList(lib *content.Library, raw []byte, log *slog.Logger) (content.KeyListChange, error) {
	before := map[string]string{} // pack id → key id, of the packs served
	for _, p := range lib.Packs() {
		before[p.Manifest.ID] = p.KeyID
	}
	ch, err := lib.Keys().AcceptKeyList(raw)
	if err != nil || ch.Unchanged {
		return ch, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("took the hub's key list", "serial", ch.Serial, "trusted_now", ch.Added, "revoked", ch.Revoked)
	if err := lib.Reload(); err != nil {
		log.Error("reload packs", "err", err)
	}
	for id, key := range before {
		if !slices.Contains(ch.Revoked, key) {
			continue
		}
		if p, ok := lib.Pack(id); ok {
			log.Info("pack's signing key was revoked; an older version signed by a trusted key is served instead",
				"pack", id, "revoked_key", key, "served", p.Manifest.Version)
			continue
		}
		log.Error("pack no longer served: its signing key was revoked by the hub's key list",
			"pack", id, "revoked_key", key, "serial", ch.Serial)
	}
	return ch, nil
}

// importKeyList takes the key list among files (a USB stick's), if any.
func importKeyList(lib *content.Library, files []string, res *ImportResult) error {
	for _, f := range files {
		if filepath.Base(f) != content.KeyListFile {
			continue
		}
		if lib == nil {
			return fmt.Errorf("upstream: no pack library to take %s into", f)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("upstream: %w", err)
		}
		ch, err := TakeKeyList(lib, raw, nil)
		if failure.KindOf(err) == failure.Conflict {
			// An older list than the box holds (it came over the
			// network since): kept the newer, and the rest applies.
			res.Kept = append(res.Kept, content.KeyListFile+": "+err.Error())
			continue
		}
		if err != nil {
			return fmt.Errorf("upstream: %s: %w", f, err)
		}
		res.KeyList = &ch
	}
	return nil
}
