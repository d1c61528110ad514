//! Tracewire admin UI: a Leptos client-side app served by the collector at `/`.
//!
//! Layout:
//! - [`query`]: the log explorer's view state and its URL and API spellings (pure).
//! - [`timefmt`]: the one time formatter (pure).
//! - [`histogram`]: bucket choice, stacking and scaling of the volume chart (pure).
//! - [`chart`]: period choice, axis ticks and value/time → pixel maps of the metrics charts (pure).
//! - [`ruleform`]: the alert rule form's model, its request and its field messages (pure).
//! - [`preview`]: the rule form's preview in plain words (pure).
//! - [`text`]: search highlighting and stack-frame classification (pure).
//! - `app` (wasm32 only): the Leptos application: `api` for HTTP, `routes/` for pages,
//!   `components/` for shared pieces.
//!
//! The pure modules build and are tested natively; everything touching the DOM only compiles
//! for wasm32, so native workspace builds never compile Leptos.
#![deny(missing_docs)]

pub mod chart;
pub mod histogram;
pub mod preview;
pub mod query;
pub mod ruleform;
pub mod text;
pub mod timefmt;

#[cfg(target_arch = "wasm32")]
mod app;
