//! [`Core`]: the logger's state machine. The glue feeds it calls and time, asks it what to send
//! ([`Core::poll`], [`Core::page_hide`]) and reports what happened ([`Core::on_outcome`]).
//! It performs no I/O itself, so every interleaving can be replayed natively in tests.

use super::config::{
    Config, KEEPALIVE_BUDGET_BYTES, MAX_OPEN_ENTRIES, PERSIST_DELAY_MS, REQUEST_TIMEOUT_MS,
};
use super::drops::{DROPS_PREFIX, DropKind, Drops};
use super::entry::{self, ExceptionInput, LogInput, Stamp, VitalInput};
use super::list::take_at;
use super::outbox::{Batch, Outbox};
use super::queue::OpenQueue;
use super::redact::KeyRedactor;
use super::retry;
use super::storage::{Random, Storage};
use super::trace::TraceState;
use tracewire_shared::Level;

mod accounting;

/// What became of a request the core asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The collector answered with this status (2xx means stored or already stored).
    Status {
        /// HTTP status code.
        status: u16,
        /// `Retry-After` in milliseconds, when the answer carried one.
        retry_after_ms: Option<f64>,
    },
    /// No answer: offline, DNS, CORS, connection reset, timeout.
    NetworkError,
}

/// One request the glue must perform.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// Quote it back in [`Core::on_outcome`].
    pub id: u64,
    /// Ingest URL with the key in the query string.
    pub url: String,
    /// JSON body, sent as `text/plain` so no CORS preflight is needed.
    pub body: String,
    /// True for page-hide sends: use `fetch(..., {keepalive: true})` or `sendBeacon`.
    pub keepalive: bool,
}

/// The logger core.
pub struct Core {
    cfg: Config,
    redactor: KeyRedactor,
    rng: Box<dyn Random>,
    outbox: Outbox,
    queue: OpenQueue,
    trace: TraceState,
    drops: Drops,
    /// This page's record of `drops` in storage (see [`DROPS_PREFIX`]).
    drops_key: String,
    online: bool,
    last_cut_ms: f64,
    /// When the batches cut since the last write are written at the latest.
    persist_at: Option<f64>,
    next_request_id: u64,
    /// Requests issued and not yet answered, newest last: a late success (a keepalive send that
    /// outlived its timeout) still removes its batch instead of leaving it to be sent again.
    issued: Vec<(u64, String)>,
    /// Batches evicted while a request for them could still land (a send that outlived its
    /// timeout), with the ids of those requests. Counting them as lost at eviction would count
    /// a late delivery twice, once arrived and once lost; so they stay at risk until a verdict:
    /// a 2xx means delivered, the failure of every one of them means lost.
    unsettled: Vec<(Vec<u64>, Batch)>,
}

/// Most unanswered requests remembered.
const MAX_ISSUED: usize = 64;

impl Core {
    /// A core over `storage`, picking up whatever an earlier page load left there.
    pub fn new(cfg: Config, storage: Box<dyn Storage>, mut rng: Box<dyn Random>, now: f64) -> Self {
        let cfg = cfg.sanitized();
        let tab = cfg.tab.unwrap_or_else(|| {
            let mut tab = [0u8; 2];
            rng.fill(&mut tab);
            u16::from_le_bytes(tab)
        });
        let mut outbox = Outbox::load(
            storage,
            cfg.max_buffered_entries,
            cfg.max_buffered_bytes,
            tab,
        );
        let mut drops_key = String::with_capacity(DROPS_PREFIX.len() + 5);
        drops_key.push_str(DROPS_PREFIX);
        drops_key.push(':');
        outbox.push_tab(&mut drops_key);
        let drops = Drops::adopt(outbox.storage(), &drops_key);
        let trace = TraceState::new(rng.as_mut());
        let mut me = Self {
            redactor: KeyRedactor::new(&cfg.redact_keys),
            queue: OpenQueue::new(cfg.dedup_window_ms),
            cfg,
            rng,
            outbox,
            trace,
            drops,
            drops_key,
            online: true,
            last_cut_ms: now,
            persist_at: None,
            next_request_id: 1,
            issued: Vec::new(),
            unsettled: Vec::new(),
        };
        me.save_drops();
        me
    }

    /// Records a log call. Cheap: the entry is deduplicated into the open queue; JSON for the
    /// wire is finished when the batch is cut.
    pub fn log(&mut self, input: LogInput<'_>, now: f64) {
        if input.level < self.cfg.min_level {
            return;
        }
        if self.cfg.sample_rate < 1.0 && self.rng.unit() >= self.cfg.sample_rate {
            self.drops.add(DropKind::Sampled, 1);
            self.save_drops();
            return;
        }
        let at = input.at_ms;
        let body = entry::log_body(input, self.stamp(), &self.redactor);
        self.queue.push_log(body, at);
        self.after_push(now);
    }

    /// The page's redaction rule, for text written outside an entry (a non-string message).
    pub fn redactor(&self) -> &KeyRedactor {
        &self.redactor
    }

    /// Records an exception (never sampled: errors are what the logger is for).
    pub fn exception(&mut self, input: ExceptionInput<'_>, now: f64) {
        let json = entry::exception_json(input, self.stamp(), &self.redactor);
        self.queue.push_exception(json);
        self.after_push(now);
    }

    /// Records a web vital (never sampled: one per vital and page view). A value that is not a
    /// finite, non-negative number is left out.
    pub fn vital(&mut self, input: VitalInput<'_>, now: f64) {
        if let Some(json) = entry::vital_json(input, &self.redactor) {
            self.queue.push_metric(json);
            self.after_push(now);
        }
    }

    /// Counts entries the glue had to drop before they reached the core (its own queue caps).
    pub fn record_dropped(&mut self, kind: DropKind, n: u64) {
        self.drops.add(kind, n);
        self.save_drops();
    }

    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            trace_id: self.trace.trace_id_str(),
            user_id: self.cfg.user_id.as_deref(),
            context: &self.cfg.context,
        }
    }

    fn after_push(&mut self, now: f64) {
        if self.queue.len() >= MAX_OPEN_ENTRIES {
            self.cut(now);
        }
    }

    /// Time passes: cuts a batch when `batchSize` entries wait or the interval has elapsed,
    /// and writes the batches whose delay is up.
    pub fn tick(&mut self, now: f64) {
        if self.persist_at.is_some_and(|at| now >= at) {
            self.persist_pending();
        }
        if !self.queue.is_empty()
            && (self.queue.len() >= self.cfg.batch_size
                || now - self.last_cut_ms >= self.cfg.flush_interval_ms)
        {
            self.cut(now);
        }
    }

    /// Cuts everything queued into batches now and makes the oldest batch due immediately
    /// (`flush()`).
    pub fn flush(&mut self, now: f64) {
        self.cut(now);
        if let Some(head) = self.outbox.front_mut() {
            head.not_before = head.not_before.min(now);
        }
    }

    fn cut(&mut self, now: f64) {
        self.last_cut_ms = now;
        if self.queue.is_empty() {
            return;
        }
        // Drop counts ride along with real entries only: a report alone could loop forever
        // against a collector that rejects everything.
        let mut report = None;
        if let Some((json, counts)) =
            self.drops
                .take_report(self.trace.trace_id_str(), self.cfg.user_id.as_deref(), now)
        {
            self.queue.push_report(json);
            report = Some(counts);
        }
        let sdk = self.cfg.sdk_version.clone();
        for cut in self.queue.drain_batches(&sdk, self.rng.as_mut()) {
            let key = self.outbox.next_key(now);
            let evicted = self.outbox.push(Batch {
                key: key.clone(),
                body: cut.body,
                entries: cut.entries,
                report: if cut.has_report { report.take() } else { None },
                attempts: 0,
                not_before: now,
                in_flight: None,
                persisted: false,
            });
            if let Some(b) = self.outbox.iter().find(|b| b.key == key && !b.persisted) {
                self.drops.at_risk += b.at_risk();
            }
            for b in evicted {
                self.evict(b);
            }
        }
        self.persist_at.get_or_insert(now + PERSIST_DELAY_MS);
        self.save_drops();
    }

    /// The next request to perform, if one is due. At most one batch is in flight at a time so
    /// the buffer drains in order.
    pub fn poll(&mut self, now: f64) -> Option<SendRequest> {
        self.tick(now);
        for batch in self.outbox.iter_mut() {
            if let Some((_, since)) = batch.in_flight
                && now - since > REQUEST_TIMEOUT_MS
            {
                batch.in_flight = None;
            }
        }
        if !self.online || self.outbox.iter().any(|b| b.in_flight.is_some()) {
            return None;
        }
        let id = self.next_request_id;
        let head = self.outbox.front_mut()?;
        if head.not_before > now {
            return None;
        }
        self.next_request_id += 1;
        head.in_flight = Some((id, now));
        let (key, body) = (head.key.clone(), head.body.clone());
        self.remember(id, key);
        Some(SendRequest {
            id,
            url: self.cfg.url.clone(),
            body,
            keepalive: false,
        })
    }

    /// The page is hiding or unloading: cuts everything and returns keepalive requests for
    /// the oldest batches that fit the browser's 64 KiB keepalive budget. Every batch stays
    /// stored until acknowledged, so what does not fit (or never arrives) goes next time.
    pub fn page_hide(&mut self, now: f64) -> Vec<SendRequest> {
        self.cut(now);
        self.persist_pending();
        let mut out = Vec::new();
        if !self.online {
            return out;
        }
        let mut budget = KEEPALIVE_BUDGET_BYTES;
        for batch in self.outbox.iter_mut() {
            if batch.in_flight.is_some() {
                continue;
            }
            if batch.body.len() > budget {
                break;
            }
            budget -= batch.body.len();
            let id = self.next_request_id;
            self.next_request_id += 1;
            batch.in_flight = Some((id, now));
            if self.issued.len() >= MAX_ISSUED {
                take_at(&mut self.issued, 0);
            }
            self.issued.push((id, batch.key.clone()));
            out.push(SendRequest {
                id,
                url: self.cfg.url.clone(),
                body: batch.body.clone(),
                keepalive: true,
            });
        }
        out
    }

    fn remember(&mut self, id: u64, key: String) {
        if self.issued.len() >= MAX_ISSUED {
            take_at(&mut self.issued, 0);
        }
        self.issued.push((id, key));
    }

    /// Reports what became of request `id`.
    pub fn on_outcome(&mut self, id: u64, outcome: Outcome, now: f64) {
        let delivered = matches!(
            outcome,
            Outcome::Status {
                status: 200..=299,
                ..
            }
        );
        if let Some(pos) = self.unsettled.iter().position(|(ids, _)| ids.contains(&id)) {
            let Some((ids, _)) = self.unsettled.get_mut(pos) else {
                return;
            };
            ids.retain(|r| *r != id);
            if (delivered || ids.is_empty())
                && let Some((_, batch)) = take_at(&mut self.unsettled, pos)
            {
                self.settle(batch, delivered);
                self.save_drops();
            }
            return;
        }
        let Some(pos) = self.issued.iter().position(|(r, _)| *r == id) else {
            return; // unknown or long forgotten
        };
        let Some((_, key)) = take_at(&mut self.issued, pos) else {
            return;
        };
        let current = self
            .outbox
            .iter()
            .any(|b| b.key == key && b.in_flight.is_some_and(|(r, _)| r == id));
        if !current && !delivered {
            return; // a stale failure: the batch was re-sent or left meanwhile
        }
        let retryable = match outcome {
            Outcome::Status { status, .. } if (200..300).contains(&status) => {
                if let Some(b) = self.outbox.remove(&key) {
                    self.acked(&b);
                    self.save_drops();
                }
                return;
            }
            Outcome::Status { status, .. }
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                // The collector will never accept this batch; the only reason to drop.
                if let Some(b) = self.outbox.remove(&key) {
                    self.forget(b, DropKind::Rejected);
                    self.save_drops();
                }
                return;
            }
            o => o,
        };
        let (max_retries, base) = (self.cfg.max_retries, self.cfg.retry_delay_ms);
        let rng = self.rng.as_mut();
        if let Some(batch) = self.outbox.iter_mut().find(|b| b.key == key) {
            batch.in_flight = None;
            batch.attempts += 1;
            let delay = match retryable {
                Outcome::Status {
                    status: 429,
                    retry_after_ms,
                } => retry::rate_limited_delay(retry_after_ms, base, batch.attempts, rng),
                _ => retry::backoff_delay(base, batch.attempts, rng),
            };
            if batch.attempts > max_retries {
                // Rests in the offline buffer; a later round, `online` or a reload retries it.
                batch.attempts = 0;
                batch.not_before = now + delay.max(retry::PARKED_RETRY_MS);
            } else {
                batch.not_before = now + delay;
            }
        }
        // It has to wait now, and likely the batches behind it too: into storage.
        self.persist_pending();
    }

    /// Takes over the stored batches and drop counters of tabs that have closed (the glue calls
    /// this when this tab becomes the one that drains the shared buffer), so they leave now
    /// instead of on the next page load. The bounds hold afterwards; what they evict is counted.
    pub fn adopt(&mut self) {
        self.outbox.adopt();
        let gone = Drops::adopt(self.outbox.storage(), &self.drops_key);
        self.drops.merge(&gone);
        for b in self.outbox.enforce_bounds() {
            self.evict(b);
        }
        self.save_drops();
    }

    /// `navigator.onLine` changed. Coming online retries the buffer at once.
    pub fn set_online(&mut self, online: bool, now: f64) {
        if online && !self.online {
            for batch in self.outbox.iter_mut() {
                batch.attempts = 0;
                batch.not_before = batch.not_before.min(now);
            }
        }
        self.online = online;
        if !online {
            self.persist_pending();
        }
    }

    /// When the glue should call [`Core::poll`] next (epoch ms), if anything is pending.
    pub fn next_wake(&self) -> Option<f64> {
        let cut = (!self.queue.is_empty()).then_some(self.last_cut_ms + self.cfg.flush_interval_ms);
        let send = self
            .outbox
            .iter()
            .next()
            .filter(|b| self.online && b.in_flight.is_none())
            .map(|b| b.not_before);
        let due = match (cut, send) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (due, self.persist_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sets the user attached to later entries.
    pub fn set_user(&mut self, user_id: Option<String>) {
        self.cfg.user_id = user_id;
    }

    /// Starts a new trace for later entries and requests (e.g. on a client-side navigation).
    pub fn new_trace(&mut self) -> String {
        self.trace.renew(self.rng.as_mut());
        self.trace.trace_id_str().to_owned()
    }

    /// Continues a trace chosen outside the core (the JS entry starts one before wasm loads).
    pub fn set_trace(&mut self, trace_id: &str) -> bool {
        self.trace.set(trace_id)
    }

    /// `traceparent` with a fresh span for one outgoing request, and the trace id.
    pub fn trace_headers(&mut self) -> (String, String) {
        self.trace.headers(self.rng.as_mut())
    }

    /// Batches waiting for acknowledgement.
    pub fn pending_batches(&self) -> usize {
        self.outbox.len()
    }

    /// Distinct entries not yet cut into a batch.
    pub fn queued_entries(&self) -> usize {
        self.queue.len()
    }

    /// Calls not yet cut into a batch (a deduplicated entry counts its calls): what a crash of
    /// the tab would take with it, uncounted, as with any in-memory queue.
    pub fn queued_calls(&self) -> u64 {
        self.queue.calls()
    }

    /// Drops counted but not yet reported, per kind.
    pub fn unreported_drops(&self) -> Drops {
        self.drops.clone()
    }

    /// The minimum level, so the glue can skip work for filtered calls.
    pub fn min_level(&self) -> Level {
        self.cfg.min_level
    }
}
