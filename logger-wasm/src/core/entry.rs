//! What the application hands the core, and how one entry becomes its wire JSON.
//!
//! A log entry is written in two parts: the *body* (every field except the times and the
//! dedup count) and the *tail* added when the entry leaves the dedup window. Two entries are
//! identical exactly when their bodies are equal, so the body doubles as the dedup key.

use super::encoded::Encoded;
use super::json::{cut_back, write_number, write_str, write_str_limited};
use super::redact::KeyRedactor;
use super::time::write_rfc3339;
use tracewire_shared::Level;

/// Longest message kept, in bytes; longer ones are cut so a batch always fits a beacon.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Longest serialized free-form field (`extra_data`, stack trace, …) kept, in bytes.
pub const MAX_FIELD_BYTES: usize = 4096;

/// One log call as the application made it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogInput<'a> {
    /// Severity.
    pub level: Level,
    /// The message text.
    pub message: String,
    /// Structured fields (`extra_data`), as the entry encoded them.
    pub fields: Option<Encoded<'a>>,
    /// When the call happened (epoch ms), so dedup and timestamps reflect the call, not the send.
    pub at_ms: f64,
    /// Set for the automatic log of an instrumented request.
    pub request: Option<RequestInfo<'a>>,
    /// Span of the request described, so the log joins the backend's entries of that span.
    pub span_id: Option<String>,
}

/// An instrumented fetch/XHR call, logged under its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestInfo<'a> {
    /// HTTP method.
    pub method: String,
    /// Path of the URL (no origin, no query), so logs group by endpoint.
    pub path: String,
    /// Status answered; `None` when the request failed without a response.
    pub status: Option<u16>,
    /// Wall time from send to response, as the entry encoded it: a fraction of a millisecond
    /// arrives printed by the browser, and is copied into the entry as it is.
    pub duration_ms: Encoded<'a>,
}

/// A captured exception (window.onerror, unhandledrejection, captureException).
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionInput<'a> {
    /// e.g. `TypeError`.
    pub exception_type: String,
    /// The error's message.
    pub message: String,
    /// `error.stack` as the engine printed it.
    pub stack: Option<String>,
    /// Application context passed to captureException.
    pub context: Option<Encoded<'a>>,
    /// Where the exception happened (page path).
    pub path: Option<String>,
    /// When it happened (epoch ms).
    pub at_ms: f64,
}

/// A web vital's final value for one page view, as `js/vitals.js` measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VitalInput<'a> {
    /// `LCP`, `INP`, `CLS`, `FCP` or `TTFB`.
    pub name: &'a str,
    /// Milliseconds, or the unitless layout-shift score for `CLS`, as the entry encoded it
    /// (printed by the browser, copied as it is, like a request's duration).
    pub value: Encoded<'a>,
    /// The page load's path.
    pub path: Option<&'a str>,
    /// How the page was reached (`navigate`, `reload`, `back-forward`, `prerender`).
    pub navigation_type: Option<&'a str>,
    /// The trace of the page load, which a later `newTrace()` does not change.
    pub trace_id: Option<&'a str>,
    /// When it was measured (epoch ms).
    pub at_ms: f64,
}

/// Fields every entry of the page shares at the time it is recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp<'a> {
    pub trace_id: &'a str,
    pub user_id: Option<&'a str>,
    /// The page context's members, keys with their (redacted) JSON values.
    pub context: &'a [(String, String)],
}

/// Longest short field (user id, path, method, exception type) kept, in escaped bytes.
pub const MAX_SHORT_BYTES: usize = 512;

fn push_field(out: &mut String, name: &str, value: &str) {
    push_field_limited(out, name, value, MAX_SHORT_BYTES);
}

fn push_field_limited(out: &mut String, name: &str, value: &str, max: usize) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    write_str_limited(out, value, max);
}

/// Writes `,"name":value` with the page context merged under the value's own members (the
/// call's fields win), everything redacted; nothing when both are absent. A value that would
/// exceed [`MAX_FIELD_BYTES`] is kept as a readable prefix in a string instead of broken JSON.
fn push_data(
    out: &mut String,
    name: &str,
    value: Option<Encoded<'_>>,
    context: &[(String, String)],
    redactor: &KeyRedactor,
) {
    if value.is_none() && context.is_empty() {
        return;
    }
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    let start = out.len();
    let mut own = Vec::new();
    let merge = match value {
        Some(v) => {
            // The value's own keys matter only when there is a context to merge.
            let keys = (!context.is_empty()).then_some(&mut own);
            if !v.write_json(out, redactor, keys) {
                cut_back(out, start);
                out.push_str("null");
            }
            v.text.starts_with('o')
        }
        None => {
            out.push_str("{}");
            true
        }
    };
    if merge && !context.is_empty() && out.ends_with('}') {
        out.pop();
        let mut empty = out.ends_with('{');
        for (k, v) in context {
            if !own.contains(&k.as_str()) {
                if !empty {
                    out.push(',');
                }
                empty = false;
                write_str(out, k);
                out.push(':');
                out.push_str(v);
            }
        }
        out.push('}');
    }
    if out.len() - start > MAX_FIELD_BYTES {
        // Not `split_off`: its boundary assertion would link a panic path (see `cut_back`).
        let text = out.get(start..).unwrap_or_default().to_owned();
        cut_back(out, start);
        write_str_limited(out, &text, MAX_FIELD_BYTES);
    }
}

/// The dedup key and first part of a log entry's JSON (starts with `{`, not closed).
pub(crate) fn log_body(input: LogInput<'_>, stamp: Stamp<'_>, redactor: &KeyRedactor) -> String {
    let message = input.message;
    let data = input.fields.map_or(0, |f| f.text.len());
    // Room for the tail too: `close_log` appends it in place.
    let mut out = String::with_capacity(128 + CLOSE_BYTES + message.len() + data);
    out.push_str("{\"level\":\"");
    out.push_str(input.level.as_str());
    out.push('"');
    push_field_limited(&mut out, "message", &message, MAX_MESSAGE_BYTES);
    push_field(&mut out, "trace_id", stamp.trace_id);
    if let Some(span) = &input.span_id {
        push_field(&mut out, "span_id", span);
    }
    if let Some(user) = stamp.user_id {
        push_field(&mut out, "user_id", user);
    }
    if let Some(req) = &input.request {
        push_field(&mut out, "request_method", &req.method);
        push_field(&mut out, "request_path", &req.path);
        if let Some(status) = req.status {
            out.push_str(",\"response_status\":");
            write_number(&mut out, f64::from(status));
        }
        out.push_str(",\"duration_ms\":");
        let start = out.len();
        let d = req.duration_ms;
        if !(d.num().is_some_and(|d| d >= 0.0) && d.write_json(&mut out, redactor, None)) {
            cut_back(&mut out, start);
            out.push('0');
        }
    }
    push_data(
        &mut out,
        "extra_data",
        input.fields,
        stamp.context,
        redactor,
    );
    out
}

/// Most bytes [`close_log`] appends: three timestamps, a count and their names.
const CLOSE_BYTES: usize = 160;

/// The last timestamp formatted during one cut. Entries cut together mostly share their
/// millisecond (a burst of calls), and the first time of each is written twice (and usually its
/// last one too): formatted once, then copied.
pub(crate) struct Stamps {
    /// `ms.trunc()` of the time `text` shows, as bits: equal keys format alike (the formatter
    /// truncates, then clamps), and comparing bits needs none of the clamping here.
    ms: Option<u64>,
    text: String,
}

impl Stamps {
    pub(crate) fn new() -> Self {
        Self {
            ms: None,
            text: String::new(),
        }
    }

    fn write(&mut self, out: &mut String, ms: f64) {
        let whole = Some(ms.trunc().to_bits());
        if whole != self.ms {
            self.text.clear();
            write_rfc3339(&mut self.text, ms);
            self.ms = whole;
        }
        out.push_str(&self.text);
    }
}

/// Closes a log body with its times and count, in place, giving the final entry JSON.
pub(crate) fn close_log(
    mut out: String,
    count: u64,
    first_ms: f64,
    last_ms: f64,
    stamps: &mut Stamps,
) -> String {
    out.reserve(CLOSE_BYTES);
    out.push_str(",\"timestamp\":\"");
    stamps.write(&mut out, first_ms);
    out.push_str("\",\"dedup_count\":");
    write_number(&mut out, count as f64);
    out.push_str(",\"first_seen_at\":\"");
    stamps.write(&mut out, first_ms);
    out.push_str("\",\"last_seen_at\":\"");
    if last_ms == first_ms {
        stamps.write(&mut out, first_ms);
    } else {
        write_rfc3339(&mut out, last_ms);
    }
    out.push_str("\"}");
    out
}

/// The complete JSON of one `metrics` entry for a web vital; `None` for a value that is not a
/// finite, non-negative number (the collector would refuse the whole batch with it).
pub(crate) fn vital_json(input: VitalInput<'_>, redactor: &KeyRedactor) -> Option<String> {
    let finite = input.value.num().is_some_and(|v| v >= 0.0 && v.is_finite());
    if !finite || input.name.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(192);
    out.push_str("{\"metric_type\":\"web_vital\"");
    push_field(&mut out, "metric_name", input.name);
    out.push_str(",\"value\":");
    if !input.value.write_json(&mut out, redactor, None) {
        return None;
    }
    if input.name != "CLS" {
        out.push_str(",\"unit\":\"ms\"");
    }
    out.push_str(",\"timestamp\":\"");
    write_rfc3339(&mut out, input.at_ms);
    out.push('"');
    if let Some(path) = input.path {
        push_field(&mut out, "endpoint", path);
    }
    if let Some(trace) = input.trace_id {
        push_field(&mut out, "trace_id", trace);
    }
    if let Some(nav) = input.navigation_type {
        out.push_str(",\"tags\":{\"navigation_type\":");
        write_str_limited(&mut out, nav, MAX_SHORT_BYTES);
        out.push('}');
    }
    out.push('}');
    Some(out)
}

/// The complete JSON of one exception entry.
pub(crate) fn exception_json(
    input: ExceptionInput<'_>,
    stamp: Stamp<'_>,
    redactor: &KeyRedactor,
) -> String {
    let mut kind = input.exception_type;
    if kind.is_empty() {
        kind.push_str("Error");
    }
    let message = input.message;
    let mut out = String::with_capacity(128 + message.len());
    out.push_str("{\"exception_type\":");
    write_str_limited(&mut out, &kind, MAX_SHORT_BYTES);
    push_field_limited(&mut out, "exception_message", &message, MAX_MESSAGE_BYTES);
    if let Some(stack) = &input.stack {
        push_field_limited(&mut out, "stack_trace", stack, MAX_FIELD_BYTES);
    }
    out.push_str(",\"timestamp\":\"");
    write_rfc3339(&mut out, input.at_ms);
    out.push('"');
    push_field(&mut out, "trace_id", stamp.trace_id);
    if let Some(user) = stamp.user_id {
        push_field(&mut out, "user_id", user);
    }
    if let Some(path) = &input.path {
        push_field(&mut out, "request_path", path);
    }
    push_data(
        &mut out,
        "context_data",
        input.context,
        stamp.context,
        redactor,
    );
    out.push('}');
    out
}
