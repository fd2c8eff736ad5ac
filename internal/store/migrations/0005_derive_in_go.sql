-- The derived tables are written by the store's Go code (derived.go), in
-- the same transaction as the events they come from, from the payload
-- structs of internal/event: no SQL reads a payload's JSON keys any more.
-- The rows these triggers derived before stay as they are.

DROP TRIGGER attempts_from_answer;
DROP TRIGGER lesson_progress_from_event;
