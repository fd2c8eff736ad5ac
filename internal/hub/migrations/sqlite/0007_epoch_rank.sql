-- An epoch's rank (hub/summary.go): 0 for a box's first epoch, its
-- parent's rank + 1 for the others. A restored box's new epoch restarts
-- its seqs below its parent's, and its answers are the newer, so "the
-- latest answer" is the one with the highest rank × 2^40 + seq (the answer's
-- order), not the highest seq. learner_items.last_seq holds that order.
ALTER TABLE box_epochs ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;

WITH RECURSIVE r (box_id, epoch, rank) AS (
    SELECT box_id, epoch, CAST(0 AS INTEGER) FROM box_epochs WHERE epoch = ''
    UNION ALL
    SELECT e.box_id, e.epoch, r.rank + 1 FROM box_epochs e JOIN r ON e.box_id = r.box_id AND e.parent = r.epoch
    WHERE e.epoch <> '' AND r.rank < 100000
)
UPDATE box_epochs SET rank = r.rank FROM r WHERE box_epochs.box_id = r.box_id AND box_epochs.epoch = r.epoch;

-- The latest answers of boxes with more than one epoch, by order: first
-- order × 2 + correct into last_seq, then split.
UPDATE learner_items SET last_seq = (
    SELECT MAX((b.rank * 1099511627776 + a.seq) * 2 + a.correct) FROM answers a
    JOIN box_epochs b ON b.box_id = a.box_id AND b.epoch = a.epoch
    WHERE a.box_id = learner_items.box_id AND a.learner = learner_items.learner AND a.pack = learner_items.pack
        AND a.set_id = learner_items.set_id AND a.item = learner_items.item)
WHERE box_id IN (SELECT box_id FROM box_epochs WHERE rank > 0);
UPDATE learner_items SET last_correct = last_seq % 2, last_seq = last_seq / 2
WHERE box_id IN (SELECT box_id FROM box_epochs WHERE rank > 0);
UPDATE learner_packs SET mastered = coalesce((SELECT SUM(i.last_correct) FROM learner_items i
    WHERE i.box_id = learner_packs.box_id AND i.learner = learner_packs.learner AND i.pack = learner_packs.pack), 0)
WHERE box_id IN (SELECT box_id FROM box_epochs WHERE rank > 0);
