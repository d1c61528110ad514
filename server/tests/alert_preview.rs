//! The rule form's preview and the history's severity filter, on both backends over real HTTP.
//!
//! The preview is checked against a known pattern of error bursts (firings, throttled and
//! muted triggers, resolves), against the real evaluator run over the same instants (the
//! preview and the live history agree), and at the default 30 s interval, where it steps
//! coarser and says so. The severity filter is checked over history the evaluator wrote,
//! page by page through the cursor.

mod common;

use std::time::Duration;

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use tracewire_server::alerting::channels::RetryPolicy;
use tracewire_server::alerting::evaluator::Evaluator;
use tracewire_server::alerting::notify::Notifier;
use tracewire_server::clock::now_us;
use tracewire_shared::validate::{format_timestamp_us, parse_timestamp_us};
use uuid::Uuid;

const SECOND: i64 = 1_000_000;
const MINUTE: i64 = 60 * SECOND;
const STEP: i64 = 300 * SECOND;
const PREVIEW: &str = "/api/v1/monitoring/alerts/preview";
const HISTORY: &str = "/api/v1/monitoring/alerts/history";

/// An evaluator over the server's store that sends nothing (the rules have no channels).
fn evaluator(s: &TestServer, interval_secs: u64) -> Evaluator {
    let policy = RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    };
    let notifier = Notifier::new(None, policy, "https://logs.example".into()).expect("notifier");
    Evaluator::new(
        s.store.clone(),
        notifier,
        Duration::from_secs(interval_secs),
    )
}

/// `n` ERROR logs of `module` at `at_us`, each with its own message (no dedup).
async fn ingest_errors(s: &TestServer, module: &str, n: usize, at_us: i64) {
    let logs: Vec<Value> = (0..n)
        .map(|i| {
            json!({"level": "ERROR", "module": module, "timestamp": format_timestamp_us(at_us),
                   "message": format!("checkout failed {i} {}", Uuid::new_v4())})
        })
        .collect();
    let (status, body) = s
        .ingest(&json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs}))
        .await;
    assert_eq!(status, 200, "{body}");
}

fn log_rule(module: &str, pending: u32) -> Value {
    json!({"name": format!("{module} errors"), "severity": "warning",
           "condition": {"type": "log_count", "filters": {"min_level": "ERROR", "module": module}},
           "operator": "gte", "threshold": 3, "window_minutes": 5,
           "pending_evaluations": pending, "throttle_minutes": 10})
}

fn times(body: &Value, field: &str) -> Vec<String> {
    body[field]
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t.as_str().expect("time").to_owned())
        .collect()
}

/// The preview's counts: (triggers, notifications, suppressed, muted, resolves).
fn counts(body: &Value) -> (u64, u64, u64, u64, u64) {
    let n = |f: &str| body[f].as_u64().unwrap_or_else(|| panic!("{f} in {body}"));
    (
        n("triggers"),
        n("notifications"),
        n("suppressed"),
        n("muted"),
        n("resolves"),
    )
}

// At a live interval of 300 s a day is 288 reads: the preview steps at the live interval and
// runs the evaluator's state machine, so it matches what the evaluator records over the same
// instants, throttle and mute included.
both_backends!(
    preview_at_the_live_interval_is_what_the_evaluator_records,
    |backend: Backend| async move {
        let s = TestServer::start_with(backend, |c| c.alert_interval_secs = 300).await;
        let admin = s.admin_token().await;
        let t0 = now_us();
        // A burst of 3 errors halfway between two instants `j` steps before now is read by
        // instant j alone (the server's now is a little after t0, far less than half a step).
        let burst_steps_ago = [130, 129, 100, 99, 98, 50];
        for j in burst_steps_ago {
            ingest_errors(&s, "pattern", 3, t0 - j * STEP - STEP / 2).await;
        }
        let mut rule = log_rule("pattern", 1);
        // Muted until between instants 128 and 127: the first episode (130, 129) is muted.
        rule["mute_until"] = json!(format_timestamp_us(t0 - 127 * STEP - STEP / 2));

        let (status, body) = s.call(Method::POST, PREVIEW, &admin, Some(&rule)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["evaluations"], 288, "{body}");
        assert_eq!(body["step_seconds"], 300);
        assert_eq!(body["interval_seconds"], 300);
        assert_eq!(body["approximate"], false);
        assert_eq!(body["note"], Value::Null);
        assert_eq!(body["pending_evaluations"], 1);
        assert_eq!(body["breaching"], 6);
        assert_eq!(body["no_data"], 0);
        let to = parse_timestamp_us(body["to"].as_str().expect("to")).expect("rfc 3339");
        let at = |j: i64| format_timestamp_us(to - j * STEP);
        assert_eq!(times(&body, "firings"), vec![at(130), at(100), at(50)]);
        // Episode 1: both triggers muted, resolved at 128 (a resolve nobody is told about).
        // Episode 2: sent at 100, throttled at 99 (5 min later), sent again at 98 (10 min:
        // the throttle is over), resolved at 97. Episode 3: sent, resolved.
        assert_eq!(counts(&body), (6, 3, 3, 2, 3), "{body}");
        assert_eq!(
            body["episodes"],
            json!([
                {"start": at(130), "end": at(128), "notified": false},
                {"start": at(100), "end": at(97), "notified": true},
                {"start": at(50), "end": at(49), "notified": true},
            ])
        );

        // Two breaching evaluations in a row: the muted episode fires at 129, the second
        // starts one step later and has one throttled trigger, the single burst never fires.
        let mut pending = rule.clone();
        pending["pending_evaluations"] = json!(2);
        let (status, body) = s.call(Method::POST, PREVIEW, &admin, Some(&pending)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pending_evaluations"], 2);
        let to2 = parse_timestamp_us(body["to"].as_str().expect("to")).expect("rfc 3339");
        let at2 = |j: i64| format_timestamp_us(to2 - j * STEP);
        assert_eq!(times(&body, "firings"), vec![at2(129), at2(99)]);
        assert_eq!(counts(&body), (3, 1, 2, 1, 2), "{body}");

        // The evaluator over the same instants records the same, entry by entry.
        let (status, created) = s
            .call(
                Method::POST,
                "/api/v1/monitoring/alerts",
                &admin,
                Some(&rule),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("id").to_owned();
        let ev = evaluator(&s, 300);
        for j in (20..=140).rev() {
            let report = ev.round(to - j * STEP).await.expect("round");
            assert_eq!(report.evaluated, 1, "{report:?}");
        }
        let (status, hist) = s
            .call(
                Method::GET,
                &format!("{HISTORY}?rule_id={id}&limit=100"),
                &admin,
                None,
            )
            .await;
        assert_eq!(status, 200, "{hist}");
        let mut entries: Vec<(String, String)> = hist["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                let when = parse_timestamp_us(e["triggered_at"].as_str().expect("time"))
                    .expect("rfc 3339");
                (
                    format_timestamp_us(when),
                    e["kind"].as_str().expect("kind").to_owned(),
                )
            })
            .collect();
        entries.reverse();
        let expected: Vec<(String, String)> = [
            (130, "suppressed"),
            (129, "suppressed"),
            (128, "resolved"),
            (100, "firing"),
            (99, "suppressed"),
            (98, "firing"),
            (97, "resolved"),
            (50, "firing"),
            (49, "resolved"),
        ]
        .into_iter()
        .map(|(j, kind)| (at(j), kind.to_owned()))
        .collect();
        assert_eq!(entries, expected);
        s.stop().await;
    }
);

// At the default 30 s interval a day is 2,880 evaluations: the preview reads every 5 minutes
// instead, scales the pending evaluations to keep their duration and says so. Nothing is
// stored, viewers may ask, and the rule is validated like on create.
both_backends!(
    preview_steps_coarser_than_a_short_interval_and_says_so,
    |backend: Backend| async move {
        let s = TestServer::start_with(backend, |c| c.alert_interval_secs = 0).await;
        let admin = s.admin_token().await;
        let viewer = s.viewer_token().await;
        let t0 = now_us();
        ingest_errors(&s, "preview", 4, t0 - 120 * MINUTE).await;
        ingest_errors(&s, "preview", 5, t0 - 600 * MINUTE).await;
        ingest_errors(&s, "preview", 1, t0 - 300 * MINUTE).await;
        let (status, body) = s
            .call(
                Method::POST,
                PREVIEW,
                &viewer,
                Some(&log_rule("preview", 1)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["evaluations"], 288, "one per 5 minutes over 24 h");
        assert_eq!(body["step_seconds"], 300);
        assert_eq!(body["interval_seconds"], 30);
        assert_eq!(body["approximate"], true);
        let note = body["note"].as_str().expect("a note");
        assert!(note.contains("every 300 s instead of every 30 s"), "{note}");
        assert_eq!(body["breaching"], 2, "{body}");
        let firings: Vec<i64> = times(&body, "firings")
            .iter()
            .map(|t| parse_timestamp_us(t).expect("rfc 3339"))
            .collect();
        assert_eq!(firings.len(), 2, "{body}");
        assert!(
            firings[0] >= t0 - 600 * MINUTE && firings[0] < t0 - 590 * MINUTE,
            "{body}"
        );
        assert!(
            firings[1] >= t0 - 120 * MINUTE && firings[1] < t0 - 110 * MINUTE,
            "{body}"
        );
        assert_eq!(counts(&body), (2, 2, 0, 0, 2), "{body}");

        // Ten 30 s evaluations are one 5-minute step: still fires on each burst.
        let (status, body) = s
            .call(
                Method::POST,
                PREVIEW,
                &admin,
                Some(&log_rule("preview", 10)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pending_evaluations"], 1);
        assert_eq!(body["firings"].as_array().map(Vec::len), Some(2), "{body}");
        // Twenty are two steps in a row: the bursts are hours apart, so never.
        let (status, body) = s
            .call(
                Method::POST,
                PREVIEW,
                &admin,
                Some(&log_rule("preview", 20)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pending_evaluations"], 2);
        assert_eq!(body["firings"].as_array().map(Vec::len), Some(0), "{body}");
        assert!(
            body["note"]
                .as_str()
                .is_some_and(|n| n.contains("scaled from 20 to 2")),
            "{body}"
        );

        // A one-hour window is read at most 48 times (two days of windows in all).
        let mut hour = log_rule("preview", 1);
        hour["window_minutes"] = json!(60);
        let (status, body) = s.call(Method::POST, PREVIEW, &admin, Some(&hour)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (&body["evaluations"], &body["step_seconds"]),
            (&json!(48), &json!(1800))
        );
        assert_eq!(body["firings"].as_array().map(Vec::len), Some(2), "{body}");

        let mut bad = log_rule("preview", 1);
        bad["condition"] = json!({"type": "message_regex", "pattern": "timeout (unclosed"});
        let (status, body) = s.call(Method::POST, PREVIEW, &admin, Some(&bad)).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["details"][0]["path"], "condition.pattern");

        let (_, rules) = s
            .call(Method::GET, "/api/v1/monitoring/alerts", &admin, None)
            .await;
        assert_eq!(rules["total"], 0, "a preview stores no rule");
        let (_, hist) = s.call(Method::GET, HISTORY, &admin, None).await;
        assert_eq!(hist["total"], 0, "nor any history");
        s.stop().await;
    }
);

/// Every page of a history query, following the cursor: (severity, entry id) newest first.
async fn all_pages(s: &TestServer, token: &str, query: &str) -> (Vec<(String, String)>, i64) {
    let (mut out, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut path = format!("{HISTORY}?{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = s.call(Method::GET, &path, token, None).await;
        assert_eq!(status, 200, "{page}");
        let total = page["total"].as_i64().expect("total");
        for e in page["items"].as_array().expect("items") {
            out.push((
                e["severity"].as_str().expect("severity").to_owned(),
                e["id"].as_str().expect("id").to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (out, total),
        }
    }
}

// The history filters by severity in the query, so every page holds only matching entries
// and the cursor walks all of them; an unknown severity is a 422 naming the parameter.
both_backends!(
    history_filters_by_severity_across_pages,
    |backend: Backend| async move {
        let s = TestServer::start_with(backend, |c| c.alert_interval_secs = 0).await;
        let admin = s.admin_token().await;
        for severity in ["info", "warning", "critical"] {
            let mut rule = log_rule("sev", 1);
            rule["name"] = json!(format!("{severity} rule"));
            rule["severity"] = json!(severity);
            rule["throttle_minutes"] = json!(0);
            let (status, body) = s
                .call(
                    Method::POST,
                    "/api/v1/monitoring/alerts",
                    &admin,
                    Some(&rule),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let t0 = now_us();
        ingest_errors(&s, "sev", 3, t0).await;
        let ev = evaluator(&s, 30);
        // Five rounds: each rule records five triggers, the three rules' entries of one round
        // at the same instant (the cursor's id breaks those ties).
        for round in 0..5 {
            ev.round(t0 + SECOND + round * 31 * SECOND)
                .await
                .expect("round");
        }

        let (all, total) = all_pages(&s, &admin, "limit=4").await;
        assert_eq!((all.len(), total), (15, 15));
        let (critical, total) = all_pages(&s, &admin, "severity=critical&limit=2").await;
        assert_eq!(total, 5);
        assert_eq!(
            critical.len(),
            5,
            "every matching entry, none lost between pages"
        );
        assert!(critical.iter().all(|(sev, _)| sev == "critical"));
        let (two, total) = all_pages(&s, &admin, "severity=warning,%20critical&limit=3").await;
        assert_eq!((two.len(), total), (10, 10));
        assert!(two.iter().all(|(sev, _)| sev != "info"));
        let mut ids: Vec<&String> = two.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 10, "no entry twice");
        // The filter keeps the newest-first order of the unfiltered history.
        let expected: Vec<(String, String)> = all
            .iter()
            .filter(|(sev, _)| sev != "info")
            .cloned()
            .collect();
        assert_eq!(two, expected);
        let (none, total) = all_pages(&s, &admin, "severity=info&kind=resolved").await;
        assert_eq!((none.len(), total), (0, 0));

        let (status, body) = s
            .call(
                Method::GET,
                &format!("{HISTORY}?severity=warning,urgent"),
                &admin,
                None,
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["path"], "severity");
        s.stop().await;
    }
);
