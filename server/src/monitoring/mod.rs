//! Request, query and web-vital metrics: the pieces that need no store.
//!
//! - [`sketch`]: [`Sketch`], the mergeable log-bucket histogram (≈1 % relative error) stored
//!   with every aggregate row.
//! - [`aggregate`]: [`Aggregator`], minute aggregates fed by the writer per row and drained
//!   per flush, with a per-project series cap; [`roll_up`] to coarser periods by merging.
//! - [`observe`]: which rows of a validated batch are observations (request logs by route
//!   template, `metrics` entries), and which are slow requests or statements.
//! - [`rollup`]: the periodic job that merges minute rows into coarser ones and prunes.
//! - [`read`]: a window of aggregates at the bucket width asked for, from the finest rows kept.
//! - [`combined`]: the same for a whole family merged (`combine=true`), from the per-family
//!   totals the roll-up keeps.
//! - [`series`]: the monitoring endpoints' answers (points, error rates, web vitals) from rows.

pub mod aggregate;
pub mod combined;
pub mod observe;
pub mod read;
pub mod rollup;
pub mod series;
pub mod sketch;

pub use aggregate::{AggregateRow, Aggregator, Drained, Observation, SeriesKey, roll_up};
pub use sketch::Sketch;
