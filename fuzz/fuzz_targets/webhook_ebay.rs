//! `POST /v1/webhooks/ebay`: the `X-EBAY-SIGNATURE` header (base64 JSON, ECDSA P-256), the
//! public-key response, notifications, and the Fulfillment `getOrders` page.
//!
//! Input: one flag byte, then two lines (key id, signature header), then the body. Flag bit 0
//! signs the body with the test key under the first line's key id; bit 2 reads the body as a key
//! response and a `getOrders` page instead. Contract: signed with a usable key id → never
//! unauthorised; a flipped bit → mismatch; a parsed header re-encodes to the same header;
//! accepted → [`assert_received`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use stockedge::inbound::ebay::{self, EbayDigest, EbayKey};
use stockedge::inbound::Headers;
use stockedge_fuzz::{assert_event, assert_signing, lines_then_body, NOW};

fn signing_key() -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[0] = 0x42;
    bytes[31] = 7;
    SigningKey::from_slice(&bytes).expect("a valid scalar")
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (h, body) = lines_then_body(rest, 2);
    if flags & 4 != 0 {
        let _ = EbayKey::from_response(body);
        if let Ok(page) = ebay::parse_orders_page(body, "seller-1", NOW) {
            page.events.iter().for_each(assert_event);
        }
        return;
    }
    let sk = signing_key();
    let key = EbayKey::new(*sk.verifying_key(), EbayDigest::Sha256);
    let signed = flags & 1 == 1;
    let header = if signed {
        let sig: Signature = sk.sign(body);
        ebay::encode_signature_header(&h[0], sig.to_der().as_bytes(), EbayDigest::Sha256)
    } else {
        h[1].clone()
    };
    let headers = Headers::new().with(ebay::SIGNATURE_HEADER, &header);
    if let Ok(parsed) = ebay::parse_signature_header(&headers) {
        assert!(ebay::valid_kid(&parsed.kid));
        let again = ebay::encode_signature_header(&parsed.kid, &parsed.signature, EbayDigest::Sha256);
        let reparsed = ebay::parse_signature_header(&Headers::new().with(ebay::SIGNATURE_HEADER, &again))
            .expect("a re-encoded header parses");
        assert_eq!((reparsed.kid, reparsed.signature), (parsed.kid, parsed.signature));
    }
    let usable = signed && ebay::valid_kid(h[0].trim());
    assert_signing(usable, body, flags >> 3, |b| ebay::receive(&headers, b, &key, NOW), |_| {});
});
