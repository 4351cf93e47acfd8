//! Amazon Selling Partner API: `ORDER_CHANGE` notifications relayed by a forwarder, and the
//! Orders API pages (`getOrders`, `getOrderItems`) that polling and notifications both end in.
//!
//! Amazon delivers `ORDER_CHANGE` to SQS with no signature (docs/channels.md: "trust is the queue's
//! policy"), and a Worker cannot read SQS. A forwarder (anything that reads the queue: a Lambda, a
//! small service) POSTs each message body unchanged to `/v1/webhooks/amazon`, signed with a secret
//! it shares with StockEdge:
//!
//! ```text
//! X-StockEdge-Timestamp: <Unix time in whole seconds, ASCII digits>
//! X-StockEdge-Signature: sha256=<lowercase hex of HMAC-SHA256(shared secret, "<timestamp>.<raw body>")>
//! ```
//!
//! The timestamp is the exact header text; a timestamp more than 5 minutes away from `now`
//! (either way) is refused, so a captured request cannot be replayed later. ([`sign`] makes the
//! pair; the forwarder runs the same computation.)
//!
//! Sources:
//! - amzn/selling-partner-api-models `schemas/notifications/OrderChangeNotification.json`:
//!   `{NotificationVersion, NotificationType: "ORDER_CHANGE", PayloadVersion, EventTime,
//!   Payload: {OrderChangeNotification: {NotificationLevel, SellerId, AmazonOrderId,
//!   OrderChangeType, OrderChangeTrigger: {TimeOfOrderChange, ChangeReason}, Summary: {MarketplaceId,
//!   OrderStatus, PurchaseDate, FulfillmentType: AFN|MFN, OrderItems[...]}}},
//!   NotificationMetadata: {ApplicationId, SubscriptionId, PublishTime, NotificationId}}`;
//!   `OrderStatus` is one of Pending, Unshipped, PartiallyShipped, Shipped, Canceled,
//!   Unfulfillable, InvoiceUnconfirmed, PendingAvailability.
//! - Orders API v0: `getOrders` → `{payload: {Orders: [{AmazonOrderId, PurchaseDate, LastUpdateDate,
//!   OrderStatus, FulfillmentChannel, MarketplaceId, …}], NextToken}}`; `getOrderItems` →
//!   `{payload: {AmazonOrderId, OrderItems: [{ASIN, OrderItemId, SellerSKU, QuantityOrdered, …}],
//!   NextToken}}` ("When present and not empty, pass this string token in the next request").
//!
//! Choices where the docs are silent:
//! - The notification's own item summary is not used for quantities: the items of every order come
//!   from `getOrderItems`, so notifications and polling take one path.
//! - Status → event: Pending, PendingAvailability, Unshipped, PartiallyShipped, Shipped and
//!   InvoiceUnconfirmed are a Sale (Amazon holds the units from the moment the order is placed, so
//!   StockEdge does too; a later Canceled gives them back); Canceled is a Cancel (no items
//!   needed); Unfulfillable and unknown statuses lead to nothing.
//! - Fulfilled by Amazon (AFN) orders are ignored: they ship from Amazon's stock, and StockEdge
//!   lists the seller's own stock (`fulfillment_channel_code: DEFAULT`, docs/channels.md).
//! - De-duplication key: `amazon:{NotificationId}`.

use serde_json::Value;

use super::error::{AuthError, InboundError, PayloadError};
use super::event::{
    EventKind, FetchOrder, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, PlatformIds, Received,
};
use super::headers::Headers;
use super::json::{self, Object};
use super::limits::{FORWARDER_MAX_SKEW_MS, MAX_BODY_BYTES, MAX_LINES_PER_ORDER};
use super::signature::{timestamped, verify_timestamped};
use crate::catalog::model::ChannelKind;
use crate::time::Millis;

pub use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";

/// Longest `NextToken` kept (Amazon's tokens are opaque and can be long).
const MAX_NEXT_TOKEN_LEN: usize = 8192;

/// The two forwarder headers for `body` sent at `timestamp_secs`: `(timestamp, signature)`.
pub fn sign(secret: &[u8], timestamp_secs: i64, body: &[u8]) -> (String, String) {
    (timestamp_secs.to_string(), timestamped(secret, timestamp_secs, body))
}

/// Checks the forwarder's signature and timestamp (see the module docs), in constant time.
pub fn verify(headers: &Headers, body: &[u8], secret: &[u8], now: Millis) -> Result<(), AuthError> {
    verify_timestamped(headers, body, secret, now, FORWARDER_MAX_SKEW_MS)
}

/// An order as the notification or a `getOrders` page describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderHead {
    pub order_id: String,
    pub status: String,
    /// `AFN` or `MFN` (`FulfillmentType` in notifications, `FulfillmentChannel` in getOrders).
    pub fulfillment: Option<String>,
    pub purchased_at: Option<Millis>,
    pub updated_at: Option<Millis>,
}

/// A parsed `ORDER_CHANGE` notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderChange {
    pub notification_id: String,
    pub seller_id: String,
    pub marketplace_id: Option<String>,
    pub order: OrderHead,
}

/// A parsed notification: an `ORDER_CHANGE`, or another type (named) StockEdge does not act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    OrderChange(OrderChange),
    Other { notification_type: String, notification_id: Option<String> },
}

/// The whole pipeline for `POST /v1/webhooks/amazon` (a forwarded SQS message).
pub fn receive(headers: &Headers, body: &[u8], secret: &[u8], now: Millis) -> Result<Received, InboundError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::TooLarge { size: body.len(), max: MAX_BODY_BYTES });
    }
    verify(headers, body, secret, now)?;
    match parse_notification(body)? {
        Notification::Other { notification_type, notification_id } => Ok(Received {
            channel_kind: ChannelKind::Amazon,
            account: None,
            dedupe_key: notification_id.map(|id| format!("amazon:{id}")),
            outcome: InboundOutcome::ignored(Ignored::UnhandledTopic { topic: notification_type.clone() }),
            topic: notification_type,
        }),
        Notification::OrderChange(change) => Ok(Received {
            channel_kind: ChannelKind::Amazon,
            account: Some(change.seller_id.clone()),
            topic: ORDER_CHANGE.into(),
            dedupe_key: Some(format!("amazon:{}", change.notification_id)),
            outcome: decide(&change.order, &change.seller_id, now),
        }),
    }
}

/// Reads a (verified) notification body.
pub fn parse_notification(body: &[u8]) -> Result<Notification, PayloadError> {
    let root = json::object(body)?;
    let kind = json::text(&root, "NotificationType", "")?;
    let meta_id = match json::get(&root, "NotificationMetadata") {
        Some(Value::Object(m)) => json::id_opt(m, "NotificationId", "NotificationMetadata")?,
        _ => None,
    };
    if kind != ORDER_CHANGE {
        return Ok(Notification::Other { notification_type: kind, notification_id: meta_id });
    }
    let notification_id = meta_id.ok_or_else(|| PayloadError::missing("NotificationMetadata.NotificationId"))?;
    let payload = json::child(&root, "Payload", "")?;
    let p = "Payload.OrderChangeNotification";
    let change = json::child(payload, "OrderChangeNotification", "Payload")?;
    let summary = json::child(change, "Summary", p)?;
    let sp = format!("{p}.Summary");
    let changed_at = match json::get(change, "OrderChangeTrigger") {
        Some(Value::Object(t)) => json::time_opt(t, "TimeOfOrderChange"),
        _ => None,
    };
    Ok(Notification::OrderChange(OrderChange {
        notification_id,
        seller_id: json::text(change, "SellerId", p)?,
        marketplace_id: json::text_opt(summary, "MarketplaceId", &sp)?,
        order: OrderHead {
            order_id: json::id(change, "AmazonOrderId", p)?,
            status: json::text(summary, "OrderStatus", &sp)?,
            fulfillment: json::text_opt(summary, "FulfillmentType", &sp)?,
            purchased_at: json::time_opt(summary, "PurchaseDate"),
            updated_at: changed_at.or_else(|| json::time_opt(&root, "EventTime")),
        },
    }))
}

/// What an order in `status` means for stock (see the module docs).
pub fn status_kind(status: &str) -> Option<EventKind> {
    match status {
        "Pending" | "PendingAvailability" | "Unshipped" | "PartiallyShipped" | "Shipped" | "InvoiceUnconfirmed" => {
            Some(EventKind::Sale)
        }
        "Canceled" => Some(EventKind::Cancel),
        _ => None,
    }
}

/// The next step for an order of `seller_id`: cancel it now, fetch its items, or nothing.
pub fn decide(order: &OrderHead, seller_id: &str, fallback_at: Millis) -> InboundOutcome {
    if order.fulfillment.as_deref() == Some("AFN") {
        return InboundOutcome::ignored(Ignored::FulfilledByAmazon);
    }
    match status_kind(&order.status) {
        Some(EventKind::Cancel) => InboundOutcome::events(vec![InboundEvent {
            channel_kind: ChannelKind::Amazon,
            account: seller_id.to_string(),
            order_id: Some(order.order_id.clone()),
            kind: EventKind::Cancel,
            lines: Vec::new(),
            occurred_at: order.updated_at.or(order.purchased_at).unwrap_or(fallback_at),
        }]),
        Some(_) => InboundOutcome::Fetch {
            order: FetchOrder {
                channel_kind: ChannelKind::Amazon,
                account: Some(seller_id.to_string()),
                order_id: order.order_id.clone(),
                status: Some(order.status.clone()),
                occurred_at: order.purchased_at.or(order.updated_at).unwrap_or(fallback_at),
            },
        },
        None => InboundOutcome::ignored(Ignored::NotYetSold { status: order.status.clone() }),
    }
}

/// One page of `getOrders`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrdersPage {
    pub orders: Vec<OrderHead>,
    /// Pass as `NextToken` for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// One page of `getOrderItems`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItemsPage {
    pub order_id: Option<String>,
    pub items: Vec<OrderItem>,
    pub next_token: Option<String>,
}

/// One order item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItem {
    pub order_item_id: String,
    pub seller_sku: Option<String>,
    pub asin: Option<String>,
    pub quantity_ordered: i64,
}

pub(crate) fn payload(body: &[u8]) -> Result<Object, PayloadError> {
    let mut root = json::object(body)?;
    match root.remove("payload") {
        Some(Value::Object(p)) => Ok(p),
        Some(_) => Err(PayloadError::NotAnObject { field: "payload".into() }),
        None => Err(PayloadError::missing("payload")),
    }
}

fn next_token(p: &Object) -> Result<Option<String>, PayloadError> {
    match json::get(p, "NextToken") {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_NEXT_TOKEN_LEN && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(PayloadError::invalid("payload.NextToken", "must be a short string")),
    }
}

/// Reads a `getOrders` response page.
pub fn parse_orders_page(body: &[u8]) -> Result<OrdersPage, PayloadError> {
    orders_page(&payload(body)?)
}

/// Reads a `getOrders` page's `payload` (see [`parse_orders_page`]).
pub(crate) fn orders_page(p: &Object) -> Result<OrdersPage, PayloadError> {
    let list = match json::get(p, "Orders") {
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(PayloadError::invalid("payload.Orders", "must be an array")),
        None => &[],
    };
    let mut orders = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let prefix = format!("payload.Orders[{i}]");
        let o = json::element(v, &prefix)?;
        orders.push(OrderHead {
            order_id: json::id(o, "AmazonOrderId", &prefix)?,
            status: json::text(o, "OrderStatus", &prefix)?,
            fulfillment: json::text_opt(o, "FulfillmentChannel", &prefix)?,
            purchased_at: json::time_opt(o, "PurchaseDate"),
            updated_at: json::time_opt(o, "LastUpdateDate"),
        });
    }
    Ok(OrdersPage { orders, next_token: next_token(p)? })
}

/// Reads a `getOrderItems` response page.
pub fn parse_order_items_page(body: &[u8]) -> Result<OrderItemsPage, PayloadError> {
    let p = payload(body)?;
    let mut items = Vec::new();
    for (i, v) in json::lines(&p, "OrderItems", "payload")?.iter().enumerate() {
        let prefix = format!("payload.OrderItems[{i}]");
        let it = json::element(v, &prefix)?;
        items.push(OrderItem {
            order_item_id: json::id(it, "OrderItemId", &prefix)?,
            seller_sku: json::text_opt(it, "SellerSKU", &prefix)?,
            asin: json::text_opt(it, "ASIN", &prefix)?,
            quantity_ordered: json::qty(it, "QuantityOrdered", &prefix)?,
        });
    }
    Ok(OrderItemsPage { order_id: json::id_opt(&p, "AmazonOrderId", "payload")?, items, next_token: next_token(&p)? })
}

/// The event of a fetched order, once all its item pages are read (`items` across pages).
pub fn order_outcome(order: &FetchOrder, items: &[OrderItem]) -> Result<InboundOutcome, PayloadError> {
    let seller_id = order.account.clone().ok_or_else(|| PayloadError::missing("SellerId"))?;
    let status = order.status.clone().unwrap_or_default();
    let Some(kind) = status_kind(&status) else {
        return Ok(InboundOutcome::ignored(Ignored::NotYetSold { status }));
    };
    if items.len() > MAX_LINES_PER_ORDER {
        return Err(PayloadError::TooManyLines { found: items.len(), max: MAX_LINES_PER_ORDER });
    }
    let lines = items
        .iter()
        .filter(|it| it.quantity_ordered > 0)
        .map(|it| InboundLine {
            identity: LineIdentity {
                sku: it.seller_sku.clone(),
                ids: PlatformIds::Amazon { seller_id: seller_id.clone(), asin: it.asin.clone() },
            },
            line_id: it.order_item_id.clone(),
            qty: it.quantity_ordered,
            restock: None,
            order_line_id: None,
        })
        .collect();
    Ok(InboundOutcome::events(vec![InboundEvent {
        channel_kind: ChannelKind::Amazon,
        account: seller_id,
        order_id: Some(order.order_id.clone()),
        kind,
        lines,
        occurred_at: order.occurred_at,
    }]))
}
