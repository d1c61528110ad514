//! Monitoring end to end: request logs and `metrics` entries sent through the real ingest
//! endpoint become slow requests, slow statements and aggregates that the monitoring API
//! answers, on SQLite and PostgreSQL. Seed property 5 (requests over the threshold are
//! recorded) is a property test here; its alerting half is the alert evaluator's.

mod common;

use common::{Backend, TestServer};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use tracewire_server::monitoring::rollup::{MonitoringRetention, run_once};
use tracewire_server::store::SeriesFilter;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{MetricsResponse, Period, SlowRequest, SlowStatement};
use tracewire_shared::validate::format_timestamp_us;
use uuid::Uuid;

const MINUTE: i64 = 60_000_000;
const ROUTES: [&str; 3] = ["/api/orders/{id}", "/api/cart", "/api/users/{id}/items"];

/// A request log as the middleware sends it.
/// One roll-up run by the test. The collector's own periodic roll-up starts with a run, and on
/// PostgreSQL the two share a lease: wait for it rather than race it.
async fn roll_up(
    store: &dyn tracewire_server::store::Store,
    retention: &MonitoringRetention,
    now: i64,
) -> tracewire_server::monitoring::rollup::RollupReport {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(report) = run_once(store, retention, now).await.expect("roll-up") {
            return report;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the roll-up lease stayed taken"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn request_log(route: &str, method: &str, status: i32, ms: f64, trace: &str, at: i64) -> Value {
    json!({
        "level": if status >= 500 { "ERROR" } else { "INFO" },
        "message": format!("{method} {route} {status}"),
        "timestamp": format_timestamp_us(at),
        "trace_id": trace,
        "request_method": method,
        "request_path": route.replace("{id}", "42"),
        "response_status": status,
        "duration_ms": ms,
        "function": route,
        "extra_data": {"route": route},
    })
}

fn trace_id() -> String {
    Uuid::new_v4().simple().to_string()
}

async fn get<T: serde::de::DeserializeOwned>(
    server: &TestServer,
    token: &str,
    path: &str,
    query: &[(&str, String)],
) -> Result<T, TestCaseError> {
    let r = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    prop_assert_eq!(status, 200, "{}", body);
    Ok(serde_json::from_value(body).expect("typed body"))
}

/// Generated requests: (route index, method index, status, duration ms, second in the minute).
type Requests = Vec<(usize, usize, i32, f64, i64)>;

fn requests() -> impl Strategy<Value = Requests> {
    prop::collection::vec(
        (
            0usize..3,
            0usize..2,
            prop_oneof![4 => Just(200), 1 => Just(404), 1 => Just(500), 1 => Just(503)],
            prop_oneof![0.5f64..999.0, 999.0f64..1001.0, 1000.0f64..5000.0],
            0i64..60,
        ),
        1..40,
    )
}

/// Seed property 5 and the aggregates: every request at or over the threshold is listed as
/// slow with its trace id (and none under it), and per endpoint the minute aggregate counts
/// every request and error exactly, with a p95 within the sketch's 1 % of the exact one.
fn property_5(backend: Backend) {
    // Each case gets its own minute, 10 minutes apart, going back from one hour ago.
    let case = AtomicI64::new(0);
    let case = &case;
    let setup = async {
        let server = TestServer::start_unthrottled(backend).await;
        let token = server.admin_token().await;
        (server, token)
    };
    common::check_property(
        16,
        requests(),
        setup,
        |fixture, requests| async move {
            let (server, token) = &*fixture;
            let n = case.fetch_add(1, Ordering::Relaxed);
            let now = tracewire_server::clock::now_us();
            let minute = (now - 60 * MINUTE - n * 10 * MINUTE).div_euclid(MINUTE) * MINUTE;
            let mut logs = Vec::new();
            let mut slow_traces = HashSet::new();
            let mut by_route: BTreeMap<&str, (i64, i64, Vec<f64>)> = BTreeMap::new();
            for &(route, method, status, ms, second) in &requests {
                let route = ROUTES[route];
                let trace = trace_id();
                if ms >= 1000.0 {
                    slow_traces.insert(trace.clone());
                }
                let entry = by_route.entry(route).or_default();
                entry.0 += 1;
                entry.1 += i64::from(status >= 500);
                entry.2.push(ms);
                let at = minute + second * 1_000_000;
                logs.push(request_log(
                    route,
                    ["GET", "POST"][method],
                    status,
                    ms,
                    &trace,
                    at,
                ));
            }
            // Two batches, so the minute's aggregate is merged across writer groups.
            let half = logs.len() / 2;
            for part in [&logs[..half], &logs[half..]] {
                let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
                                   "logs": part});
                let (status, body) = server.ingest(&batch).await;
                prop_assert_eq!(status, 200, "{}", body);
            }
            let window = [
                ("from", format_timestamp_us(minute)),
                ("to", format_timestamp_us(minute + MINUTE - 1)),
            ];
            let mut query = window.to_vec();
            query.push(("threshold_ms", "1000".into()));
            query.push(("limit", "1000".into()));
            let slow: Page<SlowRequest> =
                get(server, token, "/api/v1/monitoring/slow-requests", &query).await?;
            let listed: HashSet<String> = slow
                .items
                .iter()
                .filter_map(|s| s.trace_id.clone())
                .collect();
            prop_assert_eq!(&listed, &slow_traces);
            prop_assert_eq!(slow.total, slow_traces.len() as i64);
            prop_assert!(slow.items.iter().all(|s| s.duration_ms >= 1000.0));

            let mut query = window.to_vec();
            query.push(("metric_type", "http_request".into()));
            query.push(("period", "1m".into()));
            let metrics: MetricsResponse =
                get(server, token, "/api/v1/monitoring/metrics", &query).await?;
            for (route, (count, errors, mut values)) in by_route {
                let points: Vec<_> = metrics
                    .series
                    .iter()
                    .filter(|s| s.endpoint.as_deref() == Some(route))
                    .flat_map(|s| s.points.iter())
                    .collect();
                prop_assert_eq!(points.iter().map(|p| p.count).sum::<i64>(), count);
                prop_assert_eq!(points.iter().map(|p| p.errors).sum::<i64>(), errors);
                // One method: its p95 against the exact one (ranks 0.95·(n−1), either side).
                if let Some(series) = metrics
                    .series
                    .iter()
                    .find(|s| s.endpoint.as_deref() == Some(route) && s.metric_name == "GET")
                {
                    values.clear();
                    for &(r, m, _, ms, _) in &requests {
                        if ROUTES[r] == route && m == 0 {
                            values.push(ms);
                        }
                    }
                    values.sort_by(f64::total_cmp);
                    let rank = 0.95 * (values.len() - 1) as f64;
                    let (lo, hi) = (values[rank.floor() as usize], values[rank.ceil() as usize]);
                    let p95 = series.points[0].p95;
                    prop_assert!(
                        p95 >= lo * 0.99 && p95 <= hi * 1.01,
                        "p95 {} outside [{}, {}] ±1 %",
                        p95,
                        lo,
                        hi
                    );
                }
            }
            Ok(())
        },
        |(server, _)| server.stop(),
    );
}

property_on_both_backends!(property_5_slow_requests_are_recorded, super::property_5);

both_backends!(slow_statements_and_web_vitals, |backend| async move {
    let server = TestServer::start(backend).await;
    let token = server.admin_token().await;
    let now = tracewire_server::clock::now_us();
    let trace = trace_id();
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "metrics": [
        {"metric_type": "db_query", "metric_name": "SELECT * FROM orders", "value": 812.5,
         "unit": "ms", "endpoint": "/api/orders/{id}", "trace_id": trace,
         "timestamp": format_timestamp_us(now),
         "tags": {"slow": true, "statement": "SELECT * FROM orders WHERE id = $1", "rows_returned": 3}},
        {"metric_type": "db_query", "metric_name": "SELECT 1", "value": 2.0, "unit": "ms",
         "timestamp": format_timestamp_us(now), "tags": {"slow": false}}
    ]});
    let (status, body) = server.ingest(&batch).await;
    assert_eq!(status, 200, "{body}");
    let frontend = json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend", "metrics":
        (0..8).map(|i| json!({"metric_type": "web_vital", "metric_name": "LCP",
            "value": 1000.0 + 500.0 * f64::from(i), "unit": "ms", "endpoint": "/shop",
            "timestamp": format_timestamp_us(now)})).collect::<Vec<_>>()});
    let (status, body) = server.ingest(&frontend).await;
    assert_eq!(status, 200, "{body}");

    let slow: Page<SlowStatement> = get(&server, &token, "/api/v1/monitoring/slow-queries", &[])
        .await
        .expect("slow queries");
    assert_eq!(slow.total, 1);
    let s = &slow.items[0];
    assert_eq!(s.trace_id.as_deref(), Some(trace.as_str()));
    assert_eq!(
        s.statement.as_deref(),
        Some("SELECT * FROM orders WHERE id = $1")
    );
    assert_eq!(s.rows, Some(3));
    assert_eq!(s.endpoint.as_deref(), Some("/api/orders/{id}"));

    let vitals: Value = get(&server, &token, "/api/v1/monitoring/web-vitals", &[])
        .await
        .expect("web vitals");
    let item = &vitals["items"][0];
    assert_eq!(item["page"], "/shop");
    assert_eq!(item["count"], 8);
    // 1000 … 4500 ms: p75 ≈ 3,625 → needs improvement (2.5 s < p75 ≤ 4 s).
    let p75 = item["p75"].as_f64().expect("p75");
    assert!((3400.0..=3900.0).contains(&p75), "{p75}");
    assert_eq!(item["rating"], "needs-improvement");
    server.stop().await;
});

both_backends!(error_rates_rank_endpoints, |backend| async move {
    let server = TestServer::start(backend).await;
    let token = server.admin_token().await;
    let now = tracewire_server::clock::now_us();
    let mut logs = Vec::new();
    for i in 0..10 {
        logs.push(request_log(
            "/api/cart",
            "GET",
            if i < 5 { 500 } else { 200 },
            5.0,
            &trace_id(),
            now,
        ));
        logs.push(request_log(
            "/api/orders/{id}",
            "GET",
            if i < 1 { 503 } else { 200 },
            5.0,
            &trace_id(),
            now,
        ));
    }
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs});
    assert_eq!(server.ingest(&batch).await.0, 200);
    let rates: Value = get(&server, &token, "/api/v1/monitoring/error-rates", &[])
        .await
        .expect("error rates");
    let items = rates["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{rates}");
    assert_eq!(items[0]["endpoint"], "/api/cart");
    assert_eq!(items[0]["requests"], 10);
    assert_eq!(items[0]["errors"], 5);
    assert_eq!(items[1]["endpoint"], "/api/orders/{id}");
    assert!((items[1]["error_rate"].as_f64().expect("rate") - 0.1).abs() < 1e-9);
    server.stop().await;
});

// `combine=true` is the dashboard's "all requests" line: every endpoint and method merged into
// one series per bucket, percentiles from the merged sketches; with `endpoint` it merges only
// that route's methods.
both_backends!(
    combined_series_merge_endpoints_and_methods,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let now = tracewire_server::clock::now_us();
        let at = (now - 10 * MINUTE).div_euclid(MINUTE) * MINUTE + 5_000_000;
        let mut logs = Vec::new();
        for i in 0..20 {
            // /api/cart: 10 GET + 10 POST at 1..=20 ms, 2 errors; /api/orders/{id}: 20 at 500 ms.
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            let status = if i < 2 { 500 } else { 200 };
            logs.push(request_log(
                "/api/cart",
                method,
                status,
                f64::from(i + 1),
                &trace_id(),
                at,
            ));
            logs.push(request_log(
                "/api/orders/{id}",
                "GET",
                200,
                500.0,
                &trace_id(),
                at,
            ));
        }
        let batch =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs});
        assert_eq!(server.ingest(&batch).await.0, 200);
        let window = |extra: &[(&'static str, &'static str)]| {
            let mut q = vec![
                ("metric_type", "http_request".to_owned()),
                ("period", "1m".to_owned()),
                ("from", format_timestamp_us(at - 30 * MINUTE)),
                ("to", format_timestamp_us(now)),
            ];
            q.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
            q
        };
        let split: MetricsResponse =
            get(&server, &token, "/api/v1/monitoring/metrics", &window(&[]))
                .await
                .expect("series");
        assert_eq!(
            split.series.len(),
            3,
            "one per (method, endpoint): {split:?}"
        );
        let all: MetricsResponse = get(
            &server,
            &token,
            "/api/v1/monitoring/metrics",
            &window(&[("combine", "true")]),
        )
        .await
        .expect("combined");
        assert_eq!(all.series.len(), 1, "{all:?}");
        let s = &all.series[0];
        assert_eq!((s.endpoint.as_deref(), s.metric_name.as_str()), (None, ""));
        assert_eq!(s.points.len(), 1);
        let p = &s.points[0];
        assert_eq!((p.count, p.errors), (40, 2));
        // Half of all requests took 500 ms: the merged median is about 500 ms, never the mean
        // of the per-series medians (~260 ms).
        assert!((p.p95 - 500.0).abs() <= 5.0 && p.max >= 499.0, "{p:?}");
        let cart: MetricsResponse = get(
            &server,
            &token,
            "/api/v1/monitoring/metrics",
            &window(&[("combine", "true"), ("endpoint", "/api/cart")]),
        )
        .await
        .expect("cart");
        assert_eq!(cart.series.len(), 1);
        assert_eq!(cart.series[0].endpoint.as_deref(), Some("/api/cart"));
        assert_eq!(
            (
                cart.series[0].points[0].count,
                cart.series[0].points[0].errors
            ),
            (20, 2)
        );
        assert!(cart.series[0].points[0].max <= 20.5);
        let r = server
            .client
            .get(server.url("/api/v1/monitoring/metrics"))
            .bearer_auth(&token)
            .query(&window(&[("combine", "yes")]))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 422);
        server.stop().await;
    }
);

// Over settled buckets `combine=true` answers from the roll-up's family totals, one row per
// bucket instead of every endpoint's: equal to the merge of the per-endpoint series, and read
// from the totals (a changed total shows in the answer).
both_backends!(
    combined_series_of_settled_hours_come_from_family_totals,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let now = tracewire_server::clock::now_us();
        let hour = now.div_euclid(60 * MINUTE) * 60 * MINUTE - 4 * 60 * MINUTE;
        let mut logs = Vec::new();
        for i in 0..5 {
            let status = if i == 0 { 500 } else { 200 };
            let at = hour + (10 + i) * MINUTE;
            logs.push(request_log(
                "/api/cart",
                "GET",
                status,
                10.0,
                &trace_id(),
                at,
            ));
            logs.push(request_log(
                "/api/orders/{id}",
                "POST",
                200,
                500.0,
                &trace_id(),
                at,
            ));
        }
        let batch =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs});
        assert_eq!(server.ingest(&batch).await.0, 200);
        roll_up(server.store.as_ref(), &MonitoringRetention::default(), now).await;
        let window = |combine: bool| {
            let mut q = vec![
                ("metric_type", "http_request".to_owned()),
                ("period", "1h".to_owned()),
                ("from", format_timestamp_us(hour - 60 * MINUTE)),
                ("to", format_timestamp_us(hour + 2 * 60 * MINUTE)),
            ];
            if combine {
                q.push(("combine", "true".to_owned()));
            }
            q
        };
        let read = |combine: bool| {
            let (server, token, q) = (&server, &token, window(combine));
            async move {
                get::<MetricsResponse>(server, token, "/api/v1/monitoring/metrics", &q)
                    .await
                    .expect("series")
            }
        };
        let split = read(false).await;
        assert_eq!(split.series.len(), 2, "{split:?}");
        let all = read(true).await;
        assert_eq!(all.series.len(), 1, "{all:?}");
        let p = all.series[0]
            .points
            .iter()
            .find(|p| p.count > 0)
            .expect("the hour's point");
        assert_eq!((p.count, p.errors), (10, 1));
        assert!(
            p.min <= 10.5 && p.max >= 499.0 && (p.p95 - 500.0).abs() <= 5.0,
            "{p:?}"
        );
        let totals = server
            .pairs("SELECT aggregation_period, count FROM metric_family_totals")
            .await;
        assert!(totals.contains(&("1h".to_owned(), 10)), "{totals:?}");
        // The answer is the stored total's, not a merge of the endpoints' rows.
        server
            .execute("UPDATE metric_family_totals SET count = count + 1000 WHERE aggregation_period = '1h'")
            .await;
        let tampered = read(true).await;
        let p = tampered.series[0]
            .points
            .iter()
            .find(|p| p.count > 0)
            .expect("the hour's point");
        assert_eq!(p.count, 1010);
        server.stop().await;
    }
);

both_backends!(
    rollups_merge_minutes_and_retention_prunes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let now = tracewire_server::clock::now_us();
        let hour = now.div_euclid(60 * MINUTE) * 60 * MINUTE;
        let at = |minute: i64| hour - 60 * MINUTE + minute * MINUTE;
        // Three minutes of the previous hour (1, 2 and 3 requests), and one row three days old.
        let mut logs = Vec::new();
        for (k, minute) in [5i64, 17, 42].into_iter().enumerate() {
            for j in 0..=k {
                let ms = 10.0 * (j + 1) as f64;
                logs.push(request_log(
                    "/api/cart",
                    "GET",
                    200,
                    ms,
                    &trace_id(),
                    at(minute),
                ));
            }
        }
        let old = now - 3 * 24 * 60 * MINUTE;
        logs.push(request_log("/api/cart", "GET", 200, 1.0, &trace_id(), old));
        let batch =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs});
        assert_eq!(server.ingest(&batch).await.0, 200);

        let retention = MonitoringRetention::default();
        let report = roll_up(server.store.as_ref(), &retention, now).await;
        assert!(
            report.pruned >= 1,
            "the 3-day-old minute row is past 2 days"
        );
        // The stored coarse rows themselves (the API answers this window from minute rows).
        let stored = |period: Period| {
            let store = server.store.clone();
            async move {
                let filter = SeriesFilter {
                    metric_type: "http_request".into(),
                    metric_name: None,
                    endpoint: None,
                    source: None,
                    period,
                    from_us: hour - 60 * MINUTE,
                    to_us: hour,
                };
                store.aggregate_rows(&filter).await.expect("rows")
            }
        };
        let hourly = stored(Period::Hour).await;
        assert_eq!(hourly.len(), 1, "{hourly:?}");
        assert_eq!(
            hourly[0].count, 6,
            "1 + 2 + 3 requests merged into the hour"
        );
        assert!((hourly[0].sketch.max().expect("max") - 30.0).abs() < 0.5);
        let five: Vec<u64> = stored(Period::FiveMinutes)
            .await
            .iter()
            .map(|r| r.count)
            .collect();
        assert_eq!(five, [1, 2, 3]);
        // Nothing changed: a second run rebuilds nothing and the hour is not added to twice.
        let again = roll_up(server.store.as_ref(), &retention, now).await;
        assert_eq!(again.rolled_up, 0);
        assert_eq!(stored(Period::Hour).await[0].count, 6);
        // A late request for that hour (an offline buffer flushed) still reaches the hour.
        let late = request_log("/api/cart", "GET", 503, 70.0, &trace_id(), at(17));
        let late =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": [late]});
        assert_eq!(server.ingest(&late).await.0, 200);
        roll_up(server.store.as_ref(), &retention, now).await;
        let hourly = stored(Period::Hour).await;
        assert_eq!(hourly[0].count, 7);
        assert_eq!(hourly[0].errors, 1);
        assert!((hourly[0].sketch.max().expect("max") - 70.0).abs() < 1.0);
        // The API's hourly view of that window agrees with the stored hour.
        let query = [
            ("metric_type", "http_request".to_owned()),
            ("period", "1h".to_owned()),
            ("from", format_timestamp_us(hour - 60 * MINUTE)),
            ("to", format_timestamp_us(hour - 1)),
        ];
        let api: MetricsResponse = get(&server, &token, "/api/v1/monitoring/metrics", &query)
            .await
            .expect("hourly");
        assert_eq!(api.series[0].points[0].count, 7);
        server.stop().await;
    }
);

both_backends!(series_cap_drops_and_counts, |backend| async move {
    let server = TestServer::start_with(backend, |c| c.max_metric_series = 2).await;
    let token = server.admin_token().await;
    let now = tracewire_server::clock::now_us();
    let logs: Vec<Value> = (0..5)
        .map(|i| request_log(&format!("/raw/{i}x"), "GET", 200, 1.0, &trace_id(), now))
        .collect();
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs});
    assert_eq!(server.ingest(&batch).await.0, 200);
    let metrics: MetricsResponse = get(
        &server,
        &token,
        "/api/v1/monitoring/metrics",
        &[("metric_type", "http_request".into())],
    )
    .await
    .expect("metrics");
    assert_eq!(metrics.series.len(), 2);
    assert_eq!(metrics.dropped, 3);
    server.stop().await;
});

both_backends!(bad_parameters_name_themselves, |backend| async move {
    let server = TestServer::start(backend).await;
    let token = server.admin_token().await;
    let r = server
        .client
        .get(server.url("/api/v1/monitoring/metrics?period=2m&from=yesterday&bogus=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.expect("json");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    for p in ["metric_type", "period", "from", "bogus"] {
        assert!(paths.contains(&p), "{p} missing in {body}");
    }
    let anonymous = server
        .client
        .get(server.url("/api/v1/monitoring/slow-requests"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    server.stop().await;
});

/// The value of one sample line of a Prometheus text body (0 when absent).
fn sample(body: &str, name_and_labels: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or(0.0)
}

both_backends!(prometheus_metrics_count_ingest, |backend| async move {
    let server = TestServer::start(backend).await;
    let scrape = || async {
        let r = server
            .client
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(r.status().as_u16(), 200);
        let kind = r.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
        r.text().await.expect("text")
    };
    let logs = r#"tracewire_ingest_entries_total{kind="logs"}"#;
    let rejected = r#"tracewire_ingest_rejected_total{reason="validation_failed"}"#;
    let before = scrape().await;
    assert_eq!(server.ingest(&common::batch(7)).await.0, 200);
    let bad = json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend",
                     "logs": [{"level": "LOUD", "message": "x"}]});
    let (status, body) = server.ingest(&bad).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_failed");
    let after = scrape().await;
    // Other tests of this binary ingest at the same time into the same process-wide counters.
    assert!(
        sample(&after, logs) - sample(&before, logs) >= 7.0,
        "{after}"
    );
    assert!(
        sample(&after, rejected) - sample(&before, rejected) >= 1.0,
        "{after}"
    );
    assert!(
        after.contains("tracewire_writer_commit_seconds_bucket"),
        "{after}"
    );
    assert!(
        after.contains("# HELP tracewire_ingest_batches_total"),
        "{after}"
    );
    server.stop().await;
});

/// Two collectors merging the same new series-minute at once on one PostgreSQL database: the
/// one whose insert loses the race merges into the winner's row instead of replacing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_merge_the_same_minute_exactly() {
    use tracewire_server::monitoring::aggregate::{AggregateRow, SeriesKey};
    use tracewire_server::monitoring::sketch::Sketch;
    use tracewire_server::store::{self, StoreOptions};
    use tracewire_shared::validate::Source;

    let db = common::TestDb::new(Backend::Postgres).await;
    let a = store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("a");
    let b = store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("b");
    let minute = tracewire_server::clock::now_us().div_euclid(MINUTE) * MINUTE;
    let row = move |values: &[f64]| AggregateRow {
        series: SeriesKey {
            project_id: Uuid::nil(),
            source: Source::Backend,
            metric_type: "http_request".into(),
            metric_name: "GET".into(),
            endpoint: Some("/api/cart".into()),
        },
        unit: "ms".into(),
        period: Period::Minute,
        period_start_us: minute,
        count: values.len() as u64,
        errors: 1,
        sketch: Sketch::from_values(values.iter().copied()),
    };
    let mut first = a.begin_write().await.expect("begin a");
    first
        .merge_aggregates(&[row(&[1.0, 2.0, 3.0])])
        .await
        .expect("merge a");
    // B's insert waits on A's uncommitted row, then finds it taken.
    let second = tokio::spawn(async move {
        let mut tx = b.begin_write().await.expect("begin b");
        tx.merge_aggregates(&[row(&[100.0, 200.0])])
            .await
            .expect("merge b");
        tx.commit().await.expect("commit b");
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.expect("commit a");
    second.await.expect("b finished");
    let stored = a
        .aggregate_rows(&SeriesFilter {
            metric_type: "http_request".into(),
            metric_name: None,
            endpoint: None,
            source: None,
            period: Period::Minute,
            from_us: minute,
            to_us: minute + MINUTE,
        })
        .await
        .expect("rows");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].count, 5);
    assert_eq!(stored[0].errors, 2);
    assert!((stored[0].sketch.max().expect("max") - 200.0).abs() < 3.0);
    assert!((stored[0].sketch.min().expect("min") - 1.0).abs() < 0.05);
}

// Settled hourly buckets read as the API reads them: a lone row from its stored percentiles, a
// bucket shared by two projects from their merged sketches (not from either row's figures),
// and a row without stored percentiles (written before the columns existed) from its sketch.
both_backends!(
    settled_buckets_use_stored_percentiles_or_merge,
    |backend| async move {
        use tracewire_server::monitoring::aggregate::{
            AggregateRow, Quantiles, SeriesKey, SketchesWanted,
        };
        use tracewire_server::monitoring::read::bucket_summaries;
        use tracewire_server::monitoring::series::series;
        use tracewire_server::monitoring::sketch::Sketch;
        use tracewire_server::store::{self, StoreOptions};
        use tracewire_shared::validate::Source;

        let db = common::TestDb::new(backend).await;
        let store = store::connect(&db.url, &StoreOptions::default())
            .await
            .expect("store");
        const HOUR: i64 = 60 * MINUTE;
        let hour = (tracewire_server::clock::now_us() - 3 * HOUR).div_euclid(HOUR) * HOUR;
        let row = |project: u128, endpoint: &str, values: &[f64]| AggregateRow {
            series: SeriesKey {
                project_id: Uuid::from_u128(project),
                source: Source::Backend,
                metric_type: "http_request".into(),
                metric_name: "GET".into(),
                endpoint: Some(endpoint.into()),
            },
            unit: "ms".into(),
            period: Period::Minute,
            period_start_us: hour + 5 * MINUTE,
            count: values.len() as u64,
            errors: 0,
            sketch: Sketch::from_values(values.iter().copied()),
        };
        let lone: Vec<f64> = (1..=100).map(f64::from).collect();
        let fast = [10.0; 50];
        let slow = [1000.0; 50];
        let mut tx = store.begin_write().await.expect("begin");
        tx.merge_aggregates(&[row(1, "/lone", &lone), row(1, "/shared", &fast)])
            .await
            .expect("merge");
        tx.merge_aggregates(&[row(2, "/shared", &slow)])
            .await
            .expect("merge");
        tx.commit().await.expect("commit");
        let retention = MonitoringRetention {
            minute_days: 3650,
            five_minute_days: 3650,
            hour_days: 3650,
            day_days: 3650,
            slow_days: 3650,
        };
        run_once(
            store.as_ref(),
            &retention,
            tracewire_server::clock::now_us(),
        )
        .await
        .expect("roll-up");
        let filter = SeriesFilter {
            metric_type: "http_request".into(),
            metric_name: None,
            endpoint: None,
            source: None,
            period: Period::Hour,
            from_us: hour,
            to_us: hour + HOUR,
        };
        // Everything before now is settled.
        let now = tracewire_server::clock::now_us();
        let read = |sketches| bucket_summaries(store.as_ref(), filter.clone(), now, sketches);
        let rows = read(SketchesWanted::WhereMerged).await.expect("read");
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert!(r.quantiles.is_some(), "percentiles stored with each row");
            let shared = r.series.endpoint.as_deref() == Some("/shared");
            assert_eq!(
                r.sketch.is_some(),
                shared,
                "a sketch only where the bucket merges"
            );
        }
        let points = |rows: &[_]| {
            series(rows, Period::Hour)
                .into_iter()
                .map(|s| (s.endpoint.unwrap_or_default(), s.points[0].clone()))
                .collect::<BTreeMap<_, _>>()
        };
        let by_endpoint = points(&rows);
        let expected = Quantiles::of(&Sketch::from_values(lone.iter().copied()));
        let p = &by_endpoint["/lone"];
        assert_eq!(
            (p.p50, p.p95, p.p99),
            (expected.p50, expected.p95, expected.p99)
        );
        let p = &by_endpoint["/shared"];
        assert_eq!(p.count, 100);
        assert!((p.p95 - 1000.0).abs() < 20.0, "merged p95 {}", p.p95);
        assert!((p.p50 - 10.0).abs() < 1.0, "merged p50 {}", p.p50);
        // The same answer when every sketch is read and merged, as before the stored columns.
        let all = read(SketchesWanted::All).await.expect("read all");
        assert_eq!(points(&all), by_endpoint);
        // A row without stored percentiles is read through its sketch.
        sqlx_clear_percentiles(&db.url, "/lone").await;
        let rows = read(SketchesWanted::WhereMerged).await.expect("read");
        let lone_row = rows
            .iter()
            .find(|r| r.series.endpoint.as_deref() == Some("/lone"))
            .expect("lone row");
        assert!(lone_row.quantiles.is_none() && lone_row.sketch.is_some());
        assert_eq!(points(&rows), by_endpoint);
    }
);

/// Sets the stored percentiles of `endpoint`'s hourly row to NULL, as migration 0008 left the
/// rows written before it.
async fn sqlx_clear_percentiles(url: &str, endpoint: &str) {
    let sql = "UPDATE metric_aggregates SET p50 = NULL, p95 = NULL, p99 = NULL \
               WHERE aggregation_period = '1h' AND endpoint = $1";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        sqlx::query(sql)
            .bind(endpoint)
            .execute(&pool)
            .await
            .expect("clear");
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        sqlx::query(sql)
            .bind(endpoint)
            .execute(&pool)
            .await
            .expect("clear");
    }
}
