-- Tracewire schema for SQLite. Times are BIGINT microseconds since the Unix epoch (UTC) in both
-- backends, so every comparison and keyset cursor is the same SQL; ids are UUIDv7 (BLOB here,
-- UUID in PostgreSQL) so inserts append to their B-trees.

CREATE TABLE projects (
    id              BLOB PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    allow_frontend  BOOLEAN NOT NULL DEFAULT TRUE,
    allow_backend   BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL
);

CREATE TABLE ingest_keys (
    id               BLOB PRIMARY KEY,
    project_id       BLOB NOT NULL REFERENCES projects(id),
    key              TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL DEFAULT '[]',
    revoked          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL
);

CREATE TABLE users (
    id             BLOB PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE sessions (
    id          BLOB PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id            BLOB PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE TABLE ingest_batches (
    batch_id             BLOB PRIMARY KEY,
    project_id           BLOB NOT NULL,
    accepted_logs        BIGINT NOT NULL,
    accepted_exceptions  BIGINT NOT NULL,
    accepted_metrics     BIGINT NOT NULL,
    received_at          BIGINT NOT NULL
);
CREATE INDEX ingest_batches_received ON ingest_batches (received_at);

CREATE TABLE app_logs (
    id               BLOB PRIMARY KEY,
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
-- Latest page and time ranges (keyset on timestamp, id).
CREATE INDEX app_logs_time ON app_logs (timestamp, id);
-- Level + time range, the most common dashboard filter.
CREATE INDEX app_logs_level_time ON app_logs (level, timestamp);
-- One trace; partial because most browser noise has none, and random keys are the costliest.
CREATE INDEX app_logs_trace ON app_logs (trace_id) WHERE trace_id IS NOT NULL;
-- One user's activity.
CREATE INDEX app_logs_user_time ON app_logs (user_id, timestamp) WHERE user_id IS NOT NULL;

CREATE TABLE app_exceptions (
    id                 BLOB PRIMARY KEY,
    project_id         BLOB NOT NULL,
    fingerprint        TEXT NOT NULL,
    source             TEXT NOT NULL,
    exception_type     TEXT NOT NULL,
    exception_message  TEXT NOT NULL,
    stack_trace        TEXT,
    request_path       TEXT,
    first_seen_at      BIGINT NOT NULL,
    last_seen_at       BIGINT NOT NULL,
    occurrence_count   BIGINT NOT NULL DEFAULT 1,
    is_resolved        BOOLEAN NOT NULL DEFAULT FALSE,
    resolved_at        BIGINT,
    resolved_by        TEXT,
    resolution_notes   TEXT,
    regressed_at       BIGINT,
    UNIQUE (project_id, fingerprint)
);
CREATE INDEX app_exceptions_last_seen ON app_exceptions (last_seen_at);

CREATE TABLE exception_events (
    id                 BLOB PRIMARY KEY,
    exception_id       BLOB NOT NULL REFERENCES app_exceptions(id) ON DELETE CASCADE,
    project_id         BLOB NOT NULL,
    timestamp          BIGINT NOT NULL,
    trace_id           TEXT,
    span_id            TEXT,
    user_id            TEXT,
    request_path       TEXT,
    exception_message  TEXT NOT NULL,
    stack_trace        TEXT,
    exception_details  TEXT,
    context_data       TEXT
);
CREATE INDEX exception_events_group_time ON exception_events (exception_id, timestamp);
CREATE INDEX exception_events_trace ON exception_events (trace_id) WHERE trace_id IS NOT NULL;

CREATE TABLE performance_metrics (
    id           BLOB PRIMARY KEY,
    project_id   BLOB NOT NULL,
    source       TEXT NOT NULL,
    metric_type  TEXT NOT NULL,
    metric_name  TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    unit         TEXT,
    timestamp    BIGINT NOT NULL,
    endpoint     TEXT,
    trace_id     TEXT,
    tags         TEXT
);
CREATE INDEX performance_metrics_name_time ON performance_metrics (metric_type, metric_name, timestamp);

CREATE TABLE alert_configs (
    id                BLOB PRIMARY KEY,
    name              TEXT NOT NULL,
    condition_type    TEXT NOT NULL,
    operator          TEXT NOT NULL,
    threshold         DOUBLE PRECISION NOT NULL,
    window_minutes    INTEGER NOT NULL,
    throttle_minutes  INTEGER NOT NULL,
    parameters        TEXT NOT NULL DEFAULT '{}',
    channels          TEXT NOT NULL DEFAULT '[]',
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE alert_history (
    id            BLOB PRIMARY KEY,
    alert_id      BLOB NOT NULL REFERENCES alert_configs(id) ON DELETE CASCADE,
    triggered_at  BIGINT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    notified      BOOLEAN NOT NULL,
    details       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_history_alert_time ON alert_history (alert_id, triggered_at);

CREATE TABLE audit_logs (
    id          BLOB PRIMARY KEY,
    timestamp   BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_logs_time ON audit_logs (timestamp);
