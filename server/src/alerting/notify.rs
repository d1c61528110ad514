//! Sending one notification to a rule's channels: every channel at once, each with the retry
//! policy, each reported as a [`ChannelOutcome`]. Used by the evaluator for the outbox and by
//! the API's "send test" endpoint.

use futures_util::future::join_all;
use tracewire_shared::api::monitoring::{ChannelKind, ChannelOutcome, HistoryKind};

use super::channels::{
    ChannelError, Mailer, RetryPolicy, Slack, SmtpConfig, SmtpSecurity, Webhook, WebhookSecret,
};
use super::message::Notification;
use super::rules::{UnknownSpelling, from_spelling};
use crate::config::{ServeConfig, SmtpSecurityArg};
use crate::store::{HistoryRecord, StoredChannel};

/// Channels' shared machinery: one HTTP client, the SMTP client when configured, the retry
/// policy and the base of admin UI links.
#[derive(Clone)]
pub struct Notifier {
    client: reqwest::Client,
    mailer: Option<Mailer>,
    policy: RetryPolicy,
    /// `--public-url`, else the listen address: where links in messages point.
    pub base_url: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp", &self.mailer.is_some())
            .field("policy", &self.policy)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Notifier {
    /// A notifier with explicit parts (tests use short retry policies).
    pub fn new(
        smtp: Option<&SmtpConfig>,
        policy: RetryPolicy,
        base_url: String,
    ) -> Result<Self, ChannelError> {
        let mailer = smtp.map(|c| Mailer::new(c, policy.timeout)).transpose()?;
        Ok(Self {
            client: reqwest::Client::new(),
            mailer,
            policy,
            base_url,
        })
    }

    /// The notifier the collector's settings describe.
    pub fn from_config(config: &ServeConfig) -> Result<Self, ChannelError> {
        Self::new(
            smtp_config(config).as_ref(),
            RetryPolicy::default(),
            config
                .public_url
                .as_ref()
                .map_or_else(|| format!("http://{}", config.listen), |u| u.url()),
        )
    }

    /// Sends `note` on every channel of `channels` at once; outcomes in the channels' order.
    pub async fn send(
        &self,
        channels: &[StoredChannel],
        note: &Notification,
    ) -> Vec<ChannelOutcome> {
        join_all(channels.iter().map(|c| self.send_one(c, note))).await
    }

    async fn send_one(&self, channel: &StoredChannel, note: &Notification) -> ChannelOutcome {
        match channel {
            StoredChannel::Webhook {
                id, url, secret, ..
            } => {
                let secret = match secret.as_deref().map(WebhookSecret::parse).transpose() {
                    Ok(secret) => secret,
                    Err(e) => return not_tried(Some(*id), ChannelKind::Webhook, e.to_string()),
                };
                Webhook {
                    id: Some(*id),
                    url: url.clone(),
                    secret,
                }
                .deliver(&self.client, &self.policy, note)
                .await
            }
            StoredChannel::Slack { id, url, .. } => {
                Slack {
                    id: Some(*id),
                    url: url.clone(),
                }
                .deliver(&self.client, &self.policy, note)
                .await
            }
            StoredChannel::Email { id, to, .. } => match &self.mailer {
                Some(mailer) => mailer.deliver(Some(*id), to, &self.policy, note).await,
                None => not_tried(
                    Some(*id),
                    ChannelKind::Email,
                    "SMTP is not configured (--smtp-host)".to_owned(),
                ),
            },
        }
    }
}

/// The outcome of a channel that could not even be tried.
fn not_tried(channel_id: Option<uuid::Uuid>, kind: ChannelKind, error: String) -> ChannelOutcome {
    ChannelOutcome {
        channel_id,
        kind,
        delivered: false,
        attempts: 0,
        status: None,
        error: Some(error),
        duration_ms: 0.0,
    }
}

/// The SMTP settings of `--smtp-*`, when a host is set.
pub fn smtp_config(config: &ServeConfig) -> Option<SmtpConfig> {
    let host = config.smtp_host.clone().filter(|h| !h.is_empty())?;
    Some(SmtpConfig {
        host,
        port: config.smtp_port,
        security: match config.smtp_security {
            SmtpSecurityArg::Starttls => SmtpSecurity::StartTls,
            SmtpSecurityArg::Tls => SmtpSecurity::Tls,
            SmtpSecurityArg::None => SmtpSecurity::None,
        },
        username: config.smtp_username.clone(),
        password: config.smtp_password.as_ref().map(|p| p.0.clone()),
        from: config.smtp_from.clone(),
    })
}

/// The channels of `channels` a history entry of `kind` goes to: every one for firing and
/// test entries, those that want resolves for a resolve, none otherwise.
pub fn channels_for(kind: HistoryKind, channels: &[StoredChannel]) -> Vec<StoredChannel> {
    match kind {
        HistoryKind::Firing | HistoryKind::Test => channels.to_vec(),
        HistoryKind::Resolved => channels
            .iter()
            .filter(|c| c.sends_resolved())
            .cloned()
            .collect(),
        HistoryKind::Suppressed | HistoryKind::NoData => Vec::new(),
    }
}

/// The notification of a history entry, rebuilt from what the entry froze.
pub fn notification(entry: &HistoryRecord) -> Result<Notification, UnknownSpelling> {
    let payload = &entry.payload.0;
    Ok(Notification {
        message_id: format!("msg_{}", entry.id.simple()),
        rule_id: entry.rule_id,
        rule_name: entry.rule_name.clone(),
        severity: from_spelling("severity", &entry.severity)?,
        kind: from_spelling("history kind", &entry.kind)?,
        condition: payload.condition.clone(),
        operator: payload.operator,
        threshold: entry.threshold,
        value: entry.value,
        window_minutes: payload.window_minutes,
        triggered_at_us: entry.triggered_at,
        link: payload.link.clone(),
        samples: payload.samples.clone(),
    })
}
