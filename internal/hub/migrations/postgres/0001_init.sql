-- The hub's schema (PostgreSQL). migrations/sqlite/0001_init.sql is the same
-- schema for SQLite; keep the two in step.

-- Facts about this hub set once (its acknowledgement signing key, …).
CREATE TABLE hub_facts (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- People who run the hub. They sign in with a token (sbo1.ID.SECRET); only
-- the SHA-256 of its secret is kept.
CREATE TABLE operators (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    created_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE operator_sessions (
    token_hash  TEXT    PRIMARY KEY,
    operator_id TEXT    NOT NULL REFERENCES operators(id),
    csrf        TEXT    NOT NULL,
    expires_ms  BIGINT NOT NULL
);

CREATE TABLE schools (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    created_ms BIGINT NOT NULL
);

-- One-time enrollment tokens: a box turns one into a credential.
CREATE TABLE enroll_tokens (
    token_hash    TEXT    PRIMARY KEY,
    school_id     TEXT    NOT NULL REFERENCES schools(id),
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    used_ms       BIGINT NOT NULL DEFAULT 0,
    credential_id TEXT    NOT NULL DEFAULT ''
);

-- Boxes, with where their events stand. acked_seq is the highest sequence
-- number held contiguously; offset_ms the last measured hub time minus box
-- wall clock.
CREATE TABLE boxes (
    id             TEXT    PRIMARY KEY,
    school_id      TEXT    NOT NULL REFERENCES schools(id),
    name           TEXT    NOT NULL,
    acked_seq      BIGINT NOT NULL DEFAULT 0,
    events         BIGINT NOT NULL DEFAULT 0,
    offset_ms      BIGINT,
    clock_ms       BIGINT NOT NULL DEFAULT 0,
    created_ms     BIGINT NOT NULL,
    last_seen_ms   BIGINT NOT NULL DEFAULT 0,
    bytes_received BIGINT NOT NULL DEFAULT 0,
    batches        BIGINT NOT NULL DEFAULT 0
);

-- A box's credential: the SHA-256 of its secret and the public half of the
-- key it signs bundles with. box_id is '' for a credential made for a box
-- enrolled by file, until its first bundle names the box.
CREATE TABLE credentials (
    id          TEXT    PRIMARY KEY,
    school_id   TEXT    NOT NULL REFERENCES schools(id),
    box_id      TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    bundle_key  TEXT    NOT NULL,
    created_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX credentials_box ON credentials (box_id);

-- When each boot of each box began, in hub time (boot-relative times of
-- its events are then corrected exactly).
CREATE TABLE boots (
    box_id      TEXT    NOT NULL,
    boot_id     TEXT    NOT NULL,
    start_ms    BIGINT NOT NULL,
    observed_ms BIGINT NOT NULL,
    PRIMARY KEY (box_id, boot_id)
);

-- Every box's events as the box wrote them, with the corrected time beside
-- the raw clocks (time_basis: boot, offset or wall; docs/sync-protocol.md).
CREATE TABLE events (
    box_id      TEXT    NOT NULL,
    seq         BIGINT NOT NULL,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    wall_ms     BIGINT NOT NULL,
    boot_id     TEXT    NOT NULL,
    mono_ms     BIGINT NOT NULL,
    payload     TEXT    NOT NULL,
    time_ms     BIGINT NOT NULL,
    time_basis  TEXT    NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (box_id, seq),
    UNIQUE (box_id, id)
);

-- Derived from answer.submitted and live.response events, for reports.
CREATE TABLE answers (
    box_id  TEXT    NOT NULL,
    seq     BIGINT NOT NULL,
    learner TEXT    NOT NULL,
    pack    TEXT    NOT NULL,
    set_id  TEXT    NOT NULL,
    item    TEXT    NOT NULL,
    correct BIGINT NOT NULL,
    time_ms BIGINT NOT NULL,
    PRIMARY KEY (box_id, seq)
);
CREATE INDEX answers_time ON answers (time_ms);

-- Derived from lesson.completed events.
CREATE TABLE lessons_done (
    box_id  TEXT    NOT NULL,
    seq     BIGINT NOT NULL,
    learner TEXT    NOT NULL,
    pack    TEXT    NOT NULL,
    lesson  TEXT    NOT NULL,
    time_ms BIGINT NOT NULL,
    PRIMARY KEY (box_id, seq)
);

-- Derived from student.created and class.created: pseudonymous ids only.
CREATE TABLE learners (
    box_id   TEXT NOT NULL,
    learner  TEXT NOT NULL,
    class_id TEXT NOT NULL,
    gender   TEXT NOT NULL,
    PRIMARY KEY (box_id, learner)
);

CREATE TABLE classes (
    box_id   TEXT    NOT NULL,
    class_id TEXT    NOT NULL,
    grade    BIGINT NOT NULL,
    PRIMARY KEY (box_id, class_id)
);

-- Published packs: each version's signed manifest; files are blobs.
CREATE TABLE packs (
    id              TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    manifest        BYTEA   NOT NULL,
    signature       BYTEA   NOT NULL,
    manifest_sha256 TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    size            BIGINT NOT NULL,
    published_ms    BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);

-- The subject of each pack id, for reports.
CREATE TABLE pack_info (
    pack_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    title   TEXT NOT NULL
);

-- Which schools must have a pack: scope 'all', 'region' (value: the region)
-- or 'school' (value: the school id).
CREATE TABLE pack_requirements (
    pack_id TEXT NOT NULL,
    scope   TEXT NOT NULL CHECK (scope IN ('all', 'region', 'school')),
    value   TEXT NOT NULL,
    PRIMARY KEY (pack_id, scope, value)
);

-- Pack files by content, in chunks of 1 MiB so that a range request reads
-- only what it needs and every hub process sharing the database sees them.
CREATE TABLE blobs (
    sha256 TEXT    PRIMARY KEY,
    size   BIGINT NOT NULL
);

CREATE TABLE blob_chunks (
    sha256 TEXT    NOT NULL,
    n      BIGINT NOT NULL,
    data   BYTEA   NOT NULL,
    PRIMARY KEY (sha256, n)
);

-- Sneakernet bundles imported, by the hash of their signed header.
CREATE TABLE imports (
    bundle      TEXT    PRIMARY KEY,
    box_id      TEXT    NOT NULL,
    acked_seq   BIGINT NOT NULL,
    stored      BIGINT NOT NULL,
    imported_ms BIGINT NOT NULL
);
