//! The live tail behind `GET /api/v1/logging/logs/stream`: new rows are found by id. Ids are
//! UUIDv7, so "id greater than the last one sent" rides the primary-key index instead of
//! scanning, and ids generated less than [`TAIL_LAG_MS`] ago are held back until then, so a
//! row whose transaction commits a little after its id was made is not skipped.

use super::logs::LogFilter;
use super::sql::{BindValue, WhereClause};
use super::text::IndexPlan;
use uuid::Uuid;

/// How far behind "now" the tail reads (ms): longer than a writer group takes to commit.
pub const TAIL_LAG_MS: u64 = 2000;
/// Most rows sent per poll.
pub const TAIL_BATCH: u32 = 500;

/// The smallest UUIDv7 of millisecond `ms`: every id generated at or after `ms` sorts above it
/// (byte order, which SQLite BLOBs and PostgreSQL UUIDs both compare by).
pub fn v7_floor(ms: u64) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    Uuid::from_bytes(bytes)
}

/// Rows matching `filter` with `after < id <= upto`, in id order. `q` scans: the id range is
/// narrow, and the whole full-text match would cost more than checking its few rows.
pub fn tail_clause(filter: &LogFilter, after: Uuid, upto: Uuid) -> WhereClause {
    let mut w = filter.where_clause(false, &IndexPlan::SCAN);
    w.and("id > ?", vec![BindValue::Uuid(after)]);
    w.and("id <= ?", vec![BindValue::Uuid(upto)]);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_order_like_generated_ids() {
        let now_ms = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let id = Uuid::now_v7();
        assert!(v7_floor(now_ms - 10) < id);
        assert!(v7_floor(now_ms + 10) > id);
        let w = tail_clause(&LogFilter::default(), v7_floor(1), v7_floor(2));
        assert_eq!(w.sql(), " WHERE source <> $1 AND id > $2 AND id <= $3");
    }
}
