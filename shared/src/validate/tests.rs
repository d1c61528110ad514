//! Tests of batch validation: the contract example, every rejection path, defaults, and a
//! property that no input panics.

use super::*;
use crate::wire::{ExceptionEntry, LogEntry, MetricEntry};
use proptest::prelude::*;

const NOW: i64 = 1_795_600_800_000_000; // 2026-11-25T10:00:00Z
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn batch() -> IngestBatch {
    IngestBatch {
        batch_id: "0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10".into(),
        sdk: None,
        source: "frontend".into(),
        logs: vec![],
        exceptions: vec![],
        metrics: vec![],
    }
}

fn log(message: &str) -> LogEntry {
    LogEntry {
        level: "INFO".into(),
        message: message.into(),
        ..LogEntry::default()
    }
}

fn paths(result: Result<ValidBatch, Vec<FieldError>>) -> Vec<String> {
    result
        .expect_err("batch should be rejected")
        .into_iter()
        .map(|e| e.path)
        .collect()
}

#[test]
fn accepts_the_contract_example() {
    let body = r#"{
      "batch_id": "0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10",
      "sdk": { "name": "tracewire-logger", "version": "0.1.0" },
      "source": "Frontend",
      "logs": [
        { "level": "error", "message": "checkout failed", "timestamp": "2026-11-25T10:00:00.123Z",
          "module": "cart", "function": "submit", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
          "span_id": "00f067aa0ba902b7", "user_id": null,
          "request_method": "post", "request_path": "/api/orders", "request_data": {"items": 3},
          "response_status": 500, "duration_ms": 812, "extra_data": {"retry": true},
          "dedup_count": 4, "first_seen_at": "2026-11-25T09:59:58Z",
          "last_seen_at": "2026-11-25T12:00:00.123+02:00" }
      ],
      "exceptions": [
        { "exception_type": "TypeError", "exception_message": "x is undefined",
          "stack_trace": "at f (app.js:1:2)", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
          "request_path": "/cart", "exception_details": {}, "context_data": {} }
      ],
      "metrics": [
        { "metric_type": "web_vital", "metric_name": "LCP", "value": 1830, "unit": "ms",
          "timestamp": "2026-11-25T10:00:01Z", "endpoint": "/cart" }
      ]
    }"#;
    let wire: IngestBatch = serde_json::from_str(body).unwrap();
    let valid = validate_batch(wire, NOW, &Limits::default()).unwrap();
    assert_eq!(valid.source, Source::Frontend);
    assert_eq!(valid.sdk.as_ref().unwrap().name, "tracewire-logger");
    let log = &valid.logs[0];
    assert_eq!(log.level, Level::Error);
    assert_eq!(log.request_method.as_deref(), Some("POST"));
    assert_eq!(log.response_status, Some(500));
    assert_eq!(log.duration_ms, Some(812.0));
    assert_eq!(log.dedup_count, 4);
    assert_eq!(
        format_timestamp_us(log.timestamp_us),
        "2026-11-25T10:00:00.123Z"
    );
    assert_eq!(
        format_timestamp_us(log.first_seen_us),
        "2026-11-25T09:59:58.000Z"
    );
    assert_eq!(log.last_seen_us, log.timestamp_us);
    assert_eq!(valid.exceptions[0].timestamp_us, NOW);
    assert_eq!(valid.metrics[0].value, 1830.0);
}

#[test]
fn absent_times_default_to_now_and_each_other() {
    let mut b = batch();
    b.logs.push(log("plain"));
    b.logs.push(LogEntry {
        timestamp: Some("2026-01-01T00:00:10Z".into()),
        first_seen_at: Some("2026-01-01T00:00:20Z".into()),
        ..log("first seen after timestamp")
    });
    b.logs.push(LogEntry {
        timestamp: Some("2026-01-01T00:00:10Z".into()),
        last_seen_at: Some("2026-01-01T00:00:05Z".into()),
        ..log("only last seen, before timestamp")
    });
    let valid = validate_batch(b, NOW, &Limits::default()).unwrap();
    let [plain, after, before] = &valid.logs[..] else {
        panic!("three logs")
    };
    assert_eq!(
        (plain.timestamp_us, plain.first_seen_us, plain.last_seen_us),
        (NOW, NOW, NOW)
    );
    assert_eq!(plain.dedup_count, 1);
    let ten = parse_timestamp_us("2026-01-01T00:00:10Z").unwrap();
    assert_eq!(after.timestamp_us, ten);
    assert_eq!(after.first_seen_us, ten + 10_000_000);
    assert_eq!(after.last_seen_us, ten + 10_000_000);
    assert_eq!(before.first_seen_us, ten - 5_000_000);
    assert_eq!(before.last_seen_us, ten - 5_000_000);
}

#[test]
fn batch_fields_are_checked() {
    let mut b = batch();
    b.batch_id = "not-a-uuid".into();
    b.source = "mobile".into();
    b.sdk = Some(crate::wire::Sdk {
        name: "x".repeat(2000),
        version: "1".into(),
    });
    assert_eq!(
        paths(validate_batch(b, NOW, &Limits::default())),
        ["batch_id", "source", "sdk.name"]
    );
    // Any UUID version is an acceptable batch id.
    let mut b = batch();
    b.batch_id = "01936b2e-8f2a-7c3d-9e4f-5a6b7c8d9e0f".into();
    b.source = "BACKEND".into();
    assert_eq!(
        validate_batch(b, NOW, &Limits::default()).unwrap().source,
        Source::Backend
    );
}

#[test]
fn every_bad_log_field_is_reported_by_path_in_input_order() {
    let mut b = batch();
    b.logs = vec![
        log("fine"),
        log("fine"),
        log("fine"),
        LogEntry {
            level: "loud".into(),
            ..log("x")
        },
    ];
    b.logs.push(LogEntry {
        level: "warn".into(),
        message: "  ".into(),
        timestamp: Some("yesterday".into()),
        module: Some("m".repeat(1025)),
        function: Some("f".repeat(1025)),
        user_id: Some("u".repeat(1025)),
        request_path: Some("/".repeat(1025)),
        trace_id: Some(TRACE.to_uppercase()),
        span_id: Some("0000000000000000".into()),
        request_method: Some("GET /".into()),
        response_status: Some(600),
        duration_ms: Some(-1.0),
        dedup_count: Some(0),
        first_seen_at: Some("2026-01-01T00:00:00+01:00:00".into()),
        ..LogEntry::default()
    });
    b.logs.push(LogEntry {
        message: "x".repeat(64 * 1024 + 1),
        first_seen_at: Some("2026-01-01T00:00:02Z".into()),
        last_seen_at: Some("2026-01-01T00:00:01Z".into()),
        duration_ms: Some(f64::NAN),
        dedup_count: Some(1_000_000_001),
        request_method: Some("".into()),
        response_status: Some(99),
        ..log("")
    });
    let got = paths(validate_batch(b, NOW, &Limits::default()));
    let expected = [
        "logs[3].level",
        "logs[4].message",
        "logs[4].module",
        "logs[4].function",
        "logs[4].user_id",
        "logs[4].request_path",
        "logs[4].trace_id",
        "logs[4].span_id",
        "logs[4].request_method",
        "logs[4].response_status",
        "logs[4].duration_ms",
        "logs[4].dedup_count",
        "logs[4].timestamp",
        "logs[4].first_seen_at",
        "logs[5].message",
        "logs[5].request_method",
        "logs[5].response_status",
        "logs[5].duration_ms",
        "logs[5].dedup_count",
        "logs[5].last_seen_at",
    ];
    assert_eq!(got, expected);
}

#[test]
fn exception_and_metric_fields_are_checked() {
    let mut b = batch();
    b.exceptions.push(ExceptionEntry {
        exception_type: " ".into(),
        stack_trace: Some("s".repeat(64 * 1024 + 1)),
        timestamp: Some("2026-02-30T00:00:00Z".into()),
        trace_id: Some("00000000000000000000000000000000".into()),
        span_id: Some(TRACE.into()),
        ..ExceptionEntry::default()
    });
    b.exceptions.push(ExceptionEntry {
        exception_type: "Panic".into(),
        trace_id: Some(TRACE.into()),
        span_id: Some(SPAN.into()),
        ..ExceptionEntry::default()
    });
    b.metrics = vec![
        MetricEntry {
            metric_type: "web_vital".into(),
            metric_name: "LCP".into(),
            value: 1.0,
            ..MetricEntry::default()
        };
        2
    ];
    b.metrics.push(MetricEntry {
        metric_type: "".into(),
        metric_name: "n".repeat(1025),
        value: f64::INFINITY,
        trace_id: Some("abc".into()),
        timestamp: Some("2026-01-01".into()),
        ..MetricEntry::default()
    });
    let got = paths(validate_batch(b, NOW, &Limits::default()));
    let expected = [
        "exceptions[0].exception_type",
        "exceptions[0].stack_trace",
        "exceptions[0].trace_id",
        "exceptions[0].span_id",
        "exceptions[0].timestamp",
        "metrics[2].metric_type",
        "metrics[2].metric_name",
        "metrics[2].value",
        "metrics[2].trace_id",
        "metrics[2].timestamp",
    ];
    assert_eq!(got, expected);
}

#[test]
fn too_many_entries_names_the_list_that_overflows() {
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let mut b = batch();
    b.logs = vec![log("a"); 2];
    b.exceptions = vec![
        ExceptionEntry {
            exception_type: "E".into(),
            ..ExceptionEntry::default()
        };
        1
    ];
    assert!(validate_batch(b.clone(), NOW, &limits).is_ok());
    b.metrics = vec![MetricEntry {
        metric_type: "t".into(),
        metric_name: "n".into(),
        ..MetricEntry::default()
    }];
    let errors = validate_batch(b.clone(), NOW, &limits).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "metrics");
    assert!(
        errors[0].message.contains("4 entries"),
        "{}",
        errors[0].message
    );
    b.logs = vec![log(""); 4];
    assert_eq!(paths(validate_batch(b, NOW, &limits)), ["logs"]);
}

#[test]
fn error_messages_do_not_echo_huge_values() {
    let mut b = batch();
    b.logs.push(LogEntry {
        level: "é".repeat(10_000),
        ..log("x")
    });
    let errors = validate_batch(b, NOW, &Limits::default()).unwrap_err();
    assert!(errors[0].message.len() < 200, "{}", errors[0].message);
}

#[test]
fn source_parses_like_the_wire() {
    assert_eq!(" Backend ".parse::<Source>(), Ok(Source::Backend));
    assert_eq!("server".parse::<Source>(), Err(UnknownSource));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        Just(String::new()),
        Just("ERROR".to_owned()),
        Just(TRACE.to_owned()),
        Just(SPAN.to_owned()),
        Just("2026-11-25T10:00:00.123Z".to_owned()),
        Just("9999-12-31T23:59:59+00:00".to_owned()),
        Just("0000-01-01T00:00:00-23:59".to_owned()),
    ]
}

fn log_entry() -> impl Strategy<Value = LogEntry> {
    let strings = prop::collection::vec(prop::option::of(text()), 11);
    let numbers = (
        any::<Option<i64>>(),
        any::<Option<f64>>(),
        any::<Option<i64>>(),
    );
    (text(), text(), strings, numbers).prop_map(|(level, message, s, (status, duration, dedup))| {
        LogEntry {
            level,
            message,
            timestamp: s[0].clone(),
            module: s[1].clone(),
            function: s[2].clone(),
            trace_id: s[3].clone(),
            span_id: s[4].clone(),
            user_id: s[5].clone(),
            request_method: s[6].clone(),
            request_path: s[7].clone(),
            first_seen_at: s[8].clone(),
            last_seen_at: s[9].clone(),
            response_status: status,
            duration_ms: duration,
            dedup_count: dedup,
            request_data: s[10].clone().map(serde_json::Value::String),
            extra_data: None,
        }
    })
}

fn exception_entry() -> impl Strategy<Value = ExceptionEntry> {
    (
        text(),
        text(),
        prop::collection::vec(prop::option::of(text()), 6),
    )
        .prop_map(|(t, m, s)| ExceptionEntry {
            exception_type: t,
            exception_message: m,
            stack_trace: s[0].clone(),
            timestamp: s[1].clone(),
            trace_id: s[2].clone(),
            span_id: s[3].clone(),
            user_id: s[4].clone(),
            request_path: s[5].clone(),
            ..ExceptionEntry::default()
        })
}

fn metric_entry() -> impl Strategy<Value = MetricEntry> {
    (
        text(),
        text(),
        any::<f64>(),
        prop::collection::vec(prop::option::of(text()), 4),
    )
        .prop_map(|(t, n, v, s)| MetricEntry {
            metric_type: t,
            metric_name: n,
            value: v,
            unit: s[0].clone(),
            timestamp: s[1].clone(),
            endpoint: s[2].clone(),
            trace_id: s[3].clone(),
            tags: None,
        })
}

proptest! {
    #[test]
    fn validation_never_panics_and_reports_or_accepts_everything(
        batch_id in prop_oneof![text(), Just("0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10".to_owned())],
        source in prop_oneof![text(), Just("backend".to_owned())],
        logs in prop::collection::vec(log_entry(), 0..4),
        exceptions in prop::collection::vec(exception_entry(), 0..3),
        metrics in prop::collection::vec(metric_entry(), 0..3),
        now_us in any::<i64>(),
        max_entries in 0usize..8,
        max_bytes in 0usize..32,
    ) {
        let limits = Limits { max_entries, max_text_bytes: max_bytes, max_short_bytes: max_bytes, ..Limits::default() };
        let b = IngestBatch { batch_id, sdk: None, source, logs, exceptions, metrics };
        let counts = (b.logs.len(), b.exceptions.len(), b.metrics.len());
        match validate_batch(b, now_us, &limits) {
            Ok(valid) => {
                prop_assert_eq!((valid.logs.len(), valid.exceptions.len(), valid.metrics.len()), counts);
                for log in &valid.logs {
                    prop_assert!(log.first_seen_us <= log.last_seen_us);
                    prop_assert!(log.dedup_count >= 1);
                }
            }
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }
}

#[test]
fn times_far_in_the_future_become_the_receive_time() {
    let mut b = batch();
    let at = |ts: &str| LogEntry {
        timestamp: Some(ts.into()),
        ..log("m")
    };
    b.logs = vec![
        at("9999-12-31T23:59:59Z"),
        at("2026-11-26T09:00:00Z"), // 23 h ahead: a drifting clock, kept
        LogEntry {
            first_seen_at: Some("2026-11-25T09:00:00Z".into()),
            last_seen_at: Some("3000-01-01T00:00:00Z".into()),
            ..at("3000-01-01T00:00:00Z")
        },
    ];
    b.exceptions = vec![ExceptionEntry {
        exception_type: "E".into(),
        timestamp: Some("9999-01-01T00:00:00Z".into()),
        ..ExceptionEntry::default()
    }];
    b.metrics = vec![MetricEntry {
        metric_type: "t".into(),
        metric_name: "n".into(),
        timestamp: Some("9999-01-01T00:00:00Z".into()),
        ..MetricEntry::default()
    }];
    let valid = validate_batch(b, NOW, &Limits::default()).expect("valid");
    assert_eq!(valid.logs[0].timestamp_us, NOW);
    assert_eq!(
        valid.logs[1].timestamp_us,
        parse_timestamp_us("2026-11-26T09:00:00Z").unwrap()
    );
    let span = &valid.logs[2];
    assert_eq!((span.timestamp_us, span.last_seen_us), (NOW, NOW));
    assert_eq!(
        span.first_seen_us,
        parse_timestamp_us("2026-11-25T09:00:00Z").unwrap()
    );
    assert_eq!(valid.exceptions[0].timestamp_us, NOW);
    assert_eq!(valid.metrics[0].timestamp_us, NOW);
}

#[test]
fn oversized_structured_fields_are_truncated_not_refused() {
    let limits = Limits {
        max_structured_bytes: 256,
        ..Limits::default()
    };
    let mut b = batch();
    let huge = serde_json::json!({"rows": vec![1; 10_000]});
    b.logs = vec![
        LogEntry {
            request_data: Some(huge.clone()),
            extra_data: Some(serde_json::json!({"small": true})),
            ..log("a")
        },
        log("b"),
    ];
    b.exceptions = vec![ExceptionEntry {
        exception_type: "E".into(),
        exception_details: Some(huge.clone()),
        context_data: Some(huge.clone()),
        ..ExceptionEntry::default()
    }];
    b.metrics = vec![MetricEntry {
        metric_type: "t".into(),
        metric_name: "n".into(),
        tags: Some(huge),
        ..MetricEntry::default()
    }];
    let valid = validate_batch(b, NOW, &limits).expect("valid: truncated, not refused");
    assert_eq!(valid.logs.len(), 2);
    let cut = |v: &Option<serde_json::Value>| {
        let s = v.as_ref().and_then(|v| v.as_str()).expect("a string");
        assert!(s.starts_with(r#"{"rows":[1,1"#) && s.ends_with(TRUNCATED_MARKER));
        assert!(s.len() <= 256);
    };
    cut(&valid.logs[0].request_data);
    assert_eq!(
        valid.logs[0].extra_data,
        Some(serde_json::json!({"small": true}))
    );
    cut(&valid.exceptions[0].exception_details);
    cut(&valid.exceptions[0].context_data);
    cut(&valid.metrics[0].tags);
}

/// A missing required field is one more problem in the list, not the end of the list.
#[test]
fn missing_required_fields_do_not_hide_other_problems() {
    let body = r#"{"source":"backend","logs":[
        {"level":"INFO","message":"fine"},
        {"level":"LOUD","message":"bad level"},
        {"level":"INFO"},
        {"message":"no level"}],
      "exceptions":[{"exception_message":"no type"}],
      "metrics":[{"metric_type":"t","metric_name":"n"}]}"#;
    let batch: IngestBatch = serde_json::from_str(body).expect("loose wire types");
    let mut got = paths(validate_batch(batch, NOW, &Limits::default()));
    got.sort();
    assert_eq!(
        got,
        [
            "batch_id",
            "exceptions[0].exception_type",
            "logs[1].level",
            "logs[2].message",
            "logs[3].level",
            "metrics[0].value",
        ]
    );
}
