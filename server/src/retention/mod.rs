//! Retention: rows past their level's retention are archived to gzip JSON-lines files and only
//! then deleted, in batches, so a row is never deleted unless a durable archive holds it.
//!
//! - [`plan`]: the policy (days per level, cutoffs, file names); pure.
//! - [`archive`]: writing and reading archive files; blocking, run under `spawn_blocking`.
//!
//! [`run_once`] is one run (the collector's periodic job and `tracewire retention run`); it takes
//! the retention lease first, so with several collectors on one PostgreSQL only one runs. A batch
//! whose archive fails deletes nothing and ends the run with the error. A run stopped between an
//! archive and its delete (a crash) archives those rows again next time: archives may then hold
//! a row twice, the database never loses one that no archive holds.
//!
//! Deleted text does not stay readable on SQLite: connections run with `secure_delete` (deleted
//! rows and freed pages are zeroed, the FTS index deletes for real), and a run that deleted
//! rows ends with a TRUNCATE checkpoint, since the WAL still holds every inserted row. Pages
//! SQLite rebalanced may keep fragments in their unused space; `--retention-vacuum` rebuilds
//! the file to leave none. PostgreSQL has no equivalent (see `PgStore::scrub_freed`).

pub mod archive;
pub mod plan;

use crate::clock;
use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::store::{
    AuditRecord, ExceptionEventRecord, Keyset, LeaseName, LogRow, MetricRow, Store,
};
use archive::ArchiveFile;
use plan::{RetentionPolicy, Target};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// What a run needs to know.
#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Days each log level is kept; exception occurrences and metrics follow the longest.
    pub policy: RetentionPolicy,
    /// Directory of the archive files, created 0700 if missing; also the audit row's target.
    pub archive_dir: PathBuf,
    /// Rows per batch (one file and one delete transaction).
    pub batch: u32,
    /// Rebuild the SQLite file after a run that deleted rows (`--retention-vacuum`).
    pub vacuum: bool,
}

impl RetentionSettings {
    /// From the `--retention-*` and `--archive-dir` settings.
    pub fn from_config(config: &ServeConfig) -> Self {
        Self {
            policy: RetentionPolicy::from_config(config),
            archive_dir: config.archive_dir.clone(),
            batch: config.retention_batch.max(1),
            vacuum: config.retention_vacuum,
        }
    }
}

/// One archived and deleted batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// SQL table the rows came from (`app_logs`, `exception_events`, `performance_metrics`).
    pub table: &'static str,
    /// The log level the batch holds; `None` for exception occurrences and metrics.
    pub level: Option<&'static str>,
    /// Rows written to the archive.
    pub archived: u64,
    /// Rows deleted (fewer than archived only if another process deleted some meanwhile).
    pub deleted: u64,
    /// Oldest and newest timestamp in the batch (µs).
    pub time_range: (i64, i64),
    /// The archive holding exactly the rows this batch deleted.
    pub file: ArchiveFile,
}

/// What a [`run_once`] that finished did (a failed run returns its error instead; the batches
/// before the failure stay archived and deleted).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// Another collector held the lease; nothing was done.
    pub skipped: bool,
    /// Every batch, in order.
    pub batches: Vec<BatchReport>,
}

impl RunReport {
    /// Rows archived in all batches.
    pub fn archived(&self) -> u64 {
        self.batches.iter().map(|b| b.archived).sum()
    }

    /// Rows deleted in all batches.
    pub fn deleted(&self) -> u64 {
        self.batches.iter().map(|b| b.deleted).sum()
    }
}

/// The rows of one batch, by table.
enum Batch {
    Logs(Vec<LogRow>),
    Events(Vec<ExceptionEventRecord>),
    Metrics(Vec<MetricRow>),
}

impl Batch {
    async fn fetch(
        store: &dyn Store,
        target: Target,
        cutoff_us: i64,
        after: Keyset,
        limit: u32,
    ) -> Result<Self> {
        Ok(match target {
            Target::Logs(level) => Batch::Logs(
                store
                    .expired_logs(level.as_str(), cutoff_us, after, limit)
                    .await?,
            ),
            Target::ExceptionEvents => Batch::Events(
                store
                    .expired_exception_events(cutoff_us, after, limit)
                    .await?,
            ),
            Target::Metrics => {
                Batch::Metrics(store.expired_metrics(cutoff_us, after, limit).await?)
            }
        })
    }

    /// (timestamp, id) of every row, in walk order.
    fn keys(&self) -> Vec<Keyset> {
        let key = |time_us, id| Keyset { time_us, id };
        match self {
            Batch::Logs(r) => r.iter().map(|r| key(r.timestamp, r.id)).collect(),
            Batch::Events(r) => r.iter().map(|r| key(r.timestamp, r.id)).collect(),
            Batch::Metrics(r) => r.iter().map(|r| key(r.timestamp, r.id)).collect(),
        }
    }

    fn write(&self, dir: &Path, name: &str) -> std::io::Result<ArchiveFile> {
        match self {
            Batch::Logs(r) => archive::write_archive(dir, name, r),
            Batch::Events(r) => archive::write_archive(dir, name, r),
            Batch::Metrics(r) => archive::write_archive(dir, name, r),
        }
    }
}

/// Runs retention once at `now_us`: for each target, batches of expired rows are archived, then
/// exactly their ids deleted. `progress` sees each batch as it completes; `stop` is checked
/// between batches. An audit row (`retention.run`, by `actor`) records the outcome, failures too.
pub async fn run_once(
    store: &dyn Store,
    settings: &RetentionSettings,
    now_us: i64,
    actor: &str,
    mut progress: impl FnMut(&BatchReport) + Send,
    stop: impl Fn() -> bool + Send + Sync,
) -> Result<RunReport> {
    let Some(lease) = store.try_lease(LeaseName::Retention).await? else {
        tracing::info!("retention lease held by another collector; skipping this run");
        return Ok(RunReport {
            skipped: true,
            ..RunReport::default()
        });
    };
    let mut report = RunReport::default();
    let outcome = walk(store, settings, now_us, &mut report, &mut progress, &stop).await;
    lease.release().await;
    let details = json!({
        "archived": report.archived(),
        "deleted": report.deleted(),
        "files": report.batches.iter().map(|b| &b.file.path).collect::<Vec<_>>(),
        "error": outcome.as_ref().err().map(ToString::to_string),
    });
    let audit = AuditRecord {
        actor: actor.to_owned(),
        action: "retention.run".into(),
        target: Some(settings.archive_dir.display().to_string()),
        details,
    };
    if let Err(e) = store.insert_audit(&audit).await {
        tracing::warn!(error = %e, "recording the retention run in the audit log failed");
    }
    // Last, so the audit row's write is checkpointed too and the WAL ends empty.
    if report.deleted() > 0
        && let Err(e) = store.scrub_deleted(settings.vacuum).await
    {
        tracing::warn!(error = %e, "scrubbing deleted rows from the database files failed");
    }
    outcome.map(|()| report)
}

async fn walk(
    store: &dyn Store,
    settings: &RetentionSettings,
    now_us: i64,
    report: &mut RunReport,
    progress: &mut (impl FnMut(&BatchReport) + Send),
    stop: &(impl Fn() -> bool + Send + Sync),
) -> Result<()> {
    let run = Uuid::now_v7();
    let mut seq = 0u32;
    for (target, cutoff_us) in settings.policy.targets(now_us) {
        let mut after = Keyset::START;
        loop {
            if stop() {
                return Ok(());
            }
            let batch = Batch::fetch(store, target, cutoff_us, after, settings.batch).await?;
            let keys = batch.keys();
            let (Some(first), Some(last)) = (keys.first().copied(), keys.last().copied()) else {
                break;
            };
            seq += 1;
            let name = plan::archive_name(target, first.time_us, last.time_us, run, seq);
            let dir = settings.archive_dir.clone();
            let file = tokio::task::spawn_blocking(move || {
                batch
                    .write(&dir, &name)
                    .map_err(|e| Error::Archive(format!("{}: {e}", dir.join(&name).display())))
            })
            .await
            .map_err(|e| Error::Internal(format!("archive task failed: {e}")))??;
            // The archive is durable; only now may exactly these rows go.
            let ids: Vec<Uuid> = keys.iter().map(|k| k.id).collect();
            let deleted = store.delete_ids(target.table(), &ids).await?;
            let batch = BatchReport {
                table: target.table().name(),
                level: target.level().map(|l| l.as_str()),
                archived: keys.len() as u64,
                deleted,
                time_range: (first.time_us, last.time_us),
                file,
            };
            progress(&batch);
            report.batches.push(batch);
            if keys.len() < settings.batch as usize {
                break;
            }
            after = last;
        }
    }
    Ok(())
}

/// The collector's periodic job: a run every `interval` (the first one interval after start)
/// until `stopping` turns true; a run in progress finishes its current batch first.
pub async fn periodic(
    store: Arc<dyn Store>,
    settings: RetentionSettings,
    interval: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let stop = || *stopping.borrow();
        let log = |b: &BatchReport| {
            tracing::info!(table = b.table, level = b.level, archived = b.archived,
                deleted = b.deleted, file = %b.file.path.display(), "retention batch");
        };
        match run_once(
            store.as_ref(),
            &settings,
            clock::now_us(),
            "retention",
            log,
            stop,
        )
        .await
        {
            Ok(r) if !r.skipped => {
                tracing::info!(
                    archived = r.archived(),
                    deleted = r.deleted(),
                    "retention run finished"
                )
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "retention run failed; nothing unarchived was deleted")
            }
        }
    }
}
