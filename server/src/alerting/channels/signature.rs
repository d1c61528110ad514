//! Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{webhook-id}.{webhook-timestamp}.{body}">` with a `whsec_`-prefixed base64 secret. Pure, so
//! receivers' tests (and ours) can verify with the same code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ChannelError;

/// Header carrying the message id (the same across retries, so receivers can drop duplicates).
pub const ID_HEADER: &str = "webhook-id";
/// Header carrying the attempt's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Header carrying the signature(s).
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// Receivers refuse timestamps further than this from their clock (the spec's replay window).
pub const TOLERANCE_SECS: i64 = 5 * 60;

type HmacSha256 = Hmac<Sha256>;

/// A signing secret as raw key bytes (decoded from `whsec_<base64>`); `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// Reads `whsec_<base64>` (the prefix is optional, as in the reference libraries).
    pub fn parse(text: &str) -> Result<Self, ChannelError> {
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let key = STANDARD.decode(b64).map_err(|_| ChannelError::Secret)?;
        if key.is_empty() {
            return Err(ChannelError::Secret);
        }
        Ok(Self(key))
    }

    /// A secret from raw key bytes.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Self {
        Self(key.into())
    }

    /// The `whsec_` text form.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts every key length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value for one attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Whether any `v1,` signature in `header` (space-separated, as the spec allows during
    /// secret rotation) matches, compared in constant time, and the timestamp is within
    /// [`TOLERANCE_SECS`] of `now`.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
        if (now - timestamp).abs() > TOLERANCE_SECS {
            return false;
        }
        header.split(' ').any(|sig| {
            sig.strip_prefix("v1,")
                .and_then(|b64| STANDARD.decode(b64).ok())
                .is_some_and(|tag| self.mac(id, timestamp, body).verify_slice(&tag).is_ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' test suites.
    #[test]
    fn matches_the_reference_vector() {
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &sig,
            1614265330
        ));
    }

    #[test]
    fn tampering_and_replay_fail() {
        let secret = WebhookSecret::from_bytes(b"k".to_vec());
        let sig = secret.sign("id1", 1000, b"{}");
        assert!(secret.verify("id1", 1000, b"{}", &format!("v1,bogus {sig}"), 1100));
        assert!(
            !secret.verify("id1", 1000, b"{ }", &sig, 1000),
            "body changed"
        );
        assert!(!secret.verify("id2", 1000, b"{}", &sig, 1000), "id changed");
        assert!(
            !secret.verify("id1", 1000, b"{}", &sig, 1000 + TOLERANCE_SECS + 1),
            "too old"
        );
        let other = WebhookSecret::from_bytes(b"j".to_vec());
        assert!(!other.verify("id1", 1000, b"{}", &sig, 1000));
    }

    #[test]
    fn secrets_parse_and_print() {
        assert!(WebhookSecret::parse("whsec_!!").is_err());
        assert!(WebhookSecret::parse("whsec_").is_err());
        let s = WebhookSecret::parse("whsec_c2VjcmV0").expect("base64 of 'secret'");
        assert_eq!(s.to_whsec(), "whsec_c2VjcmV0");
        assert!(!format!("{s:?}").contains("c2Vj"));
    }
}
