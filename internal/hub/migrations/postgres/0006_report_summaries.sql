-- Summaries the reports read instead of every answer (hub/summary.go),
-- kept exactly in step with answers and lessons_done by ingest, in the
-- same transaction as the events they come from.

-- Each (learner, exercise item): how many answers, and the latest one
-- (the highest seq) and whether it was right.
CREATE TABLE learner_items (
    box_id       TEXT    NOT NULL,
    learner      TEXT    NOT NULL,
    pack         TEXT    NOT NULL,
    set_id       TEXT    NOT NULL,
    item         TEXT    NOT NULL,
    answers      BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    last_correct BIGINT NOT NULL,
    PRIMARY KEY (box_id, learner, pack, set_id, item)
);

-- Each (learner, pack): answers given, items tried, items whose latest
-- answer was right, lessons completed, and the learner's class and gender
-- as learners has them (kept in step when a roster event arrives, so a
-- report need not join learners). A report without a period sums these
-- (about one row per learner and pack, not one per answer).
CREATE TABLE learner_packs (
    box_id   TEXT    NOT NULL,
    learner  TEXT    NOT NULL,
    pack     TEXT    NOT NULL,
    answers  BIGINT NOT NULL,
    items    BIGINT NOT NULL,
    mastered BIGINT NOT NULL,
    lessons  BIGINT NOT NULL,
    class_id TEXT    NOT NULL DEFAULT '',
    gender   TEXT    NOT NULL DEFAULT 'unspecified',
    PRIMARY KEY (box_id, learner, pack)
);

-- The summaries of what the hub already holds.
INSERT INTO learner_items (box_id, learner, pack, set_id, item, answers, last_seq, last_correct)
SELECT a.box_id, a.learner, a.pack, a.set_id, a.item, g.n, a.seq, a.correct
FROM answers a JOIN (SELECT box_id, MAX(seq) AS last, COUNT(*) AS n FROM answers GROUP BY box_id, learner, pack, set_id, item) g
    ON g.box_id = a.box_id AND g.last = a.seq;

INSERT INTO learner_packs (box_id, learner, pack, answers, items, mastered, lessons)
SELECT box_id, learner, pack, SUM(answers), COUNT(*), SUM(last_correct), 0
FROM learner_items GROUP BY box_id, learner, pack;

INSERT INTO learner_packs (box_id, learner, pack, answers, items, mastered, lessons)
SELECT box_id, learner, pack, 0, 0, 0, COUNT(*) FROM lessons_done WHERE true GROUP BY box_id, learner, pack
ON CONFLICT (box_id, learner, pack) DO UPDATE SET lessons = excluded.lessons;

UPDATE learner_packs SET
    class_id = coalesce((SELECT l.class_id FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), ''),
    gender = coalesce((SELECT l.gender FROM learners l WHERE l.box_id = learner_packs.box_id AND l.learner = learner_packs.learner), 'unspecified');

-- Reports join learners to their box's school.
CREATE INDEX boxes_school ON boxes (school_id);

-- Whether the hub published the pack (1) or only learned its subject and
-- title from a box that has it installed (0): a published pack's own
-- manifest wins.
ALTER TABLE pack_info ADD COLUMN published BIGINT NOT NULL DEFAULT 1;

-- The last batch of each box the hub refused as contradicting what it holds
-- (409: the box restored from an old backup), and when, for the fleet page;
-- a batch taken clears it.
ALTER TABLE boxes ADD COLUMN refused TEXT NOT NULL DEFAULT '';
ALTER TABLE boxes ADD COLUMN refused_ms BIGINT NOT NULL DEFAULT 0;
