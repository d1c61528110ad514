//! Identity of logs and exceptions: the key under which identical logs collapse (seed property 3)
//! and the fingerprint that groups exceptions across occurrences, as Sentry does.
//!
//! Stack parsing lives in `frames`, message masking in `mask`. Fingerprints are stored and
//! compared across releases and machines, so they are computed with a hash written out here
//! (FNV-1a 128) rather than std's `DefaultHasher`, whose output may change between releases.

mod frames;
mod mask;
#[cfg(test)]
mod tests;

use crate::Level;
use crate::validate::{Source, ValidLog};

/// The fields that make two logs "identical" for dedup (ARCHITECTURE.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    /// Frontend or backend.
    pub source: Source,
    /// Level.
    pub level: Level,
    /// Message text.
    pub message: String,
    /// Module.
    pub module: Option<String>,
    /// Function.
    pub function: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
}

impl DedupKey {
    /// The key of a validated log.
    pub fn of(source: Source, log: &ValidLog) -> Self {
        Self {
            source,
            level: log.level,
            message: log.message.clone(),
            module: log.module.clone(),
            function: log.function.clone(),
            trace_id: log.trace_id.clone(),
            user_id: log.user_id.clone(),
        }
    }
}

/// How many in-app frames take part in a fingerprint: enough to tell call sites apart, few
/// enough that a refactoring far up the stack does not split a group.
pub const FINGERPRINT_FRAMES: usize = 5;

/// Stable 32-hex fingerprint grouping exceptions: type + normalized top in-app stack frames, or
/// type + message with numbers and ids masked when there is no usable stack.
pub fn exception_fingerprint(
    exception_type: &str,
    message: &str,
    stack_trace: Option<&str>,
) -> String {
    let exception_type = exception_type.trim();
    let frames = stack_trace.map_or_else(Vec::new, |stack| {
        frames::in_app_frames(stack, FINGERPRINT_FRAMES)
    });
    let mut hasher = Fnv1a128::new();
    // Separators that text does not contain keep `("ab", "c")` and `("a", "bc")` apart, and the
    // two kinds of input apart from each other.
    if frames.is_empty() {
        hasher.write(b"tracewire-fp-v1-message\x1f");
        hasher.write(exception_type.as_bytes());
        hasher.write(b"\x1e");
        hasher.write(mask::mask_message(message).as_bytes());
    } else {
        hasher.write(b"tracewire-fp-v1-stack\x1f");
        hasher.write(exception_type.as_bytes());
        for frame in &frames {
            hasher.write(b"\x1e");
            hasher.write(frame.as_bytes());
        }
    }
    format!("{:032x}", hasher.finish())
}

/// FNV-1a with 128-bit state (http://www.isthe.com/chongo/tech/comp/fnv/): simple, stable
/// forever, and wide enough that distinct groups do not collide in practice. Not for secrets.
#[derive(Debug, Clone, Copy)]
struct Fnv1a128(u128);

impl Fnv1a128 {
    /// The 128-bit offset basis.
    const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    /// The 128-bit FNV prime, 2^88 + 2^8 + 0x3b.
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Self {
        Self(Self::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u128::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(self) -> u128 {
        self.0
    }
}
