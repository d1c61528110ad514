//! Notification channels, each with a timeout, retries with backoff and a per-channel
//! [`ChannelOutcome`](tracewire_shared::api::monitoring::ChannelOutcome) for
//! `alert_history.notification_status`.
//!
//! - [`http`]: [`Webhook`] (signed per Standard Webhooks) and [`Slack`].
//! - [`email`]: [`Mailer`] over SMTP (lettre; STARTTLS, TLS or none; AUTH).
//! - [`signature`]: [`WebhookSecret`], signing and verifying.
//! - [`retry`]: [`RetryPolicy`] (the pure schedule) and the loop that applies it.

pub mod email;
pub mod http;
pub mod retry;
pub mod signature;

pub use email::{Mailer, SmtpConfig, SmtpSecurity};
pub use http::{Slack, Webhook};
pub use retry::RetryPolicy;
pub use signature::WebhookSecret;

use thiserror::Error;

/// A channel that cannot be set up or a message that cannot be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChannelError {
    /// A webhook secret that is not `whsec_` + base64.
    #[error("webhook secret is not whsec_ followed by base64")]
    Secret,
    /// An address lettre cannot parse.
    #[error("not an email address: {0}")]
    Address(String),
    /// SMTP settings or message building failed.
    #[error("SMTP: {0}")]
    Smtp(String),
}
