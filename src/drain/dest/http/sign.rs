//! Request signatures: `X-Outflow-Signature` (hex HMAC-SHA256 of the body, first secret) and
//! Standard Webhooks `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
//! one per secret, space-separated, so a receiver can rotate without a gap).
//!
//! Both sign the exact bytes on the wire: with gzip on, the compressed body. A receiver
//! verifies before it decompresses — which is also the order that keeps a forged body from
//! costing it a decompression.
//!
//! A secret of the Standard Webhooks form `whsec_<base64>` signs with the decoded bytes, as
//! the Standard Webhooks libraries expect; any other string signs with its UTF-8 bytes.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Standard alphabet, padding optional: secrets are pasted by hand, and a missing `=` is
/// not worth refusing.
const WHSEC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signing keys of one destination, newest first.
#[derive(Clone, Default)]
pub(super) struct Signer {
    keys: Vec<Vec<u8>>,
}

/// Never prints a key.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({} secrets)", self.keys.len())
    }
}

/// The bytes a signing secret signs with. Errors name the secret by position only.
pub(super) fn key_bytes(secret: &str, position: usize) -> Result<Vec<u8>, String> {
    let key = match secret.strip_prefix("whsec_") {
        Some(encoded) => WHSEC_BASE64.decode(encoded).map_err(|_| {
            format!(
                "signing secret {position} starts with `whsec_` but the rest is not valid base64"
            )
        })?,
        None => secret.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(format!("signing secret {position} is empty"));
    }
    Ok(key)
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

impl Signer {
    /// Keys for `secrets`, in the given order (newest first).
    pub(super) fn new(secrets: &[String]) -> Result<Signer, String> {
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(i, s)| key_bytes(s, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Signer { keys })
    }

    /// Number of keys.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// `X-Outflow-Signature`: hex HMAC-SHA256 of `body` with the newest key.
    pub(super) fn outflow_signature(&self, body: &[u8]) -> Option<String> {
        let key = self.keys.first()?;
        let mut m = mac(key);
        m.update(body);
        Some(hex::encode(m.finalize().into_bytes()))
    }

    /// `webhook-signature`: one `v1,…` per key, space-separated.
    pub(super) fn webhook_signature(
        &self,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Option<String> {
        if self.keys.is_empty() {
            return None;
        }
        let prefix = format!("{id}.{timestamp}.");
        let signatures: Vec<String> = self
            .keys
            .iter()
            .map(|key| {
                let mut m = mac(key);
                m.update(prefix.as_bytes());
                m.update(body);
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
                format!("v1,{encoded}")
            })
            .collect();
        Some(signatures.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(secrets: &[&str]) -> Signer {
        Signer::new(&secrets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn standard_webhooks_reference_vectors() {
        // From the Standard Webhooks reference library (libraries/rust, `test_sign`).
        let s = signer(&["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"]);
        assert_eq!(
            s.webhook_signature(
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            )
            .unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        // The Svix vector that the Standard Webhooks libraries share.
        let s = signer(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
        assert_eq!(
            s.webhook_signature(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            )
            .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn one_signature_per_secret_newest_first() {
        let both = signer(&[
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ]);
        let sig = both.webhook_signature(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        let sig = sig.unwrap();
        let parts: Vec<&str> = sig.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(parts[1].starts_with("v1,") && parts[1] != parts[0]);
    }

    #[test]
    fn plain_secrets_sign_with_their_utf8_bytes() {
        let s = signer(&["s3cret"]);
        let mut m = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        m.update(b"body");
        assert_eq!(
            s.outflow_signature(b"body").unwrap(),
            hex::encode(m.finalize().into_bytes())
        );
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 2104 examples.
        let s = signer(&["key", "other"]);
        assert_eq!(
            s.outflow_signature(b"The quick brown fox jumps over the lazy dog")
                .unwrap(),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn no_secrets_no_signatures() {
        let s = Signer::default();
        assert_eq!(s.outflow_signature(b"x"), None);
        assert_eq!(s.webhook_signature("id", 1, b"x"), None);
    }

    #[test]
    fn bad_secrets_are_named_by_position_only() {
        let bad = "whsec_not base64!!".to_string();
        let err = Signer::new(&["fine".into(), bad.clone()]).unwrap_err();
        assert!(
            err.contains("signing secret 2") && !err.contains(&bad),
            "{err}"
        );
        assert!(Signer::new(&["".into()]).unwrap_err().contains("empty"));
        assert!(
            Signer::new(&["whsec_".into()])
                .unwrap_err()
                .contains("empty")
        );
        // Padding optional.
        assert_eq!(key_bytes("whsec_YWJj", 1).unwrap(), b"abc");
        assert_eq!(key_bytes("whsec_YWI", 1).unwrap(), b"ab");
        assert_eq!(format!("{:?}", signer(&["s3cret"])), "Signer(1 secrets)");
    }
}
