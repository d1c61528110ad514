-- Each ingest key's token bucket, shared by every collector on this database, so the per-key
-- rate limit (`--rate-limit` entries/s, bursts of `--rate-burst`) holds for the key as a whole
-- rather than once per collector. One statement per accepted batch refills and charges the
-- bucket under the row's lock (see `PgStore::take_rate_tokens`); times are microseconds on the
-- database's clock, so the collectors' clocks need not agree. UNLOGGED: a bucket is worth
-- nothing after a few seconds, so not a WAL record per batch; a database crash refills them.
CREATE UNLOGGED TABLE ingest_rate_buckets (
    key_id UUID PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_us BIGINT NOT NULL,
    passed BOOLEAN NOT NULL
);
