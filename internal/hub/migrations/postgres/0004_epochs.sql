-- Epochs (docs/sync-protocol.md, "Epochs: a box restored from a backup"):
-- see migrations/sqlite/0004_epochs.sql. Events, answers and lessons are
-- keyed by (box, epoch, seq); an event id stays unique per box.
ALTER TABLE events ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (box_id, epoch, seq);

ALTER TABLE answers ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE answers DROP CONSTRAINT answers_pkey;
ALTER TABLE answers ADD PRIMARY KEY (box_id, epoch, seq);

ALTER TABLE lessons_done ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE lessons_done DROP CONSTRAINT lessons_done_pkey;
ALTER TABLE lessons_done ADD PRIMARY KEY (box_id, epoch, seq);

CREATE TABLE box_epochs (
    box_id     TEXT   NOT NULL,
    epoch      TEXT   NOT NULL,
    base_seq   BIGINT NOT NULL,
    parent     TEXT   NOT NULL,
    acked_seq  BIGINT NOT NULL,
    events     BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (box_id, epoch)
);
INSERT INTO box_epochs (box_id, epoch, base_seq, parent, acked_seq, events, created_ms, updated_ms)
    SELECT id, '', 0, '', acked_seq, events, created_ms, last_seen_ms FROM boxes;

-- A bundle whose box's history diverged from what the hub holds is stored
-- up to the batch before, and its acknowledgement says where (the box goes
-- on under a new epoch).
ALTER TABLE imports ADD COLUMN diverged_epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN diverged_at BIGINT NOT NULL DEFAULT 0;
