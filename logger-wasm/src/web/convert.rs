//! JavaScript values into the core's [`Json`], off the call path.
//!
//! Bounded in depth and size so a huge or cyclic object costs little and never recurses
//! without end. Strings cross into Rust through wasm-bindgen's UTF-8 encoder, which replaces
//! lone UTF-16 surrogates with U+FFFD, so every string is valid UTF-8 from here on.

use crate::core::json::{Json, MAX_DEPTH};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Most values (of any kind) taken from one object; the rest is cut.
const MAX_NODES: usize = 200;

/// Converts `value` (fields, context, details) into [`Json`].
pub(crate) fn to_json(value: &JsValue) -> Json {
    let mut budget = MAX_NODES;
    convert(value, 0, &mut budget)
}

fn convert(v: &JsValue, depth: usize, budget: &mut usize) -> Json {
    if *budget == 0 {
        return Json::Str("[truncated]".into());
    }
    *budget -= 1;
    if let Some(s) = v.as_string() {
        return Json::Str(s);
    }
    if let Some(n) = v.as_f64() {
        return Json::Num(n);
    }
    if let Some(b) = v.as_bool() {
        return Json::Bool(b);
    }
    if v.is_null() || v.is_undefined() || v.is_function() || v.is_symbol() {
        return Json::Null;
    }
    if v.is_bigint() {
        return Json::Str(String::from(
            v.unchecked_ref::<js_sys::BigInt>()
                .to_string(10)
                .unwrap_or_default(),
        ));
    }
    if depth >= MAX_DEPTH {
        return Json::Str("[depth limit]".into());
    }
    if let Some(err) = v.dyn_ref::<js_sys::Error>() {
        return Json::Obj(vec![
            ("name".into(), Json::Str(err.name().into())),
            ("message".into(), Json::Str(err.message().into())),
        ]);
    }
    if let Some(date) = v.dyn_ref::<js_sys::Date>() {
        return Json::Str(date.to_iso_string().into());
    }
    if Array::is_array(v) {
        let arr: &Array = v.unchecked_ref();
        return Json::Arr(
            arr.iter()
                .take(*budget)
                .map(|item| convert(&item, depth + 1, budget))
                .collect(),
        );
    }
    if v.is_object() {
        let obj: &Object = v.unchecked_ref();
        let mut fields = Vec::new();
        for key in Object::keys(obj).iter() {
            if *budget == 0 {
                break;
            }
            let Some(name) = key.as_string() else {
                continue;
            };
            // A getter may throw; skip that field rather than the whole entry.
            let value = Reflect::get(obj, &key).unwrap_or(JsValue::UNDEFINED);
            fields.push((name, convert(&value, depth + 1, budget)));
        }
        return Json::Obj(fields);
    }
    Json::Null
}

/// A display string for any value (messages that are not strings).
pub(crate) fn to_text(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Some(err) = v.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    match to_json(v) {
        Json::Str(s) => s,
        other => other.to_json_string(),
    }
}
