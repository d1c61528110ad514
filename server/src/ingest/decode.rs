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
