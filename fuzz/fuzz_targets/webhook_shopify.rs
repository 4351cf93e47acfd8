//! `POST /v1/webhooks/shopify`: the `X-Shopify-Hmac-Sha256` check and the four topics' bodies.
//!
//! Input: one flag byte, then five lines (topic, shop domain, event id, triggered-at, signature
//! header), then the body. Flag bit 0 signs the body with the channel's secret instead of using
//! the fifth line. Contract: a correctly signed delivery is never refused as unauthorised; an
//! unsigned one is accepted only if its header IS the signature; one flipped bit of a signed body
//! is a mismatch; an accepted delivery meets [`assert_received`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::inbound::{shopify, AuthError, Headers, InboundError};
use stockedge_fuzz::{assert_received, flipped, lines_then_body, NOW, SECRET};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (h, body) = lines_then_body(rest, 5);
    let signed = flags & 1 == 1;
    let signature = if signed { shopify::sign(SECRET, body) } else { h[4].clone() };
    let headers = Headers::new()
        .with(shopify::TOPIC_HEADER, &h[0])
        .with(shopify::SHOP_HEADER, &h[1])
        .with(shopify::EVENT_ID_HEADER, &h[2])
        .with(shopify::TRIGGERED_AT_HEADER, &h[3])
        .with(shopify::HMAC_HEADER, &signature);
    match shopify::receive(&headers, body, SECRET, NOW) {
        Ok(r) => {
            assert!(signed || signature.trim() == shopify::sign(SECRET, body), "accepted a forged signature");
            assert_received(&r);
        }
        Err(InboundError::Unauthorized(e)) => assert!(!signed, "a correctly signed delivery refused: {e}"),
        Err(_) => {}
    }
    if signed {
        if let Some(tampered) = flipped(body, flags >> 1) {
            let e = shopify::receive(&headers, &tampered, SECRET, NOW).expect_err("a tampered body");
            assert_eq!(e, InboundError::Unauthorized(AuthError::Mismatch));
        }
    }
});
