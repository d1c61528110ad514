//! Email over SMTP with lettre: STARTTLS, implicit TLS or plain (for a relay on localhost),
//! optional AUTH, a timeout and retries. A 4xx reply or a lost connection retries; a 5xx reply
//! fails for good.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tracewire_shared::api::monitoring::{ChannelKind, ChannelOutcome};
use uuid::Uuid;

use super::ChannelError;
use super::retry::{self, Attempt, RetryPolicy};
use crate::alerting::message::Notification;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption; only for a relay on the same host or network.
    None,
}

/// The collector's SMTP settings (shared by every email channel).
#[derive(Clone)]
pub struct SmtpConfig {
    /// Server host name (also the name TLS verifies).
    pub host: String,
    /// Server port: 587 for STARTTLS, 465 for TLS, 25 for a local relay (`--smtp-port`).
    pub port: u16,
    /// STARTTLS that must succeed (the default), TLS from the first byte, or none.
    pub security: SmtpSecurity,
    /// AUTH user, when the server wants one.
    pub username: Option<String>,
    /// AUTH password; never printed.
    pub password: Option<String>,
    /// Sender, e.g. `Tracewire <alerts@example.com>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// A ready SMTP client. Cheap to clone; it opens one connection per message (alerts are rare,
/// so no pool is kept).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks `config` and builds the client; `timeout` bounds each SMTP command.
    pub fn new(config: &SmtpConfig, timeout: Duration) -> Result<Self, ChannelError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| ChannelError::Address(config.from.clone()))?;
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => {
                let params = TlsParameters::new(config.host.clone())
                    .map_err(|e| ChannelError::Smtp(e.to_string()))?;
                if config.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// The message for `to`.
    fn message(&self, to: &[Mailbox], note: &Notification) -> Result<Message, ChannelError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(note.summary())
            .header(ContentType::TEXT_PLAIN);
        for rcpt in to {
            builder = builder.to(rcpt.clone());
        }
        builder
            .body(note.text())
            .map_err(|e| ChannelError::Smtp(e.to_string()))
    }

    /// Sends `note` to every address of `to` in one message.
    pub async fn deliver(
        &self,
        channel_id: Option<Uuid>,
        to: &[String],
        policy: &RetryPolicy,
        note: &Notification,
    ) -> ChannelOutcome {
        let prepared = to
            .iter()
            .map(|a| {
                a.parse::<Mailbox>()
                    .map_err(|_| ChannelError::Address(a.clone()))
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|rcpts| self.message(&rcpts, note));
        let message = match prepared {
            Ok(message) => message,
            Err(e) => {
                // Nothing was tried: the channel's own data is wrong, no retry can fix it.
                return ChannelOutcome {
                    channel_id,
                    kind: ChannelKind::Email,
                    delivered: false,
                    attempts: 0,
                    status: None,
                    error: Some(e.to_string()),
                    duration_ms: 0.0,
                };
            }
        };
        retry::run(policy, ChannelKind::Email, channel_id, |_| {
            let message = message.clone();
            async move {
                match self.transport.send(message).await {
                    Ok(response) => Attempt::Delivered(Some(u16::from(response.code()))),
                    Err(e) => {
                        let status = e.status().map(u16::from);
                        let error = match status {
                            Some(code) => format!("SMTP {code}"),
                            None if e.is_timeout() => "timed out".to_owned(),
                            None if e.is_tls() => "TLS failed".to_owned(),
                            None => "SMTP connection failed".to_owned(),
                        };
                        if e.is_permanent() {
                            Attempt::Fail { status, error }
                        } else {
                            Attempt::Retry {
                                status,
                                error,
                                retry_after: None,
                            }
                        }
                    }
                }
            }
        })
        .await
    }
}
