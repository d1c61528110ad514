//! [`Shipper`]: a bounded in-memory queue of entries and the background task that turns it into
//! batches. Pushing never blocks and never allocates beyond the queue bound: when the collector
//! cannot keep up, the newest entries are dropped, counted, and the count reported in the next
//! batch as a WARNING log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tracewire_shared::Level;
use tracewire_shared::validate::{Limits, fit_exception, fit_log, fit_metric};
use tracewire_shared::wire::{
    DEFAULT_MAX_ENTRIES, ExceptionEntry, IngestBatch, LogEntry, MetricEntry, Sdk,
};

use crate::clock::now_rfc3339;
use crate::config::Config;
use crate::error::Error;
use crate::retry::deliver;
use crate::sink::Sink;
use crate::stats::{Counters, Stats};

/// The SDK name every batch carries.
pub const SDK_NAME: &str = "tracewire-middleware";

/// One queued entry of any kind.
#[derive(Debug)]
enum Entry {
    Log(LogEntry),
    Exception(ExceptionEntry),
    Metric(MetricEntry),
}

/// State shared by every [`Shipper`] handle and the background task. A std mutex is right here:
/// it is held only for a push or a pop, never across an await.
struct Shared {
    queue: Mutex<VecDeque<Entry>>,
    /// Set (under the queue lock) once shutdown starts; later pushes are refused.
    closed: AtomicBool,
    /// Drops not yet reported in a batch.
    unreported_drops: AtomicU64,
    /// Wakes the task when a full batch is waiting.
    batch_ready: Notify,
    capacity: usize,
    batch_size: usize,
    counters: Counters,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
        // A panic while holding the lock cannot leave a VecDeque half-updated.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

enum Command {
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to the queue and its sender task. Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct Shipper {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Shipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shipper")
            .field("capacity", &self.shared.capacity)
            .field("batch_size", &self.shared.batch_size)
            .finish_non_exhaustive()
    }
}

impl Shipper {
    /// Starts the background task on the current Tokio runtime, sending to `sink` with the
    /// batching, queue and retry settings of `config` (its endpoint and key are not used).
    pub fn spawn(sink: Arc<dyn Sink>, config: &Config) -> Result<Self, Error> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            closed: AtomicBool::new(false),
            unreported_drops: AtomicU64::new(0),
            batch_ready: Notify::new(),
            capacity: config.queue_capacity,
            batch_size: config.batch_size,
            counters: Counters::default(),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let worker = Worker {
            shared: Arc::clone(&shared),
            sink,
            max_retries: config.max_retries,
        };
        runtime.spawn(worker.run(receiver, config.flush_interval));
        Ok(Self { shared, commands })
    }

    /// Queues a log entry; `false` when it was dropped (queue full or shut down).
    ///
    /// Over-long fields are shortened to the collector's default limits first: a batch is
    /// atomic, so one 2 KB request path would otherwise cost every entry shipped beside it.
    pub fn push_log(&self, mut entry: LogEntry) -> bool {
        fit_log(&mut entry, &Limits::default());
        self.push(Entry::Log(entry))
    }

    /// Queues an exception; `false` when it was dropped.
    pub fn push_exception(&self, mut entry: ExceptionEntry) -> bool {
        fit_exception(&mut entry, &Limits::default());
        self.push(Entry::Exception(entry))
    }

    /// Queues a metric; `false` when it was dropped.
    pub fn push_metric(&self, mut entry: MetricEntry) -> bool {
        fit_metric(&mut entry, &Limits::default());
        self.push(Entry::Metric(entry))
    }

    fn push(&self, entry: Entry) -> bool {
        let shared = &self.shared;
        let mut queue = shared.lock();
        if shared.closed.load(Ordering::Acquire) {
            Counters::add(&shared.counters.dropped_after_shutdown, 1);
            return false;
        }
        if queue.len() >= shared.capacity {
            Counters::add(&shared.counters.dropped_queue_full, 1);
            shared.unreported_drops.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        queue.push_back(entry);
        let full = queue.len() >= shared.batch_size;
        drop(queue);
        if full {
            shared.batch_ready.notify_one();
        }
        true
    }

    /// Sends everything queued before this call and waits until each batch was delivered or
    /// given up. Returns at once after shutdown.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.commands.send(Command::Flush(ack)).is_ok() {
            let _ = done.await;
        }
    }

    /// Refuses new entries, sends everything queued, and stops the background task. Retries can
    /// make this take a while when the collector is down; wrap it in `tokio::time::timeout` to
    /// bound a shutdown.
    pub async fn shutdown(&self) {
        let (ack, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown(ack)).is_ok() {
            let _ = done.await;
        }
    }

    /// Delivery counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Entries waiting to be sent.
    pub fn queued(&self) -> usize {
        self.shared.lock().len()
    }
}

/// The background task's state.
struct Worker {
    shared: Arc<Shared>,
    sink: Arc<dyn Sink>,
    max_retries: u32,
}

impl Worker {
    async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>, every: Duration) {
        let mut ticker = tokio::time::interval_at(Instant::now() + every, every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Flush(ack)) => {
                        self.send_queued().await;
                        let _ = ack.send(());
                    }
                    Some(Command::Shutdown(ack)) => {
                        self.shared.closed.store(true, Ordering::Release);
                        drop(self.shared.lock());
                        self.send_queued().await;
                        let _ = ack.send(());
                        return;
                    }
                    // Every handle is gone: nobody can push any more, so drain and stop.
                    None => {
                        self.send_queued().await;
                        return;
                    }
                },
                () = self.shared.batch_ready.notified() => {
                    while self.shared.lock().len() >= self.shared.batch_size {
                        self.send_batch(self.shared.batch_size).await;
                    }
                }
                _ = ticker.tick() => self.send_queued().await,
            }
        }
    }

    /// Sends the entries queued now (not ones pushed meanwhile, so a flush under constant load
    /// still finishes) plus any pending drop report.
    async fn send_queued(&self) {
        let mut remaining = self.shared.lock().len();
        while remaining > 0 || self.shared.unreported_drops.load(Ordering::Relaxed) > 0 {
            let take = remaining.min(self.shared.batch_size);
            let taken = self.send_batch(take).await;
            if taken == 0 && remaining > 0 {
                // Someone else emptied the queue; nothing left to wait for.
                break;
            }
            remaining = remaining.saturating_sub(taken);
            if remaining == 0 {
                // A report for drops that happen during this flush waits for the next batch.
                break;
            }
        }
    }

    /// Pops up to `max` entries (one fewer when a drop report must ride along, to respect the
    /// collector's per-batch limit), delivers them and returns how many queued entries went out.
    async fn send_batch(&self, max: usize) -> usize {
        let drops = self.shared.unreported_drops.swap(0, Ordering::Relaxed);
        let room = if drops > 0 {
            max.min(DEFAULT_MAX_ENTRIES - 1)
        } else {
            max
        };
        let entries: Vec<Entry> = {
            let mut queue = self.shared.lock();
            let take = room.min(queue.len());
            queue.drain(..take).collect()
        };
        let taken = entries.len();
        if taken == 0 && drops == 0 {
            return 0;
        }
        let mut batch = new_batch();
        if drops > 0 {
            batch.logs.push(drop_report(drops));
        }
        for entry in entries {
            match entry {
                Entry::Log(log) => batch.logs.push(log),
                Entry::Exception(exception) => batch.exceptions.push(exception),
                Entry::Metric(metric) => batch.metrics.push(metric),
            }
        }
        deliver(&*self.sink, batch, self.max_retries, &self.shared.counters).await;
        taken
    }
}

/// An empty backend batch with a fresh id; retries reuse it unchanged.
fn new_batch() -> IngestBatch {
    IngestBatch {
        batch_id: uuid::Uuid::new_v4().to_string(),
        sdk: Some(Sdk {
            name: SDK_NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
        source: "backend".into(),
        logs: Vec::new(),
        exceptions: Vec::new(),
        metrics: Vec::new(),
    }
}

/// The WARNING that tells the collector's users entries were lost here, not in transit.
fn drop_report(drops: u64) -> LogEntry {
    LogEntry {
        level: Level::Warning.as_str().into(),
        message: format!("tracewire: dropped {drops} entries (queue full)"),
        timestamp: now_rfc3339(),
        module: Some(SDK_NAME.into()),
        extra_data: Some(serde_json::json!({ "dropped": drops })),
        ..LogEntry::default()
    }
}
