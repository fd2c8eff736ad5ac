package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/durable"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Files on the operator's disk and on USB sticks: what stembox hub publish
// and stembox hub import read and write. The hub's pages do the same with
// uploads and downloads (Publish, ImportBundle, AckFor).

// ParseRequirement reads a requirement as the command line writes it:
// "all", "region:NAME" or "school:ID".
func ParseRequirement(s string) (Requirement, error) {
	scope, value, _ := strings.Cut(s, ":")
	r := Requirement{Scope: scope, Value: value}
	if err := checkRequirement(r); err != nil {
		return Requirement{}, err
	}
	return r, nil
}

// PublishFile publishes the .stempack file at path (Publish).
func (h *Store) PublishFile(ctx context.Context, path string, kr *content.Keyring, reqs []Requirement) (PublishResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return PublishResult{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return PublishResult{}, err
	}
	res, err := h.Publish(ctx, f, info.Size(), kr, reqs)
	if err != nil {
		return PublishResult{}, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// AckFileName is the file name of a bundle's acknowledgement: the box and
// the bundle, so that the acknowledgements of several boxes, or trips, can
// share a stick.
func AckFileName(a wire.Ack) string {
	bundle := a.Bundle
	if len(bundle) > 12 {
		bundle = bundle[:12]
	}
	return a.BoxID + "-" + bundle + wire.AckExt
}

// StickResult says what ImportBundleFile did and wrote.
type StickResult struct {
	ImportResult
	AckPath     string   // the acknowledgement written
	PackPaths   []string // the packs written for the box
	KeyListPath string   // the key list written, if the hub has one
}

// ImportBundleFile imports the bundle file at path (ImportBundle) and
// writes its acknowledgement and the packs the box should get to dir (the
// bundle's folder when dir is ""), each flushed to the disk: a USB stick is
// pulled out the moment the command ends.
func (h *Store) ImportBundleFile(ctx context.Context, path, dir string) (StickResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return StickResult{}, err
	}
	res, err := h.ImportBundle(ctx, f)
	f.Close()
	if err != nil {
		return StickResult{}, fmt.Errorf("%s: %w", path, err)
	}
	out := StickResult{ImportResult: res}
	from := filepath.Dir(path)
	if err := h.TakeContributions(ctx, &out.ImportResult, func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(from, name)) }); err != nil {
		return StickResult{}, err
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return StickResult{}, err
	}
	out.AckPath = filepath.Join(dir, AckFileName(out.Ack))
	if err := durable.WriteFile(out.AckPath, 0o644, func(f *os.File) error { _, err := f.Write(out.AckFile); return err }); err != nil {
		return StickResult{}, err
	}
	// The key list first, so a box that syncs only by stick learns keys
	// and revocations too (before it installs the packs).
	if kl, err := h.KeyList(ctx); err == nil {
		out.KeyListPath = filepath.Join(dir, content.KeyListFile)
		if err := durable.WriteFile(out.KeyListPath, 0o644, func(f *os.File) error { _, err := f.Write(kl); return err }); err != nil {
			return StickResult{}, err
		}
	} else if failure.KindOf(err) != failure.NotFound {
		return StickResult{}, err
	}
	for _, p := range res.Packs {
		pp := filepath.Join(dir, content.ArchiveName(p.ID, p.Version))
		if err := h.WritePackFile(ctx, p.ID, p.Version, pp); err != nil {
			return StickResult{}, err
		}
		out.PackPaths = append(out.PackPaths, pp)
	}
	return out, nil
}

// TakeContributions takes the contributions an imported bundle names
// (read gives the file of each, by its wire.ContribFileName: from the
// stick's folder, or uploaded beside the bundle), each checked as one sent
// online (Contribute), and names those the hub holds in the
// acknowledgement, signed anew, so the box sends them no more. One that is
// missing or refused is reported and does not stop the rest.
func (h *Store) TakeContributions(ctx context.Context, res *ImportResult, read func(name string) ([]byte, error)) error {
	hd, id := res.header, res.box
	for _, sha := range hd.Contributions {
		name := wire.ContribFileName(res.Ack.BoxID, sha)
		data, err := read(name)
		if err != nil {
			res.ContribProblems = append(res.ContribProblems, name+": not given with the bundle")
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
			res.ContribProblems = append(res.ContribProblems, name+": not the file the bundle names (altered?); refused")
			continue
		}
		r, err := h.Contribute(ctx, id, hd.BoxKey, data)
		if err != nil {
			res.ContribProblems = append(res.ContribProblems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if _, err := h.db.exec(ctx, "INSERT INTO bundle_contributions (bundle, sha256) VALUES (?, ?) ON CONFLICT (bundle, sha256) DO NOTHING", res.Ack.Bundle, sha); err != nil {
			return fmt.Errorf("hub: contribution: %w", err)
		}
		res.Contributions = append(res.Contributions, r)
		res.Ack.Contributions = append(res.Ack.Contributions, sha)
	}
	if len(res.Ack.Contributions) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := wire.WriteAck(&buf, res.Ack, h.ackKey); err != nil {
		return err
	}
	res.AckFile = buf.Bytes()
	return nil
}

// WritePackFile writes a published pack as a .stempack file at path,
// whole or not at all, flushed to the disk.
func (h *Store) WritePackFile(ctx context.Context, id, version, path string) error {
	return durable.WriteFile(path, 0o644, func(f *os.File) error { return h.WritePackArchive(ctx, id, version, f) })
}
