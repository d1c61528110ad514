-- The percentiles of each aggregate row, computed from its sketch when the row is written, so a
-- chart bucket that is one stored row is answered without decoding the sketch. Rows written
-- before this migration keep NULL here and are read through their sketch.
ALTER TABLE metric_aggregates ADD COLUMN p50 DOUBLE PRECISION;
ALTER TABLE metric_aggregates ADD COLUMN p95 DOUBLE PRECISION;
ALTER TABLE metric_aggregates ADD COLUMN p99 DOUBLE PRECISION;

-- The unique key with period_start right after the series' name and endpoint: the writer's
-- lookups use all seven columns as before, and a chart of one series now reads its own rows in
-- time order from the index instead of every series of the family (the time index's range
-- was the only one usable).
DROP INDEX metric_aggregates_key;
CREATE UNIQUE INDEX metric_aggregates_key ON metric_aggregates
    (aggregation_period, metric_type, metric_name, endpoint, period_start, source, project_id);
