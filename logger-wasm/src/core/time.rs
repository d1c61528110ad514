//! RFC 3339 timestamps from epoch milliseconds, without a date library.
//!
//! The `time` crate would cost wasm bytes for one conversion; the civil-from-days algorithm
//! (Howard Hinnant's) is a dozen lines and is checked natively against `time`.

use super::json::write_padded;

/// Appends `ms` (milliseconds since the Unix epoch, UTC) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// Values outside years 0000–9999 are clamped, so the output always has this shape.
pub fn write_rfc3339(out: &mut String, ms: f64) {
    const MIN: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let ms = if ms.is_finite() { ms as i64 } else { 0 }.clamp(MIN, MAX);
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    // Every part is non-negative here (years are clamped to 0000–9999).
    let part = |v: i64| u64::try_from(v).unwrap_or(0);
    let fields = [
        (part(y), 4, "-"),
        (u64::from(m), 2, "-"),
        (u64::from(d), 2, "T"),
        (part(in_day / 3_600_000), 2, ":"),
        (part(in_day / 60_000 % 60), 2, ":"),
        (part(in_day / 1000 % 60), 2, "."),
        (part(in_day % 1000), 3, "Z"),
    ];
    for (v, width, sep) in fields {
        write_padded(out, v, width);
        out.push_str(sep);
    }
}

/// The timestamp as a new string.
pub fn rfc3339(ms: f64) -> String {
    let mut s = String::with_capacity(24);
    write_rfc3339(&mut s, ms);
    s
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_600_800_123.0), "2026-11-25T10:00:00.123Z");
        assert_eq!(rfc3339(f64::NAN), "1970-01-01T00:00:00.000Z");
    }

    proptest! {
        #[test]
        fn agrees_with_the_time_crate(ms in -62_167_219_200_000i64..253_402_300_799_999) {
            let ours = rfc3339(ms as f64);
            let nanos = i128::from(ms) * 1_000_000;
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("in range");
            let parsed = time::OffsetDateTime::parse(
                &ours,
                &time::format_description::well_known::Rfc3339,
            ).expect("parses");
            prop_assert_eq!(parsed, t);
        }
    }
}
