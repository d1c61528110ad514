//! PostgreSQL backend for production: one pool; the writer's group transactions and all reads
//! share it, and PostgreSQL's MVCC lets them run side by side.

use super::dialect::Dialect;
use super::read_sql::INDEXED_THROUGH;
use super::{StoreOptions, StoreResult};
use crate::ingest::dedup::{SlotClaim, SlotOwner};
use crate::ingest::ratelimit::RateRequest;
use crate::query::logs::LogFilter;
use crate::query::sql::escape_like;
use crate::query::text::{self, TextSearch};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// The store of a `postgres://` URL, for several collectors on one database.
pub(super) struct PgStore {
    /// One pool for reads and writes, `max_read_connections + 2` connections (at least 4).
    pool: PgPool,
    /// Whether `app_logs_text` has its trigram index (pg_trgm was available at migration
    /// 0013); read once, on the first `q`.
    text_index: tokio::sync::OnceCell<bool>,
}

impl PgStore {
    pub(super) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_read_connections.max(2) + 2)
            .acquire_timeout(Duration::from_secs(10))
            .after_release(|conn, _meta| Box::pin(super::discard_if_in_transaction(conn, false)))
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
            text_index: tokio::sync::OnceCell::new(),
        })
    }

    /// Replaces ingest keys stored in plaintext (before migration 0005) by their hashes. The old
    /// row versions are dead tuples that autovacuum reclaims.
    async fn hash_legacy_keys(&self) -> StoreResult<()> {
        let legacy: Vec<(uuid::Uuid, String)> = sqlx::query_as(super::sql::LEGACY_KEYS)
            .fetch_all(&self.pool)
            .await?;
        if legacy.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (id, key) in &legacy {
            sqlx::query(super::sql::HASH_LEGACY_KEY)
                .bind(crate::ingest::keys::key_hash(key))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(
            keys = legacy.len(),
            "hashed ingest keys stored in plaintext"
        );
        Ok(())
    }
}

/// The advisory lock every write group holds shared from its start to its end ("tracewir" in
/// ASCII plus 16; the leases use 1–3). Rows take their `seq` at insert but become visible at
/// commit, in another order on several connections; the index follower's watermark may pass a
/// seq only when every transaction that drew a lower one has ended, and the holders of this
/// lock are the transactions it waits for (see [`PgStore::committed_seq`]).
const WRITERS_LOCK: i64 = 0x7472_6163_6577_6900 + 16;

/// The follower's three writes (see [`Dialect::INDEX_STEP`]).
const INDEX_STEP: [&str; 3] = [
    "INSERT INTO app_logs_by_trace (trace_id, seq) SELECT trace_id, seq FROM app_logs \
     WHERE seq > $1 AND seq <= $2 AND trace_id IS NOT NULL ORDER BY trace_id, seq",
    "INSERT INTO app_logs_by_user (user_id, timestamp, seq) SELECT user_id, timestamp, seq \
     FROM app_logs WHERE seq > $1 AND seq <= $2 AND user_id IS NOT NULL \
     ORDER BY user_id, timestamp, seq",
    "INSERT INTO app_logs_text (seq, lower_message) SELECT seq, LOWER(message) FROM app_logs \
     WHERE seq > $1 AND seq <= $2 ORDER BY seq",
];

/// The write groups holding [`WRITERS_LOCK`] now (`pg_locks` shows a bigint advisory key as its
/// two 32-bit halves, with `objsubid` 1), optionally only those among `$3`.
const WRITERS_HOLDING: &str = "SELECT virtualtransaction FROM pg_locks \
    WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
      AND classid::bigint = $1 AND objid::bigint = $2 \
      AND ($3::text[] IS NULL OR virtualtransaction = ANY($3))";

/// How often the follower looks whether the write groups it waits for have ended.
const WRITERS_POLL: Duration = Duration::from_millis(2);

/// The rows of a JSON array of seqs, and every row the follower had not covered when they were
/// read: how a full-text candidate list narrows a log query.
const TEXT_CANDIDATES: &str = "seq IN (SELECT value::bigint FROM json_array_elements_text(?::json) \
    UNION ALL SELECT seq FROM app_logs WHERE seq > ?)";

/// The rows of `app_logs_text` holding the term (`$2`), found through the trigram index with the
/// probe (`$1`, the term or its rarest word) alone: `OFFSET 0` keeps the planner from handing
/// the term's own trigrams to the index scan too, which would read all their posting lists.
const TEXT_PROBE: &str = "SELECT seq FROM (SELECT seq, lower_message FROM app_logs_text \
    WHERE lower_message LIKE $1 ESCAPE '\\' OFFSET 0) probed \
    WHERE lower_message LIKE $2 ESCAPE '\\' LIMIT $3";

/// Matches the planner expects past which `q` scans in time order without probing the index
/// (four times what a candidate list may hold).
const COMMON_TERM_ROWS: f64 = 4.0 * text::CANDIDATE_LIMIT as f64;

/// The tag of the dollar-quoted literal [`PgStore::estimated_matches`] puts the pattern in.
const PATTERN_QUOTE: &str = "$tw_pattern$";

impl PgStore {
    /// How many `app_logs` rows the planner expects `LOWER(message) LIKE pattern` to match,
    /// from the expression statistics of migration 0013. EXPLAIN plans with a literal (a bound
    /// parameter may be planned generically), so the pattern goes into a dollar-quoted string,
    /// which has no escapes; a pattern holding the tag is not estimated (infinity: scan).
    async fn estimated_matches(&self, pattern: &str) -> StoreResult<f64> {
        if pattern.contains(PATTERN_QUOTE) {
            return Ok(f64::INFINITY);
        }
        let plan: sqlx::types::Json<serde_json::Value> = sqlx::query_scalar(&format!(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM app_logs WHERE LOWER(message) LIKE \
             {PATTERN_QUOTE}{pattern}{PATTERN_QUOTE} ESCAPE '\\'"
        ))
        .persistent(false)
        .fetch_one(&self.pool)
        .await?;
        Ok(plan.0[0]["Plan"]["Plan Rows"]
            .as_f64()
            .unwrap_or(f64::INFINITY))
    }

    /// Whether the trigram index of `app_logs_text` exists; without pg_trgm a lookup there would
    /// scan the table, so `q` scans `app_logs` instead.
    async fn has_text_index(&self) -> StoreResult<bool> {
        let found = self
            .text_index
            .get_or_try_init(|| async {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() \
                     AND indexname = 'app_logs_text_trgm')",
                )
                .fetch_one(&self.pool)
                .await
            })
            .await?;
        Ok(*found)
    }

    /// The highest seq every row at or below which is committed or will never be. It reads
    /// the highest seq drawn so far, committed or not, then waits until every write group open
    /// at that moment has ended: a group takes [`WRITERS_LOCK`] before it draws a seq, so any
    /// seq at or below that value belongs to one of them or to one already ended. It only
    /// watches `pg_locks`, so writers never wait for the follower.
    async fn committed_seq(&self) -> StoreResult<i64> {
        let drawn: i64 = sqlx::query_scalar(
            "SELECT COALESCE(pg_sequence_last_value(\
             pg_get_serial_sequence('app_logs', 'seq')::regclass), 0)",
        )
        .fetch_one(&self.pool)
        .await?;
        let (high, low) = (WRITERS_LOCK >> 32, WRITERS_LOCK & 0xFFFF_FFFF);
        let mut open: Vec<String> = sqlx::query_scalar(WRITERS_HOLDING)
            .bind(high)
            .bind(low)
            .bind(None::<Vec<String>>)
            .fetch_all(&self.pool)
            .await?;
        while !open.is_empty() {
            tokio::time::sleep(WRITERS_POLL).await;
            open = sqlx::query_scalar(WRITERS_HOLDING)
                .bind(high)
                .bind(low)
                .bind(&open)
                .fetch_all(&self.pool)
                .await?;
        }
        Ok(drawn)
    }
}

impl Dialect for PgStore {
    type Db = Postgres;
    const BACKEND: super::Backend = super::Backend::Postgres;
    /// A read transaction whose statements share one snapshot (READ COMMITTED takes one per
    /// statement).
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    /// Collectors on one database write concurrently.
    const LOCK_FOR_UPDATE: &'static str = " FOR UPDATE";
    /// Through the index follower's tables and the not-yet-indexed tail (migration 0013), the
    /// tail bounded by the watermark read just before. The watermark never comes down here (a
    /// seq is never reused), so a value read earlier can only make the tail longer, never miss
    /// a row; bound as a value, it lets the planner see a short tail (reading it inside the
    /// statement made PostgreSQL plan for a third of the table, with parallel workers).
    async fn lookups(&self) -> StoreResult<crate::query::text::Lookups> {
        let after: i64 = sqlx::query_scalar(INDEXED_THROUGH)
            .fetch_one(&self.pool)
            .await?;
        Ok(crate::query::text::Lookups {
            tail_after: Some(after),
            ..super::read_sql::LOOKUPS_AFTER
        })
    }

    /// `q` through the follower's `app_logs_text` (migration 0013): a rare term's rows, read
    /// with the watermark from one snapshot, become a candidate list plus the not-yet-indexed
    /// tail; a common term is scanned in time order, where a page stops early (see
    /// [`text::plan`]).
    async fn text_search(&self, f: &LogFilter) -> StoreResult<TextSearch> {
        let Some(q) = &f.q else {
            return Ok(TextSearch::Scan);
        };
        let lower = q.to_lowercase();
        if text::trigrams(&lower).is_empty() || !self.has_text_index().await? {
            return Ok(TextSearch::Scan); // no trigram to look up: the index cannot narrow
        }
        let pattern = format!("%{}%", escape_like(&lower));
        // A GIN scan cannot stop early (it builds its whole bitmap first), so a term the
        // planner expects in many rows skips the probe: it would cost more than the page.
        if self.estimated_matches(&pattern).await? > COMMON_TERM_ROWS {
            return Ok(TextSearch::Scan);
        }
        // The index is read with the term's rarest word when it has several (see
        // [`text::rarest_piece`]); pieces hold only letters and digits, nothing to escape.
        let pieces = text::pieces(&lower);
        let mut estimates = Vec::with_capacity(pieces.len());
        if pieces.len() > 1 {
            for piece in pieces {
                estimates.push((piece, self.estimated_matches(&format!("%{piece}%")).await?));
            }
        }
        let probe = text::rarest_piece(&estimates, COMMON_TERM_ROWS)
            .map_or_else(|| pattern.clone(), |piece| format!("%{piece}%"));
        // The candidates and the watermark they are complete up to, from one snapshot.
        let mut tx = self.pool.begin_with(Self::BEGIN_SNAPSHOT).await?;
        let indexed_through: i64 = sqlx::query_scalar(INDEXED_THROUGH)
            .fetch_one(&mut *tx)
            .await?;
        let candidates: Vec<i64> = sqlx::query_scalar(TEXT_PROBE)
            .bind(&probe)
            .bind(&pattern)
            .bind(text::CANDIDATE_LIMIT)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(text::plan(&candidates, TEXT_CANDIDATES, indexed_through))
    }

    /// One UNNEST: no VALUES list to parse and plan per row.
    async fn insert_log_rows(
        tx: &mut sqlx::Transaction<'static, Postgres>,
        rows: &[super::LogRow],
    ) -> StoreResult<()> {
        use sqlx::types::Json;
        fn column<'a, T>(rows: &'a [super::LogRow], f: impl Fn(&'a super::LogRow) -> T) -> Vec<T> {
            rows.iter().map(f).collect()
        }
        fn json(v: &Option<Json<serde_json::Value>>) -> Option<Json<&serde_json::Value>> {
            v.as_ref().map(|j| Json(&j.0))
        }
        if rows.is_empty() {
            return Ok(()); // a group of only duplicates, exceptions or metrics: no statement
        }
        sqlx::query(INSERT_LOGS_UNNEST)
            .bind(column(rows, |r| r.id))
            .bind(column(rows, |r| r.project_id))
            .bind(column(rows, |r| r.timestamp))
            .bind(column(rows, |r| r.level.as_ref()))
            .bind(column(rows, |r| r.source.as_ref()))
            .bind(column(rows, |r| r.message.as_str()))
            .bind(column(rows, |r| r.module.as_deref()))
            .bind(column(rows, |r| r.function.as_deref()))
            .bind(column(rows, |r| r.trace_id.as_deref()))
            .bind(column(rows, |r| r.span_id.as_deref()))
            .bind(column(rows, |r| r.user_id.as_deref()))
            .bind(column(rows, |r| r.request_method.as_deref()))
            .bind(column(rows, |r| r.request_path.as_deref()))
            .bind(column(rows, |r| json(&r.request_data)))
            .bind(column(rows, |r| r.response_status))
            .bind(column(rows, |r| r.duration_ms))
            .bind(column(rows, |r| json(&r.extra_data)))
            .bind(column(rows, |r| r.dedup_count))
            .bind(column(rows, |r| r.first_seen_at))
            .bind(column(rows, |r| r.last_seen_at))
            .bind(column(rows, |r| r.created_at))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    const INDEX_STEP: &'static [&'static str] = &INDEX_STEP;

    /// Up to `safe`, the highest seq below which no open writer transaction can still commit a
    /// row. One collector steps at a time: the state row's lock, and the others skip.
    async fn begin_index_step(
        &self,
    ) -> StoreResult<Option<(sqlx::Transaction<'static, Postgres>, i64, i64)>> {
        let mut tx = self.pool.begin().await?;
        let from: Option<i64> = sqlx::query_scalar(
            "SELECT indexed_through FROM log_index_state WHERE id = 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(from) = from else {
            return Ok(None); // another collector is stepping
        };
        let safe = self.committed_seq().await?;
        if safe <= from {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some((tx, from, safe)))
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Assigning a transaction id makes even this statement's commit write a WAL record.
    async fn probe_write(&self) -> StoreResult<()> {
        sqlx::query("SELECT txid_current()")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Takes [`WRITERS_LOCK`] first, before the group draws a seq: from then until its end the
    /// follower sees it in `pg_locks`. Shared, so groups never wait for each other on it.
    async fn begin_write_group(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
            .bind(WRITERS_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A transaction-scoped advisory lock inside a transaction the lease keeps open: other
    /// collectors get `false`, and a crash or lost connection releases it with the transaction.
    async fn lease(&self, name: super::LeaseName) -> StoreResult<Option<super::Lease>> {
        let mut tx = self.pool.begin().await?;
        let granted: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(name.key())
            .fetch_one(&mut *tx)
            .await?;
        Ok(granted.then(|| super::Lease::postgres(tx)))
    }

    /// Nothing (`--retention-vacuum` included): PostgreSQL has no secure delete. Deleted
    /// tuples stay in their pages until (auto)vacuum marks the space reusable and later writes
    /// overwrite it; neither scrubs. A `VACUUM FULL` rewrites a table into new files, but the
    /// old files' blocks are only unlinked, not overwritten, and it locks the table. Encrypt
    /// the volume if deleted text must be unrecoverable.
    async fn scrub_freed(&self, _vacuum: bool) -> StoreResult<()> {
        Ok(())
    }

    /// One upsert per round of claims, keys in order (so two collectors lock shared keys in the
    /// same order and cannot deadlock on them): a key whose slot's window holds the claimed
    /// first-seen time keeps its row, otherwise the claim takes the slot over.
    async fn claim_dedup_slots(
        tx: &mut sqlx::Transaction<'static, Postgres>,
        rounds: &[Vec<SlotClaim>],
        window_us: i64,
        now_us: i64,
    ) -> StoreResult<Option<Vec<SlotOwner>>> {
        let mut owners = Vec::with_capacity(rounds.iter().map(Vec::len).sum());
        for round in rounds {
            let keys: Vec<uuid::Uuid> =
                round.iter().map(|c| uuid::Uuid::from_u128(c.key)).collect();
            let rows: Vec<uuid::Uuid> = round.iter().map(|c| c.row_id).collect();
            let firsts: Vec<i64> = round.iter().map(|c| c.first_seen_us).collect();
            let decided: Vec<(uuid::Uuid, uuid::Uuid, i64)> = sqlx::query_as(CLAIM_DEDUP_SLOTS)
                .bind(&keys)
                .bind(&rows)
                .bind(&firsts)
                .bind(now_us)
                .bind(window_us)
                .fetch_all(&mut **tx)
                .await?;
            let by_key: std::collections::HashMap<u128, (uuid::Uuid, i64)> = decided
                .into_iter()
                .map(|(key, row, first)| (key.as_u128(), (row, first)))
                .collect();
            for claim in round {
                let (row_id, first_seen_us) = by_key
                    .get(&claim.key)
                    .copied()
                    .unwrap_or((claim.row_id, claim.first_seen_us));
                owners.push(SlotOwner {
                    key: claim.key,
                    row_id,
                    first_seen_us,
                });
            }
        }
        Ok(Some(owners))
    }

    async fn prune_dedup_slots(&self, horizon_us: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM log_dedup_slots WHERE touched_us < $1")
            .bind(horizon_us)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One upsert under the bucket row's lock, so concurrent charges from any collector queue
    /// on it and each sees the tokens the previous one left.
    async fn take_rate_tokens(&self, r: &RateRequest) -> StoreResult<Option<Result<(), f64>>> {
        let (passed, tokens): (bool, f64) = sqlx::query_as(TAKE_RATE_TOKENS)
            .bind(r.key)
            .bind(r.tokens)
            .bind(r.rate)
            .bind(r.burst)
            .bind(r.now_us)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(if passed {
            Ok(())
        } else {
            Err((r.tokens - tokens) / r.rate)
        }))
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        self.hash_legacy_keys().await
    }
}

/// The shared dedup window's arbitration (migration 0010): $1 keys, $2 rows, $3 first-seen
/// times (one element per claim, keys distinct), $4 now, $5 the window. `s` is the slot as
/// stored: its row keeps the key while the claimed first-seen time is inside its window.
const CLAIM_DEDUP_SLOTS: &str = "INSERT INTO log_dedup_slots AS s \
     (key_hash, row_id, first_seen_us, touched_us) \
     SELECT k, r, f, $4 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[]) AS c(k, r, f) ORDER BY k \
     ON CONFLICT (key_hash) DO UPDATE SET \
       row_id = CASE WHEN abs(EXCLUDED.first_seen_us - s.first_seen_us) < $5 \
                THEN s.row_id ELSE EXCLUDED.row_id END, \
       first_seen_us = CASE WHEN abs(EXCLUDED.first_seen_us - s.first_seen_us) < $5 \
                       THEN s.first_seen_us ELSE EXCLUDED.first_seen_us END, \
       touched_us = EXCLUDED.touched_us \
     RETURNING key_hash, row_id, first_seen_us";

/// New log rows, one array per column ([`Dialect::insert_log_rows`]): one statement and one plan
/// for a whole write group.
const INSERT_LOGS_UNNEST: &str = "INSERT INTO app_logs (id, project_id, timestamp, level, \
     source, message, module, function, trace_id, span_id, user_id, request_method, request_path, \
     request_data, response_status, duration_ms, extra_data, dedup_count, first_seen_at, \
     last_seen_at, created_at) \
     SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::text[], \
       $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
       $13::text[], $14::jsonb[], $15::int4[], $16::float8[], $17::jsonb[], $18::int8[], \
       $19::int8[], $20::int8[], $21::int8[])";

/// The tokens an existing bucket `b` holds at the charge's time (`EXCLUDED.updated_us`): what it
/// had plus the refill since its last charge (none if the clock went back), at most the burst.
macro_rules! refilled {
    () => {
        "LEAST($4, b.tokens + GREATEST(0, EXCLUDED.updated_us - b.updated_us) * $3 / 1e6::float8)"
    };
}

/// A token bucket charge (migration 0012), [`crate::ingest::ratelimit::TokenBucket::take`] in
/// SQL: $1 key, $2 tokens to take (≤ burst), $3 refill per second, $4 burst, $5 now in µs (NULL:
/// the database's clock). A new bucket starts full; an existing one refills for the time since
/// its last charge, up to the burst, then gives the tokens if it has them. Every SET expression
/// reads the row as it was, so `passed` and `tokens` agree.
const TAKE_RATE_TOKENS: &str = concat!(
    "INSERT INTO ingest_rate_buckets AS b (key_id, tokens, updated_us, passed) \
     SELECT $1, $4 - $2, t.now_us, true FROM (SELECT COALESCE($5::int8, \
       (extract(epoch FROM clock_timestamp()) * 1e6)::int8) AS now_us) t \
     ON CONFLICT (key_id) DO UPDATE SET passed = ",
    refilled!(),
    " >= $2, tokens = ",
    refilled!(),
    " - CASE WHEN ",
    refilled!(),
    " >= $2 THEN $2 ELSE 0 END, \
     updated_us = GREATEST(b.updated_us, EXCLUDED.updated_us) \
     RETURNING passed, tokens"
);

/// The driver the shared statements are compiled against here.
type Db = Postgres;
/// The store they are implemented for.
type This = PgStore;
#[path = "statements/alerts.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod alerts;
#[path = "statements/auth.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod auth;
#[path = "statements/monitoring.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod monitoring;
#[path = "statements/read.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod read;
#[path = "statements/retention.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod retention;
#[path = "statements/write.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod write;
