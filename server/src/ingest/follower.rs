//! The index follower: the last stage of ingest, after the acknowledgement. The writer commits
//! a batch's rows to `app_logs` only (time-ordered, cheap to append); this task then writes the
//! trace, user and full-text entries of everything committed since its last step, in large
//! transactions sorted by key, where each index page is written once per step instead of once
//! per row. Queries stay exact at any lag: they scan the rows it has not reached yet.
//!
//! Under load a full step is followed at once by the next, so the tail stays about one step
//! long; idle, it wakes every `interval` to find little or nothing to do.

use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long to wait after a failed step (the database may be full or briefly locked).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs steps of at most `batch_rows` rows every `interval` (at once after a full step) until
/// `stopping` turns true; a step in progress finishes first.
pub async fn periodic(
    store: Arc<dyn Store>,
    interval: Duration,
    batch_rows: i64,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let pause = match store.index_logs(batch_rows).await {
            Ok(step) if step.pending > 0 => Duration::ZERO,
            Ok(_) => interval,
            Err(e) => {
                tracing::warn!(error = %e, "index follower step failed; retrying");
                RETRY_AFTER
            }
        };
        if *stopping.borrow() {
            return;
        }
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopping.changed() => return,
            }
        } else {
            // Let the writer take the write lock between two steps.
            tokio::task::yield_now().await;
        }
    }
}
