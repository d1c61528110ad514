//! Every API body against a JSON fixture recorded from a running collector
//! (`server/tests/api_fixtures.rs`): deserialize, serialize back, compare as JSON values, so a
//! renamed, dropped or retyped field fails here before any client sees it. Request bodies
//! (`*_request.json`) are the ones the server's own integration tests send.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracewire_shared::api::{
    ErrorEnvelope, ExceptionDetail, ExceptionGroup, ExportRequest, Health, LogView, LoginRequest,
    LoginResponse, Me, Page, Patterns, Ready, ResolveRequest, Statistics, Trace, TraceItem,
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
