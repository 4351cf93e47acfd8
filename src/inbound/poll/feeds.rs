//! The order feeds StockEdge polls, one request and one page reader per platform:
//!
//! | platform | request | next page |
//! |---|---|---|
//! | WooCommerce | `GET /wp-json/wc/v3/orders?modified_after&modified_before&dates_are_gmt=true&orderby=modified&order=asc&status=any&per_page=100&page=N` | while `X-WP-TotalPages` is larger: from the page's newest modification (keyset), see `woo_cursor` |
//! | Amazon SP-API | `GET /orders/v0/orders?MarketplaceIds&LastUpdatedAfter&LastUpdatedBefore&MaxResultsPerPage=100`, then `?MarketplaceIds&NextToken` | `payload.NextToken` |
//! | eBay Fulfillment | `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[a..b]&limit=200&offset=N` | `offset + limit` while below `total` |
//!
//! Authentication headers are the edge's (Basic for WooCommerce, `x-amz-access-token`, eBay's
//! bearer token). Each order on a page becomes a [`PolledOrder`]: what it means for stock (the
//! same [`InboundOutcome`] a webhook for it would give: WooCommerce and eBay orders carry their lines,
//! Amazon orders need `getOrderItems`, an [`InboundOutcome::Fetch`]), when it was placed, and a
//! fingerprint of its content, so that an order read again unchanged (the windows overlap) is
//! skipped without calling anything.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::window::Window;
use crate::catalog::model::ChannelKind;
use crate::inbound::error::PayloadError;
use crate::inbound::event::{EventKind, InboundOutcome};
use crate::inbound::{amazon, ebay, json, woocommerce};
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

/// Orders per WooCommerce page (the REST API's `per_page` maximum).
pub const WOO_PER_PAGE: u32 = 100;
/// Orders per eBay page (`limit` maximum).
pub const EBAY_LIMIT: u32 = 200;
/// Orders per SP-API `getOrders` page (`MaxResultsPerPage` maximum).
pub const AMAZON_PER_PAGE: u32 = 100;
/// Largest page number or offset a cursor may hold (a stored cursor is data, not trusted).
const MAX_POSITION: u64 = 10_000_000;
/// Longest fingerprint kept: 128 bits of SHA-256, hex.
const FINGERPRINT_HEX: usize = 32;

/// One order read from a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolledOrder {
    pub order_id: String,
    /// When the order was placed (`None` when the platform did not say).
    pub placed_at: Option<Millis>,
    /// Changes whenever the order's content does.
    pub fingerprint: String,
    /// What the order means for stock, or why it cannot be used (the rest of the page still is).
    pub outcome: Result<InboundOutcome, PayloadError>,
}

/// One page of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedPage {
    pub orders: Vec<PolledOrder>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<String>,
}

/// Why a page could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// 429: try again later (after `retry_after_s` when the platform said).
    #[error("throttled by the platform (429)")]
    Throttled { retry_after_s: Option<u64> },
    /// 401/403: the channel's credentials were refused.
    #[error("the platform refused the channel's credentials ({status})")]
    Refused { status: u16 },
    /// Any other non-2xx answer.
    #[error("the platform answered {status}")]
    Status { status: u16 },
    /// A 2xx answer that is not a page of the feed.
    #[error("the page is not readable: {0}")]
    Unreadable(#[from] PayloadError),
}

impl FeedError {
    /// The run's error text: the error, and when a throttle says how long to wait, that too.
    pub fn describe(&self) -> String {
        match self {
            FeedError::Throttled { retry_after_s: Some(s) } => format!("{self}; retry after {s} s"),
            _ => self.to_string(),
        }
    }
}

/// What a poll needs to know about the channel to build requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedOf {
    pub kind: ChannelKind,
    /// The channel's account (WooCommerce site, Amazon seller id, eBay user).
    pub account: String,
    /// Amazon marketplaces to ask about (required by `getOrders`).
    pub marketplace_ids: Vec<String>,
}

/// `2026-12-01T08:30:00Z`: seconds precision, UTC (what every feed accepts).
fn iso_seconds(t: Millis) -> String {
    let s = t.to_rfc3339();
    match s.get(..19) {
        Some(head) => format!("{head}Z"),
        None => s,
    }
}

fn position(cursor: Option<&str>, first: u64) -> u64 {
    cursor.and_then(|c| c.parse::<u64>().ok()).filter(|n| (first..=MAX_POSITION).contains(n)).unwrap_or(first)
}

/// The request for the page at `window.cursor` (the first page when `None`), without
/// authentication: the feed registered for the channel's kind (see [`crate::channels`]); a kind
/// without a feed has no pages, and its request is never sent.
pub fn page_request(feed: &FeedOf, window: &Window) -> HttpRequest {
    let path = match crate::channels::platform(feed.kind).feed {
        Some(f) => (f.path)(feed, window),
        None => String::new(),
    };
    HttpRequest::new(Method::Get, path).header("Accept", "application/json")
}

/// The WooCommerce orders page at `window.cursor` (see [`woo_cursor`]).
pub fn woo_path(_feed: &FeedOf, window: &Window) -> String {
    // WooCommerce reads dates without an offset as the site's; with dates_are_gmt, as UTC.
    // Both bounds are exclusive and whole seconds: the lower is rounded down, the upper
    // up, so nothing in the stretch falls between them.
    let wp = |t: Millis| iso_seconds(t).trim_end_matches('Z').to_string();
    let (after, page) = woo_cursor(window);
    format!(
        "/wp-json/wc/v3/orders?modified_after={}&modified_before={}&dates_are_gmt=true&orderby=modified&order=asc&status=any&per_page={WOO_PER_PAGE}&page={page}",
        wp(after),
        wp(Millis(window.before.0 + 1_000)),
    )
}

/// The SP-API `getOrders` page at `window.cursor` (a `NextToken`).
pub fn amazon_path(feed: &FeedOf, window: &Window) -> String {
    let cursor = window.cursor.as_deref();
    let ids: Vec<String> = feed.marketplace_ids.iter().map(|m| encode_component(m)).collect();
    match cursor {
        Some(token) => format!("/orders/v0/orders?MarketplaceIds={}&NextToken={}", ids.join(","), encode_component(token)),
        None => format!(
            "/orders/v0/orders?MarketplaceIds={}&LastUpdatedAfter={}&LastUpdatedBefore={}&MaxResultsPerPage={AMAZON_PER_PAGE}",
            ids.join(","),
            encode_component(&iso_seconds(window.after)),
            encode_component(&iso_seconds(window.before))
        ),
    }
}

/// The eBay Fulfillment orders page at `window.cursor` (an offset).
pub fn ebay_path(_feed: &FeedOf, window: &Window) -> String {
    let cursor = window.cursor.as_deref();
    let filter = format!("lastmodifieddate:[{}..{}]", window.after.to_rfc3339(), window.before.to_rfc3339());
    format!(
        "/sell/fulfillment/v1/order?filter={}&limit={EBAY_LIMIT}&offset={}",
        encode_component(&filter),
        position(cursor, 0)
    )
}

/// WooCommerce pages by modification time (keyset), not by page number alone: a page number
/// counts from the stretch's start, so an order modified again while the stretch is read leaves
/// it and shifts every later order one place back — the one at the page boundary would be
/// skipped. The cursor `"<after ms>:<page>"` restarts from the last page's newest modification
/// instead (less a second: the bound is exclusive and whole seconds, so orders of that second
/// are read again and skipped by their fingerprints); the page number only grows when a whole
/// page shares one second. No cursor: the stretch's start less a second (the same exclusive,
/// whole-second bound: an order modified in the stretch's first second — the second StockEdge
/// was connected, which [`admit`] counts — is read), page 1.
fn woo_cursor(window: &Window) -> (Millis, u64) {
    let parsed = window.cursor.as_deref().and_then(|c| {
        let (at, page) = c.split_once(':')?;
        Some((Millis(at.parse::<i64>().ok()?), page.parse::<u64>().ok().filter(|p| (1..=MAX_POSITION).contains(p))?))
    });
    parsed.unwrap_or((Millis(window.after.0 - 1_000), 1))
}

/// The cursor after a WooCommerce page (see [`woo_cursor`]); `None` on the last page.
fn woo_next(window: &Window, pages: u64, last_modified: Option<Millis>) -> Option<String> {
    let (after, page) = woo_cursor(window);
    if pages <= page {
        return None;
    }
    let second = |t: Millis| t.0 - t.0.rem_euclid(1000);
    match last_modified.map(|m| Millis(second(m) - 1000)).filter(|next| second(*next) > second(after)) {
        Some(next) => Some(format!("{}:1", next.0)),
        None => Some(format!("{}:{}", after.0, page + 1)),
    }
}

fn fingerprint(order: &Value) -> String {
    let bytes = serde_json::to_vec(order).unwrap_or_default();
    let mut h = hex::encode(Sha256::digest(&bytes));
    h.truncate(FINGERPRINT_HEX);
    h
}

fn status_error(resp: &HttpResponse, now: Millis) -> Option<FeedError> {
    match resp.status {
        200..=299 => None,
        429 => Some(FeedError::Throttled { retry_after_s: resp.retry_after(now) }),
        401 | 403 => Some(FeedError::Refused { status: resp.status }),
        status => Some(FeedError::Status { status }),
    }
}

fn array_of<'a>(v: &'a Value, field: &str) -> Result<&'a [Value], PayloadError> {
    match v {
        Value::Array(a) => Ok(a.as_slice()),
        Value::Null => Ok(&[]),
        _ => Err(PayloadError::invalid(field, "must be an array of orders")),
    }
}

/// Reads the answer to [`page_request`] for `window`, with the page reader registered for the
/// channel's kind.
pub fn read_page(feed: &FeedOf, window: &Window, resp: &HttpResponse, now: Millis) -> Result<FeedPage, FeedError> {
    if let Some(e) = status_error(resp, now) {
        return Err(e);
    }
    match crate::channels::platform(feed.kind).feed {
        Some(f) => (f.page)(feed, window, resp, now),
        None => Ok(FeedPage { orders: Vec::new(), next: None }),
    }
}

/// A WooCommerce orders page (a 2xx answer).
pub fn woo_page(feed: &FeedOf, window: &Window, resp: &HttpResponse, now: Millis) -> Result<FeedPage, FeedError> {
    let body = resp.body.as_bytes();
    let root: Value = serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let mut orders = Vec::new();
    let mut last_modified: Option<Millis> = None;
    for (i, v) in array_of(&root, "the body")?.iter().enumerate() {
        let prefix = format!("[{i}]");
        let o = json::element(v, &prefix)?;
        if let Some(m) = json::time_opt(o, "date_modified_gmt") {
            last_modified = Some(last_modified.map_or(m, |l: Millis| l.max(m)));
        }
        orders.push(PolledOrder {
            order_id: json::id(o, "id", &prefix)?,
            placed_at: json::time_opt(o, "date_created_gmt"),
            fingerprint: fingerprint(v),
            outcome: woocommerce::order_outcome(o, &feed.account, now),
        });
    }
    let pages = resp.header_value("x-wp-totalpages").and_then(|p| p.trim().parse::<u64>().ok()).unwrap_or(0);
    Ok(FeedPage { orders, next: woo_next(window, pages, last_modified) })
}

/// An SP-API `getOrders` page (a 2xx answer).
pub fn amazon_page(feed: &FeedOf, _window: &Window, resp: &HttpResponse, now: Millis) -> Result<FeedPage, FeedError> {
    let payload = amazon::payload(resp.body.as_bytes())?;
    let page = amazon::orders_page(&payload)?;
    let raw = array_of(json::get(&payload, "Orders").unwrap_or(&Value::Null), "payload.Orders")?;
    let orders = page
        .orders
        .iter()
        .zip(raw)
        .map(|(head, v)| PolledOrder {
            order_id: head.order_id.clone(),
            placed_at: head.purchased_at,
            fingerprint: fingerprint(v),
            outcome: Ok(amazon::decide(head, &feed.account, now)),
        })
        .collect();
    Ok(FeedPage { orders, next: page.next_token })
}

/// An eBay Fulfillment orders page (a 2xx answer).
pub fn ebay_page(feed: &FeedOf, window: &Window, resp: &HttpResponse, now: Millis) -> Result<FeedPage, FeedError> {
    let body = resp.body.as_bytes();
    let root = json::object(body)?;
    let list = array_of(json::get(&root, "orders").unwrap_or(&Value::Null), "orders")?;
    let mut orders = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let prefix = format!("orders[{i}]");
        let o = json::element(v, &prefix)?;
        orders.push(PolledOrder {
            order_id: json::id(o, "orderId", &prefix)?,
            placed_at: json::time_opt(o, "creationDate"),
            fingerprint: fingerprint(v),
            outcome: ebay::order_event(o, &prefix, &feed.account, now).map(|e| InboundOutcome::events(vec![e])),
        });
    }
    let offset = position(window.cursor.as_deref(), 0);
    let total = json::get(&root, "total").and_then(Value::as_u64);
    let read = offset + list.len() as u64;
    let more = !list.is_empty() && total.map_or(json::get(&root, "next").is_some_and(|n| n.is_string()), |t| read < t);
    Ok(FeedPage { orders, next: more.then(|| read.to_string()) })
}

/// Whether a polled order is applied. A sale placed before StockEdge was connected to the channel
/// (`since`) is not: the stock counts StockEdge was given already reflect it. Platforms give the
/// time to the second (WooCommerce, SP-API), so "before" means before the second of `since`.
/// Cancellations always are applied (a cancellation of an order StockEdge never sold leaves a
/// tombstone and changes nothing).
pub fn admit(order: &PolledOrder, since: Millis) -> bool {
    let since_second = Millis(since.0 - since.0.rem_euclid(1000));
    let placed_before = order.placed_at.is_some_and(|t| t < since_second);
    let takes_stock = match &order.outcome {
        Ok(InboundOutcome::Events { events }) => events.iter().any(|e| e.kind == EventKind::Sale),
        Ok(InboundOutcome::Fetch { .. }) => true,
        _ => false,
    };
    !(placed_before && takes_stock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(kind: ChannelKind) -> FeedOf {
        FeedOf { kind, account: "acct".into(), marketplace_ids: vec!["ATVPDKIKX0DER".into()] }
    }

    fn window(cursor: Option<&str>) -> Window {
        Window {
            after: Millis(1_796_083_200_000),
            before: Millis(1_796_086_800_000),
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn a_throttle_says_how_long_to_wait_when_the_platform_did() {
        assert_eq!(
            FeedError::Throttled { retry_after_s: Some(60) }.describe(),
            "throttled by the platform (429); retry after 60 s"
        );
        assert_eq!(FeedError::Throttled { retry_after_s: None }.describe(), "throttled by the platform (429)");
    }

    #[test]
    fn requests_follow_each_platforms_query_contract() {
        let w = page_request(&feed(ChannelKind::Woocommerce), &window(Some("1796083200000:3"))).path;
        assert_eq!(
            w,
            "/wp-json/wc/v3/orders?modified_after=2026-12-01T00:00:00&modified_before=2026-12-01T01:00:01&dates_are_gmt=true&orderby=modified&order=asc&status=any&per_page=100&page=3"
        );
        let a = page_request(&feed(ChannelKind::Amazon), &window(None)).path;
        assert_eq!(
            a,
            "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter=2026-12-01T00%3A00%3A00Z&LastUpdatedBefore=2026-12-01T01%3A00%3A00Z&MaxResultsPerPage=100"
        );
        let a2 = page_request(&feed(ChannelKind::Amazon), &window(Some("t/1="))).path;
        assert_eq!(a2, "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&NextToken=t%2F1%3D");
        let e = page_request(&feed(ChannelKind::Ebay), &window(Some("400"))).path;
        assert!(e.starts_with("/sell/fulfillment/v1/order?filter=lastmodifieddate%3A%5B2026-12-01T00%3A00%3A00.000Z..2026-12-01T01%3A00%3A00.000Z%5D"), "{e}");
        assert!(e.ends_with("&limit=200&offset=400"));
        // A stored cursor that is not one starts from the stretch's first page.
        assert!(page_request(&feed(ChannelKind::Woocommerce), &window(Some("x"))).path.ends_with("&page=1"));
        // Without a cursor the exclusive lower bound is a second before the stretch, so orders
        // of its first second are read (found by the system simulation: an order placed in the
        // second the channel was connected, its webhook lost, was never polled).
        assert!(page_request(&feed(ChannelKind::Woocommerce), &window(Some("x")))
            .path
            .contains("modified_after=2026-11-30T23:59:59&"));
    }

    const WOO_PAGE: &str = r#"[
      {"id": 727, "status": "processing", "date_created_gmt": "2026-12-01T00:10:00", "date_modified_gmt": "2026-12-01T00:11:00",
       "line_items": [{"id": 315, "product_id": 93, "variation_id": 0, "quantity": 2, "sku": "TEE-1"}]},
      {"id": 728, "status": "pending", "date_created_gmt": "2026-12-01T00:12:00", "line_items": []},
      {"id": 729, "status": "cancelled", "date_created_gmt": "2026-11-01T00:00:00", "line_items": []},
      {"id": 730, "status": "processing", "line_items": [{"id": "bad"}]}
    ]"#;

    #[test]
    fn woocommerce_pages_give_each_orders_outcome_and_the_next_page() {
        let resp = HttpResponse::new(200, WOO_PAGE).header("X-WP-TotalPages", "3");
        let page = read_page(&feed(ChannelKind::Woocommerce), &window(None), &resp, Millis(0)).expect("page");
        // Next: from the page's newest modification (00:11:00) less a second, page 1.
        assert_eq!(page.next.as_deref(), Some("1796083859000:1"));
        let ids: Vec<&str> = page.orders.iter().map(|o| o.order_id.as_str()).collect();
        assert_eq!(ids, ["727", "728", "729", "730"]);
        let Ok(InboundOutcome::Events { events }) = &page.orders[0].outcome else { panic!("a sale") };
        assert_eq!((events[0].kind, events[0].lines[0].qty), (EventKind::Sale, 2));
        assert!(matches!(page.orders[1].outcome, Ok(InboundOutcome::Ignored { .. })));
        assert!(page.orders[3].outcome.is_err(), "one bad order does not spoil the page");
        assert_ne!(page.orders[0].fingerprint, page.orders[1].fingerprint);
        let last = read_page(&feed(ChannelKind::Woocommerce), &window(Some("1796084999000:3")), &resp, Millis(0))
            .expect("page");
        assert_eq!(last.next, None);
    }

    #[test]
    fn woocommerce_pages_by_modification_time_so_orders_modified_meanwhile_shift_nothing() {
        let w = window(None);
        let at = |s: &str| Millis::parse_rfc3339(s).expect("time");
        // Progress: restart from the newest modification's second, less one, page 1.
        let next = woo_next(&w, 5, Some(at("2026-12-01T00:20:07.400Z"))).expect("more");
        assert_eq!(next, format!("{}:1", at("2026-12-01T00:20:06Z").0));
        let w2 = Window { cursor: Some(next), ..w.clone() };
        assert!(page_request(&feed(ChannelKind::Woocommerce), &w2)
            .path
            .contains("modified_after=2026-12-01T00:20:06&"));
        // A whole page within one second: no time progress, so the page number grows.
        let stuck = woo_next(&w2, 5, Some(at("2026-12-01T00:20:07.900Z"))).expect("more");
        assert_eq!(stuck, format!("{}:2", at("2026-12-01T00:20:06Z").0));
        // The last page.
        assert_eq!(woo_next(&w2, 1, Some(at("2026-12-01T00:30:00Z"))), None);
    }

    #[test]
    fn sales_placed_before_the_connection_are_not_applied_but_cancellations_are() {
        let resp = HttpResponse::new(200, WOO_PAGE);
        let page = read_page(&feed(ChannelKind::Woocommerce), &window(None), &resp, Millis(0)).expect("page");
        let since = Millis::parse_rfc3339("2026-12-01T00:11:00Z").expect("time");
        assert!(!admit(&page.orders[0], since), "placed 00:10, connected 00:11");
        assert!(admit(&page.orders[0], Millis::parse_rfc3339("2026-12-01T00:05:00Z").expect("time")));
        assert!(admit(&page.orders[2], since), "a cancellation");
        // Placed in the second the channel was connected: whole-second times cannot say it was
        // before, so it is applied.
        assert!(admit(&page.orders[0], Millis::parse_rfc3339("2026-12-01T00:10:00.400Z").expect("time")));
    }

    #[test]
    fn amazon_pages_fetch_items_for_sold_orders_and_carry_the_next_token() {
        let body = r#"{"payload": {"Orders": [
            {"AmazonOrderId": "902-1", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN", "PurchaseDate": "2026-12-01T00:10:00Z", "LastUpdateDate": "2026-12-01T00:10:00Z"},
            {"AmazonOrderId": "902-2", "OrderStatus": "Canceled", "FulfillmentChannel": "MFN", "PurchaseDate": "2026-12-01T00:20:00Z", "LastUpdateDate": "2026-12-01T00:30:00Z"},
            {"AmazonOrderId": "902-3", "OrderStatus": "Unfulfillable", "FulfillmentChannel": "MFN", "PurchaseDate": "2026-12-01T00:20:00Z"}
          ], "NextToken": "abc"}}"#;
        let page = read_page(&feed(ChannelKind::Amazon), &window(None), &HttpResponse::new(200, body), Millis(0))
            .expect("page");
        assert_eq!(page.next.as_deref(), Some("abc"));
        assert!(matches!(&page.orders[0].outcome, Ok(InboundOutcome::Fetch { order }) if order.order_id == "902-1"));
        assert!(
            matches!(&page.orders[1].outcome, Ok(InboundOutcome::Events { events }) if events[0].kind == EventKind::Cancel)
        );
        assert!(matches!(page.orders[2].outcome, Ok(InboundOutcome::Ignored { .. })));
        assert_eq!(page.orders[0].placed_at, Millis::parse_rfc3339("2026-12-01T00:10:00Z"));
    }

    #[test]
    fn ebay_pages_page_by_offset_until_the_total() {
        let body = r#"{"total": 3, "offset": 0, "limit": 2, "orders": [
            {"orderId": "12-1", "creationDate": "2026-12-01T00:10:00.000Z", "lineItems": [{"lineItemId": "L1", "legacyItemId": "110", "sku": "TEE-1", "quantity": 1}]},
            {"orderId": "12-2", "creationDate": "2026-12-01T00:11:00.000Z", "cancelStatus": {"cancelState": "CANCELED"}, "lineItems": []}
          ]}"#;
        let resp = HttpResponse::new(200, body);
        let page = read_page(&feed(ChannelKind::Ebay), &window(None), &resp, Millis(0)).expect("page");
        assert_eq!(page.next.as_deref(), Some("2"));
        assert!(
            matches!(&page.orders[1].outcome, Ok(InboundOutcome::Events { events }) if events[0].kind == EventKind::Cancel)
        );
        let last = read_page(&feed(ChannelKind::Ebay), &window(Some("2")), &resp, Millis(0)).expect("page");
        assert_eq!(last.next, None, "offset 2 + 2 read ≥ total 3");
        let empty =
            read_page(&feed(ChannelKind::Ebay), &window(None), &HttpResponse::new(200, r#"{"total": 0}"#), Millis(0))
                .expect("page");
        assert_eq!((empty.orders.len(), empty.next), (0, None));
    }

    #[test]
    fn error_answers_are_classified() {
        let f = feed(ChannelKind::Ebay);
        let w = window(None);
        let throttled = HttpResponse::new(429, "{}").header("Retry-After", "30");
        assert_eq!(read_page(&f, &w, &throttled, Millis(0)), Err(FeedError::Throttled { retry_after_s: Some(30) }));
        assert_eq!(
            read_page(&f, &w, &HttpResponse::new(401, "{}"), Millis(0)),
            Err(FeedError::Refused { status: 401 })
        );
        assert_eq!(read_page(&f, &w, &HttpResponse::new(503, ""), Millis(0)), Err(FeedError::Status { status: 503 }));
        assert!(matches!(
            read_page(&f, &w, &HttpResponse::new(200, "<html>"), Millis(0)),
            Err(FeedError::Unreadable(_))
        ));
    }
}
