//! `POST /v1/webhooks/woocommerce` (`X-WC-Webhook-Signature`, the creation ping, order topics)
//! and the order-feed poll's page (`GET /wp-json/wc/v3/orders`).
//!
//! Input: one flag byte, then five lines (topic, source, webhook id, delivery id, signature
//! header), then the body. Flag bit 0 signs the body; bit 2 reads the body as a poll page
//! instead. Contract as for Shopify: signed → never unauthorised; unsigned → accepted only as the
//! ping or with the true signature; a flipped bit → mismatch; accepted → [`assert_received`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::inbound::{woocommerce, Headers, InboundOutcome};
use stockedge_fuzz::{assert_event, assert_signing, lines_then_body, NOW, SECRET};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (h, body) = lines_then_body(rest, 5);
    if flags & 4 != 0 {
        if let Ok(events) = woocommerce::parse_orders_page("https://shop.example.com", body, NOW) {
            events.iter().for_each(assert_event);
        }
        return;
    }
    let signed = flags & 1 == 1;
    let signature = if signed { woocommerce::sign(SECRET, body) } else { h[4].clone() };
    let headers = Headers::new()
        .with(woocommerce::TOPIC_HEADER, &h[0])
        .with(woocommerce::SOURCE_HEADER, &h[1])
        .with(woocommerce::WEBHOOK_ID_HEADER, &h[2])
        .with(woocommerce::DELIVERY_ID_HEADER, &h[3])
        .with(woocommerce::SIGNATURE_HEADER, &signature);
    let receive = |b: &[u8]| woocommerce::receive(&headers, b, SECRET, NOW);
    assert_signing(signed, body, flags >> 3, receive, |r| {
        if r.outcome == InboundOutcome::Ping {
            assert!(woocommerce::is_ping(&headers, body), "a ping that is none");
        } else {
            assert!(signed || signature.trim() == woocommerce::sign(SECRET, body), "accepted a forged signature");
        }
    });
});
