//! Live reconciliation's reads (`src/reconcile/read`), through the registry as the shell uses
//! them: per platform, the request that reads a listing's live quantity (method, path, headers)
//! and the reading of golden answers in the platforms' documented shapes — the quantity, and
//! what 401/403 (credentials), 404 (listing gone), 429 (throttled, with `Retry-After` when
//! given) and 5xx mean. Wholesale (EDI 846) has no read.

use serde_json::{json, Map, Value};

use stockedge::catalog::model::External;
use stockedge::channels::{platform, ChannelKind};
use stockedge::reconcile::{Read, ReadError};
use stockedge::sync::amazon::AmazonIdentity;
use stockedge::sync::ebay::EbayIdentity;
use stockedge::sync::shopify::ShopifyIdentity;
use stockedge::sync::woocommerce::WoocommerceIdentity;
use stockedge::sync::{HttpResponse, Method};
use stockedge::time::Millis;

fn now() -> Millis {
    Millis::parse_rfc3339("2026-12-06T10:00:00Z").unwrap()
}

fn read_of(kind: ChannelKind) -> Read {
    platform(kind).read.unwrap_or_else(|| panic!("{kind} has a read"))
}

fn answer(kind: ChannelKind, status: u16, body: Value) -> Result<i64, ReadError> {
    (read_of(kind).answer)(&HttpResponse::new(status, body.to_string()), now())
}

/// The statuses every platform shares, as each platform's read reads them.
fn assert_shared_statuses(kind: ChannelKind) {
    let err = json!({"errors": [{"code": "x", "message": "y"}]});
    assert!(matches!(answer(kind, 401, err.clone()), Err(ReadError::Credentials(_))), "{kind} 401");
    assert!(matches!(answer(kind, 403, err.clone()), Err(ReadError::Credentials(_))), "{kind} 403");
    assert!(matches!(answer(kind, 404, err.clone()), Err(ReadError::Gone(_))), "{kind} 404");
    assert!(matches!(answer(kind, 503, err.clone()), Err(ReadError::Unavailable(_))), "{kind} 503");
    let throttled = HttpResponse::new(429, err.to_string()).header("Retry-After", "3");
    assert_eq!((read_of(kind).answer)(&throttled, now()), Err(ReadError::Throttled(Some(3))), "{kind} 429");
    let unreadable = (read_of(kind).answer)(&HttpResponse::new(200, "<html>"), now());
    assert!(unreadable.is_err(), "{kind}: a body that is not JSON is no quantity");
}

#[test]
fn shopify_reads_the_available_level_at_the_listing_location() {
    let e = External::from(ShopifyIdentity { inventory_item_id: 30322695, location_id: 124656943 });
    let mut settings = Map::new();
    settings.insert("api_version".into(), json!("2026-01"));
    let req = (read_of(ChannelKind::Shopify).request)("shpat_abc", &settings, &e, now()).expect("request");
    assert_eq!((req.method, req.path.as_str()), (Method::Post, "/admin/api/2026-01/graphql.json"));
    assert_eq!(req.header_value("X-Shopify-Access-Token"), Some("shpat_abc"));
    let body: Value = serde_json::from_str(&req.body).expect("json");
    assert!(body["query"].as_str().is_some_and(|q| q.contains("quantities(names: [\"available\"])")));
    assert_eq!(
        body["variables"],
        json!({"item": "gid://shopify/InventoryItem/30322695", "location": "gid://shopify/Location/124656943"})
    );

    // shopify.dev, InventoryLevel.quantities: one InventoryQuantity per name asked.
    let level = json!({"data": {"inventoryItem": {"inventoryLevel": {"quantities": [{"name": "available", "quantity": 17}]}}},
        "extensions": {"cost": {"requestedQueryCost": 2, "actualQueryCost": 2,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1998, "restoreRate": 100.0}}}});
    assert_eq!(answer(ChannelKind::Shopify, 200, level), Ok(17));
    let no_item = json!({"data": {"inventoryItem": null}});
    assert!(matches!(answer(ChannelKind::Shopify, 200, no_item), Err(ReadError::Gone(_))));
    let not_stocked = json!({"data": {"inventoryItem": {"inventoryLevel": null}}});
    assert!(matches!(answer(ChannelKind::Shopify, 200, not_stocked), Err(ReadError::Gone(_))));
    let throttled = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 2, "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": 100.0}}}});
    assert_eq!(answer(ChannelKind::Shopify, 200, throttled), Err(ReadError::Throttled(Some(1))));
    assert_shared_statuses(ChannelKind::Shopify);
}

#[test]
fn woocommerce_reads_a_product_or_variation_stock_quantity() {
    let simple = External::from(WoocommerceIdentity { product_id: 794, variation_id: None });
    let variation = External::from(WoocommerceIdentity { product_id: 22, variation_id: Some(733) });
    let read = read_of(ChannelKind::Woocommerce);
    let req = (read.request)("ck_key:cs_secret", &Map::new(), &simple, now()).expect("request");
    assert_eq!((req.method, req.path.as_str()), (Method::Get, "/wp-json/wc/v3/products/794"));
    assert_eq!(req.header_value("Authorization"), Some("Basic Y2tfa2V5OmNzX3NlY3JldA=="));
    let req = (read.request)("ck_key:cs_secret", &Map::new(), &variation, now()).expect("request");
    assert_eq!(req.path, "/wp-json/wc/v3/products/22/variations/733");
    assert!(matches!((read.request)("no-colon", &Map::new(), &simple, now()), Err(ReadError::Credentials(_))));

    // REST API docs, "Retrieve a product" (abridged).
    let product = json!({"id": 794, "name": "Premium Quality", "sku": "PQ-1", "manage_stock": true, "stock_quantity": 12, "stock_status": "instock"});
    assert_eq!(answer(ChannelKind::Woocommerce, 200, product), Ok(12));
    let unmanaged = json!({"id": 794, "manage_stock": false, "stock_quantity": null});
    assert!(matches!(answer(ChannelKind::Woocommerce, 200, unmanaged), Err(ReadError::Unreadable(_))));
    let invalid =
        json!({"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 404}});
    assert!(matches!(answer(ChannelKind::Woocommerce, 404, invalid), Err(ReadError::Gone(_))));
    assert_shared_statuses(ChannelKind::Woocommerce);
}

#[test]
fn amazon_reads_the_default_fulfillment_availability() {
    let e = External::from(AmazonIdentity {
        seller_id: "A3SELLER".into(),
        seller_sku: "TEE/BLK M".into(),
        marketplace_ids: vec!["ATVPDKIKX0DER".into()],
    });
    let req = (read_of(ChannelKind::Amazon).request)("Atza|token", &Map::new(), &e, now()).expect("request");
    assert_eq!(req.method, Method::Get);
    assert_eq!(
        req.path,
        "/listings/2021-08-01/items/A3SELLER/TEE%2FBLK%20M?marketplaceIds=ATVPDKIKX0DER&includedData=fulfillmentAvailability"
    );
    assert_eq!(req.header_value("x-amz-access-token"), Some("Atza|token"));
    assert_eq!(req.header_value("x-amz-date"), Some("20261206T100000Z"));
    assert!(req.header_value("user-agent").is_some_and(|a| a.starts_with("StockEdge/")), "the pushes' user agent");

    // Listings Items API v2021-08-01, Item.fulfillmentAvailability.
    let item = json!({"sku": "TEE/BLK M", "fulfillmentAvailability": [
        {"fulfillmentChannelCode": "AMAZON_NA"}, {"fulfillmentChannelCode": "DEFAULT", "quantity": 5}]});
    assert_eq!(answer(ChannelKind::Amazon, 200, item), Ok(5));
    assert_eq!(answer(ChannelKind::Amazon, 200, json!({"sku": "X", "fulfillmentAvailability": []})), Ok(0));
    let quota = HttpResponse::new(
        429,
        json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]}).to_string(),
    )
    .header("x-amzn-RateLimit-Limit", "5.0");
    assert_eq!((read_of(ChannelKind::Amazon).answer)(&quota, now()), Err(ReadError::Throttled(None)));
    assert_shared_statuses(ChannelKind::Amazon);
}

#[test]
fn ebay_reads_the_inventory_item_ship_to_location_quantity() {
    let e = External::from(EbayIdentity { sku: "TEE BLK/M".into(), offer_id: Some("5001".into()) });
    let req = (read_of(ChannelKind::Ebay).request)("v^1.1#token", &Map::new(), &e, now()).expect("request");
    assert_eq!((req.method, req.path.as_str()), (Method::Get, "/sell/inventory/v1/inventory_item/TEE%20BLK%2FM"));
    assert_eq!(req.header_value("Authorization"), Some("Bearer v^1.1#token"));

    // Sell Inventory API, getInventoryItem (abridged).
    let item = json!({"sku": "TEE BLK/M", "locale": "en_US", "product": {"title": "Tee"},
        "availability": {"shipToLocationAvailability": {"quantity": 8}}, "condition": "NEW"});
    assert_eq!(answer(ChannelKind::Ebay, 200, item), Ok(8));
    assert_eq!(answer(ChannelKind::Ebay, 200, json!({"sku": "X", "availability": {}})), Ok(0));
    let unknown = json!({"errors": [{"errorId": 25710, "domain": "API_INVENTORY", "category": "REQUEST",
        "message": "We didn't find the resource/entity you are requesting. Please verify the request"}]});
    assert!(matches!(answer(ChannelKind::Ebay, 404, unknown), Err(ReadError::Gone(_))));
    assert_shared_statuses(ChannelKind::Ebay);
}

#[test]
fn every_platform_but_wholesale_reads_and_refuses_another_platforms_identity() {
    let shopify = External::from(ShopifyIdentity { inventory_item_id: 1, location_id: 1 });
    let ebay = External::from(EbayIdentity { sku: "A".into(), offer_id: None });
    for kind in ChannelKind::all() {
        match platform(kind).read {
            None => assert_eq!(kind, ChannelKind::Wholesale, "only EDI 846 is push-only"),
            Some(read) => {
                let foreign = if kind == ChannelKind::Shopify { &ebay } else { &shopify };
                let r = (read.request)("a:b", &Map::new(), foreign, now());
                assert!(matches!(r, Err(ReadError::NotReadable(_))), "{kind} refuses a foreign identity");
                // Only SP-API's Listings Items plan needs pacing: 5 calls, then a wait.
                assert_eq!(read.pacing.is_some(), kind == ChannelKind::Amazon, "{kind} pacing");
                if let Some(fresh) = read.pacing {
                    let mut bucket = fresh(now());
                    assert!((0..5).all(|_| bucket.try_take(now()).is_ok()));
                    assert_eq!(bucket.try_take(now()), Err(200), "the sixth waits for the next token");
                }
            }
        }
    }
}
