//! Secrets inside free text (messages, stack traces, paths, user ids), found by hand-written
//! scanners: one pass each, no backtracking, no `regex` (the browser logger links this module
//! into its WebAssembly and must not link `regex`).
//!
//! The default set covers what Sentry Relay's default data scrubbing covers in text
//! (`@creditcard`, `@iban`, `@pemkey`, `@urlauth`, `@usssn`, `@bearer`, `@password` applied to
//! `key=value` text) and emails as an option (`@email`):
//!
//! | rule | matches | replaced |
//! |---|---|---|
//! | cards | 13–19 digits, grouped by single spaces/dashes, Luhn-valid ([`super::cards`]) | the digits |
//! | IBAN | upper-case country code of an IBAN country, 2 check digits, 11–30 letters/digits (or groups of 4), 15–34 characters, mod-97 = 1 | the IBAN |
//! | PEM key | `-----BEGIN … PRIVATE KEY…-----` up to the matching `-----END …-----` (or the end of the text, for a cut key) | the block |
//! | URL credentials | the userinfo of `scheme://userinfo@host` | the userinfo; scheme and host stay |
//! | bearer | `Bearer` (any case) + spaces + token characters | the token |
//! | US SSN | `ddd-dd-dddd` not inside a longer run, area not 000/666/9xx, group not 00, serial not 0000 | the number |
//! | key/value | `key=value`, `key: value`, `"key":"value"`, `?key=value&` whose key is sensitive ([`super::Redactor::is_sensitive_key`]) | the value (after an auth scheme word such as `Basic`, only the credential) |
//! | email (option) | `local@domain.tld` | the address |
//!
//! Every rule reports byte ranges; overlapping and touching ranges merge into one marker, and
//! a range that is exactly the marker already is skipped, so redacting twice equals once.
//! Ranges start and end on ASCII bytes or the ends of the text, hence on character boundaries.

use super::{REDACTED, cards};
use std::ops::Range;

/// Which optional rules apply, and which key names are sensitive.
pub(super) struct Rules<'a> {
    /// Also redact email addresses.
    pub emails: bool,
    /// True for a sensitive key name (the same rule as JSON keys).
    pub sensitive_key: &'a dyn Fn(&str) -> bool,
}

/// Redacts every secret the rules find; the new text and how many ranges were replaced, or
/// `None` when nothing was found.
pub(super) fn redact(text: &str, rules: &Rules<'_>) -> Option<(String, usize)> {
    let mut spans = Vec::new();
    cards::spans(text, &mut spans);
    let bytes = text.as_bytes();
    pem_keys(bytes, &mut spans);
    url_credentials(bytes, &mut spans);
    bearer_tokens(bytes, &mut spans);
    ssns(bytes, &mut spans);
    ibans(bytes, &mut spans);
    key_values(text, rules.sensitive_key, &mut spans);
    if rules.emails {
        emails(bytes, &mut spans);
    }
    replace(text, spans)
}

/// Replaces the merged ranges by the marker; ranges that already are the marker are left.
fn replace(text: &str, mut spans: Vec<Range<usize>>) -> Option<(String, usize)> {
    spans.retain(|s| !s.is_empty() && text.get(s.clone()) != Some(REDACTED));
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut count) = (0, 0);
    let mut current: Option<Range<usize>> = None;
    let mut flush = |span: Range<usize>, out: &mut String| {
        out.push_str(text.get(copied..span.start).unwrap_or(""));
        out.push_str(REDACTED);
        copied = span.end;
        count += 1;
    };
    for span in spans {
        match &mut current {
            Some(c) if span.start <= c.end => c.end = c.end.max(span.end),
            _ => {
                if let Some(c) = current.replace(span) {
                    flush(c, &mut out);
                }
            }
        }
    }
    if let Some(c) = current {
        flush(c, &mut out);
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Some((out, count))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The position of `needle` in `bytes` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = bytes.get(from..)?;
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// PEM private key blocks. Only `PRIVATE KEY` labels (RSA, EC, OPENSSH, ENCRYPTED, PGP … BLOCK):
/// public keys and certificates are not secret. A block without its END line (a key cut by a
/// field limit) is redacted to the end of the text.
fn pem_keys(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut at = 0;
    while let Some(start) = find(bytes, at, BEGIN) {
        let label_start = start + BEGIN.len();
        let label_end = find(bytes, label_start, b"-----");
        let label = label_end
            .and_then(|e| bytes.get(label_start..e))
            .unwrap_or(&[]);
        let private = label
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ')
            && find(label, 0, b"PRIVATE KEY").is_some();
        let (Some(label_end), true) = (label_end, private) else {
            at = label_start;
            continue;
        };
        let end = find(bytes, label_end + 5, b"-----END ")
            .and_then(|e| find(bytes, e + 9, b"-----"))
            .map_or(bytes.len(), |e| e + 5);
        spans.push(start..end);
        at = end;
    }
}

/// Userinfo of `scheme://userinfo@host`: everything between `//` and `@`, up to the first byte
/// that cannot be in an authority (`/ ? #`, whitespace, quotes, brackets). Any userinfo, not
/// only `user:password`: tokens are often passed as the user (`https://<token>@github.com`);
/// the cost is that plain user names (`ssh://git@…`) are hidden too.
fn url_credentials(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    let mut at = 0;
    while let Some(sep) = find(bytes, at, b"://") {
        let start = sep + 3;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            if b == b'@'
                || b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'/' | b'?'
                        | b'#'
                        | b'"'
                        | b'\''
                        | b'`'
                        | b'<'
                        | b'>'
                        | b'\\'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b'|'
                )
            {
                break;
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'@') && i > start {
            spans.push(start..i);
        }
        at = i.max(start);
    }
}

/// Characters of an RFC 6750 `b64token`, plus `=` padding.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// `Bearer <token>`, the word in any case. Any token length: a length or alphabet threshold
/// would let short or letters-only tokens through; the cost is the English "bearer of …".
fn bearer_tokens(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    let mut at = 0;
    while at + 6 < bytes.len() {
        let Some(word) = bytes.get(at..at + 6) else {
            break;
        };
        let boundary = at == 0 || bytes.get(at - 1).is_none_or(|b| !is_word(*b));
        if !(boundary && word.eq_ignore_ascii_case(b"bearer")) {
            at += 1;
            continue;
        }
        let mut i = at + 6;
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(|b| is_token(*b)) {
            i += 1;
        }
        if start > at + 6 && i > start {
            spans.push(start..i);
        }
        at = i.max(at + 6);
    }
}

/// US social security numbers `ddd-dd-dddd`, as issued: area 001–899 except 666, group 01–99,
/// serial 0001–9999. Not inside a longer run of digits, letters or dashes (dates, UUIDs, phone
/// numbers with more groups).
fn ssns(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    const SHAPE: &[u8; 11] = b"ddd-dd-dddd";
    let joined = |b: Option<&u8>| b.is_some_and(|b| is_word(*b) || *b == b'-');
    let mut at = 0;
    while at + SHAPE.len() <= bytes.len() {
        let Some(window) = bytes.get(at..at + SHAPE.len()) else {
            break;
        };
        let shaped = window.iter().zip(SHAPE).all(|(b, s)| match s {
            b'd' => b.is_ascii_digit(),
            _ => *b == b'-',
        });
        let alone = (at == 0 || !joined(bytes.get(at - 1))) && !joined(bytes.get(at + 11));
        if shaped && alone {
            let num = |r: Range<usize>| {
                window
                    .get(r)
                    .unwrap_or(&[])
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
            };
            let (area, group, serial) = (num(0..3), num(4..6), num(7..11));
            if area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 {
                spans.push(at..at + SHAPE.len());
                at += SHAPE.len();
                continue;
            }
        }
        at += 1;
    }
}

/// Country codes that issue IBANs (ISO 13616 registry, plus the partner systems that use the
/// format), two letters each.
const IBAN_COUNTRIES: &[u8] = b"ADAEALATAZBABEBGBHBIBRBYCHCRCYCZDEDJDKDOEEEGESFIFKFOFRGBGEGIGLGRGTHRHUIEILIQISITJOKWKZLBLCLILTLULVLYMCMDMEMKMNMRMTMUNINLNOOMPKPLPSPTQAROSRSRUSASCSDSESISKSMSOSTSVTLTNTRUAVAVGXKYEAOBFBJCFCGCICMCVDZGAGQGWHNIRKMMAMGMLMZNESNTDTG";

/// IBANs in electronic (`DE89370400440532013000`) or paper form (`DE89 3704 0044 0532 0130 00`,
/// groups of four). Upper case only, as ISO 13616 writes them: lower-case hex ids (trace ids)
/// would otherwise pass the mod-97 check once in 97.
fn ibans(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    let upper_or_digit =
        |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let starts = (at == 0 || bytes.get(at - 1).is_none_or(|b| !is_word(*b)))
            && bytes.get(at..at + 2).is_some_and(|cc| {
                cc.iter().all(u8::is_ascii_uppercase) && IBAN_COUNTRIES.chunks(2).any(|c| c == cc)
            })
            && bytes
                .get(at + 2..at + 4)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if !starts {
            at += 1;
            continue;
        }
        // Groups of upper-case letters and digits; a group continues the IBAN only after a
        // group of exactly four, joined by one space.
        let mut chars = [0u8; 34];
        let (mut len, mut i, mut best) = (0usize, at, None);
        loop {
            let group_start = i;
            while len <= chars.len() && upper_or_digit(bytes.get(i)) {
                if let Some(slot) = chars.get_mut(len) {
                    *slot = bytes.get(i).copied().unwrap_or(0);
                }
                len += 1;
                i += 1;
            }
            if bytes.get(i).is_some_and(|b| is_word(*b)) || len > chars.len() {
                break;
            }
            if (15..=34).contains(&len) && iban_valid(chars.get(..len).unwrap_or(&[])) {
                best = Some(i);
            }
            let four = i - group_start == 4;
            if four && bytes.get(i) == Some(&b' ') && upper_or_digit(bytes.get(i + 1)) {
                i += 1;
            } else {
                break;
            }
        }
        match best {
            Some(end) => {
                spans.push(at..end);
                at = end;
            }
            None => at += 1,
        }
    }
}

/// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end and
/// letters as 10–35.
fn iban_valid(chars: &[u8]) -> bool {
    let (head, tail) = chars.split_at(4.min(chars.len()));
    let mut rem = 0u32;
    for &c in tail.iter().chain(head) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// Auth scheme words after which only the credential is hidden (`Authorization: Basic xyz`).
const AUTH_SCHEMES: &[&str] = &["basic", "bearer", "digest", "negotiate", "ntlm", "token"];

/// Bytes that end an unquoted value: whitespace and the separators of query strings, cookies,
/// lists and JSON. Not `@`, `:` or `#`, which passwords contain.
fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'&' | b';'
                | b','
                | b'"'
                | b'\''
                | b'`'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'\\'
        )
}

/// `key=value`, `key: value`, `"key": "value"` (also JSON escaped once more, `\"key\":\"…\"`)
/// and query parameters (`?access_token=…&`) whose key is sensitive. The key is the word
/// (letters, digits, `_ - .`) right before the separator; a quoted value runs to its closing
/// quote (or the end of the text), an unquoted one to the next [`ends_value`] byte. A key right
/// after `//` is a URL's user name, left to [`url_credentials`] so the host stays.
fn key_values(text: &str, sensitive: &dyn Fn(&str) -> bool, spans: &mut Vec<Range<usize>>) {
    const MAX_KEY: usize = 128;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let sep = at;
        at += 1;
        // Every `=` and `:`, also `==` and `://`: a password may start with either.
        if !matches!(bytes.get(sep), Some(b'=' | b':')) {
            continue;
        }
        // The key, backwards: spaces, an optional (escaped) closing quote, then the word.
        let mut k = sep;
        while k > 0 && bytes.get(k - 1) == Some(&b' ') {
            k -= 1;
        }
        if k > 0 && matches!(bytes.get(k - 1), Some(b'"' | b'\'')) {
            k -= 1;
            if k > 0 && bytes.get(k - 1) == Some(&b'\\') {
                k -= 1;
            }
        }
        let key_end = k;
        while k > 0
            && key_end - k < MAX_KEY
            && bytes
                .get(k - 1)
                .is_some_and(|b| is_word(*b) || matches!(b, b'_' | b'-' | b'.'))
        {
            k -= 1;
        }
        let after_slashes = k >= 2 && bytes.get(k - 2..k) == Some(b"//");
        let Some(key) = text.get(k..key_end) else {
            continue;
        };
        if key.is_empty() || after_slashes || !sensitive(key) {
            continue;
        }
        // The value.
        let mut v = sep + 1;
        while matches!(bytes.get(v), Some(b' ' | b'\t')) {
            v += 1;
        }
        let escaped =
            bytes.get(v) == Some(&b'\\') && matches!(bytes.get(v + 1), Some(b'"' | b'\''));
        let quote = match bytes.get(v + usize::from(escaped)) {
            Some(q @ (b'"' | b'\'' | b'`')) => Some(*q),
            _ => None,
        };
        let span = if let Some(q) = quote {
            let start = v + 1 + usize::from(escaped);
            let mut i = start;
            loop {
                match bytes.get(i) {
                    None => break,
                    Some(b'\\') if escaped && bytes.get(i + 1) == Some(&q) => break,
                    Some(b'\\') if !escaped => i += 2,
                    Some(b) if *b == q && !escaped => break,
                    Some(_) => i += 1,
                }
            }
            start..i.min(bytes.len())
        } else {
            let mut start = v;
            let word_end = |from: usize| {
                let mut i = from;
                while bytes.get(i).is_some_and(|b| !ends_value(*b)) {
                    i += 1;
                }
                i
            };
            let mut end = word_end(start);
            let word = text.get(start..end).unwrap_or("");
            if AUTH_SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
                && bytes.get(end) == Some(&b' ')
            {
                let mut i = end;
                while bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                if word_end(i) > i {
                    start = i;
                    end = word_end(i);
                }
            }
            start..end
        };
        if !span.is_empty() {
            at = at.max(span.end);
            spans.push(span);
        }
    }
}

/// Email addresses: a local part of `A-Z a-z 0-9 . _ % + -` (the characters addresses use in
/// practice; not `*` or `/`, so the marker and URL paths are never taken for one) and a
/// domain with a dot and a final label of two or more letters. A local part right after `/`
/// is a URL's user name, left to [`url_credentials`].
fn emails(bytes: &[u8], spans: &mut Vec<Range<usize>>) {
    let local = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut from = 0;
    while let Some(at) = find(bytes, from, b"@") {
        from = at + 1;
        let mut start = at;
        while start > 0 && bytes.get(start - 1).is_some_and(|b| local(*b)) {
            start -= 1;
        }
        if start == at || (start > 0 && bytes.get(start - 1) == Some(&b'/')) {
            continue;
        }
        let mut end = at + 1;
        while bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        {
            end += 1;
        }
        while end > at + 1 && matches!(bytes.get(end - 1), Some(b'.' | b'-')) {
            end -= 1;
        }
        let domain = bytes.get(at + 1..end).unwrap_or(&[]);
        let tld = domain.rsplit(|b| *b == b'.').next().unwrap_or(&[]);
        if domain.contains(&b'.') && tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) {
            spans.push(start..end);
            from = end;
        }
    }
}

#[cfg(test)]
mod tests;
