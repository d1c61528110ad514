//! Opaque keyset cursors: the sort key of the last row of a page, hex-encoded so clients treat
//! it as a token. Keyset (not offset) paging stays stable while new rows arrive at the top.

use uuid::Uuid;

/// Position after which the next page starts (ordered by time DESC, id DESC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Sort time of the last row returned (µs).
    pub time_us: i64,
    /// Id of the last row returned; breaks ties between equal times.
    pub id: Uuid,
}

impl Cursor {
    /// The token handed to clients: hex of `time,id`, opaque to them, not signed.
    pub fn encode(&self) -> String {
        format!("{},{}", self.time_us, self.id)
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Parses a token from [`Cursor::encode`]; `None` for anything else.
    pub fn decode(token: &str) -> Option<Self> {
        if !token.len().is_multiple_of(2) || token.len() > 256 {
            return None;
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| {
                token
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()?;
        let text = String::from_utf8(bytes).ok()?;
        let (time, id) = text.split_once(',')?;
        Some(Self {
            time_us: time.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            time_us: 1_700_000_000_123_456,
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::decode("abc"), None);
        assert_eq!(Cursor::decode(""), None);
        assert_eq!(Cursor::decode(&"31".repeat(4)), None);
    }
}
