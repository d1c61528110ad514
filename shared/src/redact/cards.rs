//! Payment card numbers inside free text: 13 to 19 digits, optionally grouped by single spaces
//! or dashes, passing the Luhn check.
//!
//! Hand-written rather than a regex so the cost is one pass plus a bounded amount of work per
//! digit run (no backtracking), and strings with fewer than 13 digits cost one byte count.

use super::REDACTED;
use std::ops::Range;

/// Fewest digits of a card number (some Maestro and old Visa cards).
const MIN_DIGITS: usize = 13;
/// Most digits of a card number.
const MAX_DIGITS: usize = 19;

/// Calls `found(start, end)` with the byte range of every card number in `text`, in order.
///
/// A run of digit groups (`12 4111 1111 1111 1111 2025`) may hold a card number that starts or
/// ends at any group boundary, so every 13–19-digit window of whole groups is checked. Groups
/// covered by any passing window are redacted, adjacent ones as a single span: a number that
/// happens to pass Luhn next to a real card widens the span instead of leaving part of the card.
///
/// One pass over the groups with no allocation but the ranges: for each group, the widest
/// passing window starting there is merged into the span being built. (Small on purpose: the
/// browser logger compiles this into its WebAssembly module.)
fn scan(text: &str, mut found: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    if bytes.iter().filter(|b| b.is_ascii_digit()).count() < MIN_DIGITS {
        return;
    }
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    // A card number is a token of its own: a run of digit groups glued to a letter, directly
    // or through a dash (`…-998e-818016663910`, `5af4-4126-…` inside a UUID, `v1234…`), is part
    // of an identifier, and inside it only groups set off by a space can start or end a card.
    // Without this, about one UUID in a few hundred lost a fragment once messages were redacted.
    // Out-of-range offsets (`wrapping_sub` before the start) read as 0, which is no separator.
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let word = |i: usize| byte(i).is_ascii_alphanumeric() || byte(i) == b'_';
    // `step` is 1 to look further right, `usize::MAX` (wrapping -1) to look further left.
    let glued = |i: usize, step: usize| word(i) || (byte(i) == b'-' && word(i.wrapping_add(step)));
    // The end of the group starting at `i`, and where the next group of the run starts.
    let group = |mut i: usize| {
        while digit_at(i) {
            i += 1;
        }
        let next = (matches!(bytes.get(i), Some(b' ' | b'-')) && digit_at(i + 1)).then_some(i + 1);
        (i, next)
    };
    // The span being built: first byte, end byte, index of its last group in the run.
    let mut span: Option<(usize, usize, usize)> = None;
    let mut flush = |span: &mut Option<(usize, usize, usize)>| {
        if let Some((start, end, _)) = span.take() {
            found(start, end);
        }
    };
    let mut at = 0;
    while at < bytes.len() {
        if !digit_at(at) {
            at += 1;
            continue;
        }
        // A run: groups `g` starting at `start`, each tried as the first of a window.
        let glued_before = glued(at.wrapping_sub(1), usize::MAX);
        let mut run_end = at;
        while digit_at(run_end) || (matches!(byte(run_end), b' ' | b'-') && digit_at(run_end + 1)) {
            run_end += 1;
        }
        let glued_after = glued(run_end, 1);
        let (mut start, mut g) = (Some(at), 0);
        while let Some(first) = start {
            let mut digits = [0u8; MAX_DIGITS];
            let (mut len, mut i, mut last) = (0, Some(first), g);
            let mut widest = None;
            while let Some(from) = i {
                let (end, next) = group(from);
                let Some(slots) = digits.get_mut(len..len + (end - from)) else {
                    break;
                };
                for (slot, d) in slots.iter_mut().zip(bytes.get(from..end).unwrap_or(&[])) {
                    *slot = d - b'0';
                }
                len += end - from;
                let free = (!glued_before || (g > 0 && byte(first.wrapping_sub(1)) == b' '))
                    && (!glued_after || (next.is_some() && byte(end) == b' '));
                if free && len >= MIN_DIGITS && luhn_valid(digits.get(..len).unwrap_or(&[])) {
                    widest = Some((end, last));
                }
                at = at.max(end);
                i = next;
                last += 1;
            }
            if let Some((end, last)) = widest {
                match &mut span {
                    Some((_, span_end, span_last)) if g <= *span_last + 1 => {
                        *span_end = (*span_end).max(end);
                        *span_last = (*span_last).max(last);
                    }
                    _ => {
                        flush(&mut span);
                        span = Some((first, end, last));
                    }
                }
            }
            start = group(first).1;
            at = at.max(group(first).0);
            g += 1;
        }
        flush(&mut span);
    }
}

/// The byte ranges of every card number in `text`, appended to `spans` in order.
pub(super) fn spans(text: &str, spans: &mut Vec<Range<usize>>) {
    scan(text, |start, end| spans.push(start..end));
}

/// Replaces every card number in `text` by the marker; `None` when there is none. Builds the
/// text during the scan, with no list of ranges: the browser logger links this one.
pub(super) fn redact(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let (mut copied, mut count) = (0, 0);
    scan(text, |start, end| {
        out.push_str(text.get(copied..start).unwrap_or(""));
        out.push_str(REDACTED);
        copied = end;
        count += 1;
    });
    if count == 0 {
        return None;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Some((out, count))
}

/// True for ASCII digits (nothing else) that are a card number: 13–19 of them passing the
/// Luhn check. Reuses the scanner's checksum, so the logger links no second one.
pub(super) fn is_card_digits(text: &[u8]) -> bool {
    (MIN_DIGITS..=MAX_DIGITS).contains(&text.len())
        && text.iter().all(u8::is_ascii_digit)
        && luhn_valid(text)
}

/// The Luhn checksum over digits as printed (check digit last), given as values (0–9) or as
/// ASCII digits: the low four bits are the value either way.
fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let d = u32::from(*d & 0x0f) << (i & 1);
        sum += if d > 9 { d - 9 } else { d };
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The first implementation (a `Vec` of groups and a `Vec` of covered flags), kept as the
    /// oracle the allocation-free one must agree with.
    mod reference {
        use super::super::{MAX_DIGITS, MIN_DIGITS, REDACTED};

        /// One group of consecutive ASCII digits, as byte offsets into the text.
        #[derive(Debug, Clone, Copy)]
        struct Group {
            start: usize,
            end: usize,
        }

        /// Replaces every card number in `text` by the marker; `None` when there is none.
        ///
        /// A run of digit groups (`12 4111 1111 1111 1111 2025`) may hold a card number that starts or
        /// ends at any group boundary, so every 13–19-digit window of whole groups is checked. Groups
        /// covered by any passing window are redacted, adjacent ones as a single span: a number that
        /// happens to pass Luhn next to a real card widens the span instead of leaving part of the card.
        pub(super) fn redact(text: &str) -> Option<(String, usize)> {
            let bytes = text.as_bytes();
            if bytes.iter().filter(|b| b.is_ascii_digit()).count() < MIN_DIGITS {
                return None;
            }
            let mut out = String::new();
            let mut copied = 0;
            let mut count = 0;
            let mut groups = Vec::new();
            let mut covered = Vec::new();
            let mut at = 0;
            // `get` rather than indexing: this also runs in the browser logger's wasm module, where a
            // `str` slicing panic path alone links kilobytes of Unicode tables. Offsets always fall on
            // ASCII digits, hence on character boundaries, so the fallbacks are never taken.
            let is_covered = |covered: &[bool], g: usize| covered.get(g).copied().unwrap_or(false);
            while at < bytes.len() {
                if !bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                    continue;
                }
                let run_start = at;
                at = collect_run(bytes, at, &mut groups);
                mark_cards(bytes, run_start, at, &groups, &mut covered);
                let mut g = 0;
                while g < groups.len() {
                    if !is_covered(&covered, g) {
                        g += 1;
                        continue;
                    }
                    let first = g;
                    while is_covered(&covered, g + 1) {
                        g += 1;
                    }
                    let (Some(start), Some(end)) = (groups.get(first), groups.get(g)) else {
                        break;
                    };
                    out.push_str(text.get(copied..start.start).unwrap_or(""));
                    out.push_str(REDACTED);
                    copied = end.end;
                    count += 1;
                    g += 1;
                }
            }
            if count == 0 {
                return None;
            }
            out.push_str(text.get(copied..).unwrap_or(""));
            Some((out, count))
        }

        /// Fills `groups` with the digit groups of the run starting at `start` (a digit) and returns
        /// the offset just after the run. Groups are joined by exactly one space or dash.
        fn collect_run(bytes: &[u8], start: usize, groups: &mut Vec<Group>) -> usize {
            groups.clear();
            let mut at = start;
            loop {
                let group_start = at;
                while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
                groups.push(Group {
                    start: group_start,
                    end: at,
                });
                let separated = matches!(bytes.get(at), Some(b' ' | b'-'));
                if separated && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                } else {
                    return at;
                }
            }
        }

        /// True when the run touches a word character at `i`, directly or through a dash.
        fn glued(bytes: &[u8], i: Option<usize>, outward: impl Fn(usize) -> Option<usize>) -> bool {
            let word = |i: Option<usize>| {
                i.and_then(|i| bytes.get(i))
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            };
            word(i) || (i.and_then(|i| bytes.get(i)) == Some(&b'-') && word(i.and_then(outward)))
        }

        /// Sets `covered[g]` for every group inside some window of whole groups that is a card
        /// number standing as a token of its own (see the scanner).
        fn mark_cards(
            bytes: &[u8],
            run_start: usize,
            run_end: usize,
            groups: &[Group],
            covered: &mut Vec<bool>,
        ) {
            covered.clear();
            covered.resize(groups.len(), false);
            let glued_before = glued(bytes, run_start.checked_sub(1), |i| i.checked_sub(1));
            let glued_after = glued(bytes, Some(run_end), |i| i.checked_add(1));
            let spaced = |i: usize| bytes.get(i) == Some(&b' ');
            let mut digits = [0u8; MAX_DIGITS];
            for first in 0..groups.len() {
                let mut len = 0;
                for (last, group) in groups.iter().enumerate().skip(first) {
                    let group_digits = &bytes[group.start..group.end];
                    if len + group_digits.len() > MAX_DIGITS {
                        break;
                    }
                    for (slot, digit) in digits[len..].iter_mut().zip(group_digits) {
                        *slot = digit - b'0';
                    }
                    len += group_digits.len();
                    let starts_free =
                        !glued_before || (first > 0 && spaced(groups[first].start - 1));
                    let ends_free = !glued_after || (last + 1 < groups.len() && spaced(group.end));
                    if starts_free && ends_free && len >= MIN_DIGITS && luhn_valid(&digits[..len]) {
                        covered[first..=last].iter_mut().for_each(|c| *c = true);
                    }
                }
            }
        }

        /// The Luhn checksum: from the right, every second digit is doubled (minus 9 when above 9) and
        /// the sum must be a multiple of 10.
        pub(super) fn luhn_valid(digits: &[u8]) -> bool {
            let sum: u32 = digits
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &d)| {
                    let d = u32::from(d);
                    if i % 2 == 1 {
                        let doubled = d * 2;
                        if doubled > 9 { doubled - 9 } else { doubled }
                    } else {
                        d
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        }
    }

    fn redacted(text: &str) -> String {
        redact(text).map_or_else(|| text.to_owned(), |(out, _)| out)
    }

    #[test]
    fn digits_glued_to_letters_are_identifiers_not_cards() {
        // Real UUIDs whose digit groups pass Luhn across the dashes.
        for id in [
            "2d4e3ce7-7247-6657-4524-60b8eb60f300",
            "7f6c0b4a-f7f6-7fd5-7276-50081600ab70",
            "30847144-0184-8943-48c9-8d6e4f39de40",
        ] {
            let text = format!("order {id} failed");
            assert_eq!(redacted(&text), text);
        }
        assert_eq!(redacted("v4111111111111111"), "v4111111111111111");
        assert_eq!(redacted("4111111111111111x"), "4111111111111111x");
        // Punctuation is a boundary, so cards in ordinary text are still found.
        assert_eq!(redacted("card:4111111111111111."), "card:***REDACTED***.");
        assert_eq!(redacted("(4111-1111-1111-1111)"), "(***REDACTED***)");
    }

    #[test]
    fn luhn_known_values() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(luhn_valid(&digits("79927398713")));
        assert!(!luhn_valid(&digits("4111111111111112")));
        assert!(!luhn_valid(&digits("79927398710")));
    }

    #[test]
    fn finds_cards_in_all_groupings() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5500 0000 0000 0004",
            "3782 822463 10005",
            "6011000990139424",
        ] {
            assert_eq!(
                redacted(&format!("pay {card} now")),
                format!("pay {REDACTED} now"),
                "{card}"
            );
        }
        assert_eq!(
            redact("a 4111111111111111 b 5500000000000004").map(|r| r.1),
            Some(2)
        );
    }

    #[test]
    fn card_inside_longer_digit_runs_is_still_found() {
        let text = "order 12 4111 1111 1111 1111 2025";
        let out = redacted(text);
        assert!(!out.contains("4111"), "{out}");
        assert!(out.starts_with("order "));
    }

    #[test]
    fn leaves_non_cards_alone() {
        for text in [
            "no digits here at all, only words",
            "4111111111111112",
            "411111111111",
            "+1 555-123-4567 and 2026-11-25",
            "4111  1111  1111  1111", // double spaces do not group
            "41111111111111111111111",
            "",
        ] {
            assert_eq!(redact(text), None, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(
            text in "[0-9 -]{0,80}|[0-9 a-]{0,60}|\\PC{0,40}",
            cards in prop::collection::vec(("[ -]?", 0usize..4), 0..4),
        ) {
            // Text around real cards (Luhn-valid, in both groupings), so spans meet and merge.
            let mut text = text;
            for (sep, at) in cards {
                let card = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "4111111111111111"][at];
                text = format!("{text}{sep}{card}");
            }
            prop_assert_eq!(redact(&text), reference::redact(&text), "{:?}", text);
            for len in 0..=MAX_DIGITS {
                let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').take(len).collect();
                prop_assert_eq!(luhn_valid(&digits), reference::luhn_valid(&digits));
            }
        }

        #[test]
        fn never_panics_and_is_idempotent(text in "[0-9 a-]{0,60}|\\PC{0,40}") {
            let once = redacted(&text);
            prop_assert_eq!(redact(&once), None);
        }

        #[test]
        fn any_luhn_valid_number_is_redacted(body in prop::collection::vec(0u8..10, 12..19), sep in "[ -]?") {
            // Complete the check digit so the number passes Luhn.
            let check = (0..10u8).find(|c| { let mut d = body.clone(); d.push(*c); luhn_valid(&d) }).unwrap();
            let mut digits: Vec<u8> = body.clone();
            digits.push(check);
            let text: String = digits
                .chunks(4)
                .map(|chunk| chunk.iter().map(|d| char::from(b'0' + d)).collect::<String>())
                .collect::<Vec<_>>()
                .join(&sep);
            prop_assert_eq!(redacted(&format!("card: {text}.")), format!("card: {REDACTED}."));
        }
    }
}
