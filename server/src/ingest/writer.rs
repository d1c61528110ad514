//! The single writer: every accepted batch goes through one bounded queue to one task, which
//! takes whatever has queued up (up to a limit) and writes it in ONE transaction. Under load
//! this turns thousands of small commits into a few large ones; under light load a batch is
//! written alone, at once. A batch is acknowledged only after its group's commit returned.
//!
//! If a group fails, each of its batches is retried alone, so one bad batch cannot fail its
//! neighbours; whatever still fails is answered with an error (the client retries with the same
//! batch_id, which idempotency makes safe).
//!
//! The writer also tracks whether the database accepts writes ([`WriteHealth`], read by
//! `/readyz`): a failed write marks it failing, the next successful one clears it, and while it
//! is failing a cheap write probe runs every `probe_interval`, so readiness comes back once
//! space is freed even when no client sends anything.

use super::dedup::{DedupIndex, key_hash};
use crate::clock::now_us;
use crate::monitoring::aggregate::{Aggregator, DEFAULT_MAX_SERIES};
use crate::monitoring::observe::{RequestTiming, is_slow_statement, metric_observation};
use crate::store::{BatchRecord, ExceptionRow, LogRow, MetricRow, Store, StoreError, StoreResult};
use crate::store::{SlowQueryRow, SlowRequestRow};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracewire_shared::api::monitoring::{DEFAULT_SLOW_QUERY_MS, DEFAULT_SLOW_REQUEST_MS};
use tracewire_shared::fingerprint::{DedupKey, exception_fingerprint};
use tracewire_shared::validate::{Source, ValidBatch};
use tracewire_shared::wire::{Accepted, IngestResponse};
use uuid::Uuid;

/// Capacity and thresholds of the one writer task.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Batches that may wait for the writer; beyond this ingest answers 429.
    pub queue_capacity: usize,
    /// Most entries written in one transaction.
    pub max_group_entries: usize,
    /// Dedup window in microseconds (default 10 s, the logger's own window): a log whose first-seen
    /// time falls within it of a stored identical row is merged into that row.
    pub dedup_window_us: i64,
    /// Time between write probes while writes are failing.
    pub probe_interval: Duration,
    /// Requests at least this slow are recorded in `slow_requests` (seed property 5).
    pub slow_request_ms: f64,
    /// Statements at least this slow are recorded when the sender did not flag them.
    pub slow_query_ms: f64,
    /// Distinct metric series per project before new ones are dropped (and counted).
    pub max_series: usize,
    /// Whether request timings and metrics are aggregated at all; off only to measure what
    /// aggregation costs.
    pub aggregate: bool,
    /// Whether the dedup window is arbitrated in the database (PostgreSQL), so identical logs
    /// reaching several collectors collapse into one row; off saves a statement per group
    /// where one collector is alone on its database.
    pub shared_dedup: bool,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 512,
            max_group_entries: 20_000,
            dedup_window_us: tracewire_shared::wire::DEDUP_WINDOW_MS * 1000,
            probe_interval: Duration::from_secs(2),
            slow_request_ms: DEFAULT_SLOW_REQUEST_MS,
            slow_query_ms: DEFAULT_SLOW_QUERY_MS,
            max_series: DEFAULT_MAX_SERIES,
            aggregate: true,
            shared_dedup: true,
        }
    }
}

/// One validated, redacted batch waiting to be written.
pub struct WriteJob {
    /// Project the batch belongs to.
    pub project_id: Uuid,
    /// The validated, redacted entries; the writer may group it with other batches in one
    /// transaction.
    pub batch: ValidBatch,
    reply: oneshot::Sender<StoreResult<IngestResponse>>,
}

/// Why a batch was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: the caller should answer 429 and the client retry later.
    #[error("writer queue is full")]
    Full,
    /// The writer has stopped (shutdown in progress).
    #[error("writer has stopped")]
    Closed,
}

/// Whether the database accepted the writer's last write.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failure: Mutex<Option<String>>,
}

impl WriteHealth {
    /// Why the last write failed, while no write has succeeded since.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn is_failing(&self) -> bool {
        self.failure().is_some()
    }

    fn record<T>(&self, result: &StoreResult<T>) {
        let mut failure = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Ok(_) => {
                if failure.take().is_some() {
                    tracing::info!("database accepts writes again");
                }
            }
            Err(e) => {
                if failure.is_none() {
                    tracing::warn!(error = %e, "database does not accept writes; not ready");
                }
                *failure = Some(e.to_string());
            }
        }
    }
}

/// Cheap, cloneable handle to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteJob>,
    health: Arc<WriteHealth>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl WriterHandle {
    /// Whether the database currently accepts writes (shared with the writer task).
    pub fn health(&self) -> &Arc<WriteHealth> {
        &self.health
    }

    /// Metric observations dropped by the per-project series cap since start.
    pub fn series_dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues a batch without waiting; the receiver resolves after the commit.
    pub fn try_submit(
        &self,
        project_id: Uuid,
        batch: ValidBatch,
    ) -> Result<oneshot::Receiver<StoreResult<IngestResponse>>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        let job = WriteJob {
            project_id,
            batch,
            reply,
        };
        match self.tx.try_send(job) {
            Ok(()) => Ok(rx),
            Err(mpsc::error::TrySendError::Full(_)) => Err(SubmitError::Full),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SubmitError::Closed),
        }
    }

    /// Queues a batch, waiting for room; used by in-process producers that must not drop.
    pub async fn submit(
        &self,
        project_id: Uuid,
        batch: ValidBatch,
    ) -> Result<oneshot::Receiver<StoreResult<IngestResponse>>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        let job = WriteJob {
            project_id,
            batch,
            reply,
        };
        self.tx.send(job).await.map_err(|_| SubmitError::Closed)?;
        Ok(rx)
    }
}

/// Starts the writer. It stops once every handle is dropped and the queue is drained, so
/// awaiting the returned task after dropping the handles is a graceful shutdown.
pub async fn spawn(
    store: Arc<dyn Store>,
    config: WriterConfig,
) -> StoreResult<(WriterHandle, JoinHandle<()>)> {
    let mut index = DedupIndex::new(config.dedup_window_us);
    let now = now_us();
    for seed in store
        .recent_logs_for_dedup(now - config.dedup_window_us)
        .await?
    {
        if let Some(key) = seed_key(&seed) {
            index.seed(
                key_hash(seed.project_id, &key),
                seed.id,
                seed.first_seen_at,
                now,
            );
        }
    }
    let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
    let health = Arc::new(WriteHealth::default());
    let dropped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let task = tokio::spawn(run(
        store,
        config,
        index,
        rx,
        health.clone(),
        dropped.clone(),
    ));
    Ok((
        WriterHandle {
            tx,
            health,
            dropped,
        },
        task,
    ))
}

fn seed_key(seed: &crate::store::DedupSeed) -> Option<DedupKey> {
    let source = seed.source.parse::<Source>().ok()?;
    Some(DedupKey {
        source,
        level: seed.level.parse().ok()?,
        message: seed.message.clone(),
        module: seed.module.clone(),
        function: seed.function.clone(),
        trace_id: seed.trace_id.clone(),
        user_id: seed.user_id.clone(),
    })
}

async fn run(
    store: Arc<dyn Store>,
    config: WriterConfig,
    mut index: DedupIndex,
    mut rx: mpsc::Receiver<WriteJob>,
    health: Arc<WriteHealth>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut last_evict = now_us();
    let mut last_prune = now_us();
    let mut derive = Derive {
        aggregator: Aggregator::new(config.max_series),
        config: config.clone(),
        dropped: Arc::clone(&dropped),
    };
    let mut probe = tokio::time::interval(config.probe_interval);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job {
                Some(job) => job,
                None => break,
            },
            _ = probe.tick(), if health.is_failing() => {
                health.record(&store.write_probe().await);
                continue;
            }
        };
        let mut entries = entry_count(&first.batch);
        let mut group = vec![first];
        while entries < config.max_group_entries {
            match rx.try_recv() {
                Ok(job) => {
                    entries += entry_count(&job.batch);
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        metrics::gauge!(crate::telemetry::WRITER_QUEUE_DEPTH).set(rx.len() as f64);
        write_group(store.as_ref(), &mut index, &mut derive, &health, group).await;
        let now = now_us();
        if now - last_evict > 1_000_000 {
            index.evict(now);
            last_evict = now;
        }
        if now - last_prune > 10_000_000 {
            // The shared slots of keys no duplicate can reach any more (two windows, as the
            // index's eviction); any collector may prune them, a missed run only keeps rows.
            let horizon = now - 2 * index.window_us();
            if let Err(e) = store.prune_dedup_slots(horizon).await {
                tracing::warn!(error = %e, "pruning the shared dedup slots failed");
            }
            last_prune = now;
        }
    }
    tracing::debug!("writer drained and stopped");
}

async fn write_group(
    store: &dyn Store,
    index: &mut DedupIndex,
    derive: &mut Derive,
    health: &WriteHealth,
    group: Vec<WriteJob>,
) {
    let started = std::time::Instant::now();
    let mut first = write_once(store, index, derive, &group).await;
    // Another collector's transaction on the same rows (PostgreSQL picked this one to end a
    // deadlock, or a serializable conflict): nothing was written, so the whole group is tried
    // again before it is split up.
    for attempt in 1..=WRITE_CONFLICT_RETRIES {
        match &first {
            Err(e) if e.is_write_conflict() => {
                tracing::info!(error = %e, attempt, "write group conflicted with another writer; retrying");
                metrics::counter!(crate::telemetry::WRITER_FAILURES, "outcome" => "conflict")
                    .increment(1);
                let pause =
                    5 * u64::from(attempt) + u64::from(started.elapsed().subsec_nanos() % 10);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                first = write_once(store, index, derive, &group).await;
            }
            _ => break,
        }
    }
    metrics::histogram!(crate::telemetry::WRITER_COMMIT_SECONDS)
        .record(started.elapsed().as_secs_f64());
    health.record(&first);
    if first.is_err() {
        let outcome = if group.len() > 1 { "retried" } else { "failed" };
        metrics::counter!(crate::telemetry::WRITER_FAILURES, "outcome" => outcome).increment(1);
    }
    match first {
        Ok(responses) => {
            for (job, response) in group.into_iter().zip(responses) {
                answer(job, Ok(response));
            }
        }
        Err(e) if group.len() > 1 => {
            tracing::warn!(error = %e, batches = group.len(), "group write failed; retrying batches one by one");
            for job in group {
                let result = write_once(store, index, derive, std::slice::from_ref(&job))
                    .await
                    .and_then(|responses| responses.into_iter().next().ok_or(StoreError::NotFound));
                health.record(&result);
                if let Err(e) = &result {
                    tracing::error!(error = %e, batch_id = %job.batch.batch_id, "batch write failed");
                }
                answer(job, result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "batch write failed");
            if let Some(job) = group.into_iter().next() {
                answer(job, Err(e));
            }
        }
    }
}

/// Times a group that lost a lock conflict to another collector's writer is tried again whole.
const WRITE_CONFLICT_RETRIES: u32 = 3;

fn answer(job: WriteJob, result: StoreResult<IngestResponse>) {
    // The HTTP side may have given up (client gone); the data is committed either way.
    let _ = job.reply.send(result);
}

/// Entries of a batch, for the group size limit.
fn entry_count(batch: &ValidBatch) -> usize {
    batch.logs.len() + batch.exceptions.len() + batch.metrics.len()
}

/// Writes a group in one transaction; returns one response per job, in order.
async fn write_once(
    store: &dyn Store,
    index: &mut DedupIndex,
    derive: &mut Derive,
    group: &[WriteJob],
) -> StoreResult<Vec<IngestResponse>> {
    let now = now_us();
    // What a failed attempt observed is dropped with it; the retry observes again.
    derive.aggregator.drain();
    let mut slow_requests = Vec::new();
    let mut slow_queries = Vec::new();
    let mut tx = store.begin_write().await?;
    let ids: Vec<Uuid> = group.iter().map(|j| j.batch.batch_id).collect();
    let mut known: HashMap<Uuid, Accepted> = tx.existing_batches(&ids).await?;

    let mut planner = index.planner(now);
    let mut responses = Vec::with_capacity(group.len());
    let mut batches = Vec::new();
    let mut exceptions = Vec::new();
    let mut metrics = Vec::new();
    for job in group {
        let batch = &job.batch;
        if let Some(accepted) = known.get(&batch.batch_id) {
            responses.push(IngestResponse {
                batch_id: batch.batch_id.to_string(),
                accepted: *accepted,
                duplicate: true,
            });
            continue;
        }
        let accepted = Accepted {
            logs: batch.logs.len(),
            exceptions: batch.exceptions.len(),
            metrics: batch.metrics.len(),
        };
        known.insert(batch.batch_id, accepted);
        let source = batch.source.as_str();
        for log in &batch.logs {
            let hash = key_hash(job.project_id, &DedupKey::of(batch.source, log));
            let row = log_row(job.project_id, source, log, now);
            if let Some(slow) = derive.request(job.project_id, batch.source, log, row.id) {
                slow_requests.push(slow);
            }
            planner.add(hash, row);
        }
        for e in &batch.exceptions {
            exceptions.push(exception_row(job.project_id, source, e));
        }
        for m in &batch.metrics {
            if let Some(slow) = derive.metric(job.project_id, batch.source, m) {
                slow_queries.push(slow);
            }
            metrics.push(metric_row(job.project_id, source, m));
        }
        batches.push(BatchRecord {
            batch_id: batch.batch_id,
            project_id: job.project_id,
            logs: accepted.logs as i64,
            exceptions: accepted.exceptions as i64,
            metrics: accepted.metrics as i64,
            received_at: now,
        });
        responses.push(IngestResponse {
            batch_id: batch.batch_id.to_string(),
            accepted,
            duplicate: false,
        });
    }
    let mut plan = planner.finish();
    // With other collectors on the same database, the database decides which row a key's
    // duplicates go to (this index only knows this process's rows).
    if derive.config.shared_dedup {
        let rounds = plan.claims();
        if let Some(owners) = tx
            .claim_dedup_slots(&rounds, index.window_us(), now)
            .await?
        {
            plan.reconcile(&rounds, &owners);
        }
    }
    let inserted = plan.inserts.len();
    tx.insert_logs(&plan.inserts).await?;
    tx.bump_logs(&plan.bumps).await?;
    // Groups in fingerprint order, so collectors recording into the same groups lock them in the
    // same order; stable, so a group's occurrences keep their order (the last one is the latest).
    exceptions.sort_by(|a, b| (a.project_id, &a.fingerprint).cmp(&(b.project_id, &b.fingerprint)));
    for e in &exceptions {
        tx.record_exception(e).await?;
    }
    tx.insert_metrics(&metrics).await?;
    let derived = derive.aggregator.drain();
    tx.merge_aggregates(&derived.rows).await?;
    tx.insert_slow_requests(&slow_requests).await?;
    tx.insert_slow_queries(&slow_queries).await?;
    tx.insert_batches(&batches).await?;
    tx.commit().await?;
    index.apply(plan);
    let dropped: u64 = derived.dropped.values().sum();
    if dropped > 0 {
        derive
            .dropped
            .fetch_add(dropped, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!(crate::telemetry::METRIC_SERIES_DROPPED).increment(dropped);
    }
    record_stored(&responses, inserted);
    Ok(responses)
}

/// Counts a committed group for `/metrics`.
fn record_stored(responses: &[IngestResponse], inserted: usize) {
    use crate::telemetry::{DEDUP_COLLAPSED, INGEST_BATCHES, INGEST_ENTRIES};
    let mut stored = Accepted::default();
    for r in responses {
        let outcome = if r.duplicate { "duplicate" } else { "stored" };
        metrics::counter!(INGEST_BATCHES, "outcome" => outcome).increment(1);
        if !r.duplicate {
            stored.logs += r.accepted.logs;
            stored.exceptions += r.accepted.exceptions;
            stored.metrics += r.accepted.metrics;
        }
    }
    for (kind, n) in [
        ("logs", stored.logs),
        ("exceptions", stored.exceptions),
        ("metrics", stored.metrics),
    ] {
        metrics::counter!(INGEST_ENTRIES, "kind" => kind).increment(n as u64);
    }
    metrics::counter!(DEDUP_COLLAPSED).increment(stored.logs.saturating_sub(inserted) as u64);
}

/// What the writer derives from a batch besides its rows: aggregates of request timings and
/// metrics, and the slow requests and statements to keep one by one.
struct Derive {
    aggregator: Aggregator,
    config: WriterConfig,
    /// Observations dropped by the series cap since start, shared with `/metrics`.
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl Derive {
    /// Observes a request log; returns it as a slow request when it is one.
    fn request(
        &mut self,
        project_id: Uuid,
        source: Source,
        log: &tracewire_shared::validate::ValidLog,
        log_id: Uuid,
    ) -> Option<SlowRequestRow> {
        let timing = RequestTiming::of(log)?;
        if self.config.aggregate {
            self.aggregator
                .observe(timing.observation(project_id, source, log.timestamp_us));
        }
        timing
            .is_slow(self.config.slow_request_ms)
            .then(|| SlowRequestRow {
                id: Uuid::now_v7(),
                project_id,
                timestamp: log.timestamp_us,
                source: source.as_str().to_owned(),
                method: Some(timing.method.to_owned()),
                endpoint: timing.endpoint.as_deref().unwrap_or("").to_owned(),
                path: log.request_path.clone(),
                status: Some(timing.status),
                duration_ms: timing.duration_ms,
                trace_id: log.trace_id.clone(),
                log_id,
            })
    }

    /// Observes a `metrics` entry; returns it as a slow statement when it is one.
    fn metric(
        &mut self,
        project_id: Uuid,
        source: Source,
        m: &tracewire_shared::validate::ValidMetric,
    ) -> Option<SlowQueryRow> {
        if self.config.aggregate {
            self.aggregator
                .observe(metric_observation(project_id, source, m));
        }
        if !is_slow_statement(m, self.config.slow_query_ms) {
            return None;
        }
        let tag = |name: &str| m.tags.as_ref().and_then(|t| t.get(name));
        Some(SlowQueryRow {
            id: Uuid::now_v7(),
            project_id,
            timestamp: m.timestamp_us,
            summary: m.metric_name.clone(),
            statement: tag("statement").and_then(|v| v.as_str()).map(str::to_owned),
            duration_ms: m.value,
            row_count: tag("rows_returned")
                .or_else(|| tag("rows_affected"))
                .and_then(serde_json::Value::as_i64),
            endpoint: m.endpoint.clone(),
            trace_id: m.trace_id.clone(),
        })
    }
}

fn log_row(
    project_id: Uuid,
    source: &'static str,
    log: &tracewire_shared::validate::ValidLog,
    now: i64,
) -> LogRow {
    LogRow {
        id: Uuid::now_v7(),
        project_id,
        timestamp: log.timestamp_us,
        level: log.level.as_str().into(),
        source: source.into(),
        message: log.message.clone(),
        module: log.module.clone(),
        function: log.function.clone(),
        trace_id: log.trace_id.clone(),
        span_id: log.span_id.clone(),
        user_id: log.user_id.clone(),
        request_method: log.request_method.clone(),
        request_path: log.request_path.clone(),
        request_data: log.request_data.clone().map(sqlx::types::Json),
        response_status: log.response_status,
        duration_ms: log.duration_ms,
        extra_data: log.extra_data.clone().map(sqlx::types::Json),
        dedup_count: log.dedup_count,
        first_seen_at: log.first_seen_us,
        last_seen_at: log.last_seen_us,
        created_at: now,
    }
}

fn exception_row(
    project_id: Uuid,
    source: &'static str,
    e: &tracewire_shared::validate::ValidException,
) -> ExceptionRow {
    ExceptionRow {
        group_id: Uuid::now_v7(),
        event_id: Uuid::now_v7(),
        project_id,
        fingerprint: exception_fingerprint(
            &e.exception_type,
            &e.exception_message,
            e.stack_trace.as_deref(),
        ),
        source,
        exception_type: e.exception_type.clone(),
        exception_message: e.exception_message.clone(),
        stack_trace: e.stack_trace.clone(),
        timestamp: e.timestamp_us,
        trace_id: e.trace_id.clone(),
        span_id: e.span_id.clone(),
        user_id: e.user_id.clone(),
        request_path: e.request_path.clone(),
        exception_details: e.exception_details.clone().map(sqlx::types::Json),
        context_data: e.context_data.clone().map(sqlx::types::Json),
    }
}

fn metric_row(
    project_id: Uuid,
    source: &'static str,
    m: &tracewire_shared::validate::ValidMetric,
) -> MetricRow {
    MetricRow {
        id: Uuid::now_v7(),
        project_id,
        source: source.into(),
        metric_type: m.metric_type.clone(),
        metric_name: m.metric_name.clone(),
        value: m.value,
        unit: m.unit.clone(),
        timestamp: m.timestamp_us,
        endpoint: m.endpoint.clone(),
        trace_id: m.trace_id.clone(),
        tags: m.tags.clone().map(sqlx::types::Json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_holds_until_a_write_succeeds() {
        let health = WriteHealth::default();
        assert_eq!(health.failure(), None);
        health.record::<()>(&Err(StoreError::Conflict("disk full".into())));
        assert!(health.failure().is_some_and(|f| f.contains("disk full")));
        assert!(health.is_failing());
        health.record::<()>(&Err(StoreError::NotFound));
        assert_eq!(health.failure().as_deref(), Some("not found"));
        health.record(&Ok(()));
        assert_eq!(health.failure(), None);
    }
}
