//! OTLP/HTTP logs (`POST /v1/logs`), turned into an [`IngestBatch`], so an app whose logs go
//! through an OpenTelemetry SDK's OTLP exporter sends them to Tracewire by changing the
//! exporter's endpoint. The message types are the maintained `opentelemetry-proto` ones, in
//! protobuf (`application/x-protobuf`) or their JSON encoding (`application/json`).
//!
//! One log record becomes one log: the severity number (or text) becomes the level, the body
//! the message, `trace_id`/`span_id` the trace fields, the scope name the module; the record's
//! and its resource's attributes go into `extra_data` (`attributes`, `resource`), and the
//! semantic-convention attributes Tracewire has columns for fill them (`user.id`,
//! `http.request.method`, `url.path`, `http.response.status_code`, `code.function.name`).

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::{Map, Value};
use tracewire_shared::validate::format_timestamp_us;
use tracewire_shared::wire::{IngestBatch, LogEntry};

/// What an export did beyond storing: the records left out, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Records that failed validation and were not stored.
    pub rejected: usize,
    /// What was wrong with them (field path and message, `; `-separated).
    pub message: String,
}

impl Outcome {
    /// The export answer: empty on full success, else the partial success.
    pub fn response(&self) -> ExportLogsServiceResponse {
        ExportLogsServiceResponse {
            partial_success: (self.rejected > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: i64::try_from(self.rejected).unwrap_or(i64::MAX),
                error_message: self.message.clone(),
            }),
        }
    }
}

/// The record a validation path (`logs[3].trace_id`) names.
pub fn record_index(path: &str) -> Option<usize> {
    path.strip_prefix("logs[")?.split(']').next()?.parse().ok()
}

/// The answer in the request's encoding.
pub fn encode_response(response: &ExportLogsServiceResponse, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => prost::Message::encode_to_vec(response),
        Encoding::Json => serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// How the request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP's JSON mapping: ids in hex, 64-bit integers as strings).
    Json,
}

impl Encoding {
    /// From the `Content-Type` header; `None` for anything OTLP/HTTP does not define.
    pub fn from_content_type(content_type: Option<&str>) -> Option<Self> {
        let essence = content_type?.split(';').next()?.trim();
        match essence {
            "application/x-protobuf" => Some(Self::Protobuf),
            "application/json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The `Content-Type` of the answer, which uses the request's encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }
}

/// Decodes an export request.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<ExportLogsServiceRequest, String> {
    match encoding {
        Encoding::Protobuf => {
            <ExportLogsServiceRequest as prost::Message>::decode(body).map_err(|e| e.to_string())
        }
        Encoding::Json => serde_json::from_slice(body).map_err(|e| e.to_string()),
    }
}

/// The request's records as one batch (source `backend` unless the resource says the SDK runs
/// in a browser), with a batch id from the body's bytes, so an exporter's retry of the same
/// body is stored once.
pub fn to_batch(request: &ExportLogsServiceRequest, body: &[u8]) -> IngestBatch {
    let mut logs = Vec::new();
    let mut browser = false;
    for resource_logs in &request.resource_logs {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        browser |= resource.get("telemetry.sdk.language") == Some(&Value::from("webjs"));
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .filter(|n| !n.is_empty());
            for record in &scope_logs.log_records {
                logs.push(log_entry(record, scope.as_deref(), &resource));
            }
        }
    }
    IngestBatch {
        batch_id: super::body_uuid(body).to_string(),
        sdk: None,
        source: if browser { "frontend" } else { "backend" }.into(),
        logs,
        exceptions: Vec::new(),
        metrics: Vec::new(),
    }
}

fn log_entry(r: &LogRecord, scope: Option<&str>, resource: &Map<String, Value>) -> LogEntry {
    let attrs = attributes(&r.attributes);
    let text = |name: &str| attrs.get(name).and_then(Value::as_str).map(str::to_owned);
    let nanos = if r.time_unix_nano > 0 {
        r.time_unix_nano
    } else {
        r.observed_time_unix_nano
    };
    let mut extra = Map::new();
    if !attrs.is_empty() {
        extra.insert("attributes".into(), Value::Object(attrs.clone()));
    }
    if !resource.is_empty() {
        extra.insert("resource".into(), Value::Object(resource.clone()));
    }
    if !r.event_name.is_empty() {
        extra.insert("event_name".into(), Value::from(r.event_name.clone()));
    }
    LogEntry {
        level: level(r.severity_number, &r.severity_text).into(),
        message: r.body.as_ref().map(message).unwrap_or_default(),
        timestamp: (nanos > 0)
            .then(|| format_timestamp_us(i64::try_from(nanos / 1000).unwrap_or(i64::MAX))),
        module: scope.map(str::to_owned),
        function: text("code.function.name").or_else(|| text("code.function")),
        trace_id: hex(&r.trace_id),
        span_id: hex(&r.span_id),
        user_id: text("user.id").or_else(|| text("enduser.id")),
        request_method: text("http.request.method"),
        request_path: text("url.path"),
        response_status: attrs
            .get("http.response.status_code")
            .and_then(Value::as_i64),
        extra_data: (!extra.is_empty()).then_some(Value::Object(extra)),
        ..LogEntry::default()
    }
}

/// OTLP severity numbers (1–4 TRACE … 21–24 FATAL) onto our levels; the text when unset.
fn level(number: i32, text: &str) -> &'static str {
    match number {
        1..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARNING",
        17..=20 => "ERROR",
        21..=24 => "CRITICAL",
        _ => match text.to_ascii_uppercase().as_str() {
            "TRACE" | "DEBUG" => "DEBUG",
            "WARN" | "WARNING" => "WARNING",
            "ERROR" => "ERROR",
            "FATAL" | "CRITICAL" => "CRITICAL",
            _ => "INFO",
        },
    }
}

/// Lower-case hex, or `None` for an absent (empty or all-zero) id.
fn hex(id: &[u8]) -> Option<String> {
    if id.iter().all(|&b| b == 0) {
        return None;
    }
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// A body as the log's message: a string as it is, anything else as JSON text.
fn message(body: &AnyValue) -> String {
    match json(body) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn attributes(list: &[KeyValue]) -> Map<String, Value> {
    list.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(json).unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn json(v: &AnyValue) -> Value {
    use any_value::Value as V;
    match &v.value {
        Some(V::StringValue(s)) => Value::from(s.clone()),
        Some(V::BoolValue(b)) => Value::from(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        Some(V::DoubleValue(d)) => {
            serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        Some(V::ArrayValue(a)) => Value::Array(a.values.iter().map(json).collect()),
        Some(V::KvlistValue(kv)) => Value::Object(attributes(&kv.values)),
        Some(V::BytesValue(b)) => Value::from(hex(b).unwrap_or_default()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    fn request() -> ExportLogsServiceRequest {
        use any_value::Value as V;
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", V::StringValue("shop".into()))],
                    ..Resource::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(
                        opentelemetry_proto::tonic::common::v1::InstrumentationScope {
                            name: "shop::checkout".into(),
                            ..Default::default()
                        },
                    ),
                    log_records: vec![LogRecord {
                        time_unix_nano: 1_700_000_000_250_000_000,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: Some(AnyValue {
                            value: Some(V::StringValue("payment declined".into())),
                        }),
                        attributes: vec![
                            kv("user.id", V::StringValue("u-3".into())),
                            kv("http.response.status_code", V::IntValue(402)),
                            kv("retries", V::IntValue(2)),
                        ],
                        trace_id: vec![0x4b; 16],
                        span_id: vec![0x0a; 8],
                        ..LogRecord::default()
                    }],
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        }
    }

    #[test]
    fn a_record_becomes_a_log_with_its_trace_and_attributes() {
        let batch = to_batch(&request(), b"body");
        assert_eq!(batch.source, "backend");
        let l = &batch.logs[0];
        assert_eq!(
            (l.level.as_str(), l.message.as_str()),
            ("ERROR", "payment declined")
        );
        assert_eq!(l.timestamp.as_deref(), Some("2023-11-14T22:13:20.250Z"));
        assert_eq!(
            l.trace_id.as_deref(),
            Some("4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b")
        );
        assert_eq!(l.span_id.as_deref(), Some("0a0a0a0a0a0a0a0a"));
        assert_eq!(l.module.as_deref(), Some("shop::checkout"));
        assert_eq!(l.user_id.as_deref(), Some("u-3"));
        assert_eq!(l.response_status, Some(402));
        let extra = l.extra_data.as_ref().expect("extra");
        assert_eq!(extra["attributes"]["retries"], 2);
        assert_eq!(extra["resource"]["service.name"], "shop");
        // The same bytes give the same batch id (an exporter's retry), others another.
        assert_eq!(to_batch(&request(), b"body").batch_id, batch.batch_id);
        assert_ne!(to_batch(&request(), b"other").batch_id, batch.batch_id);
    }

    #[test]
    fn protobuf_and_json_decode_to_the_same_request() {
        let proto = prost::Message::encode_to_vec(&request());
        let from_proto = decode(&proto, Encoding::Protobuf).expect("protobuf");
        assert_eq!(from_proto, request());
        let json = serde_json::to_vec(&request()).expect("json");
        let text = String::from_utf8(json.clone()).expect("utf-8");
        assert!(
            text.contains("\"traceId\":\"4b4b4b4b"),
            "OTLP JSON writes ids in hex: {text}"
        );
        assert_eq!(decode(&json, Encoding::Json).expect("json"), request());
        assert!(decode(b"\xff\xff", Encoding::Protobuf).is_err());
        assert!(decode(b"{", Encoding::Json).is_err());
    }

    #[test]
    fn severities_map_to_levels_and_absent_ids_are_none() {
        assert_eq!(level(1, ""), "DEBUG");
        assert_eq!(level(9, ""), "INFO");
        assert_eq!(level(13, ""), "WARNING");
        assert_eq!(level(21, ""), "CRITICAL");
        assert_eq!(level(0, "warn"), "WARNING");
        assert_eq!(level(0, ""), "INFO");
        assert_eq!(hex(&[0; 16]), None);
        assert_eq!(hex(&[]), None);
        assert_eq!(
            Encoding::from_content_type(Some("application/json; charset=utf-8")),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type(Some("text/plain")), None);
    }
}
