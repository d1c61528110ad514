-- Failed sign-ins per (username, client address), shared by every collector on the database, so
-- the lockout (5 failures within 60 s lock that pair out for 60 s) holds whichever collector a
-- guess reaches. The key is the SHA-256 (hex) the in-process throttle also uses; no username or
-- address is stored. Rows of a successful sign-in are deleted; stale ones are pruned on failures.
CREATE TABLE login_failures (
    throttle_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT
);
CREATE INDEX login_failures_window ON login_failures (window_start);
