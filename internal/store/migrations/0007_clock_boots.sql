-- When each boot of the box began in true time, as well as the box knows
-- it (internal/timekeeper, docs/sync-protocol.md "Time"): an event's
-- corrected time is its boot's start_ms plus its mono_ms. source is hub,
-- devices, saved or box-clock; err_ms how far off start_ms may be (-1:
-- unknown, a lower bound or a guess); seen_ms the longest time since boot
-- at which the box knew itself running, so start_ms + seen_ms is the last
-- known good time a later boot never goes back before.
CREATE TABLE clock_boots (
    boot_id  TEXT    PRIMARY KEY,
    start_ms INTEGER NOT NULL,
    source   TEXT    NOT NULL,
    err_ms   INTEGER NOT NULL,
    seen_ms  INTEGER NOT NULL
) STRICT;
