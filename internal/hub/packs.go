package hub

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Content distribution. A published pack is kept as its signed manifest
// plus its files as blobs addressed by SHA-256, in chunks in the database
// (every hub process sharing a PostgreSQL database serves them, and a range
// request reads only the chunks it needs). A box fetches the manifest,
// then only the files whose hash it lacks, and puts the archive together
// itself (content.WriteArchive): the pack's signature covers the manifest,
// the manifest every file's hash, so nothing the hub serves needs trusting.

// chunkSize is the size of a blob chunk.
const chunkSize = 1 << 20

// Requirement says which schools must have a pack: Scope "all", "region"
// (Value: a region) or "school" (Value: a school id).
type Requirement struct {
	Scope, Value string
}

// PublishResult says what Publish did.
type PublishResult struct {
	ID, Version string
	Files       int   // files of the pack
	NewFiles    int   // of those, files the hub did not hold yet
	NewBytes    int64 // their bytes
	Unchanged   bool  // that exact pack was published already
}

func checkRequirement(r Requirement) error {
	switch r.Scope {
	case "all":
		return nil
	case "region", "school":
		if r.Value != "" {
			return nil
		}
	}
	return failure.Errorf(failure.Invalid, "a requirement is for all schools, a region or a school, not %q %q", r.Scope, r.Value)
}

// Publish verifies a pack archive against the trusted keys kr (signature,
// manifest, every file's hash, and the complete load check a box makes:
// content.Archive.Check) and makes it available to boxes,
// required for the schools reqs name. Publishing the same pack again only
// adds requirements; another pack under a published version is refused.
func (h *Store) Publish(ctx context.Context, r io.ReaderAt, size int64, kr *content.Keyring, reqs []Requirement) (PublishResult, error) {
	for _, rq := range reqs {
		if err := checkRequirement(rq); err != nil {
			return PublishResult{}, err
		}
	}
	// Every file of every publish is read and checked, and the pack loaded
	// as a box would, before anything is stored: a blob already held (say,
	// by an earlier publish that failed) vouches for nothing in this one.
	if err := h.trustListed(ctx, kr); err != nil { // keys the boxes learn from the key list
		return PublishResult{}, err
	}
	a, err := content.VerifyArchive(r, size, kr, content.DefaultLimits)
	if err != nil {
		return PublishResult{}, fmt.Errorf("hub: publish refused, no box could load this pack: %w", err)
	}
	m := a.Manifest
	res := PublishResult{ID: m.ID, Version: m.Version, Files: len(m.Files)}
	sum := sha256.Sum256(a.ManifestBytes)
	manifestHash := hex.EncodeToString(sum[:])
	var have string
	err = h.db.queryRow(ctx, "SELECT manifest_sha256 FROM packs WHERE id = ? AND version = ?", m.ID, m.Version).Scan(&have)
	switch {
	case err == nil && have != manifestHash:
		return PublishResult{}, failure.Errorf(failure.Conflict, "%s %s is published already with other content; publish it under a new version", m.ID, m.Version)
	case err == nil:
		res.Unchanged = true
	case !errors.Is(err, sql.ErrNoRows):
		return PublishResult{}, fmt.Errorf("hub: publish: %w", err)
	}
	// Each file is its own transaction, so a large pack does not hold the
	// database for long; a file already held (by this or another pack) is
	// not stored twice. Files of a publish that fails half way stay, unused
	// and harmless.
	for _, f := range m.Files {
		stored, err := h.storeBlob(ctx, a, f)
		if err != nil {
			return PublishResult{}, err
		}
		if stored {
			res.NewFiles++
			res.NewBytes += f.Size
		}
	}
	title := m.Title[m.Languages[0]]
	err = h.db.inTx(ctx, func(tx *Tx) error {
		if !res.Unchanged {
			if _, err := tx.exec(ctx, `INSERT INTO packs (id, version, manifest, signature, manifest_sha256, key_id, subject, title, size, published_ms)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.Version, a.ManifestBytes, a.Signature, manifestHash, a.KeyID, m.Subject, title,
				m.TotalSize(), h.now().UnixMilli()); err != nil {
				if isUnique(err) {
					return failure.Errorf(failure.Conflict, "%s %s was published at the same moment by someone else", m.ID, m.Version)
				}
				return fmt.Errorf("hub: publish: %w", err)
			}
			if _, err := tx.exec(ctx, `INSERT INTO pack_info (pack_id, subject, title) VALUES (?, ?, ?)
				ON CONFLICT (pack_id) DO UPDATE SET subject = excluded.subject, title = excluded.title, published = 1`, m.ID, m.Subject, title); err != nil {
				return fmt.Errorf("hub: publish: %w", err)
			}
		}
		for _, rq := range reqs {
			if err := h.require(ctx, tx, m.ID, rq); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func (h *Store) require(ctx context.Context, tx *Tx, pack string, rq Requirement) error {
	if rq.Scope == "all" {
		rq.Value = ""
	}
	if _, err := tx.exec(ctx, "INSERT INTO pack_requirements (pack_id, scope, value) VALUES (?, ?, ?) ON CONFLICT (pack_id, scope, value) DO NOTHING",
		pack, rq.Scope, rq.Value); err != nil {
		return fmt.Errorf("hub: require pack: %w", err)
	}
	return nil
}

// SetRequirement makes a published pack required (on) or not (off) for the
// schools rq names.
func (h *Store) SetRequirement(ctx context.Context, pack string, rq Requirement, on bool) error {
	if err := checkRequirement(rq); err != nil {
		return err
	}
	return h.db.inTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, "SELECT count(*) FROM packs WHERE id = ?", pack).Scan(&n); err != nil {
			return fmt.Errorf("hub: require pack: %w", err)
		}
		if n == 0 {
			return failure.Errorf(failure.NotFound, "no pack %s is published", pack)
		}
		if on {
			return h.require(ctx, tx, pack, rq)
		}
		if rq.Scope == "all" {
			rq.Value = ""
		}
		_, err := tx.exec(ctx, "DELETE FROM pack_requirements WHERE pack_id = ? AND scope = ? AND value = ?", pack, rq.Scope, rq.Value)
		return err
	})
}

// storeBlob stores a pack file as a blob unless it is held already,
// checking its hash as it reads.
func (h *Store) storeBlob(ctx context.Context, a *content.Archive, f content.File) (bool, error) {
	var n int
	if err := h.db.queryRow(ctx, "SELECT count(*) FROM blobs WHERE sha256 = ?", f.SHA256).Scan(&n); err != nil {
		return false, fmt.Errorf("hub: publish: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	rc, err := a.Open(f.Path)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	stored := false
	err = h.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "INSERT INTO blobs (sha256, size) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING", f.SHA256, f.Size)
		if err != nil {
			return fmt.Errorf("hub: publish %s: %w", f.Path, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another hub process stored it meanwhile
		}
		buf := make([]byte, chunkSize)
		for i := 0; ; i++ {
			k, err := io.ReadFull(rc, buf)
			if k > 0 || i == 0 {
				if _, err := tx.exec(ctx, "INSERT INTO blob_chunks (sha256, n, data) VALUES (?, ?, ?)", f.SHA256, i, buf[:k]); err != nil {
					return fmt.Errorf("hub: publish %s: %w", f.Path, err)
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err // the file does not match its hash or size: nothing is kept
			}
		}
		stored = true
		return nil
	})
	return stored, err
}

// PackVersion is a published pack version as the operator sees it.
type PackVersion struct {
	ID, Version, Subject, Title, KeyID, ManifestSHA256 string
	Size                                               int64
	Published                                          time.Time
	Required                                           []Requirement // of the pack id
}

// Packs lists the published packs, newest version first per pack.
func (h *Store) Packs(ctx context.Context) ([]PackVersion, error) {
	rows, err := h.db.query(ctx, "SELECT id, version, subject, title, key_id, manifest_sha256, size, published_ms FROM packs")
	if err != nil {
		return nil, fmt.Errorf("hub: packs: %w", err)
	}
	var out []PackVersion
	for rows.Next() {
		var p PackVersion
		var pub int64
		if err := rows.Scan(&p.ID, &p.Version, &p.Subject, &p.Title, &p.KeyID, &p.ManifestSHA256, &p.Size, &pub); err != nil {
			rows.Close()
			return nil, err
		}
		p.Published = time.UnixMilli(pub)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	reqs, err := h.requirements(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Required = reqs[out[i].ID]
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return content.CompareVersions(out[i].Version, out[j].Version) > 0
	})
	return out, nil
}

func (h *Store) requirements(ctx context.Context) (map[string][]Requirement, error) {
	rows, err := h.db.query(ctx, "SELECT pack_id, scope, value FROM pack_requirements ORDER BY pack_id, scope, value")
	if err != nil {
		return nil, fmt.Errorf("hub: requirements: %w", err)
	}
	defer rows.Close()
	out := map[string][]Requirement{}
	for rows.Next() {
		var id string
		var r Requirement
		if err := rows.Scan(&id, &r.Scope, &r.Value); err != nil {
			return nil, err
		}
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}

// Catalogue returns the newest version of each published pack, marked
// required where the school must have it.
func (h *Store) Catalogue(ctx context.Context, schoolID string) (wire.Catalogue, error) {
	s, err := h.School(ctx, schoolID)
	if err != nil {
		return wire.Catalogue{}, err
	}
	all, err := h.Packs(ctx)
	if err != nil {
		return wire.Catalogue{}, err
	}
	cat := wire.Catalogue{Packs: []wire.CataloguePack{}}
	for i, p := range all {
		if i > 0 && all[i-1].ID == p.ID {
			continue // an older version
		}
		req := false
		for _, r := range p.Required {
			if r.Scope == "all" || (r.Scope == "region" && r.Value == s.Region) || (r.Scope == "school" && r.Value == s.ID) {
				req = true
			}
		}
		cat.Packs = append(cat.Packs, wire.CataloguePack{ID: p.ID, Version: p.Version, Subject: p.Subject, Title: p.Title, ManifestSHA256: p.ManifestSHA256, Size: p.Size, Required: req})
	}
	return cat, nil
}

// PackManifest returns a published pack's manifest.json and manifest.sig.
func (h *Store) PackManifest(ctx context.Context, id, version string) (manifest, sig []byte, err error) {
	err = h.db.queryRow(ctx, "SELECT manifest, signature FROM packs WHERE id = ? AND version = ?", id, version).Scan(&manifest, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, failure.Errorf(failure.NotFound, "no pack %s %s", id, version)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("hub: pack: %w", err)
	}
	return manifest, sig, nil
}

// WritePackArchive writes a published pack as a .stempack archive (for a
// USB stick).
func (h *Store) WritePackArchive(ctx context.Context, id, version string, w io.Writer) error {
	manifest, sig, err := h.PackManifest(ctx, id, version)
	if err != nil {
		return err
	}
	files := map[string]string{}
	var m content.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("hub: pack %s: %w", id, err)
	}
	for _, f := range m.Files {
		files[f.Path] = f.SHA256
	}
	return content.WriteArchive(w, manifest, sig, func(p string) (io.ReadCloser, error) {
		br, err := h.OpenBlob(ctx, files[p])
		if err != nil {
			return nil, err
		}
		return io.NopCloser(br), nil
	})
}

// BlobReader reads a blob, chunk by chunk, and seeks (for range requests).
type BlobReader struct {
	h      *Store
	ctx    context.Context
	sha    string
	size   int64
	off    int64
	chunk  []byte
	chunkN int64
}

// OpenBlob opens a pack file by its SHA-256 (hex).
func (h *Store) OpenBlob(ctx context.Context, sha string) (*BlobReader, error) {
	var size int64
	err := h.db.queryRow(ctx, "SELECT size FROM blobs WHERE sha256 = ?", sha).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, failure.Errorf(failure.NotFound, "no file %s", sha)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: file: %w", err)
	}
	return &BlobReader{h: h, ctx: ctx, sha: sha, size: size, chunkN: -1}, nil
}

// Size is the blob's size.
func (b *BlobReader) Size() int64 { return b.size }

func (b *BlobReader) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	n := b.off / chunkSize
	if n != b.chunkN {
		var data []byte
		if err := b.h.db.queryRow(b.ctx, "SELECT data FROM blob_chunks WHERE sha256 = ? AND n = ?", b.sha, n).Scan(&data); err != nil {
			return 0, fmt.Errorf("hub: file %s chunk %d: %w", b.sha, n, err)
		}
		b.chunk, b.chunkN = data, n
	}
	at := b.off - n*chunkSize
	if at >= int64(len(b.chunk)) {
		return 0, fmt.Errorf("hub: file %s is shorter than its size", b.sha)
	}
	k := copy(p, b.chunk[at:])
	b.off += int64(k)
	return k, nil
}

// Seek implements io.Seeker.
func (b *BlobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	}
	if offset < 0 {
		return 0, errors.New("hub: seek before the start")
	}
	b.off = offset
	return offset, nil
}
