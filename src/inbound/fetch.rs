//! Reading what a notification left out from the platform's API (Amazon order items, eBay
//! orders, eBay's notification public keys): the requests, and what each answer means. Pure: the
//! edge sends the requests with the channel's credentials and hands the answers back.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::amazon::{self, OrderItemsPage};
use super::ebay::{self, EbayKey};
use super::error::PayloadError;
use super::event::{FetchOrder, InboundEvent};
use crate::sync::{HttpRequest, HttpResponse, Method};

/// How long one call to a platform may take (Shopify waits 5 s for a whole webhook answer).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// `getOrderItems` pages read for one Amazon order.
pub const MAX_ITEM_PAGES: usize = 20;

/// Why the platform gave no usable answer (the order is applied again later).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No answer (a timeout, a reset).
    #[error("{call}: {why}")]
    NoAnswer { call: &'static str, why: String },
    /// An answer the call does not expect.
    #[error("{call} answered {status}")]
    Status { call: &'static str, status: u16 },
    /// The access token was refused (it is dropped from the cache: the next try mints one).
    #[error("{call} answered {status} (the access token was refused)")]
    TokenRefused { call: &'static str, status: u16 },
    /// No access token could be had (credentials missing or refused, the token endpoint down).
    #[error("{call}: {why}")]
    Credentials { call: &'static str, why: String },
    /// A 2xx answer that is not what the platform documents.
    #[error("{call}: {error}")]
    Unreadable { call: &'static str, error: PayloadError },
    /// More pages of items than [`MAX_ITEM_PAGES`].
    #[error("order {order_id} has more than {MAX_ITEM_PAGES} pages of items")]
    TooManyPages { order_id: String },
}

const ORDER_ITEMS: &str = "getOrderItems";
const GET_ORDERS: &str = "getOrders";

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// SP-API `getOrderItems` for `order`, from page `next` (`None`: the first).
pub fn order_items_request(order: &FetchOrder, next: Option<&str>, access_token: &str) -> HttpRequest {
    let mut path = format!("/orders/v0/orders/{}/orderItems", enc(&order.order_id));
    if let Some(n) = next {
        path.push_str(&format!("?NextToken={}", enc(n)));
    }
    HttpRequest::new(Method::Get, path).header("x-amz-access-token", access_token).header("Accept", "application/json")
}

/// One `getOrderItems` answer: a page, or `None` when Amazon has no such order for the channel.
pub fn order_items_page(resp: &HttpResponse) -> Result<Option<OrderItemsPage>, FetchError> {
    match resp.status {
        200 => amazon::parse_order_items_page(resp.body.as_bytes())
            .map(Some)
            .map_err(|error| FetchError::Unreadable { call: ORDER_ITEMS, error }),
        404 => Ok(None),
        403 => Err(FetchError::TokenRefused { call: ORDER_ITEMS, status: 403 }),
        status => Err(FetchError::Status { call: ORDER_ITEMS, status }),
    }
}

/// The error for a failed `getOrderItems` call.
pub fn order_items_failed(why: String) -> FetchError {
    FetchError::NoAnswer { call: ORDER_ITEMS, why }
}

/// Fulfillment `getOrders` for one eBay order.
pub fn ebay_order_request(order: &FetchOrder) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("/sell/fulfillment/v1/order?orderIds={}", enc(&order.order_id)))
        .header("Accept", "application/json")
}

/// One `getOrders` answer as the order's events; `None` when the channel (`account`) does not
/// have the order (401, 403, 404, or a page without it): the next eBay channel may.
pub fn ebay_order(
    resp: &HttpResponse,
    account: &str,
    order: &FetchOrder,
) -> Result<Option<Vec<InboundEvent>>, FetchError> {
    match resp.status {
        200 => {}
        401 | 403 | 404 => return Ok(None),
        status => return Err(FetchError::Status { call: GET_ORDERS, status }),
    }
    let page = ebay::parse_orders_page(resp.body.as_bytes(), account, order.occurred_at)
        .map_err(|error| FetchError::Unreadable { call: GET_ORDERS, error })?;
    let events: Vec<InboundEvent> =
        page.events.into_iter().filter(|e| e.order_id.as_deref() == Some(order.order_id.as_str())).collect();
    Ok((!events.is_empty()).then_some(events))
}

/// The error for a failed `getOrders` call.
pub fn ebay_order_failed(why: String) -> FetchError {
    FetchError::NoAnswer { call: GET_ORDERS, why }
}

/// Where eBay's public key `kid` is read: `settings.public_key_url` + `kid` when set (a URL
/// prefix), else the Notification API under the channel's base URL.
pub fn ebay_key_url(public_key_url: Option<&str>, base_url: &str, kid: &str) -> String {
    match public_key_url {
        Some(prefix) => format!("{prefix}{kid}"),
        None => format!("{base_url}/commerce/notification/v1/public_key/{kid}"),
    }
}

/// What a public-key fetch came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyAnswer {
    /// The key: cache it.
    Key(EbayKey),
    /// eBay has no such key (404: forget any cached copy), or sent one StockEdge cannot use: the
    /// signature cannot be genuine.
    Unknown { forget: bool },
    /// No answer, or an unexpected one: use a stale cached key if there is one, else answer 503.
    Unavailable(String),
}

/// The meaning of a `getPublicKey` answer (`Err`: the call got none).
pub fn ebay_key_answer(answer: Result<&HttpResponse, String>) -> KeyAnswer {
    match answer {
        Ok(r) if r.status == 200 => match EbayKey::from_response(r.body.as_bytes()) {
            Ok(k) => KeyAnswer::Key(k),
            Err(_) => KeyAnswer::Unknown { forget: false },
        },
        Ok(r) if r.status == 404 => KeyAnswer::Unknown { forget: true },
        Ok(r) => KeyAnswer::Unavailable(format!("eBay's public key endpoint answered {}", r.status)),
        Err(why) => KeyAnswer::Unavailable(format!("eBay's public key endpoint: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::ChannelKind;
    use crate::time::Millis;

    fn order(id: &str) -> FetchOrder {
        FetchOrder {
            channel_kind: ChannelKind::Ebay,
            account: None,
            order_id: id.into(),
            status: None,
            occurred_at: Millis(0),
        }
    }

    #[test]
    fn order_item_answers_are_told_apart() {
        assert_eq!(order_items_page(&HttpResponse::new(404, "")), Ok(None));
        assert_eq!(
            order_items_page(&HttpResponse::new(403, "")),
            Err(FetchError::TokenRefused { call: ORDER_ITEMS, status: 403 })
        );
        assert_eq!(
            order_items_page(&HttpResponse::new(500, "")),
            Err(FetchError::Status { call: ORDER_ITEMS, status: 500 })
        );
        assert!(matches!(order_items_page(&HttpResponse::new(200, "nope")), Err(FetchError::Unreadable { .. })));
        let page = order_items_page(&HttpResponse::new(200, r#"{"payload":{"AmazonOrderId":"1","OrderItems":[]}}"#));
        assert!(matches!(page, Ok(Some(p)) if p.items.is_empty() && p.next_token.is_none()));
    }

    #[test]
    fn item_requests_carry_the_token_and_encode_ids() {
        let r = order_items_request(&order("1/2"), Some("a b"), "tok");
        assert_eq!(r.path, "/orders/v0/orders/1%2F2/orderItems?NextToken=a%20b");
        assert!(r.headers.iter().any(|(k, v)| k == "x-amz-access-token" && v == "tok"));
    }

    #[test]
    fn an_ebay_channel_without_the_order_lets_the_next_one_try() {
        for status in [401, 403, 404] {
            assert_eq!(ebay_order(&HttpResponse::new(status, ""), "seller", &order("9")), Ok(None));
        }
        assert_eq!(ebay_order(&HttpResponse::new(200, r#"{"orders":[],"total":0}"#), "seller", &order("9")), Ok(None));
        assert_eq!(
            ebay_order(&HttpResponse::new(502, ""), "seller", &order("9")),
            Err(FetchError::Status { call: GET_ORDERS, status: 502 })
        );
    }

    #[test]
    fn key_urls_and_answers() {
        assert_eq!(ebay_key_url(Some("http://k/"), "https://api", "abc"), "http://k/abc");
        assert_eq!(ebay_key_url(None, "https://api", "abc"), "https://api/commerce/notification/v1/public_key/abc");
        assert_eq!(ebay_key_answer(Ok(&HttpResponse::new(404, ""))), KeyAnswer::Unknown { forget: true });
        assert_eq!(ebay_key_answer(Ok(&HttpResponse::new(200, "{}"))), KeyAnswer::Unknown { forget: false });
        assert!(matches!(ebay_key_answer(Ok(&HttpResponse::new(500, ""))), KeyAnswer::Unavailable(_)));
        assert!(matches!(ebay_key_answer(Err("reset".into())), KeyAnswer::Unavailable(_)));
    }
}
