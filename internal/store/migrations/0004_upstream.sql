-- Upstream sync (internal/upstream): this box's link to the hub, and how far
-- the hub has acknowledged the box's events. The cursor moves only once the
-- hub has said it holds every event up to it, so a box that stops mid-batch
-- sends that batch again (the hub keeps events by id: resending is safe).

CREATE TABLE upstream_link (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    hub_url     TEXT    NOT NULL,           -- "" for a box enrolled by file (bundles only)
    credential  TEXT    NOT NULL,           -- sbx1.ID.SECRET, the box's secret for the hub
    school_id   TEXT    NOT NULL,
    school_name TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    hub_key     TEXT    NOT NULL,           -- the hub's Ed25519 public key (acknowledgements)
    enrolled_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE upstream_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    acked_seq       INTEGER NOT NULL DEFAULT 0, -- the hub holds every event up to here
    last_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_success_ms INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_error_ms   INTEGER NOT NULL DEFAULT 0,
    bytes_sent      INTEGER NOT NULL DEFAULT 0,
    bytes_received  INTEGER NOT NULL DEFAULT 0,
    events_sent     INTEGER NOT NULL DEFAULT 0,
    download        TEXT    NOT NULL DEFAULT '' -- JSON: the pack download under way
) STRICT;

INSERT INTO upstream_state (id) VALUES (1);
