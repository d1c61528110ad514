//! The log explorer's whole view state ([`LogQuery`]: filters, time range, wrap, columns, time
//! zone) and its two spellings: the page URL's query string (so a view can be bookmarked,
//! shared and restored by the back button) and the collector's query parameters. Pure, so the
//! round trip is property-tested natively.

use tracewire_shared::Level;

/// Time range presets offered in the range picker, as (URL spelling, label, seconds).
pub const PRESETS: &[(&str, &str, i64)] = &[
    ("15m", "Last 15 minutes", 15 * 60),
    ("1h", "Last hour", 3600),
    ("4h", "Last 4 hours", 4 * 3600),
    ("24h", "Last 24 hours", 86_400),
    ("7d", "Last 7 days", 7 * 86_400),
    ("30d", "Last 30 days", 30 * 86_400),
];

/// The preset used when the URL names none: recent enough to be fast on a big database.
pub const DEFAULT_PRESET: &str = "24h";

/// Which slice of time the explorer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeRange {
    /// A preset relative to now (one of [`PRESETS`], by URL spelling); re-evaluated on every
    /// load, so a bookmarked "last hour" stays the last hour.
    Preset(String),
    /// Fixed bounds in µs since the epoch (a custom range or a zoom on the histogram).
    Absolute {
        /// Inclusive start.
        from_us: i64,
        /// Inclusive end.
        to_us: i64,
    },
}

impl TimeRange {
    /// The bounds in µs at `now_us`.
    pub fn bounds(&self, now_us: i64) -> (i64, i64) {
        match self {
            TimeRange::Preset(key) => {
                let secs = PRESETS
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map_or(86_400, |p| p.2);
                (now_us - secs * 1_000_000, now_us)
            }
            TimeRange::Absolute { from_us, to_us } => (*from_us, *to_us),
        }
    }
}

/// Optional table columns beyond level, time, source and message.
pub const COLUMNS: &[(&str, &str)] = &[
    ("module", "Module"),
    ("path", "Path"),
    ("user", "User"),
    ("trace", "Trace"),
    ("status", "Status"),
    ("duration", "Duration"),
];

/// Fields the explorer can filter on with equality (the API's filters), by URL key and
/// collector parameter. `path` takes a trailing `*` for a prefix match.
pub const FIELD_FILTERS: &[(&str, &str)] = &[
    ("source", "source"),
    ("module", "module"),
    ("path", "path"),
    ("user", "user_id"),
    ("trace", "trace_id"),
];

/// Fields "filter out" can leave out, as (URL key after `not.`, collector parameter, label).
/// The collector applies them (`not.<field>`), so they hold across every page, the total, the
/// histogram, the live tail and exports; a log without the field is never left out.
pub const EXCLUDE_FIELDS: &[(&str, &str, &str)] = &[
    ("level", "not.level", "level"),
    ("source", "not.source", "source"),
    ("module", "not.module", "module"),
    ("function", "not.function", "function"),
    ("path", "not.path", "path"),
    ("user", "not.user_id", "user_id"),
    ("trace", "not.trace_id", "trace_id"),
    ("method", "not.request_method", "request_method"),
    ("status", "not.response_status", "response_status"),
];

/// The chip text of an exclusion: `NOT user_id = u1`.
pub fn exclude_label(key: &str, value: &str) -> String {
    let label = EXCLUDE_FIELDS
        .iter()
        .find(|f| f.0 == key)
        .map_or(key, |f| f.2);
    format!("NOT {label} = {value}")
}

/// One view of the log explorer; every field is in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Levels shown; empty means all.
    pub levels: Vec<Level>,
    /// Equality filters by URL key (see [`FIELD_FILTERS`]), in that order.
    pub fields: Vec<(String, String)>,
    /// Values left out ("filter out"), as (URL key of [`EXCLUDE_FIELDS`], value); in the URL
    /// as `not.<key>=value`, repeatable.
    pub excludes: Vec<(String, String)>,
    /// Full-text search.
    pub q: String,
    /// The time range.
    pub range: TimeRange,
    /// Long messages wrap instead of being cut at the column edge.
    pub wrap: bool,
    /// Times in UTC instead of the browser's zone.
    pub utc: bool,
    /// Optional columns shown, by key of [`COLUMNS`], in that order.
    pub columns: Vec<String>,
}

impl Default for LogQuery {
    fn default() -> Self {
        Self {
            levels: Vec::new(),
            fields: Vec::new(),
            excludes: Vec::new(),
            q: String::new(),
            range: TimeRange::Preset(DEFAULT_PRESET.to_owned()),
            wrap: false,
            utc: false,
            columns: Vec::new(),
        }
    }
}

impl LogQuery {
    /// Reads the view from URL query pairs (already percent-decoded); unknown keys and invalid
    /// values are ignored, so a hand-edited or old URL still opens.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = LogQuery::default();
        let (mut from, mut to) = (None, None);
        for (key, value) in pairs {
            match key {
                "level" => {
                    for part in value.split(',') {
                        if let Ok(l) = part.parse::<Level>()
                            && !q.levels.contains(&l)
                        {
                            q.levels.push(l);
                        }
                    }
                }
                "q" => q.q = value.to_owned(),
                "range" if PRESETS.iter().any(|p| p.0 == value) => {
                    q.range = TimeRange::Preset(value.to_owned())
                }
                "from" => from = tracewire_shared::validate::parse_timestamp_us(value),
                "to" => to = tracewire_shared::validate::parse_timestamp_us(value),
                "wrap" => q.wrap = value == "1",
                "tz" => q.utc = value == "utc",
                "cols" => {
                    for c in value.split(',') {
                        if COLUMNS.iter().any(|k| k.0 == c) && !q.columns.iter().any(|x| x == c) {
                            q.columns.push(c.to_owned());
                        }
                    }
                }
                _ => {
                    if let Some(field) = key.strip_prefix("not.") {
                        if EXCLUDE_FIELDS.iter().any(|f| f.0 == field) {
                            q.excludes.push((field.to_owned(), value.to_owned()));
                        }
                    } else if FIELD_FILTERS.iter().any(|f| f.0 == key) && !value.is_empty() {
                        q.set_field(key, value);
                    }
                }
            }
        }
        if let (Some(from_us), Some(to_us)) = (from, to)
            && from_us <= to_us
        {
            q.range = TimeRange::Absolute { from_us, to_us };
        }
        q
    }

    /// The view as URL query pairs, in a fixed order; defaults are left out so URLs stay short.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.levels.is_empty() {
            let names: Vec<&str> = self.levels.iter().map(|l| l.as_str()).collect();
            out.push(("level".to_owned(), names.join(",")));
        }
        for (k, v) in &self.fields {
            out.push((k.clone(), v.clone()));
        }
        for (k, v) in &self.excludes {
            out.push((format!("not.{k}"), v.clone()));
        }
        if !self.q.is_empty() {
            out.push(("q".to_owned(), self.q.clone()));
        }
        match &self.range {
            TimeRange::Preset(p) if p == DEFAULT_PRESET => {}
            TimeRange::Preset(p) => out.push(("range".to_owned(), p.clone())),
            TimeRange::Absolute { from_us, to_us } => {
                out.push(("from".to_owned(), fmt_us(*from_us)));
                out.push(("to".to_owned(), fmt_us(*to_us)));
            }
        }
        if self.wrap {
            out.push(("wrap".to_owned(), "1".to_owned()));
        }
        if self.utc {
            out.push(("tz".to_owned(), "utc".to_owned()));
        }
        if !self.columns.is_empty() {
            out.push(("cols".to_owned(), self.columns.join(",")));
        }
        out
    }

    /// The view as a percent-encoded query string (without `?`).
    pub fn to_query_string(&self) -> String {
        encode_pairs(&self.to_pairs())
    }

    /// The collector's filter parameters for this view at `now_us` (no `limit`/`cursor`).
    pub fn api_params(&self, now_us: i64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.levels.is_empty() {
            let names: Vec<&str> = self.levels.iter().map(|l| l.as_str()).collect();
            out.push(("level".to_owned(), names.join(",")));
        }
        for (k, v) in &self.fields {
            if let Some((_, param)) = FIELD_FILTERS.iter().find(|f| f.0 == k) {
                out.push(((*param).to_owned(), v.clone()));
            }
        }
        for (k, v) in &self.excludes {
            if let Some((_, param, _)) = EXCLUDE_FIELDS.iter().find(|f| f.0 == k)
                && !v.trim().is_empty()
            {
                out.push(((*param).to_owned(), v.clone()));
            }
        }
        if !self.q.trim().is_empty() {
            out.push(("q".to_owned(), self.q.trim().to_owned()));
        }
        let (from, to) = self.range.bounds(now_us);
        out.push(("from".to_owned(), fmt_us(from)));
        out.push(("to".to_owned(), fmt_us(to)));
        out
    }

    /// The value of an equality filter.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or with an empty value, removes) an equality filter, keeping [`FIELD_FILTERS`]'
    /// order so equal views have equal URLs.
    pub fn set_field(&mut self, key: &str, value: &str) {
        self.fields.retain(|(k, _)| k != key);
        if !value.is_empty() {
            self.fields.push((key.to_owned(), value.to_owned()));
        }
        self.fields.sort_by_key(|(k, _)| {
            FIELD_FILTERS
                .iter()
                .position(|f| f.0 == k)
                .unwrap_or(usize::MAX)
        });
    }

    /// "Filter for": show only rows whose `key` is `value`.
    pub fn filter_for(&mut self, key: &str, value: &str) {
        if key == "level" {
            if let Ok(l) = value.parse::<Level>() {
                self.levels = vec![l];
                self.remove_exclude(key, value);
            }
            return;
        }
        if FIELD_FILTERS.iter().any(|f| f.0 == key) {
            self.remove_exclude(key, value);
            self.set_field(key, value);
        }
    }

    /// "Filter out": leave out rows whose `key` (of [`EXCLUDE_FIELDS`]) is `value`, on the
    /// server. An equality filter on the same value is dropped (it would match nothing).
    pub fn filter_out(&mut self, key: &str, value: &str) {
        if key == "level" {
            self.levels.retain(|l| l.as_str() != value);
        } else if self.field(key) == Some(value) {
            self.set_field(key, "");
        }
        if !self.excludes.iter().any(|(k, v)| k == key && v == value) {
            self.excludes.push((key.to_owned(), value.to_owned()));
        }
    }

    /// Removes one exclusion (its chip's ✕).
    pub fn remove_exclude(&mut self, key: &str, value: &str) {
        self.excludes.retain(|(k, v)| !(k == key && v == value));
    }
}

/// The export request's `filters` for the collector parameters `params`: one string each,
/// except the repeatable `not.<field>` filters, which become lists.
pub fn export_filters(
    params: Vec<(String, String)>,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in params {
        if k.starts_with("not.") {
            let entry = out.entry(k).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(v));
            }
        } else {
            out.insert(k, Value::String(v));
        }
    }
    out
}

/// The exceptions list's collector parameters for a status tab (`unresolved`, `regressed`,
/// `resolved`, `all`) and a sort (`last`, `first`, `count`) as the tracker's URL spells them;
/// unknown values fall back to the collector's defaults (every status, last seen first).
pub fn exception_list_params(status: &str, sort: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if matches!(status, "unresolved" | "regressed" | "resolved") {
        out.push(("status".to_owned(), status.to_owned()));
    }
    let sort = match sort {
        "first" => "first_seen",
        "count" => "count",
        _ => "last_seen",
    };
    out.push(("sort".to_owned(), sort.to_owned()));
    out
}

/// The context list around `anchor`, oldest first: the `n` rows just before it and the `n`
/// just after it in the collector's (time, id) order, from a newest-first page ending at the
/// anchor's time and an oldest-first page (`order=asc`) starting there. Rows at the anchor's
/// very time are in both pages; the sort key puts each on its side, once.
pub fn merge_context<T: ContextRow>(anchor: T, before: Vec<T>, after: Vec<T>, n: usize) -> Vec<T> {
    let at = anchor.key();
    let mut rows: Vec<T> = before.into_iter().chain(after).collect();
    rows.sort_by_key(ContextRow::key);
    rows.dedup_by_key(|r| r.key());
    let split = rows.partition_point(|r| r.key() < at);
    let mut later = rows.split_off(split);
    later.retain(|r| r.key() != at);
    later.truncate(n);
    let mut list = rows.split_off(rows.len().saturating_sub(n));
    list.push(anchor);
    list.extend(later);
    list
}

/// A row's place in the collector's order, for [`merge_context`] (a trait so the merge is
/// testable without whole logs).
pub trait ContextRow {
    /// (time in µs, id as lower-case text): ids are UUIDs, whose text sorts like their bytes.
    fn key(&self) -> (i64, String);
}

impl ContextRow for tracewire_shared::api::LogView {
    fn key(&self) -> (i64, String) {
        (
            tracewire_shared::validate::parse_timestamp_us(&self.timestamp).unwrap_or(0),
            self.id.to_string(),
        )
    }
}

fn fmt_us(us: i64) -> String {
    tracewire_shared::validate::format_timestamp_us(us)
}

/// Percent-encodes query pairs (`application/x-www-form-urlencoded`, space as `%20` so the
/// same string is a valid URL query and a readable one).
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986) and `,` `:` `*` `/`, which
/// are safe in a query value and keep level lists, times and paths readable.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b':'
            | b'*'
            | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes a query string (`a=b&c=d`, `+` as space) into pairs; bad escapes stay as written.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
