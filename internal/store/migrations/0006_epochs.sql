-- Epochs (docs/sync-protocol.md, "Epochs: a box restored from a backup").
-- The box's events are one stream, epoch '', until the box learns that the
-- hub holds other events than its own at the sequence numbers it uses (it
-- was restored from an old backup): it then goes on under a new epoch, a
-- random id, whose events follow base_seq. An event belongs to the last
-- epoch started (by base_seq, then rowid) whose base_seq is below its seq;
-- events never change, only which epoch the events not yet acknowledged go
-- up in is decided here. parent is the epoch of the event at base_seq.
CREATE TABLE upstream_epochs (
    epoch      TEXT    PRIMARY KEY,
    base_seq   INTEGER NOT NULL CHECK (base_seq >= 0),
    parent     TEXT    NOT NULL,
    started_ms INTEGER NOT NULL,
    reason     TEXT    NOT NULL
) STRICT;

-- Events of a database that a restore replaced and that the hub had not
-- acknowledged: kept with the epoch and seq they had there (and that
-- epoch's base and parent), and sent to the hub as they were; acked once
-- the hub holds them.
CREATE TABLE upstream_salvage (
    epoch    TEXT    NOT NULL,
    base_seq INTEGER NOT NULL,
    parent   TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    id       TEXT    NOT NULL UNIQUE,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    wall_ms  INTEGER NOT NULL,
    boot_id  TEXT    NOT NULL,
    mono_ms  INTEGER NOT NULL,
    payload  TEXT    NOT NULL,
    acked    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (epoch, seq)
) STRICT;
