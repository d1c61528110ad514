-- Rows of app_logs per hour, level and source, so `total` over wide ranges reads a few
-- thousand tally rows instead of counting millions (src/query/count.rs). The writer adds to it
-- in the transaction that inserts the logs, retention subtracts in the one that deletes them.
-- `bucket` is the hour's start in µs (floor, also before 1970).
CREATE TABLE log_counts (
    bucket    BIGINT NOT NULL,
    level     TEXT NOT NULL,
    source    TEXT NOT NULL,
    log_rows  BIGINT NOT NULL,
    PRIMARY KEY (bucket, level, source)
);
INSERT INTO log_counts (bucket, level, source, log_rows)
SELECT (timestamp - (((timestamp % 3600000000) + 3600000000) % 3600000000)), level, source, COUNT(*)
FROM app_logs
GROUP BY (timestamp - (((timestamp % 3600000000) + 3600000000) % 3600000000)), level, source;
