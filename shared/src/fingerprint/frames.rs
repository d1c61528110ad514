//! Stack trace parsing for fingerprints: V8 (`at fn (url:1:2)`), Firefox/Safari (`fn@url:1:2`),
//! Rust backtraces (`12: crate::f` + `at src/main.rs:10:5`) and bare `file:line` locations.
//!
//! Each frame is reduced to `function|file`, with everything a redeploy changes removed (origin,
//! query, hash, line and column numbers, bundle content hashes), so the same bug keeps one group.
//!
//! A frame without a function name keeps its line and column (`|/app.js:71:5`): there the
//! position is the only thing that tells two call sites apart, and dropping it merged every
//! anonymous handler of a file into one group. Sentry's grouping makes the same trade (it uses
//! the frame's source line), accepting that such groups split when a redeploy moves the code.

/// One frame as parsed, before the in-app filter.
#[derive(Debug, Default)]
struct Frame {
    /// Function name as printed (may be empty for anonymous code).
    function: String,
    /// URL or path with line and column, as printed (may be empty for Rust frames without one).
    location: String,
}

/// Substrings of a location (lowercased) that mark frames outside the application: dependencies,
/// browser extensions, eval'd code and the Tracewire logger itself.
const FOREIGN_LOCATIONS: &[&str] = &[
    "node_modules",
    "<anonymous>",
    "chrome-extension://",
    "moz-extension://",
    "safari-extension://",
    "safari-web-extension://",
    "tracewire",
    "/rustc/",
    "/.cargo/registry/",
    "/.cargo/git/",
];

/// Whole locations of runtime-internal frames.
const NATIVE_LOCATIONS: &[&str] = &["native", "[native code]", "native code"];

/// Rust path prefixes of the standard library, the runtime and the web stack: the panic
/// machinery and the layers every request passes through say nothing about the bug.
const FOREIGN_RUST_PREFIXES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "tokio::",
    "tower::",
    "tower_http::",
    "hyper::",
    "hyper_util::",
    "axum::",
    "futures::",
    "futures_util::",
    "futures_core::",
    "tracing::",
    "backtrace::",
    "__rust_",
    "rust_begin_unwind",
];

/// The first `limit` in-app frames of `stack`, each normalized to `function|file`.
pub(super) fn in_app_frames(stack: &str, limit: usize) -> Vec<String> {
    let mut frames = Vec::new();
    // A numbered Rust frame whose `at file:line` line may follow.
    let mut pending: Option<Frame> = None;
    for line in stack.lines() {
        if frames.len() >= limit {
            break;
        }
        let line = line.trim();
        if let Some(frame) = pending.as_mut()
            && frame.location.is_empty()
            && let Some(path) = line.strip_prefix("at ")
            && !path.contains(" (")
        {
            frame.location = path.trim().to_owned();
            continue;
        }
        if let Some(frame) = pending.take() {
            keep_if_in_app(frame, &mut frames);
        }
        if let Some(frame) = parse_rust_numbered(line) {
            pending = Some(frame);
        } else if let Some(frame) = parse_v8(line)
            .or_else(|| parse_gecko(line))
            .or_else(|| parse_bare(line))
        {
            keep_if_in_app(frame, &mut frames);
        }
    }
    if let Some(frame) = pending {
        keep_if_in_app(frame, &mut frames);
    }
    frames.truncate(limit);
    frames
}

fn keep_if_in_app(frame: Frame, out: &mut Vec<String>) {
    if is_in_app(&frame) {
        let function = normalize_function(&frame.function);
        let position = if function.is_empty() {
            line_column(&frame.location)
        } else {
            ""
        };
        out.push(format!(
            "{function}|{}{position}",
            normalize_file(&frame.location)
        ));
    }
}

/// The `:line` or `:line:column` that [`strip_line_column`] removes.
fn line_column(location: &str) -> &str {
    location
        .get(strip_line_column(location).len()..)
        .unwrap_or("")
}

/// `12: my_crate::module::function` or the older `12: 0x55d4c3 - my_crate::module::function`.
fn parse_rust_numbered(line: &str) -> Option<Frame> {
    let (number, rest) = line.split_once(": ")?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim();
    let function = match rest.strip_prefix("0x") {
        Some(address) => address.split_once(" - ").map_or("", |(_, name)| name),
        None => rest,
    };
    Some(Frame {
        function: function.trim().to_owned(),
        location: String::new(),
    })
}

/// `at fn (location)`, `at async fn (location)` or `at location`.
fn parse_v8(line: &str) -> Option<Frame> {
    let rest = line.strip_prefix("at ")?.trim();
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    if let Some(inner) = rest.strip_suffix(')')
        && let Some((function, location)) = inner.split_once(" (")
    {
        return Some(Frame {
            function: function.trim().to_owned(),
            location: location.trim().to_owned(),
        });
    }
    Some(Frame {
        function: String::new(),
        location: rest.to_owned(),
    })
}

/// `fn@location` (Firefox, Safari); the location must look like one, so a message line that
/// merely contains `@` is not taken for a frame.
fn parse_gecko(line: &str) -> Option<Frame> {
    let (function, location) = line.split_once('@')?;
    let native = NATIVE_LOCATIONS.contains(&location);
    if !native && !looks_like_location(location) {
        return None;
    }
    Some(Frame {
        function: function.trim().to_owned(),
        location: location.to_owned(),
    })
}

/// A bare `src/handlers/orders.rs:42` as `tracing` and panic messages print locations.
fn parse_bare(line: &str) -> Option<Frame> {
    let plausible_path = line.contains('/') || line.contains('.');
    (plausible_path && looks_like_location(line)).then(|| Frame {
        function: String::new(),
        location: line.to_owned(),
    })
}

/// No whitespace, and either a URL or something ending in `:line` or `:line:column`.
fn looks_like_location(s: &str) -> bool {
    !s.is_empty()
        && !s.contains(char::is_whitespace)
        && (s.contains("://") || strip_line_column(s).len() < s.len())
}

fn is_in_app(frame: &Frame) -> bool {
    if frame.function.is_empty() && frame.location.is_empty() {
        return false;
    }
    let location = frame.location.to_ascii_lowercase();
    if FOREIGN_LOCATIONS.iter().any(|s| location.contains(s))
        || NATIVE_LOCATIONS.contains(&location.as_str())
        || location.starts_with("node:")
        || location.starts_with("internal/")
        || location.starts_with("index ")
    {
        return false;
    }
    // `<alloc::boxed::Box<F> as core::ops::FnOnce>::call_once` belongs to `alloc`.
    let function = frame.function.trim_start_matches('<');
    let function = function.strip_prefix("async ").unwrap_or(function);
    !(FOREIGN_RUST_PREFIXES
        .iter()
        .any(|p| function.starts_with(p))
        || frame.function.to_ascii_lowercase().contains("tracewire"))
}

/// Drops `async ` and the `::h0123456789abcdef` hash of legacy Rust symbol mangling.
fn normalize_function(function: &str) -> &str {
    let function = function.strip_prefix("async ").unwrap_or(function);
    match function.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            path
        }
        _ => function,
    }
}

/// Removes line and column, query, fragment and origin, a leading `./`, and content hashes of
/// bundle names.
fn normalize_file(location: &str) -> String {
    let file = strip_line_column(location);
    let file = file.split(['?', '#']).next().unwrap_or(file);
    let file = match file.split_once("://") {
        Some((_, after_scheme)) => after_scheme
            .find('/')
            .map_or("", |slash| &after_scheme[slash..]),
        None => file,
    };
    let file = file.strip_prefix("./").unwrap_or(file);
    match file.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{}", strip_bundle_hash(name)),
        None => strip_bundle_hash(file),
    }
}

/// Removes up to two trailing `:digits` (column, then line).
fn strip_line_column(s: &str) -> &str {
    let mut s = s;
    for _ in 0..2 {
        match s.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                s = head
            }
            _ => break,
        }
    }
    s
}

/// `app.3f9a1c.js` → `app.js`, `main.3f9a1c2b.chunk.js` → `main.chunk.js`,
/// `index-BxQ3k9.js` → `index.js`, `index-Dk_x-9aZ.js` (Vite) → `index.js`.
fn strip_bundle_hash(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 {
        return name.to_owned();
    }
    // Middle parts (`.HASH.`) that look like hashes go; the stem and the extension stay.
    let last = parts.len() - 1;
    let mut index = 0;
    parts.retain(|part| {
        let keep = index == 0 || index == last || !looks_like_hash(part);
        index += 1;
        keep
    });
    // Vite's `name-HASH` stem, HASH being 8 characters of base64url (which may hold `-`).
    let stem = parts[0];
    let bytes = stem.as_bytes();
    let vite_hash_at = bytes
        .len()
        .checked_sub(9)
        .filter(|&dash| dash > 0 && bytes[dash] == b'-');
    let new_stem = match vite_hash_at {
        Some(dash) if looks_like_hash(&stem[dash + 1..]) => &stem[..dash],
        _ => match stem.rsplit_once('-') {
            Some((head, tail)) if !head.is_empty() && looks_like_hash(tail) => head,
            _ => stem,
        },
    };
    parts[0] = new_stem;
    parts.join(".")
}

/// At least 6 characters of `[A-Za-z0-9_-]` with a digit or an inner capital, or at least 8 hex
/// digits: what bundlers emit, and what hand-written names (`vendors`, `Button`) are not.
fn looks_like_hash(part: &str) -> bool {
    let bytes = part.as_bytes();
    if bytes.len() < 6
        || !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    {
        return false;
    }
    let has_digit = bytes.iter().any(u8::is_ascii_digit);
    let inner_capital = bytes.iter().skip(1).any(u8::is_ascii_uppercase);
    let long_hex = bytes.len() >= 8 && bytes.iter().all(u8::is_ascii_hexdigit);
    has_digit || inner_capital || long_hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(stack: &str) -> Vec<String> {
        in_app_frames(stack, 5)
    }

    #[test]
    fn v8_frames() {
        let stack = "TypeError: x is undefined\n    at submit (https://host:8080/assets/app.js?v=3:12:34)\n    at https://host/app.js:1:2\n    at async Cart.load (https://host/assets/index-BxQ3k9.js:9:9)\n    at new Order (webpack-internal:///./src/order.js:3:1)";
        assert_eq!(
            frames(stack),
            [
                "submit|/assets/app.js",
                "|/app.js:1:2",
                "Cart.load|/assets/index.js",
                "new Order|/./src/order.js"
            ]
        );
    }

    #[test]
    fn gecko_frames() {
        let stack = "submit@https://host/assets/app.3f9a1c.js:12:34\n@https://host/app.js#x:1:2\nforEach@[native code]\nglobal code@https://host/main.3f9a1c2b.chunk.js:1:1";
        assert_eq!(
            frames(stack),
            [
                "submit|/assets/app.js",
                "|/app.js:1:2",
                "global code|/main.chunk.js"
            ]
        );
    }

    #[test]
    fn rust_backtrace_frames() {
        let stack = "   0: rust_begin_unwind\n             at /rustc/abc/library/std/src/panicking.rs:665:5\n   1: core::panicking::panic_fmt\n   2: my_app::orders::create::h0123456789abcdef\n             at ./src/orders.rs:10:5\n   3: <alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once\n   4: 0x55d4c3 - my_app::main\n   5: tokio::runtime::task::raw::poll\n   6: serde_json::de::from_str\n             at /home/u/.cargo/registry/src/x/serde_json-1.0.0/src/de.rs:1:1\n";
        assert_eq!(
            frames(stack),
            ["my_app::orders::create|src/orders.rs", "my_app::main|"]
        );
    }

    #[test]
    fn bare_locations_and_foreign_frames() {
        let stack = "src/handlers/orders.rs:42\nat x (node_modules/react/index.js:1:1)\nat y (<anonymous>:1:1)\nat z (chrome-extension://abc/c.js:1:1)\nat w (https://cdn/tracewire-logger.js:1:1)\nat Array.forEach (native)\nat Promise.all (index 0)\nat q (node:internal/process:1:1)\nError: user@example.com failed";
        assert_eq!(frames(stack), ["|src/handlers/orders.rs:42"]);
    }

    #[test]
    fn bundle_hashes() {
        for (name, expected) in [
            ("app.3f9a1c.js", "app.js"),
            ("index-BxQ3k9.js", "index.js"),
            ("index-DiwrgTda.js", "index.js"),
            ("index-Dk_x-9aZ.js", "index.js"),
            ("chunk-vendors.js", "chunk-vendors.js"),
            ("my-Button.js", "my-Button.js"),
            ("main.3f9a1c2b.chunk.js", "main.chunk.js"),
            ("polyfills-legacy.js", "polyfills-legacy.js"),
            ("app.js", "app.js"),
            ("Makefile", "Makefile"),
        ] {
            assert_eq!(strip_bundle_hash(name), expected, "{name}");
        }
    }

    #[test]
    fn limit_is_respected() {
        let stack: String = (0..20)
            .map(|i| format!("at f{i} (https://h/a.js:{i}:1)\n"))
            .collect();
        assert_eq!(frames(&stack).len(), 5);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_frame_shaped_noise(pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "at ", "async ", " (", ")", ":", "12", "@", "://", "/", ".", "-", "?", "#", "0x",
                " - ", "::h", "0123456789abcdef", "\n", "a", "é", "node_modules", "[native code]",
            ]), 0..40))
        {
            let stack: String = pieces.concat();
            for frame in in_app_frames(&stack, 5) {
                proptest::prop_assert!(frame.contains('|'));
            }
        }
    }
}
