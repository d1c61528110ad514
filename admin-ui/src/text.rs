//! Text helpers for log values: splitting a message around the search term (for highlighting
//! with `<mark>`, still as text nodes) and telling in-app stack frames from library ones.

/// `text` cut into (piece, is_match) around case-insensitive occurrences of `term`, as the
/// collector's search matches. Concatenating the pieces gives `text` back.
pub fn highlight(text: &str, term: &str) -> Vec<(String, bool)> {
    let term = term.trim();
    if term.is_empty() {
        return vec![(text.to_owned(), false)];
    }
    let lower = text.to_lowercase();
    let needle = term.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; then positions would not map back,
    // so such texts match case-sensitively.
    let (hay, needle) = if lower.len() == text.len() && needle.len() == term.len() {
        (lower, needle)
    } else {
        (text.to_owned(), term.to_owned())
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(pos) = hay[at..].find(&needle) {
        let start = at + pos;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        if start > at {
            out.push((text[at..start].to_owned(), false));
        }
        out.push((text[start..end].to_owned(), true));
        at = end;
    }
    if at < text.len() || out.is_empty() {
        out.push((text[at..].to_owned(), false));
    }
    out
}

/// Whether a stack-trace line is a frame of the application rather than of a library, the
/// runtime or the browser (shown expanded; the others collapse).
pub fn is_in_app_frame(line: &str) -> bool {
    const LIBRARY: &[&str] = &[
        "node_modules",
        "/rustc/",
        ".cargo/registry",
        "/usr/lib",
        "std::",
        "core::",
        "alloc::",
        "tokio::",
        "<anonymous>",
        "chrome-extension://",
        "webpack/bootstrap",
        "native code",
        "wasm-function",
    ];
    !LIBRARY.iter().any(|m| line.contains(m))
}

/// Stack lines grouped into runs of in-app frames and runs of library frames, in order.
pub fn frame_runs(stack: &str) -> Vec<(bool, Vec<String>)> {
    let mut runs: Vec<(bool, Vec<String>)> = Vec::new();
    for line in stack.lines().filter(|l| !l.trim().is_empty()) {
        let in_app = is_in_app_frame(line);
        match runs.last_mut() {
            Some((kind, lines)) if *kind == in_app => lines.push(line.to_owned()),
            _ => runs.push((in_app, vec![line.to_owned()])),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_are_case_insensitive() {
        assert_eq!(
            highlight("Checkout FAILED, failed again", "failed"),
            [
                ("Checkout ".to_owned(), false),
                ("FAILED".to_owned(), true),
                (", ".to_owned(), false),
                ("failed".to_owned(), true),
                (" again".to_owned(), false),
            ]
        );
        assert_eq!(highlight("abc", ""), [("abc".to_owned(), false)]);
    }

    proptest! {
        #[test]
        fn pieces_give_the_text_back(text in ".{0,40}", term in ".{0,4}") {
            let joined: String = highlight(&text, &term).into_iter().map(|p| p.0).collect();
            prop_assert_eq!(joined, text);
        }
    }

    #[test]
    fn library_frames_are_grouped_apart() {
        let stack = "TypeError: x\n  at submit (https://shop/app.js:10:5)\n  at h (node_modules/react/x.js:1:1)\n  at g (node_modules/react/y.js:1:1)\n  at main (https://shop/app.js:1:1)";
        let runs = frame_runs(stack);
        let kinds: Vec<(bool, usize)> = runs.iter().map(|r| (r.0, r.1.len())).collect();
        assert_eq!(kinds, [(true, 2), (false, 2), (true, 1)]);
    }
}
