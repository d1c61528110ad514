//! Types and pure logic that every Tracewire component compiles against, so the wire format
//! cannot drift between the browser logger, the backend middleware and the collector.
//!
//! # Layout
//! - [`wire`]: the ingest batch exactly as it travels over HTTP (ARCHITECTURE.md §4), plus the
//!   response and error envelope.
//! - [`api`]: request and response bodies of the query, exception, auth, statistics and probe
//!   endpoints.
//! - [`level`]: log levels with their aliases and ordering.
//! - [`validate`]: turns a wire batch into a [`validate::ValidBatch`], reporting every problem by
//!   path (`logs[3].level`).
//! - [`redact`]: replaces sensitive values at any depth of a JSON value.
//! - [`fingerprint`]: the server-side dedup key of a log and the grouping fingerprint of an
//!   exception.
//! - [`traceparent`]: W3C trace context parsing and formatting.
//!
//! No I/O and no async runtime live here: the crate builds for native targets and `wasm32`.
#![deny(missing_docs)]

pub mod api;
pub mod fingerprint;
pub mod level;
pub mod redact;
pub mod traceparent;
pub mod validate;
pub mod wire;

pub use level::Level;
pub use traceparent::{SpanId, TraceContext, TraceId};
