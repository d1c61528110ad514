//! Notifications delivered to real receivers on loopback: an axum webhook receiver that
//! verifies the Standard Webhooks signature, a Slack-shaped receiver, and a small SMTP server
//! (in this file, over tokio) that speaks enough ESMTP for lettre, checks AUTH PLAIN and keeps
//! every message.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tracewire_server::alerting::channels::{
    Mailer, RetryPolicy, Slack, SmtpConfig, SmtpSecurity, Webhook, WebhookSecret,
};
use tracewire_server::alerting::message::{Notification, admin_link};
use tracewire_shared::api::monitoring::{
    ChannelKind, Condition, HistoryKind, LogFilters, Operator, Severity,
};
use uuid::Uuid;

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

/// What a receiver got: headers and body of each request.
#[derive(Default)]
struct Received {
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Answer 503 to this many requests first.
    fail_first: AtomicUsize,
}

async fn receive(
    State(state): State<Arc<Received>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.requests.lock().await.push((headers, body));
    if state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

/// An HTTP receiver on a loopback port; the server stops with the test's runtime.
async fn receiver(fail_first: usize) -> (String, Arc<Received>) {
    let state = Arc::new(Received::default());
    state.fail_first.store(fail_first, Ordering::SeqCst);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&state));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), state)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
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

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
struct Mail {
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal ESMTP server: EHLO with AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. The first
/// `transient` transactions get `451` at MAIL FROM, to exercise retries.
async fn smtp_sink(transient: usize) -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let left = Arc::new(AtomicUsize::new(transient));
    let store = Arc::clone(&mails);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            let left = Arc::clone(&left);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                reply(&mut write, "220 sink ESMTP\r\n").await;
                let mut auth = None;
                let mut mail: Option<Mail> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        "250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n".to_owned()
                    } else if let Some(b64) = line.strip_prefix("AUTH PLAIN ") {
                        let decoded = STANDARD.decode(b64.trim()).unwrap_or_default();
                        let text = String::from_utf8_lossy(&decoded).into_owned();
                        if text == "\0alerts\0s3cret" {
                            auth = Some("alerts".to_owned());
                            "235 2.7.0 ok\r\n".to_owned()
                        } else {
                            "535 5.7.8 bad credentials\r\n".to_owned()
                        }
                    } else if upper.starts_with("MAIL FROM:") {
                        if left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                        {
                            "451 4.3.0 try again later\r\n".to_owned()
                        } else {
                            mail = Some(Mail {
                                auth: auth.clone(),
                                from: line[10..].trim().to_owned(),
                                to: vec![],
                                data: String::new(),
                            });
                            "250 ok\r\n".to_owned()
                        }
                    } else if upper.starts_with("RCPT TO:") {
                        if let Some(m) = mail.as_mut() {
                            m.to.push(line[8..].trim().to_owned());
                        }
                        "250 ok\r\n".to_owned()
                    } else if upper == "DATA" {
                        reply(&mut write, "354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push('\n');
                        }
                        if let Some(mut m) = mail.take() {
                            m.data = data;
                            store.lock().await.push(m);
                        }
                        "250 queued\r\n".to_owned()
                    } else if upper == "QUIT" {
                        reply(&mut write, "221 bye\r\n").await;
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        mail = None;
                        "250 ok\r\n".to_owned()
                    } else {
                        "502 not implemented\r\n".to_owned()
                    };
                    if !reply(&mut write, &answer).await {
                        break;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// Soft line breaks (`=` at a line end) and `=XX` escapes undone.
fn quoted_printable_decode(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn reply(w: &mut tokio::net::tcp::OwnedWriteHalf, s: &str) -> bool {
    w.write_all(s.as_bytes()).await.is_ok()
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
