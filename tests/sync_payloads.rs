//! Outbound channel sync (`src/sync`): golden request bodies per adapter built from the
//! platforms' documented shapes, batch splitting at the limits, response interpretation per
//! status and per documented error shape, X12 846 envelope validity, the adapter contract as a
//! property, and one end-to-end pass (events → coalesce → build → interpret → retry → status).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};

use stockedge::catalog::model::{External, Listing};
use stockedge::catalog::ListingRule;
use stockedge::stock::{Op, Sku, Token};
use stockedge::sync::amazon::AmazonIdentity;
use stockedge::sync::ebay::EbayIdentity;
use stockedge::sync::shopify::ShopifyIdentity;
use stockedge::sync::wholesale::WholesaleIdentity;
use stockedge::sync::woocommerce::WoocommerceIdentity;
use stockedge::sync::*;
use stockedge::time::Millis;

#[path = "support/x12_check.rs"]
mod x12_check;
use x12_check::{check_846, parse};

fn now() -> Millis {
    Millis::parse_rfc3339("2026-11-29T22:56:48Z").unwrap()
}

fn update(
    channel: &str,
    sku: &str,
    external: External,
    version: u64,
    quantity: i64,
    expected: Option<i64>,
) -> ListingUpdate {
    let at = Millis::parse_rfc3339("2026-11-29T22:50:00Z").unwrap();
    ListingUpdate {
        key: ListingId { channel: Token::parse(channel).unwrap(), sku: Sku::parse(sku).unwrap() },
        external,
        version,
        available: quantity,
        quantity,
        expected,
        cause: Op::Sale,
        at,
        since: at,
    }
}

fn outcomes(adapter: &impl ChannelAdapter, call: &PushCall, response: HttpResponse) -> Vec<PushResult> {
    let out = adapter.interpret(call, &response, now());
    assert_eq!(out.len(), call.updates.len(), "one outcome per update");
    for (o, u) in out.iter().zip(&call.updates) {
        assert_eq!((&o.key, o.version, o.quantity), (&u.key, u.version, u.quantity), "in the call's order");
    }
    out.into_iter().map(|o| o.outcome).collect()
}

fn only_call(built: &Built) -> &PushCall {
    assert!(built.refused.is_empty(), "{:?}", built.refused);
    assert_eq!(built.calls.len(), 1);
    &built.calls[0]
}

fn kind_of(o: &PushResult) -> Option<FailureKind> {
    match o {
        PushResult::Permanent(f) => Some(f.kind),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Shopify

fn shopify_update(sku: &str, item: i64, version: u64, quantity: i64, expected: Option<i64>) -> ListingUpdate {
    update(
        "myshop",
        sku,
        External::from(ShopifyIdentity { inventory_item_id: item, location_id: 124656943 }),
        version,
        quantity,
        expected,
    )
}

#[test]
fn shopify_golden_request() {
    let adapter = ShopifyAdapter::new("shpat_secret");
    let updates =
        [shopify_update("TEE-BLK-M", 30322695, 42, 7, Some(9)), shopify_update("MUG/01", 30322696, 5, 0, None)];
    let built = adapter.build(&updates, now());
    let call = only_call(&built);
    let r = &call.request;
    assert_eq!((r.method, r.path.as_str()), (Method::Post, "/admin/api/2026-04/graphql.json"));
    assert_eq!(r.header_value("x-shopify-access-token"), Some("shpat_secret"));
    assert_eq!(r.header_value("content-type"), Some("application/json"));
    let field = |i: u8| {
        format!("q{i}: inventorySetQuantities(input: $q{i}) {{ inventoryAdjustmentGroup {{ id }} userErrors {{ code field message }} }}")
    };
    let query = format!(
        "mutation StockEdgeSetAvailable($q0: InventorySetQuantitiesInput!, $q1: InventorySetQuantitiesInput!) {{ {} {} }}",
        field(0),
        field(1)
    );
    let expected = format!(
        concat!(
            r#"{{"query":"{}","variables":{{"#,
            r#""q0":{{"name":"available","reason":"correction","referenceDocumentUri":"gid://stockedge/StockChange/TEE-BLK-M/42","#,
            r#""quantities":[{{"inventoryItemId":"gid://shopify/InventoryItem/30322695","locationId":"gid://shopify/Location/124656943","quantity":7,"changeFromQuantity":9}}]}},"#,
            r#""q1":{{"name":"available","reason":"correction","referenceDocumentUri":"gid://stockedge/StockChange/MUG%2F01/5","#,
            r#""quantities":[{{"inventoryItemId":"gid://shopify/InventoryItem/30322696","locationId":"gid://shopify/Location/124656943","quantity":0,"changeFromQuantity":null}}]}}"#,
            r#"}}}}"#
        ),
        query
    );
    assert_eq!(r.body, expected);
    // `changeFromQuantity: null` must be explicit from 2026-04.
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert!(v.pointer("/variables/q1/quantities/0").unwrap().as_object().unwrap().contains_key("changeFromQuantity"));
}

#[test]
fn shopify_batches_at_its_configured_size() {
    let adapter = ShopifyAdapter::new("t");
    let updates: Vec<ListingUpdate> = (0..21).map(|i| shopify_update(&format!("S{i}"), 1000 + i, 1, 1, None)).collect();
    let built = adapter.build(&updates, now());
    assert_eq!(built.calls.iter().map(|c| c.updates.len()).collect::<Vec<_>>(), [10, 10, 1]);
    let v: Value = serde_json::from_str(&built.calls[2].request.body).unwrap();
    assert_eq!(v["variables"]["q0"]["quantities"][0]["inventoryItemId"], "gid://shopify/InventoryItem/1020");
}

#[test]
fn shopify_reads_user_errors_per_listing() {
    let adapter = ShopifyAdapter::new("t");
    let updates = [
        shopify_update("A", 1, 2, 3, Some(4)),
        shopify_update("B", 2, 2, 3, Some(4)),
        shopify_update("C", 3, 2, 3, None),
        shopify_update("D", 4, 2, -1, None),
    ];
    let built = adapter.build(&updates, now());
    let call = only_call(&built);
    let body = json!({
        "data": {
            "q0": {"inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"}, "userErrors": []},
            "q1": {"inventoryAdjustmentGroup": null, "userErrors": [
                {"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0", "changeFromQuantity"], "message": "The changeFromQuantity value does not match persisted value."}
            ]},
            "q2": {"inventoryAdjustmentGroup": null, "userErrors": [
                {"code": "INVALID_INVENTORY_ITEM", "field": ["input", "quantities", "0", "inventoryItemId"], "message": "The specified inventory item could not be found."}
            ]},
            "q3": {"inventoryAdjustmentGroup": null, "userErrors": [
                {"code": "INVALID_QUANTITY_NEGATIVE", "field": ["input", "quantities", "0", "quantity"], "message": "The quantity can't be negative."}
            ]}
        },
        "extensions": {"cost": {"requestedQueryCost": 40, "actualQueryCost": 40,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1960, "restoreRate": 100.0}}}
    });
    let response = HttpResponse::new(200, body.to_string());
    let out = outcomes(&adapter, call, response.clone());
    assert_eq!(out[0], PushResult::Pushed);
    assert_eq!(out[1], PushResult::Stale);
    assert_eq!(kind_of(&out[2]), Some(FailureKind::UnknownListing));
    assert_eq!(kind_of(&out[3]), Some(FailureKind::Validation));
    let cost = QueryCost::from_response(&response).unwrap();
    assert_eq!(
        cost.throttle_status,
        ThrottleStatus { maximum_available: 2000.0, currently_available: 1960.0, restore_rate: 100.0 }
    );
    assert_eq!(cost.actual_query_cost, Some(40.0));
}

#[test]
fn shopify_throttling_and_statuses() {
    let adapter = ShopifyAdapter::new("t");
    let updates = [shopify_update("A", 1, 2, 3, None), shopify_update("B", 2, 2, 3, None)];
    let built = adapter.build(&updates, now());
    let call = only_call(&built);
    // The documented throttled answer: no data, a THROTTLED error, the bucket state.
    let throttled = json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 752, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 666, "restoreRate": 50.0}}}
    });
    assert_eq!(
        outcomes(&adapter, call, HttpResponse::new(200, throttled.to_string())),
        [PushResult::RetryAfter(2), PushResult::RetryAfter(2)]
    );
    assert_eq!(
        outcomes(&adapter, call, HttpResponse::new(429, "").header("Retry-After", "3")),
        [PushResult::RetryAfter(3), PushResult::RetryAfter(3)]
    );
    assert_eq!(
        outcomes(&adapter, call, HttpResponse::new(429, throttled.to_string())),
        [PushResult::RetryAfter(2), PushResult::RetryAfter(2)]
    );
    assert!(matches!(outcomes(&adapter, call, HttpResponse::new(503, ""))[0], PushResult::Backoff(_)));
    assert!(matches!(outcomes(&adapter, call, HttpResponse::new(200, "<html>"))[0], PushResult::Backoff(_)));
    let denied = outcomes(
        &adapter,
        call,
        HttpResponse::new(
            401,
            r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#,
        ),
    );
    assert_eq!(kind_of(&denied[0]), Some(FailureKind::Credentials));
    let bad_query = json!({"errors": [{"message": "Variable $q0 of type InventorySetQuantitiesInput! was provided invalid value", "extensions": {"code": "INVALID_VARIABLE"}}]});
    assert_eq!(
        kind_of(&outcomes(&adapter, call, HttpResponse::new(200, bad_query.to_string()))[1]),
        Some(FailureKind::Validation)
    );
    // A partial answer: q1's result missing with a top-level internal error.
    let partial = json!({"data": {"q0": {"inventoryAdjustmentGroup": {"id": "x"}, "userErrors": []}, "q1": null},
        "errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}, "path": ["q1"]}]});
    let out = outcomes(&adapter, call, HttpResponse::new(200, partial.to_string()));
    assert_eq!(out[0], PushResult::Pushed);
    assert!(matches!(out[1], PushResult::Backoff(_)));
}

#[test]
fn shopify_stale_then_reread() {
    let adapter = ShopifyAdapter::new("shpat_secret");
    let u = shopify_update("A", 30322695, 8, 5, Some(6));
    let reread = adapter.reread(&u).unwrap();
    assert_eq!(reread.path, "/admin/api/2026-04/graphql.json");
    let v: Value = serde_json::from_str(&reread.body).unwrap();
    assert_eq!(
        v["variables"],
        json!({"item": "gid://shopify/InventoryItem/30322695", "location": "gid://shopify/Location/124656943"})
    );
    assert!(v["query"].as_str().unwrap().contains("quantities(names: [\"available\"])"));
    let answer =
        json!({"data": {"inventoryItem": {"inventoryLevel": {"quantities": [{"name": "available", "quantity": 4}]}}}});
    let current = adapter.read_current(&HttpResponse::new(200, answer.to_string()), now());
    assert_eq!(current, Ok(4));
    let retry = adapter.build(&[u.expecting(current.ok())], now());
    let v: Value = serde_json::from_str(&only_call(&retry).request.body).unwrap();
    assert_eq!(v["variables"]["q0"]["quantities"][0]["changeFromQuantity"], 4);
}

#[test]
fn shopify_reread_failures_say_what_follows() {
    let adapter = ShopifyAdapter::new("t");
    let read = |status: u16, body: Value| adapter.read_current(&HttpResponse::new(status, body.to_string()), now());
    assert!(matches!(read(503, json!({"errors": "Unavailable Shop"})), Err(PushResult::Backoff(_))));
    let throttled = json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 4, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": 2.0}}}
    });
    assert_eq!(read(200, throttled), Err(PushResult::RetryAfter(2)));
    let gone = read(200, json!({"data": {"inventoryItem": null}}));
    assert_eq!(gone.err().as_ref().and_then(kind_of), Some(FailureKind::UnknownListing));
    let unstocked = read(200, json!({"data": {"inventoryItem": {"inventoryLevel": null}}}));
    assert_eq!(unstocked.err().as_ref().and_then(kind_of), Some(FailureKind::UnknownListing));
    assert!(matches!(
        read(200, json!({"data": {"inventoryItem": {"inventoryLevel": {"quantities": []}}}})),
        Err(PushResult::Backoff(_))
    ));
    assert_eq!(
        read(401, json!({"errors": "[API] Invalid API key"})).err().as_ref().and_then(kind_of),
        Some(FailureKind::Credentials)
    );
}

// ---------------------------------------------------------------------------------------------
// WooCommerce

fn woo_update(sku: &str, product_id: i64, variation_id: Option<i64>, quantity: i64) -> ListingUpdate {
    update("woo", sku, External::from(WoocommerceIdentity { product_id, variation_id }), 3, quantity, Some(99))
}

#[test]
fn woocommerce_golden_requests() {
    let adapter = WooCommerceAdapter::new("ck_123", "cs_456");
    let updates = [
        woo_update("A", 799, None, 12),
        woo_update("B", 22, Some(733), 0),
        woo_update("C", 800, None, 5),
        woo_update("D", 22, Some(734), 3),
    ];
    let built = adapter.build(&updates, now());
    assert!(built.refused.is_empty());
    assert_eq!(built.calls.len(), 2);
    let (products, variations) = (&built.calls[0].request, &built.calls[1].request);
    assert_eq!((products.method, products.path.as_str()), (Method::Post, "/wp-json/wc/v3/products/batch"));
    assert_eq!(
        products.body,
        r#"{"update":[{"id":799,"manage_stock":true,"stock_quantity":12},{"id":800,"manage_stock":true,"stock_quantity":5}]}"#
    );
    assert_eq!(variations.path, "/wp-json/wc/v3/products/22/variations/batch");
    assert_eq!(
        variations.body,
        r#"{"update":[{"id":733,"manage_stock":true,"stock_quantity":0},{"id":734,"manage_stock":true,"stock_quantity":3}]}"#
    );
    // HTTP Basic with the consumer key and secret: base64("ck_123:cs_456").
    assert_eq!(products.header_value("authorization"), Some("Basic Y2tfMTIzOmNzXzQ1Ng=="));
    assert_eq!(built.calls[1].updates.iter().map(|u| u.key.sku.as_str()).collect::<Vec<_>>(), ["B", "D"]);
}

#[test]
fn woocommerce_splits_at_100_items() {
    let adapter = WooCommerceAdapter::new("k", "s");
    let simple: Vec<ListingUpdate> = (0..101).map(|i| woo_update(&format!("S{i}"), 1000 + i, None, 1)).collect();
    let built = adapter.build(&simple, now());
    assert_eq!(built.calls.iter().map(|c| c.updates.len()).collect::<Vec<_>>(), [100, 1]);
    let v: Value = serde_json::from_str(&built.calls[0].request.body).unwrap();
    assert_eq!(v["update"].as_array().unwrap().len(), 100);

    let variations: Vec<ListingUpdate> = (0..101).map(|i| woo_update(&format!("V{i}"), 7, Some(5000 + i), 1)).collect();
    let built = adapter.build(&variations, now());
    assert_eq!(built.calls.iter().map(|c| c.updates.len()).collect::<Vec<_>>(), [100, 1]);
    assert!(built.calls.iter().all(|c| c.request.path == "/wp-json/wc/v3/products/7/variations/batch"));

    let exactly: Vec<ListingUpdate> = simple[..100].to_vec();
    assert_eq!(adapter.build(&exactly, now()).calls.len(), 1);
}

#[test]
fn woocommerce_reads_per_item_errors() {
    let adapter = WooCommerceAdapter::new("k", "s");
    let updates = [
        woo_update("A", 799, None, 12),
        woo_update("B", 800, None, 5),
        woo_update("C", 801, None, 5),
        woo_update("D", 802, None, 1),
    ];
    let built = adapter.build(&updates, now());
    let call = only_call(&built);
    let body = json!({"update": [
        {"id": 799, "name": "Tee", "manage_stock": true, "stock_quantity": 12, "stock_status": "instock"},
        {"id": 800, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}},
        {"id": 801, "error": {"code": "rest_invalid_param", "message": "Invalid parameter(s): stock_quantity", "data": {"status": 400}}}
    ]});
    let out = outcomes(&adapter, call, HttpResponse::new(200, body.to_string()));
    assert_eq!(out[0], PushResult::Pushed);
    assert_eq!(kind_of(&out[1]), Some(FailureKind::UnknownListing));
    assert_eq!(kind_of(&out[2]), Some(FailureKind::Validation));
    assert!(matches!(&out[3], PushResult::Backoff(r) if r.contains("802")), "missing from the answer: {:?}", out[3]);

    let cannot = json!({"code": "woocommerce_rest_cannot_edit", "message": "Sorry, you are not allowed to edit this resource.", "data": {"status": 401}});
    assert_eq!(
        kind_of(&outcomes(&adapter, call, HttpResponse::new(401, cannot.to_string()))[0]),
        Some(FailureKind::Credentials)
    );
    let too_large = json!({"code": "woocommerce_rest_request_entity_too_large", "message": "Unable to accept more than 100 items for this request.", "data": {"status": 413}});
    let out = outcomes(&adapter, call, HttpResponse::new(413, too_large.to_string()));
    assert!(
        matches!(&out[0], PushResult::Permanent(f) if f.kind == FailureKind::Validation && f.message.contains("entity_too_large"))
    );
    assert!(matches!(outcomes(&adapter, call, HttpResponse::new(502, ""))[0], PushResult::Backoff(_)));
    assert_eq!(
        outcomes(&adapter, call, HttpResponse::new(429, "").header("Retry-After", "10"))[0],
        PushResult::RetryAfter(10)
    );
}

// ---------------------------------------------------------------------------------------------
// Amazon

fn amazon_update(sku: &str, seller_sku: &str, quantity: i64) -> ListingUpdate {
    let external = External::from(AmazonIdentity {
        seller_id: "A2C4E6G8I0K".into(),
        seller_sku: seller_sku.into(),
        marketplace_ids: vec!["ATVPDKIKX0DER".into(), "A2EUQ1WTGCTBG2".into()],
    });
    update("amazon-us", sku, external, 11, quantity, None)
}

#[test]
fn amazon_golden_request() {
    let adapter = AmazonAdapter::new("Atza|token");
    let built = adapter.build(&[amazon_update("MUG-01", "MUG-01/BLUE", 14)], now());
    let r = &only_call(&built).request;
    assert_eq!(r.method, Method::Patch);
    assert_eq!(
        r.path,
        "/listings/2021-08-01/items/A2C4E6G8I0K/MUG-01%2FBLUE?marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2"
    );
    assert_eq!(
        r.body,
        r#"{"productType":"PRODUCT","patches":[{"op":"replace","path":"/attributes/fulfillment_availability","value":[{"fulfillment_channel_code":"DEFAULT","quantity":14}]}]}"#
    );
    assert_eq!(r.header_value("x-amz-access-token"), Some("Atza|token"));
    assert_eq!(r.header_value("x-amz-date"), Some("20261129T225648Z"));
    assert!(r.header_value("user-agent").unwrap().starts_with("StockEdge/"));

    let merging = AmazonAdapter { op: PatchOp::Merge, ..adapter.clone() };
    assert!(only_call(&merging.build(&[amazon_update("A", "A", 1)], now())).request.body.contains(r#""op":"merge""#));
    // One SKU per request.
    let many: Vec<ListingUpdate> = (0..3).map(|i| amazon_update(&format!("S{i}"), &format!("S{i}"), i)).collect();
    assert_eq!(adapter.build(&many, now()).calls.len(), 3);
}

#[test]
fn amazon_reads_submission_responses_and_errors() {
    let adapter = AmazonAdapter::new("t");
    let built = adapter.build(&[amazon_update("A", "A", 1)], now());
    let call = only_call(&built);
    let one = |r: HttpResponse| outcomes(&adapter, call, r).remove(0);
    let accepted =
        json!({"sku": "A", "status": "ACCEPTED", "submissionId": "f1dc2914-75dd-11ea-bc55-0242ac130003", "issues": []});
    assert_eq!(one(HttpResponse::new(200, accepted.to_string())), PushResult::Pushed);
    let invalid = json!({"sku": "A", "status": "INVALID", "submissionId": "x", "issues": [
        {"code": "90220", "message": "'fulfillment_availability' is required but not supplied.", "severity": "ERROR", "attributeNames": ["fulfillment_availability"]},
        {"code": "18027", "message": "just a warning", "severity": "WARNING"}
    ]});
    match one(HttpResponse::new(200, invalid.to_string())) {
        PushResult::Permanent(f) => {
            assert_eq!(f.kind, FailureKind::Validation);
            assert!(f.message.contains("90220") && !f.message.contains("warning"), "{}", f.message);
        }
        other => panic!("{other:?}"),
    }
    let errors =
        |code: &str, message: &str| json!({"errors": [{"code": code, "message": message, "details": ""}]}).to_string();
    assert_eq!(
        kind_of(&one(HttpResponse::new(400, errors("InvalidInput", "Invalid input")))),
        Some(FailureKind::Validation)
    );
    assert_eq!(
        kind_of(&one(HttpResponse::new(403, errors("Unauthorized", "Access to requested resource is denied.")))),
        Some(FailureKind::Credentials)
    );
    assert_eq!(
        kind_of(&one(HttpResponse::new(404, errors("NotFound", "Resource not found.")))),
        Some(FailureKind::UnknownListing)
    );
    assert_eq!(
        one(HttpResponse::new(429, errors("QuotaExceeded", "You exceeded your quota"))
            .header("x-amzn-RateLimit-Limit", "5.0")),
        PushResult::RetryAfter(1)
    );
    assert_eq!(
        one(HttpResponse::new(429, errors("QuotaExceeded", "You exceeded your quota"))
            .header("x-amzn-RateLimit-Limit", "0.2")),
        PushResult::RetryAfter(5)
    );
    assert!(matches!(one(HttpResponse::new(429, errors("QuotaExceeded", "q"))), PushResult::Backoff(_)));
    assert!(matches!(one(HttpResponse::new(503, errors("ServiceUnavailable", "try later"))), PushResult::Backoff(_)));
    assert!(matches!(adapter.no_response(call, "timeout").remove(0).outcome, PushResult::Backoff(_)));
}

#[test]
fn amazon_lwa_token_request_and_pacing() {
    let creds = LwaCredentials {
        client_id: "amzn1.application-oa2-client.abc".into(),
        client_secret: "s3cr=t".into(),
        refresh_token: "Atzr|IwEB".into(),
    };
    let r = creds.token_request();
    assert_eq!((r.method, r.path.as_str()), (Method::Post, "/auth/o2/token"));
    assert_eq!(r.header_value("content-type"), Some("application/x-www-form-urlencoded;charset=UTF-8"));
    assert_eq!(r.body, "grant_type=refresh_token&refresh_token=Atzr%7CIwEB&client_id=amzn1.application-oa2-client.abc&client_secret=s3cr%3Dt");

    let mut cache = TokenCache::default();
    assert_eq!(cache.get(now()), None);
    let answer = HttpResponse::new(
        200,
        r#"{"access_token":"Atza|IQEB","refresh_token":"Atzr|IwEB","token_type":"bearer","expires_in":3600}"#,
    );
    cache.store(LwaToken::from_response(&answer, now(), "LWA").unwrap(), now());
    assert_eq!(cache.get(now().plus_seconds(3_299)), Some("Atza|IQEB"));
    assert_eq!(cache.get(now().plus_seconds(3_300)), None);

    let mut bucket = TokenBucket::amazon_listings(now());
    let granted = (0..7).filter(|_| bucket.try_take(now()).is_ok()).count();
    assert_eq!(granted, 5, "burst 5");
    assert_eq!(bucket.try_take(now()), Err(200), "then one every 200 ms");
}

// ---------------------------------------------------------------------------------------------
// eBay

fn ebay_update(sku: &str, offer_id: Option<&str>, quantity: i64) -> ListingUpdate {
    update(
        "ebay-us",
        sku,
        External::from(EbayIdentity { sku: sku.into(), offer_id: offer_id.map(str::to_owned) }),
        4,
        quantity,
        None,
    )
}

#[test]
fn ebay_golden_request() {
    let adapter = EbayAdapter::new("v^1.1#i^1#token");
    let built =
        adapter.build(&[ebay_update("TEE-BLK-M", Some("9876543210"), 6), ebay_update("MUG-01", None, 0)], now());
    let r = &only_call(&built).request;
    assert_eq!((r.method, r.path.as_str()), (Method::Post, "/sell/inventory/v1/bulk_update_price_quantity"));
    assert_eq!(r.header_value("authorization"), Some("Bearer v^1.1#i^1#token"));
    assert_eq!(
        r.body,
        concat!(
            r#"{"requests":["#,
            r#"{"sku":"TEE-BLK-M","shipToLocationAvailability":{"quantity":6},"offers":[{"offerId":"9876543210","availableQuantity":6}]},"#,
            r#"{"sku":"MUG-01","shipToLocationAvailability":{"quantity":0}}"#,
            r#"]}"#
        )
    );
}

#[test]
fn ebay_splits_at_25() {
    let adapter = EbayAdapter::new("t");
    let updates: Vec<ListingUpdate> = (0..26).map(|i| ebay_update(&format!("S{i}"), Some("1"), 1)).collect();
    let built = adapter.build(&updates, now());
    assert_eq!(built.calls.iter().map(|c| c.updates.len()).collect::<Vec<_>>(), [25, 1]);
    let v: Value = serde_json::from_str(&built.calls[0].request.body).unwrap();
    assert_eq!(v["requests"].as_array().unwrap().len(), 25);
    assert_eq!(adapter.build(&updates[..25], now()).calls.len(), 1);
}

#[test]
fn ebay_reads_multi_status_responses() {
    let adapter = EbayAdapter::new("t");
    let updates = [
        ebay_update("A", Some("1"), 1),
        ebay_update("B", Some("2"), 1),
        ebay_update("C", None, 1),
        ebay_update("D", None, 1),
    ];
    let built = adapter.build(&updates, now());
    let call = only_call(&built);
    let body = json!({"responses": [
        {"statusCode": 200, "sku": "A", "offerId": "1"},
        {"statusCode": 200, "sku": "A"},
        {"statusCode": 200, "sku": "B"},
        {"statusCode": 400, "sku": "B", "offerId": "2", "errors": [
            {"errorId": 25002, "domain": "API_INVENTORY", "category": "REQUEST", "message": "A user error has occurred. The offer is not published."}
        ]},
        {"statusCode": 500, "sku": "C", "errors": [{"errorId": 25001, "domain": "API_INVENTORY", "category": "APPLICATION", "message": "A system error has occurred."}]}
    ]});
    let out = outcomes(&adapter, call, HttpResponse::new(207, body.to_string()));
    assert_eq!(out[0], PushResult::Pushed);
    assert!(
        matches!(&out[1], PushResult::Permanent(f) if f.kind == FailureKind::Validation && f.message.contains("25002"))
    );
    assert!(matches!(&out[2], PushResult::Backoff(r) if r.contains("25001")));
    assert!(matches!(&out[3], PushResult::Backoff(r) if r.contains("no result")));

    let expired = json!({"errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST", "message": "Invalid access token"}]});
    assert_eq!(
        kind_of(&outcomes(&adapter, call, HttpResponse::new(401, expired.to_string()))[0]),
        Some(FailureKind::Credentials)
    );
    let bad = json!({"errors": [{"errorId": 25709, "domain": "API_INVENTORY", "category": "REQUEST", "message": "Invalid value for header Content-Type."}]});
    assert!(
        matches!(&outcomes(&adapter, call, HttpResponse::new(400, bad.to_string()))[0], PushResult::Permanent(f) if f.message.contains("25709"))
    );
}

#[test]
fn ebay_daily_revision_ceiling() {
    let day = Millis::parse_rfc3339("2026-11-29T00:00:00Z").unwrap();
    let mut counters = BTreeMap::new();
    let mut admitted_total = 0;
    for i in 0..251 {
        let (admitted, deferred) =
            admit_revisions(vec![ebay_update("A", Some("1"), i)], &mut counters, Millis(day.0 + i * 60_000));
        admitted_total += admitted.len();
        if i == 250 {
            assert!(admitted.is_empty());
            let wait_until_midnight = (86_400_000 - 250 * 60_000) / 1000;
            assert_eq!(deferred[0].outcome, PushResult::RetryAfter(wait_until_midnight as u64));
        }
    }
    assert_eq!(admitted_total, EBAY_DAILY_REVISION_LIMIT as usize);
    let (admitted, _) =
        admit_revisions(vec![ebay_update("A", Some("1"), 1)], &mut counters, Millis(day.0 + 86_400_000));
    assert_eq!(admitted.len(), 1, "a new UTC day");
}

// ---------------------------------------------------------------------------------------------
// Wholesale (X12 846)

fn envelope() -> Envelope {
    Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: "STOCKEDGE".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "ACMEWHOLESALE".into(),
        application_sender: "STOCKEDGE".into(),
        application_receiver: "ACMEWHOLESALE".into(),
        usage: Usage::Production,
    }
}

fn partner(effective_dates: bool) -> TradingPartner {
    let mut p =
        TradingPartner::new("acme", envelope(), ControlNumbers { interchange: 1234, group: 56, transaction: 1 });
    p.effective_dates = effective_dates;
    p
}

fn wholesale(partners: Vec<TradingPartner>) -> WholesaleAdapter {
    WholesaleAdapter { path: "/edi/846".into(), authorization: Some("Bearer van-key".into()), partners }
}

fn wholesale_update(partner_id: &str, sku: &str, item_code: Option<&str>, quantity: i64) -> ListingUpdate {
    update(
        "wholesale",
        sku,
        External::from(WholesaleIdentity { partner_id: partner_id.into(), item_code: item_code.map(str::to_owned) }),
        2,
        quantity,
        None,
    )
}

#[test]
fn x12_golden_document() {
    let adapter = wholesale(vec![partner(true)]);
    let updates =
        [wholesale_update("acme", "TEE-BLK-M", Some("ACME-778"), 7), wholesale_update("acme", "MUG-01", None, 0)];
    let built = adapter.build(&updates, now());
    let r = &only_call(&built).request;
    assert_eq!((r.method, r.path.as_str()), (Method::Post, "/edi/846"));
    assert_eq!(r.header_value("content-type"), Some("application/edi-x12"));
    assert_eq!(r.header_value("authorization"), Some("Bearer van-key"));
    let expected = concat!(
        "ISA*00*          *00*          *ZZ*STOCKEDGE      *ZZ*ACMEWHOLESALE  *261129*2256*U*00401*000001234*0*P*>~",
        "GS*IB*STOCKEDGE*ACMEWHOLESALE*20261129*2256*56*X*004010~",
        "ST*846*0001~",
        "BIA*00*SI*000001234*20261129*2256~",
        "LIN**IN*ACME-778*VN*TEE-BLK-M~",
        "QTY*33*7*EA~",
        "DTM*007*20261129*2250~",
        "LIN**VN*MUG-01~",
        "QTY*33*0*EA~",
        "DTM*007*20261129*2250~",
        "SE*9*0001~",
        "GE*1*56~",
        "IEA*1*000001234~",
    );
    assert_eq!(r.body, expected);
    assert_eq!(r.body.find("GS*").unwrap(), 106, "ISA is 106 characters with its terminator");

    let summary = check_846(&r.body).unwrap();
    assert_eq!((summary.interchange_control.as_str(), summary.group_control.as_str()), ("000001234", "56"));
    assert_eq!(summary.sets.len(), 1);
    assert_eq!(summary.sets[0].segments, 9);
    assert_eq!(summary.sets[0].lines, [(Some("ACME-778".into()), "TEE-BLK-M".into(), 7), (None, "MUG-01".into(), 0)]);
}

#[test]
fn x12_envelope_is_valid_for_one_and_many_items() {
    // One item, no dates.
    let one = wholesale(vec![partner(false)]).build(&[wholesale_update("acme", "A", None, 3)], now());
    let text = &only_call(&one).request.body;
    let s = check_846(text).unwrap();
    assert_eq!((s.sets.len(), s.sets[0].segments, s.line_count()), (1, 5, 1), "ST BIA LIN QTY SE");
    assert!(!text.contains("DTM"));

    // 2,500 items, 1,000 per transaction set: three sets in one group, numbered from ST02 0001.
    let mut p = partner(true);
    p.max_lines_per_set = 1_000;
    p.control = ControlNumbers { interchange: 999_999_999, group: 7, transaction: 41 };
    let updates: Vec<ListingUpdate> =
        (0..2_500).map(|i| wholesale_update("acme", &format!("SKU-{i:05}"), Some(&format!("P{i}")), i)).collect();
    let built = wholesale(vec![p]).build(&updates, now());
    let text = &only_call(&built).request.body;
    let s = check_846(text).unwrap();
    assert_eq!(s.interchange_control, "999999999");
    assert_eq!(s.sets.iter().map(|t| t.control.as_str()).collect::<Vec<_>>(), ["0041", "0042", "0043"]);
    assert_eq!(s.sets.iter().map(|t| t.segments).collect::<Vec<_>>(), [3 + 3 * 1000, 3 + 3 * 1000, 3 + 3 * 500]);
    assert_eq!(s.line_count(), 2_500);
    assert_eq!(s.sets[2].lines.last().unwrap(), &(Some("P2499".into()), "SKU-02499".into(), 2499));
    assert!(text.contains("BIA*00*SI*999999999-3*"), "each set has its own reference");
    let segs = parse(text).unwrap();
    assert_eq!(segs.iter().find(|g| g.id == "GE").unwrap().elements, ["3", "7"]);
    assert_eq!(segs.last().unwrap().elements, ["1", "999999999"]);
}

#[test]
fn x12_checker_catches_broken_envelopes() {
    let built = wholesale(vec![partner(false)])
        .build(&[wholesale_update("acme", "A", None, 3), wholesale_update("acme", "B", None, 4)], now());
    let good = only_call(&built).request.body.clone();
    assert!(check_846(&good).is_ok());
    let broken = [
        good.replace("SE*7*0001", "SE*8*0001"),
        good.replace("SE*7*0001", "SE*7*0002"),
        good.replace("GE*1*56", "GE*2*56"),
        good.replace("GE*1*56", "GE*1*57"),
        good.replace("IEA*1*000001234", "IEA*2*000001234"),
        good.replace("IEA*1*000001234", "IEA*1*000001235"),
        good.replace("*ZZ*STOCKEDGE      *", "*ZZ*STOCKEDGE*"),
        good.replace("QTY*33*4*EA~", ""),
        good.replace("BIA*", "BIX*"),
        good.trim_end_matches('~').to_owned(),
    ];
    for b in &broken {
        assert_ne!(b, &good);
        assert!(check_846(b).is_err(), "accepted: {b}");
    }
    // Line breaks after terminators are fine.
    assert!(check_846(&good.replace('~', "~\r\n")).is_ok());
}

#[test]
fn wholesale_refuses_what_it_cannot_write() {
    let adapter = wholesale(vec![partner(false)]);
    let long_sku = "L".repeat(49);
    let updates = [
        wholesale_update("acme", "OK-1", Some("A*1"), 1),
        wholesale_update("acme", &long_sku, None, 1),
        wholesale_update("nobody", "OK-2", None, 1),
        wholesale_update("acme", "OK-3", None, 1),
        ebay_update("E", None, 1),
    ];
    let built = adapter.build(&updates, now());
    assert_eq!(built.calls.len(), 1);
    assert_eq!(built.calls[0].updates.iter().map(|u| u.key.sku.as_str()).collect::<Vec<_>>(), ["OK-3"]);
    assert_eq!(built.refused.len(), 4);
    assert!(built.refused.iter().all(|o| kind_of(&o.outcome) == Some(FailureKind::Validation)));
    let call = &built.calls[0];
    assert_eq!(outcomes(&adapter, call, HttpResponse::new(202, "")), [PushResult::Pushed]);
    assert!(matches!(outcomes(&adapter, call, HttpResponse::new(500, ""))[0], PushResult::Backoff(_)));
    assert_eq!(kind_of(&outcomes(&adapter, call, HttpResponse::new(400, "bad ISA"))[0]), Some(FailureKind::Validation));
}

// ---------------------------------------------------------------------------------------------
// The adapter contract, for every adapter.

fn any_external() -> impl Strategy<Value = External> {
    prop_oneof![
        (1i64..5, 1i64..3).prop_map(|(i, l)| External::from(ShopifyIdentity { inventory_item_id: i, location_id: l })),
        (1i64..5, proptest::option::of(1i64..4))
            .prop_map(|(p, v)| External::from(WoocommerceIdentity { product_id: p, variation_id: v })),
        (0u8..3).prop_map(|s| External::from(AmazonIdentity {
            seller_id: "S1".into(),
            seller_sku: format!("A{s}"),
            marketplace_ids: vec!["ATVPDKIKX0DER".into()]
        })),
        (0u8..3, proptest::option::of(0u8..2)).prop_map(|(s, o)| External::from(EbayIdentity {
            sku: format!("E{s}"),
            offer_id: o.map(|o| o.to_string())
        })),
        (0u8..3, proptest::option::of(0u8..2)).prop_map(|(p, c)| External::from(WholesaleIdentity {
            partner_id: format!("p{p}"),
            item_code: c.map(|c| format!("C{c}"))
        })),
    ]
}

fn adapters() -> Vec<Box<dyn ChannelAdapter>> {
    let mut p0 = partner(false);
    p0.partner_id = "p0".into();
    let mut p1 = partner(true);
    p1.partner_id = "p1".into();
    p1.max_lines_per_set = 2;
    let mut woo = WooCommerceAdapter::new("k", "s");
    woo.batch_limit = 3;
    let mut shop = ShopifyAdapter::new("t");
    shop.mutations_per_request = 2;
    vec![
        Box::new(shop),
        Box::new(woo),
        Box::new(AmazonAdapter::new("t")),
        Box::new(EbayAdapter::new("t")),
        Box::new(wholesale(vec![p0, p1])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_update_is_sent_once_or_refused(externals in proptest::collection::vec(any_external(), 0..30), status in prop_oneof![Just(200u16), Just(404), Just(429), Just(503)]) {
        let updates: Vec<ListingUpdate> =
            externals.into_iter().enumerate().map(|(i, e)| update("c", &format!("SKU-{i}"), e, 1, i as i64, None)).collect();
        for adapter in adapters() {
            let built = adapter.build(&updates, now());
            let mut seen: Vec<&ListingId> = built.calls.iter().flat_map(|c| c.updates.iter().map(|u| &u.key)).collect();
            seen.extend(built.refused.iter().map(|o| &o.key));
            seen.sort();
            let mut expected: Vec<&ListingId> = updates.iter().map(|u| &u.key).collect();
            expected.sort();
            prop_assert_eq!(seen, expected, "{:?}", adapter.kind());
            for call in &built.calls {
                prop_assert!(!call.updates.is_empty() && call.updates.len() <= adapter.batch_limit());
                prop_assert!(call.updates.iter().all(|u| u.external.kind() == adapter.kind()));
                let out = adapter.interpret(call, &HttpResponse::new(status, "{}"), now());
                prop_assert_eq!(out.len(), call.updates.len());
                for (o, u) in out.iter().zip(&call.updates) {
                    prop_assert_eq!(&o.key, &u.key);
                    if status >= 429 { prop_assert!(!o.outcome.is_pushed()); }
                }
            }
            for r in &built.refused {
                prop_assert!(matches!(r.outcome, PushResult::Permanent(_)));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// End to end: events → plan → push (stale, re-read, push again) → settle.

fn tee_batch(read_answers: Vec<Answer>) -> (Vec<HttpRequest>, Vec<ListingResult>, Settlement) {
    let sku = Sku::parse("TEE-BLK-M").unwrap();
    let event = |version: u64, available: i64| StockChanged {
        sku: sku.clone(),
        version,
        available,
        on_hand: available + 2,
        cause: Op::Sale,
        at: Millis(now().0 - 60_000 + version as i64 * 1_000),
        oversold: 0,
        alert: None,
        channel: None,
        ops: Vec::new(),
        orders: Vec::new(),
        erp_behind: Vec::new(),
    };
    // Delivered out of order and twice.
    let messages: Vec<String> =
        [event(7, 9), event(5, 12), event(7, 9), event(6, 10)].iter().map(|e| e.to_message().unwrap()).collect();
    let events: Vec<StockChanged> = messages.iter().map(|m| StockChanged::from_message(m).unwrap()).collect();
    let shop = Token::parse("myshop").unwrap();
    let listing = Listing {
        channel: shop.clone(),
        sku: sku.clone(),
        external: External::from(ShopifyIdentity { inventory_item_id: 30322695, location_id: 124656943 }),
        rule: ListingRule { buffer: 1, percent: 50, max_listed: None, zero_at_or_below: None },
    };
    let key = ListingId { channel: shop.clone(), sku: sku.clone() };
    let mut settings = serde_json::Map::new();
    settings.insert("base_url".into(), json!("https://myshop.example"));
    let channel = Channel {
        channel: shop.clone(),
        kind: stockedge::catalog::model::ChannelKind::Shopify,
        account: "myshop.example".into(),
        settings,
        secret: Ok("shpat_t".into()),
    };
    let synced = Synced { last: Some(LastPushed { version: 5, quantity: 5 }), ..Synced::default() };
    let loaded = Loaded {
        listings: vec![Ok(listing)],
        channels: BTreeMap::from([(shop, channel)]),
        synced: BTreeMap::from([(key, synced)]),
        bundle_members: BTreeMap::new(),
    };
    let mut plan = BatchPlan::new(events, loaded, now(), RetryPolicy::default());
    assert!(plan.revisions.is_empty(), "not an eBay listing");
    let mut push = plan.pushes.remove(0);
    assert!(plan.pushes.is_empty());

    let stale = json!({"data": {"q0": {"inventoryAdjustmentGroup": null, "userErrors": [{"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0", "changeFromQuantity"], "message": "stale"}]}}});
    let ok = json!({"data": {"q0": {"inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/9"}, "userErrors": []}}});
    let mut sent = Vec::new();
    let mut reads = read_answers.into_iter();
    while let Step::Send { base, requests } = push.step() {
        assert_eq!(base, "https://myshop.example");
        assert_eq!(requests.len(), 1);
        let body = requests[0].body.clone();
        sent.extend(requests);
        let answer = if body.contains("StockEdgeAvailable") {
            reads.next().expect("no more re-reads expected")
        } else if sent.iter().filter(|r| r.body.contains("inventorySetQuantities")).count() == 1 {
            Ok(HttpResponse::new(200, stale.to_string()))
        } else {
            Ok(HttpResponse::new(200, ok.to_string()))
        };
        push.answered(vec![answer]);
    }
    assert_eq!(push.step(), Step::Done);
    let results = push.results();
    let settled = plan.settle(results.clone());
    (sent, results, settled)
}

fn change_from(request: &HttpRequest) -> Option<Value> {
    let v: Value = serde_json::from_str(&request.body).ok()?;
    v.pointer("/variables/q0/quantities/0").map(|q| q["changeFromQuantity"].clone())
}

#[test]
fn one_consumer_batch_end_to_end() {
    let read =
        json!({"data": {"inventoryItem": {"inventoryLevel": {"quantities": [{"name": "available", "quantity": 3}]}}}});
    let answers = vec![
        Ok(HttpResponse::new(503, "{\"errors\":\"Unavailable Shop\"}")),
        Ok(HttpResponse::new(200, read.to_string())),
    ];
    let (sent, results, settled) = tee_batch(answers);
    let pushes: Vec<Option<Value>> = sent.iter().filter_map(change_from).map(Some).collect();
    assert_eq!(
        pushes,
        [Some(json!(5)), Some(json!(3))],
        "the last pushed quantity, then the one read after a retried read"
    );
    assert_eq!(sent.len(), 4, "push, read (503), read, push");
    assert_eq!(results.len(), 1);
    assert_eq!(
        (results[0].version, results[0].quantity, &results[0].outcome),
        (7, 4, &PushResult::Pushed),
        "(9 − 1) × 50 %"
    );
    let key = results[0].key.clone();
    assert_eq!(settled.writes, [SyncWrite::Pushed { key, version: 7, quantity: 4, at: now() }]);
    assert!(settled.failures.is_empty() && settled.retry.is_empty(), "{settled:?}");
}

/// Defect 5: a re-read that cannot be read never turns into a push without its compare.
#[test]
fn an_unreadable_reread_leaves_the_push_for_later_never_blind() {
    let unavailable = || Ok(HttpResponse::new(503, "{\"errors\":\"Unavailable Shop\"}"));
    let (sent, results, settled) = tee_batch(vec![unavailable(), Err("connection reset".into()), unavailable()]);
    assert_eq!(sent.len(), 1 + REREAD_ATTEMPTS as usize, "one push, then only re-reads");
    assert!(sent.iter().filter_map(change_from).all(|c| c != Value::Null), "never changeFromQuantity: null");
    assert!(
        matches!(&results[0].outcome, PushResult::Backoff(why) if why.contains("could not be read")),
        "{results:?}"
    );
    assert!(matches!(&settled.writes[0], SyncWrite::Failed { version: 7, attempts: 1, .. }), "{settled:?}");
    assert_eq!(settled.retry.get(&Sku::parse("TEE-BLK-M").unwrap()), Some(&2), "retried after the back-off");

    let throttled = json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 4, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": 1.0}}}
    });
    let (sent, results, settled) = tee_batch(vec![Ok(HttpResponse::new(200, throttled.to_string()))]);
    assert_eq!(sent.len(), 2, "a throttled read is not hammered");
    assert_eq!(results[0].outcome, PushResult::RetryAfter(4));
    assert_eq!(settled.retry.get(&Sku::parse("TEE-BLK-M").unwrap()), Some(&4));
}
