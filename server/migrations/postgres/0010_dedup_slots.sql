-- The server-side dedup window shared by every collector on this database: per project and
-- dedup key (a 128-bit hash, stored as a uuid), the row that absorbs the key's duplicates and
-- the first-seen time its window is measured from. Each write group upserts the slots of its
-- keys in key order inside its transaction, so two collectors meeting on one key serialize on
-- the slot's row lock and route the duplicates to one row. Slots untouched for two windows are
-- pruned by the writers. UNLOGGED: the slots only matter for the ten seconds of a window, so they
-- are not worth a WAL record per key (measured: ~11 % of single-collector ingest logged, see
-- docs/BENCHMARKS.md); a database crash empties the table, and for one window after it two
-- collectors may each start a row for the same key, as each collector's own index still
-- collapses what it receives.
CREATE UNLOGGED TABLE log_dedup_slots (
    key_hash UUID PRIMARY KEY,
    row_id UUID NOT NULL,
    first_seen_us BIGINT NOT NULL,
    touched_us BIGINT NOT NULL
);
CREATE INDEX log_dedup_slots_touched ON log_dedup_slots (touched_us);
