//! The one state every handler receives.

use crate::auth::AuthService;
use crate::config::ServeConfig;
use crate::ingest::IngestService;
use crate::store::Store;
use std::sync::Arc;

/// Shared, cheaply cloneable application state.
#[derive(Clone)]
pub struct AppState {
    /// Settings the collector was started with.
    pub config: Arc<ServeConfig>,
    /// Storage (SQLite or PostgreSQL behind one trait).
    pub store: Arc<dyn Store>,
    /// Key checks, decoding, validation and the hand-off to the one writer task; health and the
    /// monitoring reads also ask it for writer failures and series-cap drops.
    pub ingest: Arc<IngestService>,
    /// Login, sessions, throttling and the audit trail.
    pub auth: Arc<AuthService>,
    /// Turns true when shutdown starts, so endless responses (the SSE tail) end and graceful
    /// shutdown does not wait on them forever.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}
