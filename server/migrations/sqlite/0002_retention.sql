-- Retention walks exception occurrences and metrics oldest first; without these indexes every
-- batch would scan and sort the whole table. Both keys are time-ordered, so inserts append.
CREATE INDEX exception_events_time ON exception_events (timestamp, id);
CREATE INDEX performance_metrics_time ON performance_metrics (timestamp, id);
