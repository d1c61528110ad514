//! W3C Trace Context (`traceparent`) and the seed design's `X-Trace-Id` header.
//!
//! Parsing follows the W3C rules strictly: lowercase hex only, version `ff` is invalid,
//! all-zero trace or span ids are invalid. Future versions (`01`–`fe`) are accepted as long as
//! the first four fields parse, as the specification asks of version-00 parsers.

use std::fmt;
use std::str::FromStr;

/// Header name of W3C trace context.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Header name of the vendor trace state we pass through untouched.
pub const TRACESTATE_HEADER: &str = "tracestate";
/// The seed design's plain trace id header (32 lowercase hex).
pub const X_TRACE_ID_HEADER: &str = "x-trace-id";

/// Why a trace header was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParseError {
    /// Wrong overall shape (field count or lengths).
    #[error("traceparent must be 00-<32 hex>-<16 hex>-<2 hex>")]
    Shape,
    /// A field contains something other than lowercase hex digits.
    #[error("trace context ids must be lowercase hex")]
    NotLowerHex,
    /// Version `ff` is reserved as invalid.
    #[error("traceparent version ff is invalid")]
    InvalidVersion,
    /// All-zero trace-id or span-id.
    #[error("all-zero trace or span id is invalid")]
    AllZero,
}

fn lower_hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], TraceParseError> {
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return Err(TraceParseError::Shape);
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = lower_hex_value(pair[0]).ok_or(TraceParseError::NotLowerHex)?;
        let lo = lower_hex_value(pair[1]).ok_or(TraceParseError::NotLowerHex)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// 128-bit W3C trace-id; never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// Wraps random bytes; `None` for the invalid all-zero id.
    pub fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        (bytes != [0; 16]).then_some(Self(bytes))
    }

    /// The raw bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }
}

impl FromStr for TraceId {
    type Err = TraceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(parse_hex::<16>(s)?).ok_or(TraceParseError::AllZero)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

/// 64-bit W3C span-id (parent-id); never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId([u8; 8]);

impl SpanId {
    /// Wraps random bytes; `None` for the invalid all-zero id.
    pub fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        (bytes != [0; 8]).then_some(Self(bytes))
    }

    /// The raw bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0
    }
}

impl FromStr for SpanId {
    type Err = TraceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(parse_hex::<8>(s)?).ok_or(TraceParseError::AllZero)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// One parsed `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The trace every participant shares.
    pub trace_id: TraceId,
    /// The caller's span (becomes our parent).
    pub span_id: SpanId,
    /// Trace flags; bit 0 is `sampled`.
    pub flags: u8,
}

impl TraceContext {
    /// Flag bit meaning the caller recorded this trace.
    pub const SAMPLED: u8 = 0x01;

    /// A child context: same trace and flags, a new span.
    pub fn child(self, span_id: SpanId) -> Self {
        Self { span_id, ..self }
    }

    /// Parses a `traceparent` header value.
    pub fn parse(header: &str) -> Result<Self, TraceParseError> {
        let header = header.trim();
        let mut parts = header.split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TraceParseError::Shape);
        };
        let [version] = parse_hex::<1>(version)?;
        if version == 0xff {
            return Err(TraceParseError::InvalidVersion);
        }
        // Version 00 has exactly four fields; later versions may append more.
        if version == 0 && parts.next().is_some() {
            return Err(TraceParseError::Shape);
        }
        let [flags] = parse_hex::<1>(flags)?;
        Ok(Self {
            trace_id: trace.parse()?,
            span_id: span.parse()?,
            flags,
        })
    }
}

impl FromStr for TraceContext {
    type Err = TraceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for TraceContext {
    /// Always emits version `00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

/// True when `s` is a valid stored trace id (32 lowercase hex, not all zero).
pub fn is_valid_trace_id(s: &str) -> bool {
    s.parse::<TraceId>().is_ok()
}

/// True when `s` is a valid stored span id (16 lowercase hex, not all zero).
pub fn is_valid_span_id(s: &str) -> bool {
    s.parse::<SpanId>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_spec_example() {
        let h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = TraceContext::parse(h).unwrap();
        assert_eq!(ctx.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.span_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(ctx.flags, 1);
        assert_eq!(ctx.to_string(), h);
    }

    #[test]
    fn rejects_invalid_forms() {
        let bad = [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ];
        for h in bad {
            assert!(TraceContext::parse(h).is_err(), "{h:?} should be rejected");
        }
    }

    #[test]
    fn future_versions_may_append_fields() {
        let h = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-brings";
        assert!(TraceContext::parse(h).is_ok());
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(trace in any::<[u8; 16]>(), span in any::<[u8; 8]>(), flags in any::<u8>()) {
            let trace_ok = TraceId::from_bytes(trace);
            let span_ok = SpanId::from_bytes(span);
            prop_assume!(trace_ok.is_some() && span_ok.is_some());
            let ctx = TraceContext { trace_id: trace_ok.unwrap(), span_id: span_ok.unwrap(), flags };
            let text = ctx.to_string();
            prop_assert_eq!(text.len(), 55);
            prop_assert_eq!(TraceContext::parse(&text), Ok(ctx));
        }

        #[test]
        fn parser_never_panics(s in ".{0,80}") {
            let _ = TraceContext::parse(&s);
        }
    }
}
