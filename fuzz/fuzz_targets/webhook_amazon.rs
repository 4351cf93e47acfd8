//! `POST /v1/webhooks/amazon` (the forwarder's `X-StockEdge-Signature` and timestamp, SQS
//! notifications) and the SP-API pages the polls and fetches read (`getOrders`,
//! `getOrderItems`, then the order's event).
//!
//! Input: one flag byte, then two lines (timestamp, signature header), then the body. Flag bit 0
//! signs the body at `NOW`; bit 2 reads the body as a `getOrders` and a `getOrderItems` page
//! instead. Contract: signed → never unauthorised; unsigned → accepted only with the true
//! signature inside the window; a flipped bit → mismatch; accepted → [`assert_received`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use stockedge::catalog::model::ChannelKind;
use stockedge::inbound::limits::FORWARDER_MAX_SKEW_MS;
use stockedge::inbound::{amazon, FetchOrder, Headers};
use stockedge_fuzz::{assert_clean_id, assert_outcome, assert_signing, lines_then_body, NOW, SECRET};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (h, body) = lines_then_body(rest, 2);
    if flags & 4 != 0 {
        if let Ok(page) = amazon::parse_orders_page(body) {
            for o in &page.orders {
                assert_clean_id("AmazonOrderId", &o.order_id);
                assert_outcome(&amazon::decide(o, "A3TH9S8BH6GOGM", NOW));
            }
        }
        if let Ok(page) = amazon::parse_order_items_page(body) {
            let order = FetchOrder {
                channel_kind: ChannelKind::Amazon,
                account: Some("A3TH9S8BH6GOGM".into()),
                order_id: "902-3159896-1390916".into(),
                status: None,
                occurred_at: NOW,
            };
            if let Ok(outcome) = amazon::order_outcome(&order, &page.items) {
                assert_outcome(&outcome);
            }
        }
        return;
    }
    let signed = flags & 1 == 1;
    let (timestamp, signature) =
        if signed { amazon::sign(SECRET, NOW.0 / 1000, body) } else { (h[0].clone(), h[1].clone()) };
    let headers = Headers::new().with(amazon::TIMESTAMP_HEADER, &timestamp).with(amazon::SIGNATURE_HEADER, &signature);
    let receive = |b: &[u8]| amazon::receive(&headers, b, SECRET, NOW);
    assert_signing(signed, body, flags >> 3, receive, |_| {
        if !signed {
            let secs: i64 = timestamp.trim().parse().expect("an accepted timestamp is a number");
            assert!((NOW.0 - secs * 1000).abs() <= FORWARDER_MAX_SKEW_MS, "accepted outside the window");
            let (_, truth) = amazon::sign(SECRET, secs, body);
            assert_eq!(signature.trim(), truth, "accepted a forged signature");
        }
    });
});
