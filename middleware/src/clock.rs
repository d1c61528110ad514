//! Wall-clock timestamps in the wire format (RFC 3339, UTC, microseconds).

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, formatted as `2026-11-25T10:00:00.123456Z`; `None` only if formatting fails, in which
/// case the collector stamps the entry with its receive time.
pub(crate) fn now_rfc3339() -> Option<String> {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    OffsetDateTime::now_utc().format(&format).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_back_as_rfc3339() {
        let text = super::now_rfc3339().expect("formats");
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339);
        assert!(parsed.is_ok(), "{text}");
    }
}
