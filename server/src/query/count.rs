//! How `total` is counted. An exact `COUNT(*)` grows with the matching rows (130 ms for the
//! unfiltered total at 10 M rows), so when a filter only names source, level and a time range
//! (the dashboard's common case) the whole hours inside the range are read from `log_counts`,
//! a per-hour tally the writer keeps in the same transaction as the rows (and retention
//! decrements in the one that deletes them), and only the partial hours at the ends are
//! counted row by row. The sum is exact, not an estimate.

use super::logs::LogFilter;
use super::sql::{BindValue, WhereClause};

/// Width of a `log_counts` bucket: one hour, in µs.
pub const COUNT_BUCKET_US: i64 = 3_600_000_000;

/// The start of the bucket holding `timestamp_us` (floor, also for times before 1970).
pub fn bucket_of(timestamp_us: i64) -> i64 {
    timestamp_us.div_euclid(COUNT_BUCKET_US) * COUNT_BUCKET_US
}

/// SQL for [`bucket_of`] over a column, the same floor in SQLite and PostgreSQL (both
/// truncate integer division and `%` toward zero).
pub const BUCKET_SQL: &str = "(timestamp - (((timestamp % 3600000000) + 3600000000) % 3600000000))";

/// A `total` split into whole buckets and the rows of the partial ones.
#[derive(Debug, Clone, PartialEq)]
pub struct CountPlan {
    /// `SELECT … SUM(log_rows) FROM log_counts` over the whole buckets (with the filter's
    /// source and level conditions).
    pub buckets: WhereClause,
    /// Filters whose exact `COUNT(*)` is added: the partial buckets at either end.
    pub edges: Vec<LogFilter>,
}

/// The split for `filter`, or `None` when it must be counted row by row: it names a column
/// `log_counts` does not have (trace, user, module, path, text, or excludes one of those
/// columns), or its range holds no whole
/// bucket (then the row count is small anyway).
pub fn count_plan(filter: &LogFilter) -> Option<CountPlan> {
    let f = filter;
    if !f.only_tallied_columns() {
        return None;
    }
    // First whole bucket at or after `from`; last whole bucket ending at or before `to`.
    let first = f.from_us.map(|from| {
        let b = bucket_of(from);
        if b < from {
            b.saturating_add(COUNT_BUCKET_US)
        } else {
            b
        }
    });
    let last = f
        .to_us
        .map(|to| bucket_of(to.saturating_add(1)).saturating_sub(COUNT_BUCKET_US));
    if let (Some(first), Some(last)) = (first, last)
        && first > last
    {
        return None;
    }
    let mut buckets = WhereClause::default();
    f.push_source_and_level(&mut buckets);
    let mut edges = Vec::new();
    let edge = |from_us, to_us| LogFilter {
        from_us: Some(from_us),
        to_us: Some(to_us),
        cursor: None,
        ..filter.clone()
    };
    if let (Some(from), Some(first)) = (f.from_us, first) {
        buckets.and("bucket >= ?", vec![BindValue::Int(first)]);
        if from < first {
            edges.push(edge(from, first - 1));
        }
    }
    if let (Some(to), Some(last)) = (f.to_us, last) {
        buckets.and("bucket <= ?", vec![BindValue::Int(last)]);
        let after_last = last.saturating_add(COUNT_BUCKET_US);
        if after_last <= to {
            edges.push(edge(after_last, to));
        }
    }
    Some(CountPlan { buckets, edges })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewire_shared::level::Level;

    const H: i64 = COUNT_BUCKET_US;

    fn range(from: Option<i64>, to: Option<i64>) -> LogFilter {
        LogFilter {
            from_us: from,
            to_us: to,
            ..LogFilter::default()
        }
    }

    fn edges(p: &CountPlan) -> Vec<(Option<i64>, Option<i64>)> {
        p.edges.iter().map(|e| (e.from_us, e.to_us)).collect()
    }

    #[test]
    fn buckets_floor_before_and_after_1970() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(H - 1), 0);
        assert_eq!(bucket_of(H), H);
        assert_eq!(bucket_of(-1), -H);
        assert_eq!(bucket_of(-H), -H);
    }

    #[test]
    fn whole_hours_come_from_the_tally_and_partial_ones_are_counted() {
        let p = count_plan(&range(Some(10 * H + 5), Some(13 * H + 7))).expect("plan");
        // The collector's own logs stay out of every total unless asked for.
        assert_eq!(
            p.buckets.sql(),
            " WHERE source <> $1 AND bucket >= $2 AND bucket <= $3"
        );
        assert_eq!(
            p.buckets.binds,
            vec![
                BindValue::Text("collector".into()),
                BindValue::Int(11 * H),
                BindValue::Int(12 * H)
            ]
        );
        assert_eq!(
            edges(&p),
            vec![
                (Some(10 * H + 5), Some(11 * H - 1)),
                (Some(13 * H), Some(13 * H + 7))
            ]
        );
    }

    #[test]
    fn aligned_bounds_need_no_edges() {
        // `to` is inclusive: a range ending at 12h - 1 µs holds the 11h bucket whole.
        let p = count_plan(&range(Some(10 * H), Some(12 * H - 1))).expect("plan");
        assert!(p.edges.is_empty());
        assert_eq!(
            p.buckets.binds,
            vec![
                BindValue::Text("collector".into()),
                BindValue::Int(10 * H),
                BindValue::Int(11 * H)
            ]
        );
    }

    #[test]
    fn open_ranges_and_filters_the_tally_lacks() {
        let all = count_plan(&range(None, None)).expect("plan");
        assert_eq!(all.buckets.sql(), " WHERE source <> $1");
        assert!(all.edges.is_empty());
        let upto = count_plan(&range(None, Some(5 * H + 1))).expect("plan");
        assert_eq!(edges(&upto), vec![(Some(5 * H), Some(5 * H + 1))]);
        // Less than one whole hour: counted row by row.
        assert!(count_plan(&range(Some(H + 1), Some(2 * H + 5))).is_none());
        let traced = LogFilter {
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            ..LogFilter::default()
        };
        assert!(count_plan(&traced).is_none());
    }

    #[test]
    fn levels_and_source_filter_the_tally_too() {
        let f = LogFilter {
            levels: vec![Level::Error],
            ..range(Some(0), None)
        };
        let p = count_plan(&f).expect("plan");
        assert_eq!(
            p.buckets.sql(),
            " WHERE source <> $1 AND level IN ($2) AND bucket >= $3"
        );
        assert_eq!(p.edges.len(), 0);
    }
}
