//! HMAC-SHA256 signing and constant-time checking, shared by the platforms that use it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::AuthError;
use super::headers::Headers;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length (RFC 2104: longer keys are hashed, shorter ones padded), so
    // `new_from_slice` does not fail; the fallback (an all-zero key nobody configures) only
    // keeps this free of panics.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
    for p in parts {
        m.update(p);
    }
    m
}

/// HMAC-SHA256(secret, concatenation of `parts`).
pub(crate) fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    mac(secret, parts).finalize().into_bytes().into()
}

/// StockEdge's own signature, on what it sends (alert webhooks, the webhook ERP) and on what a
/// signed sender posts to it (the Amazon forwarder): `sha256=<lowercase hex of
/// HMAC-SHA256(secret, "<timestamp>.<body>")>`, the timestamp in Unix seconds as sent in
/// `X-StockEdge-Timestamp`.
pub fn timestamped(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    format!("sha256={}", hex::encode(hmac_sha256(secret, &[ts.as_bytes(), b".", body])))
}

/// Checks `expected` against HMAC-SHA256(secret, parts) in constant time (`Mac::verify_slice`).
pub(crate) fn check_hmac_sha256(secret: &[u8], parts: &[&[u8]], expected: &[u8]) -> Result<(), AuthError> {
    if secret.is_empty() {
        return Err(AuthError::NoSecret);
    }
    mac(secret, parts).verify_slice(expected).map_err(|_| AuthError::Mismatch)
}

/// base64(HMAC-SHA256(secret, body)): the Shopify and WooCommerce signature.
pub(crate) fn base64_hmac(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(secret, &[body]))
}

/// Verifies a header carrying base64(HMAC-SHA256(secret, raw body)).
pub(crate) fn verify_base64_header(
    headers: &Headers,
    header: &'static str,
    body: &[u8],
    secret: &[u8],
) -> Result<(), AuthError> {
    if secret.is_empty() {
        return Err(AuthError::NoSecret);
    }
    let value = headers.get(header).ok_or(AuthError::MissingHeader { header })?;
    let given =
        STANDARD.decode(value.as_bytes()).map_err(|_| AuthError::MalformedHeader { header, reason: "not base64" })?;
    if given.len() != 32 {
        return Err(AuthError::MalformedHeader { header, reason: "not a SHA-256 HMAC (32 bytes)" });
    }
    check_hmac_sha256(secret, &[body], &given)
}
