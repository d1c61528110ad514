//! Notifications delivered to real receivers on loopback (`common::receivers`): an axum
//! webhook receiver whose requests are checked against the Standard Webhooks signature, a
//! Slack-shaped receiver, and a small SMTP server over tokio that speaks enough ESMTP for
//! lettre, checks AUTH PLAIN and keeps every message.

use std::time::Duration;

use tracewire_server::alerting::channels::{
    Mailer, RetryPolicy, Slack, SmtpConfig, SmtpSecurity, Webhook, WebhookSecret,
};
use tracewire_server::alerting::message::{Notification, admin_link};
use tracewire_shared::api::monitoring::{
    ChannelKind, Condition, HistoryKind, LogFilters, Operator, Severity,
};
use uuid::Uuid;

mod common;
use common::receivers::{header, quoted_printable_decode, receiver, smtp_sink};

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
    }
}

fn notification() -> Notification {
    let condition = Condition::LogCount {
        filters: LogFilters {
            min_level: Some("ERROR".into()),
            ..LogFilters::default()
        },
    };
    let now = 1_765_065_600_000_000;
    Notification {
        message_id: format!("msg_{}", Uuid::now_v7().simple()),
        rule_id: Uuid::now_v7(),
        rule_name: "Errors in checkout".into(),
        severity: Severity::Critical,
        kind: HistoryKind::Firing,
        link: admin_link("https://logs.example", &condition, 5, now),
        condition,
        operator: Operator::Gte,
        threshold: 10.0,
        value: Some(42.0),
        window_minutes: 5,
        triggered_at_us: now,
        samples: vec![],
    }
    .with_samples(["ERROR checkout failed: card declined".to_owned()])
}

#[tokio::test]
async fn webhooks_arrive_signed_and_retry_with_the_same_id() {
    let (url, received) = receiver(1).await;
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
    let hook = Webhook {
        id: Some(Uuid::now_v7()),
        url,
        secret: Some(secret.clone()),
    };
    let note = notification();
    let outcome = hook
        .deliver(&reqwest::Client::new(), &policy(), &note)
        .await;
    assert!(outcome.delivered, "{outcome:?}");
    assert_eq!((outcome.attempts, outcome.status), (2, Some(204)));
    assert_eq!(outcome.kind, ChannelKind::Webhook);

    let requests = received.requests.lock().await;
    assert_eq!(requests.len(), 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    for (headers, body) in requests.iter() {
        let id = header(headers, "webhook-id");
        assert_eq!(id, note.message_id, "retries keep the id");
        let ts: i64 = header(headers, "webhook-timestamp")
            .parse()
            .expect("timestamp");
        let sig = header(headers, "webhook-signature");
        assert!(secret.verify(id, ts, body, sig, now), "signature verifies");
        let wrong = WebhookSecret::from_bytes(b"other".to_vec());
        assert!(!wrong.verify(id, ts, body, sig, now));
    }
    let json: serde_json::Value = serde_json::from_slice(&requests[1].1).expect("json body");
    assert_eq!(json["status"], "firing");
    assert_eq!(json["rule"]["name"], "Errors in checkout");
    assert_eq!(json["value"], 42.0);
    assert!(
        json["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://logs.example/logs?min_level=ERROR"))
    );
    assert_eq!(json["samples"][0], "ERROR checkout failed: card declined");
}

#[tokio::test]
async fn slack_messages_carry_text_and_blocks_and_give_up_on_4xx() {
    let (url, received) = receiver(0).await;
    let slack = Slack { id: None, url };
    let note = notification();
    let outcome = slack
        .deliver(&reqwest::Client::new(), &policy(), &note)
        .await;
    assert!(outcome.delivered);
    let requests = received.requests.lock().await;
    let json: serde_json::Value = serde_json::from_slice(&requests[0].1).expect("json");
    assert_eq!(json["text"], note.summary());
    assert!(json["blocks"].as_array().is_some_and(|b| b.len() == 3));
    assert!(requests[0].0.get("webhook-signature").is_none());
    drop(requests);

    let (url, _) = receiver(0).await;
    let missing = Slack {
        id: None,
        url: url.replace("/hook", "/nope"),
    };
    let outcome = missing
        .deliver(&reqwest::Client::new(), &policy(), &note)
        .await;
    assert_eq!(
        (outcome.delivered, outcome.attempts, outcome.status),
        (false, 1, Some(404))
    );
}

#[tokio::test]
async fn an_unreachable_webhook_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener); // nothing listens there now
    let hook = Webhook {
        id: None,
        url: format!("http://{addr}/hook"),
        secret: None,
    };
    let outcome = hook
        .deliver(&reqwest::Client::new(), &policy(), &notification())
        .await;
    assert!(!outcome.delivered);
    assert_eq!(outcome.attempts, 3);
    assert_eq!(outcome.error.as_deref(), Some("could not connect"));
}

fn smtp(port: u16, password: &str) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: Some("alerts".into()),
        password: Some(password.into()),
        from: "Tracewire <alerts@tracewire.test>".into(),
    }
}

#[tokio::test]
async fn email_reaches_a_real_smtp_server_after_a_transient_refusal() {
    let (port, mails) = smtp_sink(1).await;
    let mailer = Mailer::new(&smtp(port, "s3cret"), Duration::from_secs(5)).expect("mailer");
    let note = notification();
    let to = vec![
        "oncall@example.com".to_owned(),
        "lead@example.com".to_owned(),
    ];
    let outcome = mailer.deliver(None, &to, &policy(), &note).await;
    assert!(outcome.delivered, "{outcome:?}");
    assert_eq!(outcome.attempts, 2, "the 451 was retried");
    assert_eq!(outcome.status, Some(250));

    let mails = mails.lock().await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.auth.as_deref(), Some("alerts"));
    assert_eq!(mail.from, "<alerts@tracewire.test>");
    assert_eq!(mail.to, ["<oncall@example.com>", "<lead@example.com>"]);
    assert!(
        mail.data.contains("Subject: [FIRING] Errors in checkout"),
        "{}",
        mail.data
    );
    // Long lines travel quoted-printable, as mail requires; read the body as a client would.
    let body = quoted_printable_decode(&mail.data);
    assert!(
        body.contains("ERROR checkout failed: card declined"),
        "{body}"
    );
    assert!(
        body.contains("Open: https://logs.example/logs?min_level=ERROR&from="),
        "{body}"
    );
}

#[tokio::test]
async fn bad_credentials_and_addresses_fail_without_sending() {
    let (port, mails) = smtp_sink(0).await;
    let mailer = Mailer::new(&smtp(port, "wrong"), Duration::from_secs(5)).expect("mailer");
    let note = notification();
    let outcome = mailer
        .deliver(None, &["oncall@example.com".to_owned()], &policy(), &note)
        .await;
    assert!(!outcome.delivered);
    assert_eq!(
        (outcome.attempts, outcome.status),
        (1, Some(535)),
        "5xx is permanent"
    );

    let bad = mailer
        .deliver(None, &["not an address".to_owned()], &policy(), &note)
        .await;
    assert_eq!((bad.delivered, bad.attempts), (false, 0));
    assert!(mails.lock().await.is_empty());
}
