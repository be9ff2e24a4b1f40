//! How smo signs the webhooks it exchanges with other systems, both ways:
//! posts pushed to smo's webhook receiver, and replies and notifications smo
//! sends to a client's system. `X-Smo-Timestamp` is the Unix time in
//! seconds; `X-Smo-Signature` is `sha256=` followed by the hex HMAC-SHA256
//! of `{timestamp}.{body}` under the shared secret. Signing the timestamp
//! with the body lets a receiver refuse stale requests, so a captured request
//! cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the Unix time (seconds) the sender signed at.
pub const TIMESTAMP_HEADER: &str = "x-smo-timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`.
pub const SIGNATURE_HEADER: &str = "x-smo-signature";

fn mac_of(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; the fallback is unreachable and
    // only keeps this free of panics.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| Hmac::<Sha256>::new_from_slice(&[0]).unwrap_or_else(|_| unreachable!()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Smo-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac_of(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(7 + tag.len() * 2);
    out.push_str("sha256=");
    for byte in tag {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

/// Whether `signature` (with or without the `sha256=` prefix, any hex case)
/// is the signature of `body` at `timestamp`; compared in constant time.
pub fn verify(secret: &[u8], timestamp: i64, body: &[u8], signature: &str) -> bool {
    let hex = signature.trim().trim_start_matches("sha256=");
    let Some(tag) = decode_hex(hex) else { return false };
    mac_of(secret, timestamp, body).verify_slice(&tag).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primitive_is_hmac_sha256() {
        // RFC 4231 test case 2.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        let tag: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(decode_hex("0aff"), Some(vec![10, 255]));
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("abc"), None);
    }

    #[test]
    fn signs_and_verifies_timestamp_dot_body() {
        let signature = sign(b"secret", 1_700_000_000, b"{\"a\":1}");
        assert!(signature.starts_with("sha256=") && signature.len() == 7 + 64);
        assert!(verify(b"secret", 1_700_000_000, b"{\"a\":1}", &signature));
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{\"a\":1}",
            &signature.to_uppercase().replace("SHA256=", "")
        ));
        assert!(!verify(b"secret", 1_700_000_001, b"{\"a\":1}", &signature), "timestamp is signed");
        assert!(!verify(b"other", 1_700_000_000, b"{\"a\":1}", &signature));
        assert!(!verify(b"secret", 1_700_000_000, b"{\"a\":2}", &signature));
        assert!(!verify(b"secret", 1_700_000_000, b"x", "sha256=zz"));
        assert!(!verify(b"secret", 1_700_000_000, b"x", "sha256=é1"));
    }
}
