//! How the engine proves who it is to an agency: an API key in a header, or HMAC-SHA256
//! signed requests with a timestamp (the agency refuses a stale timestamp or a signature it
//! has seen before). Secrets come from the environment, never from a file in the repository,
//! and never appear in logs (`Debug` shows them redacted).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the signing time, in Unix seconds.
pub const TIMESTAMP: &str = "x-lienthong-timestamp";
/// Header carrying `v1=<hex HMAC-SHA256>` over `timestamp.method.path.body`.
pub const SIGNATURE: &str = "x-lienthong-signature";
/// Header naming which key signed (so agencies can rotate keys).
pub const KEY_ID: &str = "x-lienthong-key-id";
/// The largest clock difference an agency accepts (seconds).
pub const MAX_SKEW_S: i64 = 300;

/// A secret value; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An agency's authentication scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// A fixed key in `header`.
    ApiKey { header: String, key: Secret },
    /// Signed requests.
    Hmac { key_id: String, secret: Secret },
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new_from_slice(&[0]).expect("HMAC takes any key length")
    })
}

fn message(m: &mut Hmac<Sha256>, timestamp: i64, method: &str, path: &str, body: &[u8]) {
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(method.as_bytes());
    m.update(b".");
    m.update(path.as_bytes());
    m.update(b".");
    m.update(body);
}

/// `v1=<hex>`: the signature of one request.
pub fn sign(secret: &Secret, timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut m = mac(secret.expose().as_bytes());
    message(&mut m, timestamp, method, path, body);
    let hex: String = m
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={hex}")
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("timestamp is {0} s away from now (at most {MAX_SKEW_S} s allowed)")]
    Stale(i64),
    #[error("signature does not match")]
    BadSignature,
    #[error("signature already used (replay)")]
    Replayed,
}

/// Checks a signed request in constant time; `now_s` is the receiver's Unix time.
pub fn verify(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    (method, path, body): (&str, &str, &[u8]),
    now_s: i64,
) -> Result<(), Refused> {
    let ts: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(Refused::Missing(TIMESTAMP))?;
    let sig = signature.ok_or(Refused::Missing(SIGNATURE))?;
    if (now_s - ts).abs() > MAX_SKEW_S {
        return Err(Refused::Stale(now_s - ts));
    }
    let hex = sig.strip_prefix("v1=").ok_or(Refused::BadSignature)?;
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let bytes = bytes.ok_or(Refused::BadSignature)?;
    let mut m = mac(secret.expose().as_bytes());
    message(&mut m, ts, method, path, body);
    m.verify_slice(&bytes).map_err(|_| Refused::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_is_refused() {
        let s = Secret::new("k3y");
        let sig = sign(&s, 1_000, "POST", "/a", b"{}");
        assert_eq!(
            verify(&s, Some("1000"), Some(&sig), ("POST", "/a", b"{}"), 1_010),
            Ok(())
        );
        assert_eq!(
            verify(
                &s,
                Some("1000"),
                Some(&sig),
                ("POST", "/a", b"{\"x\":1}"),
                1_010
            ),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(&s, Some("1000"), Some(&sig), ("POST", "/b", b"{}"), 1_010),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(
                &Secret::new("other"),
                Some("1000"),
                Some(&sig),
                ("POST", "/a", b"{}"),
                1_010
            ),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(&s, Some("1000"), Some(&sig), ("POST", "/a", b"{}"), 2_000),
            Err(Refused::Stale(1_000))
        );
        assert_eq!(
            verify(&s, None, Some(&sig), ("POST", "/a", b"{}"), 1_000),
            Err(Refused::Missing(TIMESTAMP))
        );
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }
}
