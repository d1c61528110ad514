//! `LogFilter`: the filters of `GET /api/v1/logging/logs` (ARCHITECTURE.md §6), all combined
//! with AND.

use super::cursor::Cursor;
use super::sql::{BindValue, WhereClause, escape_like};
use super::text::{IndexPlan, TextSearch};
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
    "order",
    "not.source",
    "not.level",
    "not.module",
    "not.function",
    "not.user_id",
    "not.trace_id",
    "not.path",
    "not.request_method",
    "not.response_status",
];

/// The parameters that only shape a page (not which rows match): left out where no page is
/// returned (statistics, live tail, export).
pub const PAGE_PARAMS: &[&str] = &["limit", "cursor", "order"];

/// Which way a page walks through time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest first (`order=desc`, the default): the explorer's pages.
    #[default]
    Desc,
    /// Oldest first (`order=asc`): the logs just after a given moment.
    Asc,
}

/// A negative filter (`not.<field>=value`, repeatable): rows whose field has this value are
/// left out. Rows without the field stay: "not user X" keeps the logs that name no user.
#[derive(Debug, Clone, PartialEq)]
pub enum Exclude {
    /// `not.source`.
    Source(Source),
    /// `not.level`.
    Level(Level),
    /// `not.module`, `not.function`, `not.user_id`, `not.trace_id`, `not.request_method`:
    /// exact, on the named (nullable) column.
    Column {
        /// The column (one of ours, never user text).
        column: &'static str,
        /// The value left out; rows where the column is NULL are kept.
        value: String,
    },
    /// `not.path`: exact, or a prefix with a trailing `*`.
    Path(PathMatch),
    /// `not.response_status`.
    Status(i64),
}

/// The nullable text columns a `not.` parameter may name, by parameter and column.
const EXCLUDE_COLUMNS: &[(&str, &str)] = &[
    ("not.module", "module"),
    ("not.function", "function"),
    ("not.user_id", "user_id"),
    ("not.trace_id", "trace_id"),
    ("not.request_method", "request_method"),
];

/// How `path` matches `request_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The whole path, compared exactly (no wildcard, no normalisation).
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
    /// `limit`: 1..=[`super::MAX_LIMIT`] rows, default [`super::DEFAULT_LIMIT`]; export walks
    /// with the maximum.
    pub limit: u32,
    /// `cursor`: the (timestamp, id) of the last row of the previous page; `None` for the first.
    pub cursor: Option<Cursor>,
    /// `order`: which way pages walk.
    pub order: Order,
    /// `not.<field>`: values left out, all combined with AND.
    pub excludes: Vec<Exclude>,
}

impl LogFilter {
    /// Parses the query string; every invalid parameter is reported by name.
    pub fn parse(map: &HashMap<String, String>) -> Result<Self, Vec<FieldError>> {
        Self::parse_allowing(map, LOG_PARAMS)
    }

    /// Parses a query string given as its pairs in order: a repeated `not.<field>` leaves out
    /// every value it names; for other parameters the last one counts.
    pub fn parse_pairs(
        pairs: &[(String, String)],
        allowed: &[&str],
    ) -> Result<Self, Vec<FieldError>> {
        let map: HashMap<String, String> = pairs.iter().cloned().collect();
        Self::parse_with(&map, pairs, allowed)
    }

    /// Like [`LogFilter::parse`] for endpoints that accept a different parameter set (the
    /// statistics endpoint adds `bucket` and has no paging).
    pub fn parse_allowing(
        map: &HashMap<String, String>,
        allowed: &[&str],
    ) -> Result<Self, Vec<FieldError>> {
        Self::parse_with(map, &[], allowed)
    }

    /// The parser: `map` holds one value per parameter, `pairs` (when given) every value of the
    /// repeatable `not.` parameters.
    fn parse_with(
        map: &HashMap<String, String>,
        pairs: &[(String, String)],
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
        match p.get("order") {
            None | Some("desc") => {}
            Some("asc") => f.order = Order::Asc,
            Some(_) => p.fail("order", "expected asc or desc"),
        }
        f.excludes = parse_excludes(&mut p, pairs);
        p.finish(f)
    }

    /// The WHERE clause; with `paged` the cursor condition is included (the page query), without
    /// it not (the `total` count). `plan` says how the backend's own structures narrow
    /// `trace_id`, `user_id` and `q` first (see [`super::text`]); the shared rechecks follow
    /// them, so the rows are the same either way.
    pub fn where_clause(&self, paged: bool, plan: &IndexPlan) -> WhereClause {
        use BindValue::{Int, Text};
        let mut w = WhereClause::default();
        self.push_source_and_level(&mut w);
        for (column, value, lookup) in [
            ("trace_id", &self.trace_id, plan.lookups.trace),
            ("user_id", &self.user_id, plan.lookups.user),
            ("module", &self.module, None),
        ] {
            if let Some(v) = value {
                if let Some(narrow) = lookup {
                    w.and(narrow, plan.lookups.binds(v));
                }
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
        for e in &self.excludes {
            match e {
                Exclude::Column { column, value } => w.and(
                    &format!("({column} IS NULL OR {column} <> ?)"),
                    vec![Text(value.clone())],
                ),
                Exclude::Path(PathMatch::Exact(p)) => w.and(
                    "(request_path IS NULL OR request_path <> ?)",
                    vec![Text(p.clone())],
                ),
                Exclude::Path(PathMatch::Prefix(p)) if !p.is_empty() => w.and(
                    &format!(
                        "(request_path IS NULL OR substr(request_path, 1, {}) <> ?)",
                        p.chars().count()
                    ),
                    vec![Text(p.clone())],
                ),
                Exclude::Path(PathMatch::Prefix(_)) => w.and("request_path IS NULL", vec![]),
                Exclude::Status(s) => w.and(
                    "(response_status IS NULL OR response_status <> ?)",
                    vec![Int(*s)],
                ),
                // In `push_source_and_level`.
                Exclude::Source(_) | Exclude::Level(_) => {}
            }
        }
        if let Some(q) = &self.q {
            let lower = q.to_lowercase();
            if let TextSearch::Candidates {
                condition,
                ids,
                tail_after,
            } = &plan.text
            {
                w.and(condition, vec![Text(ids.clone()), Int(*tail_after)]);
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
            match self.order {
                Order::Desc => keyset(&mut w, "timestamp", c),
                Order::Asc => keyset_asc(&mut w, "timestamp", c),
            }
        }
        w
    }

    /// `ORDER BY …` of a page in this filter's order (id breaks ties, as in the cursor).
    pub fn order_by(&self) -> &'static str {
        match self.order {
            Order::Desc => " ORDER BY timestamp DESC, id DESC",
            Order::Asc => " ORDER BY timestamp ASC, id ASC",
        }
    }

    /// Whether only columns of the `log_counts` tally (source, level, time) are filtered.
    pub fn only_tallied_columns(&self) -> bool {
        self.trace_id.is_none()
            && self.user_id.is_none()
            && self.module.is_none()
            && self.path.is_none()
            && self.q.is_none()
            && self
                .excludes
                .iter()
                .all(|e| matches!(e, Exclude::Source(_) | Exclude::Level(_)))
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
        for e in &self.excludes {
            match e {
                Exclude::Source(s) => w.and("source <> ?", vec![Text(s.as_str().into())]),
                Exclude::Level(l) => w.and("level <> ?", vec![Text(l.as_str().into())]),
                _ => {}
            }
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
            "order": match self.order { Order::Desc => "desc", Order::Asc => "asc" },
            "not": self.excludes.iter().map(Exclude::describe).collect::<Vec<_>>(),
        })
    }
}

impl Exclude {
    /// `field=value` for the audit row.
    fn describe(&self) -> String {
        match self {
            Exclude::Source(s) => format!("source={}", s.as_str()),
            Exclude::Level(l) => format!("level={}", l.as_str()),
            Exclude::Column { column, value } => format!("{column}={value}"),
            Exclude::Path(PathMatch::Exact(p)) => format!("path={p}"),
            Exclude::Path(PathMatch::Prefix(p)) => format!("path={p}*"),
            Exclude::Status(s) => format!("response_status={s}"),
        }
    }
}

/// Every value of every `not.` parameter: from `pairs` when the query came as pairs (so a
/// parameter may repeat), else the one value in the map. Invalid values are named.
fn parse_excludes(p: &mut Params<'_>, pairs: &[(String, String)]) -> Vec<Exclude> {
    let mut values: Vec<(String, String)> = if pairs.is_empty() {
        let mut v: Vec<(String, String)> = LOG_PARAMS
            .iter()
            .filter(|k| k.starts_with("not."))
            .filter_map(|k| p.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
            .collect();
        v.sort();
        v
    } else {
        pairs
            .iter()
            .filter(|(k, _)| k.starts_with("not.") && LOG_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.trim().to_owned()))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    };
    values.dedup();
    let mut out: Vec<Exclude> = Vec::new();
    for (key, raw) in values {
        if raw.contains('\0') {
            if !p.errors.iter().any(|e| e.path == key) {
                p.fail(&key, "must not contain NUL (U+0000)");
            }
            continue;
        }
        let parsed = match key.as_str() {
            "not.source" => raw
                .parse::<Source>()
                .map(Exclude::Source)
                .map_err(|e| e.to_string()),
            "not.level" => raw
                .parse::<Level>()
                .map(Exclude::Level)
                .map_err(|e| e.to_string()),
            "not.path" => Ok(Exclude::Path(match raw.strip_suffix('*') {
                Some(prefix) => PathMatch::Prefix(prefix.to_owned()),
                None => PathMatch::Exact(raw.clone()),
            })),
            "not.response_status" => raw
                .parse::<i64>()
                .ok()
                .filter(|s| (100..=999).contains(s))
                .map(Exclude::Status)
                .ok_or_else(|| "expected an HTTP status from 100 to 999".to_owned()),
            "not.trace_id" => {
                let lower = raw.to_ascii_lowercase();
                if is_valid_trace_id(&lower) {
                    Ok(Exclude::Column {
                        column: "trace_id",
                        value: lower,
                    })
                } else {
                    Err("expected 32 hex digits, not all zero".to_owned())
                }
            }
            other => match EXCLUDE_COLUMNS.iter().find(|(k, _)| *k == other) {
                Some((_, column)) => Ok(Exclude::Column { column, value: raw }),
                None => continue,
            },
        };
        match parsed {
            Ok(e) if !out.contains(&e) => out.push(e),
            Ok(_) => {}
            Err(message) => p.fail(&key, message),
        }
    }
    out
}

/// `(t > $a OR (t = $a AND id > $b))`: rows after `cursor` in (time ASC, id ASC) order.
fn keyset_asc(w: &mut WhereClause, time_column: &str, cursor: &Cursor) {
    use BindValue::{Int, Uuid};
    w.and(
        &format!("({time_column} > ? OR ({time_column} = ? AND id > ?))"),
        vec![Int(cursor.time_us), Int(cursor.time_us), Uuid(cursor.id)],
    );
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
        let w = f.where_clause(true, &IndexPlan::SCAN);
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
        let search = IndexPlan {
            text: TextSearch::Candidates {
                condition: "rowid IN (SELECT value FROM json_each(?) UNION ALL SELECT ?)",
                ids: "[7,3]".into(),
                tail_after: 12,
            },
            ..IndexPlan::SCAN
        };
        let w = f.where_clause(false, &search);
        assert_eq!(
            w.sql(),
            " WHERE source <> $1 AND rowid IN (SELECT value FROM json_each($2) UNION ALL SELECT $3) \
             AND LOWER(message) LIKE $4 ESCAPE '\\'"
        );
        assert_eq!(w.binds[1], BindValue::Text("[7,3]".into()));
        assert_eq!(w.binds[2], BindValue::Int(12));
        assert_eq!(w.binds[3], BindValue::Text("%time\"out%".into()));
        assert_eq!(
            f.where_clause(false, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1 AND LOWER(message) LIKE $2 ESCAPE '\\'"
        );
    }

    #[test]
    fn backend_lookups_narrow_before_the_equality_recheck() {
        let f = parse(&[
            ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("user_id", "u1"),
        ])
        .expect("valid");
        let plan = IndexPlan {
            lookups: super::super::text::Lookups {
                trace: Some("seq IN (t(?) UNION ALL tail(?))"),
                user: Some("seq IN (u(?) UNION ALL tail(?))"),
                tail_after: None,
            },
            ..IndexPlan::SCAN
        };
        let w = f.where_clause(false, &plan);
        assert_eq!(
            w.sql(),
            " WHERE source <> $1 AND seq IN (t($2) UNION ALL tail($3)) AND trace_id = $4 \
             AND seq IN (u($5) UNION ALL tail($6)) AND user_id = $7"
        );
        let trace = BindValue::Text("4bf92f3577b34da6a3ce929d0e0e4736".into());
        assert_eq!(w.binds[1..4], [trace.clone(), trace.clone(), trace]);
        assert_eq!(
            f.where_clause(false, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1 AND trace_id = $2 AND user_id = $3"
        );
        // A bound watermark goes between the two values.
        let bound = IndexPlan {
            lookups: super::super::text::Lookups {
                trace: Some("seq IN (t(?) UNION ALL tail(?, ?))"),
                user: None,
                tail_after: Some(41),
            },
            ..IndexPlan::SCAN
        };
        let w = f.where_clause(false, &bound);
        assert_eq!(
            w.sql(),
            " WHERE source <> $1 AND seq IN (t($2) UNION ALL tail($3, $4)) AND trace_id = $5 \
             AND user_id = $6"
        );
        let trace = BindValue::Text("4bf92f3577b34da6a3ce929d0e0e4736".into());
        assert_eq!(w.binds[1..4], [trace.clone(), BindValue::Int(41), trace]);
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
            f.where_clause(false, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1"
        );
        assert_eq!(
            f.where_clause(true, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1 AND (timestamp < $2 OR (timestamp = $3 AND id < $4))"
        );
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn negative_filters_repeat_and_keep_rows_without_the_field() {
        let f = LogFilter::parse_pairs(
            &pairs(&[
                ("not.user_id", "u1"),
                ("not.user_id", "u2"),
                ("not.level", "DEBUG"),
                ("not.path", "/api/*"),
                ("not.response_status", "404"),
                ("not.source", "frontend"),
            ]),
            LOG_PARAMS,
        )
        .expect("valid");
        assert_eq!(f.excludes.len(), 6);
        assert_eq!(
            f.where_clause(false, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1 AND level <> $2 AND source <> $3 \
             AND (user_id IS NULL OR user_id <> $4) AND (user_id IS NULL OR user_id <> $5) \
             AND (request_path IS NULL OR substr(request_path, 1, 5) <> $6) \
             AND (response_status IS NULL OR response_status <> $7)"
        );
        assert!(!f.only_tallied_columns());
        let tallied =
            LogFilter::parse_pairs(&pairs(&[("not.level", "info")]), LOG_PARAMS).expect("valid");
        assert!(tallied.only_tallied_columns());
    }

    #[test]
    fn bad_negative_filters_and_orders_are_named() {
        let errors = LogFilter::parse_pairs(
            &pairs(&[
                ("not.level", "LOUD"),
                ("not.response_status", "abc"),
                ("not.trace_id", "xyz"),
                ("not.colour", "red"),
                ("order", "sideways"),
            ]),
            LOG_PARAMS,
        )
        .expect_err("invalid");
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "not.colour",
                "not.level",
                "not.response_status",
                "not.trace_id",
                "order"
            ]
        );
    }

    #[test]
    fn ascending_pages_walk_forward_from_the_cursor() {
        let c = Cursor {
            time_us: 7,
            id: uuid::Uuid::nil(),
        };
        let f = LogFilter::parse_pairs(
            &pairs(&[("order", "asc"), ("cursor", &c.encode())]),
            LOG_PARAMS,
        )
        .expect("valid");
        assert_eq!(f.order, Order::Asc);
        assert_eq!(f.order_by(), " ORDER BY timestamp ASC, id ASC");
        assert_eq!(
            f.where_clause(true, &IndexPlan::SCAN).sql(),
            " WHERE source <> $1 AND (timestamp > $2 OR (timestamp = $3 AND id > $4))"
        );
    }
}
