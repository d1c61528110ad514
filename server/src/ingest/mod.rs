//! The ingest service behind `POST /api/v1/logging/logs`: key ▸ origin ▸ media type ▸ decode ▸
//! parse ▸ validate ▸ rate limit ▸ redact ▸ writer, in that order, so the cheapest refusals
//! come first and nothing reaches the writer unless the whole batch is valid (atomicity).
//! The HTTP layer only extracts headers and the body; all decisions live here.

mod decode;
pub mod dedup;
pub mod follower;
pub mod keys;
pub mod otlp;
pub mod ratelimit;
pub mod sentry;
pub mod writer;

use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::store::{KeyGrant, Store};
use bytes::Bytes;
use keys::KeyCache;
use ratelimit::RateLimiter;
use std::sync::Arc;
use tracewire_shared::redact::Redactor;
use tracewire_shared::validate::{self, Limits, Source, ValidBatch};
use tracewire_shared::wire::{IngestBatch, IngestResponse};
use uuid::Uuid;
use writer::{SubmitError, WriterHandle};

pub use decode::{ShapeLimits, decode_body};

/// Size limits of the ingest path.
#[derive(Debug, Clone)]
pub struct IngestLimits {
    /// Largest body as received (compressed or not); bigger is a 413 before it is all read.
    pub max_body_bytes: usize,
    /// Largest body after gzip decompression; bounds memory per decoded body (a 413 past it).
    pub max_decompressed_bytes: usize,
    /// JSON structure of one body, checked before it is parsed.
    pub shape: ShapeLimits,
    /// Bodies decoded and parsed at once off the async workers; each holds at most
    /// `max_decompressed_bytes` plus the values of `shape.max_elements` elements.
    pub decode_concurrency: usize,
    /// Per-field and per-batch limits of validation.
    pub validation: Limits,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_decompressed_bytes: 8 * 1024 * 1024,
            shape: ShapeLimits {
                max_elements: 250_000,
                max_depth: 64,
            },
            decode_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            validation: Limits::default(),
        }
    }
}

/// A batch id for a protocol without one (OTLP, an envelope without an event id): a UUID from
/// the SHA-256 of the body, so a client's retry of the same bytes is stored once.
fn body_uuid(body: &[u8]) -> Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Uncompressed bodies up to this size are parsed where they arrive: that takes well under a
/// millisecond, and the worker cannot run a second parse meanwhile, so memory stays bounded.
/// Anything larger, and every gzip body (its size is known only once inflated), is decoded on
/// the blocking pool under [`IngestLimits::decode_concurrency`].
const INLINE_PARSE_BYTES: usize = 64 * 1024;

/// One ingest request as the HTTP layer hands it over.
#[derive(Debug)]
pub struct IngestRequest<'a> {
    /// From `X-Tracewire-Key` or `?key=`.
    pub key: Option<&'a str>,
    /// The `Origin` header, sent by browsers.
    pub origin: Option<&'a str>,
    /// The `Content-Type` header: `application/json` or `text/plain`, both read as JSON, as is a
    /// missing one; anything else is a 415.
    pub content_type: Option<&'a str>,
    /// The `Content-Encoding` header: `gzip` (or `x-gzip`), `identity` or none; others are a 415.
    pub content_encoding: Option<&'a str>,
    /// The raw body (already within `max_body_bytes`).
    pub body: Bytes,
}

/// Shared state of the ingest path.
pub struct IngestService {
    keys: KeyCache,
    /// Permits of [`IngestLimits::decode_concurrency`].
    decoding: Arc<tokio::sync::Semaphore>,
    limiter: RateLimiter,
    redactor: Redactor,
    writer: WriterHandle,
    limits: IngestLimits,
}

impl IngestService {
    /// Wires the service to its store and writer.
    pub fn new(
        store: Arc<dyn Store>,
        writer: WriterHandle,
        redactor: Redactor,
        limiter: RateLimiter,
        limits: IngestLimits,
    ) -> Self {
        Self {
            keys: KeyCache::new(store),
            decoding: Arc::new(tokio::sync::Semaphore::new(
                limits.decode_concurrency.max(1),
            )),
            limiter,
            redactor,
            writer,
            limits,
        }
    }

    /// Metric observations dropped by the per-project series cap since start.
    pub fn series_dropped(&self) -> u64 {
        self.writer.series_dropped()
    }

    /// Whether the database accepts the writer's writes (for `/readyz`).
    pub fn write_health(&self) -> &std::sync::Arc<crate::ingest::writer::WriteHealth> {
        self.writer.health()
    }

    /// The limits in force (the HTTP layer needs the body limit).
    pub fn limits(&self) -> &IngestLimits {
        &self.limits
    }

    /// Checks the key and the Origin; the grant says which project and sources it may write.
    pub async fn authorize(&self, key: Option<&str>, origin: Option<&str>) -> Result<KeyGrant> {
        let key = key.filter(|k| !k.is_empty()).ok_or(Error::InvalidKey)?;
        let grant = self.keys.get(key).await?.ok_or(Error::InvalidKey)?;
        if grant.key.revoked {
            return Err(Error::InvalidKey);
        }
        if let Some(origin) = origin {
            let allowed = &grant.key.allowed_origins.0;
            if !allowed.is_empty() && !allowed.iter().any(|a| a == "*" || a == origin) {
                return Err(Error::OriginNotAllowed(origin.to_owned()));
            }
        }
        Ok(grant)
    }

    /// Handles one request end to end; returns only after the batch is committed.
    pub async fn ingest(&self, request: IngestRequest<'_>) -> Result<IngestResponse> {
        let grant = self.authorize(request.key, request.origin).await?;
        decode::check_content_type(request.content_type)?;
        let batch = self
            .decode(request.body, request.content_encoding.map(str::to_owned))
            .await?;
        self.store_batch(&grant, batch).await
    }

    /// Handles one Sentry SDK request (an envelope, or a legacy `/store/` event): the key from
    /// `X-Sentry-Auth`, `?sentry_key=` or the envelope's DSN, then the native path from
    /// validation on. Answers the event id the SDK expects back.
    pub async fn ingest_sentry(
        &self,
        request: IngestRequest<'_>,
        legacy_store: bool,
    ) -> Result<Option<String>> {
        // A key in the request is checked before any work on the body; only an envelope that
        // carries its key in its own header line (a tunnel) is read for it first.
        let header_key = match request.key {
            Some(_) => None,
            None if !legacy_store => {
                let first = request
                    .body
                    .split(|&b| b == b'\n')
                    .next()
                    .unwrap_or_default();
                serde_json::from_slice::<serde_json::Value>(first)
                    .ok()
                    .and_then(|h| {
                        h.get("dsn")?
                            .as_str()
                            .and_then(sentry::dsn_key)
                            .map(str::to_owned)
                    })
            }
            None => None,
        };
        let grant = self
            .authorize(request.key.or(header_key.as_deref()), request.origin)
            .await?;
        let max_decompressed = self.limits.max_decompressed_bytes;
        let shape = self.limits.shape;
        let encoding = request.content_encoding.map(str::to_owned);
        let body = request.body;
        let converted = self
            .off_thread(body.len(), encoding.clone(), move || {
                let body = decode::decompress(body, encoding.as_deref(), max_decompressed)?;
                decode::check_shape(&body, shape)?;
                let converted = if legacy_store {
                    sentry::convert_store(&body)
                } else {
                    sentry::convert_envelope(&body)
                };
                converted.map_err(|e| Error::BadRequest(e.to_string()))
            })
            .await?;
        metrics::counter!(crate::telemetry::SENTRY_ITEMS_IGNORED)
            .increment(converted.ignored as u64);
        if converted.batch.entry_count() > 0 {
            self.store_batch(&grant, converted.batch).await?;
        }
        Ok(converted.event_id)
    }

    /// Handles one OTLP/HTTP logs export: the key from `X-Tracewire-Key` or `Authorization:
    /// Bearer`, then the native path from validation on. Records that fail validation are left
    /// out and counted in the answer's partial success, as the OTLP specification has a receiver
    /// do; the rest are stored as one batch.
    pub async fn ingest_otlp(
        &self,
        request: IngestRequest<'_>,
        encoding: otlp::Encoding,
    ) -> Result<otlp::Outcome> {
        let grant = self.authorize(request.key, request.origin).await?;
        let max_decompressed = self.limits.max_decompressed_bytes;
        let shape = self.limits.shape;
        let content_encoding = request.content_encoding.map(str::to_owned);
        let body = request.body;
        let mut batch = self
            .off_thread(body.len(), content_encoding.clone(), move || {
                let body = decode::decompress(body, content_encoding.as_deref(), max_decompressed)?;
                if encoding == otlp::Encoding::Json {
                    decode::check_shape(&body, shape)?;
                }
                let export = otlp::decode(&body, encoding)
                    .map_err(|e| Error::BadRequest(format!("not an OTLP logs export: {e}")))?;
                Ok(otlp::to_batch(&export, &body))
            })
            .await?;
        let mut outcome = otlp::Outcome::default();
        // Leave out the records validation names, once; what is left passes.
        if let Err(errors) =
            validate::validate_batch(batch.clone(), now_us(), &self.limits.validation)
        {
            let bad: std::collections::BTreeSet<usize> = errors
                .iter()
                .filter_map(|e| otlp::record_index(&e.path))
                .collect();
            if bad.is_empty() {
                return Err(Error::Validation(errors));
            }
            outcome.rejected = bad.len();
            outcome.message = errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            let mut index = 0;
            batch.logs.retain(|_| {
                index += 1;
                !bad.contains(&(index - 1))
            });
        }
        if !batch.logs.is_empty() {
            self.store_batch(&grant, batch).await?;
        }
        Ok(outcome)
    }

    /// Inflates, checks the JSON shape and parses: small plain bodies in place, the rest on the
    /// blocking pool with at most `decode_concurrency` at once, so neither a burst of large
    /// bodies nor a decompression bomb can stall the async workers or multiply memory.
    async fn decode(&self, body: Bytes, encoding: Option<String>) -> Result<IngestBatch> {
        let max_decompressed = self.limits.max_decompressed_bytes;
        let shape = self.limits.shape;
        let len = body.len();
        let work = {
            let encoding = encoding.clone();
            move || decode::decode_body(body, encoding.as_deref(), max_decompressed, shape)
        };
        self.off_thread(len, encoding, work).await
    }

    /// Runs `work` (decoding a body of `len` bytes with `encoding`) in place when the body is
    /// small and plain, else on the blocking pool under the decode concurrency bound.
    async fn off_thread<T: Send + 'static>(
        &self,
        len: usize,
        encoding: Option<String>,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inline = encoding_is_identity(encoding.as_deref()) && len <= INLINE_PARSE_BYTES;
        if inline {
            return work();
        }
        let _permit = self
            .decoding
            .acquire()
            .await
            .map_err(|_| Error::ShuttingDown)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("decode task failed: {e}")))?
    }

    /// Validates, rate-limits, redacts and writes a parsed batch for an authorized key.
    pub async fn store_batch(
        &self,
        grant: &KeyGrant,
        batch: IngestBatch,
    ) -> Result<IngestResponse> {
        self.store_batch_as(grant, batch, None).await
    }

    /// [`IngestService::store_batch`] for the collector's own request logs: stored with source
    /// `collector`, so the user's queries and totals leave them out unless asked for them.
    pub async fn store_own_batch(
        &self,
        grant: &KeyGrant,
        batch: IngestBatch,
    ) -> Result<IngestResponse> {
        self.store_batch_as(grant, batch, Some(Source::Collector))
            .await
    }

    async fn store_batch_as(
        &self,
        grant: &KeyGrant,
        batch: IngestBatch,
        source: Option<Source>,
    ) -> Result<IngestResponse> {
        let entries = batch.entry_count();
        if entries > self.limits.validation.max_entries {
            return Err(Error::TooLarge(format!(
                "batch has {entries} entries; the limit is {}",
                self.limits.validation.max_entries
            )));
        }
        let mut valid = validate::validate_batch(batch, now_us(), &self.limits.validation)
            .map_err(Error::Validation)?;
        if let Some(source) = source {
            valid.source = source;
        }
        let source_allowed = match valid.source {
            Source::Frontend => grant.allow_frontend,
            Source::Backend | Source::Collector => grant.allow_backend,
        };
        if !source_allowed {
            return Err(Error::SourceNotAllowed(valid.source.as_str()));
        }
        self.limiter.check(grant.key.id, entries).await?;
        self.redact(&mut valid);
        self.write(grant.key.project_id, valid).await
    }

    /// Redacts every stored field that can carry text (seed property 8, server side): the
    /// structured values with the key and value rules, every free-text field with the value
    /// rules (text scanners and the operator's patterns). Not redacted: fields validation
    /// already holds to a fixed shape (level, trace and span ids, timestamps, numbers).
    fn redact(&self, batch: &mut ValidBatch) {
        let redactor = &self.redactor;
        for l in &mut batch.logs {
            for value in [&mut l.request_data, &mut l.extra_data]
                .into_iter()
                .flatten()
            {
                redactor.redact_value(value);
            }
            redactor.redact_str(&mut l.message);
            let texts = [
                &mut l.module,
                &mut l.function,
                &mut l.user_id,
                &mut l.request_method,
                &mut l.request_path,
            ];
            for text in texts.into_iter().flatten() {
                redactor.redact_str(text);
            }
        }
        for e in &mut batch.exceptions {
            for value in [&mut e.exception_details, &mut e.context_data]
                .into_iter()
                .flatten()
            {
                redactor.redact_value(value);
            }
            redactor.redact_str(&mut e.exception_type);
            redactor.redact_str(&mut e.exception_message);
            let texts = [&mut e.stack_trace, &mut e.user_id, &mut e.request_path];
            for text in texts.into_iter().flatten() {
                redactor.redact_str(text);
            }
        }
        for m in &mut batch.metrics {
            if let Some(tags) = &mut m.tags {
                redactor.redact_value(tags);
            }
            redactor.redact_str(&mut m.metric_type);
            redactor.redact_str(&mut m.metric_name);
            for text in [&mut m.unit, &mut m.endpoint].into_iter().flatten() {
                redactor.redact_str(text);
            }
        }
    }

    async fn write(&self, project_id: Uuid, batch: ValidBatch) -> Result<IngestResponse> {
        let committed = self
            .writer
            .try_submit(project_id, batch)
            .map_err(|e| match e {
                SubmitError::Full => Error::Overloaded {
                    retry_after_secs: 1,
                },
                SubmitError::Closed => Error::ShuttingDown,
            })?;
        committed
            .await
            .map_err(|_| Error::ShuttingDown)?
            .map_err(Error::from)
    }
}

fn encoding_is_identity(encoding: Option<&str>) -> bool {
    encoding.is_none_or(|e| e.trim().is_empty() || e.trim().eq_ignore_ascii_case("identity"))
}
