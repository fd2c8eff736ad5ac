-- Facts about this box that never change once set (box id, …).
CREATE TABLE box_facts (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Every learner action and roster change, immutable. seq is the box-local,
-- monotonic, gap-free sequence number (rows are never deleted, so SQLite's
-- rowid allocation of max(seq)+1 never leaves a gap); id is the global id.
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    wall_ms  INTEGER NOT NULL,           -- box wall clock, unix ms (may be wrong)
    boot_id  TEXT    NOT NULL,           -- kernel boot id
    mono_ms  INTEGER NOT NULL,           -- ms since that boot (right within the boot)
    payload  TEXT    NOT NULL CHECK (json_valid(payload))
) STRICT;

CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
CREATE TRIGGER events_immutable_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;

-- Derived from answer.submitted events, in the same transaction.
CREATE TABLE item_progress (
    learner      TEXT    NOT NULL,
    pack         TEXT    NOT NULL,
    set_id       TEXT    NOT NULL,
    item         TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    correct      INTEGER NOT NULL,       -- attempts that were correct
    best_score   REAL    NOT NULL,
    last_correct INTEGER NOT NULL,       -- 0 or 1: the latest attempt's verdict
    last_seq     INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (learner, pack, set_id, item)
) STRICT;
