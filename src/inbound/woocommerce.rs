//! WooCommerce webhooks: `order.created`, `order.updated`, `order.deleted`, the creation ping,
//! and the polling catch-up (`GET /wp-json/wc/v3/orders?modified_after=…`).
//!
//! Sources:
//! - woocommerce/woocommerce `plugins/woocommerce/includes/class-wc-webhook.php`: `deliver()` sends
//!   `X-WC-Webhook-Source` (`home_url('/')`), `-Topic`, `-Resource`, `-Event`, `-Signature`, `-ID`,
//!   `-Delivery-ID`; `generate_signature()` is `base64_encode(hash_hmac('sha256', $payload, $secret,
//!   true))` over the exact JSON body sent; `build_payload()` sends only `{"id": N}` for a `deleted`
//!   event and the REST resource (`/wc/v3/orders/{id}`) otherwise; `deliver_ping()` posts
//!   `webhook_id=N` form-encoded with no signature; `get_new_delivery_id()` is
//!   `wp_hash($webhook_id . strtotime('now'))`.
//! - REST v3 order shape (woocommerce.github.io/woocommerce-rest-api-docs, "Retrieve an order",
//!   example order 727): `status`, `date_created_gmt`, `date_modified_gmt` (UTC, no offset),
//!   `line_items[]` with `id`, `product_id`, `variation_id` (0 for a simple product), `quantity`, `sku`.
//!
//! Choices where the docs are silent:
//! - Status → event. WooCommerce takes stock when an order reaches `processing`, `on-hold` or
//!   `completed`, so those are a Sale (from `order.created`, `order.updated` or polling: an order
//!   created `pending` becomes a Sale when it is updated to `processing`; the ledger applies each
//!   line once). `cancelled`, `refunded` and `trash` are a Cancel; `order.deleted` is a Cancel.
//!   `pending`, `failed`, `checkout-draft`, and statuses StockEdge does not know (plugins add
//!   their own) lead to nothing yet.
//! - De-duplication key: the delivery id is a hash of the webhook id and the current *second*, so
//!   two different deliveries of one webhook within a second share it. The key is therefore
//!   `woocommerce:{webhook id}:{delivery id}:{first 16 hex of SHA-256(body)}`.
//! - The ping is recognised only without a signature header and only for a body that is exactly
//!   `webhook_id=<digits>`; it is answered 200 and does nothing else.

use sha2::{Digest, Sha256};

use super::error::{AuthError, InboundError, PayloadError};
use super::event::{
    EventKind, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, PlatformIds, Received,
};
use super::headers::Headers;
use super::json::{self, Object};
use super::limits::{MAX_BODY_BYTES, MAX_ID_LEN};
use super::signature::{base64_hmac, verify_base64_header};
use crate::catalog::model::ChannelKind;
use crate::time::Millis;

pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";
pub const TOPIC_HEADER: &str = "X-WC-Webhook-Topic";
pub const SOURCE_HEADER: &str = "X-WC-Webhook-Source";
pub const WEBHOOK_ID_HEADER: &str = "X-WC-Webhook-ID";
pub const DELIVERY_ID_HEADER: &str = "X-WC-Webhook-Delivery-ID";

pub const ORDER_CREATED: &str = "order.created";
pub const ORDER_UPDATED: &str = "order.updated";
pub const ORDER_DELETED: &str = "order.deleted";

/// The `X-WC-Webhook-Signature` value for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    base64_hmac(secret, body)
}

/// Checks `X-WC-Webhook-Signature` against the raw body, in constant time.
pub fn verify(headers: &Headers, body: &[u8], secret: &[u8]) -> Result<(), AuthError> {
    verify_base64_header(headers, SIGNATURE_HEADER, body, secret)
}

/// WooCommerce's creation ping: no signature header, body `webhook_id=<digits>`.
pub fn is_ping(headers: &Headers, body: &[u8]) -> bool {
    if headers.get(SIGNATURE_HEADER).is_some() {
        return false;
    }
    let Ok(text) = std::str::from_utf8(body) else { return false };
    match text.trim().strip_prefix("webhook_id=") {
        Some(n) => !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn header_text(headers: &Headers, name: &'static str) -> Option<String> {
    headers.get(name).filter(|v| v.len() <= MAX_ID_LEN && !v.chars().any(char::is_control)).map(str::to_string)
}

/// The key to remember this delivery by (see the module docs); `None` without a delivery id.
pub fn dedupe_key(headers: &Headers, body: &[u8]) -> Option<String> {
    let delivery = header_text(headers, DELIVERY_ID_HEADER)?;
    let webhook = header_text(headers, WEBHOOK_ID_HEADER).unwrap_or_default();
    let digest = Sha256::digest(body);
    Some(format!("woocommerce:{webhook}:{delivery}:{}", hex::encode(&digest[..8])))
}

/// The whole pipeline for `POST /v1/webhooks/woocommerce`.
pub fn receive(headers: &Headers, body: &[u8], secret: &[u8], now: Millis) -> Result<Received, InboundError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::TooLarge { size: body.len(), max: MAX_BODY_BYTES });
    }
    if is_ping(headers, body) {
        return Ok(Received {
            channel_kind: ChannelKind::Woocommerce,
            account: header_text(headers, SOURCE_HEADER),
            topic: "ping".into(),
            dedupe_key: None,
            outcome: InboundOutcome::Ping,
        });
    }
    verify(headers, body, secret)?;
    let topic = header_text(headers, TOPIC_HEADER).ok_or(PayloadError::BadHeader { header: TOPIC_HEADER })?;
    let source = header_text(headers, SOURCE_HEADER).ok_or(PayloadError::BadHeader { header: SOURCE_HEADER })?;
    let dedupe_key = dedupe_key(headers, body);
    let outcome = parse(&topic, &source, body, now)?;
    Ok(Received { channel_kind: ChannelKind::Woocommerce, account: Some(source), topic, dedupe_key, outcome })
}

/// A verified body of `topic` from the site `source`.
pub fn parse(topic: &str, source: &str, body: &[u8], fallback_at: Millis) -> Result<InboundOutcome, PayloadError> {
    match topic {
        ORDER_CREATED | ORDER_UPDATED => order_outcome(&json::object(body)?, source, fallback_at),
        ORDER_DELETED => {
            let obj = json::object(body)?;
            Ok(InboundOutcome::events(vec![InboundEvent {
                channel_kind: ChannelKind::Woocommerce,
                account: source.to_string(),
                order_id: Some(json::id(&obj, "id", "")?),
                kind: EventKind::Cancel,
                lines: Vec::new(),
                occurred_at: fallback_at,
            }]))
        }
        other => Ok(InboundOutcome::ignored(Ignored::UnhandledTopic { topic: other.to_string() })),
    }
}

/// What an order in `status` means for stock (see the module docs).
pub fn status_kind(status: &str) -> Option<EventKind> {
    match status {
        "processing" | "on-hold" | "completed" => Some(EventKind::Sale),
        "cancelled" | "refunded" | "trash" => Some(EventKind::Cancel),
        _ => None,
    }
}

/// One REST v3 order (a webhook body, or an element of a `GET /orders` page) → its outcome.
pub fn order_outcome(order: &Object, source: &str, fallback_at: Millis) -> Result<InboundOutcome, PayloadError> {
    let order_id = json::id(order, "id", "")?;
    let status = json::text(order, "status", "")?;
    let Some(kind) = status_kind(&status) else {
        return Ok(InboundOutcome::ignored(Ignored::NotYetSold { status }));
    };
    let at = json::time_opt(order, "date_modified_gmt")
        .or_else(|| json::time_opt(order, "date_created_gmt"))
        .unwrap_or(fallback_at);
    let mut lines = Vec::new();
    for (i, v) in json::lines(order, "line_items", "")?.iter().enumerate() {
        let prefix = format!("line_items[{i}]");
        let item = json::element(v, &prefix)?;
        let qty = json::qty(item, "quantity", &prefix)?;
        if qty == 0 {
            continue;
        }
        lines.push(InboundLine {
            identity: LineIdentity {
                sku: json::text_opt(item, "sku", &prefix)?,
                ids: PlatformIds::Woocommerce {
                    // 0 (a deleted product) is kept as 0: the line then maps by SKU only.
                    product_id: json::num_id_opt(item, "product_id", &prefix)?.unwrap_or(0),
                    variation_id: json::num_id_opt(item, "variation_id", &prefix)?,
                },
            },
            line_id: json::id(item, "id", &prefix)?,
            qty,
            restock: None,
            order_line_id: None,
        });
    }
    Ok(InboundOutcome::events(vec![InboundEvent {
        channel_kind: ChannelKind::Woocommerce,
        account: source.to_string(),
        order_id: Some(order_id),
        kind,
        lines,
        occurred_at: at,
    }]))
}

/// A `GET /wp-json/wc/v3/orders?modified_after=…` page (a JSON array of orders) → the events of
/// the orders that took or gave back stock, in page order. The catch-up after missed webhooks:
/// WooCommerce does not retry failed deliveries (docs/channels.md).
pub fn parse_orders_page(source: &str, body: &[u8], fallback_at: Millis) -> Result<Vec<InboundEvent>, PayloadError> {
    let orders = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(_) => return Err(PayloadError::invalid("the body", "must be a JSON array of orders")),
        Err(e) => return Err(PayloadError::NotJson(e.to_string())),
    };
    let mut events = Vec::new();
    for (i, v) in orders.iter().enumerate() {
        let order = json::element(v, &format!("[{i}]"))?;
        if let InboundOutcome::Events { events: e } = order_outcome(order, source, fallback_at)? {
            events.extend(e);
        }
    }
    Ok(events)
}
