//! HMAC-SHA256 signing and constant-time checking, shared by the platforms that use it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::AuthError;
use super::headers::Headers;
use crate::time::Millis;

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

/// The header carrying [`timestamped`]'s signature.
pub const SIGNATURE_HEADER: &str = "X-StockEdge-Signature";
/// The header carrying the Unix seconds [`timestamped`] signed.
pub const TIMESTAMP_HEADER: &str = "X-StockEdge-Timestamp";

/// Checks a request signed with [`timestamped`] (the Amazon forwarder's, the webhook ERP's): the
/// `X-StockEdge-Signature` header (`sha256=` and 64 hex digits) over the exact `X-StockEdge-Timestamp`
/// text and the raw body, in constant time; a timestamp more than `max_skew_ms` from `now`
/// (either way) is refused, so a captured request cannot be replayed later.
pub fn verify_timestamped(
    headers: &Headers,
    body: &[u8],
    secret: &[u8],
    now: Millis,
    max_skew_ms: i64,
) -> Result<(), AuthError> {
    if secret.is_empty() {
        return Err(AuthError::NoSecret);
    }
    let sig = headers.get(SIGNATURE_HEADER).ok_or(AuthError::MissingHeader { header: SIGNATURE_HEADER })?;
    let hex_part = sig
        .strip_prefix("sha256=")
        .ok_or(AuthError::MalformedHeader { header: SIGNATURE_HEADER, reason: "must start with sha256=" })?;
    let given = hex::decode(hex_part)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or(AuthError::MalformedHeader { header: SIGNATURE_HEADER, reason: "must be 64 hex digits" })?;
    let ts = headers.get(TIMESTAMP_HEADER).ok_or(AuthError::MissingHeader { header: TIMESTAMP_HEADER })?;
    let secs = Some(ts)
        .filter(|t| !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(AuthError::MalformedHeader { header: TIMESTAMP_HEADER, reason: "must be Unix seconds" })?;
    let skew = now.0.saturating_sub(secs.saturating_mul(1000)).saturating_abs();
    if skew > max_skew_ms {
        return Err(AuthError::OutsideWindow { skew_ms: skew, max_ms: max_skew_ms });
    }
    check_hmac_sha256(secret, &[ts.as_bytes(), b".", body], &given)
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
