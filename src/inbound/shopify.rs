//! Shopify webhooks: `orders/create`, `orders/cancelled`, `refunds/create`,
//! `inventory_levels/update`.
//!
//! Sources (stored copies, checked with the search tool):
//! - Headers and signature: shopify.dev/docs/apps/build/webhooks/delivery-structure — `X-Shopify-Topic`,
//!   `X-Shopify-Hmac-Sha256` ("Base64-encoded HMAC signature"), `X-Shopify-Shop-Domain`,
//!   `X-Shopify-Webhook-Id` ("A unique composite key per delivery"), `X-Shopify-Triggered-At`,
//!   `X-Shopify-Event-Id` ("A unique ID shared across all deliveries produced by the same merchant
//!   action"). The HMAC is keyed with the app's client secret over the raw body
//!   (shopify.dev/docs/apps/build/events/verify-deliveries; docs/channels.md).
//! - Duplicates: shopify.dev/apps/build/webhooks/ignore-duplicates — "the same [X-Shopify-Event-Id]
//!   value across more than one webhook indicates a duplicate".
//! - Payloads are the REST resources: the Order (`line_items[]` with `id`, `variant_id`,
//!   `product_id`, `sku`, `quantity`), the Refund (`order_id`, `refund_line_items[]` with `id`,
//!   `line_item_id`, `location_id`, `quantity`, `restock_type`, `line_item{...}`; example in the REST
//!   Refund reference: refund 929361464 of order 450789469), and the InventoryLevel
//!   (`{inventory_item_id, location_id, available, updated_at, admin_graphql_api_id}`, docs/channels.md).
//!
//! Choices where the docs are silent:
//! - De-duplication key: `shopify:{shop}:{topic}:{event id}`. The event id is shared by every
//!   delivery of one merchant action, which may span topics (an order creation also moves
//!   inventory levels), so the topic is part of the key. Without an event id, the webhook id
//!   (`shopify:{shop}:webhook:{id}`).
//! - `X-Shopify-Triggered-At` absent or unreadable: the delivery is not treated as stale (the
//!   signature already proved it came from Shopify; the ledger is idempotent per line).
//! - `refunds/create` bodies are accepted bare (as delivered) or wrapped in `{"refund": …}` (as the
//!   REST reference prints them).

use super::error::{AuthError, InboundError, PayloadError};
use super::event::{
    EventKind, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, PlatformIds, Received, RestockType,
};
use super::headers::Headers;
use super::json::{self, Object};
use super::limits::{MAX_BODY_BYTES, MAX_ID_LEN, MAX_LEVEL, SHOPIFY_MAX_AGE_MS};
use super::signature::{base64_hmac, verify_base64_header};
use crate::catalog::model::ChannelKind;
use crate::time::Millis;

pub const HMAC_HEADER: &str = "X-Shopify-Hmac-Sha256";
pub const TOPIC_HEADER: &str = "X-Shopify-Topic";
pub const SHOP_HEADER: &str = "X-Shopify-Shop-Domain";
pub const EVENT_ID_HEADER: &str = "X-Shopify-Event-Id";
pub const WEBHOOK_ID_HEADER: &str = "X-Shopify-Webhook-Id";
pub const TRIGGERED_AT_HEADER: &str = "X-Shopify-Triggered-At";

pub const ORDERS_CREATE: &str = "orders/create";
pub const ORDERS_CANCELLED: &str = "orders/cancelled";
pub const REFUNDS_CREATE: &str = "refunds/create";
pub const INVENTORY_LEVELS_UPDATE: &str = "inventory_levels/update";

/// The `X-Shopify-Hmac-Sha256` value for `body`: base64(HMAC-SHA256(client secret, body)).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    base64_hmac(secret, body)
}

/// Checks `X-Shopify-Hmac-Sha256` against the raw body, in constant time.
pub fn verify(headers: &Headers, body: &[u8], secret: &[u8]) -> Result<(), AuthError> {
    verify_base64_header(headers, HMAC_HEADER, body, secret)
}

/// The key to remember this delivery by (see the module docs).
pub fn dedupe_key(headers: &Headers, shop: &str, topic: &str) -> Option<String> {
    let clean = |v: &str| v.len() <= MAX_ID_LEN && !v.chars().any(char::is_control);
    if let Some(event) = headers.get(EVENT_ID_HEADER).filter(|v| clean(v)) {
        return Some(format!("shopify:{shop}:{topic}:{event}"));
    }
    headers.get(WEBHOOK_ID_HEADER).filter(|v| clean(v)).map(|w| format!("shopify:{shop}:webhook:{w}"))
}

/// Whether a delivery triggered at `triggered_at` is too old to act on at `now`.
pub fn is_stale(triggered_at: Millis, now: Millis) -> bool {
    now.0.saturating_sub(triggered_at.0) > SHOPIFY_MAX_AGE_MS
}

fn shop_domain(headers: &Headers) -> Result<String, PayloadError> {
    let shop = headers.get(SHOP_HEADER).ok_or(PayloadError::BadHeader { header: SHOP_HEADER })?;
    let ok = shop.len() <= MAX_ID_LEN && shop.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !ok {
        return Err(PayloadError::BadHeader { header: SHOP_HEADER });
    }
    Ok(shop.to_ascii_lowercase())
}

/// The whole pipeline for `POST /v1/webhooks/shopify`: size, signature (before anything is
/// parsed), then headers, staleness and the payload.
pub fn receive(headers: &Headers, body: &[u8], secret: &[u8], now: Millis) -> Result<Received, InboundError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(InboundError::TooLarge { size: body.len(), max: MAX_BODY_BYTES });
    }
    verify(headers, body, secret)?;
    let topic = headers
        .get(TOPIC_HEADER)
        .filter(|t| t.len() <= 100 && !t.chars().any(char::is_control))
        .ok_or(PayloadError::BadHeader { header: TOPIC_HEADER })?
        .to_string();
    let shop = shop_domain(headers)?;
    let dedupe_key = dedupe_key(headers, &shop, &topic);
    let triggered_at = headers.get(TRIGGERED_AT_HEADER).and_then(json::parse_time);
    let outcome = match triggered_at {
        Some(t) if is_stale(t, now) => InboundOutcome::ignored(Ignored::Stale { triggered_at: t }),
        _ => parse(&topic, &shop, body, triggered_at.unwrap_or(now))?,
    };
    Ok(Received { channel_kind: ChannelKind::Shopify, account: Some(shop), topic, dedupe_key, outcome })
}

/// A verified body of `topic` from `shop`; `fallback_at` is used when the payload carries no time.
pub fn parse(topic: &str, shop: &str, body: &[u8], fallback_at: Millis) -> Result<InboundOutcome, PayloadError> {
    match topic {
        ORDERS_CREATE => {
            let order = json::object(body)?;
            let at = json::time_opt(&order, "created_at").unwrap_or(fallback_at);
            order_event(&order, shop, EventKind::Sale, at)
        }
        ORDERS_CANCELLED => {
            let order = json::object(body)?;
            let at = json::time_opt(&order, "cancelled_at")
                .or_else(|| json::time_opt(&order, "updated_at"))
                .unwrap_or(fallback_at);
            order_event(&order, shop, EventKind::Cancel, at)
        }
        REFUNDS_CREATE => refund(json::object(body)?, shop, fallback_at),
        INVENTORY_LEVELS_UPDATE => inventory_level(&json::object(body)?, shop, fallback_at),
        other => Ok(InboundOutcome::ignored(Ignored::UnhandledTopic { topic: other.to_string() })),
    }
}

fn identity(item: &Object, prefix: &str, location_id: Option<i64>) -> Result<LineIdentity, PayloadError> {
    Ok(LineIdentity {
        sku: json::text_opt(item, "sku", prefix)?,
        ids: PlatformIds::Shopify {
            inventory_item_id: None,
            variant_id: json::num_id_opt(item, "variant_id", prefix)?,
            product_id: json::num_id_opt(item, "product_id", prefix)?,
            location_id,
        },
    })
}

fn order_event(order: &Object, shop: &str, kind: EventKind, at: Millis) -> Result<InboundOutcome, PayloadError> {
    let order_id = json::id(order, "id", "")?;
    let mut lines = Vec::new();
    for (i, v) in json::lines(order, "line_items", "")?.iter().enumerate() {
        let prefix = format!("line_items[{i}]");
        let item = json::element(v, &prefix)?;
        let qty = json::qty(item, "quantity", &prefix)?;
        if qty == 0 {
            continue;
        }
        lines.push(InboundLine {
            identity: identity(item, &prefix, None)?,
            line_id: json::id(item, "id", &prefix)?,
            qty,
            restock: None,
            order_line_id: None,
        });
    }
    Ok(InboundOutcome::events(vec![InboundEvent {
        channel_kind: ChannelKind::Shopify,
        account: shop.to_string(),
        order_id: Some(order_id),
        kind,
        lines,
        occurred_at: at,
    }]))
}

fn restock_type(s: Option<&str>) -> Result<Option<RestockType>, ()> {
    match s {
        Some("cancel") => Ok(Some(RestockType::Cancel)),
        Some("return") => Ok(Some(RestockType::Return)),
        Some("legacy_restock") => Ok(Some(RestockType::LegacyRestock)),
        Some("no_restock") | None => Ok(None),
        Some(_) => Err(()),
    }
}

fn refund(mut body: Object, shop: &str, fallback_at: Millis) -> Result<InboundOutcome, PayloadError> {
    if let Some(serde_json::Value::Object(inner)) = body.remove("refund") {
        body = inner;
    }
    let order_id = json::id(&body, "order_id", "")?;
    let at =
        json::time_opt(&body, "created_at").or_else(|| json::time_opt(&body, "processed_at")).unwrap_or(fallback_at);
    let mut lines = Vec::new();
    for (i, v) in json::lines(&body, "refund_line_items", "")?.iter().enumerate() {
        let prefix = format!("refund_line_items[{i}]");
        let rli = json::element(v, &prefix)?;
        let kind = rli.get("restock_type").and_then(|t| t.as_str());
        let restock = restock_type(kind).map_err(|_| {
            PayloadError::invalid(
                format!("{prefix}.restock_type"),
                "must be no_restock, cancel, return or legacy_restock",
            )
        })?;
        let Some(restock) = restock else { continue };
        let qty = json::qty(rli, "quantity", &prefix)?;
        if qty == 0 {
            continue;
        }
        let location_id = json::num_id_opt(rli, "location_id", &prefix)?;
        let item_prefix = format!("{prefix}.line_item");
        let identity = match json::get(rli, "line_item") {
            Some(serde_json::Value::Object(item)) => identity(item, &item_prefix, location_id)?,
            Some(_) => return Err(PayloadError::NotAnObject { field: item_prefix }),
            None => LineIdentity {
                sku: None,
                ids: PlatformIds::Shopify { inventory_item_id: None, variant_id: None, product_id: None, location_id },
            },
        };
        lines.push(InboundLine {
            identity,
            line_id: json::id(rli, "id", &prefix)?,
            qty,
            restock: Some(restock),
            order_line_id: Some(json::id(rli, "line_item_id", &prefix)?),
        });
    }
    if lines.is_empty() {
        return Ok(InboundOutcome::ignored(Ignored::NothingRestocked));
    }
    Ok(InboundOutcome::events(vec![InboundEvent {
        channel_kind: ChannelKind::Shopify,
        account: shop.to_string(),
        order_id: Some(order_id),
        kind: EventKind::Restock,
        lines,
        occurred_at: at,
    }]))
}

fn inventory_level(level: &Object, shop: &str, fallback_at: Millis) -> Result<InboundOutcome, PayloadError> {
    let item = json::num_id(level, "inventory_item_id", "")?;
    let location = json::num_id(level, "location_id", "")?;
    let available = match json::get(level, "available") {
        None => return Ok(InboundOutcome::ignored(Ignored::NotTracked)),
        Some(v) => v
            .as_i64()
            .filter(|n| n.abs() <= MAX_LEVEL)
            .ok_or_else(|| PayloadError::invalid("available", "must be an integer"))?,
    };
    let at = json::time_opt(level, "updated_at").unwrap_or(fallback_at);
    Ok(InboundOutcome::events(vec![InboundEvent {
        channel_kind: ChannelKind::Shopify,
        account: shop.to_string(),
        order_id: None,
        kind: EventKind::Drift,
        lines: vec![level_line(item, location, available)],
        occurred_at: at,
    }]))
}

/// The drift line of an inventory item's level at a location (line id `{item}@{location}`).
pub fn level_line(item: i64, location: i64, available: i64) -> InboundLine {
    InboundLine {
        identity: LineIdentity {
            sku: None,
            ids: PlatformIds::Shopify {
                inventory_item_id: Some(item),
                variant_id: None,
                product_id: None,
                location_id: Some(location),
            },
        },
        line_id: format!("{item}@{location}"),
        qty: available,
        restock: None,
        order_line_id: None,
    }
}
