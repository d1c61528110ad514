//! How `q` (a case-insensitive substring of the message) uses SQLite's FTS5 trigram index.
//!
//! The index keeps no positions (`detail=none`), so it answers "rows holding all of these
//! trigrams", a superset of the rows holding the term, and the `LIKE` recheck decides. Which
//! trigrams to ask for matters most: FTS5 walks every posting list of an AND, so one trigram
//! found in every row (`"ord"` of "order") costs as much as a scan, while the rarest trigrams of
//! a term narrow it to a handful of rows. So the store plans with probes:
//!
//! 1. each trigram's oldest [`PROBE_LIMIT`] postings are read (FTS5 streams posting lists in
//!    ascending rowid order; descending it loads them whole): fewer is an exact count, a full
//!    read tells the trigram's density from how far it reached ([`estimate`]);
//!    [`index_query`] ANDs the [`MAX_AND`] rarest;
//! 2. that query's first [`CANDIDATE_LIMIT`] rows are read: fewer (a rare term) become the
//!    candidate list the page and the count recheck ([`TextSearch::Candidates`]); more mean the
//!    term is common, and the query scans as it would without the index (the page walks
//!    newest-first and fills within a few hundred rows; a count reads in order what the index
//!    would make it read at random).
//!
//! The index covers the rows the index follower has reached (`seq <= indexed_through`); the
//! candidates therefore come with that watermark, read in the same snapshot, and the rows above
//! it are scanned (see [`TextSearch::Candidates`]).
//!
//! PostgreSQL's pg_trgm index serves the `LIKE` itself; there only the choice of which word of
//! a term to look up is planned ([`rarest_piece`]).

/// Postings read per trigram when probing its rarity.
pub const PROBE_LIMIT: i64 = 1_000;
/// Candidates up to which a term goes through the index instead of a scan.
pub const CANDIDATE_LIMIT: i64 = 5_000;
/// Trigrams probed per term (spread over it, first and last included).
pub const MAX_PROBED: usize = 16;
/// Most trigrams ANDed in the index query, the rarest probed: FTS5 walks each one's whole
/// posting list.
pub const MAX_AND: usize = 3;

/// What probing one trigram found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Three characters of the lowercased term, as FTS5's trigram tokenizer indexes them.
    pub trigram: String,
    /// Postings read (at most [`PROBE_LIMIT`]).
    pub postings: i64,
    /// The newest row id among them; `None` when the trigram is in no row.
    pub newest: Option<i64>,
}

/// The estimated number of rows holding a probe's trigram, when `app_logs` rows have ids
/// `first..=last`: exact below the probe limit, else extrapolated from the span it covered.
pub fn estimate(p: &Probe, first: i64, last: i64) -> f64 {
    match p.newest {
        Some(newest) if p.postings >= PROBE_LIMIT => {
            let covered = (newest - first + 1).max(1) as f64;
            p.postings as f64 * ((last - first + 1).max(1) as f64 / covered)
        }
        _ => p.postings as f64,
    }
}

/// How the `q` condition is written. Every mode gives the same rows (the `LIKE` decides).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TextSearch {
    /// `LOWER(message) LIKE …` alone.
    #[default]
    Scan,
    /// Also `condition` with `ids` and `tail_after` bound to its two placeholders: the rows the
    /// index found for a rare term, and every row the index did not cover yet. The backend
    /// supplies the condition (SQLite: `rowid IN (… json_each(?) UNION ALL … seq > ?)`), so the
    /// shared filter builder stays free of engine-specific SQL.
    Candidates {
        /// A condition with two `?`: true for the rows listed in `ids` and for every row above
        /// `tail_after`.
        condition: &'static str,
        /// The candidate row ids, as the backend's condition reads them.
        ids: String,
        /// The highest row id the index covered when the candidates were read.
        tail_after: i64,
    },
}

/// Conditions that narrow `trace_id` and `user_id` through a backend's own lookup structures,
/// each with a `?` for the value in the indexed part and in the not-yet-indexed tail, and,
/// with `tail_after`, one for the tail's bound between them; `None` where the column's index on
/// `app_logs` serves the shared equality itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lookups {
    /// For `trace_id`.
    pub trace: Option<&'static str>,
    /// For `user_id`.
    pub user: Option<&'static str>,
    /// The follower's watermark read before the query, bound as the tail's lower bound so the
    /// planner sees how short the tail is; `None` where the condition reads it itself.
    pub tail_after: Option<i64>,
}

impl Lookups {
    /// Nothing to add: the shared equality is served by an index.
    pub const NONE: Self = Self {
        trace: None,
        user: None,
        tail_after: None,
    };

    /// The values for one of the conditions, looking up `value`.
    pub fn binds(&self, value: &str) -> Vec<super::sql::BindValue> {
        use super::sql::BindValue::{Int, Text};
        match self.tail_after {
            Some(after) => vec![Text(value.to_owned()), Int(after), Text(value.to_owned())],
            None => vec![Text(value.to_owned()), Text(value.to_owned())],
        }
    }
}

/// Everything a backend adds to a log filter's shared SQL. The shared rechecks (equality,
/// `LIKE`) stay in the WHERE clause whatever this says, so it only changes which rows are
/// looked at, never which rows match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexPlan {
    /// How `q` is narrowed.
    pub text: TextSearch,
    /// How `trace_id` and `user_id` are narrowed.
    pub lookups: Lookups,
}

impl IndexPlan {
    /// Scans only: what a query over the newest rows (the live tail) or a test uses.
    pub const SCAN: Self = Self {
        text: TextSearch::Scan,
        lookups: Lookups::NONE,
    };
}

/// The distinct trigrams of `lower` to probe: at most [`MAX_PROBED`], evenly spread; none below
/// three characters.
pub fn trigrams(lower: &str) -> Vec<String> {
    let chars: Vec<char> = lower.chars().collect();
    let windows: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    let n = windows.len();
    let picks = n.min(MAX_PROBED);
    let mut out: Vec<String> = Vec::with_capacity(picks);
    for i in 0..picks {
        let at = if picks == 1 {
            0
        } else {
            i * (n - 1) / (picks - 1)
        };
        if !out.contains(&windows[at]) {
            out.push(windows[at].clone());
        }
    }
    out
}

/// One trigram as an FTS5 string: inside quotes only `"` is special, and it is doubled.
pub fn quoted(trigram: &str) -> String {
    format!("\"{}\"", trigram.replace('"', "\"\""))
}

/// The index query: the [`MAX_AND`] rarest trigrams by [`estimate`], or `None` without
/// trigrams. `first..=last` are the ids `app_logs` holds.
pub fn index_query(probes: &[Probe], first: i64, last: i64) -> Option<String> {
    let mut by_rarity: Vec<(f64, &Probe)> = probes
        .iter()
        .map(|p| (estimate(p, first, last), p))
        .collect();
    by_rarity.sort_by(|a, b| a.0.total_cmp(&b.0));
    let tokens: Vec<String> = by_rarity
        .iter()
        .take(MAX_AND)
        .map(|(_, p)| quoted(&p.trigram))
        .collect();
    (!tokens.is_empty()).then(|| tokens.join(" AND "))
}

/// The parts of a lowercased term a PostgreSQL trigram lookup can use on their own: runs of
/// letters and digits of three characters or more (pg_trgm breaks words at anything else). At
/// most [`MAX_PROBED`], the longest, as each costs the planner a round trip; the whole term is
/// rechecked on the rows found, so which word narrows only changes the speed.
pub fn pieces(lower: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for piece in lower.split(|c: char| !c.is_alphanumeric()) {
        if piece.chars().count() >= 3 && !out.contains(&piece) {
            out.push(piece);
        }
    }
    if out.len() > MAX_PROBED {
        out.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        out.truncate(MAX_PROBED);
    }
    out
}

/// Which piece of a term to look up when the term has several: pg_trgm reads the whole posting
/// list of every trigram of a pattern, so one word found in every row ("order" of
/// "order 12345") costs as much as a scan, while the rarest word alone narrows to a few rows
/// (the full term is rechecked on those). Given each piece with the rows the planner expects
/// it in, the rarest (the longest on a tie, as more trigrams narrow more); `None` when there
/// is only one piece, or none is expected in at most `rare_rows` rows.
pub fn rarest_piece<'a>(estimates: &[(&'a str, f64)], rare_rows: f64) -> Option<&'a str> {
    if estimates.len() < 2 {
        return None;
    }
    estimates
        .iter()
        .filter(|(_, rows)| *rows <= rare_rows)
        .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.len().cmp(&a.0.len())))
        .map(|(piece, _)| *piece)
}

/// How `q` is written for the page and its count, given the index query's candidates (read up
/// to [`CANDIDATE_LIMIT`]) and the highest row id the index covered when they were read.
pub fn plan(candidates: &[i64], condition: &'static str, indexed_through: i64) -> TextSearch {
    if (candidates.len() as i64) < CANDIDATE_LIMIT {
        let ids: Vec<String> = candidates.iter().map(i64::to_string).collect();
        TextSearch::Candidates {
            condition,
            ids: format!("[{}]", ids.join(",")),
            tail_after: indexed_through,
        }
    } else {
        TextSearch::Scan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(trigram: &str, postings: i64, newest: i64) -> Probe {
        Probe {
            trigram: trigram.into(),
            postings,
            newest: Some(newest),
        }
    }

    #[test]
    fn trigrams_are_distinct_and_spread() {
        assert!(trigrams("ab").is_empty());
        assert_eq!(trigrams("50%"), ["50%"]);
        assert_eq!(trigrams("aaaa"), ["aaa"]);
        let long: String = "x".repeat(10).chars().chain('a'..='z').collect();
        let t = trigrams(&long);
        assert!(t.len() <= MAX_PROBED);
        assert_eq!(t.first().map(String::as_str), Some("xxx"));
        assert_eq!(t.last().map(String::as_str), Some("xyz"));
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quoted(r#"a"b"#), r#""a""b""#);
        assert_eq!(quoted("*^:"), r#""*^:""#);
    }

    #[test]
    fn capped_probes_extrapolate_from_the_span_they_covered() {
        // 1,000 postings within the oldest 1,000 of 1,000,000 rows: in every row.
        let everywhere = probe("ord", PROBE_LIMIT, 1_000);
        assert_eq!(estimate(&everywhere, 1, 1_000_000), 1_000_000.0);
        // 1,000 postings spread over the oldest 100,000 rows: about 10,000 in all.
        let sparse = probe("123", PROBE_LIMIT, 100_000);
        assert_eq!(estimate(&sparse, 1, 1_000_000), 10_000.0);
        // Below the limit the count is exact, however old.
        assert_eq!(estimate(&probe("345", 7, 3), 1, 1_000_000), 7.0);
    }

    #[test]
    fn the_rarest_trigrams_form_the_query() {
        let probes = [
            probe("ord", PROBE_LIMIT, 1_000),
            probe("r 1", PROBE_LIMIT, 10_000),
            probe("123", PROBE_LIMIT, 100_000),
            probe("234", 40, 999_000),
            probe("der", PROBE_LIMIT, 1_000),
        ];
        let q = index_query(&probes, 1, 1_000_000);
        assert_eq!(q.as_deref(), Some(r#""234" AND "123" AND "r 1""#));
        assert_eq!(index_query(&[], 1, 1), None);
    }

    #[test]
    fn pieces_are_the_words_a_trigram_lookup_can_use() {
        assert_eq!(pieces("order 12345"), ["order", "12345"]);
        assert_eq!(
            pieces("gateway/timeout: 504 ms"),
            ["gateway", "timeout", "504"]
        );
        assert_eq!(pieces("a b-cd"), Vec::<&str>::new());
        assert_eq!(pieces("zürich zürich"), ["zürich"]);
        // A long term: a bounded number of planner round trips, the longest words kept.
        let words: Vec<String> = (0..40).map(|i| format!("w{i:02}")).collect();
        let long = format!("{} needle4242", words.join(" "));
        let kept = pieces(&long);
        assert_eq!(kept.len(), MAX_PROBED);
        assert_eq!(kept[0], "needle4242");
    }

    #[test]
    fn the_rarest_piece_is_probed() {
        let est = [
            ("order", 1_000_000.0),
            ("12345", 1_000.0),
            ("handled", 900_000.0),
        ];
        assert_eq!(rarest_piece(&est, 20_000.0), Some("12345"));
        // A tie goes to the longer piece.
        let tie = [("504", 1_000.0), ("timeout", 1_000.0)];
        assert_eq!(rarest_piece(&tie, 20_000.0), Some("timeout"));
        // Nothing rare enough, or nothing to choose from: the whole term is looked up.
        assert_eq!(rarest_piece(&est, 500.0), None);
        assert_eq!(rarest_piece(&[("order", 1.0)], 20_000.0), None);
    }

    #[test]
    fn few_candidates_go_through_the_index_many_scan() {
        let candidates = |ids: &str| TextSearch::Candidates {
            condition: "c(?, ?)",
            ids: ids.into(),
            tail_after: 12,
        };
        assert_eq!(plan(&[9, 4, 1], "c(?, ?)", 12), candidates("[9,4,1]"));
        assert_eq!(plan(&[], "c(?, ?)", 12), candidates("[]"));
        let common: Vec<i64> = (0..CANDIDATE_LIMIT).collect();
        assert_eq!(plan(&common, "c(?, ?)", 12), TextSearch::Scan);
    }
}
