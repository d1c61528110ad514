-- Full-text search for `q`: a trigram GIN index on lower(message) serves the same
-- case-insensitive substring condition (`LOWER(message) LIKE '%…%'`) that SQLite answers with
-- its FTS5 trigram index, so `q` means one thing on both backends. pg_trgm ships with
-- PostgreSQL (contrib) and is a trusted extension; where it is missing, `q` still works, as a
-- scan, and the collector logs nothing worse than slower searches.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX app_logs_message_trgm ON app_logs USING gin (lower(message) gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not available: q (full text) will scan app_logs';
    END IF;
END
$$;
