//! `GET /api/v1/logging/logs/stream` on SQLite and PostgreSQL: a subscriber receives a matching
//! log ingested after it subscribed, and nothing that does not match.

mod common;

use common::{Backend, TestServer};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

both_backends!(
    subscribers_receive_logs_ingested_later,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let token = s.admin_token().await;
        let anonymous = s
            .client
            .get(s.url("/api/v1/logging/logs/stream"))
            .send()
            .await
            .expect("request");
        assert_eq!(anonymous.status().as_u16(), 401);

        let tag = Uuid::new_v4().simple().to_string();
        let mut response = s
            .client
            .get(s.url("/api/v1/logging/logs/stream"))
            .bearer_auth(token)
            .query(&[("min_level", "error"), ("q", tag.as_str())])
            .send()
            .await
            .expect("subscribe");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );

        let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": [
            {"level": "INFO", "message": format!("{tag} quiet")},
            {"level": "ERROR", "message": format!("{tag} loud")},
        ]});
        assert_eq!(s.ingest(&batch).await.0, 200);

        let mut received = String::new();
        let read = tokio::time::timeout(Duration::from_secs(20), async {
            while !received.contains("loud") {
                match response.chunk().await.expect("chunk") {
                    Some(bytes) => received.push_str(&String::from_utf8_lossy(&bytes)),
                    None => break,
                }
            }
        })
        .await;
        assert!(read.is_ok(), "no event within 20 s: {received}");
        assert!(received.contains("event: log"), "{received}");
        assert!(
            !received.contains("quiet"),
            "a non-matching log was sent: {received}"
        );
        drop(response);
        s.stop().await;
    }
);
