//! The ingest service behind `POST /api/v1/logging/logs`: key ▸ origin ▸ media type ▸ decode ▸
//! parse ▸ validate ▸ rate limit ▸ redact ▸ writer, in that order, so the cheapest refusals
//! come first and nothing reaches the writer unless the whole batch is valid (atomicity).
//! The HTTP layer only extracts headers and the body; all decisions live here.

mod decode;
pub mod keys;
pub mod ratelimit;

use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::store::writer::{SubmitError, WriterHandle};
use crate::store::{KeyGrant, Store};
use bytes::Bytes;
use keys::KeyCache;
use ratelimit::RateLimiter;
use std::sync::Arc;
use tracewire_shared::redact::Redactor;
use tracewire_shared::validate::{self, Limits, Source, ValidBatch};
use tracewire_shared::wire::{IngestBatch, IngestResponse};
use uuid::Uuid;

/// Size limits of the ingest path.
#[derive(Debug, Clone)]
pub struct IngestLimits {
    /// Body bytes as received.
    pub max_body_bytes: usize,
    /// Body bytes after decompression.
    pub max_decompressed_bytes: usize,
    /// Per-field and per-batch limits of validation.
    pub validation: Limits,
}

/// One ingest request as the HTTP layer hands it over.
#[derive(Debug)]
pub struct IngestRequest<'a> {
    /// From `X-Tracewire-Key` or `?key=`.
    pub key: Option<&'a str>,
    /// The `Origin` header, sent by browsers.
    pub origin: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Content-Encoding` header.
    pub content_encoding: Option<&'a str>,
    /// The raw body (already within `max_body_bytes`).
    pub body: Bytes,
}

/// Shared state of the ingest path.
pub struct IngestService {
    keys: KeyCache,
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
            limiter,
            redactor,
            writer,
            limits,
        }
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
        let body = decode::decompress(
            request.body,
            request.content_encoding,
            self.limits.max_decompressed_bytes,
        )?;
        let batch = decode::parse(&body)?;
        self.store_batch(&grant, batch).await
    }

    /// Validates, rate-limits, redacts and writes a parsed batch for an authorized key.
    pub async fn store_batch(
        &self,
        grant: &KeyGrant,
        batch: IngestBatch,
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
        let source_allowed = match valid.source {
            Source::Frontend => grant.allow_frontend,
            Source::Backend => grant.allow_backend,
        };
        if !source_allowed {
            return Err(Error::SourceNotAllowed(valid.source.as_str()));
        }
        self.limiter
            .check(grant.key.id, entries)
            .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
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
