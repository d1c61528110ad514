-- The percentiles of each aggregate row, computed from its sketch when the row is written, so a
-- chart bucket that is one stored row is answered without decoding the sketch. Rows written
-- before this migration keep NULL here and are read through their sketch.
ALTER TABLE metric_aggregates ADD COLUMN p50 DOUBLE PRECISION;
ALTER TABLE metric_aggregates ADD COLUMN p95 DOUBLE PRECISION;
ALTER TABLE metric_aggregates ADD COLUMN p99 DOUBLE PRECISION;
