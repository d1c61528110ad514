//! The collector traces its own API with `tracewire-middleware`, like any backend would, but
//! ships in-process: batches go straight into the ingest pipeline of the default project, with
//! no HTTP hop and no way to recurse (the ingest route itself is not traced).

use crate::error::Error;
use crate::ingest::IngestService;
use crate::store::{IngestKeyRecord, KeyGrant, ProjectRecord};
use futures_util::future::BoxFuture;
use sqlx::types::Json;
use std::sync::Arc;
use std::time::Duration;
use tracewire_middleware::{Sink, SinkError};
use tracewire_shared::wire::IngestBatch;

/// Delivers the middleware's batches to the local ingest service.
pub struct InProcessSink {
    ingest: Arc<IngestService>,
    grant: KeyGrant,
}

impl InProcessSink {
    /// Writes into `project` as a backend source; rate limits apply under the project's id.
    pub fn new(ingest: Arc<IngestService>, project: &ProjectRecord) -> Self {
        let grant = KeyGrant {
            key: IngestKeyRecord {
                id: project.id,
                project_id: project.id,
                key_hash: String::new(),
                allowed_origins: Json(Vec::new()),
                revoked: false,
                created_at: project.created_at,
            },
            allow_frontend: false,
            allow_backend: true,
        };
        Self { ingest, grant }
    }
}

impl Sink for InProcessSink {
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        let ingest = self.ingest.clone();
        let grant = self.grant.clone();
        Box::pin(async move {
            ingest
                .store_own_batch(&grant, batch)
                .await
                .map(drop)
                .map_err(|e| match e {
                    Error::RateLimited { retry_after_secs }
                    | Error::Overloaded { retry_after_secs } => SinkError::Retryable {
                        retry_after: Some(Duration::from_secs(retry_after_secs)),
                        message: e.to_string(),
                    },
                    Error::Store(_) => SinkError::Retryable {
                        retry_after: None,
                        message: e.to_string(),
                    },
                    other => {
                        // Entries are fitted to the limits before queueing, so this is a bug;
                        // say so instead of losing the collector's own logs silently.
                        tracing::warn!(error = %other, "the collector's own request logs were refused");
                        SinkError::Permanent(other.to_string())
                    }
                })
        })
    }
}
