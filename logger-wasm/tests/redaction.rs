//! The logger's own redaction agrees with `tracewire_shared::redact::Redactor`, the collector's.
//! The logger applies the key rules, the card scanner and the card-as-number rule; the
//! collector also the free-text scanners (IBANs, PEM keys, URL credentials, bearer tokens,
//! SSNs, `key=value` pairs), which do not fit the module's size budget. So the property is:
//! what the collector stores is the same whether or not the browser redacted first, and the
//! browser hides nothing the collector would keep. The logger redacts while it writes
//! application data from the JS entry's encoding into an entry's JSON (`Encoded::write_json`),
//! so the property runs that path: a value is encoded as the entry encodes it, written, and
//! parsed back; values without anything sensitive come back unchanged.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::Value;
use tracewire_logger::core::Encoded;
use tracewire_logger::core::redact::KeyRedactor;
use tracewire_shared::redact::{REDACTED, Redactor, is_card_number_text, redact_card_numbers};

/// Encodes `v` like `js/encode.js` does (lengths in UTF-16 units).
fn encode(v: &Value, text: &mut String, nums: &mut Vec<f64>) {
    fn str(s: &str, text: &mut String) {
        text.push_str(&s.encode_utf16().count().to_string());
        text.push(':');
        text.push_str(s);
    }
    match v {
        Value::Null => text.push('z'),
        Value::Bool(b) => text.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => {
            // Safe integers as they are, other numbers also printed (`String(n)` in JS).
            let f = n.as_f64().expect("finite");
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                text.push('n');
            } else {
                text.push('d');
                str(&n.to_string(), text);
            }
            nums.push(f);
        }
        Value::String(s) => {
            text.push('s');
            str(s, text);
        }
        Value::Array(a) => {
            text.push('a');
            for x in a {
                encode(x, text, nums);
            }
            text.push(']');
        }
        Value::Object(o) => {
            text.push('o');
            for (k, x) in o {
                str(k, text);
                encode(x, text, nums);
            }
            text.push('}');
        }
    }
}

/// Equal, numbers by value (`3` and `3.0` are one number in JS). The writer copies a
/// non-integer's printed text, and serde_json's default parser may read that text a few ulps
/// off: `a` (the writer's output) may also equal `b`'s printed text read back.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let reread = serde_json::from_str::<f64>(&y.to_string()).ok();
            x.as_f64() == y.as_f64() || x.as_f64() == reread
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, a), (l, b))| k == l && same(a, b))
        }
        _ => a == b,
    }
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("password".to_owned()),
        Just("X-Api-Key".to_owned()),
        Just("sessionToken".to_owned()),
        Just("Cookie".to_owned()),
        Just("user".to_owned()),
        Just("items".to_owned()),
        Just("my_SECRET_thing".to_owned()),
        Just("customerRef".to_owned()),
        Just("auth".to_owned()),
        Just("author".to_owned()),
        Just("Session".to_owned()),
        Just("session_count".to_owned()),
        Just("private_key".to_owned()),
        Just("credentials".to_owned()),
        Just("PHPSESSID".to_owned()),
        "[a-zA-Z_-]{0,12}",
        ".{0,6}",
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    // Both sides scan strings for card numbers with the same shared scanner, so strings with
    // digits, dashes and cards inside longer text must come out the same too.
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i32..1000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Value::from),
        "[a-z ]{0,10}".prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\]{0,4}".prop_map(Value::String),
        "[0-9 a-]{0,30}".prop_map(Value::String),
        Just(Value::String("4111 1111 1111 1111".into())),
        "[a-z ]{0,8}".prop_map(|t| Value::String(format!(
            "{t} 4111-1111-1111-1111 and 5500 0000 0000 0004 {t}"
        ))),
        // Cards sent as numbers, as integers and as an integral float, and numbers that are not.
        prop::sample::select(vec![
            4111111111111111i64,
            -5500000000000004,
            378282246310005,
            4111111111111112,
            999999999999,
            6011000990139424,
        ])
        .prop_map(Value::from),
        Just(Value::from(4111111111111111.0f64)),
        Just(Value::from(6011000990139424000u64)),
        // Secrets only the collector's text scanners find.
        prop::sample::select(vec![
            "login password=hunter2",
            "Authorization: Bearer abc.def",
            "ssn 078-05-1120",
            "postgres://u:p@h/db",
            "GB82WEST12345698765432",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            // Unique keys: JSON objects with repeated keys have no single meaning.
            prop::collection::btree_map(arb_key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// True when `ours` (the logger's output for `input`) changed nothing but what `theirs` (the
/// collector's output for `input`) hides too.
fn hides_only_what_the_collector_hides(ours: &Value, input: &Value, theirs: &Value) -> bool {
    let marked = |v: &Value| v.as_str().is_some_and(|s| s.contains(REDACTED));
    if same(ours, input) {
        return true;
    }
    match (ours, input, theirs) {
        (Value::Array(o), Value::Array(i), Value::Array(t)) => {
            o.len() == i.len()
                && i.len() == t.len()
                && o.iter()
                    .zip(i)
                    .zip(t)
                    .all(|((o, i), t)| hides_only_what_the_collector_hides(o, i, t))
        }
        (Value::Object(o), Value::Object(i), Value::Object(t)) => {
            o.len() == i.len()
                && i.len() == t.len()
                && i.iter().all(|(k, i)| match (o.get(k), t.get(k)) {
                    (Some(o), Some(t)) => hides_only_what_the_collector_hides(o, i, t),
                    _ => false,
                })
        }
        _ => marked(ours) && marked(theirs),
    }
}

/// True when the logger's own rules find nothing left in its output: every sensitive key's
/// value is the marker, no string holds a card number, no integer is one.
fn nothing_left_for_its_rules(ours: &Value, keys: &KeyRedactor) -> bool {
    match ours {
        Value::String(s) => redact_card_numbers(s).is_none(),
        Value::Number(n) => !(n.is_u64() || n.is_i64()) || !is_card_number_text(&n.to_string()),
        Value::Array(items) => items.iter().all(|v| nothing_left_for_its_rules(v, keys)),
        Value::Object(map) => map.iter().all(|(k, v)| {
            if keys.is_sensitive_key(k) {
                v.as_str() == Some(REDACTED)
            } else {
                nothing_left_for_its_rules(v, keys)
            }
        }),
        Value::Null | Value::Bool(_) => true,
    }
}

proptest! {
    #[test]
    fn agrees_with_the_collector(v in arb_value(), extra in prop::collection::vec("[a-z]{1,6}", 0..3)) {
        let (mut text, mut nums) = (String::new(), Vec::new());
        encode(&v, &mut text, &mut nums);
        let mut json = String::new();
        prop_assert!(Encoded::new(&text, &nums).write_json(&mut json, &KeyRedactor::new(&extra), None));
        let ours: Value = serde_json::from_str(&json).expect("valid JSON");
        let collector = Redactor::new(&extra, &[]).expect("no patterns");
        let mut theirs = v.clone();
        collector.redact_value(&mut theirs);
        // What is stored does not depend on whether the browser redacted first…
        let mut stored = ours.clone();
        collector.redact_value(&mut stored);
        prop_assert!(same(&stored, &theirs), "{} vs {}", stored, theirs);
        // …the browser applies its own rules completely (keys, cards in text and as numbers)…
        let keys = KeyRedactor::new(&extra);
        prop_assert!(nothing_left_for_its_rules(&ours, &keys), "{}", ours);
        // …and hides nothing the collector would keep.
        prop_assert!(hides_only_what_the_collector_hides(&ours, &v, &theirs), "{} vs {}", ours, theirs);
    }
}
