package hub

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Sneakernet: a box that never reaches the hub writes its unacknowledged
// events to a signed bundle on a USB stick (stembox sync export); the hub
// imports it here and answers with a signed acknowledgement, which the box
// applies (stembox sync import) to move its cursor. The packs the box's
// school must have, or newer versions of those it has, go back on the same
// stick.

// MaxBundle is the largest bundle the hub reads: months of a big school's
// events are a few tens of megabytes.
const MaxBundle = 512 << 20

// ImportResult says what importing a bundle did.
type ImportResult struct {
	Ack     wire.Ack
	AckFile []byte // the signed acknowledgement, for the stick
	Repeat  bool   // this bundle was imported before
	// Diverged says why the bundle was stored only in part: the box's
	// history parted from what the hub holds (Ack.DivergedAt says where).
	Diverged error
	Packs    []wire.CataloguePack // packs to carry back to the box

	// Contributions are the teachers' packs the bundle names that the hub
	// holds now (TakeContributions); ContribProblems says why others were
	// not taken.
	Contributions   []ContributeResult
	ContribProblems []string

	header BundleHeaderView // what the bundle says of the contributions beside it
	box    BoxIdentity
}

// BundleHeaderView is the part of a bundle's (verified) header that
// ImportBundleFile reads after the import: its contributions.
type BundleHeaderView struct {
	Contributions []string
	BoxKey        string
}

// ImportBundle verifies a bundle — signed by the key of a credential that
// is not revoked, every byte as signed, every batch of the box the
// credential belongs to — and only then stores its events, batch by batch
// (each all or nothing, each idempotent), and signs an acknowledgement.
// Importing a bundle again stores nothing and gives the same answer.
func (h *Store) ImportBundle(ctx context.Context, r io.Reader) (ImportResult, error) {
	b, err := wire.ReadBundle(r, MaxBundle)
	if err != nil {
		return ImportResult{}, bundleError(err)
	}
	id, _, err := h.credential(ctx, b.Header.Credential)
	if err != nil {
		return ImportResult{}, failure.Errorf(failure.Unauthorized, "this bundle is signed by a credential the hub does not know or has revoked")
	}
	if err := b.Verify(id.BundleKey); err != nil {
		return ImportResult{}, failure.Errorf(failure.Unauthorized, "this bundle's signature does not match: it was altered, or made by another box")
	}
	if id.BoxID != "" && id.BoxID != b.Header.BoxID {
		return ImportResult{}, failure.Errorf(failure.Unauthorized, "this bundle names box %s, but its credential belongs to box %s", b.Header.BoxID, id.BoxID)
	}
	// Decode every batch before storing any, so a damaged one refuses the
	// whole bundle.
	lim := wire.DefaultLimits
	batches := make([]wire.Batch, 0, len(b.Batches))
	for i, raw := range b.Batches {
		batch, err := wire.Unmarshal(raw, lim)
		if err != nil {
			return ImportResult{}, bundleError(fmt.Errorf("batch %d: %w", i+1, err))
		}
		if batch.BoxID != b.Header.BoxID {
			return ImportResult{}, failure.Errorf(failure.Invalid, "batch %d of the bundle is of box %s, not %s", i+1, batch.BoxID, b.Header.BoxID)
		}
		batches = append(batches, batch)
	}
	res := ImportResult{header: BundleHeaderView{Contributions: b.Header.Contributions, BoxKey: b.Header.BoxKey}}
	var prior int
	err = h.db.queryRow(ctx, "SELECT count(*) FROM imports WHERE bundle = ?", b.SHA256()).Scan(&prior)
	if err != nil {
		return ImportResult{}, fmt.Errorf("hub: import: %w", err)
	}
	res.Repeat = prior > 0
	now := h.now()
	changed, err := h.noteBundleBoots(ctx, b.Header, now)
	if err != nil {
		return ImportResult{}, err
	}
	stored := 0
	var diverged DivergedError
	var divergedEpoch string
	for i, batch := range batches {
		out, err := h.Ingest(ctx, id, batch, false, len(b.Batches[i]))
		var de *DivergedError
		if errors.As(err, &de) && de.Seq > 0 {
			// The box's history parted from the hub's (restored from a
			// backup by hand): what came before is stored, and the
			// acknowledgement says where, so the box goes on under a new
			// epoch and its next bundle carries the rest.
			diverged, divergedEpoch = *de, batch.Epoch
			break
		}
		if err != nil {
			return ImportResult{}, err
		}
		id.BoxID = batch.BoxID // bound now, if it was not
		stored += out.Stored
	}
	res.box = id
	if err := h.db.inTx(ctx, func(tx *Tx) error { return h.redate(ctx, tx, b.Header.BoxID, changed) }); err != nil {
		return ImportResult{}, err
	}
	streams, err := h.StreamAcks(ctx, b.Header.BoxID)
	if err != nil {
		return ImportResult{}, err
	}
	st, err := h.BoxState(ctx, b.Header.BoxID)
	if err != nil {
		return ImportResult{}, err
	}
	res.Ack = wire.Ack{BoxID: b.Header.BoxID, Credential: id.Credential, Bundle: b.SHA256(), AckedSeq: st.AckedSeq, Stored: stored, HubMS: now.UnixMilli(),
		Streams: streams, DivergedAt: diverged.Seq, DivergedEpoch: divergedEpoch}
	res.Diverged = diverged.Err
	if _, err := h.db.exec(ctx, `INSERT INTO imports (bundle, box_id, acked_seq, stored, imported_ms, diverged_epoch, diverged_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (bundle) DO NOTHING`,
		res.Ack.Bundle, res.Ack.BoxID, res.Ack.AckedSeq, stored, now.UnixMilli(), res.Ack.DivergedEpoch, res.Ack.DivergedAt); err != nil {
		return ImportResult{}, fmt.Errorf("hub: import: %w", err)
	}
	var buf bytes.Buffer
	if err := wire.WriteAck(&buf, res.Ack, h.ackKey); err != nil {
		return ImportResult{}, err
	}
	res.AckFile = buf.Bytes()
	cat, err := h.Catalogue(ctx, id.SchoolID)
	if err != nil {
		return ImportResult{}, err
	}
	for _, p := range cat.Packs {
		have, ok := b.Header.Packs[p.ID]
		if (ok && content.CompareVersions(p.Version, have) > 0) || (!ok && p.Required) {
			res.Packs = append(res.Packs, p)
		}
	}
	return res, nil
}

// noteBundleBoots keeps what a bundle tells of the box's boots: the box's
// estimates, and that the boot it was written in began at the latest when
// the hub imports it less the time since boot it was written at. It
// returns the boots whose dating may have changed.
func (h *Store) noteBundleBoots(ctx context.Context, hd wire.BundleHeader, now time.Time) ([]string, error) {
	before := map[string]int64{}
	if hd.Created.BootID != "" && hd.Created.MonoMS >= 0 && len(hd.Created.BootID) <= 64 {
		before[hd.Created.BootID] = now.UnixMilli() - hd.Created.MonoMS
	}
	var changed []string
	err := h.db.inTx(ctx, func(tx *Tx) error {
		var err error
		changed, err = h.noteBoots(ctx, tx, hd.BoxID, hd.Boots, before)
		return err
	})
	return changed, err
}

// bundleError classifies a bundle that cannot be read.
func bundleError(err error) error {
	switch {
	case errors.Is(err, wire.ErrBadSignature):
		return failure.Wrap(failure.Unauthorized, err, "the bundle was altered or damaged: "+err.Error())
	case errors.Is(err, wire.ErrTooLarge):
		return failure.Wrap(failure.TooLarge, err, err.Error())
	}
	return failure.Wrap(failure.Invalid, err, "not a valid bundle: "+err.Error())
}

// AckFor signs again the acknowledgement of a bundle imported before, with
// the box's cursor as it stands now.
func (h *Store) AckFor(ctx context.Context, bundle string) (wire.Ack, []byte, error) {
	var a wire.Ack
	var stored int
	err := h.db.queryRow(ctx, "SELECT box_id, stored, diverged_epoch, diverged_at FROM imports WHERE bundle = ?", bundle).Scan(&a.BoxID, &stored, &a.DivergedEpoch, &a.DivergedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return wire.Ack{}, nil, failure.Errorf(failure.NotFound, "no bundle %s was imported", bundle)
	}
	if err != nil {
		return wire.Ack{}, nil, fmt.Errorf("hub: import: %w", err)
	}
	st, err := h.BoxState(ctx, a.BoxID)
	if err != nil {
		return wire.Ack{}, nil, err
	}
	if err := h.db.queryRow(ctx, "SELECT id FROM credentials WHERE box_id = ? AND revoked_ms = 0 ORDER BY created_ms DESC LIMIT 1", a.BoxID).Scan(&a.Credential); err != nil {
		return wire.Ack{}, nil, failure.Errorf(failure.NotFound, "box %s has no credential in use", a.BoxID)
	}
	a.Bundle, a.AckedSeq, a.Stored, a.HubMS = bundle, st.AckedSeq, stored, h.now().UnixMilli()
	if a.Streams, err = h.StreamAcks(ctx, a.BoxID); err != nil {
		return wire.Ack{}, nil, err
	}
	if a.Contributions, err = h.bundleContributions(ctx, bundle); err != nil {
		return wire.Ack{}, nil, err
	}
	var buf bytes.Buffer
	if err := wire.WriteAck(&buf, a, h.ackKey); err != nil {
		return wire.Ack{}, nil, err
	}
	return a, buf.Bytes(), nil
}
