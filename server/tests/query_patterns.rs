//! `GET /api/v1/logging/exceptions/patterns` on SQLite and PostgreSQL: top groups of a window
//! with their trend against the window before.

mod common;

use common::{Backend, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

both_backends!(
    patterns_rank_groups_and_show_their_trend,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let exceptions: Vec<Value> = [
            ("TypeError", "09:30"),
            ("TypeError", "10:10"),
            ("TypeError", "10:20"),
            ("TypeError", "10:30"),
            ("KeyError", "10:40"),
            ("KeyError", "10:50"),
        ]
        .iter()
        .map(|(kind, at)| {
            json!({"exception_type": kind, "exception_message": format!("{kind} happened"),
               "timestamp": format!("2021-03-01T{at}:00Z")})
        })
        .collect();
        let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
                       "exceptions": exceptions});
        let (status, body) = s.ingest(&batch).await;
        assert_eq!(status, 200, "{body}");

        let path =
            "/api/v1/logging/exceptions/patterns?from=2021-03-01T10:00:00Z&to=2021-03-01T11:00:00Z";
        let anonymous = s.client.get(s.url(path)).send().await.expect("request");
        assert_eq!(anonymous.status().as_u16(), 401);
        let token = s.admin_token().await;
        let r = s
            .client
            .get(s.url(path))
            .bearer_auth(token.as_str())
            .send()
            .await
            .expect("patterns");
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.expect("json");
        let items = body["items"].as_array().expect("items");
        let summary: Vec<(&str, i64, i64, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["exception_type"].as_str().unwrap_or_default(),
                    i["occurrences"].as_i64().unwrap_or_default(),
                    i["previous_occurrences"].as_i64().unwrap_or_default(),
                    i["trend"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![("TypeError", 3, 1, "rising"), ("KeyError", 2, 0, "new")]
        );
        s.stop().await;
    }
);
