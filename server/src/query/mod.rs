//! Query filters: query-string parameters parsed into typed filters, and typed filters turned
//! into SQL text plus bind values. Pure (no database, no HTTP), so every rule is unit-tested
//! here and the store only executes what these produce.
//!
//! - [`logs`]: `LogFilter` for `GET /api/v1/logging/logs`.
//! - [`exceptions`]: `ExceptionFilter` for `GET /api/v1/logging/exceptions`.
//! - [`stats`]: `StatsQuery` for `GET /api/v1/logging/logs/statistics`.
//! - [`tail`]: the id window of the SSE live tail.
//! - [`cursor`]: opaque keyset cursors.
//! - [`count`]: how `total` is counted (per-hour tally plus the partial hours).
//! - [`sql`]: the WHERE clause builder and LIKE escaping.
//! - [`text`]: how `q` uses SQLite's trigram index.

pub mod count;
pub mod cursor;
pub mod exceptions;
pub mod logs;
pub mod sql;
pub mod stats;
pub mod tail;
pub mod text;

use cursor::Cursor;
use std::collections::HashMap;
use tracewire_shared::validate::{FieldError, parse_timestamp_us};

/// Rows per page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// Reads query parameters and collects every problem, so one 422 names all bad parameters.
pub(crate) struct Params<'a> {
    map: &'a HashMap<String, String>,
    /// Every problem found so far; any one makes [`Params::finish`] return them all (one 422).
    pub errors: Vec<FieldError>,
}

impl<'a> Params<'a> {
    /// Wraps the raw map and refuses parameters not in `allowed` (a typo must not silently
    /// widen a query).
    pub fn new(map: &'a HashMap<String, String>, allowed: &[&str]) -> Self {
        let mut errors: Vec<FieldError> = map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| FieldError::new(k.clone(), "unknown parameter"))
            .collect();
        // No stored text holds NUL (ingest replaces it), and PostgreSQL refuses it as a
        // parameter, so it is a client error here rather than a database error later.
        errors.extend(
            map.iter()
                .filter(|(k, v)| allowed.contains(&k.as_str()) && v.contains('\0'))
                .map(|(k, _)| FieldError::new(k.clone(), "must not contain NUL (U+0000)")),
        );
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        Self { map, errors }
    }

    /// The trimmed value; empty values count as absent (HTML forms send them).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.map
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Records a problem with `key`.
    pub fn fail(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(key, message));
    }

    /// An RFC 3339 time in µs.
    pub fn time(&mut self, key: &str) -> Option<i64> {
        let raw = self.get(key)?;
        let parsed = parse_timestamp_us(raw);
        if parsed.is_none() {
            self.fail(
                key,
                "expected an RFC 3339 timestamp, e.g. 2024-05-01T12:00:00Z",
            );
        }
        parsed
    }

    /// `from` and `to`, checked to be in order.
    pub fn range(&mut self) -> (Option<i64>, Option<i64>) {
        let from = self.time("from");
        let to = self.time("to");
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            self.fail("to", "must not be before from");
        }
        (from, to)
    }

    /// `limit` in 1..=MAX_LIMIT.
    pub fn limit(&mut self) -> u32 {
        let Some(raw) = self.get("limit") else {
            return DEFAULT_LIMIT;
        };
        match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                self.fail(
                    "limit",
                    format!("expected an integer from 1 to {MAX_LIMIT}"),
                );
                DEFAULT_LIMIT
            }
        }
    }

    /// `cursor` from a previous page.
    pub fn cursor(&mut self) -> Option<Cursor> {
        let raw = self.get("cursor")?;
        let parsed = Cursor::decode(raw);
        if parsed.is_none() {
            self.fail("cursor", "not a cursor returned by this endpoint");
        }
        parsed
    }

    /// `Ok(value)` when nothing failed, else every problem.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// `(t < $a OR (t = $a AND id < $b))`: rows after `cursor` in (time DESC, id DESC) order.
pub(crate) fn keyset(w: &mut sql::WhereClause, time_column: &str, cursor: &Cursor) {
    use sql::BindValue::{Int, Uuid};
    w.and(
        &format!("({time_column} < ? OR ({time_column} = ? AND id < ?))"),
        vec![Int(cursor.time_us), Int(cursor.time_us), Uuid(cursor.id)],
    );
}
