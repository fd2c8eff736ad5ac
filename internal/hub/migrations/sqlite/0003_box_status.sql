-- What each box last told of itself (POST /api/v1/status, a JSON
-- wire.BoxStatus; '' until it first does) and when it arrived, in the
-- hub's time (docs/sync-protocol.md).
ALTER TABLE boxes ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE boxes ADD COLUMN status_ms INTEGER NOT NULL DEFAULT 0;
