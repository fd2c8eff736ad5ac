-- Apps of packs (simulations, virtual labs): teachers may assign them, and
-- their results (app.result events) make each learner's app progress,
-- written by derived.go in the transaction of the event.

CREATE TABLE assignments_new (
    id          TEXT    PRIMARY KEY,
    class_id    TEXT    NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    pack        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('lesson', 'set', 'app')),
    ref         TEXT    NOT NULL,
    assigned_by TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (class_id, pack, kind, ref)
) STRICT;
INSERT INTO assignments_new SELECT id, class_id, pack, kind, ref, assigned_by, created_ms FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;

-- One row a learner and app: the best share of the score reached (0 to 1),
-- whether any result said the app was completed, and the latest result.
CREATE TABLE app_progress (
    learner     TEXT    NOT NULL,
    pack        TEXT    NOT NULL,
    app         TEXT    NOT NULL,
    results     INTEGER NOT NULL,
    completed   INTEGER NOT NULL,
    best        REAL    NOT NULL,
    last_score  REAL    NOT NULL,
    last_max    REAL    NOT NULL,
    summary     TEXT    NOT NULL,
    last_seq    INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (learner, pack, app)
) STRICT;
