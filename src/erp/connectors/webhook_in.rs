//! What a webhook ERP sends StockEdge (`POST /v1/erp/connections/{id}/snapshots`, docs/erp.md
//! "Webhook ERP"): its snapshots, signed exactly as StockEdge signs what it sends the ERP
//! ([`webhook::request`](super::webhook::request)), with the connection's secret —
//! `X-StockEdge-Timestamp` (Unix seconds) and `X-StockEdge-Signature: sha256=<hex
//! HMAC-SHA256(secret, "<timestamp>.<raw body>")>` — so one implementation signs and verifies on
//! the ERP's side as on StockEdge's.
//!
//! The check ([`verify`]) is `inbound::signature::verify_timestamped`, the Amazon forwarder's:
//! constant-time (`hmac`'s `verify_slice`), over the raw body as received, with a timestamp at
//! most [`WEBHOOK_MAX_SKEW_MS`] from now either way. Every failure is one
//! [`AuthError`] (the details are for logs; the caller is answered `401`).
//!
//! A request to an id that is no enabled webhook connection (none, another kind, disabled, or its
//! secret unreadable) is checked too, against a decoy key, and fails like a wrong signature
//! ([`verify_connection`]): an unauthenticated caller cannot tell which connection ids exist.

use crate::erp::limits::WEBHOOK_MAX_SKEW_MS;
use crate::inbound::error::AuthError;
use crate::inbound::headers::Headers;
use crate::inbound::signature::verify_timestamped;
use crate::time::Millis;

/// `Ok` when `headers` sign `body` with `secret` at a time within [`WEBHOOK_MAX_SKEW_MS`] of
/// `now`; why not otherwise (an empty secret refuses everything).
pub fn verify(headers: &Headers, body: &[u8], secret: &[u8], now: Millis) -> Result<(), AuthError> {
    verify_timestamped(headers, body, secret, now, WEBHOOK_MAX_SKEW_MS)
}

/// The key a request is checked with when its connection has none: the work of a real check is
/// done, and its outcome ignored (this key is no secret: it must never authenticate anything).
const DECOY_KEY: &[u8] = b"stockedge: no enabled webhook connection under this id";

/// [`verify`] for a connection that may not exist: `secret` is `None` when the id names no enabled
/// webhook connection (or its secret cannot be read). Then the signature is still checked —
/// against [`DECOY_KEY`], so the answer takes about as long — and the request is refused whatever
/// that check says ([`AuthError::NoSecret`]), the same `401` as a wrong signature. The timing is
/// close, not identical: the lookup of a missing connection and of its secret differ.
pub fn verify_connection(headers: &Headers, body: &[u8], secret: Option<&[u8]>, now: Millis) -> Result<(), AuthError> {
    match secret {
        Some(s) => verify(headers, body, s, now),
        None => {
            let _ = std::hint::black_box(verify(headers, body, std::hint::black_box(DECOY_KEY), now));
            Err(AuthError::NoSecret)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::connectors::webhook::request;
    use crate::inbound::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
    use serde_json::json;

    const SECRET: &[u8] = b"erp-hook-secret";
    const NOW: Millis = Millis(1_796_000_000_000);

    /// The headers and body of a request signed the way StockEdge signs what it sends the ERP.
    fn signed(body: &serde_json::Value, at: Millis) -> (Headers, String) {
        let r = request(body, "k", SECRET, at);
        (Headers::from_pairs(r.headers.iter().map(|(k, v)| (k, v))), r.body)
    }

    fn snapshot() -> serde_json::Value {
        json!({"snapshot": "s-1", "basis": "available", "as_of": {"sequence": 4}, "lines": [{"sku": "A", "quantity": 3}]})
    }

    #[test]
    fn a_body_signed_as_stockedge_signs_verifies() {
        let (h, body) = signed(&snapshot(), NOW);
        assert_eq!(verify(&h, body.as_bytes(), SECRET, NOW), Ok(()));
        // Within the tolerance either way.
        let (early, body) = signed(&snapshot(), Millis(NOW.0 - WEBHOOK_MAX_SKEW_MS));
        assert_eq!(verify(&early, body.as_bytes(), SECRET, NOW), Ok(()));
        let (late, body) = signed(&snapshot(), Millis(NOW.0 + WEBHOOK_MAX_SKEW_MS));
        assert_eq!(verify(&late, body.as_bytes(), SECRET, NOW), Ok(()));
    }

    #[test]
    fn a_tampered_body_or_another_secret_is_a_mismatch() {
        let (h, body) = signed(&snapshot(), NOW);
        let tampered = body.replace("\"quantity\":3", "\"quantity\":300");
        assert_ne!(tampered, body);
        assert_eq!(verify(&h, tampered.as_bytes(), SECRET, NOW), Err(AuthError::Mismatch));
        assert_eq!(verify(&h, body.as_bytes(), b"another-secret", NOW), Err(AuthError::Mismatch));
        assert_eq!(verify(&h, body.as_bytes(), b"", NOW), Err(AuthError::NoSecret));
    }

    #[test]
    fn a_stale_or_future_timestamp_is_outside_the_window() {
        let (old, body) = signed(&snapshot(), Millis(NOW.0 - WEBHOOK_MAX_SKEW_MS - 1_000));
        assert!(matches!(verify(&old, body.as_bytes(), SECRET, NOW), Err(AuthError::OutsideWindow { .. })));
        let (ahead, body) = signed(&snapshot(), Millis(NOW.0 + WEBHOOK_MAX_SKEW_MS + 1_000));
        assert!(matches!(verify(&ahead, body.as_bytes(), SECRET, NOW), Err(AuthError::OutsideWindow { .. })));
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        let (h, body) = signed(&snapshot(), NOW);
        let sig = h.get(SIGNATURE_HEADER).expect("signature").to_owned();
        let ts = h.get(TIMESTAMP_HEADER).expect("timestamp").to_owned();
        let only = |pairs: &[(&str, &str)]| Headers::from_pairs(pairs.iter().copied());
        let b = body.as_bytes();
        assert_eq!(
            verify(&only(&[(TIMESTAMP_HEADER, &ts)]), b, SECRET, NOW),
            Err(AuthError::MissingHeader { header: SIGNATURE_HEADER })
        );
        assert_eq!(
            verify(&only(&[(SIGNATURE_HEADER, &sig)]), b, SECRET, NOW),
            Err(AuthError::MissingHeader { header: TIMESTAMP_HEADER })
        );
        let bare_hex = sig.trim_start_matches("sha256=");
        for (sig, ts) in [(bare_hex, ts.as_str()), ("sha256=zz", ts.as_str()), ("sha256=abcd", ts.as_str())] {
            let r = verify(&only(&[(SIGNATURE_HEADER, sig), (TIMESTAMP_HEADER, ts)]), b, SECRET, NOW);
            assert!(matches!(r, Err(AuthError::MalformedHeader { header: SIGNATURE_HEADER, .. })), "{sig}: {r:?}");
        }
        for ts in ["-5", "1796000000.5", "2026-12-07T00:00:00Z", "1234567890123"] {
            let r = verify(&only(&[(SIGNATURE_HEADER, &sig), (TIMESTAMP_HEADER, ts)]), b, SECRET, NOW);
            assert!(matches!(r, Err(AuthError::MalformedHeader { header: TIMESTAMP_HEADER, .. })), "{ts}: {r:?}");
        }
    }

    #[test]
    fn no_connection_is_refused_whatever_the_signature() {
        let (h, body) = signed(&snapshot(), NOW);
        assert_eq!(verify_connection(&h, body.as_bytes(), Some(SECRET), NOW), Ok(()));
        assert_eq!(verify_connection(&h, body.as_bytes(), None, NOW), Err(AuthError::NoSecret));
        // Not even a request signed with the decoy key.
        let r = request(&snapshot(), "k", DECOY_KEY, NOW);
        let decoy = Headers::from_pairs(r.headers.iter().map(|(k, v)| (k, v)));
        assert_eq!(verify(&decoy, r.body.as_bytes(), DECOY_KEY, NOW), Ok(()), "the decoy check is a real check");
        assert_eq!(verify_connection(&decoy, r.body.as_bytes(), None, NOW), Err(AuthError::NoSecret));
        assert!(verify_connection(&decoy, r.body.as_bytes(), Some(SECRET), NOW).is_err());
    }
}
