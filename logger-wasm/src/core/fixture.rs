//! Test fixtures in the encoding of [`super::encoded`], built from readable JSON values the way
//! `js/encode.js` builds them from JS values, so tests say `json!([[INFO, "m", {"n": 2}]])`
//! instead of hand-writing `"ans1:mo1:nn}]"`. The browser tests check that this and the real
//! encoder give the same text for the same values (tests/web.rs).
//!
//! Numbers follow the JS encoder: an integer (a safe integer in JS) is `n`, any other number
//! `d` with its printed form; the printing here is Rust's, which equals the browser's for the
//! plain decimals tests use (not for exponents such as `1e+300`).

use serde_json::Value;

/// `calls` (an array of call arrays) as the text and numbers of one `ingest` chunk.
pub fn chunk(calls: &Value) -> (String, Vec<f64>) {
    let mut out = (String::new(), Vec::new());
    if let Value::Array(calls) = calls {
        for call in calls {
            value(call, &mut out);
        }
    }
    out
}

/// One value (the `init()` options are one array: `chunk(&json!([options]))` is the same).
pub fn encode(v: &Value) -> (String, Vec<f64>) {
    let mut out = (String::new(), Vec::new());
    value(v, &mut out);
    out
}

fn string(s: &str, text: &mut String) {
    text.push_str(&s.encode_utf16().count().to_string());
    text.push(':');
    text.push_str(s);
}

fn value(v: &Value, out: &mut (String, Vec<f64>)) {
    match v {
        Value::Null => out.0.push('z'),
        Value::Bool(b) => out.0.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if n.is_f64() && f.fract() != 0.0 {
                out.0.push('d');
                string(&f.to_string(), &mut out.0);
            } else {
                out.0.push('n');
            }
            out.1.push(f);
        }
        Value::String(s) => {
            out.0.push('s');
            string(s, &mut out.0);
        }
        Value::Array(items) => {
            out.0.push('a');
            for item in items {
                value(item, out);
            }
            out.0.push(']');
        }
        Value::Object(members) => {
            out.0.push('o');
            for (k, item) in members {
                string(k, &mut out.0);
                value(item, out);
            }
            out.0.push('}');
        }
    }
}
