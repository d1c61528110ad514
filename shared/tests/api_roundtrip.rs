//! Every API body against a JSON fixture recorded from a running collector
//! (`server/tests/api_fixtures.rs`): deserialize, serialize back, compare as JSON values, so a
//! renamed, dropped or retyped field fails here before any client sees it. Request bodies
//! (`*_request.json`) are the ones the server's own integration tests send.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracewire_shared::api::{
    ErrorEnvelope, ExceptionDetail, ExceptionGroup, ExceptionHistogram, ExportRequest, Health,
    LogView, LoginRequest, LoginResponse, Me, Page, Patterns, Ready, ResolveRequest, Statistics,
    Trace, TraceItem,
};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads fixture `name` as `T` and checks that writing it back gives the same JSON.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let recorded = fixture(name);
    let typed: T = serde_json::from_value(recorded.clone())
        .unwrap_or_else(|e| panic!("{name} does not read as the API type: {e}"));
    let written = serde_json::to_value(&typed).expect("serialize");
    assert_eq!(written, recorded, "{name} changed shape in a round trip");
    typed
}

#[test]
fn log_views() {
    let log: LogView = round_trip("log_view");
    assert_eq!(log.duration_ms, Some(18.5));
    let sparse: LogView = round_trip("log_view_sparse");
    assert_eq!((sparse.module, sparse.request_data), (None, None));
    let page: Page<LogView> = round_trip("page_log_view");
    assert!(
        page.next_cursor.is_some(),
        "a page with more rows has a cursor"
    );
}

#[test]
fn exception_groups() {
    let page: Page<ExceptionGroup> = round_trip("page_exception_group");
    assert!(page.next_cursor.is_none(), "the last page has no cursor");
    let resolved: ExceptionGroup = round_trip("exception_group_resolved");
    assert!(resolved.is_resolved);
    let detail: ExceptionDetail = round_trip("exception_detail");
    assert_eq!(detail.recent_occurrences.len(), 1);
}

#[test]
fn traces_are_tagged_by_kind() {
    let trace: Trace = round_trip("trace");
    assert!(matches!(trace.items[0], TraceItem::Log { .. }));
    assert!(matches!(trace.items[1], TraceItem::Exception { .. }));
}

#[test]
fn statistics_and_patterns() {
    let stats: Statistics = round_trip("statistics");
    assert_eq!(stats.buckets.len(), 2);
    let _: Patterns = round_trip("patterns");
    let hist: ExceptionHistogram = round_trip("exception_histogram");
    assert_eq!(hist.bucket_ms, 15 * 60_000);
    assert_eq!(hist.items[0].counts.iter().sum::<i64>(), 1);
    assert_eq!(hist.items[0].counts.len(), 4);
}

#[test]
fn auth_bodies() {
    let _: LoginRequest = round_trip("login_request");
    let _: LoginResponse = round_trip("login_response");
    let _: Me = round_trip("me");
}

#[test]
fn write_requests() {
    let _: ResolveRequest = round_trip("resolve_request");
    let _: ExportRequest = round_trip("export_request");
}

#[test]
fn errors_and_probes() {
    let _: ErrorEnvelope = round_trip("error_validation");
    let _: ErrorEnvelope = round_trip("error_not_found");
    assert_eq!(round_trip::<Health>("health"), Health::ok());
    assert_eq!(round_trip::<Ready>("ready"), Ready::ok());
}

/// The monitoring bodies (`/api/v1/monitoring/*`). Their fixtures are written by hand from the
/// API types until the endpoints record them; the checks below pin the decisions a client
/// relies on (tags, write-only secrets, defaults) rather than the sample values.
mod monitoring {
    use super::round_trip;
    use tracewire_shared::api::Page;
    use tracewire_shared::api::monitoring::{
        AcknowledgeRequest, AlertHistoryEntry, AlertRule, AlertRuleRequest, AlertState,
        ChannelView, Condition, ErrorRates, HistoryKind, MetricsResponse, Period, SlowRequest,
        SlowStatement, TestNotificationResponse, WebVitals,
    };

    #[test]
    fn rule_requests_carry_secrets_and_validate() {
        let rule: AlertRuleRequest = round_trip("alert_rule_request");
        assert_eq!(rule.validate(), Ok(()));
        assert!(matches!(rule.condition, Condition::Latency { .. }));
        assert!(rule.channels[0].sends_resolved(), "webhook default");
        let regex: AlertRuleRequest = round_trip("alert_rule_regex_request");
        assert_eq!(regex.validate(), Ok(()));
    }

    #[test]
    fn rules_as_read_have_no_secret_fields() {
        let rule: AlertRule = round_trip("alert_rule");
        let text = serde_json::to_string(&rule).expect("serialize");
        assert!(!text.contains("whsec_") && !text.contains("\"secret\""));
        assert!(matches!(
            rule.channels[0],
            ChannelView::Webhook {
                secret_set: true,
                ..
            }
        ));
        assert_eq!(rule.state.map(|s| s.state), Some(AlertState::Firing));
    }

    #[test]
    fn metric_bodies() {
        let metrics: MetricsResponse = round_trip("metrics");
        assert_eq!(metrics.period, Period::FiveMinutes);
        let page: Page<SlowRequest> = round_trip("page_slow_request");
        assert!(page.items[0].trace_id.is_some());
        let _: Page<SlowStatement> = round_trip("page_slow_statement");
        let rates: ErrorRates = round_trip("error_rates");
        assert!(rates.items[0].error_rate >= rates.items[1].error_rate);
        let _: WebVitals = round_trip("web_vitals");
    }

    #[test]
    fn history_and_tests() {
        let page: Page<AlertHistoryEntry> = round_trip("page_alert_history");
        assert_eq!(page.items[0].kind, HistoryKind::Suppressed);
        assert!(!page.items[0].notification_sent);
        let test: TestNotificationResponse = round_trip("test_notification");
        assert_eq!(
            test.delivered,
            test.outcomes.iter().all(|o| o.delivered),
            "delivered means every channel delivered"
        );
        let _: AcknowledgeRequest = round_trip("acknowledge_request");
    }
}
