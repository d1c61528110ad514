//! Seed properties 1 and 2 on the collector's own API: it runs `tracewire-middleware` like any
//! backend, so every API request it serves leaves a backend log with the caller's trace id,
//! stored through its own pipeline. Probes, the UI's files and unknown paths are logged only
//! with `--self-log all`.

mod common;

use common::TestServer;
use proptest::prelude::*;
use tracewire_server::config::SelfLog;

both_backends!(
    own_requests_are_logged_under_the_callers_trace,
    |backend| async move {
        let s = TestServer::start(backend).await;
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let response = s
            .client
            .get(s.url("/api/v1/auth/me"))
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let echoed = response.headers()["traceparent"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(echoed.starts_with(&format!("00-{trace}-")), "{echoed}");
        assert!(
            !echoed.contains("00f067aa0ba902b7"),
            "our hop gets its own span id"
        );
        let missing = s
            .client
            .get(s.url("/api/v1/nothing"))
            .header("x-trace-id", "5bf92f3577b34da6a3ce929d0e0e4736")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status().as_u16(), 404);
        for probe in ["/healthz", "/readyz"] {
            let r = s.client.get(s.url(probe)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        let db = s.stop().await; // flushes the collector's own queue into the writer
        let s = TestServer::reopen(db).await;
        let rows = s
        .pairs("SELECT trace_id || ' ' || request_path || ' ' || source, CAST(response_status AS BIGINT) FROM app_logs ORDER BY timestamp")
        .await;
        assert!(
            rows.contains(&(format!("{trace} /api/v1/auth/me collector"), 401)),
            "{rows:?}"
        );
        // Probes and unknown paths are not the user's data: not stored by default.
        assert!(
            rows.iter().all(|(r, _)| !r.contains("/healthz")
                && !r.contains("/readyz")
                && !r.contains("/api/v1/nothing")),
            "{rows:?}"
        );
        s.stop().await;
    }
);

both_backends!(
    with_self_log_all_probes_and_unknown_paths_are_logged,
    |backend| async move {
        let s = TestServer::start_with(backend, |c| c.self_log = SelfLog::All).await;
        let trace = "5bf92f3577b34da6a3ce929d0e0e4736";
        for path in ["/readyz", "/api/v1/nothing"] {
            s.client
                .get(s.url(path))
                .header("x-trace-id", trace)
                .send()
                .await
                .unwrap();
        }
        let db = s.stop().await;
        let s = TestServer::reopen(db).await;
        let rows = s
            .pairs(&format!("SELECT request_path, CAST(response_status AS BIGINT) FROM app_logs WHERE trace_id = '{trace}' ORDER BY request_path"))
            .await;
        assert_eq!(
            rows,
            vec![
                ("/api/v1/nothing".to_owned(), 404),
                ("/readyz".to_owned(), 200)
            ]
        );
        s.stop().await;
    }
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    /// Any mix of requests with and without incoming trace ids: each leaves exactly one backend
    /// log, carrying the incoming trace id when there was one.
    #[test]
    fn every_request_leaves_one_log_with_its_trace(
        requests in prop::collection::vec((any::<bool>(), any::<[u8; 16]>(), prop::bool::ANY), 1..8)
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let s = TestServer::start(common::Backend::Sqlite).await;
            let mut expected = Vec::new();
            for (with_trace, bytes, ready) in &requests {
                let path = if *ready { "/api/v1/auth/me" } else { "/api/v1/logging/exceptions" };
                let mut request = s.client.get(s.url(path));
                let trace = tracewire_shared::TraceId::from_bytes(*bytes).filter(|_| *with_trace);
                if let Some(t) = trace {
                    request = request.header("x-trace-id", t.to_string());
                }
                let response = request.send().await.unwrap();
                let echoed = response.headers()["x-trace-id"].to_str().unwrap().to_owned();
                if let Some(t) = trace {
                    assert_eq!(echoed, t.to_string());
                }
                expected.push((echoed, path));
            }
            let db = s.stop().await;
            let s = TestServer::reopen(db).await;
            for (trace, path) in expected {
                let rows = s.pairs(&format!("SELECT request_path, COUNT(*) FROM app_logs WHERE trace_id = '{trace}' GROUP BY request_path")).await;
                let count: i64 = rows.iter().map(|r| r.1).sum();
                // Two requests may share a random trace id only with negligible probability.
                assert_eq!(count, 1, "trace {trace}: {rows:?}");
                assert_eq!(rows[0].0, path);
            }
            s.stop().await;
        });
    }
}

both_backends!(
    own_logs_stay_out_of_the_users_queries_and_totals,
    |backend| async move {
        let s = TestServer::start(backend).await;
        let token = s.admin_token().await;
        let trace = "6bf92f3577b34da6a3ce929d0e0e4736";
        let me = s
            .client
            .get(s.url("/api/v1/auth/me"))
            .header("x-trace-id", trace)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status().as_u16(), 200);
        let db = s.stop().await;
        let s = TestServer::reopen(db).await;
        let token = s.admin_token().await;
        let get = |query: String| {
            let request = s.client.get(s.url(&query)).bearer_auth(&token);
            async move {
                let r = request.send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{query}");
                r.json::<serde_json::Value>().await.unwrap()
            }
        };
        // Stored, but only under `source=collector`.
        let mine = get(format!("/api/v1/logging/logs?trace_id={trace}")).await;
        assert_eq!(mine["total"], 0, "{mine}");
        let own = get(format!(
            "/api/v1/logging/logs?trace_id={trace}&source=collector"
        ))
        .await;
        assert_eq!(own["total"], 1, "{own}");
        assert_eq!(own["items"][0]["request_path"], "/api/v1/auth/me");
        // Totals from the hourly tally leave them out too, and so does the statistics endpoint.
        let all = get("/api/v1/logging/logs?from=2000-01-01T00:00:00Z".to_owned()).await;
        let stats = get("/api/v1/logging/logs/statistics".to_owned()).await;
        assert_eq!(all["total"], 0, "{all}");
        assert_eq!(stats["total"], 0, "{stats}");
        let own_all =
            get("/api/v1/logging/logs?source=collector&from=2000-01-01T00:00:00Z".to_owned()).await;
        assert!(own_all["total"].as_i64().unwrap_or(0) >= 1, "{own_all}");
        s.stop().await;
    }
);
