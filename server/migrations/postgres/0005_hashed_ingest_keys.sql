-- Ingest keys are kept as SHA-256 hashes (lower-case hex) of the key, like session tokens: a
-- copy of the database no longer hands out working keys. The column is renamed in place (its
-- UNIQUE index follows it); rows that still hold a plaintext key keep `hashed = FALSE` until the
-- collector hashes them at start-up, in Rust, since SQLite has no SHA-256 function. New keys
-- are inserted hashed.
ALTER TABLE ingest_keys RENAME COLUMN key TO key_hash;
ALTER TABLE ingest_keys ADD COLUMN hashed BOOLEAN NOT NULL DEFAULT FALSE;
