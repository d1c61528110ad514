//! Masking of exception messages for stackless fingerprints: the variable parts (ids, numbers,
//! quoted values) are replaced by placeholders so `User 42 not found` and `User 97 not found`
//! group together.

/// Replaces UUIDs by `<uuid>`, hex strings of 8 or more digits (or `0x…`) by `<hex>`, numbers
/// by `<n>` and quoted strings by `<str>`, and collapses whitespace. Linear in the input.
pub(super) fn mask_message(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut pending_space = false;
    // Quote characters known to have no closing partner from here on (keeps the scan linear).
    let mut unclosed: Vec<char> = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            i += 1;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        let word_start = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if (c == '\'' || c == '"') && word_start && !unclosed.contains(&c) {
            match closing_quote(&chars, i) {
                Some(end) => {
                    out.push_str("<str>");
                    i = end + 1;
                    continue;
                }
                None => unclosed.push(c),
            }
        }
        if c.is_ascii_alphanumeric() && word_start {
            if is_uuid_at(&chars, i) {
                out.push_str("<uuid>");
                i += 36;
                continue;
            }
            i = mask_word(&chars, i, &mut out);
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The index of the quote closing the one at `open`: the next same quote not followed by a
/// letter or digit (so `can't` inside a quoted value does not end it early).
fn closing_quote(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    (open + 1..chars.len()).find(|&k| {
        chars[k] == quote && !chars.get(k + 1).is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// `8-4-4-4-12` hex digits at `at`, not continued by another letter or digit.
fn is_uuid_at(chars: &[char], at: usize) -> bool {
    let Some(candidate) = chars.get(at..at + 36) else {
        return false;
    };
    let shape_ok = candidate.iter().enumerate().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => *c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    shape_ok
        && !chars
            .get(at + 36)
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Masks the ASCII word starting at `start` and returns the index after it.
fn mask_word(chars: &[char], start: usize, out: &mut String) -> usize {
    let mut end = start;
    while chars.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        end += 1;
    }
    let word = &chars[start..end];
    if word.iter().all(char::is_ascii_digit) {
        // A decimal fraction belongs to the number.
        if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
            end += 1;
            while chars.get(end).is_some_and(char::is_ascii_digit) {
                end += 1;
            }
        }
        out.push_str("<n>");
    } else if is_prefixed_hex(word) || (word.len() >= 8 && word.iter().all(char::is_ascii_hexdigit))
    {
        out.push_str("<hex>");
    } else {
        // A word with digits inside (`user42`, `v2`): mask each digit run.
        let mut in_digits = false;
        for c in word {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push_str("<n>");
                }
                in_digits = true;
            } else {
                out.push(*c);
                in_digits = false;
            }
        }
    }
    end
}

fn is_prefixed_hex(word: &[char]) -> bool {
    matches!(word, ['0', 'x' | 'X', rest @ ..] if !rest.is_empty() && rest.iter().all(char::is_ascii_hexdigit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_variable_parts() {
        for (message, expected) in [
            ("User 42 not found", "User <n> not found"),
            ("  took   3.25 ms\n", "took <n> ms"),
            (
                "row 0d9f6a4e-3c2b-4f7e-9a55-2c1b8e3f7a10 locked",
                "row <uuid> locked",
            ),
            ("object deadbeef12 at 0x7ffd", "object <hex> at <hex>"),
            ("key 'abc' missing in \"cfg\"", "key <str> missing in <str>"),
            ("can't parse 'it's here' now", "can't parse <str> now"),
            ("user42 and v2.1", "user<n> and v<n>.<n>"),
            ("unterminated 'quote and 7", "unterminated 'quote and <n>"),
            ("café 12", "café <n>"),
            ("", ""),
        ] {
            assert_eq!(mask_message(message), expected, "{message:?}");
        }
    }

    #[test]
    fn many_unclosed_quotes_stay_fast() {
        let message = "'x ".repeat(50_000);
        assert_eq!(mask_message(&message).len(), message.len() - 1);
    }
}
