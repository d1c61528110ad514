//! Byte-level text helpers. `str::split_once(char)`, `split`, `trim` and friends go through
//! the generic `Pattern` machinery (char searchers, memchr, Unicode whitespace tables), which
//! costs about a kilobyte of wasm; the logger only ever splits on ASCII bytes.

/// Splits `s` around the first `sep` (an ASCII byte, so both halves are valid `str`s).
pub fn split_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The parts of `s` between `sep` bytes, in order (like `str::split`).
pub fn split_all(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match split_byte(r, sep) {
            Some((part, tail)) => {
                rest = Some(tail);
                Some(part)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_str_split(s in "[a-c,;é\n]{0,12}") {
            prop_assert_eq!(split_byte(&s, b','), s.split_once(','));
            prop_assert_eq!(split_all(&s, b',').collect::<Vec<_>>(), s.split(',').collect::<Vec<_>>());
        }
    }
}
