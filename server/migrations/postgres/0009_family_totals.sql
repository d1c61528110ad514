-- One row per metric family (metric_type), project, source, period and bucket that merges
-- every metric_name and endpoint of the family: what the "all endpoints" chart
-- (combine=true) reads for settled buckets instead of every series' row of the bucket. The
-- roll-up writes it in the transaction that rebuilds the coarse rows it is merged from, for
-- the 5-minute, hourly and daily periods (minute buckets are read from their own rows), and
-- retention prunes it with them. A separate table, not a sentinel endpoint in
-- metric_aggregates, so no reader of per-series rows has to learn to skip it.
CREATE TABLE metric_family_totals (
    id                  UUID PRIMARY KEY,
    project_id          UUID NOT NULL,
    source              TEXT NOT NULL,
    metric_type         TEXT NOT NULL,
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
    p50                 DOUBLE PRECISION,
    p95                 DOUBLE PRECISION,
    p99                 DOUBLE PRECISION,
    sketch              BYTEA NOT NULL
);
-- The key, in the order a chart reads it: one family's buckets over a time range.
CREATE UNIQUE INDEX metric_family_totals_key ON metric_family_totals
    (aggregation_period, metric_type, period_start, source, project_id);

-- Family buckets whose total has to be (re)built from the coarse rows already stored: filled
-- here with every bucket rolled up before this migration, and emptied by the roll-up job a
-- batch at a time, so history written by an older collector reaches the combined chart too.
CREATE TABLE metric_family_pending (
    aggregation_period  TEXT NOT NULL,
    metric_type         TEXT NOT NULL,
    period_start        BIGINT NOT NULL,
    source              TEXT NOT NULL,
    project_id          UUID NOT NULL,
    PRIMARY KEY (aggregation_period, metric_type, period_start, source, project_id)
);
INSERT INTO metric_family_pending
    (aggregation_period, metric_type, period_start, source, project_id)
SELECT DISTINCT aggregation_period, metric_type, period_start, source, project_id
FROM metric_aggregates WHERE aggregation_period <> '1m';
