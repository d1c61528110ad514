//! The one time formatter of the UI: every time shown (table, details, trace, exceptions,
//! histogram axis) goes through [`format_us`] with the same [`Zone`], so the list and the
//! details never disagree about the time zone.

use time::{OffsetDateTime, UtcOffset};

/// Where times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC, marked with a `Z`.
    Utc,
    /// The browser's zone at that instant, as minutes east of UTC (DST differs per instant, so
    /// the caller asks the browser for each time; see `Zone::Local`'s use in the app).
    Local(i32),
}

/// How much of a time to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-12-06 23:45:12.345` (tables and details).
    Millis,
    /// `2026-12-06 23:45` (axis labels, first/last seen).
    Minutes,
}

/// Formats µs since the epoch in `zone`; UTC times end in ` Z` so a screenshot says which.
pub fn format_us(us: i64, zone: Zone, precision: Precision) -> String {
    let offset_min = match zone {
        Zone::Utc => 0,
        Zone::Local(m) => m,
    };
    let Ok(offset) = UtcOffset::from_whole_seconds(offset_min.saturating_mul(60)) else {
        return format_us(us, Zone::Utc, precision);
    };
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000) else {
        return "—".to_owned();
    };
    let t = t.to_offset(offset);
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    );
    if precision == Precision::Millis {
        s.push_str(&format!(":{:02}.{:03}", t.second(), t.millisecond()));
    }
    if zone == Zone::Utc {
        s.push_str(" Z");
    }
    s
}

/// Parses an RFC 3339 time from the API into µs (`None` for a malformed one).
pub fn parse_us(s: &str) -> Option<i64> {
    tracewire_shared::validate::parse_timestamp_us(s)
}

/// Formats an API time string, or shows it unchanged when it does not parse.
pub fn format_api(s: &str, zone: Zone, precision: Precision) -> String {
    parse_us(s).map_or_else(|| s.to_owned(), |us| format_us(us, zone, precision))
}

/// The value of an `<input type="datetime-local">` (`YYYY-MM-DDTHH:MM[:SS]`) for `us`.
pub fn to_input(us: i64, zone: Zone) -> String {
    let s = format_us(us, zone, Precision::Millis);
    // "YYYY-MM-DD HH:MM:SS.mmm[ Z]" -> "YYYY-MM-DDTHH:MM:SS"
    s.get(..19).map_or(s.clone(), |p| p.replacen(' ', "T", 1))
}

/// Parses a `datetime-local` value meant in a zone `offset_min` minutes east of UTC.
pub fn from_input(value: &str, offset_min: i32) -> Option<i64> {
    let v = value.trim();
    let with_secs = if v.len() == 16 {
        format!("{v}:00")
    } else {
        v.to_owned()
    };
    let sign = if offset_min < 0 { '-' } else { '+' };
    let abs = offset_min.unsigned_abs();
    let rfc = format!("{with_secs}{sign}{:02}:{:02}", abs / 60, abs % 60);
    parse_us(&rfc)
}

/// A span of milliseconds for people: `850 ms`, `12.4 s`, `3.0 min`, `2.5 h`.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".to_owned();
    }
    let a = ms.abs();
    if a < 1.0 {
        format!("{} ms", fixed(ms, 2))
    } else if a < 1000.0 {
        format!("{} ms", ms.round() as i64)
    } else if a < 60_000.0 {
        format!("{} s", fixed(ms / 1000.0, 1))
    } else if a < 3_600_000.0 {
        format!("{} min", fixed(ms / 60_000.0, 1))
    } else {
        format!("{} h", fixed(ms / 3_600_000.0, 1))
    }
}

/// `x` with `digits` (1 or 2) decimals, by integer arithmetic: float formatting (`{:.1}`)
/// would pull Rust's float printing (~10 KB) into the wasm module for a few labels.
pub fn fixed(x: f64, digits: u32) -> String {
    let scale = 10i64.pow(digits);
    let t = (x * scale as f64).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    let t = t.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        t / scale,
        t % scale,
        width = digits as usize
    )
}

/// SVG coordinates with two decimals.
pub fn fixed2(x: f64) -> String {
    fixed(x, 2)
}

/// A CSS percentage with two decimals.
pub fn percent(x: f64) -> String {
    format!("{}%", fixed(x, 2))
}

/// How long ago `us` was at `now_us`: `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub fn ago(us: i64, now_us: i64) -> String {
    let s = (now_us - us) / 1_000_000;
    match s {
        i64::MIN..=44 => "just now".to_owned(),
        45..=3599 => format!("{} min ago", (s + 30) / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_733_528_712_345_678; // 2024-12-06T23:45:12.345678Z

    #[test]
    fn utc_and_local_agree_on_the_instant() {
        assert_eq!(
            format_us(T, Zone::Utc, Precision::Millis),
            "2024-12-06 23:45:12.345 Z"
        );
        assert_eq!(
            format_us(T, Zone::Local(60), Precision::Millis),
            "2024-12-07 00:45:12.345"
        );
        assert_eq!(
            format_us(T, Zone::Local(-330), Precision::Minutes),
            "2024-12-06 18:15"
        );
    }

    #[test]
    fn api_times_are_parsed_once_and_bad_ones_shown_as_is() {
        assert_eq!(
            format_api("2024-12-06T23:45:12.345678Z", Zone::Utc, Precision::Minutes),
            "2024-12-06 23:45 Z"
        );
        assert_eq!(
            format_api("yesterday", Zone::Utc, Precision::Millis),
            "yesterday"
        );
    }

    #[test]
    fn datetime_inputs_round_trip_in_their_zone() {
        let s = to_input(T, Zone::Local(120));
        assert_eq!(s, "2024-12-07T01:45:12");
        assert_eq!(from_input(&s, 120), Some(T - 345_678));
        assert_eq!(from_input("2024-12-06T23:45", 0), Some(T - 12_345_678));
        assert_eq!(from_input("not a time", 0), None);
    }

    #[test]
    fn durations_and_ages_read_naturally() {
        assert_eq!(format_ms(850.0), "850 ms");
        assert_eq!(format_ms(12_400.0), "12.4 s");
        assert_eq!(format_ms(0.25), "0.25 ms");
        assert_eq!(format_ms(3_600_000.0 * 2.5), "2.5 h");
        assert_eq!(fixed(-0.25, 1), "-0.3");
        assert_eq!(fixed(12.345, 2), "12.35");
        assert_eq!(percent(7.0), "7.00%");
        assert_eq!(ago(T - 10_000_000, T), "just now");
        assert_eq!(ago(T - 300_000_000, T), "5 min ago");
        assert_eq!(ago(T - 7_200_000_000, T), "2 h ago");
    }
}
