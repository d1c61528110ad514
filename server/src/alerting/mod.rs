//! Alerting: the rule state machine, notification content and channels (pure or store-free),
//! and the evaluator that composes them with the store.
//!
//! - [`state`]: ok → pending → firing → resolved / no data, throttle and mute (pure).
//! - [`message`]: [`message::Notification`], its text, webhook and Slack bodies and the admin
//!   UI link.
//! - [`channels`]: webhook, Slack and email delivery with retries.
//! - [`rules`]: API requests to stored rules (secrets kept on update) and stored rows to API
//!   views (secrets never shown) (pure).
//! - [`conditions`]: a condition's value over its window, by indexed reads of the store.
//! - [`notify`]: one notification to every channel of a rule.
//! - [`preview`]: what a rule would have done over the last day (the form's preview).
//! - [`evaluator`]: the periodic round under a lease, and the at-most-once outbox.

pub mod channels;
pub mod conditions;
pub mod evaluator;
pub mod message;
pub mod notify;
pub mod preview;
pub mod rules;
pub mod state;

pub use message::Notification;
pub use state::{Reading, Record, RuleState, RuleTiming, Step};
