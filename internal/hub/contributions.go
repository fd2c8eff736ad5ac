package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Contributions: the packs a school box's teachers made (the teacher
// studio), signed by the box's own key under ids in its namespace, sent by
// the box with its sync or on a USB stick (docs/sync-protocol.md,
// "Contributions"). The hub binds a box's key to the box on its first
// contribution, and takes only packs that key signed, in its namespace,
// whole (every file's hash) and loadable by a box (content.Archive.Check).
// The operator previews them, and may publish one, re-signed with the
// programme's key, for all schools, a region or a school
// (contribpages.go).

// MaxContribution is the largest pack archive a box may contribute.
const MaxContribution = 64 << 20

// Contribution is a pack a box sent, as the operator sees it.
type Contribution struct {
	SHA256, BoxID, SchoolID, School, KeyID string
	PackID, Version, Kind, Title           string
	Size                                   int64
	Received, Published                    time.Time // Published is zero until published
}

// ContributeResult says what Contribute did: the hub holds the archive
// with this SHA-256 (Known: it held it already).
type ContributeResult = wire.ContributionResponse

// BoundKey is the key a box contributes with, as bound by its first
// contribution.
type BoundKey struct {
	BoxID, SchoolID, School string
	Key                     content.PublicKey
	Bound                   time.Time
}

// Contribute checks a pack a box sent and keeps it. boxKey is the box's
// public key line: bound to the box the first time, and refused when it
// differs from the key bound. The pack must be signed by that key, have an
// id in its namespace, hold every file its manifest lists with the right
// hash, and load as a box would load it. Sending a pack again stores
// nothing (Known).
func (h *Store) Contribute(ctx context.Context, id BoxIdentity, boxKey string, archive []byte) (ContributeResult, error) {
	if id.BoxID == "" {
		return ContributeResult{}, failure.Errorf(failure.Conflict, "this credential has sent no events yet; send them first, then the contributions")
	}
	if len(archive) > MaxContribution {
		return ContributeResult{}, failure.Errorf(failure.TooLarge, "a contribution is %d bytes, more than the %d the hub takes", len(archive), MaxContribution)
	}
	k, err := content.ParsePublicKey(boxKey)
	if err != nil {
		return ContributeResult{}, failure.Wrap(failure.Invalid, err, "the box's key: "+err.Error())
	}
	sum := sha256.Sum256(archive)
	res := ContributeResult{SHA256: hex.EncodeToString(sum[:])}
	// Checked whole before anything is kept: a refused pack binds no key.
	kr := content.NewKeyring()
	kr.AddBox(content.BoxKey{Key: k, BoxID: id.BoxID})
	a, err := content.VerifyArchive(bytes.NewReader(archive), int64(len(archive)), kr, content.DefaultLimits)
	if err != nil {
		return ContributeResult{}, fmt.Errorf("hub: contribution refused: %w", err)
	}
	m := &a.Manifest
	res.ID, res.Version = m.ID, m.Version
	if err := h.bindBoxKey(ctx, id, k); err != nil {
		return ContributeResult{}, err
	}
	var n int
	if err := h.db.queryRow(ctx, "SELECT count(*) FROM contributions WHERE sha256 = ?", res.SHA256).Scan(&n); err != nil {
		return ContributeResult{}, fmt.Errorf("hub: contribution: %w", err)
	}
	if n > 0 {
		res.Known = true
		return res, nil
	}
	ins, err := h.db.exec(ctx, `INSERT INTO contributions (sha256, box_id, school_id, key_id, pack_id, version, kind, title, size, archive, received_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		res.SHA256, id.BoxID, id.SchoolID, k.ID, m.ID, m.Version, packKind(m), m.Title[m.Languages[0]], len(archive), archive, h.now().UnixMilli())
	if err != nil {
		return ContributeResult{}, fmt.Errorf("hub: contribution: %w", err)
	}
	if n, _ := ins.RowsAffected(); n == 0 {
		res.Known = true // sent at the same moment, and stored by the other
	}
	return res, nil
}

// packKind says what a contributed pack holds: "set" (exercises only),
// "lesson" (lessons only) or "pack".
func packKind(m *content.Manifest) string {
	switch {
	case len(m.Sets) > 0 && len(m.Lessons) == 0:
		return "set"
	case len(m.Lessons) > 0 && len(m.Sets) == 0:
		return "lesson"
	}
	return "pack"
}

// bindBoxKey binds k to the box on its first contribution, and refuses
// another key later.
func (h *Store) bindBoxKey(ctx context.Context, id BoxIdentity, k content.PublicKey) error {
	return h.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO box_keys (box_id, key_id, public_key, bound_ms) VALUES (?, ?, ?, ?) ON CONFLICT (box_id) DO NOTHING",
			id.BoxID, k.ID, k.String(), h.now().UnixMilli()); err != nil {
			return fmt.Errorf("hub: box key: %w", err)
		}
		var bound string
		if err := tx.queryRow(ctx, "SELECT key_id FROM box_keys WHERE box_id = ?", id.BoxID).Scan(&bound); err != nil {
			return fmt.Errorf("hub: box key: %w", err)
		}
		if bound != k.ID {
			return failure.Errorf(failure.Conflict,
				"box %s contributes with key %s, but its contributions so far came with key %s; the hub's operator must reset the box's key (Contributions page) before it takes this one",
				id.BoxID, content.Fingerprint(k), content.Fingerprint(content.PublicKey{ID: bound}))
		}
		return nil
	})
}

// ResetBoxKey forgets the key bound to a box: its next contribution binds
// the key it comes with.
func (h *Store) ResetBoxKey(ctx context.Context, boxID string) error {
	res, err := h.db.exec(ctx, "DELETE FROM box_keys WHERE box_id = ?", boxID)
	if err != nil {
		return fmt.Errorf("hub: box key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return failure.Errorf(failure.NotFound, "no key is bound to box %s", boxID)
	}
	return nil
}

// BoundKeys lists the keys bound to boxes.
func (h *Store) BoundKeys(ctx context.Context) ([]BoundKey, error) {
	rows, err := h.db.query(ctx, `SELECT k.box_id, coalesce(c.school_id, ''), coalesce(s.name, ''), k.public_key, k.bound_ms FROM box_keys k
		LEFT JOIN (SELECT DISTINCT box_id, school_id FROM credentials) c ON c.box_id = k.box_id
		LEFT JOIN schools s ON s.id = c.school_id ORDER BY s.name, k.box_id`)
	if err != nil {
		return nil, fmt.Errorf("hub: box keys: %w", err)
	}
	defer rows.Close()
	var out []BoundKey
	for rows.Next() {
		var b BoundKey
		var line string
		var ms int64
		if err := rows.Scan(&b.BoxID, &b.SchoolID, &b.School, &line, &ms); err != nil {
			return nil, err
		}
		if b.Key, err = content.ParsePublicKey(line); err != nil {
			return nil, fmt.Errorf("hub: box key of %s: %w", b.BoxID, err)
		}
		b.Bound = time.UnixMilli(ms)
		if len(out) > 0 && out[len(out)-1].BoxID == b.BoxID {
			continue // a box moved schools: one row
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

const contributionColumns = `c.sha256, c.box_id, c.school_id, coalesce(s.name, ''), c.key_id, c.pack_id, c.version, c.kind, c.title, c.size, c.received_ms, c.published_ms
	FROM contributions c LEFT JOIN schools s ON s.id = c.school_id`

func scanContribution(sc interface{ Scan(...any) error }) (Contribution, error) {
	var c Contribution
	var rec, pub int64
	if err := sc.Scan(&c.SHA256, &c.BoxID, &c.SchoolID, &c.School, &c.KeyID, &c.PackID, &c.Version, &c.Kind, &c.Title, &c.Size, &rec, &pub); err != nil {
		return Contribution{}, err
	}
	c.Received = time.UnixMilli(rec)
	if pub > 0 {
		c.Published = time.UnixMilli(pub)
	}
	return c, nil
}

// Contributions lists the packs boxes sent, newest first.
func (h *Store) Contributions(ctx context.Context) ([]Contribution, error) {
	rows, err := h.db.query(ctx, "SELECT "+contributionColumns+" ORDER BY c.received_ms DESC, c.sha256")
	if err != nil {
		return nil, fmt.Errorf("hub: contributions: %w", err)
	}
	defer rows.Close()
	var out []Contribution
	for rows.Next() {
		c, err := scanContribution(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contribution returns a contribution and its archive.
func (h *Store) Contribution(ctx context.Context, sha string) (Contribution, []byte, error) {
	c, err := scanContribution(h.db.queryRow(ctx, "SELECT "+contributionColumns+" WHERE c.sha256 = ?", sha))
	if errors.Is(err, sql.ErrNoRows) {
		return Contribution{}, nil, failure.Errorf(failure.NotFound, "no contribution %s", sha)
	}
	if err != nil {
		return Contribution{}, nil, fmt.Errorf("hub: contribution: %w", err)
	}
	var archive []byte
	if err := h.db.queryRow(ctx, "SELECT archive FROM contributions WHERE sha256 = ?", sha).Scan(&archive); err != nil {
		return Contribution{}, nil, fmt.Errorf("hub: contribution: %w", err)
	}
	return c, archive, nil
}

// PublishContribution publishes a contribution re-signed by signer (the
// programme's key, which kr must trust): the same manifest, so the same
// pack id and version, under the programme's signature; required for the
// schools reqs name. Boxes then install it from the catalogue as any
// published pack, whether or not they trust the box that made it.
func (h *Store) PublishContribution(ctx context.Context, sha string, signer *content.Signer, kr *content.Keyring, reqs []Requirement) (PublishResult, error) {
	if signer == nil {
		return PublishResult{}, failure.Errorf(failure.Unavailable, "this hub has no signing key (stembox hub --signing-key FILE); re-sign the pack offline and publish it on the packs page")
	}
	_, archive, err := h.Contribution(ctx, sha)
	if err != nil {
		return PublishResult{}, err
	}
	resigned, err := Resign(archive, signer)
	if err != nil {
		return PublishResult{}, err
	}
	res, err := h.Publish(ctx, bytes.NewReader(resigned), int64(len(resigned)), kr, reqs)
	if err != nil {
		return PublishResult{}, err
	}
	if _, err := h.db.exec(ctx, "UPDATE contributions SET published_ms = ? WHERE sha256 = ?", h.now().UnixMilli(), sha); err != nil {
		return PublishResult{}, fmt.Errorf("hub: contribution: %w", err)
	}
	return res, nil
}

// Resign returns a pack archive signed by signer instead (content.Resign).
func Resign(archive []byte, signer *content.Signer) ([]byte, error) {
	a, err := content.InspectArchive(bytes.NewReader(archive), int64(len(archive)), content.DefaultLimits)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := content.Resign(&buf, a, signer); err != nil {
		return nil, fmt.Errorf("hub: re-sign: %w", err)
	}
	return buf.Bytes(), nil
}

// bundleContributions are the contributions a USB bundle brought that the
// hub took (TakeContributions), for its acknowledgement.
func (h *Store) bundleContributions(ctx context.Context, bundle string) ([]string, error) {
	rows, err := h.db.query(ctx, "SELECT sha256 FROM bundle_contributions WHERE bundle = ? ORDER BY sha256", bundle)
	if err != nil {
		return nil, fmt.Errorf("hub: import: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			return nil, err
		}
		out = append(out, sha)
	}
	return out, rows.Err()
}
