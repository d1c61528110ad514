//! Loopback receivers for alert notifications: an HTTP receiver (webhook or Slack) that keeps
//! every request and can refuse the first ones, and a minimal ESMTP server that checks AUTH
//! PLAIN (user `alerts`, password `s3cret`) and keeps every message.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// What a receiver got: headers and body of each request.
#[derive(Default)]
pub struct Received {
    pub requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Answer 503 to this many requests first.
    pub fail_first: AtomicUsize,
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
pub async fn receiver(fail_first: usize) -> (String, Arc<Received>) {
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

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
}

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The user that authenticated, if any.
    pub auth: Option<String>,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, in order.
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

/// A minimal ESMTP server: EHLO with AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. The first
/// `transient` transactions get `451` at MAIL FROM, to exercise retries.
pub async fn smtp_sink(transient: usize) -> (u16, Arc<Mutex<Vec<Mail>>>) {
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
pub fn quoted_printable_decode(text: &str) -> String {
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
