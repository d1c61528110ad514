//! What of a validated batch becomes an [`Observation`]: request logs (method, status and
//! duration all present) as `http_request` timings keyed by route template, and `metrics`
//! entries as they are. Pure and borrowing, so the writer can call it per row.
//!
//! The endpoint of a request is the route template: `extra_data.route` as the middleware sends
//! it (also in `function` of its request logs). A request log without one (the browser
//! logger's fetch logs carry only the raw path) gets its path with id-like segments replaced by
//! `{id}` and the query cut, so `/api/orders/42?x=1` and `/api/orders/43` are one series.

use std::borrow::Cow;

use tracewire_shared::api::monitoring::METRIC_TYPE_HTTP_REQUEST;
use tracewire_shared::validate::{Source, ValidLog, ValidMetric};
use uuid::Uuid;

use super::aggregate::Observation;

/// The endpoint and fields of a request log, with the endpoint possibly built from the path.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTiming<'a> {
    /// HTTP method; becomes the series' `metric_name`.
    pub method: &'a str,
    /// Route template (or masked path).
    pub endpoint: Option<Cow<'a, str>>,
    /// HTTP status answered; 5xx and 499 make the observation an error.
    pub status: i32,
    /// Duration in milliseconds; compared with the slow-request threshold and aggregated.
    pub duration_ms: f64,
}

impl<'a> RequestTiming<'a> {
    /// The timing of `log` when it describes a finished request.
    pub fn of(log: &'a ValidLog) -> Option<Self> {
        let method = log.request_method.as_deref()?;
        let status = log.response_status?;
        let duration_ms = log.duration_ms?;
        let route = log
            .extra_data
            .as_ref()
            .and_then(|e| e.get("route"))
            .and_then(|r| r.as_str())
            .filter(|r| r.starts_with('/'));
        let endpoint = match route {
            Some(r) => Some(Cow::Borrowed(r)),
            None => log.request_path.as_deref().map(mask_path),
        };
        Some(Self {
            method,
            endpoint,
            status,
            duration_ms,
        })
    }

    /// Whether this request counts as slow (seed property 5).
    pub fn is_slow(&self, threshold_ms: f64) -> bool {
        self.duration_ms >= threshold_ms
    }

    /// The aggregator's observation; 5xx (and 499, a request cut off) count as errors.
    pub fn observation(
        &'a self,
        project_id: Uuid,
        source: Source,
        timestamp_us: i64,
    ) -> Observation<'a> {
        Observation {
            project_id,
            source,
            metric_type: METRIC_TYPE_HTTP_REQUEST,
            metric_name: self.method,
            endpoint: self.endpoint.as_deref(),
            unit: "ms",
            value: self.duration_ms,
            is_error: self.status >= 500 || self.status == 499,
            timestamp_us,
        }
    }
}

/// The aggregator's observation of a `metrics` entry. A `db_query` entry counts as an error
/// when its tags say `"error": true`.
pub fn metric_observation(project_id: Uuid, source: Source, m: &ValidMetric) -> Observation<'_> {
    let tag = |name: &str| {
        m.tags
            .as_ref()
            .and_then(|t| t.get(name))
            .and_then(|v| v.as_bool())
    };
    Observation {
        project_id,
        source,
        metric_type: &m.metric_type,
        metric_name: &m.metric_name,
        endpoint: m.endpoint.as_deref(),
        unit: m.unit.as_deref().unwrap_or(""),
        value: m.value,
        is_error: tag("error").unwrap_or(false),
        timestamp_us: m.timestamp_us,
    }
}

/// Whether a `metrics` entry is a slow statement to keep with its trace id: flagged by the
/// middleware, or at least `threshold_ms` when the sender did not flag it.
pub fn is_slow_statement(m: &ValidMetric, threshold_ms: f64) -> bool {
    if m.metric_type != tracewire_shared::api::monitoring::METRIC_TYPE_DB_QUERY {
        return false;
    }
    let flagged = m
        .tags
        .as_ref()
        .and_then(|t| t.get("slow"))
        .and_then(|v| v.as_bool());
    flagged.unwrap_or(m.value >= threshold_ms)
}

/// `path` without its query or fragment, id-like segments (numbers, UUIDs, long hex or
/// digit-bearing tokens) as `{id}`.
pub fn mask_path(path: &str) -> Cow<'_, str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if !path.split('/').any(id_like) {
        return Cow::Borrowed(path);
    }
    let masked: Vec<&str> = path
        .split('/')
        .map(|seg| if id_like(seg) { "{id}" } else { seg })
        .collect();
    Cow::Owned(masked.join("/"))
}

fn id_like(seg: &str) -> bool {
    if seg.is_empty() {
        return false;
    }
    let digits = seg.bytes().filter(u8::is_ascii_digit).count();
    let hexish = seg.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    digits == seg.len()
        || (hexish && seg.len() >= 16)
        || (digits >= 2
            && seg.len() >= 8
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(path: &str, extra: Option<serde_json::Value>) -> ValidLog {
        ValidLog {
            level: tracewire_shared::Level::Info,
            message: "GET".into(),
            timestamp_us: 0,
            module: None,
            function: None,
            trace_id: None,
            span_id: None,
            user_id: None,
            request_method: Some("GET".into()),
            request_path: Some(path.into()),
            request_data: None,
            response_status: Some(503),
            duration_ms: Some(1200.0),
            extra_data: extra,
            dedup_count: 1,
            first_seen_us: 0,
            last_seen_us: 0,
        }
    }

    #[test]
    fn the_route_template_wins_over_the_raw_path() {
        let log = request("/api/orders/42", Some(json!({"route": "/api/orders/{id}"})));
        let t = RequestTiming::of(&log).expect("a request");
        assert_eq!(t.endpoint.as_deref(), Some("/api/orders/{id}"));
        let o = t.observation(Uuid::nil(), Source::Backend, 0);
        assert!(o.is_error);
        assert!(t.is_slow(1000.0) && !t.is_slow(1500.0));
    }

    #[test]
    fn raw_paths_are_masked_to_bounded_endpoints() {
        for (path, want) in [
            ("/api/orders/42?x=1", "/api/orders/{id}"),
            (
                "/u/0193a5b2-7c4e-7d10-8f00-000000000003/cart",
                "/u/{id}/cart",
            ),
            ("/files/a1b2c3d4e5f6a7b8c9d0", "/files/{id}"),
            ("/cart", "/cart"),
            ("/v2/users/me", "/v2/users/me"),
        ] {
            assert_eq!(mask_path(path), want, "{path}");
        }
        let log = request("/api/orders/42", None);
        assert_eq!(
            RequestTiming::of(&log).and_then(|t| t.endpoint).as_deref(),
            Some("/api/orders/{id}")
        );
    }

    #[test]
    fn plain_logs_are_not_requests() {
        let mut log = request("/x", None);
        log.duration_ms = None;
        assert_eq!(RequestTiming::of(&log), None);
    }

    #[test]
    fn statements_are_slow_as_flagged_or_by_threshold() {
        let mut m = ValidMetric {
            metric_type: "db_query".into(),
            metric_name: "SELECT".into(),
            value: 700.0,
            unit: Some("ms".into()),
            timestamp_us: 0,
            endpoint: None,
            trace_id: None,
            tags: None,
        };
        assert!(is_slow_statement(&m, 500.0));
        m.tags = Some(json!({"slow": false}));
        assert!(
            !is_slow_statement(&m, 500.0),
            "the sender's threshold decides"
        );
        m.metric_type = "web_vital".into();
        assert!(!is_slow_statement(&m, 0.0));
        assert_eq!(
            metric_observation(Uuid::nil(), Source::Frontend, &m).unit,
            "ms"
        );
    }
}
