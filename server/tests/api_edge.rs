//! The HTTP edge on SQLite and PostgreSQL, read by a typed client: answers deserialize into
//! `tracewire_shared::api`, and every bad body, parameter or path segment of a JSON route gets
//! the envelope with the status of `http::extract` (400 not JSON, 422 naming the field, 413 over
//! the limit).

mod common;

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use tracewire_shared::api::{ExceptionGroup, LogView, Me, Page};
use uuid::Uuid;

/// Sends `body` (raw text) with the admin's token; returns (status, JSON body).
async fn send(s: &TestServer, t: &str, method: Method, path: &str, body: &str) -> (u16, Value) {
    let r = s
        .client
        .request(method, s.url(path))
        .bearer_auth(t)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn first_field(body: &Value) -> &str {
    body["error"]["details"][0]["path"].as_str().unwrap_or("")
}

both_backends!(
    typed_answers_and_one_error_edge,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
        "logs": [{"level": "WARN", "message": "disk at 91%"}],
        "exceptions": [{"exception_type": "IOError", "exception_message": "disk full"}]});
        let (status, body) = s.ingest(&batch).await;
        assert_eq!(status, 200, "{body}");
        let t = s.admin_token().await;

        // Typed reads of real answers.
        let (status, body) = send(&s, &t, Method::GET, "/api/v1/auth/me", "").await;
        assert_eq!(status, 200, "{body}");
        let me: Me = serde_json::from_value(body).expect("Me");
        assert_eq!(me.user.username, "admin");
        let (_, body) = send(&s, &t, Method::GET, "/api/v1/logging/logs?level=WARN", "").await;
        let logs: Page<LogView> = serde_json::from_value(body).expect("Page<LogView>");
        assert_eq!(logs.items[0].message, "disk at 91%");
        let (_, body) = send(&s, &t, Method::GET, "/api/v1/logging/exceptions", "").await;
        let groups: Page<ExceptionGroup> =
            serde_json::from_value(body).expect("Page<ExceptionGroup>");
        let resolve = format!("/api/v1/logging/exceptions/{}/resolve", groups.items[0].id);

        // Bodies: not JSON, wrong shape, blank where the body is optional.
        let (status, body) = send(&s, &t, Method::PUT, &resolve, "{\"notes\":").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("malformed_json"))
        );
        let (status, body) = send(&s, &t, Method::PUT, &resolve, r#"{"notes": 5}"#).await;
        assert_eq!((status, first_field(&body)), (422, "notes"), "{body}");
        let (status, body) = send(&s, &t, Method::PUT, &resolve, "  ").await;
        assert_eq!(status, 200, "{body}");
        let resolved: ExceptionGroup = serde_json::from_value(body).expect("ExceptionGroup");
        assert!(resolved.is_resolved && resolved.resolution_notes.is_none());
        let (status, body) = send(
            &s,
            &t,
            Method::POST,
            "/api/v1/logging/logs/export",
            r#"{"format": 5}"#,
        )
        .await;
        assert_eq!((status, first_field(&body)), (422, "format"), "{body}");
        // Over a route's body limit (the login's 16 KiB; small enough that the refused body fits in
        // the socket buffers, so the client reads the answer instead of failing its write). On its
        // own connection: the collector closes one whose body it refused unread.
        let huge = json!({"username": "u".repeat(20_000), "password": "p"}).to_string();
        let r = reqwest::Client::new()
            .post(s.url("/api/v1/auth/login"))
            .body(huge)
            .send()
            .await
            .expect("oversized login");
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("envelope");
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (413, Some("too_large")),
            "{body}"
        );

        // Path segments: the parameter is named, before any body is read.
        for path in [
            "/api/v1/logging/exceptions/nope",
            "/api/v1/logging/exceptions/nope/resolve",
        ] {
            let method = if path.ends_with("resolve") {
                Method::PUT
            } else {
                Method::GET
            };
            let (status, body) = send(&s, &t, method, path, "{").await;
            assert_eq!((status, first_field(&body)), (422, "id"), "{path}: {body}");
        }
        s.stop().await;
    }
);
