-- Full-text search for `q`: an FTS5 trigram index on app_logs.message. Trigrams keep `q` a
-- case-insensitive substring match (the index finds the rows holding every trigram of the term,
-- the LIKE recheck decides), so `q=50%` or `q=a_1` mean what they meant before. The index keeps
-- no positions (detail=none: half the size, 1.7x faster to fill than detail=full) and no second
-- copy of the messages (contentless). It points at app_logs by rowid, so app_logs is rebuilt
-- with an explicit INTEGER PRIMARY KEY: VACUUM may renumber an implicit rowid, not this one.

CREATE TABLE app_logs_new (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE,
    project_id       BLOB NOT NULL,
    timestamp        BIGINT NOT NULL,
    level            TEXT NOT NULL,
    source           TEXT NOT NULL,
    message          TEXT NOT NULL,
    module           TEXT,
    function         TEXT,
    trace_id         TEXT,
    span_id          TEXT,
    user_id          TEXT,
    request_method   TEXT,
    request_path     TEXT,
    request_data     TEXT,
    response_status  INTEGER,
    duration_ms      DOUBLE PRECISION,
    extra_data       TEXT,
    dedup_count      BIGINT NOT NULL DEFAULT 1,
    first_seen_at    BIGINT NOT NULL,
    last_seen_at     BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
INSERT INTO app_logs_new (seq, id, project_id, timestamp, level, source, message, module,
    function, trace_id, span_id, user_id, request_method, request_path, request_data,
    response_status, duration_ms, extra_data, dedup_count, first_seen_at, last_seen_at, created_at)
SELECT rowid, id, project_id, timestamp, level, source, message, module,
    function, trace_id, span_id, user_id, request_method, request_path, request_data,
    response_status, duration_ms, extra_data, dedup_count, first_seen_at, last_seen_at, created_at
FROM app_logs;
DROP TABLE app_logs;
ALTER TABLE app_logs_new RENAME TO app_logs;

CREATE INDEX app_logs_time ON app_logs (timestamp, id);
CREATE INDEX app_logs_level_time ON app_logs (level, timestamp);
CREATE INDEX app_logs_trace ON app_logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX app_logs_user_time ON app_logs (user_id, timestamp) WHERE user_id IS NOT NULL;

CREATE VIRTUAL TABLE app_logs_fts USING fts5(
    message, content = '', contentless_delete = 1, tokenize = 'trigram', detail = none
);
INSERT INTO app_logs_fts (rowid, message) SELECT seq, message FROM app_logs;

-- Kept in the inserting transaction, so a committed (acknowledged) log is searchable at once.
-- Messages are never updated (dedup only bumps counts and times).
CREATE TRIGGER app_logs_fts_insert AFTER INSERT ON app_logs BEGIN
    INSERT INTO app_logs_fts (rowid, message) VALUES (new.seq, new.message);
END;
CREATE TRIGGER app_logs_fts_delete AFTER DELETE ON app_logs BEGIN
    DELETE FROM app_logs_fts WHERE rowid = old.seq;
END;
