-- Teachers' packs that boxes send (docs/sync-protocol.md, "Contributions").
-- A box's own key is bound to the box by its first contribution; another
-- key for the same box is refused until the operator resets the binding.
CREATE TABLE box_keys (
    box_id     TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    public_key TEXT NOT NULL,
    bound_ms   INTEGER NOT NULL
) STRICT;

-- One row a pack archive, by its SHA-256: sending it again stores nothing.
CREATE TABLE contributions (
    sha256       TEXT PRIMARY KEY,
    box_id       TEXT NOT NULL,
    school_id    TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    pack_id      TEXT NOT NULL,
    version      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    size         INTEGER NOT NULL,
    archive      BLOB NOT NULL,
    received_ms  INTEGER NOT NULL,
    published_ms INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX contributions_by_time ON contributions (received_ms);

-- The contributions a USB bundle brought that the hub took: its
-- acknowledgement, signed again later (the import page), names them too.
CREATE TABLE bundle_contributions (
    bundle TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (bundle, sha256)
) STRICT;
