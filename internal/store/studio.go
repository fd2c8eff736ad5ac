package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/studio"
)

// The teacher studio's drafts (docs/studio.md). Every change is written
// through the group commit, so it is on disk before the call returns: the
// page says "saved" only then.

// keptRevisions is how many saved changes of a draft are kept for undo
// (undos do not count: they only walk back along the saves).
const keptRevisions = 100

// CreateDraft stores a new draft of kind (studio.KindSet or KindLesson)
// owned by owner, at revision 1.
func (db *DB) CreateDraft(ctx context.Context, owner, kind string, doc studio.Doc) (studio.Draft, error) {
	if owner == "" {
		return studio.Draft{}, failure.Errorf(failure.Invalid, "a draft needs an owner")
	}
	b, err := studio.Encode(doc, kind)
	if err != nil {
		return studio.Draft{}, err
	}
	now := time.UnixMilli(db.clock.Now().Wall.UnixMilli())
	d := studio.Draft{ID: studio.NewID(), Owner: owner, Kind: kind, Rev: 1, Doc: doc, Updated: now}
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO studio_drafts (id, owner, kind, rev, doc, created_ms, updated_ms) VALUES (?, ?, ?, 1, ?, ?, ?)`,
			d.ID, owner, kind, string(b), now.UnixMilli(), now.UnixMilli()); err != nil {
			return fmt.Errorf("store: create draft: %w", err)
		}
		return addRevision(ctx, tx, d.ID, 1, 0, false, b, now)
	})
	if err != nil {
		return studio.Draft{}, err
	}
	return d, nil
}

// addRevision adds a draft's revision rev, a save or an undo, and forgets
// the revisions older than the last keptRevisions saves.
func addRevision(ctx context.Context, tx *sql.Tx, id string, rev, undoTo int64, undo bool, doc []byte, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO studio_revisions (draft, rev, undo_to, is_undo, doc, saved_ms) VALUES (?, ?, ?, ?, ?, ?)`,
		id, rev, undoTo, undo, string(doc), now.UnixMilli()); err != nil {
		return fmt.Errorf("store: draft revision: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM studio_revisions WHERE draft = ? AND rev <
		(SELECT rev FROM studio_revisions WHERE draft = ? AND is_undo = 0 ORDER BY rev DESC LIMIT 1 OFFSET ?)`, id, id, keptRevisions-1); err != nil {
		return fmt.Errorf("store: prune draft revisions: %w", err)
	}
	return nil
}

// Draft returns a draft with its published versions; failure.NotFound if
// there is none with that id.
func (db *DB) Draft(ctx context.Context, id string) (studio.Draft, error) {
	row := db.read.QueryRowContext(ctx, `SELECT id, owner, kind, rev, doc, updated_ms FROM studio_drafts WHERE id = ?`, id)
	d, err := scanDraft(row)
	if errors.Is(err, sql.ErrNoRows) {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no draft %q", id)
	}
	if err != nil {
		return studio.Draft{}, fmt.Errorf("store: draft %s: %w", id, err)
	}
	if d.Versions, err = db.DraftVersions(ctx, id); err != nil {
		return studio.Draft{}, err
	}
	return d, nil
}

func scanDraft(row interface{ Scan(...any) error }) (studio.Draft, error) {
	var d studio.Draft
	var doc string
	var updated int64
	if err := row.Scan(&d.ID, &d.Owner, &d.Kind, &d.Rev, &doc, &updated); err != nil {
		return studio.Draft{}, err
	}
	if err := json.Unmarshal([]byte(doc), &d.Doc); err != nil {
		return studio.Draft{}, fmt.Errorf("draft %s: %w", d.ID, err)
	}
	d.Updated = time.UnixMilli(updated)
	return d, nil
}

// Drafts returns owner's drafts, or everyone's for owner "" (admins), the
// most recently changed first, each with its published versions.
func (db *DB) Drafts(ctx context.Context, owner string) ([]studio.Draft, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, owner, kind, rev, doc, updated_ms FROM studio_drafts
		WHERE ? = '' OR owner = ? ORDER BY updated_ms DESC, id`, owner, owner)
	if err != nil {
		return nil, fmt.Errorf("store: drafts: %w", err)
	}
	defer rows.Close()
	var out []studio.Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, fmt.Errorf("store: drafts: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: drafts: %w", err)
	}
	for i := range out {
		if out[i].Versions, err = db.DraftVersions(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// currentRev reads a draft in tx (its document left out): NotFound if it
// is gone, and Conflict if its revision is not baseRev.
func currentRev(ctx context.Context, tx *sql.Tx, id string, baseRev int64) (studio.Draft, error) {
	d := studio.Draft{ID: id}
	err := tx.QueryRowContext(ctx, `SELECT owner, kind, rev FROM studio_drafts WHERE id = ?`, id).Scan(&d.Owner, &d.Kind, &d.Rev)
	if errors.Is(err, sql.ErrNoRows) {
		return d, failure.Errorf(failure.NotFound, "no draft %q", id)
	}
	if err != nil {
		return d, fmt.Errorf("store: draft %s: %w", id, err)
	}
	if d.Rev != baseRev {
		return d, failure.Errorf(failure.Conflict, "the draft was changed elsewhere (revision %d, not %d): reload it", d.Rev, baseRev)
	}
	return d, nil
}

// SaveDraft stores doc as the draft's next revision, if baseRev is its
// current revision (else failure.Conflict: another tab or device saved
// first, and nothing is written). It returns once the change is on disk.
// A doc past studio.Limits is failure.Invalid (with studio.Problems), and
// nothing is written.
func (db *DB) SaveDraft(ctx context.Context, id string, baseRev int64, doc studio.Doc) (studio.Draft, error) {
	var kind string
	if err := db.read.QueryRowContext(ctx, `SELECT kind FROM studio_drafts WHERE id = ?`, id).Scan(&kind); errors.Is(err, sql.ErrNoRows) {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no draft %q", id)
	} else if err != nil {
		return studio.Draft{}, fmt.Errorf("store: draft %s: %w", id, err)
	}
	b, err := studio.Encode(doc, kind) // outside the write: the committer waits for no one's JSON
	if err != nil {
		return studio.Draft{}, err
	}
	var d studio.Draft
	err = db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if d, err = currentRev(ctx, tx, id, baseRev); err != nil {
			return err
		}
		d.Doc = doc
		return db.setDraftTx(ctx, tx, &d, baseRev, false, b)
	})
	if err != nil {
		return studio.Draft{}, err
	}
	if d.Versions, err = db.DraftVersions(ctx, id); err != nil {
		return studio.Draft{}, err
	}
	return d, nil
}

// setDraftTx makes doc (d.Doc encoded) the draft's next revision, a save
// or an undo, whose undo goes back to undoTo, and sets d's Rev and Updated.
func (db *DB) setDraftTx(ctx context.Context, tx *sql.Tx, d *studio.Draft, undoTo int64, undo bool, doc []byte) error {
	now := time.UnixMilli(db.clock.Now().Wall.UnixMilli())
	d.Rev++
	d.Updated = now
	if _, err := tx.ExecContext(ctx, `UPDATE studio_drafts SET rev = ?, doc = ?, updated_ms = ? WHERE id = ?`,
		d.Rev, string(doc), now.UnixMilli(), d.ID); err != nil {
		return fmt.Errorf("store: save draft: %w", err)
	}
	return addRevision(ctx, tx, d.ID, d.Rev, undoTo, undo, doc, now)
}

// UndoDraft takes back the change that made revision rev, the current one:
// it stores, as a new revision, the document from before it. Undoing again
// goes one more change back. failure.Conflict if rev is not the current
// revision; failure.NotFound if there is nothing to undo (the draft's first
// revision, or the older ones no longer kept).
func (db *DB) UndoDraft(ctx context.Context, id string, rev int64) (studio.Draft, error) {
	var d studio.Draft
	err := db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if d, err = currentRev(ctx, tx, id, rev); err != nil {
			return err
		}
		var back int64
		if err := tx.QueryRowContext(ctx, `SELECT undo_to FROM studio_revisions WHERE draft = ? AND rev = ?`, id, rev).Scan(&back); err != nil {
			return fmt.Errorf("store: undo draft: %w", err)
		}
		var undoTo int64
		var doc string
		err = tx.QueryRowContext(ctx, `SELECT undo_to, doc FROM studio_revisions WHERE draft = ? AND rev = ?`, id, back).Scan(&undoTo, &doc)
		if back == 0 || errors.Is(err, sql.ErrNoRows) {
			return failure.Errorf(failure.NotFound, "nothing more to undo")
		}
		if err != nil {
			return fmt.Errorf("store: undo draft: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &d.Doc); err != nil {
			return fmt.Errorf("store: undo draft %s: %w", id, err)
		}
		return db.setDraftTx(ctx, tx, &d, undoTo, true, []byte(doc))
	})
	if err != nil {
		return studio.Draft{}, err
	}
	if d.Versions, err = db.DraftVersions(ctx, id); err != nil {
		return studio.Draft{}, err
	}
	return d, nil
}

// DeleteDraft deletes a draft and its revisions. What was published of it
// stays: its packs stay installed, and answers keep pointing at them.
func (db *DB) DeleteDraft(ctx context.Context, id string) error {
	return db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM studio_drafts WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("store: delete draft: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no draft %q", id)
		}
		return nil
	})
}

// RecordPublish records a published version of a draft, the next major
// version ("1.0.0", "2.0.0", …), and its studio.published event by actor
// ("user:ID"), in one transaction, returning once both are on disk.
// failure.Conflict if v.Version is not the next one (two publishes at
// once: the second must build again).
func (db *DB) RecordPublish(ctx context.Context, actor, id string, v studio.Version, p event.StudioPublished) error {
	major, err := studio.Major(v.Version)
	if err != nil {
		return failure.Wrap(failure.Invalid, err, err.Error())
	}
	payload, err := event.Marshal(p)
	if err != nil {
		return failure.Wrap(failure.Invalid, err, err.Error())
	}
	return db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(major), 0) FROM studio_versions WHERE draft = ?`, id).Scan(&last); err != nil {
			return fmt.Errorf("store: draft versions: %w", err)
		}
		if major != last+1 {
			return failure.Errorf(failure.Conflict, "version %s of %s is not the next one (%d.0.0)", v.Version, id, last+1)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO studio_versions (draft, major, version, rev, sha256, published_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			id, major, v.Version, v.Rev, v.SHA256, v.Published.UnixMilli()); err != nil {
			return fmt.Errorf("store: add draft version: %w", err)
		}
		ev := event.Event{ID: db.NewID(), Kind: p.EventKind(), Actor: actor, Payload: payload}
		return db.appendEvent(ctx, tx, &ev)
	})
}

// DraftVersions returns what was published of a draft, oldest first (also
// after the draft was deleted).
func (db *DB) DraftVersions(ctx context.Context, id string) ([]studio.Version, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT version, rev, sha256, published_ms FROM studio_versions WHERE draft = ? ORDER BY major`, id)
	if err != nil {
		return nil, fmt.Errorf("store: draft versions: %w", err)
	}
	defer rows.Close()
	var out []studio.Version
	for rows.Next() {
		var v studio.Version
		var ms int64
		if err := rows.Scan(&v.Version, &v.Rev, &v.SHA256, &ms); err != nil {
			return nil, fmt.Errorf("store: draft versions: %w", err)
		}
		v.Published = time.UnixMilli(ms)
		out = append(out, v)
	}
	return out, rows.Err()
}

// mediaName is a picture's name: the SHA-256 of its bytes and its type's
// extension.
var mediaName = regexp.MustCompile(`^[0-9a-f]{64}\.(jpg|png)$`)

var mediaTypes = map[string]string{".jpg": "image/jpeg", ".png": "image/png"}

// MaxMediaBytes bounds one stored picture (they are re-encoded and scaled
// down before, so they are far smaller).
const MaxMediaBytes = 8 << 20

// PutMedia stores a picture (already cleaned, internal/picture) under name,
// "<sha256 of data>.jpg" or ".png", with the content type of that
// extension. Storing the same picture again is a no-op. It returns once
// the picture is on disk.
func (db *DB) PutMedia(ctx context.Context, owner, name, contentType string, data []byte) error {
	if !mediaName.MatchString(name) {
		return failure.Errorf(failure.Invalid, "a picture's name is its SHA-256 and .jpg or .png, not %q", name)
	}
	ext := name[strings.LastIndexByte(name, '.'):]
	if mediaTypes[ext] != contentType {
		return failure.Errorf(failure.Invalid, "a %s picture is %s, not %q", ext, mediaTypes[ext], contentType)
	}
	if len(data) > MaxMediaBytes {
		return failure.Errorf(failure.TooLarge, "a picture may have at most %d MB", MaxMediaBytes>>20)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != strings.TrimSuffix(name, ext) {
		return failure.Errorf(failure.Invalid, "the picture's name %s is not the SHA-256 of its bytes", name)
	}
	now := db.clock.Now().Wall.UnixMilli()
	return db.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO studio_media (name, owner, content_type, data, created_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, owner, contentType, data, now); err != nil {
			return fmt.Errorf("store: put media: %w", err)
		}
		return nil
	})
}

// Media returns a stored picture and its content type; failure.NotFound if
// there is none of that name.
func (db *DB) Media(ctx context.Context, name string) (data []byte, contentType string, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT data, content_type FROM studio_media WHERE name = ?`, name).Scan(&data, &contentType)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", failure.Errorf(failure.NotFound, "no picture %q", name)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: media %s: %w", name, err)
	}
	return data, contentType, nil
}
