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
use std::time::{Duration, Instant};
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
    let mut progress = Progress::default();
    loop {
        let pause = match store.index_logs(batch_rows).await {
            Ok(step) if step.pending > 0 => {
                progress.step(step.pending, batch_rows);
                Duration::ZERO
            }
            Ok(_) => {
                progress.step(0, batch_rows);
                interval
            }
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

/// How often a long catch-up (an upgrade's rebuild, a backlog) says how far it has to go.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Logs a long catch-up's progress: rows left when it starts (more than five steps behind) and
/// every [`REPORT_EVERY`], then once when it is done. Ordinary lag (a step or two) stays quiet.
#[derive(Default)]
struct Progress {
    /// When the catch-up being reported started, and when it was last reported.
    catching_up: Option<(Instant, Instant)>,
}

impl Progress {
    fn step(&mut self, pending: i64, batch_rows: i64) {
        let now = Instant::now();
        match &mut self.catching_up {
            None if pending > batch_rows.saturating_mul(5) => {
                report(pending);
                self.catching_up = Some((now, now));
            }
            None => {}
            Some((started, _)) if pending == 0 => {
                tracing::info!(
                    seconds = started.elapsed().as_secs(),
                    "index follower caught up: trace, user and text lookups are fast again"
                );
                self.catching_up = None;
            }
            Some((_, last)) if now.duration_since(*last) >= REPORT_EVERY => {
                report(pending);
                *last = now;
            }
            Some(_) => {}
        }
    }
}

fn report(pending: i64) {
    tracing::info!(
        rows_to_index = pending,
        "index follower catching up; lookups stay exact, scanning what is not indexed yet"
    );
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn only_a_long_catch_up_is_reported_and_its_end_once() {
        let mut p = Progress::default();
        p.step(30_000, 20_000);
        assert!(p.catching_up.is_none(), "a step or two behind stays quiet");
        p.step(150_000, 20_000);
        let (started, _) = p
            .catching_up
            .expect("more than five steps behind is reported");
        p.step(80_000, 20_000);
        assert_eq!(p.catching_up.map(|(s, _)| s), Some(started), "one catch-up");
        p.step(0, 20_000);
        assert!(p.catching_up.is_none(), "done is reported once");
    }
}
