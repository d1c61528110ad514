//! Pure planning of a retention run: which rows are past their cutoff (per level for logs, the
//! longest retention for exception occurrences and metrics) and what each archive file is named.
//! No I/O here, so the rules are tested without a database or a file system.

use crate::config::{LevelDays, ServeConfig};
use crate::store::RetentionTable;
use tracewire_shared::level::Level;
use uuid::Uuid;

/// Microseconds in a day: retention settings are in days, timestamps in microseconds.
pub const DAY_US: i64 = 86_400 * 1_000_000;

/// Days each level is kept; 0 keeps forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Indexed like [`Level::ALL`].
    days: [u32; 5],
}

/// One set of rows a run walks: the logs of one level, or a whole table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `app_logs` rows of this level.
    Logs(Level),
    /// `exception_events`.
    ExceptionEvents,
    /// `performance_metrics`.
    Metrics,
}

impl Target {
    /// The table the rows live in.
    pub fn table(self) -> RetentionTable {
        match self {
            Target::Logs(_) => RetentionTable::AppLogs,
            Target::ExceptionEvents => RetentionTable::ExceptionEvents,
            Target::Metrics => RetentionTable::PerformanceMetrics,
        }
    }

    /// The log level; `None` for exception occurrences and metrics.
    pub fn level(self) -> Option<Level> {
        match self {
            Target::Logs(level) => Some(level),
            _ => None,
        }
    }
}

impl RetentionPolicy {
    /// `default_days` for every level, then the overrides (a later one for the same level wins).
    pub fn new(default_days: u32, overrides: &[LevelDays]) -> Self {
        let mut days = [default_days; 5];
        for o in overrides {
            if let Some(i) = Level::ALL.iter().position(|l| *l == o.level) {
                days[i] = o.days;
            }
        }
        Self { days }
    }

    /// The policy of the `--retention-*` settings.
    pub fn from_config(config: &ServeConfig) -> Self {
        Self::new(config.retention_days, &config.retention_days_by_level)
    }

    /// Days `level` is kept (0: forever).
    pub fn days(&self, level: Level) -> u32 {
        Level::ALL
            .iter()
            .position(|l| *l == level)
            .map_or(0, |i| self.days[i])
    }

    /// Rows of `level` with a timestamp before this are expired; `None` keeps them forever.
    pub fn cutoff(&self, level: Level, now_us: i64) -> Option<i64> {
        cutoff_us(now_us, self.days(level))
    }

    /// Exception occurrences and metrics are kept as long as the longest-kept level, so a
    /// trace view never loses its exceptions before its logs.
    pub fn others_cutoff(&self, now_us: i64) -> Option<i64> {
        if self.days.contains(&0) {
            return None;
        }
        cutoff_us(now_us, self.days.iter().copied().max().unwrap_or(0))
    }

    /// Everything a run at `now_us` walks, with its cutoff, in order.
    pub fn targets(&self, now_us: i64) -> Vec<(Target, i64)> {
        let mut out: Vec<(Target, i64)> = Level::ALL
            .iter()
            .filter_map(|l| Some((Target::Logs(*l), self.cutoff(*l, now_us)?)))
            .collect();
        if let Some(c) = self.others_cutoff(now_us) {
            out.push((Target::ExceptionEvents, c));
            out.push((Target::Metrics, c));
        }
        out
    }
}

/// `now - days`; `None` for 0 days (keep forever).
pub fn cutoff_us(now_us: i64, days: u32) -> Option<i64> {
    (days > 0).then(|| now_us.saturating_sub(i64::from(days).saturating_mul(DAY_US)))
}

/// The archive file of one batch: table, level, the batch's time range (UTC), the run and the
/// batch number, e.g. `app_logs-DEBUG-20260101T000000Z-20260101T235959Z-<run>-0001.jsonl.gz`.
/// The run id makes names unique even when two runs archive the same time range.
pub fn archive_name(target: Target, first_us: i64, last_us: i64, run: Uuid, seq: u32) -> String {
    let level = target.level().map_or("all", Level::as_str);
    format!(
        "{}-{}-{}-{}-{}-{:04}.jsonl.gz",
        target.table().name(),
        level,
        compact_utc(first_us),
        compact_utc(last_us),
        run.simple(),
        seq
    )
}

/// `20260101T000000Z`, or the raw microseconds when out of the calendar's range.
fn compact_utc(us: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| us.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000;

    #[test]
    fn overrides_replace_the_default_per_level() {
        let p = RetentionPolicy::new(
            30,
            &[
                LevelDays {
                    level: Level::Debug,
                    days: 7,
                },
                LevelDays {
                    level: Level::Error,
                    days: 0,
                },
            ],
        );
        assert_eq!(p.days(Level::Info), 30);
        assert_eq!(p.cutoff(Level::Debug, NOW), Some(NOW - 7 * DAY_US));
        assert_eq!(p.cutoff(Level::Error, NOW), None);
        // ERROR is kept forever, so occurrences and metrics are too.
        assert_eq!(p.others_cutoff(NOW), None);
        let targets = p.targets(NOW);
        assert_eq!(targets.len(), 4);
        assert!(
            !targets
                .iter()
                .any(|(t, _)| *t == Target::Logs(Level::Error))
        );
    }

    #[test]
    fn others_follow_the_longest_retention() {
        let p = RetentionPolicy::new(
            30,
            &[LevelDays {
                level: Level::Critical,
                days: 90,
            }],
        );
        assert_eq!(p.others_cutoff(NOW), Some(NOW - 90 * DAY_US));
        assert_eq!(p.targets(NOW).len(), 7);
    }

    #[test]
    fn archive_names_carry_table_level_range_and_run() {
        let run = Uuid::nil();
        let name = archive_name(Target::Logs(Level::Warning), 0, DAY_US - 1, run, 3);
        assert_eq!(
            name,
            format!(
                "app_logs-WARNING-19700101T000000Z-19700101T235959Z-{}-0003.jsonl.gz",
                run.simple()
            )
        );
        let name = archive_name(Target::Metrics, i64::MAX, i64::MAX, run, 1);
        assert!(name.starts_with("performance_metrics-all-9223372036854775807-"));
    }
}
