//! `ExceptionFilter`: the filters of `GET /api/v1/logging/exceptions`, ordered by last seen.

use super::cursor::Cursor;
use super::sql::{BindValue, WhereClause};
use super::{Params, keyset};
use std::collections::HashMap;
use tracewire_shared::validate::FieldError;
use tracewire_shared::validate::Source;

/// Parameters the exceptions endpoint understands.
pub const EXCEPTION_PARAMS: &[&str] = &[
    "source",
    "resolved",
    "exception_type",
    "from",
    "to",
    "limit",
    "cursor",
];

/// A parsed, validated exception-group query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExceptionFilter {
    /// `resolved=true|false`.
    pub resolved: Option<bool>,
    /// `exception_type`: exact.
    pub exception_type: Option<String>,
    /// `source`: groups of this source; without it every source but `collector`.
    pub source: Option<Source>,
    /// `from`: groups last seen at or after (µs).
    pub from_us: Option<i64>,
    /// `to`: groups last seen at or before (µs).
    pub to_us: Option<i64>,
    /// Page size.
    pub limit: u32,
    /// Start after this group (by last seen, id).
    pub cursor: Option<Cursor>,
}

impl ExceptionFilter {
    /// Parses the query string; every invalid parameter is reported by name.
    pub fn parse(map: &HashMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut p = Params::new(map, EXCEPTION_PARAMS);
        let mut f = ExceptionFilter {
            limit: p.limit(),
            cursor: p.cursor(),
            exception_type: p.get("exception_type").map(str::to_owned),
            ..ExceptionFilter::default()
        };
        (f.from_us, f.to_us) = p.range();
        if let Some(raw) = p.get("source") {
            match raw.parse::<Source>() {
                Ok(s) => f.source = Some(s),
                Err(e) => p.fail("source", e.to_string()),
            }
        }
        if let Some(raw) = p.get("resolved") {
            match raw.to_ascii_lowercase().as_str() {
                "true" => f.resolved = Some(true),
                "false" => f.resolved = Some(false),
                _ => p.fail("resolved", "expected true or false"),
            }
        }
        p.finish(f)
    }

    /// The WHERE clause, with or without the cursor condition (page query vs. `total`).
    pub fn where_clause(&self, paged: bool) -> WhereClause {
        let mut w = WhereClause::default();
        match self.source {
            Some(s) => w.and("source = ?", vec![BindValue::Text(s.as_str().into())]),
            // The collector's own 5xx reports only when asked for (`source=collector`).
            None => w.and(
                "source <> ?",
                vec![BindValue::Text(Source::Collector.as_str().into())],
            ),
        }
        if let Some(r) = self.resolved {
            w.and("is_resolved = ?", vec![BindValue::Bool(r)]);
        }
        if let Some(t) = &self.exception_type {
            w.and("exception_type = ?", vec![BindValue::Text(t.clone())]);
        }
        if let Some(from) = self.from_us {
            w.and("last_seen_at >= ?", vec![BindValue::Int(from)]);
        }
        if let Some(to) = self.to_us {
            w.and("last_seen_at <= ?", vec![BindValue::Int(to)]);
        }
        if paged && let Some(c) = &self.cursor {
            keyset(&mut w, "last_seen_at", c);
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_flag_and_type_filter() {
        let map = [("resolved", "false"), ("exception_type", "TypeError")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = ExceptionFilter::parse(&map).expect("valid");
        assert_eq!(
            f.where_clause(true).sql(),
            " WHERE source <> $1 AND is_resolved = $2 AND exception_type = $3"
        );
        let bad = [("resolved".to_string(), "maybe".to_string())].into();
        assert_eq!(
            ExceptionFilter::parse(&bad).expect_err("invalid")[0].path,
            "resolved"
        );
    }
}
