//! The one definition of the call protocol between the JS entry and the core: the kind of each
//! queued call and the slot of each `init()` option (see [`super::calls`] for the arguments of
//! each kind and [`super::encoded`] for the text they travel in).
//!
//! The JS side does not repeat these numbers: `js/protocol.js` is generated from the tables
//! below ([`javascript`]), and the test `protocol_js_is_generated_from_these_tables` fails when
//! the file differs (`UPDATE_PROTOCOL_JS=1 cargo test -p tracewire-logger --lib protocol`
//! rewrites it). A new kind or option is added here, and only here.

/// Defines the call kinds as constants and lists them by name, in one place.
macro_rules! call_kinds {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        /// The kinds of queued calls (the first element of each call array).
        pub mod kind {
            $($(#[$doc])* pub const $name: u8 = $value;)*
        }
        /// Every call kind with its name, for the generated JS module.
        pub const KINDS: &[(&str, u8)] = &[$((stringify!($name), $value),)*];
    };
}

call_kinds! {
    /// `[DEBUG, message, fields, at]`; INFO…CRITICAL likewise: the kind is the level's index
    /// in `Level::ALL`.
    DEBUG = 0,
    /// A log at INFO.
    INFO = 1,
    /// A log at WARNING.
    WARNING = 2,
    /// A log at ERROR.
    ERROR = 3,
    /// A log at CRITICAL.
    CRITICAL = 4,
    /// `[EXCEPTION, type, message, stack, context, at, path]`.
    EXCEPTION = 5,
    /// `[REQUEST, method, path, status, durationMs, spanId, at]`: a fetch/XHR the entry saw.
    REQUEST = 6,
    /// `[TRACE, traceIdHex]`: the page's current trace.
    TRACE = 7,
    /// `[USER, id]` (empty clears it).
    USER = 8,
    /// `[DROPPED, count]`: calls the entry's queue dropped before the core ran.
    DROPPED = 9,
    /// `[ONLINE, online]`: the browser's `online`/`offline` events.
    ONLINE = 10,
    /// `[FLUSH]`: `flush()`.
    FLUSH = 11,
    /// `[ADOPT]`: this tab now drains the shared offline buffer.
    ADOPT = 12,
    /// `[VITAL, name, value, path, navigationType, traceId, at]`: a web vital's final value.
    VITAL = 13,
    /// `[OUTCOME, requestId, status, retryAfterMs]`: what became of a request from `poll`
    /// (status 0 for a network error; `retryAfterMs` the `Retry-After` header, NaN if absent).
    OUTCOME = 14,
}

/// The `init()` options in the order the entry encodes them (`encodeOptions` in
/// `js/encode.js`), by their JS names, except two the entry computes: `url`, the ingest URL
/// with the key (from the `endpoint` and `key` options), and `tab`, the page's storage key
/// suffix chosen by `js/host.js`. [`super::calls::config_from`] reads them by these slots.
pub const OPTIONS: [&str; 13] = [
    "url",
    "batchSize",
    "flushIntervalMs",
    "dedupWindowMs",
    "maxRetries",
    "retryDelayMs",
    "maxBufferedEntries",
    "maxBufferedBytes",
    "sampleRate",
    "minLevel",
    "redactKeys",
    "context",
    "tab",
];

/// The slot of option `name` in [`OPTIONS`]; evaluated at compile time, so a misspelt name
/// fails the build.
pub const fn slot(name: &str) -> usize {
    let mut i = 0;
    while i < OPTIONS.len() {
        if const_eq(OPTIONS[i].as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("not an option in protocol::OPTIONS")
}

const fn const_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The text of `js/protocol.js`.
pub fn javascript() -> String {
    let mut js = String::from(
        "// Generated from logger-wasm/src/core/protocol.rs: do not edit. Regenerate with\n\
         // UPDATE_PROTOCOL_JS=1 cargo test -p tracewire-logger --lib protocol\n\
         \n\
         /** Kinds of queued calls (the first element of each call array). */\n",
    );
    for (name, value) in KINDS {
        js.push_str(&format!("export const {name} = {value};\n"));
    }
    js.push_str(
        "/** The init() options in the order the core reads them. */\nexport const OPTIONS = [",
    );
    for (i, name) in OPTIONS.iter().enumerate() {
        if i > 0 {
            js.push_str(", ");
        }
        js.push_str(&format!("'{name}'"));
    }
    js.push_str("];\n");
    js.push_str(&format!(
        "/** Path of the ingest endpoint on the collector. */\nexport const INGEST_PATH = '{}';\n",
        tracewire_shared::wire::INGEST_PATH
    ));
    js
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn protocol_js_is_generated_from_these_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/protocol.js");
        let want = javascript();
        if std::env::var_os("UPDATE_PROTOCOL_JS").is_some() {
            std::fs::write(path, &want).expect("write js/protocol.js");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "js/protocol.js is not what protocol.rs defines; regenerate it with \
             UPDATE_PROTOCOL_JS=1 cargo test -p tracewire-logger --lib protocol"
        );
    }

    #[test]
    fn kinds_and_options_are_distinct() {
        let mut values: Vec<u8> = KINDS.iter().map(|(_, v)| *v).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), KINDS.len(), "two kinds share a number");
        assert_eq!(slot("tab"), OPTIONS.len() - 1);
        let mut names = OPTIONS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPTIONS.len());
    }
}
