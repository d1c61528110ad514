//! The ingest decoders against hostile bytes, over real HTTP: random bodies and valid bodies
//! with random bytes overwritten, cut or appended, posted to the native endpoint, the Sentry
//! envelope endpoint and OTLP (protobuf and JSON). Every answer is a 200 or a 4xx in the error
//! envelope, never a 5xx, and the collector still answers afterwards (no panic took a worker).

mod common;

use common::{Backend, KEY, TestServer};
use proptest::prelude::*;
use serde_json::json;

/// A valid body for each endpoint, which the mutations start from.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let native = serde_json::to_vec(&json!({
        "batch_id": "0b6a1c8e-59b0-4d55-9d8e-7f3c2a1b0c9d", "source": "frontend",
        "logs": [{"level": "INFO", "message": "hello", "extra_data": {"a": [1, {"b": "c"}]}}],
    }))
    .expect("json");
    let event = r#"{"message":"hi","level":"error"}"#;
    let envelope = [
        r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}"#.to_owned(),
        format!(r#"{{"type":"event","length":{}}}"#, event.len()),
        event.to_owned(),
        r#"{"type":"log"}"#.to_owned(),
        r#"{"items":[{"timestamp":1.0,"level":"info","body":"b"}]}"#.to_owned(),
    ]
    .join("\n")
    .into_bytes();
    let otlp_json = serde_json::to_vec(&json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "severityNumber": 9, "body": {"stringValue": "x"},
         "traceId": "0af7651916cd43dd8448eb211c80319c"}]}]}]}))
    .expect("json");
    // The same export in protobuf.
    let decoded: opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest =
        serde_json::from_slice(&otlp_json).expect("OTLP JSON");
    let otlp_proto = prost::Message::encode_to_vec(&decoded);
    vec![
        ("/api/v1/logging/logs", "application/json", native),
        ("/api/1/envelope/", "text/plain", envelope),
        ("/v1/logs", "application/json", otlp_json),
        ("/v1/logs", "application/x-protobuf", otlp_proto),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the body with random bytes.
    Random(Vec<u8>),
    /// Overwrite bytes at (fraction of the length, byte).
    Overwrite(Vec<(f64, u8)>),
    /// Keep this fraction of the body.
    Cut(f64),
    /// Append bytes.
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Mutation::Random),
        prop::collection::vec((0.0..1.0f64, any::<u8>()), 1..8).prop_map(Mutation::Overwrite),
        (0.0..1.0f64).prop_map(Mutation::Cut),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
    ]
}

fn apply(seed: &[u8], m: &Mutation) -> Vec<u8> {
    let mut body = seed.to_vec();
    match m {
        Mutation::Random(bytes) => body = bytes.clone(),
        Mutation::Overwrite(at) => {
            for (f, b) in at {
                if !body.is_empty() {
                    let i = ((body.len() as f64) * f) as usize % body.len();
                    body[i] = *b;
                }
            }
        }
        Mutation::Cut(f) => body.truncate((body.len() as f64 * f) as usize),
        Mutation::Append(bytes) => body.extend(bytes),
    }
    body
}

fn no_5xx_for_any_body(backend: Backend) {
    let cases = (0usize..4, mutation());
    let setup = async {
        TestServer::start_with(backend, |c| {
            c.rate_limit = 1e9;
            c.rate_burst = 1e9;
        })
        .await
    };
    common::check_property(
        256,
        cases,
        setup,
        |server, (which, m)| async move {
            let (path, content_type, seed) = &seeds()[which];
            let body = apply(seed, &m);
            let response = server
                .client
                .post(server.url(path))
                .header("x-tracewire-key", KEY)
                .header("x-sentry-auth", format!("Sentry sentry_key={KEY}"))
                .header("content-type", *content_type)
                .body(body)
                .send()
                .await
                .expect("the collector answers");
            let status = response.status().as_u16();
            prop_assert!(
                status == 200 || (400..500).contains(&status),
                "{} answered {}",
                path,
                status
            );
            if status != 200 && *path != "/v1/logs" {
                let text = response.text().await.expect("body");
                prop_assert!(
                    text.contains("\"error\""),
                    "{} {}: not the error envelope: {}",
                    path,
                    status,
                    text
                );
            }
            let health = server
                .client
                .get(server.url("/healthz"))
                .send()
                .await
                .expect("healthz");
            prop_assert_eq!(health.status().as_u16(), 200);
            Ok(())
        },
        |server| server.stop(),
    );
}

property_on_both_backends!(
    decoders_answer_every_body_without_a_5xx,
    super::no_5xx_for_any_body
);

// The seeds themselves are accepted, so the mutations start from bodies that pass.
both_backends!(the_seeds_are_valid, |backend: Backend| async move {
    let server = TestServer::start(backend).await;
    for (path, content_type, body) in seeds() {
        let response = server
            .client
            .post(server.url(path))
            .header("x-tracewire-key", KEY)
            .header("x-sentry-auth", format!("Sentry sentry_key={KEY}"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        assert_eq!(
            status,
            200,
            "{path} {content_type}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    server.stop().await;
});

/// Seconds the in-process decoder fuzz runs: `TRACEWIRE_FUZZ_SECONDS`, 10 by default so a plain
/// `cargo test` stays quick; the test command gives it minutes (scripts/test.sh).
fn fuzz_budget() -> std::time::Duration {
    let secs = std::env::var("TRACEWIRE_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10);
    std::time::Duration::from_secs(secs)
}

/// One body through the decoder of seed `which`, the way the ingest service runs it, without
/// HTTP: decoding (gzip when `gzip`), conversion for Sentry and OTLP, then validation of what
/// was decoded. A decoder error must map to a 4xx; nothing may panic.
fn decode_as_the_service_does(which: usize, body: Vec<u8>, gzip: bool) -> Result<(), String> {
    use tracewire_server::ingest::{IngestLimits, decode_body, otlp, sentry};
    let limits = IngestLimits::default();
    let encoding = gzip.then_some("gzip");
    let bytes = if gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, &body).map_err(|e| e.to_string())?;
        e.finish().map_err(|e| e.to_string())?
    } else {
        body.clone()
    };
    let client_error = |e: tracewire_server::error::Error| {
        let status = axum::response::IntoResponse::into_response(e).status();
        if status.is_client_error() {
            Ok(None)
        } else {
            Err(format!("decoder error answered {status}"))
        }
    };
    let batch = match which {
        0 => match decode_body(
            bytes.into(),
            encoding,
            limits.max_decompressed_bytes,
            limits.shape,
        ) {
            Ok(batch) => Some(batch),
            Err(e) => client_error(e)?,
        },
        1 => sentry::convert_envelope(&body).ok().map(|c| c.batch),
        2 | 3 => {
            let encoding = if which == 2 {
                otlp::Encoding::Json
            } else {
                otlp::Encoding::Protobuf
            };
            otlp::decode(&body, encoding)
                .ok()
                .map(|export| otlp::to_batch(&export, &body))
        }
        _ => sentry::convert_store(&body).ok().map(|c| c.batch),
    };
    if let Some(batch) = batch {
        let _ = tracewire_shared::validate::validate_batch(
            batch,
            1_700_000_000_000_000,
            &limits.validation,
        );
    }
    Ok(())
}

/// The decoders in-process for a time budget rather than a case count: rounds of 500 proptest
/// cases (each round a fresh seed, and shrinking on a failure) until the budget is spent.
#[test]
fn decoders_never_panic_for_the_fuzz_budget() {
    use proptest::test_runner::{Config, TestRunner};
    let mut seeds: Vec<Vec<u8>> = seeds().into_iter().map(|(_, _, body)| body).collect();
    seeds.push(
        br#"{"message":"hi","level":"error","exception":{"values":[{"type":"E"}]}}"#.to_vec(),
    );
    let deadline = std::time::Instant::now() + fuzz_budget();
    let mut cases = 0u64;
    while std::time::Instant::now() < deadline {
        let mut runner = TestRunner::new(Config {
            cases: 500,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (0usize..seeds.len(), mutation(), any::<bool>());
        let outcome = runner.run(&strategy, |(which, m, gzip)| {
            let body = apply(&seeds[which], &m);
            let result = std::panic::catch_unwind(|| decode_as_the_service_does(which, body, gzip));
            match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(TestCaseError::fail(message)),
                Err(_) => Err(TestCaseError::fail("a decoder panicked")),
            }
        });
        if let Err(e) = outcome {
            panic!("after {cases} cases: {e}");
        }
        cases += 500;
    }
    println!("{cases} decoder cases in {:?}", fuzz_budget());
    assert!(cases > 0);
}
