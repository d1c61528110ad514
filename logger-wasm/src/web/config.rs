//! `init({...})` options into a [`Config`]; anything missing or of the wrong type keeps its
//! default rather than failing, because the logger must never break the page it watches.

use crate::core::Config;
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

fn field(options: &JsValue, name: &str) -> JsValue {
    Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn num(options: &JsValue, name: &str) -> Option<f64> {
    field(options, name).as_f64().filter(|n| n.is_finite())
}

/// Reads the options object.
pub(crate) fn from_js(options: &JsValue) -> Config {
    let mut cfg = Config::default();
    if let Some(s) = field(options, "endpoint").as_string() {
        cfg.endpoint = s;
    }
    if let Some(s) = field(options, "key").as_string() {
        cfg.key = s;
    }
    if let Some(n) = num(options, "batchSize") {
        cfg.batch_size = n.max(1.0) as usize;
    }
    if let Some(n) = num(options, "flushIntervalMs") {
        cfg.flush_interval_ms = n;
    }
    if let Some(n) = num(options, "dedupWindowMs") {
        cfg.dedup_window_ms = n;
    }
    if let Some(n) = num(options, "maxRetries") {
        cfg.max_retries = n.max(0.0) as u32;
    }
    if let Some(n) = num(options, "retryDelayMs") {
        cfg.retry_delay_ms = n;
    }
    if let Some(n) = num(options, "maxBufferedEntries") {
        cfg.max_buffered_entries = n.max(0.0) as usize;
    }
    if let Some(n) = num(options, "maxBufferedBytes") {
        cfg.max_buffered_bytes = n.max(0.0) as usize;
    }
    if let Some(n) = num(options, "sampleRate") {
        cfg.sample_rate = n;
    }
    if let Some(level) = field(options, "minLevel")
        .as_string()
        .and_then(|s| s.parse().ok())
    {
        cfg.min_level = level;
    }
    let keys = field(options, "redactKeys");
    if Array::is_array(&keys) {
        cfg.redact_keys = Array::from(&keys)
            .iter()
            .filter_map(|k| k.as_string())
            .collect();
    }
    let context = field(options, "context");
    if context.is_object() {
        cfg.user_id = field(&context, "userId").as_string();
        let mut json = super::convert::to_json(&context);
        if let crate::core::Json::Obj(fields) = &mut json {
            fields.retain(|(k, _)| k != "userId");
            if !fields.is_empty() {
                cfg.context = Some(json);
            }
        }
    }
    cfg
}
