//! Turning request bytes into a wire batch: media type, gzip, lone surrogates, JSON.
//! Type errors name the offending path (`logs[3].level`) just like validation errors.

use crate::error::{Error, Result};
use bytes::Bytes;
use flate2::read::GzDecoder;
use std::io::Read;
use tracewire_shared::validate::{FieldError, replace_lone_surrogate_escapes};
use tracewire_shared::wire::IngestBatch;

/// `application/json` and `text/plain` (what CORS-simple requests and `sendBeacon` send) are
/// accepted, with any parameters; a missing type is read as JSON.
pub(super) fn check_content_type(content_type: Option<&str>) -> Result<()> {
    let Some(ct) = content_type else {
        return Ok(());
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "text/plain" | "" => Ok(()),
        other => Err(Error::UnsupportedMediaType(format!(
            "content type {other:?} is not accepted; send application/json or text/plain"
        ))),
    }
}

/// Inflates a gzip body, refusing to grow past `limit` bytes (decompression bombs).
pub(super) fn decompress(body: Bytes, encoding: Option<&str>, limit: usize) -> Result<Bytes> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            let mut reader = GzDecoder::new(body.as_ref()).take(limit as u64 + 1);
            reader
                .read_to_end(&mut out)
                .map_err(|e| Error::MalformedJson(format!("invalid gzip body: {e}")))?;
            if out.len() > limit {
                return Err(Error::TooLarge(format!(
                    "decompressed body exceeds {limit} bytes"
                )));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(Error::UnsupportedMediaType(format!(
            "content encoding {other:?} is not accepted; send gzip or no encoding"
        ))),
    }
}

/// How much JSON structure one body may carry. The bytes of a body are bounded by the body
/// limits; these bound what parsing them costs, which can be far more: an array of `1,`s takes
/// two bytes per element on the wire and a 32-byte `serde_json::Value` (plus vector slack) once
/// parsed, so 8 MiB of it would become ~250 MB in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeLimits {
    /// Most array elements plus object members in the whole body.
    pub max_elements: usize,
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
}

/// Counts elements and nesting outside strings in one pass without allocating, and refuses the
/// body before it is parsed when either is over its limit. The count is an upper bound on the
/// values parsing would build (every element or member after the first of its container costs a
/// comma, the first costs its container's bracket), so the parse memory of an accepted body is
/// bounded by `max_elements` times the size of one value.
pub(super) fn check_shape(body: &[u8], limits: ShapeLimits) -> Result<()> {
    let mut elements = 0usize;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                elements += 1;
                if depth > limits.max_depth {
                    return Err(Error::TooLarge(format!(
                        "the body nests arrays and objects deeper than {} levels",
                        limits.max_depth
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => elements += 1,
            _ => continue,
        }
        if elements > limits.max_elements {
            return Err(Error::TooLarge(format!(
                "the body holds more than {} JSON array elements and object members; send \
                 fewer entries per batch or smaller structured fields",
                limits.max_elements
            )));
        }
    }
    Ok(())
}

/// A native request body to a wire batch: gzip inflated within `max_decompressed` bytes, the
/// JSON's shape bounded, then parsed. Pure, so the decoder fuzz test drives it directly.
pub fn decode_body(
    body: Bytes,
    encoding: Option<&str>,
    max_decompressed: usize,
    shape: ShapeLimits,
) -> Result<IngestBatch> {
    let body = decompress(body, encoding, max_decompressed)?;
    check_shape(&body, shape)?;
    parse(&body)
}

/// Parses the batch. Syntax errors are 400; well-formed JSON of the wrong shape is 422 with the
/// path of the first mismatch (found by a second, path-tracking parse only on that error path).
pub(super) fn parse(body: &[u8]) -> Result<IngestBatch> {
    let body = replace_lone_surrogate_escapes(body);
    match serde_json::from_slice::<IngestBatch>(&body) {
        Ok(batch) => Ok(batch),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            let de = &mut serde_json::Deserializer::from_slice(&body);
            let path = match serde_path_to_error::deserialize::<_, IngestBatch>(de) {
                Err(tracked) => tracked.path().to_string(),
                Ok(_) => ".".to_owned(),
            };
            Err(Error::Validation(vec![FieldError {
                path,
                message: strip_position(&e.to_string()),
            }]))
        }
        Err(e) => Err(Error::MalformedJson(e.to_string())),
    }
}

/// serde's messages end with " at line 1 column 57", which means nothing next to a path.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn media_types() {
        assert!(check_content_type(Some("application/json; charset=utf-8")).is_ok());
        assert!(check_content_type(Some("text/plain;charset=UTF-8")).is_ok());
        assert!(check_content_type(None).is_ok());
        assert!(matches!(
            check_content_type(Some("application/x-www-form-urlencoded")),
            Err(Error::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn gzip_round_trip_and_bomb_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b' '; 10_000]).unwrap();
        let gz = Bytes::from(enc.finish().unwrap());
        assert_eq!(
            decompress(gz.clone(), Some("gzip"), 10_000).unwrap().len(),
            10_000
        );
        assert!(matches!(
            decompress(gz, Some("gzip"), 9_999),
            Err(Error::TooLarge(_))
        ));
        assert!(matches!(
            decompress(Bytes::from_static(b"{}"), Some("br"), 10),
            Err(Error::UnsupportedMediaType(_))
        ));
    }

    const SHAPE: ShapeLimits = ShapeLimits {
        max_elements: 10,
        max_depth: 3,
    };

    #[test]
    fn shape_limits_count_outside_strings_only() {
        assert!(check_shape(br#"{"a":[1,2,3],"b":{"c":[4]}}"#, SHAPE).is_ok());
        // Commas, brackets and escaped quotes inside strings are text, not structure.
        assert!(check_shape(br#"{"a":"[[[[,,,,,,,,,,,,\"[[[[,,,,"}"#, SHAPE).is_ok());
        assert!(matches!(
            check_shape(br#"[1,2,3,4,5,6,7,8,9,10,11]"#, SHAPE),
            Err(Error::TooLarge(m)) if m.contains("more than 10")
        ));
        assert!(matches!(
            check_shape(br#"[[[[1]]]]"#, SHAPE),
            Err(Error::TooLarge(m)) if m.contains("deeper than 3")
        ));
        assert!(check_shape(br#"[[[1]]]"#, SHAPE).is_ok());
    }

    proptest::proptest! {
        /// The element count bounds what parsing builds: a body accepted under a limit never
        /// parses into more values than the limit plus one (the root).
        #[test]
        fn accepted_bodies_parse_into_bounded_values(
            value in json_value(),
            limit in 1usize..40,
        ) {
            let body = serde_json::to_vec(&value).unwrap();
            let limits = ShapeLimits { max_elements: limit, max_depth: 64 };
            if check_shape(&body, limits).is_ok() {
                proptest::prop_assert!(count_values(&value) <= limit + 1);
            }
            // Never more than two counted per value (its bracket, and the comma before it), so a
            // limit of twice the values never refuses a body.
            let generous = ShapeLimits { max_elements: 2 * count_values(&value), max_depth: 64 };
            proptest::prop_assert!(check_shape(&body, generous).is_ok());
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            "[\\[\\]{},\"\\\\a-z]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map("[a-z,\\[]{1,3}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn count_values(value: &serde_json::Value) -> usize {
        1 + match value {
            serde_json::Value::Array(items) => items.iter().map(count_values).sum(),
            serde_json::Value::Object(map) => map.values().map(count_values).sum(),
            _ => 0,
        }
    }

    #[test]
    fn type_errors_name_their_path() {
        let body = br#"{"batch_id":"x","source":"frontend","logs":[{"level":"INFO","message":"a"},{"level":5,"message":"b"}]}"#;
        match parse(body) {
            Err(Error::Validation(fields)) => assert_eq!(fields[0].path, "logs[1].level"),
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(matches!(
            parse(b"{\"batch_id\":"),
            Err(Error::MalformedJson(_))
        ));
    }
}
