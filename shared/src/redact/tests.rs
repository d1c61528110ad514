//! Tests of the redaction rules, and seed property 8 as properties over arbitrary nested JSON.

use super::*;
use proptest::prelude::*;
use serde_json::{Map, json};

#[test]
fn key_names_match_through_case_and_separators() {
    let r = Redactor::default();
    for key in [
        "password",
        "userPassword",
        "X-Api-Key",
        "api_key",
        "APIKEY",
        "ACCESS_TOKEN",
        "refreshToken",
        "Set-Cookie",
        "Authorization",
        "client_secret",
        "pass-wd",
        "private_key",
        "PrivateKey",
        "auth",
        "AUTH",
        "credentials",
        "MYSQL_PWD",
        "session",
        "sessionId",
        "PHPSESSID",
        "passphrase",
    ] {
        assert!(r.is_sensitive_key(key), "{key}");
    }
    for key in [
        "user",
        "key",
        "api",
        "path",
        "pass",
        "cook",
        "",
        "author",
        "oauth_provider",
        "session_count",
        "sessions",
    ] {
        assert!(!r.is_sensitive_key(key), "{key}");
    }
}

#[test]
fn sensitive_values_of_any_type_become_the_marker() {
    let r = Redactor::default();
    let mut value = json!({
        "user": "ada",
        "password": "hunter2",
        "token": 12345,
        "secret": {"nested": "x"},
        "cookie": ["a", "b"],
        "api_key": null,
        "deep": [{"list": [{"Authorization": "Bearer abc"}]}],
    });
    assert_eq!(r.redact_value(&mut value), 6);
    assert_eq!(
        value,
        json!({
            "user": "ada",
            "password": REDACTED,
            "token": REDACTED,
            "secret": REDACTED,
            "cookie": REDACTED,
            "api_key": REDACTED,
            "deep": [{"list": [{"Authorization": REDACTED}]}],
        })
    );
    assert_eq!(r.redact_value(&mut value), 0);
}

#[test]
fn card_numbers_are_redacted_in_any_string() {
    let r = Redactor::default();
    let mut value = json!({"note": "card 4111 1111 1111 1111 exp 12/30", "items": ["5500-0000-0000-0004", 4111111111111111u64, -4111111111111111i64, 4111111111111112u64, 41.5]});
    assert_eq!(r.redact_value(&mut value), 4);
    assert_eq!(
        value,
        json!({"note": format!("card {REDACTED} exp 12/30"), "items": [REDACTED, REDACTED, REDACTED, 4111111111111112u64, 41.5]})
    );
    assert_eq!(r.redact_value(&mut value), 0);
}

#[test]
fn extra_keys_and_value_patterns() {
    let r = Redactor::new(
        &["SSN".into(), "-".into()],
        &[r"sk_live_[0-9a-zA-Z]{8,}".into()],
    )
    .unwrap();
    assert!(r.is_sensitive_key("user_ssn"));
    assert!(
        !r.is_sensitive_key("user"),
        "a separator-only name must not match everything"
    );
    let mut value =
        json!({"msg": "keys sk_live_abcdefgh12 and sk_live_ZZZZZZZZ", "ssn": "078-05-1120"});
    assert_eq!(r.redact_value(&mut value), 3);
    assert_eq!(
        value,
        json!({"msg": format!("keys {REDACTED} and {REDACTED}"), "ssn": REDACTED})
    );
    assert_eq!(r.redact_value(&mut value), 0);
}

#[test]
fn patterns_never_eat_the_marker_or_match_empty() {
    let r = Redactor::new(&[], &[r"\*+".into(), "x*".into()]).unwrap();
    let mut text = format!("a {REDACTED} ** b");
    assert_eq!(r.redact_str(&mut text), 1);
    assert_eq!(text, format!("a {REDACTED} {REDACTED} b"));
    assert_eq!(r.redact_str(&mut text), 0);
}

#[test]
fn invalid_pattern_is_a_configuration_error() {
    let err = Redactor::new(&[], &["(unclosed".into()]).unwrap_err();
    assert!(matches!(err, RedactError::Pattern { ref pattern, .. } if pattern == "(unclosed"));
    assert!(err.to_string().contains("(unclosed"));
}

#[test]
fn default_and_empty_configuration_agree() {
    let configured = Redactor::new(&[], &[]).unwrap();
    let mut a = json!({"Cookie": "c", "n": "4111111111111111"});
    let mut b = a.clone();
    assert_eq!(
        Redactor::default().redact_value(&mut a),
        configured.redact_value(&mut b)
    );
    assert_eq!(a, b);
}

/// The property's oracle for "sensitive", written from the contract rather than the code.
fn oracle_sensitive(key: &str) -> bool {
    let normalized: String = key.to_lowercase().replace(['-', '_'], "");
    [
        "password",
        "passwd",
        "passphrase",
        "mysqlpwd",
        "token",
        "secret",
        "apikey",
        "authorization",
        "cookie",
        "privatekey",
        "credential",
        "sessionid",
        "sessid",
    ]
    .iter()
    .any(|name| normalized.contains(name))
        || ["auth", "session"].contains(&normalized.as_str())
}

/// Integers that are not card numbers (cards as numbers are redacted wherever they are).
fn plain_int() -> impl Strategy<Value = Value> {
    any::<i64>()
        .prop_filter("not a card number", |n| {
            !is_card_number_text(&n.to_string())
        })
        .prop_map(Value::from)
}

/// Nested JSON into which sensitive entries are inserted at random depths.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(Value),
    List(Vec<Tree>),
    /// Plain entries, then sensitive entries with their secret values.
    Map(Vec<(String, Tree)>, Vec<(String, Value)>),
}

/// What to render: the input, the expected redaction, or the input without sensitive entries.
#[derive(Clone, Copy, PartialEq)]
enum Render {
    WithSecrets,
    Redacted,
    Stripped,
}

impl Tree {
    fn render(&self, mode: Render) -> Value {
        match self {
            Tree::Leaf(value) => value.clone(),
            Tree::List(items) => Value::Array(items.iter().map(|t| t.render(mode)).collect()),
            Tree::Map(plain, sensitive) => {
                let mut map = Map::new();
                for (key, tree) in plain {
                    map.insert(key.clone(), tree.render(mode));
                }
                for (key, secret) in sensitive {
                    match mode {
                        Render::WithSecrets => map.insert(key.clone(), secret.clone()),
                        Render::Redacted => map.insert(key.clone(), Value::from(REDACTED)),
                        Render::Stripped => None,
                    };
                }
                Value::Object(map)
            }
        }
    }

    fn secrets(&self, out: &mut Vec<String>) {
        match self {
            Tree::Leaf(_) => {}
            Tree::List(items) => items.iter().for_each(|t| t.secrets(out)),
            Tree::Map(plain, sensitive) => {
                plain.iter().for_each(|(_, t)| t.secrets(out));
                for (_, secret) in sensitive {
                    collect_strings(secret, out);
                }
            }
        }
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn count_markers(value: &Value) -> usize {
    match value {
        Value::String(s) if s == REDACTED => 1,
        Value::Array(items) => items.iter().map(count_markers).sum(),
        Value::Object(map) => map.values().map(count_markers).sum(),
        _ => 0,
    }
}

fn strip_sensitive(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !oracle_sensitive(key));
            map.values_mut().for_each(strip_sensitive);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_sensitive),
        _ => {}
    }
}

fn plain_key() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z_-]{0,9}".prop_filter("plain keys are not sensitive", |k| !oracle_sensitive(k))
}

/// A default name spelled with random case, random `-`/`_` between letters and a random affix,
/// e.g. `X-Api-Key`, `userPassword`, `ACCESS_to-ken`.
fn sensitive_key() -> impl Strategy<Value = String> {
    const PREFIXES: &[&str] = &["", "x-", "X_", "user", "access", "new-", "Refresh"];
    const SUFFIXES: &[&str] = &["", "_hash", "Id", "-value", "S"];
    (
        prop::sample::select(DEFAULT_SENSITIVE_KEYS),
        prop::collection::vec((any::<bool>(), 0u8..6), 16),
        prop::sample::select(PREFIXES),
        prop::sample::select(SUFFIXES),
    )
        .prop_map(|(name, shape, prefix, suffix)| {
            let mut key = String::from(prefix);
            for (c, (upper, sep)) in name.chars().filter(|c| *c != '_').zip(shape) {
                if !key.is_empty() {
                    match sep {
                        0 => key.push('-'),
                        1 => key.push('_'),
                        _ => {}
                    }
                }
                key.push(if upper { c.to_ascii_uppercase() } else { c });
            }
            key.push_str(suffix);
            key
        })
}

/// A secret of any JSON type; strings are `Sv` + 10 upper-case letters or digits, which no plain
/// content (lowercase text, short keys) can contain.
fn secret_value() -> impl Strategy<Value = Value> {
    let text = "Sv[A-Z0-9]{10}";
    prop_oneof![
        text.prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        (text, text).prop_map(|(a, b)| json!({"inner": a, "list": [b, 1]})),
        prop::collection::vec(text, 0..3).prop_map(|v| json!(v)),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        plain_int(),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::from),
    ]
    .prop_map(Tree::Leaf);
    leaf.prop_recursive(5, 64, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Tree::List),
            (
                prop::collection::vec((plain_key(), inner), 0..5),
                prop::collection::vec((sensitive_key(), secret_value()), 0..3),
            )
                .prop_map(|(plain, sensitive)| Tree::Map(plain, sensitive)),
        ]
    })
}

/// A top-level object, like `extra_data`, always with at least one sensitive entry.
fn document() -> impl Strategy<Value = Tree> {
    (
        prop::collection::vec((plain_key(), tree()), 0..5),
        prop::collection::vec((sensitive_key(), secret_value()), 1..3),
    )
        .prop_map(|(plain, sensitive)| Tree::Map(plain, sensitive))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sensitive_key_variants_are_recognised(key in sensitive_key()) {
        prop_assert!(Redactor::default().is_sensitive_key(&key), "{}", key);
    }

    /// Seed property 8: no secret survives at any depth, every sensitive key maps to the marker,
    /// everything else is unchanged, and a second pass changes and counts nothing.
    #[test]
    fn property_8_redaction_hides_every_secret_and_nothing_else(doc in document()) {
        let redactor = Redactor::default();
        let mut value = doc.render(Render::WithSecrets);
        let count = redactor.redact_value(&mut value);

        let text = serde_json::to_string(&value).unwrap();
        let mut secrets = Vec::new();
        doc.secrets(&mut secrets);
        for secret in &secrets {
            prop_assert!(!text.contains(secret.as_str()), "{} leaked in {}", secret, text);
        }

        let expected = doc.render(Render::Redacted);
        prop_assert_eq!(&value, &expected);
        prop_assert_eq!(count, count_markers(&expected));

        let mut stripped = value.clone();
        strip_sensitive(&mut stripped);
        prop_assert_eq!(stripped, doc.render(Render::Stripped));

        let once = value.clone();
        prop_assert_eq!(redactor.redact_value(&mut value), 0);
        prop_assert_eq!(value, once);
    }

    /// Idempotence also holds for arbitrary text with card-like digits and a configured pattern.
    #[test]
    fn property_8_redaction_is_idempotent_on_strings(text in "[0-9 a-z*-]{0,80}") {
        let redactor = Redactor::new(&[], &[r"[a-z]{6,}".into(), r"\*\*".into()]).unwrap();
        let mut value = json!({"note": text, "list": [text]});
        redactor.redact_value(&mut value);
        let once = value.clone();
        prop_assert_eq!(redactor.redact_value(&mut value), 0);
        prop_assert_eq!(value, once);
    }
}
