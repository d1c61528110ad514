//! `ExceptionFilter`: the filters and sort of `GET /api/v1/logging/exceptions`.

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
    "status",
    "sort",
    "exception_type",
    "from",
    "to",
    "limit",
    "cursor",
];

/// `status`: the exception tracker's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not resolved (including groups that came back).
    Unresolved,
    /// Resolved and not seen since.
    Resolved,
    /// Came back after a resolution and not resolved again since.
    Regressed,
}

/// `sort`: the order of the list, always descending (most recent or most frequent first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// `last_seen` (default).
    #[default]
    LastSeen,
    /// `first_seen`: newest groups first.
    FirstSeen,
    /// `count`: most occurrences first.
    Count,
}

impl Sort {
    /// The column the list is sorted (and its cursor keyed) by.
    pub fn column(self) -> &'static str {
        match self {
            Sort::LastSeen => "last_seen_at",
            Sort::FirstSeen => "first_seen_at",
            Sort::Count => "occurrence_count",
        }
    }
}

/// A parsed, validated exception-group query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExceptionFilter {
    /// `resolved=true|false`.
    pub resolved: Option<bool>,
    /// `status`: unresolved, resolved or regressed.
    pub status: Option<Status>,
    /// `sort`: last_seen (default), first_seen or count.
    pub sort: Sort,
    /// `exception_type`: exact.
    pub exception_type: Option<String>,
    /// `source`: groups of this source; without it every source but `collector`.
    pub source: Option<Source>,
    /// `from`: groups last seen at or after (µs).
    pub from_us: Option<i64>,
    /// `to`: groups last seen at or before (µs).
    pub to_us: Option<i64>,
    /// `limit`: 1..=[`super::MAX_LIMIT`], default [`super::DEFAULT_LIMIT`] groups per page.
    pub limit: u32,
    /// Start after this group (by the sort column, then id).
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
        match p.get("status") {
            None => {}
            Some("unresolved") => f.status = Some(Status::Unresolved),
            Some("resolved") => f.status = Some(Status::Resolved),
            Some("regressed") => f.status = Some(Status::Regressed),
            Some(_) => p.fail("status", "expected unresolved, resolved or regressed"),
        }
        match p.get("sort") {
            None | Some("last_seen") => {}
            Some("first_seen") => f.sort = Sort::FirstSeen,
            Some("count") => f.sort = Sort::Count,
            Some(_) => p.fail("sort", "expected last_seen, first_seen or count"),
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
        match self.status {
            Some(Status::Unresolved) => w.and("is_resolved = ?", vec![BindValue::Bool(false)]),
            Some(Status::Resolved) => w.and("is_resolved = ?", vec![BindValue::Bool(true)]),
            Some(Status::Regressed) => w.and(
                "is_resolved = ? AND regressed_at IS NOT NULL",
                vec![BindValue::Bool(false)],
            ),
            None => {}
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
            keyset(&mut w, self.sort.column(), c);
        }
        w
    }

    /// `ORDER BY …` of a page: the sort column, then id, both descending like the cursor.
    pub fn order_by(&self) -> String {
        format!(" ORDER BY {} DESC, id DESC", self.sort.column())
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

    #[test]
    fn status_and_sort_shape_the_query() {
        let map = [("status", "regressed"), ("sort", "count")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = ExceptionFilter::parse(&map).expect("valid");
        let c = Cursor {
            time_us: 12,
            id: uuid::Uuid::nil(),
        };
        let f = ExceptionFilter {
            cursor: Some(c),
            ..f
        };
        assert_eq!(
            f.where_clause(true).sql(),
            " WHERE source <> $1 AND is_resolved = $2 AND regressed_at IS NOT NULL \
             AND (occurrence_count < $3 OR (occurrence_count = $4 AND id < $5))"
        );
        assert_eq!(f.order_by(), " ORDER BY occurrence_count DESC, id DESC");
        let bad = [("status", "open"), ("sort", "name")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let errors = ExceptionFilter::parse(&bad).expect_err("invalid");
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["sort", "status"]);
    }
}
