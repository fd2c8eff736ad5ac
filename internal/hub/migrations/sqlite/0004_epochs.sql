-- Epochs (docs/sync-protocol.md, "Epochs: a box restored from a backup"):
-- a box's events form one stream per epoch, and the hub keeps every epoch
-- of a box apart, so a box restored from an old backup goes on under a new
-- epoch instead of contradicting what the hub holds. Events, answers and
-- lessons are keyed by (box, epoch, seq); an event id stays unique per box,
-- so nothing is held or counted twice. Events of boxes before epochs are of
-- epoch ''.
CREATE TABLE events_new (
    box_id      TEXT    NOT NULL,
    epoch       TEXT    NOT NULL DEFAULT '',
    seq         INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    wall_ms     INTEGER NOT NULL,
    boot_id     TEXT    NOT NULL,
    mono_ms     INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    time_ms     INTEGER NOT NULL,
    time_basis  TEXT    NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (box_id, epoch, seq),
    UNIQUE (box_id, id)
) STRICT;
INSERT INTO events_new (box_id, epoch, seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis, received_ms)
    SELECT box_id, '', seq, id, kind, actor, wall_ms, boot_id, mono_ms, payload, time_ms, time_basis, received_ms FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

CREATE TABLE answers_new (
    box_id  TEXT    NOT NULL,
    epoch   TEXT    NOT NULL DEFAULT '',
    seq     INTEGER NOT NULL,
    learner TEXT    NOT NULL,
    pack    TEXT    NOT NULL,
    set_id  TEXT    NOT NULL,
    item    TEXT    NOT NULL,
    correct INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    PRIMARY KEY (box_id, epoch, seq)
) STRICT;
INSERT INTO answers_new (box_id, epoch, seq, learner, pack, set_id, item, correct, time_ms)
    SELECT box_id, '', seq, learner, pack, set_id, item, correct, time_ms FROM answers;
DROP TABLE answers;
ALTER TABLE answers_new RENAME TO answers;
CREATE INDEX answers_time ON answers (time_ms);

CREATE TABLE lessons_done_new (
    box_id  TEXT    NOT NULL,
    epoch   TEXT    NOT NULL DEFAULT '',
    seq     INTEGER NOT NULL,
    learner TEXT    NOT NULL,
    pack    TEXT    NOT NULL,
    lesson  TEXT    NOT NULL,
    time_ms INTEGER NOT NULL,
    PRIMARY KEY (box_id, epoch, seq)
) STRICT;
INSERT INTO lessons_done_new (box_id, epoch, seq, learner, pack, lesson, time_ms)
    SELECT box_id, '', seq, learner, pack, lesson, time_ms FROM lessons_done;
DROP TABLE lessons_done;
ALTER TABLE lessons_done_new RENAME TO lessons_done;

-- Each epoch of each box: its events follow base_seq, after the events of
-- the parent epoch's line up to base_seq; acked_seq is the highest seq held
-- contiguously from base_seq + 1 in the epoch itself (base_seq when none).
-- boxes.acked_seq is the whole line's, for the epoch of the box's latest
-- batch (updated_ms).
CREATE TABLE box_epochs (
    box_id     TEXT    NOT NULL,
    epoch      TEXT    NOT NULL,
    base_seq   INTEGER NOT NULL,
    parent     TEXT    NOT NULL,
    acked_seq  INTEGER NOT NULL,
    events     INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (box_id, epoch)
) STRICT;
INSERT INTO box_epochs (box_id, epoch, base_seq, parent, acked_seq, events, created_ms, updated_ms)
    SELECT id, '', 0, '', acked_seq, events, created_ms, last_seen_ms FROM boxes;

-- A bundle whose box's history diverged from what the hub holds is stored
-- up to the batch before, and its acknowledgement says where (the box goes
-- on under a new epoch).
ALTER TABLE imports ADD COLUMN diverged_epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN diverged_at INTEGER NOT NULL DEFAULT 0;
