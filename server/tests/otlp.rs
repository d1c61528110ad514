//! OTLP/HTTP logs over real HTTP, on both backends: the OpenTelemetry Rust SDK's own OTLP log
//! exporter (protobuf) sends records that are stored with their trace ids, levels, scope and
//! attributes; the JSON encoding works too, a record validation refuses is answered as the
//! OTLP partial success while the rest are stored, and secrets are redacted.

mod common;

use common::{Backend, KEY, TestServer};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use serde_json::{Value, json};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

/// The exporter's HTTP client: the tests' reqwest, so the SDK needs no second HTTP stack.
#[derive(Debug)]
struct Client(reqwest::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for Client {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let (parts, body) = request.into_parts();
        let response = self
            .0
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut answer = opentelemetry_http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        Ok(answer.body(response.bytes().await?)?)
    }
}

both_backends!(
    the_opentelemetry_sdk_exporter_sends_logs_with_their_trace,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let endpoint = server.url("/v1/logs");
        // The SDK's simple processor blocks on each export: run it off the async workers.
        tokio::task::spawn_blocking(move || {
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_http_client(Client(reqwest::Client::new()))
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(endpoint)
                .with_headers([("x-tracewire-key".to_owned(), KEY.to_owned())].into())
                .build()
                .expect("exporter");
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name("shop-backend")
                .build();
            let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
                .with_resource(resource)
                .with_simple_exporter(exporter)
                .build();
            let logger = provider.logger("shop::checkout");
            for (severity, body) in [
                (Severity::Error, "payment declined"),
                (Severity::Info, "order placed"),
            ] {
                let mut record = logger.create_log_record();
                record.set_severity_number(severity);
                record.set_body(AnyValue::from(body));
                record.add_attribute("user.id", "otel-user");
                record.add_attribute("card", "4111 1111 1111 1111");
                record.set_trace_context(
                    TraceId::from_hex(TRACE).expect("trace"),
                    SpanId::from_hex("b7ad6b7169203331").expect("span"),
                    None,
                );
                logger.emit(record);
            }
            provider.force_flush().expect("flush");
            provider.shutdown().expect("shutdown");
        })
        .await
        .expect("exporter thread");

        let (status, body) = server
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/logging/logs?trace_id={TRACE}"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{body}");
        let declined = items
            .iter()
            .find(|l| l["message"] == "payment declined")
            .expect("error log");
        assert_eq!(declined["level"], "ERROR");
        assert_eq!(declined["source"], "backend");
        assert_eq!(declined["module"], "shop::checkout");
        assert_eq!(declined["span_id"], "b7ad6b7169203331");
        assert_eq!(declined["user_id"], "otel-user");
        assert_eq!(
            declined["extra_data"]["resource"]["service.name"],
            "shop-backend"
        );
        assert!(
            !body.to_string().contains("4111 1111 1111 1111"),
            "a card number reached the API: {body}"
        );
        let db = server.stop().await;
        if backend == Backend::Sqlite {
            // Property 8 on disk: the database file and its WAL never held the card number.
            assert!(
                !db.sqlite_file_contains(b"4111 1111 1111 1111"),
                "the card reached disk"
            );
        }
    }
);

both_backends!(
    json_exports_and_partial_success,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        let record = |body: &str, nanos: &str| {
            json!({
                "timeUnixNano": nanos, "severityNumber": 13, "severityText": "WARN",
                "body": {"stringValue": body}, "traceId": TRACE, "spanId": "b7ad6b7169203331",
                "attributes": [{"key": "retries", "value": {"intValue": "2"}}],
            })
        };
        let export = json!({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
            "scopeLogs": [{"scope": {"name": "json"}, "logRecords": [
                record("cache cold", "1700000000000000000"),
                record("", "1700000000000000001"),
            ]}],
        }]});
        let post = |body: Value, key: &'static str| {
            server
                .client
                .post(server.url("/v1/logs"))
                .header("authorization", format!("Bearer {key}"))
                .json(&body)
                .send()
        };
        let response = post(export.clone(), KEY).await.expect("request");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let answer: Value = response.json().await.expect("json");
        // Protobuf's JSON mapping writes int64 as a string; clients take either.
        let rejected = &answer["partialSuccess"]["rejectedLogRecords"];
        assert!(rejected == &json!(1) || rejected == &json!("1"), "{answer}");
        assert!(
            answer["partialSuccess"]["errorMessage"]
                .as_str()
                .expect("message")
                .contains("logs[1].message"),
            "{answer}"
        );
        // The exporter retries the same body: stored once.
        assert_eq!(
            post(export, KEY).await.expect("request").status().as_u16(),
            200
        );
        let stored: Vec<(String, i64)> = server
            .pairs("SELECT message, dedup_count FROM app_logs WHERE module = 'json'")
            .await;
        assert_eq!(stored, [("cache cold".to_owned(), 1)]);

        let refused = post(json!({"resourceLogs": []}), "wrong")
            .await
            .expect("request");
        assert_eq!(refused.status().as_u16(), 401);
        let unsupported = server
            .client
            .post(server.url("/v1/logs"))
            .header("x-tracewire-key", KEY)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .expect("request");
        assert_eq!(unsupported.status().as_u16(), 415);
        let garbage = server
            .client
            .post(server.url("/v1/logs"))
            .header("x-tracewire-key", KEY)
            .header("content-type", "application/x-protobuf")
            .body(vec![0xff, 0xff, 0xff])
            .send()
            .await
            .expect("request");
        assert_eq!(garbage.status().as_u16(), 400);
        server.stop().await;
    }
);
