-- The teacher studio (docs/studio.md): drafts of exercise sets and lessons
-- that teachers write on the box, every saved change of them, what was
-- published of them, and their pictures.

-- One row a draft: its current revision and document (JSON, studio.Doc).
CREATE TABLE studio_drafts (
    id          TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('set', 'lesson')),
    rev         INTEGER NOT NULL,
    doc         TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX studio_drafts_owner ON studio_drafts (owner, updated_ms);

-- Every saved change: the last 100 saves of a draft, and the undos made
-- since the oldest of them. undo_to is the revision whose document comes
-- before this one on the way back (0: none): a save's is the revision it
-- was based on, an undo's is that of the revision it went back to, so
-- undoing twice goes two steps back.
CREATE TABLE studio_revisions (
    draft       TEXT    NOT NULL REFERENCES studio_drafts(id) ON DELETE CASCADE,
    rev         INTEGER NOT NULL,
    undo_to     INTEGER NOT NULL,
    is_undo     INTEGER NOT NULL,
    doc         TEXT    NOT NULL,
    saved_ms    INTEGER NOT NULL,
    PRIMARY KEY (draft, rev)
) STRICT;

-- Published versions. They outlive a deleted draft: the packs stay
-- installed and answers keep pointing at them.
CREATE TABLE studio_versions (
    draft        TEXT    NOT NULL,
    major        INTEGER NOT NULL,
    version      TEXT    NOT NULL,
    rev          INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    published_ms INTEGER NOT NULL,
    PRIMARY KEY (draft, major)
) STRICT;

-- Pictures, cleaned and re-encoded on the box, named by the SHA-256 of
-- their bytes (so one picture used twice is kept once).
CREATE TABLE studio_media (
    name         TEXT    PRIMARY KEY,
    owner        TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    created_ms   INTEGER NOT NULL
) STRICT;
