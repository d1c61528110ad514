//! Trace context of one page: the current trace (per page load, renewable by the app) and a
//! fresh span for every outgoing request (ARCHITECTURE.md §3).

use super::storage::Random;
use tracewire_shared::{SpanId, TraceId};

/// The page's current trace.
#[derive(Debug, Clone)]
pub(crate) struct TraceState {
    trace_id: TraceId,
    /// Cached hex form: every entry carries it.
    hex: String,
}

fn random_trace(rng: &mut dyn Random) -> TraceId {
    loop {
        let mut b = [0u8; 16];
        rng.fill(&mut b);
        // All-zero is invalid; with a working source this loop runs once.
        if let Some(id) = TraceId::from_bytes(b) {
            return id;
        }
    }
}

fn random_span(rng: &mut dyn Random) -> SpanId {
    loop {
        let mut b = [0u8; 8];
        rng.fill(&mut b);
        if let Some(id) = SpanId::from_bytes(b) {
            return id;
        }
    }
}

impl TraceState {
    /// A new random trace.
    pub fn new(rng: &mut dyn Random) -> Self {
        let trace_id = random_trace(rng);
        let mut hex = String::with_capacity(32);
        push_hex(&mut hex, &trace_id.to_bytes());
        Self { hex, trace_id }
    }

    /// Replaces the current trace with a new random one.
    pub fn renew(&mut self, rng: &mut dyn Random) {
        *self = Self::new(rng);
    }

    /// Adopts a trace id given as 32 lowercase hex; false (and no change) when invalid.
    pub fn set(&mut self, hex: &str) -> bool {
        match hex.parse::<TraceId>() {
            Ok(trace_id) => {
                self.trace_id = trace_id;
                self.hex = hex.to_owned();
                true
            }
            Err(_) => false,
        }
    }

    /// The current trace id as stored in entries.
    pub fn trace_id_str(&self) -> &str {
        &self.hex
    }

    /// `(traceparent, x-trace-id)` for one outgoing request, with a fresh span, sampled.
    pub fn headers(&self, rng: &mut dyn Random) -> (String, String) {
        let mut tp = String::with_capacity(55);
        tp.push_str("00-");
        tp.push_str(&self.hex);
        tp.push('-');
        push_hex(&mut tp, &random_span(rng).to_bytes());
        tp.push_str("-01");
        (tp, self.hex.clone())
    }
}

/// Appends `bytes` as lowercase hex. By hand: `{:02x}` (what `TraceId`'s `Display` uses) links
/// `core::fmt`'s padding machinery into the module.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// A random UUID (version 4) for batch ids, from the injected source instead of the uuid crate.
pub(crate) fn uuid_v4(rng: &mut dyn Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        push_hex(&mut s, &[*byte]);
    }
    s
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::storage::XorShift;
    use tracewire_shared::TraceContext;

    #[test]
    fn headers_share_the_trace_and_vary_the_span() {
        let mut rng = XorShift::new(7);
        let t = TraceState::new(&mut rng);
        let (a, xa) = t.headers(&mut rng);
        let (b, _) = t.headers(&mut rng);
        let (ca, cb) = (
            TraceContext::parse(&a).unwrap(),
            TraceContext::parse(&b).unwrap(),
        );
        assert_eq!(ca.trace_id, cb.trace_id);
        assert_ne!(ca.span_id, cb.span_id);
        assert_eq!(xa, t.trace_id_str());
        assert_eq!(ca.trace_id.to_string(), xa);
        assert_eq!(ca.flags, TraceContext::SAMPLED);
    }

    #[test]
    fn renew_and_set() {
        let mut rng = XorShift::new(9);
        let mut t = TraceState::new(&mut rng);
        let before = t.trace_id_str().to_owned();
        t.renew(&mut rng);
        assert_ne!(before, t.trace_id_str());
        assert!(!t.set("00000000000000000000000000000000"));
        assert!(!t.set("ABC"));
        assert!(t.set(&before));
        assert_eq!(before, t.trace_id_str());
    }

    #[test]
    fn uuids_have_version_and_variant() {
        let mut rng = XorShift::new(3);
        let u = uuid_v4(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
