//! Tests of the free-text scanners: each rule, its false-positive guards, and properties.

use super::*;
use proptest::prelude::*;

fn default_key(key: &str) -> bool {
    super::super::Redactor::default().is_sensitive_key(key)
}

fn run(text: &str, emails: bool) -> String {
    let rules = Rules {
        emails,
        sensitive_key: &default_key,
    };
    redact(text, &rules).map_or_else(|| text.to_owned(), |(out, _)| out)
}

fn r(text: &str) -> String {
    run(text, false)
}

const M: &str = REDACTED;

#[test]
fn ibans_need_the_country_the_check_digits_and_upper_case() {
    for iban in [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "NO9386011117947",
        "FR1420041010050500013M02606",
    ] {
        assert_eq!(
            r(&format!("pay to {iban}.")),
            format!("pay to {M}."),
            "{iban}"
        );
    }
    for text in [
        "DE88370400440532013000",    // wrong check digits
        "de89370400440532013000",    // lower case
        "ZZ89370400440532013000",    // not an IBAN country
        "XDE89370400440532013000",   // inside a word
        "DE89370400440532013000abc", // inside a word
        "DE8937040044",              // too short
    ] {
        assert_eq!(r(text), text, "{text}");
    }
    // The group after a paper IBAN that is not a group of four is not swallowed.
    assert_eq!(r("DE89 3704 0044 0532 0130 00 EUR"), format!("{M} EUR"));
}

#[test]
fn pem_private_keys_but_not_certificates() {
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3\n-----END RSA PRIVATE KEY-----";
    assert_eq!(r(&format!("key: {key} done")), format!("key: {M} done"));
    let openssh =
        "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk\\n-----END OPENSSH PRIVATE KEY-----";
    assert_eq!(r(openssh), M);
    // Cut by a field limit: redacted to the end.
    assert_eq!(
        r("x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"),
        format!("x {M}")
    );
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    assert_eq!(r(cert), cert);
}

#[test]
fn url_credentials_keep_scheme_and_host() {
    assert_eq!(
        r("connect postgres://app:s3cr%40t@db:5432/logs failed"),
        format!("connect postgres://{M}@db:5432/logs failed")
    );
    assert_eq!(
        r("https://ghp_abc123@github.com/x"),
        format!("https://{M}@github.com/x")
    );
    for text in [
        "https://example.com/a@b",
        "https://example.com?to=a@b.c",
        "see http://host:8080 or mail a@b.c",
        r#"{"u":"http://h","e":"x@y"}"#,
    ] {
        assert_eq!(r(text), text);
    }
}

#[test]
fn bearer_tokens() {
    assert_eq!(
        r("Authorization: Bearer eyJhbGciOi.eyJzdWIi.SflKx"),
        format!("Authorization: Bearer {M}")
    );
    assert_eq!(r("sent bearer abc+/== ok"), format!("sent bearer {M} ok"));
    assert_eq!(r("Bearer"), "Bearer");
    assert_eq!(r("xbearer abc"), "xbearer abc");
}

#[test]
fn ssns_as_issued_only() {
    assert_eq!(r("ssn 078-05-1120."), format!("ssn {M}."));
    for text in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "2026-11-25",
        "1123-45-6789",
        "123-45-67890",
        "555-123-45-6789",
        "a123-45-6789",
    ] {
        assert_eq!(r(text), text, "{text}");
    }
}

#[test]
fn sensitive_key_values_in_free_text() {
    for (text, want) in [
        (
            "login password=hunter2 user=ann",
            format!("login password={M} user=ann"),
        ),
        (
            "GET /cb?code=1&access_token=abc.def&x=1",
            format!("GET /cb?code=1&access_token={M}&x=1"),
        ),
        (
            r#"body {"user":"ann","password":"hun ter\"2"}"#,
            format!(r#"body {{"user":"ann","password":"{M}"}}"#),
        ),
        (
            r#"{\"api_key\":\"k-123\"}"#,
            format!(r#"{{\"api_key\":\"{M}\"}}"#),
        ),
        (
            "Password: hunter2, retrying",
            format!("Password: {M}, retrying"),
        ),
        (
            "Authorization: Basic dXNlcjpwYXNz",
            format!("Authorization: Basic {M}"),
        ),
        ("session=s%3Aabc; Path=/", format!("session={M}; Path=/")),
        ("secret='it''s'", format!("secret='{M}''s'")),
        ("token=\"unterminated", format!("token=\"{M}")),
    ] {
        assert_eq!(r(text), want, "{text}");
    }
    for text in [
        "user=ann path=/x",
        "author=Jane",
        "password=",
        "http://token:x@h", // the URL rule's, not this one's: see below
    ] {
        assert_ne!(r(text), format!("{text}!"), "{text}");
    }
    assert_eq!(r("author=Jane user=ann"), "author=Jane user=ann");
    assert_eq!(r("password==null"), format!("password={M}"));
    assert_eq!(r("http://token:x@h"), format!("http://{M}@h"));
}

#[test]
fn emails_only_when_enabled() {
    let text = "mail ann.lee+x@mail.example.org. and a@b";
    assert_eq!(r(text), text);
    assert_eq!(run(text, true), format!("mail {M}. and a@b"));
    // A URL's user name stays the URL rule's; the host survives.
    assert_eq!(
        run("https://ann@example.com/", true),
        format!("https://{M}@example.com/")
    );
}

#[test]
fn overlapping_rules_make_one_marker_and_markers_stay() {
    assert_eq!(r("password=postgres://u:p@h/db"), format!("password={M}"));
    for text in [
        format!("password={M} token: {M} Bearer {M} https://{M}@h"),
        format!(r#"{{"secret":"{M}"}} Authorization: Basic {M}"#),
        M.to_owned(),
    ] {
        assert_eq!(
            redact(
                &text,
                &Rules {
                    emails: true,
                    sensitive_key: &default_key
                }
            ),
            None,
            "{text}"
        );
    }
}

/// Check digits for a country code and BBAN, so generated IBANs are valid.
fn iban(country: &str, bban: &str) -> String {
    let probe = format!("{country}00{bban}");
    let mut rem = 0u32;
    for c in probe[4..].bytes().chain(probe[..4].bytes()) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            _ => (rem * 100 + u32::from(c - b'A' + 10)) % 97,
        };
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

fn luhn_complete(body: &[u8]) -> String {
    let check = (0..10u8)
        .find(|c| {
            let mut d = body.to_vec();
            d.push(*c);
            let text: String = d.iter().map(|d| char::from(b'0' + d)).collect();
            super::super::is_card_number_text(&text)
        })
        .unwrap_or(0);
    body.iter()
        .chain([&check])
        .map(|d| char::from(b'0' + d))
        .collect()
}

/// A secret of one class, as embedded in text, and the part that must not survive.
fn secret() -> impl Strategy<Value = (String, String)> {
    let token = "[A-Za-z0-9._~+/-]{8,24}";
    prop_oneof![
        // Cards (first digit non-zero so the number has its full length).
        (1u8..10, prop::collection::vec(0u8..10, 12..18), "[ -]?").prop_map(
            |(first, rest, sep)| {
                let mut body = vec![first];
                body.extend(rest);
                let card = luhn_complete(&body);
                let shown: Vec<String> = card
                    .as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                (shown.join(&sep), card[..12].to_owned())
            }
        ),
        (
            prop::sample::select(vec!["DE", "GB", "FR", "NL", "CH", "NO"]),
            "[A-Z0-9]{11,26}",
            any::<bool>()
        )
            .prop_map(|(cc, bban, paper)| {
                let iban = iban(cc, &bban);
                let shown = if paper {
                    iban.as_bytes()
                        .chunks(4)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    iban.clone()
                };
                (shown, bban)
            }),
        ("(RSA |EC |OPENSSH |ENCRYPTED )?", "[A-Za-z0-9+/=\n]{16,64}").prop_map(|(kind, body)| {
            let body = format!("Zq{body}");
            (
                format!(
                    "-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
                ),
                body,
            )
        }),
        (
            "[a-z]{2,8}",
            "[a-z0-9]{2,8}",
            "[A-Za-z0-9!$%*+,;=~.-]{8,20}"
        )
            .prop_map(|(scheme, user, pass)| {
                (
                    format!("{scheme}://{user}:{pass}@db.example:5432/x"),
                    format!("{user}:{pass}"),
                )
            }),
        ("[Bb]earer|BEARER", token).prop_map(|(word, t)| (format!("{word} {t}"), t)),
        (1u16..900, 1u8..100, 1u16..10000)
            .prop_filter("issued areas", |(a, _, _)| *a != 666)
            .prop_map(|(a, g, s)| {
                let ssn = format!("{a:03}-{g:02}-{s:04}");
                (ssn.clone(), ssn)
            }),
        (
            prop::sample::select(vec![
                "password",
                "Passwd",
                "api_key",
                "access_token",
                "client-secret",
                "PRIVATE_KEY",
                "auth",
                "session",
                "mysql_pwd",
                "credentials"
            ]),
            prop::sample::select(vec!["=", ": ", ":", " = "]),
            "[A-Za-z0-9!#$%*+./:=?@^_|~-]{8,20}",
            prop::sample::select(vec!["", "\"", "'"]),
        )
            .prop_map(|(key, sep, value, quote)| {
                (
                    format!("{quote}{key}{quote}{sep}{quote}{value}{quote}"),
                    value,
                )
            }),
        ("[a-z0-9]{8,12}", "[a-z]{3,8}").prop_map(|(user, host)| {
            let email = format!("{user}@{host}.com");
            (format!("?q={email}"), email)
        }),
    ]
}

/// Surrounding text with the characters rules react to.
fn noise() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,:;=/@&?'\"*_-]{0,30}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// No false negatives: a generated secret of any class, anywhere in random text (as
    /// its own word), does not survive.
    #[test]
    fn generated_secrets_never_survive(before in noise(), (shown, hidden) in secret(), after in noise()) {
        let text = format!("{before} {shown} {after}");
        let out = run(&text, true);
        prop_assert!(!out.contains(&hidden), "{:?} survived in {:?}", hidden, out);
    }

    /// Redacting twice equals redacting once, and the second pass finds nothing.
    #[test]
    fn idempotent(before in noise(), (shown, _) in secret(), after in noise(), more in noise()) {
        for emails in [false, true] {
            let rules = Rules { emails, sensitive_key: &default_key };
            let once = run(&format!("{before} {shown} {after}{more}"), emails);
            prop_assert_eq!(redact(&once, &rules), None, "{:?}", once);
        }
    }

    /// Never panics on arbitrary text, and what it produces is stable.
    #[test]
    fn arbitrary_text(text in "\\PC{0,60}|[0-9A-Z :=/@-]{0,60}") {
        let rules = Rules { emails: true, sensitive_key: &default_key };
        let once = run(&text, true);
        prop_assert_eq!(redact(&once, &rules), None);
    }

    /// The marker is never redacted again, whatever context it sits in.
    #[test]
    fn the_marker_is_left_alone(parts in prop::collection::vec(prop::sample::select(vec![
        "password=M", "token: M", "\"secret\":\"M\"", "Bearer M", "https://M@host", "M", " ", "M@example.com",
        "Authorization: Basic M", "?access_token=M&x=1",
    ]), 0..6)) {
        let text = parts.join(" ").replace('M', M);
        let rules = Rules { emails: true, sensitive_key: &default_key };
        prop_assert_eq!(redact(&text, &rules), None, "{:?}", text);
    }
}
