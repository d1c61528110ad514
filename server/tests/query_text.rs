//! Full-text `q` at a size where SQLite's planner takes both of its routes (query/text.rs): a
//! term in every row (more candidates than the index route takes, so it scans) and rare terms
//! (a candidate list from the trigram index). Totals and pages must be exact either way, and
//! the same on PostgreSQL (pg_trgm).

mod common;

use common::{Backend, TestServer};
use serde_json::{Value, json};
use std::collections::HashSet;
use tracewire_server::query::text::CANDIDATE_LIMIT;

/// More rows than the index route takes for one term.
const ROWS: usize = CANDIDATE_LIMIT as usize + 1_000;

async fn query(s: &TestServer, token: &str, q: &str, limit: u32, cursor: Option<&str>) -> Value {
    let mut params = vec![
        ("q", q.to_owned()),
        ("limit", limit.to_string()),
        ("to", "2021-06-01T00:00:00Z".to_owned()),
    ];
    if let Some(c) = cursor {
        params.push(("cursor", c.to_owned()));
    }
    let r = s
        .client
        .get(s.url("/api/v1/logging/logs"))
        .bearer_auth(token)
        .query(&params)
        .send()
        .await
        .expect("query");
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.expect("json")
}

both_backends!(
    common_and_rare_terms_are_exact,
    |backend: Backend| async move {
        let s = TestServer::start_unthrottled(backend).await;
        for chunk in (0..ROWS).collect::<Vec<_>>().chunks(500) {
            let logs: Vec<Value> = chunk
            .iter()
            .map(|i| {
                let extra = if i % 100 == 7 { " Needle" } else { "" };
                json!({
                    "level": "INFO",
                    "message": format!("Common word {i} order {i}{extra}"),
                    "timestamp": format!("2021-05-01T00:{:02}:{:02}.{:03}Z", i / 6000 % 60, i / 100 % 60, i % 100),
                })
            })
            .collect();
            let (status, body) = s
                .ingest(
                    &json!({"batch_id": uuid::Uuid::now_v7(), "source": "backend", "logs": logs}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let token = s.admin_token().await;

        let common = query(&s, &token, "COMMON word", 10, None).await;
        assert_eq!(common["total"].as_u64(), Some(ROWS as u64));
        assert_eq!(common["items"].as_array().map(Vec::len), Some(10));

        let one = query(&s, &token, "order 4242", 10, None).await;
        assert_eq!(one["total"].as_u64(), Some(1));
        assert_eq!(one["items"][0]["message"], "Common word 4242 order 4242");
        // Several words, the rare one in the middle: PostgreSQL looks up that word alone and
        // rechecks the whole term.
        let middle = query(&s, &token, "WORD 4242 order", 10, None).await;
        assert_eq!(middle["total"].as_u64(), Some(1));
        assert_eq!(middle["items"][0]["message"], "Common word 4242 order 4242");
        let split = query(&s, &token, "word 4242 order 4243", 10, None).await;
        assert_eq!(split["total"].as_u64(), Some(0));

        // Rare: every 100th row; paged through in 25s, each once.
        let expected = (0..ROWS).filter(|i| i % 100 == 7).count();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = query(&s, &token, "needle", 25, cursor.as_deref()).await;
            assert_eq!(page["total"].as_u64(), Some(expected as u64));
            for item in page["items"].as_array().expect("items") {
                let m = item["message"].as_str().expect("message").to_owned();
                assert!(m.ends_with(" Needle"), "{m}");
                assert!(seen.insert(m), "a row twice");
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), expected);

        let none = query(&s, &token, "no such words", 10, None).await;
        assert_eq!(none["total"].as_u64(), Some(0));
        s.stop().await;
    }
);
