//! The logger's own redaction agrees with `tracewire_shared::redact::Redactor`, the collector's,
//! on sensitive keys at any depth: what the browser hides, the server would hide too, and the
//! browser hides nothing the server would keep.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::Value;
use tracewire_logger::core::Json;
use tracewire_logger::core::redact::KeyRedactor;
use tracewire_shared::redact::Redactor;

fn to_serde(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Json::Str(s) => Value::String(s.clone()),
        Json::Arr(a) => Value::Array(a.iter().map(to_serde).collect()),
        Json::Obj(o) => {
            let mut map = serde_json::Map::new();
            for (k, v) in o {
                map.insert(k.clone(), to_serde(v));
            }
            Value::Object(map)
        }
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
        "[a-zA-Z_-]{0,12}",
    ]
}

fn arb_json() -> impl Strategy<Value = Json> {
    // Both sides scan strings for card numbers with the same shared scanner, so strings with
    // digits, dashes and cards inside longer text must come out the same too.
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        (-1000i32..1000).prop_map(|n| Json::Num(n.into())),
        "[a-z ]{0,10}".prop_map(Json::Str),
        "[0-9 a-]{0,30}".prop_map(Json::Str),
        Just(Json::Str("4111 1111 1111 1111".into())),
        "[a-z ]{0,8}".prop_map(|t| Json::Str(format!(
            "{t} 4111-1111-1111-1111 and 5500 0000 0000 0004 {t}"
        ))),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Arr),
            // Unique keys: JSON objects with repeated keys have no single meaning.
            prop::collection::btree_map(arb_key(), inner, 0..5)
                .prop_map(|m| Json::Obj(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn agrees_with_the_collector(v in arb_json(), extra in prop::collection::vec("[a-z]{1,6}", 0..3)) {
        let ours = KeyRedactor::new(&extra);
        let theirs = Redactor::new(&extra, &[]).expect("no patterns");
        let mut a = v.clone();
        let mut b = to_serde(&v);
        prop_assert_eq!(ours.redact(&mut a), theirs.redact_value(&mut b));
        prop_assert_eq!(to_serde(&a), b);
    }
}
