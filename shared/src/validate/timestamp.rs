//! RFC 3339 timestamps as microseconds since the Unix epoch, the unit every table stores.
//!
//! Parsing goes through the `time` crate; formatting is a few lines of calendar arithmetic
//! instead, because it is total over `i64` (nothing to unwrap) and the round-trip tests check
//! one against the other.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;
/// `0000-01-01T00:00:00Z`, the earliest instant RFC 3339 can write.
pub(super) const MIN_US: i64 = -62_167_219_200_000_000;
/// `9999-12-31T23:59:59.999999Z`, the latest instant RFC 3339 can write at µs precision.
pub(super) const MAX_US: i64 = 253_402_300_799_999_999;

/// See [`crate::validate::parse_timestamp_us`].
pub(super) fn parse(s: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let us = parsed.unix_timestamp_nanos().div_euclid(1000);
    i64::try_from(us).ok()
}

/// See [`crate::validate::format_timestamp_us`].
pub(super) fn format(us: i64) -> String {
    let us = us.clamp(MIN_US, MAX_US);
    let days = us.div_euclid(DAY_US);
    let of_day = us.rem_euclid(DAY_US);
    let (year, month, day) = civil_from_days(days);
    let secs = of_day / 1_000_000;
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let micros = of_day % 1_000_000;
    if micros % 1000 == 0 {
        let millis = micros / 1000;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}Z")
    }
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01 in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`), valid for every day `format` can be given.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_are_the_rfc3339_range() {
        assert_eq!(parse("0000-01-01T00:00:00Z"), Some(MIN_US));
        assert_eq!(parse("9999-12-31T23:59:59.999999Z"), Some(MAX_US));
        assert_eq!(format(i64::MIN), "0000-01-01T00:00:00.000Z");
        assert_eq!(format(i64::MAX), "9999-12-31T23:59:59.999999Z");
    }

    #[test]
    fn formats_millis_or_micros() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        let t = parse("2026-11-25T10:00:00.123Z").unwrap();
        assert_eq!(format(t), "2026-11-25T10:00:00.123Z");
        assert_eq!(format(t + 456), "2026-11-25T10:00:00.123456Z");
        assert_eq!(format(-1), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn parses_offsets_and_precisions() {
        let utc = parse("2026-11-25T10:00:00Z").unwrap();
        assert_eq!(parse("2026-11-25T12:00:00+02:00"), Some(utc));
        assert_eq!(parse("2026-11-25T05:30:00-04:30"), Some(utc));
        assert_eq!(parse("2026-11-25t10:00:00z"), Some(utc));
        assert_eq!(parse("2026-11-25T10:00:00.5Z"), Some(utc + 500_000));
        assert_eq!(parse("2026-11-25T10:00:00.123456789Z"), Some(utc + 123_456));
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25 10:00:00",
            "2026-13-01T00:00:00Z",
            "yesterday",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_every_microsecond(us in MIN_US..=MAX_US) {
            let text = format(us);
            prop_assert_eq!(parse(&text), Some(us), "{}", text);
        }

        #[test]
        fn round_trips_near_the_epoch(us in -10 * DAY_US..10 * DAY_US) {
            prop_assert_eq!(parse(&format(us)), Some(us));
        }

        #[test]
        fn agrees_with_the_time_crate(us in MIN_US..=MAX_US) {
            let expected = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            // `time` writes the shortest fraction; compare instants, not spellings.
            prop_assert_eq!(parse(&expected), Some(us));
            prop_assert_eq!(&format(us)[..19], &expected[..19]);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }
    }
}
