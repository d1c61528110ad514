//! Identity of logs and exceptions: the key under which identical logs collapse (seed property 3)
//! and the fingerprint that groups exceptions across occurrences, as Sentry does.

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

/// Stable 32-hex fingerprint grouping exceptions: type + normalized top in-app stack frames, or
/// type + message with numbers and ids masked when there is no usable stack.
pub fn exception_fingerprint(
    exception_type: &str,
    message: &str,
    stack_trace: Option<&str>,
) -> String {
    let _ = (exception_type, message, stack_trace);
    todo!("implemented in the shared-crate work")
}
