//! `StatsQuery`: counts of logs per time bucket, level and source, under the same filters as
//! the logs list. Bucketing is integer arithmetic on the µs timestamps, so the SQL is the same
//! on both backends.

use super::logs::{LOG_PARAMS, LogFilter, PAGE_PARAMS};
use super::sql::WhereClause;
use super::text::IndexPlan;
use tracewire_shared::validate::FieldError;

/// The window when `from` is absent: the last 24 hours.
pub const DEFAULT_WINDOW_US: i64 = 24 * 3600 * 1_000_000;
/// Most buckets one request may span, so a tiny bucket over a long range cannot explode.
pub const MAX_BUCKETS: i64 = 10_000;

/// `GET /api/v1/logging/logs/statistics` parsed: the list's filters without paging, and a
/// bucket width.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    /// The log filters, with `from`/`to` always set.
    pub filter: LogFilter,
    /// Bucket width in µs, from `bucket` (default 1 h); at most [`MAX_BUCKETS`] span the range.
    pub bucket_us: i64,
}

fn bucket_us(raw: &str) -> Option<i64> {
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = digits.parse().ok().filter(|n| *n > 0)?;
    let unit_s = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit_s)?.checked_mul(1_000_000)
}

impl StatsQuery {
    /// Parses the log filters plus `bucket` (`30s`, `5m`, `1h`, `1d`; default `1h`); `from`
    /// defaults to 24 hours before `to`, `to` to `now_us`.
    pub fn parse(pairs: &[(String, String)], now_us: i64) -> Result<Self, Vec<FieldError>> {
        let allowed: Vec<&str> = LOG_PARAMS
            .iter()
            .copied()
            .filter(|p| !PAGE_PARAMS.contains(p))
            .chain(["bucket"])
            .collect();
        let mut filter = LogFilter::parse_pairs(pairs, &allowed)?;
        let raw = pairs
            .iter()
            .rev()
            .find(|(k, _)| k == "bucket")
            .map(|(_, b)| b.trim())
            .map(|b| b.trim())
            .filter(|b| !b.is_empty());
        let bucket = match raw {
            None => 3600 * 1_000_000,
            Some(raw) => bucket_us(raw).ok_or_else(|| {
                vec![FieldError::new(
                    "bucket",
                    "expected a width like 30s, 5m, 1h or 1d",
                )]
            })?,
        };
        let to = filter.to_us.unwrap_or(now_us);
        let from = filter.from_us.unwrap_or(to - DEFAULT_WINDOW_US);
        if (to - from) / bucket > MAX_BUCKETS {
            return Err(vec![FieldError::new(
                "bucket",
                format!("the range spans more than {MAX_BUCKETS} buckets; widen the bucket"),
            )]);
        }
        (filter.from_us, filter.to_us) = (Some(from), Some(to));
        Ok(Self {
            filter,
            bucket_us: bucket,
        })
    }

    /// The grouped count query and its WHERE clause. The bucket width is ours (a number), not
    /// user text.
    pub fn sql(&self, search: &IndexPlan) -> (String, WhereClause) {
        let w = self.filter.where_clause(false, search);
        let b = self.bucket_us;
        let sql = format!(
            "SELECT (timestamp / {b}) * {b} AS bucket, level, source, COUNT(*) AS log_rows, \
             CAST(SUM(dedup_count) AS BIGINT) AS events FROM app_logs{} \
             GROUP BY (timestamp / {b}) * {b}, level, source ORDER BY bucket, level, source",
            w.sql()
        );
        (sql, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn buckets_parse_and_default_to_an_hour_over_a_day() {
        let q =
            StatsQuery::parse(&map(&[("level", "error")]), 100 * DEFAULT_WINDOW_US).expect("valid");
        assert_eq!(q.bucket_us, 3_600_000_000);
        assert_eq!(q.filter.from_us, Some(99 * DEFAULT_WINDOW_US));
        let (sql, w) = q.sql(&IndexPlan::SCAN);
        assert!(
            sql.contains("(timestamp / 3600000000) * 3600000000"),
            "{sql}"
        );
        assert_eq!(w.binds.len(), 4);
        assert_eq!(bucket_us("5m"), Some(300_000_000));
        assert_eq!(bucket_us("0h"), None);
        assert_eq!(bucket_us("1w"), None);
    }

    #[test]
    fn bad_buckets_and_paging_parameters_are_refused() {
        let now = 100 * DEFAULT_WINDOW_US;
        let err = StatsQuery::parse(
            &map(&[("bucket", "1s"), ("from", "1970-01-01T00:00:00Z")]),
            now,
        )
        .expect_err("too many buckets");
        assert_eq!(err[0].path, "bucket");
        let err = StatsQuery::parse(&map(&[("limit", "5")]), now).expect_err("no paging");
        assert_eq!(err[0].path, "limit");
    }
}
