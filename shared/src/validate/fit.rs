//! Shortening entries a producer built itself, so they always pass the collector's length
//! limits. Validation refuses an over-long field and, batches being atomic, the whole batch with
//! it; a backend that logs a request with a 2 KB path must not lose every other log it ships
//! alongside. Producers (the middleware, the collector's own request logs) cut before queueing.

use super::Limits;
use crate::wire::{ExceptionEntry, LogEntry, MetricEntry};

/// Appended to a field that was shortened.
pub const CUT_MARKER: &str = "…";

/// Cuts `text` to at most `max` bytes at a character boundary, ending in [`CUT_MARKER`].
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(CUT_MARKER.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARKER);
}

fn cut_opt(text: &mut Option<String>, max: usize) {
    if let Some(text) = text {
        cut(text, max);
    }
}

/// Shortens every length-limited text field of a log to `limits`.
pub fn fit_log(entry: &mut LogEntry, limits: &Limits) {
    cut(&mut entry.message, limits.max_text_bytes);
    for field in [
        &mut entry.module,
        &mut entry.function,
        &mut entry.user_id,
        &mut entry.request_path,
    ] {
        cut_opt(field, limits.max_short_bytes);
    }
}

/// Shortens every length-limited text field of an exception to `limits`.
pub fn fit_exception(entry: &mut ExceptionEntry, limits: &Limits) {
    cut(&mut entry.exception_type, limits.max_short_bytes);
    cut(&mut entry.exception_message, limits.max_text_bytes);
    cut_opt(&mut entry.stack_trace, limits.max_text_bytes);
    cut_opt(&mut entry.user_id, limits.max_short_bytes);
    cut_opt(&mut entry.request_path, limits.max_short_bytes);
}

/// Shortens every length-limited text field of a metric to `limits`.
pub fn fit_metric(entry: &mut MetricEntry, limits: &Limits) {
    for field in [&mut entry.metric_type, &mut entry.metric_name] {
        cut(field, limits.max_short_bytes);
    }
    cut_opt(&mut entry.unit, limits.max_short_bytes);
    cut_opt(&mut entry.endpoint, limits.max_short_bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_batch;
    use crate::wire::IngestBatch;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a producer put in its fields, the fitted entry passes validation (lengths
        /// being the only problem here), keeps short fields as they were, and cuts at most what
        /// was over the limit.
        #[test]
        fn fitted_entries_always_validate(
            message in "\\PC{1,300}",
            path in "/\\PC{0,300}",
            module in proptest::option::of("\\PC{0,100}"),
            max in 8usize..120,
        ) {
            let limits = Limits { max_text_bytes: max, max_short_bytes: max, ..Limits::default() };
            let mut log = LogEntry {
                level: "INFO".into(),
                message: format!("x{message}"),
                request_path: Some(path.clone()),
                module: module.clone(),
                ..LogEntry::default()
            };
            fit_log(&mut log, &limits);
            if path.len() <= max {
                prop_assert_eq!(log.request_path.as_deref(), Some(path.as_str()));
            } else {
                let fitted = log.request_path.clone().unwrap_or_default();
                prop_assert!(fitted.ends_with(CUT_MARKER) && fitted.len() <= max);
                let kept = fitted.strip_suffix(CUT_MARKER).unwrap_or_default();
                prop_assert!(path.starts_with(kept));
            }
            let mut exception = ExceptionEntry {
                exception_type: format!("E{message}"),
                exception_message: message.clone(),
                stack_trace: Some(message.repeat(3)),
                request_path: Some(path),
                ..ExceptionEntry::default()
            };
            fit_exception(&mut exception, &limits);
            let batch = IngestBatch {
                batch_id: "0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10".into(),
                sdk: None,
                source: "backend".into(),
                logs: vec![log],
                exceptions: vec![exception],
                metrics: vec![],
            };
            prop_assert!(validate_batch(batch, 0, &limits).is_ok());
        }
    }
}
