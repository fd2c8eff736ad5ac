-- The hash of the retry key of the box that spent a token: that box alone
-- may redeem it again when the hub's answer was lost (docs/sync-protocol.md).
ALTER TABLE enroll_tokens ADD COLUMN retry_hash TEXT NOT NULL DEFAULT '';
