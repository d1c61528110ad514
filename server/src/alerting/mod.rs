//! Alerting without the store: the rule state machine, notification content and channels.
//! The evaluator loop (reading aggregates, persisting [`state::RuleState`] and history under a
//! lease) composes these.
//!
//! - [`state`]: ok → pending → firing → resolved / no data, throttle and mute (pure).
//! - [`message`]: [`message::Notification`], its text, webhook and Slack bodies and the admin
//!   UI link.
//! - [`channels`]: webhook, Slack and email delivery with retries.

pub mod channels;
pub mod message;
pub mod state;

pub use message::Notification;
pub use state::{Reading, Record, RuleState, RuleTiming, Step};
