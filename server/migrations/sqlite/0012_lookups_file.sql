-- The index follower's structures (migration 0010) move to a second file beside this one,
-- `<database>.lookups` (store/sqlite.rs). SQLite has one write lock per file: in this file the
-- follower's steps held the lock the ingest writer needs, and every acknowledgement waited for
-- a whole step (1.7x of ingest throughput, docs/BENCHMARKS.md). In their own file they are
-- written on the other core while the writer commits here.
--
-- The lookups file starts empty and the follower fills it in the background; until it has
-- caught up, queries find the rows it has not reached by scanning them, as they always do above
-- the watermark, so they stay exact (only slower) while it does.

DROP TRIGGER app_logs_index_delete;
DROP TABLE app_logs_by_trace;
DROP TABLE app_logs_by_user;
DROP TABLE app_logs_fts;
DROP TABLE log_index_state;

-- A trigger cannot reach another file, so deleted rows are queued here and the follower takes
-- their entries out of the lookups file, then forgets them. Only keys, never the message.
CREATE TABLE log_index_deletes (
    id         INTEGER PRIMARY KEY,
    seq        INTEGER NOT NULL,
    trace_id   TEXT,
    user_id    TEXT,
    timestamp  BIGINT NOT NULL
);

-- The highest seq ever deleted. The writer numbers new rows above it and above MAX(seq), so a
-- seq is never used twice: an entry in the lookups file can only ever name its own row, and the
-- watermark never has to come down.
CREATE TABLE log_seq_floor (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
);
INSERT INTO log_seq_floor (id, seq) VALUES (1, 0);

CREATE TRIGGER app_logs_index_delete AFTER DELETE ON app_logs
BEGIN
    INSERT INTO log_index_deletes (seq, trace_id, user_id, timestamp)
    VALUES (old.seq, old.trace_id, old.user_id, old.timestamp);
    UPDATE log_seq_floor SET seq = old.seq WHERE id = 1 AND seq < old.seq;
END;
