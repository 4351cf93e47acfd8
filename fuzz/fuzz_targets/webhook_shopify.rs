//! `POST /v1/webhooks/shopify`: the `X-Shopify-Hmac-Sha256` check and the four topics' bodies.
//!
//! Input: one flag byte, then five lines (topic, shop domain, event id, triggered-at, signature
//! header), then the body. Flag bit 0 signs the body with the channel's secret instead of using
//! the fifth line. Contract: a correctly signed delivery is never refused as unauthorised; an
//! unsigned one is accepted only if its header IS the signature; one flipped bit of a signed body
//! is a mismatch; an accepted delivery meets [`assert_received`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::inbound::{shopify, Headers};
use stockedge_fuzz::{assert_signing, lines_then_body, NOW, SECRET};

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
    let receive = |b: &[u8]| shopify::receive(&headers, b, SECRET, NOW);
    assert_signing(signed, body, flags >> 1, receive, |_| {
        assert!(signed || signature.trim() == shopify::sign(SECRET, body), "accepted a forged signature");
    });
});
