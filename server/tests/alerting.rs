//! Alerting end to end on both backends: rule CRUD through the API (validation by field path,
//! roles, secrets never read back nor audited), the real evaluator over real stores driving
//! pending → firing → throttled → resolved → muted with notifications delivered to a loopback
//! webhook receiver (signature verified) and SMTP server, a restart in the middle, the outbox
//! after a crash, two evaluators on one PostgreSQL database, the regression judged on receive
//! time, and seed property 6 (throttling) as a proptest.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::receivers::{Received, header, receiver, smtp_sink};
use common::{Backend, TestServer, check_property};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use tracewire_server::alerting::channels::{RetryPolicy, SmtpConfig, SmtpSecurity, WebhookSecret};
use tracewire_server::alerting::evaluator::Evaluator;
use tracewire_server::alerting::notify::Notifier;
use tracewire_server::alerting::state::{Reading, RuleState, RuleTiming};
use tracewire_server::clock::now_us;
use tracewire_server::config::ServeConfig;
use tracewire_server::store::{self, HistoryFilter, Store};
use tracewire_shared::validate::format_timestamp_us;
use uuid::Uuid;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MINUTE: i64 = 60_000_000;
const SECOND: i64 = 1_000_000;

/// A collector whose own evaluator is off, so each test drives rounds with its own clock.
async fn server(backend: Backend) -> TestServer {
    TestServer::start_with(backend, |c| c.alert_interval_secs = 0).await
}

fn notifier(smtp_port: Option<u16>) -> Notifier {
    let smtp = smtp_port.map(|port| SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: Some("alerts".into()),
        password: Some("s3cret".into()),
        from: "Tracewire <alerts@example.com>".into(),
    });
    let policy = RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    Notifier::new(smtp.as_ref(), policy, "https://logs.example".into()).expect("notifier")
}

fn evaluator(store: Arc<dyn Store>, smtp_port: Option<u16>) -> Evaluator {
    Evaluator::new(store, notifier(smtp_port), Duration::from_secs(30))
}

async fn api(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create_rule(s: &TestServer, token: &str, rule: Value) -> Value {
    let (status, body) = api(
        s,
        Method::POST,
        "/api/v1/monitoring/alerts",
        token,
        Some(rule),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
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

/// The rule's history, oldest first, as (kind, notification_sent).
async fn history(s: &TestServer, token: &str, rule: &str) -> Vec<(String, bool)> {
    let (status, body) = api(
        s,
        Method::GET,
        &format!("/api/v1/monitoring/alerts/history?rule_id={rule}&limit=1000"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut items: Vec<(String, bool)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().expect("kind").to_owned(),
                i["notification_sent"].as_bool().expect("sent"),
            )
        })
        .collect();
    items.reverse();
    items
}

/// The webhook bodies received for `rule`, each checked against its Standard Webhooks
/// signature.
async fn webhooks_for(received: &Received, rule: &str) -> Vec<Value> {
    let secret = WebhookSecret::parse(SECRET).expect("secret");
    let now = now_us() / SECOND;
    let requests = received.requests.lock().await;
    let mut out = Vec::new();
    for (headers, body) in requests.iter() {
        let value: Value = serde_json::from_slice(body).expect("json body");
        if value["rule"]["id"] != rule {
            continue;
        }
        let id = header(headers, "webhook-id");
        let ts: i64 = header(headers, "webhook-timestamp").parse().expect("ts");
        assert!(
            secret.verify(id, ts, body, header(headers, "webhook-signature"), now),
            "signature verifies"
        );
        assert_eq!(value["id"], id, "webhook-id is the message id");
        out.push(value);
    }
    out
}

/// The value of one series of the collector's `/metrics` (0 when absent). Counters are shared
/// by every collector of the test process, so callers compare before and after, at least.
async fn scrape(s: &TestServer, series: &str) -> f64 {
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn error_rule(name: &str, module: &str, hook: &str, email: bool) -> Value {
    let mut channels = vec![json!({"type": "webhook", "url": hook, "secret": SECRET})];
    if email {
        channels.push(json!({"type": "email", "to": ["ops@example.com"]}));
    }
    json!({"name": name, "severity": "critical",
           "condition": {"type": "log_count", "filters": {"min_level": "ERROR", "module": module}},
           "operator": "gte", "threshold": 3, "window_minutes": 5,
           "pending_evaluations": 2, "throttle_minutes": 10, "channels": channels})
}

both_backends!(
    crud_validates_by_path_checks_roles_and_never_shows_secrets,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let viewer = s.viewer_token().await;
        let alerts = "/api/v1/monitoring/alerts";

        let bad = json!({"name": "bad", "severity": "warning",
        "condition": {"type": "message_regex", "pattern": "timeout (unclosed"},
        "operator": "gte", "threshold": 0.5});
        let (status, body) = api(&s, Method::POST, alerts, &admin, Some(bad)).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        let paths: Vec<&str> = body["error"]["details"]
            .as_array()
            .expect("details")
            .iter()
            .filter_map(|d| d["path"].as_str())
            .collect();
        assert!(
            paths.contains(&"condition.pattern") && paths.contains(&"threshold"),
            "{paths:?}"
        );

        let slack_url = "https://hooks.slack.example/services/T0/B0/slack-token-123";
        let rule = json!({"name": "Checkout errors", "severity": "critical",
        "condition": {"type": "log_count", "filters": {"min_level": "ERROR"}},
        "operator": "gte", "threshold": 10, "channels": [
            {"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": SECRET},
            {"type": "slack", "url": slack_url},
            {"type": "email", "to": ["ops@example.com"]}]});
        let (status, _) = api(&s, Method::POST, alerts, &viewer, Some(rule.clone())).await;
        assert_eq!(status, 403, "viewers cannot create");
        let created = create_rule(&s, &admin, rule).await;
        let id = created["id"].as_str().expect("id").to_owned();
        let secret_body = SECRET.trim_start_matches("whsec_");
        for (status, body) in [
            api(&s, Method::GET, &format!("{alerts}/{id}"), &viewer, None).await,
            api(&s, Method::GET, alerts, &viewer, None).await,
        ] {
            assert_eq!(status, 200, "viewers read");
            let text = body.to_string();
            assert!(
                !text.contains(secret_body) && !text.contains("slack-token-123"),
                "{text}"
            );
        }
        assert_eq!(created["channels"][0]["secret_set"], true);
        assert_eq!(created["channels"][1]["url_set"], true);
        assert_eq!(created["pending_evaluations"], 1, "defaults apply");

        // A full replacement that names the channels by id keeps their secrets.
        let channels = created["channels"].as_array().expect("channels");
        let update = json!({"name": "Checkout errors (renamed)", "severity": "warning",
        "condition": {"type": "log_count", "filters": {"min_level": "ERROR"}},
        "operator": "gte", "threshold": 20, "channels": [
            {"type": "webhook", "id": channels[0]["id"], "url": "http://127.0.0.1:9/other"},
            {"type": "slack", "id": channels[1]["id"]}]});
        let (status, _) = api(
            &s,
            Method::PUT,
            &format!("{alerts}/{id}"),
            &viewer,
            Some(update.clone()),
        )
        .await;
        assert_eq!(status, 403, "viewers cannot update");
        let (status, updated) = api(
            &s,
            Method::PUT,
            &format!("{alerts}/{id}"),
            &admin,
            Some(update),
        )
        .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["channels"][0]["secret_set"], true);
        assert_eq!(updated["channels"].as_array().map(Vec::len), Some(2));
        let stored: Vec<(String,)> =
            s.db.rows("SELECT CAST(channels AS TEXT) FROM alert_configs")
                .await;
        assert!(
            stored[0].0.contains(secret_body) && stored[0].0.contains("slack-token-123"),
            "the secrets are kept in the database"
        );
        let unknown = json!({"name": "x", "severity": "info",
        "condition": {"type": "new_exception"}, "operator": "gte", "threshold": 1,
        "channels": [{"type": "slack", "id": Uuid::now_v7()}]});
        let (status, body) = api(
            &s,
            Method::PUT,
            &format!("{alerts}/{id}"),
            &admin,
            Some(unknown),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["details"][0]["path"], "channels[0].id");

        let (status, _) = api(&s, Method::DELETE, &format!("{alerts}/{id}"), &viewer, None).await;
        assert_eq!(status, 403, "viewers cannot delete");
        let (status, _) = api(&s, Method::DELETE, &format!("{alerts}/{id}"), &admin, None).await;
        assert_eq!(status, 204);
        let (status, body) = api(&s, Method::GET, &format!("{alerts}/{id}"), &admin, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found"))
        );

        let audit: Vec<(String, String)> = s.db.rows(
        "SELECT action, CAST(details AS TEXT) FROM audit_logs WHERE action LIKE 'alerts.%' ORDER BY timestamp").await;
        let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
        for expected in [
            "alerts.create",
            "alerts.update",
            "alerts.delete",
            "alerts.get",
            "alerts.list",
        ] {
            assert!(
                actions.contains(&expected),
                "{expected} audited: {actions:?}"
            );
        }
        for (action, details) in &audit {
            assert!(
                !details.contains(secret_body) && !details.contains("slack-token-123"),
                "{action} audit row leaks a secret: {details}"
            );
        }
        s.stop().await;
    }
);

both_backends!(
    pending_firing_throttle_resolve_and_mute_reach_real_receivers,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let (smtp_port, mails) = smtp_sink(0).await;
        let rule = create_rule(
            &s,
            &admin,
            error_rule("Checkout errors", "checkout", &hook_url, true),
        )
        .await;
        let id = rule["id"].as_str().expect("id").to_owned();
        let ev = evaluator(s.store.clone(), Some(smtp_port));
        let t0 = now_us();
        ingest_errors(&s, "checkout", 3, t0).await;
        ingest_errors(&s, "elsewhere", 5, t0).await;
        let delivered =
            r#"tracewire_alert_notifications_total{channel="webhook",outcome="delivered"}"#;
        let suppressed =
            r#"tracewire_alert_notifications_total{channel="all",outcome="suppressed"}"#;
        let breached = r#"tracewire_alert_evaluations_total{outcome="breached"}"#;
        let before = (
            scrape(&s, delivered).await,
            scrape(&s, suppressed).await,
            scrape(&s, breached).await,
        );

        let r = ev.round(t0 + SECOND).await.expect("round");
        assert!(r.ran && r.evaluated == 1 && r.recorded == 0, "{r:?}");
        assert!(
            history(&s, &admin, &id).await.is_empty(),
            "pending writes no history"
        );
        let (_, body) = api(
            &s,
            Method::GET,
            &format!("/api/v1/monitoring/alerts/{id}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(body["state"]["state"], "pending");
        assert_eq!(
            body["state"]["last_value"], 3.0,
            "only the rule's module counts"
        );

        let r = ev.round(t0 + 31 * SECOND).await.expect("round");
        assert_eq!((r.recorded, r.sent), (1, 1), "{r:?}");
        let hooks = webhooks_for(&hook, &id).await;
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0]["status"], "firing");
        assert_eq!(hooks[0]["value"], 3.0);
        assert!(
            hooks[0]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://logs.example/logs?"))
        );
        assert!(
            hooks[0]["samples"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        );
        {
            let mails = mails.lock().await;
            assert_eq!(mails.len(), 1, "the email channel got the firing");
            assert!(
                mails[0].data.contains("FIRING") && mails[0].to == ["<ops@example.com>"],
                "{:?}",
                mails[0]
            );
        }

        // Inside the throttle: recorded, not sent.
        ev.round(t0 + 61 * SECOND).await.expect("round");
        assert_eq!(
            history(&s, &admin, &id).await,
            vec![("firing".into(), true), ("suppressed".into(), false)]
        );
        assert_eq!(webhooks_for(&hook, &id).await.len(), 1);

        // The window moves past the errors: resolved, sent to the webhook only (email channels
        // send resolves only when asked).
        ev.round(t0 + 6 * MINUTE).await.expect("round");
        let hooks = webhooks_for(&hook, &id).await;
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[1]["status"], "resolved");
        assert_eq!(mails.lock().await.len(), 1);
        assert!(
            scrape(&s, delivered).await - before.0 >= 2.0,
            "deliveries counted in /metrics"
        );
        assert!(
            scrape(&s, suppressed).await - before.1 >= 1.0,
            "suppressions counted"
        );
        assert!(
            scrape(&s, breached).await - before.2 >= 3.0,
            "breaching evaluations counted"
        );

        // Muted: a new episode is recorded but not sent.
        let (_, current) = api(
            &s,
            Method::GET,
            &format!("/api/v1/monitoring/alerts/{id}"),
            &admin,
            None,
        )
        .await;
        let mut muted = error_rule("Checkout errors", "checkout", &hook_url, false);
        muted["mute_until"] = json!(format_timestamp_us(t0 + 60 * MINUTE));
        muted["channels"] =
            json!([{"type": "webhook", "id": current["channels"][0]["id"], "url": hook_url}]);
        let (status, body) = api(
            &s,
            Method::PUT,
            &format!("/api/v1/monitoring/alerts/{id}"),
            &admin,
            Some(muted),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        ingest_errors(&s, "checkout", 4, t0 + 7 * MINUTE).await;
        ev.round(t0 + 7 * MINUTE + 10 * SECOND)
            .await
            .expect("round");
        ev.round(t0 + 7 * MINUTE + 40 * SECOND)
            .await
            .expect("round");
        let kinds = history(&s, &admin, &id).await;
        assert_eq!(
            kinds.last(),
            Some(&("suppressed".to_owned(), false)),
            "{kinds:?}"
        );
        assert_eq!(
            webhooks_for(&hook, &id).await.len(),
            2,
            "muted: nothing sent"
        );

        // Acknowledge the firing entry.
        let (_, page) = api(
            &s,
            Method::GET,
            &format!("/api/v1/monitoring/alerts/history?rule_id={id}&kind=firing"),
            &admin,
            None,
        )
        .await;
        let entry = page["items"][0]["id"].as_str().expect("entry").to_owned();
        assert_eq!(
            page["items"][0]["notification_status"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let (status, acked) = api(
            &s,
            Method::POST,
            &format!("/api/v1/monitoring/alerts/history/{entry}/acknowledge"),
            &admin,
            Some(json!({"note": "looking"})),
        )
        .await;
        assert_eq!(status, 200, "{acked}");
        assert_eq!(acked["acknowledged_by"], "admin");
        let (_, page) = api(
            &s,
            Method::GET,
            "/api/v1/monitoring/alerts/history?acknowledged=true",
            &admin,
            None,
        )
        .await;
        assert_eq!(page["total"], 1);
        s.stop().await;
    }
);

both_backends!(
    test_notifications_report_each_channel,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let mut rule = error_rule("Test me", "checkout", &hook_url, true);
        rule["channels"]
            .as_array_mut()
            .expect("channels")
            .push(json!({"type": "webhook", "url": "http://127.0.0.1:9/closed"}));
        let rule = create_rule(&s, &admin, rule).await;
        let id = rule["id"].as_str().expect("id");
        let (status, body) = api(
            &s,
            Method::POST,
            &format!("/api/v1/monitoring/alerts/{id}/test"),
            &admin,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["delivered"], false, "one channel failed");
        let outcomes = body["outcomes"].as_array().expect("outcomes");
        assert_eq!(outcomes.len(), 3);
        assert_eq!(outcomes[0]["delivered"], true);
        // This collector has no --smtp-host.
        assert_eq!(outcomes[1]["delivered"], false);
        assert!(
            outcomes[1]["error"]
                .as_str()
                .is_some_and(|e| e.contains("--smtp-host"))
        );
        assert_eq!(outcomes[2]["delivered"], false);
        let hooks = webhooks_for(&hook, id).await;
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0]["status"], "test");
        assert_eq!(history(&s, &admin, id).await, vec![("test".into(), true)]);
        s.stop().await;
    }
);

both_backends!(
    a_restart_neither_resends_nor_forgets,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let rule = create_rule(
            &s,
            &admin,
            error_rule("Restart", "restart", &hook_url, false),
        )
        .await;
        let id = rule["id"].as_str().expect("id").to_owned();
        let t0 = now_us();
        ingest_errors(&s, "restart", 3, t0).await;
        let ev = evaluator(s.store.clone(), None);
        ev.round(t0 + SECOND).await.expect("round");
        ev.round(t0 + 31 * SECOND).await.expect("round");
        assert_eq!(
            webhooks_for(&hook, &id).await.len(),
            1,
            "fired before the restart"
        );

        let db = s.stop().await;
        let mut config = ServeConfig::for_database(&db.url);
        config.alert_interval_secs = 0;
        let s = TestServer::start_on(db, config).await;
        let admin = s.admin_token().await;
        let ev = evaluator(s.store.clone(), None);
        ev.round(t0 + 61 * SECOND).await.expect("round");
        assert_eq!(
            webhooks_for(&hook, &id).await.len(),
            1,
            "still firing and throttled: not re-sent"
        );
        ev.round(t0 + 6 * MINUTE).await.expect("round");
        let hooks = webhooks_for(&hook, &id).await;
        assert_eq!(
            hooks.len(),
            2,
            "the resolve after the restart is sent: the episode was remembered"
        );
        assert_eq!(hooks[1]["status"], "resolved");
        assert_eq!(
            history(&s, &admin, &id).await,
            vec![
                ("firing".into(), true),
                ("suppressed".into(), false),
                ("resolved".into(), true)
            ]
        );
        s.stop().await;
    }
);

both_backends!(
    the_outbox_sends_pending_entries_and_never_resends_interrupted_ones,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let rule = create_rule(&s, &admin, error_rule("Outbox", "outbox", &hook_url, false)).await;
        let id: Uuid = rule["id"].as_str().expect("id").parse().expect("uuid");
        let t0 = now_us();
        ingest_errors(&s, "outbox", 3, t0).await;
        let ev = evaluator(s.store.clone(), None);
        ev.round(t0 + SECOND).await.expect("round");
        ev.round(t0 + 31 * SECOND).await.expect("round");
        let filter = HistoryFilter {
            rule_id: Some(id),
            limit: 10,
            ..HistoryFilter::default()
        };
        let (rows, _) = s.store.list_history(&filter).await.expect("history");
        let sent = rows[0].clone();
        assert_eq!(sent.delivery, "done");

        // What a collector that stopped after committing (pending) or after claiming (sending)
        // leaves behind, written through the store as the evaluator writes it.
        let mut pending = sent.clone();
        pending.id = Uuid::now_v7();
        pending.delivery = "pending".into();
        pending.notification_sent = false;
        let mut sending = pending.clone();
        sending.id = Uuid::now_v7();
        sending.delivery = "sending".into();
        s.store.insert_history(&pending).await.expect("pending");
        s.store.insert_history(&sending).await.expect("sending");
        let r = ev.round(t0 + 45 * SECOND).await.expect("round");
        assert_eq!((r.interrupted, r.sent), (1, 1), "{r:?}");
        let hooks = webhooks_for(&hook, &id.to_string()).await;
        assert_eq!(
            hooks.len(),
            2,
            "the pending entry went out once, the interrupted one never"
        );
        assert_eq!(hooks[1]["id"], format!("msg_{}", pending.id.simple()));
        assert_eq!(
            s.store.get_history(sending.id).await.expect("row").delivery,
            "interrupted"
        );
        ev.round(t0 + 80 * SECOND).await.expect("round");
        assert_eq!(
            webhooks_for(&hook, &id.to_string()).await.len(),
            2,
            "nothing is sent twice"
        );
        s.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_evaluators_on_one_postgres_never_double_fire() {
    let s = server(Backend::Postgres).await;
    let admin = s.admin_token().await;
    let (hook_url, hook) = receiver(0).await;
    let rule = create_rule(&s, &admin, error_rule("Twice?", "twice", &hook_url, false)).await;
    let id = rule["id"].as_str().expect("id").to_owned();
    // A second collector's store: its own pool on the same database.
    let other = store::connect(&s.db.url, &store::StoreOptions::default())
        .await
        .expect("second store");
    let a = evaluator(s.store.clone(), None);
    let b = evaluator(other, None);
    let t0 = now_us();
    ingest_errors(&s, "twice", 3, t0).await;
    for step in 0..6 {
        let now = t0 + SECOND + step * 30 * SECOND;
        let (ra, rb) = tokio::join!(a.round(now), b.round(now));
        let (ra, rb) = (ra.expect("a"), rb.expect("b"));
        assert_eq!(
            ra.evaluated + rb.evaluated,
            1,
            "one evaluation per interval: {ra:?} {rb:?}"
        );
    }
    assert_eq!(webhooks_for(&hook, &id).await.len(), 1, "fired once");
    let kinds = history(&s, &admin, &id).await;
    assert_eq!(
        kinds.len(),
        5,
        "pending once, then firing and four throttled triggers: {kinds:?}"
    );
    assert_eq!(kinds[0], ("firing".into(), true));
    s.stop().await;
}

both_backends!(
    a_resolved_group_reopens_on_receive_time,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let exception = |at: i64| {
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend",
        "exceptions": [{"exception_type": "TypeError", "exception_message": "x is undefined",
                        "stack_trace": "at pay (app.js:10:5)", "timestamp": format_timestamp_us(at)}]})
        };
        let (status, body) = s.ingest(&exception(now_us())).await;
        assert_eq!(status, 200, "{body}");
        let (_, groups) = api(&s, Method::GET, "/api/v1/logging/exceptions", &admin, None).await;
        let group = groups["items"][0]["id"].as_str().expect("group").to_owned();
        let (status, _) = api(
            &s,
            Method::PUT,
            &format!("/api/v1/logging/exceptions/{group}/resolve"),
            &admin,
            Some(json!({"notes": "fixed"})),
        )
        .await;
        assert_eq!(status, 200);
        let rule = create_rule(
            &s,
            &admin,
            json!({"name": "Regressions", "severity": "warning",
        "condition": {"type": "regressed_exception"}, "operator": "gte", "threshold": 1,
        "channels": [{"type": "webhook", "url": hook_url, "secret": SECRET}]}),
        )
        .await;
        let id = rule["id"].as_str().expect("id").to_owned();

        // The browser's clock is an hour behind: the occurrence claims a time before the
        // resolution, yet it arrived after it.
        let (status, body) = s.ingest(&exception(now_us() - 60 * MINUTE)).await;
        assert_eq!(status, 200, "{body}");
        let (_, detail) = api(
            &s,
            Method::GET,
            &format!("/api/v1/logging/exceptions/{group}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(detail["is_resolved"], false, "{detail}");
        assert!(detail["regressed_at"].is_string(), "{detail}");

        let r = evaluator(s.store.clone(), None)
            .round(now_us())
            .await
            .expect("round");
        assert_eq!(r.sent, 1, "{r:?}");
        let hooks = webhooks_for(&hook, &id).await;
        assert_eq!(hooks[0]["value"], 1.0);
        assert!(
            hooks[0]["samples"][0]
                .as_str()
                .is_some_and(|s| s.starts_with("TypeError: x is undefined"))
        );
        s.stop().await;
    }
);

/// Seed property 6: through the real evaluator and store, every trigger while firing is in the
/// history; one inside `throttle_minutes` of the last sent notification is recorded with
/// `notification_sent = false` and reaches no receiver; sent ones are at least the throttle
/// apart; and the persisted state machine matches the pure one step for step.
fn throttling(backend: Backend) {
    let steps = prop::collection::vec((any::<bool>(), 2i64..20), 1..12);
    check_property(
        16,
        (1u32..4, 0u32..15, steps),
        async move {
            let s = server(backend).await;
            let admin = s.admin_token().await;
            let (hook_url, hook) = receiver(0).await;
            (s, admin, hook_url, hook)
        },
        |fixture, (pending, throttle, steps)| async move {
            let (s, admin, hook_url, hook) = &*fixture;
            let module = format!("m{}", Uuid::new_v4().simple());
            let base = now_us() - 24 * 60 * MINUTE;
            let mut times = Vec::new();
            let mut at = base;
            for (_, gap) in &steps {
                at += gap * MINUTE;
                times.push(at);
            }
            let logs: Vec<Value> = steps
                .iter()
                .zip(&times)
                .filter(|((breach, _), _)| *breach)
                .map(|(_, t)| {
                    json!({"level": "ERROR", "module": module, "message": format!("boom {t}"),
                    "timestamp": format_timestamp_us(t - 10 * SECOND)})
                })
                .collect();
            if !logs.is_empty() {
                let (status, body) = s
                    .ingest(&json!({"batch_id": Uuid::new_v4().to_string(),
                    "source": "backend", "logs": logs}))
                    .await;
                prop_assert_eq!(status, 200, "{}", body);
            }
            let rule = create_rule(
                s,
                admin,
                json!({"name": "p6", "severity": "info",
                "condition": {"type": "log_count", "filters": {"module": module}},
                "operator": "gte", "threshold": 1, "window_minutes": 1,
                "pending_evaluations": pending, "throttle_minutes": throttle,
                "channels": [{"type": "webhook", "url": hook_url, "secret": SECRET}]}),
            )
            .await;
            let id = rule["id"].as_str().expect("id").to_owned();
            let ev = evaluator(s.store.clone(), None);
            let timing = RuleTiming {
                pending_evaluations: pending,
                throttle_minutes: throttle,
                mute_until_us: None,
            };
            let mut model = RuleState::default();
            let mut expected = Vec::new();
            for ((breach, _), t) in steps.iter().zip(&times) {
                let step = model.evaluate(
                    &timing,
                    Reading::Value {
                        value: f64::from(u8::from(*breach)),
                        breaching: *breach,
                    },
                    *t,
                );
                if let Some(record) = step.record {
                    expected.push((
                        serde_json::to_value(record.kind)
                            .expect("kind")
                            .as_str()
                            .expect("str")
                            .to_owned(),
                        record.notify,
                    ));
                }
                ev.round(*t).await.expect("round");
            }
            let filter = HistoryFilter {
                rule_id: Some(id.parse().expect("uuid")),
                limit: 1000,
                ..HistoryFilter::default()
            };
            let (mut rows, _) = s.store.list_history(&filter).await.expect("history");
            rows.reverse();
            let actual: Vec<(String, bool)> = rows
                .iter()
                .map(|r| (r.kind.clone(), r.notification_sent))
                .collect();
            prop_assert_eq!(&actual, &expected, "history follows the state machine");
            let mut last_sent: Option<i64> = None;
            for r in rows.iter().filter(|r| r.kind == "firing") {
                if let Some(last) = last_sent {
                    prop_assert!(
                        r.triggered_at - last >= i64::from(throttle) * MINUTE,
                        "sent inside the throttle"
                    );
                }
                last_sent = Some(r.triggered_at);
            }
            for r in rows.iter().filter(|r| r.kind == "suppressed") {
                prop_assert!(!r.notification_sent && r.delivery == "none");
            }
            let sent = rows.iter().filter(|r| r.notification_sent).count();
            prop_assert_eq!(
                webhooks_for(hook, &id).await.len(),
                sent,
                "receiver got exactly the sent entries"
            );
            s.store
                .delete_rule(id.parse().expect("uuid"))
                .await
                .expect("delete");
            Ok(())
        },
        |(s, ..)| async move {
            s.stop().await;
        },
    );
}

property_on_both_backends!(property_6_alert_throttling, super::throttling);

/// Two whole collectors on one PostgreSQL database, each running its own evaluator every
/// second (the `serve` path): the rule fires once, every trigger after it is throttled, and no
/// receiver gets a notification twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_on_one_postgres_fire_once() {
    let s = server(Backend::Postgres).await;
    let admin = s.admin_token().await;
    let (hook_url, hook) = receiver(0).await;
    let mut rule = error_rule("Two collectors", "pair", &hook_url, false);
    rule["pending_evaluations"] = json!(1);
    let rule = create_rule(&s, &admin, rule).await;
    let id = rule["id"].as_str().expect("id").to_owned();
    ingest_errors(&s, "pair", 3, now_us()).await;
    let every_second = |db_url: &str| {
        let mut c = ServeConfig::for_database(db_url);
        c.alert_interval_secs = 1;
        c
    };
    let a = TestServer::start_on(s.db.alias(), every_second(&s.db.url)).await;
    let b = TestServer::start_on(s.db.alias(), every_second(&s.db.url)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let kinds = history(&s, &admin, &id).await;
        if kinds.len() >= 4 {
            assert_eq!(kinds[0], ("firing".into(), true), "{kinds:?}");
            assert!(
                kinds[1..]
                    .iter()
                    .all(|k| *k == ("suppressed".into(), false)),
                "{kinds:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "evaluators did not run: {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        webhooks_for(&hook, &id).await.len(),
        1,
        "one notification for two collectors"
    );
    a.stop().await;
    b.stop().await;
    s.stop().await;
}

/// A request log as the middleware sends it (route template in `extra_data.route`).
fn request_log(route: &str, status: i32, ms: f64, at: i64) -> Value {
    json!({"level": if status >= 500 { "ERROR" } else { "INFO" },
           "message": format!("GET {route} {status}"), "timestamp": format_timestamp_us(at),
           "trace_id": Uuid::new_v4().simple().to_string(), "request_method": "GET",
           "request_path": route.replace("{id}", "42"), "response_status": status,
           "duration_ms": ms, "function": route, "extra_data": {"route": route}})
}

both_backends!(
    metric_conditions_read_merged_aggregates,
    |backend: Backend| async move {
        let s = server(backend).await;
        let admin = s.admin_token().await;
        let (hook_url, hook) = receiver(0).await;
        let t0 = now_us();
        // /api/orders/{id}: 100 requests, 10 of them 5xx, durations 10..=1000 ms (p95 ≈ 950 ms,
        // 1 of them at least 1,000 ms); /api/cart: fast and healthy.
        let mut logs: Vec<Value> = (1..=100)
            .map(|i| {
                request_log(
                    "/api/orders/{id}",
                    if i % 10 == 0 { 503 } else { 200 },
                    f64::from(i) * 10.0,
                    t0 - i64::from(i) * SECOND,
                )
            })
            .collect();
        logs.extend((0..50).map(|i| request_log("/api/cart", 200, 5.0, t0 - i * SECOND)));
        let (status, body) = s
            .ingest(
                &json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let hook_channel = json!([{"type": "webhook", "url": hook_url, "secret": SECRET}]);
        let mut ids = Vec::new();
        for (name, condition, operator, threshold) in [
            (
                "orders errors",
                json!({"type": "error_rate", "endpoint": "/api/orders/{id}"}),
                "gt",
                0.05,
            ),
            ("all errors", json!({"type": "error_rate"}), "gt", 0.1),
            (
                "orders p95",
                json!({"type": "latency", "quantile": "p95", "endpoint": "/api/orders/{id}"}),
                "gt",
                900.0,
            ),
            (
                "cart p95",
                json!({"type": "latency", "quantile": "p95", "endpoint": "/api/cart"}),
                "gt",
                900.0,
            ),
            (
                "slow orders",
                json!({"type": "slow_request_count", "endpoint": "/api/orders/{id}"}),
                "gte",
                1.0,
            ),
            (
                "LCP",
                json!({"type": "web_vital", "metric": "LCP"}),
                "gt",
                2500.0,
            ),
        ] {
            let rule = create_rule(
                &s,
                &admin,
                json!({"name": name, "severity": "warning",
            "condition": condition, "operator": operator, "threshold": threshold,
            "window_minutes": 5, "pending_evaluations": 1, "channels": hook_channel}),
            )
            .await;
            ids.push(rule["id"].as_str().expect("id").to_owned());
        }
        evaluator(s.store.clone(), None)
            .round(t0 + SECOND)
            .await
            .expect("round");
        let mut states = Vec::new();
        for id in &ids {
            let (_, rule) = api(
                &s,
                Method::GET,
                &format!("/api/v1/monitoring/alerts/{id}"),
                &admin,
                None,
            )
            .await;
            states.push((
                rule["name"].as_str().map(str::to_owned),
                rule["state"]["state"].clone(),
                rule["state"]["last_value"].clone(),
            ));
        }
        let value = |i: usize| states[i].2.as_f64().unwrap_or(f64::NAN);
        assert_eq!(states[0].1, "firing", "{states:?}");
        assert!(
            (value(0) - 0.10).abs() < 1e-9,
            "orders error rate {states:?}"
        );
        assert_eq!(
            states[1].1, "ok",
            "10 of 150 requests is under 10 %: {states:?}"
        );
        assert!((value(1) - 10.0 / 150.0).abs() < 1e-9, "{states:?}");
        assert_eq!(states[2].1, "firing", "{states:?}");
        assert!(
            (value(2) - 950.0).abs() <= 950.0 * 0.02,
            "p95 within the sketch's error: {states:?}"
        );
        assert_eq!(states[3].1, "ok", "{states:?}");
        assert!(value(3) < 10.0, "{states:?}");
        assert_eq!(
            states[4].1, "firing",
            "one request of 1,000 ms (the default threshold): {states:?}"
        );
        assert_eq!(value(4), 1.0, "{states:?}");
        assert_eq!(
            states[5].1, "no_data",
            "no web vitals were sent: {states:?}"
        );
        let fired: Vec<String> = hook
            .requests
            .lock()
            .await
            .iter()
            .filter_map(|(_, b)| serde_json::from_slice::<Value>(b).ok())
            .filter_map(|v| v["rule"]["name"].as_str().map(str::to_owned))
            .collect();
        let mut fired_sorted = fired.clone();
        fired_sorted.sort();
        assert_eq!(
            fired_sorted,
            vec!["orders errors", "orders p95", "slow orders"]
        );
        s.stop().await;
    }
);
