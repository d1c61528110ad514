//! The request edge: every handler reads its body, query string and UUID path segment through
//! these extractors, so every bad input answers in the one envelope with the same status and
//! code whichever route it hit: a body that is not JSON is 400 `malformed_json`, JSON of the
//! wrong shape or a bad parameter is 422 naming the field, a body over the limit is 413 (refused
//! from `Content-Length` before it is read when declared), and a body still arriving past the
//! body deadline is 408.

use crate::error::{Error, Result, is_body_timeout};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use tracewire_shared::validate::FieldError;
use uuid::Uuid;

/// Body limit of [`AppJson`] unless a route asks for less: axum's default, which the JSON
/// routes had before they read through here.
pub const DEFAULT_JSON_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON body read into `T`, at most `LIMIT` bytes. A blank body reads as JSON `null` when
/// `T` accepts it (`AppJson<Option<…>>` for routes whose body is optional). The body's
/// `Content-Type` is not checked: scripts and `curl -d` send JSON without it.
#[derive(Debug, Clone)]
pub struct AppJson<T, const LIMIT: usize = DEFAULT_JSON_LIMIT>(pub T);

impl<S, T, const LIMIT: usize> FromRequest<S> for AppJson<T, LIMIT>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(request: Request, _state: &S) -> Result<Self> {
        let (parts, body) = request.into_parts();
        let bytes = read_limited(&parts.headers, body, LIMIT).await?;
        parse_json(&bytes).map(Self)
    }
}

/// Reads at most `limit` bytes of `body`: a declared `Content-Length` over it is refused before
/// anything is read, a body growing past it is cut off; both are the envelope's 413 (axum's own
/// limit answers in plain text). Used by [`AppJson`] and the ingest route, which reads raw
/// (possibly compressed) bytes under its own limit.
pub async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes> {
    let too_large = || Error::TooLarge(format!("body exceeds {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        // Past the body deadline the read fails too: that is a 408, not a 413.
        Err(e) if is_body_timeout(e.as_ref()) => Err(Error::RequestTimeout),
        Err(e) => Err(Error::BadRequest(format!(
            "the request body could not be read: {e}"
        ))),
    }
}

/// Parses a JSON body: not JSON → 400 `malformed_json`; JSON of the wrong shape → 422 naming
/// the path of the first wrong field (`user.name`, `items[2]`).
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) if body.iter().all(u8::is_ascii_whitespace) => {
            return T::deserialize(serde_json::Value::Null)
                .map_err(|_| Error::MalformedJson(e.to_string()));
        }
        Err(e) => return Err(Error::MalformedJson(e.to_string())),
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::Validation(vec![FieldError::new(path, e.inner().to_string())])
    })
}

/// The query string read into `T` (by default every parameter as text, for the filter parsers
/// that report all bad parameters at once); a parameter `T` cannot read is a 422 naming it.
#[derive(Debug, Clone)]
pub struct AppQuery<T = HashMap<String, String>>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Self)
    }
}

/// Parses a query string (`a=1&b=x%20y`) into `T`, naming the parameter that failed.
fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        // Errors about the whole string (none of `T`'s fields) name the query itself.
        let name = if path == "." {
            "query".to_owned()
        } else {
            path
        };
        Error::Validation(vec![FieldError::new(name, e.inner().to_string())])
    })
}

/// The route's one path parameter as a UUID; anything else is a 422 naming the parameter
/// (`{id}` → `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathUuid(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathUuid {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let mut iter = params.iter();
        match (iter.next(), iter.next()) {
            (Some((name, value)), None) => parse_uuid(name, value).map(Self),
            // A route wiring mistake, not the client's.
            _ => Err(Error::Internal(format!(
                "PathUuid used on {} with other than one path parameter",
                parts.uri.path()
            ))),
        }
    }
}

/// A UUID path segment, or 422 naming `name`.
fn parse_uuid(name: &str, raw: &str) -> Result<Uuid> {
    raw.parse()
        .map_err(|_| Error::Validation(vec![FieldError::new(name, "expected a UUID")]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use tracewire_shared::api::{LoginRequest, ResolveRequest};

    fn field_path(error: Error) -> String {
        match error {
            Error::Validation(fields) => fields[0].path.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_malformed() {
        assert!(matches!(
            parse_json::<LoginRequest>(b"{\"username\":"),
            Err(Error::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<LoginRequest>(b""),
            Err(Error::MalformedJson(_))
        ));
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let error = parse_json::<LoginRequest>(br#"{"username": 5, "password": "p"}"#)
            .expect_err("wrong type");
        assert_eq!(field_path(error), "username");
    }

    #[test]
    fn optional_bodies_may_be_blank() {
        assert_eq!(
            parse_json::<Option<ResolveRequest>>(b"  \n").expect("blank"),
            None
        );
        let notes = parse_json::<Option<ResolveRequest>>(br#"{"notes": "n"}"#).expect("notes");
        assert_eq!(notes.and_then(|r| r.notes).as_deref(), Some("n"));
    }

    #[test]
    fn bad_query_parameters_are_named() {
        #[derive(Debug, Deserialize)]
        struct Q {
            #[allow(dead_code)]
            limit: Option<u32>,
        }
        assert_eq!(
            field_path(parse_query::<Q>("limit=abc").expect_err("bad")),
            "limit"
        );
        let map: HashMap<String, String> = parse_query("a=1&b=x%20y").expect("map");
        assert_eq!(map.get("b").map(String::as_str), Some("x y"));
    }

    #[test]
    fn path_uuids_name_the_parameter() {
        assert!(parse_uuid("id", "0190a0e2-7c4e-7d4c-8f3e-5a2b1c0d9e8f").is_ok());
        assert_eq!(field_path(parse_uuid("id", "nope").expect_err("bad")), "id");
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_too_large() {
        let mut headers = HeaderMap::new();
        let read = read_limited(&headers, Body::from(vec![b' '; 11]), 10).await;
        assert!(matches!(read, Err(Error::TooLarge(_))));
        // Declared too long: refused without reading (the body here would fit).
        headers.insert(header::CONTENT_LENGTH, "100".parse().expect("header"));
        let read = read_limited(&headers, Body::from("{}"), 10).await;
        assert!(matches!(read, Err(Error::TooLarge(_))));
    }
}
