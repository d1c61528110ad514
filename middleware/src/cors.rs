//! The CORS part of trace propagation: browsers preflight requests that carry `traceparent`,
//! so for origins the application allows, preflights must list our headers, and responses must
//! let scripts read the echoed trace headers.

use axum::body::Body;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD,
    HeaderName, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};

/// Headers a preflight must allow for trace propagation.
pub(crate) const TRACE_REQUEST_HEADERS: [&str; 3] = ["traceparent", "tracestate", "x-trace-id"];
/// Response headers scripts may read.
pub(crate) const TRACE_RESPONSE_HEADERS: [&str; 2] = ["traceparent", "x-trace-id"];

/// What kind of cross-origin request this is, for an allowed origin.
#[derive(Debug, Clone)]
pub(crate) enum Cors {
    /// Same-origin, or an origin not on the list: responses are left alone.
    NotAllowed,
    /// `OPTIONS` with `Access-Control-Request-Method` from an allowed origin.
    Preflight {
        origin: HeaderValue,
        method: HeaderValue,
    },
    /// Any other request from an allowed origin.
    Actual { origin: HeaderValue },
}

/// Classifies `request` against the allow-list (`*` allows every origin).
pub(crate) fn classify<B>(request: &Request<B>, allowed: &[String]) -> Cors {
    let Some(origin) = request.headers().get(ORIGIN) else {
        return Cors::NotAllowed;
    };
    let listed = origin
        .to_str()
        .is_ok_and(|o| allowed.iter().any(|a| a == "*" || a == o));
    if !listed {
        return Cors::NotAllowed;
    }
    let origin = origin.clone();
    match request.headers().get(ACCESS_CONTROL_REQUEST_METHOD) {
        Some(method) if request.method() == Method::OPTIONS => Cors::Preflight {
            origin,
            method: method.clone(),
        },
        _ => Cors::Actual { origin },
    }
}

/// Adds `names` to the comma-separated list in header `name`, keeping what is there; a `*`
/// already covers everything.
fn merge_list(headers: &mut HeaderMap, name: HeaderName, names: &[&str]) {
    let mut items: Vec<String> = headers
        .get_all(&name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    if items.iter().any(|item| item == "*") {
        return;
    }
    for wanted in names {
        if !items.iter().any(|item| item.eq_ignore_ascii_case(wanted)) {
            items.push((*wanted).to_owned());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&items.join(", ")) {
        headers.insert(name, value);
    }
}

/// Adjusts the application's response for a cross-origin request from an allowed origin.
/// A preflight the application answered successfully gets our headers merged in; one it did
/// not handle (typically a 405) is answered here with a 204 allowing just our headers.
pub(crate) fn apply(response: &mut Response<Body>, cors: &Cors) {
    match cors {
        Cors::NotAllowed => {}
        Cors::Preflight { origin, method } => {
            if !response.status().is_success() {
                let mut answer = Response::new(Body::empty());
                *answer.status_mut() = StatusCode::NO_CONTENT;
                let headers = answer.headers_mut();
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                headers.insert(ACCESS_CONTROL_ALLOW_METHODS, method.clone());
                headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
                headers.append(VARY, HeaderValue::from_static("origin"));
                *response = answer;
            }
            merge_list(
                response.headers_mut(),
                ACCESS_CONTROL_ALLOW_HEADERS,
                &TRACE_REQUEST_HEADERS,
            );
        }
        Cors::Actual { origin } => {
            let headers = response.headers_mut();
            if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                headers.append(VARY, HeaderValue::from_static("origin"));
            }
            merge_list(
                headers,
                ACCESS_CONTROL_EXPOSE_HEADERS,
                &TRACE_RESPONSE_HEADERS,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight(origin: &str) -> Request<()> {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api")
            .header(ORIGIN, origin)
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(())
            .expect("valid request")
    }

    #[test]
    fn merges_with_what_the_app_allows() {
        let allowed = vec!["https://app.example".to_owned()];
        let cors = classify(&preflight("https://app.example"), &allowed);
        let mut response = Response::new(Body::empty());
        response.headers_mut().insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, TraceParent"),
        );
        apply(&mut response, &cors);
        assert_eq!(
            response.headers()[ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type, TraceParent, tracestate, x-trace-id"
        );
    }

    #[test]
    fn answers_unhandled_preflights_and_ignores_other_origins() {
        let allowed = vec!["https://app.example".to_owned()];
        let cors = classify(&preflight("https://app.example"), &allowed);
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        apply(&mut response, &cors);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(
            response.headers()[ACCESS_CONTROL_ALLOW_HEADERS],
            "traceparent, tracestate, x-trace-id"
        );

        let cors = classify(&preflight("https://evil.example"), &allowed);
        assert!(matches!(cors, Cors::NotAllowed));
    }
}
