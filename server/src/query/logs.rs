//! `LogFilter`: the filters of `GET /api/v1/logging/logs` (ARCHITECTURE.md §6), all combined
//! with AND.

use super::cursor::Cursor;
use super::sql::{BindValue, WhereClause, escape_like};
use super::text::TextSearch;
use super::{Params, keyset};
use std::collections::HashMap;
use tracewire_shared::level::Level;
use tracewire_shared::traceparent::is_valid_trace_id;
use tracewire_shared::validate::{FieldError, Source};

/// Parameters the logs endpoint understands.
pub const LOG_PARAMS: &[&str] = &[
    "source",
    "level",
    "min_level",
    "trace_id",
    "user_id",
    "module",
    "path",
    "q",
    "from",
    "to",
    "limit",
    "cursor",
];

/// How `path` matches `request_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The whole path.
    Exact(String),
    /// `path=/api/*`: every path starting with `/api/`.
    Prefix(String),
}

/// A parsed, validated logs query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogFilter {
    /// `source`: frontend or backend.
    pub source: Option<Source>,
    /// `level`: one or more exact levels (comma list).
    pub levels: Vec<Level>,
    /// `min_level`: this level or more severe.
    pub min_level: Option<Level>,
    /// `trace_id`: 32 lowercase hex.
    pub trace_id: Option<String>,
    /// `user_id`: exact.
    pub user_id: Option<String>,
    /// `module`: exact.
    pub module: Option<String>,
    /// `path`: exact, or prefix with a trailing `*`.
    pub path: Option<PathMatch>,
    /// `q`: case-insensitive substring of the message.
    pub q: Option<String>,
    /// `from`: inclusive lower time bound (µs).
    pub from_us: Option<i64>,
    /// `to`: inclusive upper time bound (µs).
    pub to_us: Option<i64>,
    /// Page size.
    pub limit: u32,
    /// Start after this row.
    pub cursor: Option<Cursor>,
}

impl LogFilter {
    /// Parses the query string; every invalid parameter is reported by name.
    pub fn parse(map: &HashMap<String, String>) -> Result<Self, Vec<FieldError>> {
        Self::parse_allowing(map, LOG_PARAMS)
    }

    /// Like [`LogFilter::parse`] for endpoints that accept a different parameter set (the
    /// statistics endpoint adds `bucket` and has no paging).
    pub fn parse_allowing(
        map: &HashMap<String, String>,
        allowed: &[&str],
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Params::new(map, allowed);
        let mut f = LogFilter {
            limit: p.limit(),
            cursor: p.cursor(),
            ..LogFilter::default()
        };
        (f.from_us, f.to_us) = p.range();
        if let Some(raw) = p.get("source") {
            match raw.parse::<Source>() {
                Ok(s) => f.source = Some(s),
                Err(e) => p.fail("source", e.to_string()),
            }
        }
        if let Some(raw) = p.get("level") {
            for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match part.parse::<Level>() {
                    Ok(l) if !f.levels.contains(&l) => f.levels.push(l),
                    Ok(_) => {}
                    Err(e) => p.fail("level", e.to_string()),
                }
            }
        }
        if let Some(raw) = p.get("min_level") {
            match raw.parse::<Level>() {
                Ok(l) => f.min_level = Some(l),
                Err(e) => p.fail("min_level", e.to_string()),
            }
        }
        if let Some(raw) = p.get("trace_id") {
            let lower = raw.to_ascii_lowercase();
            if is_valid_trace_id(&lower) {
                f.trace_id = Some(lower);
            } else {
                p.fail("trace_id", "expected 32 hex digits, not all zero");
            }
        }
        f.user_id = p.get("user_id").map(str::to_owned);
        f.module = p.get("module").map(str::to_owned);
        f.q = p.get("q").map(str::to_owned);
        f.path = p.get("path").map(|raw| match raw.strip_suffix('*') {
            Some(prefix) => PathMatch::Prefix(prefix.to_owned()),
            None => PathMatch::Exact(raw.to_owned()),
        });
        p.finish(f)
    }

    /// The WHERE clause; with `paged` the cursor condition is included (the page query), without
    /// it not (the `total` count). `search` says whether `q` also narrows by SQLite's FTS5 index
    /// (see [`super::text`]); the rows are the same either way.
    pub fn where_clause(&self, paged: bool, search: &TextSearch) -> WhereClause {
        use BindValue::{Int, Text};
        let mut w = WhereClause::default();
        self.push_source_and_level(&mut w);
        for (column, value) in [
            ("trace_id", &self.trace_id),
            ("user_id", &self.user_id),
            ("module", &self.module),
        ] {
            if let Some(v) = value {
                w.and(&format!("{column} = ?"), vec![Text(v.clone())]);
            }
        }
        match &self.path {
            Some(PathMatch::Exact(p)) => w.and("request_path = ?", vec![Text(p.clone())]),
            // substr rather than LIKE: LIKE is case-insensitive in SQLite and sensitive in
            // PostgreSQL, substr compares exactly in both. The length is ours, not user text.
            Some(PathMatch::Prefix(p)) if !p.is_empty() => w.and(
                &format!("substr(request_path, 1, {}) = ?", p.chars().count()),
                vec![Text(p.clone())],
            ),
            Some(PathMatch::Prefix(_)) => w.and("request_path IS NOT NULL", vec![]),
            None => {}
        }
        if let Some(q) = &self.q {
            let lower = q.to_lowercase();
            if let TextSearch::Candidates { condition, ids } = search {
                w.and(condition, vec![Text(ids.clone())]);
            }
            let pattern = format!("%{}%", escape_like(&lower));
            w.and("LOWER(message) LIKE ? ESCAPE '\\'", vec![Text(pattern)]);
        }
        if let Some(from) = self.from_us {
            w.and("timestamp >= ?", vec![Int(from)]);
        }
        if let Some(to) = self.to_us {
            w.and("timestamp <= ?", vec![Int(to)]);
        }
        if paged && let Some(c) = &self.cursor {
            keyset(&mut w, "timestamp", c);
        }
        w
    }

    /// The `source`, `level` and `min_level` conditions: the columns `app_logs` shares with the
    /// `log_counts` table, so both are filtered by one piece of code.
    pub fn push_source_and_level(&self, w: &mut WhereClause) {
        use BindValue::Text;
        match self.source {
            Some(s) => w.and("source = ?", vec![Text(s.as_str().into())]),
            // The collector's own request logs only when asked for (`source=collector`).
            None => w.and("source <> ?", vec![Text(Source::Collector.as_str().into())]),
        }
        if !self.levels.is_empty() {
            let values = self
                .levels
                .iter()
                .map(|l| Text(l.as_str().into()))
                .collect();
            w.and(&WhereClause::in_list("level", self.levels.len()), values);
        }
        if let Some(min) = self.min_level {
            let at_least: Vec<_> = Level::ALL.iter().filter(|l| **l >= min).collect();
            let values = at_least.iter().map(|l| Text(l.as_str().into())).collect();
            w.and(&WhereClause::in_list("level", at_least.len()), values);
        }
    }

    /// The filters as JSON for the audit row (without paging).
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "source": self.source.map(Source::as_str),
            "level": self.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            "min_level": self.min_level.map(Level::as_str),
            "trace_id": self.trace_id, "user_id": self.user_id, "module": self.module,
            "path": self.path.as_ref().map(|p| match p {
                PathMatch::Exact(s) => s.clone(),
                PathMatch::Prefix(s) => format!("{s}*"),
            }),
            "q": self.q, "from": self.from_us, "to": self.to_us, "limit": self.limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<LogFilter, Vec<FieldError>> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LogFilter::parse(&map)
    }

    #[test]
    fn nul_in_any_parameter_is_a_named_error() {
        let errors =
            parse(&[("q", "a\0b"), ("module", "\0"), ("user_id", "ok")]).expect_err("NUL refused");
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["module", "q"]);
    }

    #[test]
    fn every_filter_becomes_one_condition() {
        let f = parse(&[
            ("source", "frontend"),
            ("level", "info,warn"),
            ("min_level", "warning"),
            ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
            ("path", "/api/*"),
            ("q", "50%"),
            ("from", "2024-05-01T00:00:00Z"),
            ("limit", "10"),
        ])
        .expect("valid");
        assert_eq!(f.levels, vec![Level::Info, Level::Warning]);
        assert_eq!(f.path, Some(PathMatch::Prefix("/api/".into())));
        let w = f.where_clause(true, &TextSearch::Scan);
        assert_eq!(
            w.sql(),
            " WHERE source = $1 AND level IN ($2, $3) AND level IN ($4, $5, $6) \
             AND trace_id = $7 AND substr(request_path, 1, 5) = $8 \
             AND LOWER(message) LIKE $9 ESCAPE '\\' AND timestamp >= $10"
        );
        assert_eq!(w.binds[8], BindValue::Text("%50\\%%".into()));
        assert_eq!(
            w.binds[6],
            BindValue::Text("4bf92f3577b34da6a3ce929d0e0e4736".into())
        );
    }

    #[test]
    fn full_text_candidates_come_before_the_recheck() {
        let f = parse(&[("q", "Time\"Out")]).expect("valid");
        let search = TextSearch::Candidates {
            condition: "rowid IN (SELECT value FROM json_each(?))",
            ids: "[7,3]".into(),
        };
        let w = f.where_clause(false, &search);
        assert_eq!(
            w.sql(),
            " WHERE source <> $1 AND rowid IN (SELECT value FROM json_each($2)) \
             AND LOWER(message) LIKE $3 ESCAPE '\\'"
        );
        assert_eq!(w.binds[1], BindValue::Text("[7,3]".into()));
        assert_eq!(w.binds[2], BindValue::Text("%time\"out%".into()));
        assert_eq!(
            f.where_clause(false, &TextSearch::Scan).sql(),
            " WHERE source <> $1 AND LOWER(message) LIKE $2 ESCAPE '\\'"
        );
    }

    #[test]
    fn invalid_values_name_their_parameter() {
        let errors = parse(&[
            ("level", "LOUD"),
            ("limit", "0"),
            ("from", "yesterday"),
            ("trace_id", "xyz"),
            ("cursor", "nope"),
            ("colour", "red"),
        ])
        .expect_err("invalid");
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            ["colour", "cursor", "from", "level", "limit", "trace_id"]
        );
        assert!(parse(&[("limit", "1001")]).is_err());
        assert!(
            parse(&[
                ("from", "2024-05-02T00:00:00Z"),
                ("to", "2024-05-01T00:00:00Z")
            ])
            .is_err()
        );
    }

    #[test]
    fn the_cursor_only_applies_to_the_page_query() {
        let c = Cursor {
            time_us: 7,
            id: uuid::Uuid::nil(),
        };
        let f = parse(&[("cursor", &c.encode())]).expect("valid");
        assert_eq!(
            f.where_clause(false, &TextSearch::Scan).sql(),
            " WHERE source <> $1"
        );
        assert_eq!(
            f.where_clause(true, &TextSearch::Scan).sql(),
            " WHERE source <> $1 AND (timestamp < $2 OR (timestamp = $3 AND id < $4))"
        );
    }
}
