//! `POST /api/v1/logging/logs/export` on SQLite and PostgreSQL: JSON lines, CSV and text exports
//! of more than one internal page parse back to exactly the matching rows.

mod common;

use common::{Backend, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

/// More than two export pages (1,000 rows each).
const ROWS: usize = 2503;
const TRICKY: &str = "=cmd|' /C calc'!A0, \"quoted\"\nsecond line";

async fn export(s: &TestServer, token: Option<&str>, body: Value) -> (u16, String) {
    let mut rb = s
        .client
        .post(s.url("/api/v1/logging/logs/export"))
        .json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.expect("export");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// RFC 4180 records (quoted cells may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    records
}

both_backends!(
    exports_parse_back_in_every_format,
    |backend: Backend| async move {
        let s = TestServer::start_unthrottled(backend).await;
        let logs: Vec<Value> = (0..ROWS)
        .map(|i| {
            let message = if i == 7 { TRICKY.to_owned() } else { format!("row {i}") };
            json!({"level": "INFO", "message": message,
                   "timestamp": format!("2021-03-01T10:{:02}:{:02}.{:03}Z", i / 600, (i / 10) % 60, i % 10)})
        })
        .collect();
        for chunk in logs.chunks(1000) {
            let batch =
                json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": chunk});
            let (status, body) = s.ingest(&batch).await;
            assert_eq!(status, 200, "{body}");
        }
        let t = s.admin_token().await;
        // The collector's own request logs are stamped "now"; the bound keeps them out.
        let filters = json!({"to": "2021-03-01T12:00:00Z", "level": ["INFO"]});

        let (status, jsonl) =
            export(&s, Some(&t), json!({"filters": filters, "format": "json"})).await;
        assert_eq!(status, 200, "{jsonl}");
        let rows: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(rows.len(), ROWS);
        let mut ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ROWS, "no duplicates across pages");
        assert!(rows.iter().any(|r| r["message"] == TRICKY));

        let (status, csv) =
            export(&s, Some(&t), json!({"filters": filters, "format": "csv"})).await;
        assert_eq!(status, 200);
        let records = parse_csv(&csv);
        assert_eq!(records.len(), ROWS + 1, "header + rows");
        assert_eq!(records[0][0], "id");
        let message = records[0]
            .iter()
            .position(|c| c == "message")
            .expect("column");
        assert!(records.iter().all(|r| r.len() == records[0].len()));
        assert!(
            records.iter().any(|r| r[message] == format!("'{TRICKY}")),
            "neutralized"
        );

        let (status, text) =
            export(&s, Some(&t), json!({"filters": filters, "format": "txt"})).await;
        assert_eq!(status, 200);
        assert_eq!(text.lines().count(), ROWS);

        let (status, _) = export(&s, None, json!({"format": "csv"})).await;
        assert_eq!(status, 401);
        let (status, body) = export(&s, Some(&t), json!({"format": "xml"})).await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = export(
            &s,
            Some(&t),
            json!({"format": "csv", "filters": {"level": "LOUD"}}),
        )
        .await;
        assert_eq!(status, 422);
        let body: Value = serde_json::from_str(&body).expect("envelope");
        assert_eq!(body["error"]["details"][0]["path"], "filters.level");
        let audit = s
        .pairs("SELECT action, COUNT(*) FROM audit_logs WHERE action = 'logs.export' GROUP BY action")
        .await;
        assert_eq!(audit, vec![("logs.export".to_owned(), 3)]);
        s.stop().await;
    }
);
