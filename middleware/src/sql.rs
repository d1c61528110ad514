//! Database statement timings from sqlx's own `tracing` events (target `sqlx::query`), turned
//! into `db_query` metric entries instead of log lines.
//!
//! sqlx 0.8 emits one event per finished statement (from `QueryLogger::finish`, at DEBUG, or
//! WARN past its own slow threshold) with the fields `summary` (the first words, ending in
//! `" …"` when cut), `db.statement` (the whole SQL, or empty when the summary is all of it),
//! `rows_affected`, `rows_returned`, `elapsed` (Debug of a `Duration`) and `elapsed_secs`
//! (f64). SQLite runs statements on a worker thread, but sqlx enters the caller's span there,
//! so the event still belongs to its request.

use std::fmt;

use serde_json::{Map, Value, json};
use tracewire_shared::api::monitoring::METRIC_TYPE_DB_QUERY;
use tracewire_shared::wire::MetricEntry;
use tracing::field::{Field, Visit};

use crate::clock::now_rfc3339;
use crate::scope::RequestScope;

/// The target of sqlx's statement events.
pub const SQLX_QUERY_TARGET: &str = "sqlx::query";
/// Longest statement text shipped, in characters; the summary identifies the statement, the
/// text is for reading one slow case.
const MAX_STATEMENT_CHARS: usize = 2000;

/// The fields of one `sqlx::query` event.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SqlFields {
    summary: Option<String>,
    statement: Option<String>,
    rows_affected: Option<u64>,
    rows_returned: Option<u64>,
    elapsed_secs: Option<f64>,
}

impl Visit for SqlFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = Some(value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_affected" => self.rows_affected = Some(value),
            "rows_returned" => self.rows_returned = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(v) = u64::try_from(value) {
            self.record_u64(field, v);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = Some(value.to_owned()),
            "db.statement" => self.statement = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

impl SqlFields {
    /// The metric of this statement, or `None` when the event lacks a timing (a future sqlx
    /// that renamed its fields: better nothing than zeros).
    pub(crate) fn into_metric(
        self,
        scope: Option<&RequestScope>,
        slow_query_ms: u64,
    ) -> Option<MetricEntry> {
        let elapsed_ms = self.elapsed_secs.filter(|s| s.is_finite())? * 1000.0;
        let summary = self
            .summary
            .map(|s| s.trim_end_matches(" …").trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "statement".to_owned());
        let slow = elapsed_ms >= slow_query_ms as f64;
        let mut tags = Map::new();
        tags.insert("slow".into(), json!(slow));
        if let Some(n) = self.rows_returned {
            tags.insert("rows_returned".into(), json!(n));
        }
        if let Some(n) = self.rows_affected {
            tags.insert("rows_affected".into(), json!(n));
        }
        let statement = self
            .statement
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(text) = statement {
            let cut: String = text.chars().take(MAX_STATEMENT_CHARS).collect();
            tags.insert("statement".into(), Value::String(cut));
        }
        if let Some(scope) = scope.filter(|s| !s.method.is_empty()) {
            tags.insert("method".into(), json!(scope.method));
        }
        Some(MetricEntry {
            metric_type: METRIC_TYPE_DB_QUERY.to_owned(),
            metric_name: summary,
            value: elapsed_ms,
            unit: Some("ms".to_owned()),
            timestamp: now_rfc3339(),
            endpoint: scope.map(|s| s.route.clone()).filter(|r| !r.is_empty()),
            trace_id: scope.map(|s| s.trace_id.clone()),
            tags: Some(Value::Object(tags)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> RequestScope {
        RequestScope {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            method: "GET".into(),
            path: "/orders/42".into(),
            route: "/orders/{id}".into(),
        }
    }

    #[test]
    fn a_statement_becomes_a_metric_of_its_route_and_trace() {
        let fields = SqlFields {
            summary: Some("SELECT * FROM …".into()),
            statement: Some("\n\nSELECT * FROM orders WHERE id = ?\n".into()),
            rows_returned: Some(1),
            rows_affected: Some(0),
            elapsed_secs: Some(0.75),
        };
        let metric = fields.into_metric(Some(&scope()), 500).expect("metric");
        assert_eq!(metric.metric_type, "db_query");
        assert_eq!(metric.metric_name, "SELECT * FROM");
        assert_eq!(metric.value, 750.0);
        assert_eq!(metric.endpoint.as_deref(), Some("/orders/{id}"));
        let tags = metric.tags.expect("tags");
        assert_eq!(tags["slow"], true);
        assert_eq!(tags["rows_returned"], 1);
        assert_eq!(tags["statement"], "SELECT * FROM orders WHERE id = ?");
    }

    #[test]
    fn fast_statements_outside_requests_and_untimed_events() {
        let fast = SqlFields {
            summary: Some("PRAGMA foreign_keys = ON".into()),
            statement: Some(String::new()),
            elapsed_secs: Some(0.001),
            ..SqlFields::default()
        };
        let metric = fast.into_metric(None, 500).expect("metric");
        assert_eq!(
            metric.tags.as_ref().map(|t| &t["slow"]),
            Some(&json!(false))
        );
        assert_eq!((metric.endpoint, metric.trace_id), (None, None));
        assert!(metric.tags.is_some_and(|t| t.get("statement").is_none()));
        assert_eq!(SqlFields::default().into_metric(None, 500), None);
    }
}
