-- Monitoring: aggregates per series and period in the seed's performance_metrics shape
-- (metric_type, metric_name, value, unit, aggregation_period, period_start, period_end, source,
-- endpoint, metadata) plus what real percentiles need: count, errors, sum, min, max and a
-- mergeable sketch. `performance_metrics` keeps the raw `metrics` entries of batches as it did.
-- `endpoint` is '' when a measurement has none, so the unique key can hold it (NULLs differ).
CREATE TABLE metric_aggregates (
    id                  BLOB PRIMARY KEY,
    project_id          BLOB NOT NULL,
    source              TEXT NOT NULL,
    metric_type         TEXT NOT NULL,
    metric_name         TEXT NOT NULL,
    endpoint            TEXT NOT NULL,
    aggregation_period  TEXT NOT NULL,
    period_start        BIGINT NOT NULL,
    period_end          BIGINT NOT NULL,
    value               DOUBLE PRECISION NOT NULL,
    unit                TEXT NOT NULL,
    count               BIGINT NOT NULL,
    errors              BIGINT NOT NULL,
    sum                 DOUBLE PRECISION NOT NULL,
    min                 DOUBLE PRECISION NOT NULL,
    max                 DOUBLE PRECISION NOT NULL,
    sketch              BLOB NOT NULL,
    metadata            TEXT NOT NULL DEFAULT '{}',
    -- Changed since the roll-up job last folded it into the next coarser period.
    dirty               BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE UNIQUE INDEX metric_aggregates_key ON metric_aggregates
    (aggregation_period, metric_type, metric_name, endpoint, source, project_id, period_start);
CREATE INDEX metric_aggregates_time ON metric_aggregates
    (aggregation_period, metric_type, period_start);
CREATE INDEX metric_aggregates_dirty ON metric_aggregates (aggregation_period) WHERE dirty;

-- Requests over the slow threshold (seed property 5), with their trace.
CREATE TABLE slow_requests (
    id           BLOB PRIMARY KEY,
    project_id   BLOB NOT NULL,
    timestamp    BIGINT NOT NULL,
    source       TEXT NOT NULL,
    method       TEXT,
    endpoint     TEXT NOT NULL,
    path         TEXT,
    status       INTEGER,
    duration_ms  DOUBLE PRECISION NOT NULL,
    trace_id     TEXT,
    log_id       BLOB NOT NULL
);
CREATE INDEX slow_requests_time ON slow_requests (timestamp, id);

-- Database statements over slow_query_ms, as the middleware reported them.
CREATE TABLE slow_queries (
    id           BLOB PRIMARY KEY,
    project_id   BLOB NOT NULL,
    timestamp    BIGINT NOT NULL,
    summary      TEXT NOT NULL,
    statement    TEXT,
    duration_ms  DOUBLE PRECISION NOT NULL,
    row_count    BIGINT,
    endpoint     TEXT,
    trace_id     TEXT
);
CREATE INDEX slow_queries_time ON slow_queries (timestamp, id);
