-- The trace, user and full-text lookups of app_logs leave the acknowledgement path. An index on
-- app_logs is written in the writer's transaction, one random B-tree page per row for the
-- trace and user keys, and FTS5 flushed its terms at every statement: together about 70 % of
-- the write cost per log (docs/BENCHMARKS.md). Now a batch is acknowledged once its rows are in
-- app_logs (time-ordered), and the index follower writes these three structures afterwards in
-- large batches sorted by key, recording in log_index_state the highest seq it has covered.
--
-- Queries stay exact: a lookup reads the structure for seq <= indexed_through and scans the
-- rows above it (the not-yet-indexed tail, recent and small) in the same statement, so one
-- snapshot answers both halves.

CREATE TABLE app_logs_by_trace (
    trace_id  TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (trace_id, seq)
) WITHOUT ROWID;

CREATE TABLE app_logs_by_user (
    user_id    TEXT NOT NULL,
    timestamp  BIGINT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (user_id, timestamp, seq)
) WITHOUT ROWID;

INSERT INTO app_logs_by_trace (trace_id, seq)
SELECT trace_id, seq FROM app_logs WHERE trace_id IS NOT NULL ORDER BY trace_id, seq;
INSERT INTO app_logs_by_user (user_id, timestamp, seq)
SELECT user_id, timestamp, seq FROM app_logs WHERE user_id IS NOT NULL
ORDER BY user_id, timestamp, seq;

DROP INDEX app_logs_trace;
DROP INDEX app_logs_user_time;
DROP TRIGGER app_logs_fts_insert;
DROP TRIGGER app_logs_fts_delete;

-- One row. Every app_logs row with seq <= indexed_through has its entries in the three
-- structures (the follower writes them and this value in one transaction); rows above it have
-- none yet.
CREATE TABLE log_index_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through  INTEGER NOT NULL
);
-- Everything present was indexed by the old triggers and indexes.
INSERT INTO log_index_state (id, indexed_through)
VALUES (1, COALESCE((SELECT MAX(seq) FROM app_logs), 0));

-- Retention deletes a row's entries with it (a row above the watermark has none yet). SQLite
-- gives a new row MAX(seq) + 1, so when the newest rows are deleted a later row could get a seq
-- the follower already passed: the watermark then comes down to the highest seq left (every
-- entry above it went with its row), and the follower indexes the new rows as usual. One
-- trigger, so the entries are deleted (against the watermark before the row) before it moves.
CREATE TRIGGER app_logs_index_delete AFTER DELETE ON app_logs
BEGIN
    DELETE FROM app_logs_fts WHERE rowid IN
        (SELECT old.seq FROM log_index_state WHERE id = 1 AND old.seq <= indexed_through);
    DELETE FROM app_logs_by_trace WHERE trace_id = old.trace_id AND seq IN
        (SELECT old.seq FROM log_index_state WHERE id = 1 AND old.seq <= indexed_through);
    DELETE FROM app_logs_by_user WHERE user_id = old.user_id AND timestamp = old.timestamp
        AND seq IN
        (SELECT old.seq FROM log_index_state WHERE id = 1 AND old.seq <= indexed_through);
    UPDATE log_index_state
    SET indexed_through = COALESCE((SELECT MAX(seq) FROM app_logs), 0)
    WHERE id = 1 AND indexed_through > COALESCE((SELECT MAX(seq) FROM app_logs), 0);
END;
