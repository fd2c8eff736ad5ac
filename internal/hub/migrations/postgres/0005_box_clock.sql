-- What each box estimated of when its boots began (wire.BootTime, from its
-- bundles and its status), and the latest each can have begun by what the
-- hub saw of a bundle (before_ms: it was imported after the box wrote it;
-- 0: nothing known). The hub weighs them against its own observation
-- (boots) to date events (clock.go, docs/sync-protocol.md "Time").
-- source is '' while only before_ms is known.
CREATE TABLE box_boots (
    box_id    TEXT    NOT NULL,
    boot_id   TEXT    NOT NULL,
    start_ms  BIGINT  NOT NULL,
    source    TEXT    NOT NULL,
    err_ms    BIGINT  NOT NULL,
    before_ms BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (box_id, boot_id)
);

-- How far off each event's corrected time may be, either way (-1: unknown).
ALTER TABLE events ADD COLUMN time_err_ms BIGINT NOT NULL DEFAULT -1;
CREATE INDEX events_boot ON events (box_id, boot_id);
