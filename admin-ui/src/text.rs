//! Text helpers for log values: splitting a message around the search term (for highlighting
//! with `<mark>`, still as text nodes) and telling in-app stack frames from library ones.

/// `text` cut into (piece, is_match) around occurrences of `term` ignoring ASCII case (the
/// collector's search lower-cases ASCII the same way on SQLite). Concatenating the pieces
/// gives `text` back.
pub fn highlight(text: &str, term: &str) -> Vec<(String, bool)> {
    let term = term.trim();
    if term.is_empty() {
        return vec![(text.to_owned(), false)];
    }
    // ASCII lower-casing keeps byte positions, so matches in `hay` are matches in `text`.
    let hay = text.to_ascii_lowercase();
    let needle = term.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(pos) = hay[at..].find(&needle) {
        let start = at + pos;
        let end = start + needle.len();
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
