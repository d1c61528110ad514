//! Export formats of `POST /api/v1/logging/logs/export`: JSON lines, CSV (RFC 4180, with
//! spreadsheet formula injection neutralized) and plain text. Pure formatting of one row at a
//! time, so an export of any size is written page by page in bounded memory.

use crate::store::LogRow;
use serde::Serialize;
use serde_json::Value;
use tracewire_shared::validate::format_timestamp_us;

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line (`application/x-ndjson`).
    JsonLines,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// `timestamp [LEVEL] source module: message` lines.
    Text,
}

/// CSV columns, in order.
const CSV_COLUMNS: [&str; 17] = [
    "id",
    "timestamp",
    "level",
    "source",
    "message",
    "module",
    "function",
    "trace_id",
    "span_id",
    "user_id",
    "request_method",
    "request_path",
    "response_status",
    "duration_ms",
    "dedup_count",
    "request_data",
    "extra_data",
];

impl ExportFormat {
    /// Parses `json`, `csv` or `txt`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" | "jsonl" | "ndjson" => Some(Self::JsonLines),
            "csv" => Some(Self::Csv),
            "txt" | "text" => Some(Self::Text),
            _ => None,
        }
    }

    /// Content-Type of the response.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::JsonLines => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    /// File extension for Content-Disposition.
    pub fn extension(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            Self::Csv => "csv",
            Self::Text => "txt",
        }
    }

    /// What precedes the first row (the CSV header).
    pub fn header(self) -> String {
        match self {
            Self::Csv => format!("{}\r\n", CSV_COLUMNS.join(",")),
            _ => String::new(),
        }
    }

    /// One row, terminated. `json` renders the row as the API does.
    pub fn row<T: Serialize>(self, r: &LogRow, json: impl FnOnce(&LogRow) -> T) -> String {
        match self {
            // The API's row types hold only strings, numbers and JSON values: they always
            // serialize, so the empty fallback is never written.
            Self::JsonLines => {
                serde_json::to_string(&json(r)).map_or_else(|_| String::new(), |l| l + "\n")
            }
            Self::Text => format!(
                "{} [{}] {} {}: {}\n",
                format_timestamp_us(r.timestamp),
                text_field(&r.level),
                text_field(&r.source),
                text_field(r.module.as_deref().unwrap_or("-")),
                text_field(&r.message)
            ),
            Self::Csv => {
                let opt = |v: &Option<String>| v.clone().unwrap_or_default();
                let json_text =
                    |v: &Option<sqlx::types::Json<Value>>| v.as_ref().map(|j| j.0.to_string());
                let cells = [
                    r.id.to_string(),
                    format_timestamp_us(r.timestamp),
                    r.level.to_string(),
                    r.source.to_string(),
                    r.message.clone(),
                    opt(&r.module),
                    opt(&r.function),
                    opt(&r.trace_id),
                    opt(&r.span_id),
                    opt(&r.user_id),
                    opt(&r.request_method),
                    opt(&r.request_path),
                    r.response_status.map(|s| s.to_string()).unwrap_or_default(),
                    r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
                    r.dedup_count.to_string(),
                    json_text(&r.request_data).unwrap_or_default(),
                    json_text(&r.extra_data).unwrap_or_default(),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                format!("{}\r\n", line.join(","))
            }
        }
    }
}

/// One field of a TXT line: every control character, and the Unicode line and paragraph
/// separators, is written as an escape (`\n`, `\u{2028}`), so no stored value can end a line
/// early and forge the next one.
pub fn text_field(value: &str) -> std::borrow::Cow<'_, str> {
    let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !value.contains(breaks) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if breaks(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One CSV cell: a leading `= + - @` (or tab/CR) gets a `'` so spreadsheets show it as text
/// instead of running it as a formula; quotes, commas and line breaks are quoted per RFC 4180.
pub fn csv_cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralized() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn text_fields_cannot_break_lines() {
        assert_eq!(text_field("plain é"), "plain é");
        assert_eq!(
            text_field("a\n2026-01-01T00:00:00Z [ERROR] forged"),
            "a\\n2026-01-01T00:00:00Z [ERROR] forged"
        );
        assert_eq!(
            text_field("x\r\u{2028}\u{85}\u{0}"),
            "x\\r\\u{2028}\\u{85}\\u{0}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_value_stays_on_one_line(value in "\\PC*|[\n\r\u{85}\u{2028}a]{0,8}") {
            let field = text_field(&value);
            proptest::prop_assert_eq!(field.lines().count(), usize::from(!field.is_empty()));
            let breaks = ['\u{85}', '\u{2028}', '\u{2029}', '\r', '\n'];
            proptest::prop_assert!(!field.contains(breaks), "{:?}", field);
        }
    }

    #[test]
    fn formats_parse() {
        assert_eq!(ExportFormat::parse("CSV"), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse("json"), Some(ExportFormat::JsonLines));
        assert_eq!(ExportFormat::parse("xml"), None);
    }
}
