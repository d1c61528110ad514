//! Tests of dedup keys and exception fingerprints.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn fp(stack: &str) -> String {
    exception_fingerprint("TypeError", "x is undefined", Some(stack))
}

#[test]
fn fnv1a_128_reference_vectors() {
    let hash = |input: &[u8]| {
        let mut h = Fnv1a128::new();
        h.write(input);
        h.finish()
    };
    assert_eq!(hash(b""), 0x6c62272e07bb014262b821756295c58d);
    assert_eq!(hash(b"a"), 0xd228cb696f1a8caf78912b704e4a8964);
    assert_eq!(hash(b"foobar"), 0x343e1662793c64bf6f0d3597ba446f18);
}

#[test]
fn fingerprints_are_pinned() {
    // Stored fingerprints must never change silently; update only with a migration in mind.
    assert_eq!(
        exception_fingerprint("TypeError", "User 42 not found", None),
        exception_fingerprint("TypeError", "User 7 not found", None)
    );
    let pinned = exception_fingerprint("TypeError", "", Some("at f (https://h/app.js:1:1)"));
    let mut h = Fnv1a128::new();
    h.write(b"tracewire-fp-v1-stack\x1fTypeError\x1ef|/app.js");
    assert_eq!(pinned, format!("{:032x}", h.finish()));
}

#[test]
fn same_group_across_deploys_hosts_and_lines() {
    let base = fp(
        "TypeError: x is undefined\n    at submit (https://a.example:8080/assets/app.3f9a1c.js?v=3:12:34)\n    at onClick (https://a.example:8080/assets/app.3f9a1c.js?v=3:40:2)",
    );
    let moved = fp(
        "TypeError: x is undefined (other text)\n    at submit (https://b.example/assets/app.77be01.js?v=4:13:1)\n    at onClick (https://b.example/assets/app.77be01.js#top:41:9)",
    );
    assert_eq!(base, moved);
    let gecko = fp(
        "submit@https://c.example/assets/app.0a0a0a0a.js:99:1\nonClick@https://c.example/assets/app.0a0a0a0a.js:100:1",
    );
    assert_eq!(base, gecko);
    let vite_a = fp("at load (https://h/assets/index-BxQ3k9aZ.js:1:1)");
    let vite_b = fp("at load (https://h/assets/index-Dk_x-9aZ.js:7:7)");
    assert_eq!(vite_a, vite_b);
}

#[test]
fn foreign_frames_do_not_split_groups() {
    let plain = fp("at submit (https://h/app.js:1:1)");
    let with_noise = fp(
        "at x (https://h/node_modules/react-dom/index.js:5:5)\n    at submit (https://h/app.js:2:2)\n    at Array.forEach (<anonymous>)",
    );
    assert_eq!(plain, with_noise);
}

#[test]
fn different_types_or_functions_differ() {
    let stack = "at submit (https://h/app.js:1:1)";
    assert_ne!(
        exception_fingerprint("TypeError", "m", Some(stack)),
        exception_fingerprint("RangeError", "m", Some(stack))
    );
    assert_ne!(fp(stack), fp("at cancel (https://h/app.js:1:1)"));
    assert_ne!(fp(stack), fp("at submit (https://h/other.js:1:1)"));
    assert_ne!(
        exception_fingerprint("E", "User 1 not found", None),
        exception_fingerprint("E", "Order 1 not found", None)
    );
}

#[test]
fn message_is_ignored_with_a_stack_and_masked_without() {
    let stack = Some("at submit (https://h/app.js:1:1)");
    assert_eq!(
        exception_fingerprint("E", "first message", stack),
        exception_fingerprint("E", "second message", stack)
    );
    assert_eq!(
        exception_fingerprint("NotFound", "User 42 not found", None),
        exception_fingerprint(
            "NotFound",
            "User 97 not found",
            Some("at f (node_modules/x.js:1:1)")
        )
    );
    assert_eq!(
        exception_fingerprint(
            "E",
            "row 0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10 key 'a'",
            None
        ),
        exception_fingerprint(
            "E",
            "row  01936b2e-8f2a-7c3d-9e4f-5a6b7c8d9e0f  key \"b\"",
            None
        )
    );
}

#[test]
fn rust_panics_group_by_application_frames() {
    let a = "   0: rust_begin_unwind\n   1: core::panicking::panic_fmt\n   2: my_app::orders::create::h0123456789abcdef\n             at ./src/orders.rs:10:5\n   3: tokio::runtime::task::raw::poll";
    let b = "   0: rust_begin_unwind\n   1: core::panicking::panic_fmt\n   2: my_app::orders::create::hfedcba9876543210\n             at ./src/orders.rs:12:9\n   3: tokio::runtime::task::raw::poll";
    assert_eq!(
        exception_fingerprint("panic", "a", Some(a)),
        exception_fingerprint("panic", "b", Some(b))
    );
}

fn valid_log() -> ValidLog {
    ValidLog {
        level: Level::Error,
        message: "checkout failed".into(),
        timestamp_us: 1,
        module: Some("cart".into()),
        function: Some("submit".into()),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        span_id: Some("00f067aa0ba902b7".into()),
        user_id: Some("u1".into()),
        request_method: None,
        request_path: None,
        request_data: None,
        response_status: None,
        duration_ms: None,
        extra_data: None,
        dedup_count: 1,
        first_seen_us: 1,
        last_seen_us: 1,
    }
}

proptest! {
    #[test]
    fn fingerprint_is_32_lowercase_hex_and_deterministic(
        kind in "\\PC{0,20}", message in "\\PC{0,60}", stack in prop::option::of("(\\PC{0,40}\n){0,6}")
    ) {
        let first = exception_fingerprint(&kind, &message, stack.as_deref());
        prop_assert_eq!(first.len(), 32);
        prop_assert!(first.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        prop_assert_eq!(first, exception_fingerprint(&kind, &message, stack.as_deref()));
    }

    #[test]
    fn changing_only_numbers_keeps_a_stackless_fingerprint(
        parts in prop::collection::vec(
            (prop_oneof![Just(None), "[a-zA-Z]{1,7}".prop_map(Some)], prop::sample::select(vec![" ", ": ", "#", "=", "/", " ("])),
            1..10),
        numbers in prop::collection::vec((any::<u64>(), any::<u64>()), 10),
    ) {
        let render = |pick: fn(&(u64, u64)) -> u64| -> String {
            parts.iter().zip(&numbers).map(|((word, sep), n)| match word {
                Some(word) => format!("{word}{sep}"),
                None => format!("{}{sep}", pick(n)),
            }).collect()
        };
        let a = render(|n| n.0);
        let b = render(|n| n.1);
        prop_assert_eq!(exception_fingerprint("E", &a, None), exception_fingerprint("E", &b, None), "{} vs {}", a, b);
    }

    #[test]
    fn dedup_key_ignores_time_and_data_but_not_key_fields(
        timestamp in any::<i64>(), extra in "\\PC{0,10}", count in 1i64..100, field in 0usize..8
    ) {
        let base = valid_log();
        let mut same = base.clone();
        same.timestamp_us = timestamp;
        same.first_seen_us = timestamp;
        same.last_seen_us = timestamp;
        same.extra_data = Some(json!({ "x": extra }));
        same.request_data = Some(json!(extra));
        same.dedup_count = count;
        same.span_id = None;
        same.duration_ms = Some(1.0);
        prop_assert_eq!(DedupKey::of(Source::Frontend, &base), DedupKey::of(Source::Frontend, &same));

        let mut other = base.clone();
        let mut source = Source::Frontend;
        match field {
            0 => source = Source::Backend,
            1 => other.level = Level::Warning,
            2 => other.message.push('!'),
            3 => other.module = None,
            4 => other.function = Some("cancel".into()),
            5 => other.trace_id = None,
            6 => other.user_id = Some("u2".into()),
            _ => other.message = other.message.to_uppercase(),
        }
        prop_assert_ne!(DedupKey::of(Source::Frontend, &base), DedupKey::of(source, &other));
    }
}

/// Two anonymous handlers in one file are two bugs (seen: `app.js:71` and `app.js:85` merged).
#[test]
fn anonymous_frames_keep_their_position() {
    let at = |line: u32| fp(&format!("TypeError: x\n    at https://h/app.js:{line}:5"));
    assert_ne!(at(71), at(85));
    assert_eq!(at(71), at(71));
    let gecko = |col: u32| fp(&format!("@https://h/app.js:71:{col}"));
    assert_ne!(gecko(5), gecko(9));
    // Named frames still ignore positions, so a redeploy that moves them keeps the group.
    assert_eq!(
        fp("at submit (https://h/app.js:1:1)"),
        fp("at submit (https://h/app.js:90:3)")
    );
}

proptest! {
    /// Distinct in-app call sites (anonymous frames at different positions, or named frames in
    /// different functions) never share a group; the same site does whatever the message says,
    /// ids and numbers included.
    #[test]
    fn call_sites_decide_groups_messages_do_not(
        a in (1u32..5000, 1u32..200),
        b in (1u32..5000, 1u32..200),
        named in proptest::option::of("[a-z]{1,8}"),
        other_name in "[A-Z][a-z]{1,8}",
        id in 0u64..u64::MAX,
        text in "[a-z ]{0,20}",
    ) {
        let frame = |(line, col): (u32, u32), name: Option<&str>| match name {
            Some(name) => format!("    at {name} (https://h/assets/app.js:{line}:{col})"),
            None => format!("    at https://h/assets/app.js:{line}:{col}"),
        };
        let stack = |site, name: Option<&str>, message: &str| {
            format!("TypeError: {message}\n{}", frame(site, name))
        };
        let fp_of = |site, name: Option<&str>, message: &str| {
            exception_fingerprint("TypeError", message, Some(&stack(site, name, message)))
        };
        let m1 = format!("{text} order {id} failed");
        let m2 = format!("user {} {text}", id / 3);
        prop_assert_eq!(fp_of(a, named.as_deref(), &m1), fp_of(a, named.as_deref(), &m2));
        if a != b && named.is_none() {
            prop_assert_ne!(fp_of(a, None, &m1), fp_of(b, None, &m1));
        }
        prop_assert_ne!(
            fp_of(a, named.as_deref(), &m1),
            fp_of(a, Some(other_name.as_str()), &m1)
        );
    }
}
