//! The OpenAPI document (`GET /api/openapi.json`): every route the router serves is in it with
//! each of its methods, the logs and exceptions parameters are exactly the ones the parsers
//! accept, and every error answer it lists is the error envelope.

mod common;

use common::{Backend, TestServer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tracewire_server::query::exceptions::EXCEPTION_PARAMS;
use tracewire_server::query::logs::{LOG_PARAMS, PAGE_PARAMS};

/// The served document, read over HTTP from a real collector.
async fn served_document() -> Value {
    let s = TestServer::start(Backend::Sqlite).await;
    let response = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc: Value = response.json().await.expect("JSON document");
    s.stop().await;
    doc
}

/// `(path, method)` of every `.route(…)` in the HTTP modules' sources: the path literal (or the
/// constant it names) and each method router (`get(…)`, `.post(…)`, …) in its handler chain.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let constants = BTreeMap::from([
        ("INGEST_PATH", tracewire_shared::wire::INGEST_PATH),
        (
            "OPENAPI_PATH",
            tracewire_server::http::openapi::OPENAPI_PATH,
        ),
    ]);
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/http") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            let end = closing_paren(call);
            let (route, handlers) = call[..end].split_once(',').expect("two arguments");
            let route = route.trim();
            let route = match route.strip_prefix('"') {
                Some(literal) => literal.trim_end_matches('"').to_owned(),
                None => constants
                    .get(route)
                    .unwrap_or_else(|| panic!("unknown route constant {route}"))
                    .to_string(),
            };
            for method in ["get", "post", "put", "delete", "options", "patch"] {
                let bare = handlers.trim_start().starts_with(&format!("{method}("));
                if bare || handlers.contains(&format!(".{method}(")) {
                    routes.insert((route.clone(), method.to_owned()));
                }
            }
            rest = &call[end..];
        }
    }
    routes
}

/// Index of the `)` that closes the call whose arguments `s` starts with.
fn closing_paren(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return i,
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced route call");
}

fn parameter_names(doc: &Value, path: &str, method: &str) -> BTreeSet<String> {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn every_route_of_the_router_is_documented_with_each_method() {
    let doc = served_document().await;
    let routes = routes_in_source();
    assert!(routes.len() >= 35, "found only {} routes", routes.len());
    let missing: Vec<_> = routes
        .iter()
        .filter(|(path, method)| doc["paths"][path][method].is_null())
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    // And nothing documented that the router does not serve.
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|k| *k != "parameters")
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_its_errors_are_the_envelope() {
    let doc = served_document().await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert_eq!(envelope["required"], serde_json::json!(["error"]));
    for scheme in ["session", "bearer", "ingest_key"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorEnvelope",
                        "{method} {path} {status}"
                    );
                }
            }
            // A session route says so, and lists the 401 it answers without one.
            let secured = op["security"].to_string().contains("session");
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
        }
    }
    // Every type of a body or answer is resolvable in the document.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').expect("end of ref")];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{name} is referenced but not defined"
        );
    }
}

#[tokio::test]
async fn the_documented_filters_are_the_ones_the_parsers_accept() {
    let doc = served_document().await;
    let logs = "/api/v1/logging/logs";
    assert_eq!(parameter_names(&doc, logs, "get"), names(LOG_PARAMS));
    let unpaged: BTreeSet<String> = names(LOG_PARAMS)
        .difference(&names(PAGE_PARAMS))
        .cloned()
        .collect();
    assert_eq!(
        parameter_names(&doc, "/api/v1/logging/logs/stream", "get"),
        unpaged
    );
    let mut statistics = unpaged.clone();
    statistics.insert("bucket".to_owned());
    assert_eq!(
        parameter_names(&doc, "/api/v1/logging/logs/statistics", "get"),
        statistics
    );
    assert_eq!(
        parameter_names(&doc, "/api/v1/logging/exceptions", "get"),
        names(EXCEPTION_PARAMS)
    );
}
