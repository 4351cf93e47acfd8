//! Inbound marketplace events: golden payloads per platform and topic → expected events;
//! signatures (right, one byte off, missing, wrong secret or key); eBay ECDSA with keys made here
//! and eBay's own SDK vector; freshness, de-duplication, limits; and arbitrary bytes never panic.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use proptest::prelude::*;
use sha2::Digest as _;

use stockedge::catalog::model::ChannelKind;
use stockedge::inbound::{
    amazon, drift, ebay, shopify, woocommerce, Answer, AuthError, DriftVerdict, EbayDigest, EbayKey, EventKind,
    FetchOrder, Headers, Ignored, InboundError, InboundEvent, InboundOutcome, KeyCache, Lookup, LookupKey,
    PayloadError, PlatformIds, RestockType, MAX_BODY_BYTES, MAX_LINES_PER_ORDER,
};
use stockedge::time::Millis;

const SECRET: &[u8] = b"hush-app-client-secret";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/inbound/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(s: &str) -> Millis {
    Millis::parse_rfc3339(s).unwrap_or_else(|| panic!("not RFC 3339: {s}"))
}

fn now() -> Millis {
    at("2026-11-29T12:00:00Z")
}

fn events(outcome: InboundOutcome) -> Vec<InboundEvent> {
    match outcome {
        InboundOutcome::Events { events } => events,
        other => panic!("expected events, got {other:?}"),
    }
}

fn one_event(outcome: InboundOutcome) -> InboundEvent {
    let mut e = events(outcome);
    assert_eq!(e.len(), 1, "{e:?}");
    e.remove(0)
}

fn ignored(outcome: InboundOutcome) -> Ignored {
    match outcome {
        InboundOutcome::Ignored { ignored } => ignored,
        other => panic!("expected ignored, got {other:?}"),
    }
}

fn flip_byte(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 0x01;
    b
}

fn assert_unauthorized<T: std::fmt::Debug>(r: Result<T, InboundError>) -> AuthError {
    match r {
        Err(e @ InboundError::Unauthorized(_)) => {
            assert_eq!(e.answer(), Answer::Unauthorized);
            assert_eq!(e.answer().status(), 401);
            match e {
                InboundError::Unauthorized(a) => a,
                _ => unreachable!(),
            }
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Shopify

fn shopify_headers(topic: &str, body: &[u8], secret: &[u8]) -> Headers {
    Headers::new()
        .with("X-Shopify-Topic", topic)
        .with("X-Shopify-Hmac-Sha256", &shopify::sign(secret, body))
        .with("X-Shopify-Shop-Domain", "johns-apparel.myshopify.com")
        .with("X-Shopify-API-Version", "2026-04")
        .with("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        .with("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")
        .with("X-Shopify-Triggered-At", "2026-11-29T11:59:58.123456789Z")
}

#[test]
fn shopify_signature_known_answer() {
    // RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
    let expected =
        STANDARD.encode(hex::decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843").unwrap());
    assert_eq!(shopify::sign(b"Jefe", b"what do ya want for nothing?"), expected);
    assert_eq!(woocommerce::sign(b"Jefe", b"what do ya want for nothing?"), expected);
}

#[test]
fn shopify_orders_create_is_a_sale() {
    let body = fixture("shopify_orders_create.json");
    let r = shopify::receive(&shopify_headers("orders/create", &body, SECRET), &body, SECRET, now()).unwrap();
    assert_eq!(r.channel_kind, ChannelKind::Shopify);
    assert_eq!(r.account.as_deref(), Some("johns-apparel.myshopify.com"));
    assert_eq!(r.topic, "orders/create");
    assert_eq!(
        r.dedupe_key.as_deref(),
        Some("shopify:johns-apparel.myshopify.com:orders/create:98880550-7158-44d4-b7cd-2c97c8a091b5")
    );
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(e.account, "johns-apparel.myshopify.com");
    assert_eq!(e.order_id.as_deref(), Some("450789469"));
    assert_eq!(e.occurred_at, at("2008-01-10T16:00:00Z"));
    let got: Vec<(&str, Option<&str>, i64)> =
        e.lines.iter().map(|l| (l.line_id.as_str(), l.identity.sku.as_deref(), l.qty)).collect();
    assert_eq!(
        got,
        vec![
            ("466157049", Some("IPOD2008GREEN"), 1),
            ("518995019", Some("IPOD2008RED"), 1),
            ("703073504", Some("IPOD2008BLACK"), 1)
        ]
    );
    assert_eq!(
        e.lines[1].identity.ids,
        PlatformIds::Shopify {
            inventory_item_id: None,
            variant_id: Some(49148385),
            product_id: Some(632910392),
            location_id: None
        }
    );
    // Order lines carry no inventory item: SKU first, then the variant to resolve.
    assert_eq!(
        e.lines[1].identity.lookup_keys(),
        vec![LookupKey::Sku("IPOD2008RED".into()), LookupKey::ShopifyVariant(49148385)]
    );
}

#[test]
fn shopify_orders_cancelled_is_a_cancel() {
    let body = fixture("shopify_orders_cancelled.json");
    let r = shopify::receive(&shopify_headers("orders/cancelled", &body, SECRET), &body, SECRET, now()).unwrap();
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Cancel);
    assert_eq!(e.order_id.as_deref(), Some("450789469"));
    assert_eq!(e.occurred_at, at("2008-01-10T16:05:00Z"));
    assert_eq!(e.lines.len(), 3);
}

#[test]
fn shopify_refund_restocks_only_restocked_lines() {
    let body = fixture("shopify_refunds_create.json");
    let r = shopify::receive(&shopify_headers("refunds/create", &body, SECRET), &body, SECRET, now()).unwrap();
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Restock);
    assert_eq!(e.order_id.as_deref(), Some("450789469"));
    assert_eq!(e.occurred_at, at("2020-01-14T15:34:55Z"));
    assert_eq!(e.lines.len(), 2, "the no_restock line is left out");
    let l = &e.lines[0];
    assert_eq!(l.line_id, "1058498311");
    assert_eq!(l.order_line_id.as_deref(), Some("518995019"));
    assert_eq!(l.restock, Some(RestockType::Return));
    assert_eq!(l.qty, 1);
    assert_eq!(l.identity.sku.as_deref(), Some("IPOD2008RED"));
    assert_eq!(
        l.identity.ids,
        PlatformIds::Shopify {
            inventory_item_id: None,
            variant_id: Some(49148385),
            product_id: Some(632910392),
            location_id: Some(487838322)
        }
    );
    assert_eq!(e.lines[1].restock, Some(RestockType::Cancel));
    assert_eq!(e.lines[1].order_line_id.as_deref(), Some("466157049"));

    // The REST reference prints the refund wrapped in {"refund": …}: same result.
    let wrapped = format!("{{\"refund\":{}}}", String::from_utf8(body.clone()).unwrap());
    let again = shopify::parse("refunds/create", "johns-apparel.myshopify.com", wrapped.as_bytes(), now()).unwrap();
    assert_eq!(one_event(again), e);
}

#[test]
fn shopify_refund_without_restock_is_ignored() {
    let body = serde_json::json!({
        "id": 1, "order_id": 450789469, "created_at": "2020-01-14T10:34:55-05:00",
        "refund_line_items": [{"id": 9, "line_item_id": 518995019, "quantity": 1, "restock_type": "no_restock",
                               "line_item": {"id": 518995019, "sku": "IPOD2008RED", "variant_id": 49148385}}]
    })
    .to_string();
    let o = shopify::parse("refunds/create", "s.myshopify.com", body.as_bytes(), now()).unwrap();
    assert_eq!(ignored(o), Ignored::NothingRestocked);
    let bad = body.replace("no_restock", "teleport");
    assert!(matches!(
        shopify::parse("refunds/create", "s.myshopify.com", bad.as_bytes(), now()),
        Err(PayloadError::Invalid { .. })
    ));
}

#[test]
fn shopify_inventory_level_is_drift_keyed_by_inventory_item() {
    let body = fixture("shopify_inventory_levels_update.json");
    let r = shopify::receive(&shopify_headers("inventory_levels/update", &body, SECRET), &body, SECRET, now()).unwrap();
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Drift);
    assert_eq!(e.order_id, None);
    assert_eq!(e.occurred_at, at("2022-01-01T00:00:00Z"));
    let l = &e.lines[0];
    assert_eq!(l.qty, 6);
    assert_eq!(l.line_id, "271878346596884015@24826418");
    assert_eq!(l.identity.lookup_keys(), vec![LookupKey::Identity("shopify:inventory_item:271878346596884015".into())]);

    // Echo check: equal to what StockEdge last pushed → ignore; anything else is drift.
    assert_eq!(drift::check(6, Some(6)), DriftVerdict::Echo);
    assert!(drift::is_echo(6, Some(6)));
    assert_eq!(drift::check(6, Some(7)), DriftVerdict::Drift { reported: 6, last_pushed: Some(7) });
    assert_eq!(drift::check(6, None), DriftVerdict::Drift { reported: 6, last_pushed: None });
    let verdicts = drift::check_event(&e, |_| Some(6));
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0].1, DriftVerdict::Echo);

    let untracked = br#"{"inventory_item_id": 5, "location_id": 6, "available": null}"#;
    assert_eq!(ignored(shopify::parse("inventory_levels/update", "s", untracked, now()).unwrap()), Ignored::NotTracked);
}

#[test]
fn shopify_staleness_and_unknown_topics() {
    let body = fixture("shopify_orders_create.json");
    let h = shopify_headers("orders/create", &body, SECRET).with("X-Shopify-Triggered-At", "ignored-second-value");
    // The first Triggered-At header is 2 s old: processed.
    assert!(matches!(shopify::receive(&h, &body, SECRET, now()).unwrap().outcome, InboundOutcome::Events { .. }));

    let old = Headers::new()
        .with("X-Shopify-Topic", "orders/create")
        .with("X-Shopify-Hmac-Sha256", &shopify::sign(SECRET, &body))
        .with("X-Shopify-Shop-Domain", "johns-apparel.myshopify.com")
        .with("X-Shopify-Event-Id", "e1")
        .with("X-Shopify-Triggered-At", "2026-11-28T11:59:59Z");
    let r = shopify::receive(&old, &body, SECRET, now()).unwrap();
    assert_eq!(ignored(r.outcome), Ignored::Stale { triggered_at: at("2026-11-28T11:59:59Z") });
    assert!(shopify::is_stale(at("2026-11-28T11:59:59Z"), now()));
    assert!(!shopify::is_stale(at("2026-11-28T12:00:00Z"), now()));

    let r = shopify::receive(&shopify_headers("products/update", &body, SECRET), &body, SECRET, now()).unwrap();
    assert_eq!(ignored(r.outcome), Ignored::UnhandledTopic { topic: "products/update".into() });
}

#[test]
fn shopify_dedupe_key_falls_back_to_webhook_id() {
    let h = Headers::new().with("X-Shopify-Webhook-Id", "w-1");
    assert_eq!(
        shopify::dedupe_key(&h, "s.myshopify.com", "orders/create").as_deref(),
        Some("shopify:s.myshopify.com:webhook:w-1")
    );
    assert_eq!(shopify::dedupe_key(&Headers::new(), "s", "t"), None);
    // One merchant action can produce several topics with one event id: different keys.
    let h = Headers::new().with("x-shopify-event-id", "e-1");
    assert_ne!(shopify::dedupe_key(&h, "s", "orders/create"), shopify::dedupe_key(&h, "s", "inventory_levels/update"));
}

#[test]
fn shopify_signature_failures_are_unauthorized() {
    let body = fixture("shopify_orders_create.json");
    let h = shopify_headers("orders/create", &body, SECRET);
    assert!(shopify::verify(&h, &body, SECRET).is_ok());
    // One byte of the body changed.
    let changed = flip_byte(&body, body.len() / 2);
    assert_eq!(assert_unauthorized(shopify::receive(&h, &changed, SECRET, now())), AuthError::Mismatch);
    // One byte of the signature changed.
    let mut mac = STANDARD.decode(shopify::sign(SECRET, &body)).unwrap();
    mac[0] ^= 0x80;
    let forged = h.clone().with("X-Shopify-Hmac-Sha256", "x"); // the first header wins: still valid
    assert!(shopify::verify(&forged, &body, SECRET).is_ok());
    let forged = Headers::new()
        .with("X-Shopify-Topic", "orders/create")
        .with("X-Shopify-Shop-Domain", "johns-apparel.myshopify.com")
        .with("X-Shopify-Hmac-Sha256", &STANDARD.encode(&mac));
    assert_eq!(assert_unauthorized(shopify::receive(&forged, &body, SECRET, now())), AuthError::Mismatch);
    // Missing header.
    let missing = Headers::new().with("X-Shopify-Topic", "orders/create");
    assert_eq!(
        assert_unauthorized(shopify::receive(&missing, &body, SECRET, now())),
        AuthError::MissingHeader { header: "X-Shopify-Hmac-Sha256" }
    );
    // Malformed header.
    let malformed = missing.clone().with("X-Shopify-Hmac-Sha256", "not base64!");
    assert!(matches!(
        assert_unauthorized(shopify::receive(&malformed, &body, SECRET, now())),
        AuthError::MalformedHeader { .. }
    ));
    // Wrong secret, and no secret at all.
    assert_eq!(assert_unauthorized(shopify::receive(&h, &body, b"another-secret", now())), AuthError::Mismatch);
    assert_eq!(assert_unauthorized(shopify::receive(&h, &body, b"", now())), AuthError::NoSecret);
}

#[test]
fn shopify_signature_is_checked_before_parsing() {
    // A body that is not even JSON, unsigned: unauthorized, not "not JSON".
    let h = Headers::new().with("X-Shopify-Topic", "orders/create").with("X-Shopify-Hmac-Sha256", "AAAA");
    assert_unauthorized(shopify::receive(&h, b"{{{{", SECRET, now()));
    // Signed but not JSON: accepted (200) and recorded as unusable.
    let h = shopify_headers("orders/create", b"{{{{", SECRET);
    let e = shopify::receive(&h, b"{{{{", SECRET, now()).unwrap_err();
    assert!(matches!(e, InboundError::Payload(PayloadError::NotJson(_))));
    assert_eq!(e.answer(), Answer::AcceptedUnusable);
    assert_eq!(e.answer().status(), 200);
}

#[test]
fn body_limit_answers_413_before_anything_else() {
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let e = shopify::receive(&Headers::new(), &big, SECRET, now()).unwrap_err();
    assert_eq!(e, InboundError::TooLarge { size: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES });
    assert_eq!(e.answer().status(), 413);
    assert_eq!(woocommerce::receive(&Headers::new(), &big, SECRET, now()).unwrap_err().answer().status(), 413);
    assert_eq!(amazon::receive(&Headers::new(), &big, SECRET, now()).unwrap_err().answer().status(), 413);
    let key = EbayKey::new(*signing_key(3).verifying_key(), EbayDigest::Sha256);
    assert_eq!(ebay::receive(&Headers::new(), &big, &key, now()).unwrap_err().answer().status(), 413);
}

fn order_with_lines(n: usize, qty: i64) -> String {
    let lines: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"id": i + 1, "sku": format!("S-{i}"), "variant_id": 7, "quantity": qty}))
        .collect();
    serde_json::json!({"id": 1, "created_at": "2026-01-01T00:00:00Z", "line_items": lines}).to_string()
}

#[test]
fn line_limits_and_quantity_bounds() {
    let ok = order_with_lines(MAX_LINES_PER_ORDER, 1);
    assert_eq!(one_event(shopify::parse("orders/create", "s", ok.as_bytes(), now()).unwrap()).lines.len(), 250);
    let too_many = order_with_lines(MAX_LINES_PER_ORDER + 1, 1);
    assert_eq!(
        shopify::parse("orders/create", "s", too_many.as_bytes(), now()),
        Err(PayloadError::TooManyLines { found: 251, max: 250 })
    );
    assert!(matches!(
        shopify::parse("orders/create", "s", order_with_lines(1, 1_000_001).as_bytes(), now()),
        Err(PayloadError::Invalid { field, .. }) if field == "line_items[0].quantity"
    ));
    assert!(shopify::parse("orders/create", "s", order_with_lines(1, -1).as_bytes(), now()).is_err());
    // A line of 0 is left out.
    assert!(one_event(shopify::parse("orders/create", "s", order_with_lines(2, 0).as_bytes(), now()).unwrap())
        .lines
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// WooCommerce

const WOO_SOURCE: &str = "https://example.com/";

fn woo_headers(topic: &str, body: &[u8], secret: &[u8]) -> Headers {
    Headers::new()
        .with("X-WC-Webhook-Source", WOO_SOURCE)
        .with("X-WC-Webhook-Topic", topic)
        .with("X-WC-Webhook-Resource", "order")
        .with("X-WC-Webhook-Event", topic.split('.').nth(1).unwrap_or(""))
        .with("X-WC-Webhook-Signature", &woocommerce::sign(secret, body))
        .with("X-WC-Webhook-ID", "12")
        .with("X-WC-Webhook-Delivery-ID", "7ee6b4bde7b4bf4a5e0bdb4f8d2e5c41")
}

fn woo_order(status: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("woocommerce_order_727.json")).unwrap();
    v["status"] = status.into();
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn woocommerce_order_created_processing_is_a_sale() {
    let body = fixture("woocommerce_order_727.json");
    let r = woocommerce::receive(&woo_headers("order.created", &body, SECRET), &body, SECRET, now()).unwrap();
    assert_eq!(r.channel_kind, ChannelKind::Woocommerce);
    assert_eq!(r.account.as_deref(), Some(WOO_SOURCE));
    let key = r.dedupe_key.clone().unwrap();
    assert!(key.starts_with("woocommerce:12:7ee6b4bde7b4bf4a5e0bdb4f8d2e5c41:"), "{key}");
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(e.order_id.as_deref(), Some("727"));
    assert_eq!(e.account, WOO_SOURCE);
    assert_eq!(e.occurred_at, at("2017-03-22T19:28:08Z"));
    assert_eq!(e.lines.len(), 2);
    assert_eq!(e.lines[0].line_id, "315");
    assert_eq!(e.lines[0].qty, 2);
    assert_eq!(e.lines[0].identity.sku, None);
    assert_eq!(e.lines[0].identity.ids, PlatformIds::Woocommerce { product_id: 93, variation_id: None });
    assert_eq!(e.lines[0].identity.lookup_keys(), vec![LookupKey::Identity("woocommerce:product:93".into())]);
    assert_eq!(
        e.lines[1].identity.lookup_keys(),
        vec![LookupKey::Identity("woocommerce:product:22:variation:23".into()), LookupKey::Sku("Bar3".into())]
    );
}

#[test]
fn woocommerce_statuses() {
    for (topic, status, expected) in [
        ("order.created", "pending", None),
        ("order.created", "failed", None),
        ("order.created", "on-hold", Some(EventKind::Sale)),
        ("order.updated", "processing", Some(EventKind::Sale)),
        ("order.updated", "completed", Some(EventKind::Sale)),
        ("order.updated", "cancelled", Some(EventKind::Cancel)),
        ("order.updated", "refunded", Some(EventKind::Cancel)),
        ("order.updated", "checkout-draft", None),
    ] {
        let body = woo_order(status);
        let r = woocommerce::receive(&woo_headers(topic, &body, SECRET), &body, SECRET, now()).unwrap();
        match expected {
            Some(kind) => assert_eq!(one_event(r.outcome).kind, kind, "{topic} {status}"),
            None => assert_eq!(ignored(r.outcome), Ignored::NotYetSold { status: status.into() }, "{topic} {status}"),
        }
    }
}

#[test]
fn woocommerce_order_deleted_is_a_cancel() {
    let body = br#"{"id":727}"#;
    let r = woocommerce::receive(&woo_headers("order.deleted", body, SECRET), body, SECRET, now()).unwrap();
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Cancel);
    assert_eq!(e.order_id.as_deref(), Some("727"));
    assert!(e.lines.is_empty());
    assert_eq!(e.occurred_at, now());
}

#[test]
fn woocommerce_ping_is_answered_without_signature() {
    let h = Headers::new().with("X-WC-Webhook-Source", WOO_SOURCE);
    let r = woocommerce::receive(&h, b"webhook_id=12", SECRET, now()).unwrap();
    assert_eq!(r.outcome, InboundOutcome::Ping);
    assert_eq!(r.dedupe_key, None);
    assert!(woocommerce::is_ping(&Headers::new(), b"webhook_id=4"));
    assert!(!woocommerce::is_ping(&Headers::new(), b"webhook_id="));
    assert!(!woocommerce::is_ping(&Headers::new(), b"webhook_id=4&x=1"));
    // Not a ping: unsigned → unauthorized.
    assert_unauthorized(woocommerce::receive(&Headers::new(), b"webhook_id=abc", SECRET, now()));
    // A ping body with a (bad) signature is verified like any delivery.
    let h = Headers::new().with("X-WC-Webhook-Signature", "AAAA");
    assert_unauthorized(woocommerce::receive(&h, b"webhook_id=12", SECRET, now()));
}

#[test]
fn woocommerce_signature_failures_are_unauthorized() {
    let body = fixture("woocommerce_order_727.json");
    let h = woo_headers("order.created", &body, SECRET);
    assert!(woocommerce::verify(&h, &body, SECRET).is_ok());
    assert_eq!(
        assert_unauthorized(woocommerce::receive(&h, &flip_byte(&body, 10), SECRET, now())),
        AuthError::Mismatch
    );
    let mut mac = STANDARD.decode(woocommerce::sign(SECRET, &body)).unwrap();
    mac[31] ^= 0x01;
    let forged = Headers::new().with("X-WC-Webhook-Signature", &STANDARD.encode(&mac));
    assert_eq!(assert_unauthorized(woocommerce::receive(&forged, &body, SECRET, now())), AuthError::Mismatch);
    assert_eq!(
        assert_unauthorized(woocommerce::receive(&Headers::new(), &body, SECRET, now())),
        AuthError::MissingHeader { header: "X-WC-Webhook-Signature" }
    );
    assert_eq!(assert_unauthorized(woocommerce::receive(&h, &body, b"wrong", now())), AuthError::Mismatch);
}

#[test]
fn woocommerce_dedupe_key_tells_same_second_deliveries_apart() {
    let a = woo_order("processing");
    let b = woo_order("cancelled");
    let h = woo_headers("order.updated", &a, SECRET);
    assert_ne!(woocommerce::dedupe_key(&h, &a), woocommerce::dedupe_key(&h, &b));
    assert_eq!(woocommerce::dedupe_key(&h, &a), woocommerce::dedupe_key(&h, &a));
    assert_eq!(woocommerce::dedupe_key(&Headers::new(), &a), None);
}

#[test]
fn woocommerce_orders_page_for_polling() {
    let page = format!(
        "[{},{},{}]",
        String::from_utf8(woo_order("processing")).unwrap(),
        String::from_utf8(woo_order("pending")).unwrap(),
        String::from_utf8(woo_order("cancelled")).unwrap()
    );
    let ev = woocommerce::parse_orders_page(WOO_SOURCE, page.as_bytes(), now()).unwrap();
    assert_eq!(ev.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![EventKind::Sale, EventKind::Cancel]);
    assert!(woocommerce::parse_orders_page(WOO_SOURCE, b"{}", now()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Amazon (forwarder)

fn amazon_headers(body: &[u8], secret: &[u8], ts: i64) -> Headers {
    let (t, s) = amazon::sign(secret, ts, body);
    Headers::new().with("X-StockEdge-Timestamp", &t).with("X-StockEdge-Signature", &s)
}

fn now_secs() -> i64 {
    now().0 / 1000
}

#[test]
fn amazon_order_change_asks_for_the_items() {
    let body = fixture("amazon_order_change.json");
    let r = amazon::receive(&amazon_headers(&body, SECRET, now_secs() - 30), &body, SECRET, now()).unwrap();
    assert_eq!(r.channel_kind, ChannelKind::Amazon);
    assert_eq!(r.topic, "ORDER_CHANGE");
    assert_eq!(r.account.as_deref(), Some("A3TH9S8BH6GOGM"));
    assert_eq!(r.dedupe_key.as_deref(), Some("amazon:d0e9e693-c3ad-4373-979f-ed4ec98dd746"));
    let expected = FetchOrder {
        channel_kind: ChannelKind::Amazon,
        account: Some("A3TH9S8BH6GOGM".into()),
        order_id: "903-8868176-2219830".into(),
        status: Some("Unshipped".into()),
        occurred_at: at("2022-07-13T19:42:04.284Z"),
    };
    assert_eq!(r.outcome, InboundOutcome::Fetch { order: expected });
}

#[test]
fn amazon_cancelled_and_afn_orders() {
    let text = String::from_utf8(fixture("amazon_order_change.json")).unwrap();
    let cancelled = text.replace("\"OrderStatus\": \"Unshipped\"", "\"OrderStatus\": \"Canceled\"");
    let r =
        amazon::receive(&amazon_headers(cancelled.as_bytes(), SECRET, now_secs()), cancelled.as_bytes(), SECRET, now())
            .unwrap();
    let e = one_event(r.outcome);
    assert_eq!(e.kind, EventKind::Cancel);
    assert_eq!(e.order_id.as_deref(), Some("903-8868176-2219830"));
    assert_eq!(e.occurred_at, at("2022-11-29T19:42:04.284Z"));

    let afn = text.replace("\"FulfillmentType\": \"MFN\"", "\"FulfillmentType\": \"AFN\"");
    let r =
        amazon::receive(&amazon_headers(afn.as_bytes(), SECRET, now_secs()), afn.as_bytes(), SECRET, now()).unwrap();
    assert_eq!(ignored(r.outcome), Ignored::FulfilledByAmazon);

    let other = text.replace("\"NotificationType\": \"ORDER_CHANGE\"", "\"NotificationType\": \"ANY_OFFER_CHANGED\"");
    let r = amazon::receive(&amazon_headers(other.as_bytes(), SECRET, now_secs()), other.as_bytes(), SECRET, now())
        .unwrap();
    assert_eq!(ignored(r.outcome), Ignored::UnhandledTopic { topic: "ANY_OFFER_CHANGED".into() });
}

#[test]
fn amazon_forwarder_signature_failures() {
    let body = fixture("amazon_order_change.json");
    let h = amazon_headers(&body, SECRET, now_secs());
    assert!(amazon::verify(&h, &body, SECRET, now()).is_ok());
    assert_eq!(assert_unauthorized(amazon::receive(&h, &flip_byte(&body, 3), SECRET, now())), AuthError::Mismatch);
    assert_eq!(assert_unauthorized(amazon::receive(&h, &body, b"other", now())), AuthError::Mismatch);
    // One hex digit of the signature changed.
    let (t, s) = amazon::sign(SECRET, now_secs(), &body);
    let mut s = s.into_bytes();
    let last = s.len() - 1;
    s[last] = if s[last] == b'0' { b'1' } else { b'0' };
    let forged = Headers::new()
        .with("X-StockEdge-Timestamp", &t)
        .with("X-StockEdge-Signature", std::str::from_utf8(&s).unwrap());
    assert_eq!(assert_unauthorized(amazon::receive(&forged, &body, SECRET, now())), AuthError::Mismatch);
    // The signature covers the timestamp: moving it breaks the signature.
    let moved = Headers::new()
        .with("X-StockEdge-Timestamp", &(now_secs() - 1).to_string())
        .with("X-StockEdge-Signature", h.get("X-StockEdge-Signature").unwrap());
    assert_eq!(assert_unauthorized(amazon::receive(&moved, &body, SECRET, now())), AuthError::Mismatch);
    // Older (or newer) than 5 minutes.
    for ts in [now_secs() - 301, now_secs() + 301] {
        let err = assert_unauthorized(amazon::receive(&amazon_headers(&body, SECRET, ts), &body, SECRET, now()));
        assert!(matches!(err, AuthError::OutsideWindow { .. }), "{err:?}");
    }
    assert!(amazon::verify(&amazon_headers(&body, SECRET, now_secs() - 299), &body, SECRET, now()).is_ok());
    // Missing or malformed headers.
    let no_ts = Headers::new().with("X-StockEdge-Signature", h.get("X-StockEdge-Signature").unwrap());
    assert_eq!(
        assert_unauthorized(amazon::receive(&no_ts, &body, SECRET, now())),
        AuthError::MissingHeader { header: "X-StockEdge-Timestamp" }
    );
    assert_eq!(
        assert_unauthorized(amazon::receive(&Headers::new(), &body, SECRET, now())),
        AuthError::MissingHeader { header: "X-StockEdge-Signature" }
    );
    let bare_hex = Headers::new()
        .with("X-StockEdge-Timestamp", h.get("X-StockEdge-Timestamp").unwrap())
        .with("X-StockEdge-Signature", h.get("X-StockEdge-Signature").unwrap().trim_start_matches("sha256="));
    assert!(matches!(
        assert_unauthorized(amazon::receive(&bare_hex, &body, SECRET, now())),
        AuthError::MalformedHeader { .. }
    ));
    let bad_ts = h.clone();
    let bad_ts = Headers::new()
        .with("X-StockEdge-Timestamp", "17648e5")
        .with("X-StockEdge-Signature", bad_ts.get("X-StockEdge-Signature").unwrap());
    assert!(matches!(
        assert_unauthorized(amazon::receive(&bad_ts, &body, SECRET, now())),
        AuthError::MalformedHeader { .. }
    ));
}

#[test]
fn amazon_get_orders_page() {
    let page = amazon::parse_orders_page(&fixture("amazon_get_orders.json")).unwrap();
    assert_eq!(page.next_token.as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4="));
    assert_eq!(page.orders.len(), 4);
    let seller = "A3TH9S8BH6GOGM";
    let decided: Vec<InboundOutcome> = page.orders.iter().map(|o| amazon::decide(o, seller, now())).collect();
    match &decided[0] {
        InboundOutcome::Fetch { order } => {
            assert_eq!(order.order_id, "902-1845936-5435065");
            assert_eq!(order.status.as_deref(), Some("Unshipped"));
            assert_eq!(order.occurred_at, at("1970-01-19T03:58:30Z"));
        }
        other => panic!("{other:?}"),
    }
    let e = one_event(decided[1].clone());
    assert_eq!((e.kind, e.order_id.as_deref()), (EventKind::Cancel, Some("902-3159896-1390916")));
    assert_eq!(e.occurred_at, at("2024-01-15T14:22:10.456Z"));
    assert_eq!(ignored(decided[2].clone()), Ignored::FulfilledByAmazon);
    assert!(matches!(&decided[3], InboundOutcome::Fetch { order } if order.status.as_deref() == Some("Pending")));
}

#[test]
fn amazon_get_order_items_make_the_sale() {
    let items = amazon::parse_order_items_page(&fixture("amazon_get_order_items.json")).unwrap();
    assert_eq!(items.order_id.as_deref(), Some("902-1845936-5435065"));
    assert_eq!(items.next_token.as_deref(), Some("MRgZW55IGNhcm5hbCBwbGVhc3VyZS6="));
    let fetch = match amazon::decide(
        &amazon::parse_orders_page(&fixture("amazon_get_orders.json")).unwrap().orders[0],
        "A3TH9S8BH6GOGM",
        now(),
    ) {
        InboundOutcome::Fetch { order } => order,
        other => panic!("{other:?}"),
    };
    let e = one_event(amazon::order_outcome(&fetch, &items.items).unwrap());
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(e.account, "A3TH9S8BH6GOGM");
    assert_eq!(e.order_id.as_deref(), Some("902-1845936-5435065"));
    let got: Vec<(&str, Option<&str>, i64)> =
        e.lines.iter().map(|l| (l.line_id.as_str(), l.identity.sku.as_deref(), l.qty)).collect();
    assert_eq!(got, vec![("68828574383266", Some("CBA_OTF_1"), 1), ("79039765272157", Some("CBA_OTF_5"), 2)]);
    assert_eq!(e.lines[0].identity.lookup_keys(), vec![LookupKey::Identity("amazon:A3TH9S8BH6GOGM:CBA_OTF_1".into())]);
    assert_eq!(
        e.lines[0].identity.ids,
        PlatformIds::Amazon { seller_id: "A3TH9S8BH6GOGM".into(), asin: Some("BT0093TELA".into()) }
    );

    let too_many = vec![items.items[0].clone(); MAX_LINES_PER_ORDER + 1];
    assert!(matches!(amazon::order_outcome(&fetch, &too_many), Err(PayloadError::TooManyLines { .. })));
}

// ---------------------------------------------------------------------------------------------
// eBay

fn signing_key(seed: u8) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[31] = seed;
    bytes[0] = 0x42;
    SigningKey::from_slice(&bytes).expect("a valid scalar")
}

fn ebay_headers(sk: &SigningKey, kid: &str, body: &[u8]) -> Headers {
    let sig: Signature = sk.sign(body); // ECDSA P-256 with SHA-256
    Headers::new()
        .with("X-EBAY-SIGNATURE", &ebay::encode_signature_header(kid, sig.to_der().as_bytes(), EbayDigest::Sha256))
}

fn ebay_key(sk: &SigningKey) -> EbayKey {
    let pem = sk.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    EbayKey::from_pem(&pem, EbayDigest::Sha256).unwrap()
}

#[test]
fn ebay_sdk_vector_verifies_with_sha1() {
    // eBay's own test vector: a real signature, SHA-1 digest as the key response names it,
    // the one-line PEM eBay returns, and a high-S signature value.
    let key = EbayKey::from_response(&fixture("ebay_sdk_public_key.json")).unwrap();
    assert_eq!(key.digest(), EbayDigest::Sha1);
    let header = String::from_utf8(fixture("ebay_sdk_signature_header.txt")).unwrap();
    let h = Headers::new().with("x-ebay-signature", &header);
    let parsed = ebay::parse_signature_header(&h).unwrap();
    assert_eq!(parsed.kid, "9936261a-7d7b-4621-a0f1-96ccb428af49");
    assert_eq!(parsed.digest.as_deref(), Some("SHA1"));
    let body = fixture("ebay_sdk_message.json");
    assert_eq!(ebay::verify(&h, &body, &key), Ok(()));
    let r = ebay::receive(&h, &body, &key, now()).unwrap();
    assert_eq!(ignored(r.outcome), Ignored::UnhandledTopic { topic: "MARKETPLACE_ACCOUNT_DELETION".into() });
    assert_eq!(
        r.dedupe_key.as_deref(),
        Some("ebay:49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d")
    );
    // Tampered (one byte), or checked with SHA-256: refused.
    assert_eq!(ebay::verify(&h, &flip_byte(&body, 40), &key), Err(AuthError::Mismatch));
    let as_sha256 = EbayKey::new(*key.verifying_key(), EbayDigest::Sha256);
    assert_eq!(ebay::verify(&h, &body, &as_sha256), Err(AuthError::Mismatch));
}

#[test]
fn ebay_generated_key_signs_and_verifies() {
    let sk = signing_key(7);
    let key = ebay_key(&sk);
    let body = fixture("ebay_order_confirmation.json");
    let h = ebay_headers(&sk, "kid-1", &body);
    assert_eq!(ebay::parse_signature_header(&h).unwrap().kid, "kid-1");
    let r = ebay::receive(&h, &body, &key, now()).unwrap();
    assert_eq!(r.channel_kind, ChannelKind::Ebay);
    assert_eq!(r.topic, "ORDER_CONFIRMATION");
    assert_eq!(
        r.dedupe_key.as_deref(),
        Some("ebay:1f7a7b4c-6a2b-4a8e-9f1e-2d0f8c1b0a11_5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
    );
    assert_eq!(
        r.outcome,
        InboundOutcome::Fetch {
            order: FetchOrder {
                channel_kind: ChannelKind::Ebay,
                account: None,
                order_id: "12-11803-02536".into(),
                status: None,
                occurred_at: at("2025-12-01T10:15:30Z"),
            }
        }
    );

    // Wrong key.
    let other = ebay_key(&signing_key(8));
    assert_eq!(assert_unauthorized(ebay::receive(&h, &body, &other, now())), AuthError::Mismatch);
    // One byte of the body changed.
    assert_eq!(assert_unauthorized(ebay::receive(&h, &flip_byte(&body, 20), &key, now())), AuthError::Mismatch);
    // One byte of the signature changed: the last byte of the DER (s's last byte, still valid DER),
    // and r's last byte in the fixed 64-byte form.
    let sig: Signature = sk.sign(&body);
    let mut der = sig.to_der().as_bytes().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let bad =
        Headers::new().with("X-EBAY-SIGNATURE", &ebay::encode_signature_header("kid-1", &der, EbayDigest::Sha256));
    assert_eq!(assert_unauthorized(ebay::receive(&bad, &body, &key, now())), AuthError::Mismatch);
    let mut raw = sig.to_bytes().to_vec();
    raw[31] ^= 0x01;
    let bad =
        Headers::new().with("X-EBAY-SIGNATURE", &ebay::encode_signature_header("kid-1", &raw, EbayDigest::Sha256));
    assert_eq!(assert_unauthorized(ebay::receive(&bad, &body, &key, now())), AuthError::Mismatch);
    // The fixed form of the right signature verifies too.
    let fixed = Headers::new()
        .with("X-EBAY-SIGNATURE", &ebay::encode_signature_header("kid-1", &sig.to_bytes(), EbayDigest::Sha256));
    assert_eq!(ebay::verify(&fixed, &body, &key), Ok(()));
    // Missing and malformed headers.
    assert_eq!(
        assert_unauthorized(ebay::receive(&Headers::new(), &body, &key, now())),
        AuthError::MissingHeader { header: "X-EBAY-SIGNATURE" }
    );
    for value in [
        "%%%".to_string(),
        STANDARD.encode("not json"),
        STANDARD.encode(r#"{"alg":"rsa","kid":"k","signature":"AAAA"}"#),
        STANDARD.encode(r#"{"alg":"ecdsa","kid":"../../etc","signature":"AAAA"}"#),
        STANDARD.encode(r#"{"alg":"ecdsa","kid":"k","signature":"!!"}"#),
        STANDARD.encode(r#"{"alg":"ecdsa","kid":"k","signature":"AAAA"}"#),
    ] {
        let h = Headers::new().with("X-EBAY-SIGNATURE", &value);
        assert!(
            matches!(assert_unauthorized(ebay::receive(&h, &body, &key, now())), AuthError::MalformedHeader { .. }),
            "{value}"
        );
    }
}

#[test]
fn ebay_keys_in_every_documented_form() {
    let sk = signing_key(9);
    let vk = *sk.verifying_key();
    let der = vk.to_public_key_der().unwrap();
    let b64 = STANDARD.encode(der.as_bytes());
    // eBay's one-line PEM, a wrapped PEM, bare base64, DER, and the key response.
    let one_line = format!("-----BEGIN PUBLIC KEY-----{b64}-----END PUBLIC KEY-----");
    for k in [
        EbayKey::from_pem(&one_line, EbayDigest::Sha1).unwrap(),
        EbayKey::from_pem(&vk.to_public_key_pem(LineEnding::CRLF).unwrap(), EbayDigest::Sha1).unwrap(),
        EbayKey::from_pem(&b64, EbayDigest::Sha1).unwrap(),
        EbayKey::from_der(der.as_bytes(), EbayDigest::Sha1).unwrap(),
        EbayKey::from_response(
            serde_json::json!({"key": one_line, "algorithm": "ECDSA", "digest": "SHA1"}).to_string().as_bytes(),
        )
        .unwrap(),
    ] {
        assert_eq!(k.verifying_key(), &vk);
        assert_eq!(k.digest(), EbayDigest::Sha1);
    }
    // SHA-1 as eBay uses it: sign the SHA-1 prehash, verify through the header.
    let body = fixture("ebay_order_confirmation.json");
    let sig: Signature = sk.sign_prehash(&sha1::Sha1::digest(&body)).unwrap();
    let h = Headers::new()
        .with("X-EBAY-SIGNATURE", &ebay::encode_signature_header("k", sig.to_der().as_bytes(), EbayDigest::Sha1));
    assert_eq!(ebay::verify(&h, &body, &EbayKey::from_pem(&one_line, EbayDigest::Sha1).unwrap()), Ok(()));

    for bad in [
        serde_json::json!({"key": one_line, "algorithm": "RSA", "digest": "SHA1"}),
        serde_json::json!({"key": one_line, "algorithm": "ECDSA", "digest": "MD5"}),
        serde_json::json!({"key": "-----BEGIN PUBLIC KEY-----AAAA-----END PUBLIC KEY-----", "algorithm": "ECDSA", "digest": "SHA1"}),
        serde_json::json!({"algorithm": "ECDSA", "digest": "SHA1"}),
    ] {
        assert!(matches!(EbayKey::from_response(bad.to_string().as_bytes()), Err(AuthError::BadKey(_))), "{bad}");
    }
}

#[test]
fn ebay_get_orders_page() {
    let page = ebay::parse_orders_page(&fixture("ebay_get_orders.json"), "fallback", now()).unwrap();
    assert_eq!(page.total, Some(3));
    assert!(page.next.as_deref().unwrap().ends_with("offset=2"));
    assert_eq!(page.events.len(), 2);
    let sale = &page.events[0];
    assert_eq!(sale.kind, EventKind::Sale);
    assert_eq!(sale.account, "stockedge_seller");
    assert_eq!(sale.order_id.as_deref(), Some("12-11803-02536"));
    assert_eq!(sale.occurred_at, at("2025-12-01T10:15:29Z"));
    assert_eq!(sale.lines.len(), 2);
    assert_eq!((sale.lines[0].line_id.as_str(), sale.lines[0].qty), ("10055148637401", 2));
    assert_eq!(sale.lines[0].identity.lookup_keys(), vec![LookupKey::Identity("ebay:sku:TEE-RED-M".into())]);
    assert_eq!(
        sale.lines[0].identity.ids,
        PlatformIds::Ebay {
            legacy_item_id: Some("110554390983".into()),
            legacy_variation_id: Some("410016387271".into())
        }
    );
    // A listing made outside the Inventory API has no SKU: no key, left for an operator.
    assert!(sale.lines[1].identity.lookup_keys().is_empty());
    let cancel = &page.events[1];
    assert_eq!(cancel.kind, EventKind::Cancel);
    assert_eq!(cancel.occurred_at, at("2025-12-01T09:00:00Z"));
}

#[test]
fn ebay_challenge_response() {
    let expected = hex::encode(sha2::Sha256::digest(
        b"a8628072-3d33-45ee-9004-bee86830a22dtoken-0123456789https://stockedge.example/v1/webhooks/ebay",
    ));
    assert_eq!(
        ebay::challenge_response(
            "a8628072-3d33-45ee-9004-bee86830a22d",
            "token-0123456789",
            "https://stockedge.example/v1/webhooks/ebay"
        ),
        expected
    );
}

#[test]
fn ebay_key_cache_tells_when_to_fetch() {
    let mut cache: KeyCache<u32> = KeyCache::new();
    let t0 = now();
    assert_eq!(cache.lookup("k1", t0), Lookup::Missing);
    assert!(cache.needs_fetch("k1", t0));
    cache.insert("k1", 1, t0);
    assert_eq!(cache.lookup("k1", t0.plus_seconds(3599)), Lookup::Fresh(&1));
    assert!(!cache.needs_fetch("k1", t0.plus_seconds(3599)));
    assert_eq!(cache.lookup("k1", t0.plus_seconds(3600)), Lookup::Stale(&1));
    assert!(cache.needs_fetch("k1", t0.plus_seconds(3600)));
    cache.insert("k1", 2, t0.plus_seconds(3600));
    assert_eq!(cache.lookup("k1", t0.plus_seconds(3601)), Lookup::Fresh(&2));
    assert_eq!(cache.len(), 1);
    // Bounded: the entry fetched longest ago goes first.
    let mut small: KeyCache<u32> = KeyCache::with_capacity(2);
    small.insert("a", 1, t0);
    small.insert("b", 2, t0.plus_seconds(1));
    small.insert("c", 3, t0.plus_seconds(2));
    assert_eq!(small.lookup("a", t0), Lookup::Missing);
    assert_eq!(small.len(), 2);
    small.remove("b");
    assert_eq!(small.lookup("b", t0), Lookup::Missing);
    // The default capacity holds 16.
    for i in 0..40 {
        cache.insert(&format!("x{i}"), i, t0.plus_seconds(i64::from(i)));
    }
    assert_eq!(cache.len(), stockedge::inbound::limits::EBAY_KEY_CACHE_CAPACITY);
}

// ---------------------------------------------------------------------------------------------
// Shape

#[test]
fn events_serialise_for_queues() {
    let body = fixture("shopify_refunds_create.json");
    let e = one_event(shopify::parse("refunds/create", "s.myshopify.com", &body, now()).unwrap());
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["kind"], "restock");
    assert_eq!(json["channel_kind"], "shopify");
    assert_eq!(json["lines"][0]["restock"], "return");
    assert_eq!(json["lines"][0]["identity"]["ids"]["platform"], "shopify");
    let back: InboundEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
}

// ---------------------------------------------------------------------------------------------
// Nothing panics

fn all_parsers(body: &[u8], h: &Headers) {
    let key = EbayKey::new(*signing_key(5).verifying_key(), EbayDigest::Sha256);
    let _ = shopify::receive(h, body, SECRET, now());
    let _ = woocommerce::receive(h, body, SECRET, now());
    let _ = amazon::receive(h, body, SECRET, now());
    let _ = ebay::receive(h, body, &key, now());
    let _ = ebay::parse_signature_header(h);
    for topic in ["orders/create", "orders/cancelled", "refunds/create", "inventory_levels/update"] {
        let _ = shopify::parse(topic, "s", body, now());
    }
    for topic in ["order.created", "order.updated", "order.deleted"] {
        let _ = woocommerce::parse(topic, "s", body, now());
    }
    let _ = woocommerce::parse_orders_page("s", body, now());
    let _ = woocommerce::is_ping(h, body);
    let _ = amazon::parse_notification(body);
    let _ = amazon::parse_orders_page(body);
    let _ = amazon::parse_order_items_page(body);
    let _ = ebay::parse_notification(body);
    let _ = ebay::parse_orders_page(body, "s", now());
    let _ = EbayKey::from_response(body);
    let _ = EbayKey::from_der(body, EbayDigest::Sha1);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = EbayKey::from_pem(text, EbayDigest::Sha256);
    }
}

const FIXTURES: [&str; 10] = [
    "shopify_orders_create.json",
    "shopify_refunds_create.json",
    "shopify_inventory_levels_update.json",
    "woocommerce_order_727.json",
    "amazon_order_change.json",
    "amazon_get_orders.json",
    "amazon_get_order_items.json",
    "ebay_order_confirmation.json",
    "ebay_get_orders.json",
    "ebay_sdk_message.json",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512),
                                   sig in ".{0,200}", ts in "[0-9a-z=+/-]{0,20}", topic in "[a-z_./]{0,30}") {
        let h = Headers::new()
            .with("X-Shopify-Hmac-Sha256", &sig)
            .with("X-Shopify-Topic", &topic)
            .with("X-Shopify-Shop-Domain", &sig)
            .with("X-Shopify-Triggered-At", &ts)
            .with("X-WC-Webhook-Signature", &sig)
            .with("X-WC-Webhook-Topic", &topic)
            .with("X-StockEdge-Signature", &sig)
            .with("X-StockEdge-Timestamp", &ts)
            .with("X-EBAY-SIGNATURE", &STANDARD.encode(&body));
        all_parsers(&body, &h);
        all_parsers(&body, &Headers::new());
    }

    #[test]
    fn mutated_golden_payloads_never_panic(which in 0usize..FIXTURES.len(), pos in any::<prop::sample::Index>(),
                                           byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut body = fixture(FIXTURES[which]);
        let i = pos.index(body.len());
        body[i] = byte;
        all_parsers(&body, &Headers::new());
        body.truncate(cut.index(body.len() + 1));
        all_parsers(&body, &Headers::new());
    }

    #[test]
    fn signed_mutations_never_panic(which in 0usize..FIXTURES.len(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        // Correctly signed, so every parser runs past the signature check on odd content.
        let mut body = fixture(FIXTURES[which]);
        let i = pos.index(body.len());
        body[i] = byte;
        for topic in ["orders/create", "refunds/create", "inventory_levels/update"] {
            let _ = shopify::receive(&shopify_headers(topic, &body, SECRET), &body, SECRET, now());
        }
        let _ = woocommerce::receive(&woo_headers("order.updated", &body, SECRET), &body, SECRET, now());
        let _ = amazon::receive(&amazon_headers(&body, SECRET, now_secs()), &body, SECRET, now());
        let sk = signing_key(11);
        let _ = ebay::receive(&ebay_headers(&sk, "k", &body), &body, &ebay_key(&sk), now());
    }

    #[test]
    fn verified_payloads_parse_to_bounded_lines(n in 0usize..300, qty in -5i64..1_000_005) {
        let body = order_with_lines(n, qty);
        match shopify::parse("orders/create", "s", body.as_bytes(), now()) {
            Ok(o) => {
                let e = one_event(o);
                prop_assert!(e.lines.len() <= MAX_LINES_PER_ORDER);
                prop_assert!(e.lines.iter().all(|l| (1..=1_000_000).contains(&l.qty)));
            }
            Err(PayloadError::TooManyLines { .. }) => prop_assert!(n > MAX_LINES_PER_ORDER),
            Err(PayloadError::Invalid { .. }) => prop_assert!(!(0..=1_000_000).contains(&qty)),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}
