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
	// Contributions are the teachers' packs beside the bundle the hub
	// holds now; ContribProblems says why others were not taken.
	Contributions   []ContributeResult
	ContribProblems []string
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
	if err := h.importContributions(ctx, filepath.Dir(path), &out); err != nil {
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

// importContributions takes the contributions the bundle names from the
// folder it was read from (wire.ContribFileName), each checked as one sent
// online (Contribute), and names those the hub holds in the
// acknowledgement, signed anew, so the box sends them no more. One that is
// missing or refused is reported and does not stop the rest.
func (h *Store) importContributions(ctx context.Context, from string, out *StickResult) error {
	hd, id := out.header, out.box
	if len(hd.Contributions) == 0 {
		return nil
	}
	for _, sha := range hd.Contributions {
		name := wire.ContribFileName(out.Ack.BoxID, sha)
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			out.ContribProblems = append(out.ContribProblems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
			out.ContribProblems = append(out.ContribProblems, name+": not the file the bundle names (altered?); refused")
			continue
		}
		r, err := h.Contribute(ctx, id, hd.BoxKey, data)
		if err != nil {
			out.ContribProblems = append(out.ContribProblems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		out.Contributions = append(out.Contributions, r)
		out.Ack.Contributions = append(out.Ack.Contributions, sha)
	}
	if len(out.Ack.Contributions) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := wire.WriteAck(&buf, out.Ack, h.ackKey); err != nil {
		return err
	}
	out.AckFile = buf.Bytes()
	return nil
}

// WritePackFile writes a published pack as a .stempack file at path,
// whole or not at all, flushed to the disk.
func (h *Store) WritePackFile(ctx context.Context, id, version, path string) error {
	return durable.WriteFile(path, 0o644, func(f *os.File) error { return h.WritePackArchive(ctx, id, version, f) })
}
