//! Envelope conversion, keys and answers of the Sentry protocol.

use super::*;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn envelope(items: &[(&str, Value)]) -> Vec<u8> {
    let mut body = serde_json::to_vec(&json!({
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
        "dsn": "https://publickey@tracewire.example/1",
        "sdk": {"name": "sentry.javascript.browser", "version": "9.1.0"},
    }))
    .expect("json");
    for (kind, payload) in items {
        let payload = serde_json::to_vec(payload).expect("json");
        body.push(b'\n');
        body.extend(
            serde_json::to_vec(&json!({"type": kind, "length": payload.len()})).expect("json"),
        );
        body.push(b'\n');
        body.extend(payload);
    }
    body
}

#[test]
fn an_error_event_becomes_an_exception_in_its_trace() {
    let event = json!({
        "exception": {"values": [{"type": "TypeError", "value": "x is undefined",
            "stacktrace": {"frames": [
                {"function": "outer", "filename": "app.js", "lineno": 1, "colno": 2},
                {"function": "inner", "filename": "app.js", "lineno": 7, "colno": 9}]}}]},
        "level": "error", "platform": "javascript", "timestamp": 1_700_000_000.25,
        "request": {"url": "https://shop.example/cart?id=3"},
        "contexts": {"trace": {"trace_id": TRACE, "span_id": "00f067aa0ba902b7"}},
        "user": {"id": "u-7"}, "tags": {"release": "1.2"},
        "breadcrumbs": [{"message": "clicked"}],
    });
    let c = convert_envelope(&envelope(&[("event", event)])).expect("valid");
    assert_eq!(
        c.event_id.as_deref(),
        Some("9ec79c33ec9942ab8353589fcb2e04dc")
    );
    assert_eq!(c.dsn_key.as_deref(), Some("publickey"));
    assert_eq!(c.batch.batch_id, "9ec79c33-ec99-42ab-8353-589fcb2e04dc");
    assert_eq!(c.batch.source, "frontend");
    let x = &c.batch.exceptions[0];
    assert_eq!(x.exception_type, "TypeError");
    assert_eq!(x.exception_message, "x is undefined");
    assert_eq!(x.trace_id.as_deref(), Some(TRACE));
    assert_eq!(x.span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(x.user_id.as_deref(), Some("u-7"));
    assert_eq!(x.request_path.as_deref(), Some("/cart?id=3"));
    assert_eq!(x.timestamp.as_deref(), Some("2023-11-14T22:13:20.250Z"));
    assert_eq!(
        x.stack_trace.as_deref(),
        Some("    at inner (app.js:7:9)\n    at outer (app.js:1:2)")
    );
    let context = x.context_data.as_ref().expect("context");
    assert_eq!(context["breadcrumbs"][0]["message"], "clicked");
    assert_eq!(context["tags"]["release"], "1.2");
}

#[test]
fn a_message_event_is_a_log_and_structured_logs_keep_their_attributes() {
    let message = json!({"message": "cache miss", "level": "warning",
                         "contexts": {"trace": {"trace_id": TRACE}}});
    let logs = json!({"items": [
        {"timestamp": 1_700_000_001.0, "level": "fatal", "body": "disk full",
         "trace_id": TRACE,
         "attributes": {"order": {"value": 12, "type": "integer"},
                        "user.id": {"value": "u-9", "type": "string"}}}]});
    let c = convert_envelope(&envelope(&[("event", message), ("log", logs)])).expect("valid");
    assert_eq!(c.batch.logs.len(), 2);
    assert_eq!(c.batch.logs[0].level, "WARNING");
    assert_eq!(c.batch.logs[0].message, "cache miss");
    assert_eq!(c.batch.logs[0].trace_id.as_deref(), Some(TRACE));
    let l = &c.batch.logs[1];
    assert_eq!(
        (l.level.as_str(), l.message.as_str()),
        ("CRITICAL", "disk full")
    );
    assert_eq!(l.user_id.as_deref(), Some("u-9"));
    assert_eq!(l.extra_data.as_ref().expect("extra")["order"], 12);
}

#[test]
fn transactions_are_metrics_and_other_items_are_counted() {
    let transaction = json!({"transaction": "GET /api/orders", "start_timestamp": 10.0,
        "timestamp": 10.25, "contexts": {"trace": {"trace_id": TRACE, "op": "http.server"}}});
    let c = convert_envelope(&envelope(&[
        ("transaction", transaction),
        ("session", json!({"status": "ok"})),
        ("client_report", json!({})),
    ]))
    .expect("valid");
    let m = &c.batch.metrics[0];
    assert_eq!(
        (m.metric_type.as_str(), m.metric_name.as_str()),
        ("transaction", "http.server")
    );
    assert_eq!(m.value, 250.0);
    assert_eq!(m.endpoint.as_deref(), Some("GET /api/orders"));
    assert_eq!(m.trace_id.as_deref(), Some(TRACE));
    assert_eq!(c.ignored, 2);
}

#[test]
fn items_without_length_end_at_the_newline_and_bad_envelopes_say_where() {
    let body = b"{}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n";
    let c = convert_envelope(body).expect("valid");
    assert_eq!(c.batch.logs[0].message, "hi");
    assert_eq!(c.batch.source, "backend");
    // Same bytes, same batch id: a retry is stored once.
    assert_eq!(
        convert_envelope(body).expect("valid").batch.batch_id,
        c.batch.batch_id
    );
    assert_eq!(convert_envelope(b"nope"), Err(EnvelopeError::Header));
    assert_eq!(
        convert_envelope(b"{}\n{\"type\":\"event\",\"length\":99}\n{}"),
        Err(EnvelopeError::Length(1))
    );
    assert_eq!(
        convert_envelope(b"{}\n[1]\n"),
        Err(EnvelopeError::ItemHeader(1))
    );
    assert_eq!(
        convert_envelope(b"{}\n{\"type\":\"event\"}\n[]\n"),
        Err(EnvelopeError::Payload(1))
    );
}

#[test]
fn keys_come_from_the_auth_header_and_the_dsn() {
    assert_eq!(
        auth_header_key("Sentry sentry_version=7, sentry_key=abc123, sentry_client=x/1"),
        Some("abc123")
    );
    assert_eq!(auth_header_key("Sentry sentry_version=7"), None);
    assert_eq!(dsn_key("https://abc@host:9000/1"), Some("abc"));
    assert_eq!(dsn_key("https://abc:secret@host/1"), Some("abc"));
    assert_eq!(dsn_key("https://host/1"), None);
    assert_eq!(rate_limits_header(30), "30::organization");
    let at = |s: &str| s.parse().expect("address");
    assert_eq!(dsn("k1", at("0.0.0.0:8000")), "http://k1@localhost:8000/1");
    assert_eq!(dsn("k1", at("127.0.0.1:9")), "http://k1@127.0.0.1:9/1");
    assert_eq!(dsn("k1", at("[::1]:9")), "http://k1@[::1]:9/1");
    assert_eq!(dsn_key(&dsn("k1", at("[::1]:9"))), Some("k1"));
}
