//! The one shape every platform's events are parsed into, and what a delivery comes to.

use serde::{Deserialize, Serialize};

use crate::catalog::model::ChannelKind;
use crate::sync::{amazon, ebay, shopify, woocommerce};
use crate::time::Millis;

/// What happened on the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Units were sold there (the platform already took them out of its own sellable count):
    /// `POST /v1/sales`.
    Sale,
    /// The whole order was cancelled: `POST /v1/sales/{channel}/{order_id}/cancel`. `lines` are
    /// what the order held, for information; an empty list still cancels the whole order.
    Cancel,
    /// Units of an order came back (Shopify refund lines that restock). Each line says how
    /// ([`RestockType`]) and which order line it returns units of.
    Restock,
    /// The platform reports an absolute level (`qty`) that StockEdge did not set: someone edited
    /// stock there. See [`drift`](super::drift) for telling StockEdge's own echo apart.
    Drift,
}

/// How a Shopify refund line restocks (REST `restock_type`; GraphQL `RefundLineItemRestockType`:
/// shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType). `no_restock`
/// lines are not restocks and never become lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestockType {
    /// "Use this when restocking unfulfilled line items": the units never left; the order's
    /// commitment for them is released. Apply it against the order's *open* units: cancelling an
    /// order with restock in Shopify sends both `orders/cancelled` and a `refunds/create` with
    /// `cancel` lines, and the units must come back once, not twice.
    Cancel,
    /// "Use this when restocking line items that were fulfilled": the units are back on the shelf.
    Return,
    /// Deprecated: restocked without saying which of the two.
    LegacyRestock,
}

/// The platform's own ids for the thing a line is about, as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "snake_case")]
pub enum PlatformIds {
    /// Order lines carry `variant_id`/`product_id` (no inventory item); `inventory_levels/update`
    /// carries `inventory_item_id` and `location_id` only.
    Shopify {
        inventory_item_id: Option<i64>,
        variant_id: Option<i64>,
        product_id: Option<i64>,
        location_id: Option<i64>,
    },
    /// `variation_id` 0 (a simple product) is kept as `None`.
    Woocommerce { product_id: i64, variation_id: Option<i64> },
    /// The seller's SKU is [`LineIdentity::sku`].
    Amazon { seller_id: String, asin: Option<String> },
    /// Listings made through the Inventory API carry `sku`; older ones only the legacy ids.
    Ebay { legacy_item_id: Option<String>, legacy_variation_id: Option<String> },
    /// Any other platform: its reader builds the listing's mapping key itself, with the key
    /// function its registration declares (`None` when the line does not say enough), so a new
    /// platform needs no variant here.
    Keyed { identity: Option<String> },
}

/// Which listing a line is about, as far as the platform says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineIdentity {
    /// The seller's SKU on the line, trimmed; `None` when absent or empty.
    pub sku: Option<String>,
    pub ids: PlatformIds,
}

/// One way to find the listing (and so the StockEdge SKU) a line is about; try
/// [`LineIdentity::lookup_keys`] in order and take the first that finds one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum LookupKey {
    /// The catalogue's listing identity key (its platform's key function, unique per channel).
    Identity(String),
    /// The channel's listing of the StockEdge SKU equal to the line's SKU.
    Sku(String),
    /// Shopify only: the variant. Its inventory item (`ProductVariant.inventoryItem.id`, one per
    /// variant) must be read from the Admin API; then look up `Identity(shopify:inventory_item:N)`.
    ShopifyVariant(i64),
}

impl LineIdentity {
    /// The ways to map this line to a listing, most exact first:
    /// - Shopify `inventory_levels/update`: the inventory item — it *is* the catalogue identity.
    /// - Shopify order and refund lines carry no inventory item, so: the line's `sku` (merchants
    ///   normally keep Shopify's variant SKU equal to the StockEdge SKU), then the variant (to be
    ///   resolved to its inventory item through the Admin API).
    /// - WooCommerce: product (+ variation) ids — the catalogue identity — then the `sku`.
    /// - Amazon: the seller SKU — the catalogue identity (`amazon:{seller}:{sku}`).
    /// - eBay: the inventory SKU — the catalogue identity (`ebay:sku:{sku}`); a line without a SKU
    ///   (a listing not made through the Inventory API) has no key and stays unmapped.
    /// - Any other platform (`Keyed`): the identity its reader built, then the `sku`.
    pub fn lookup_keys(&self) -> Vec<LookupKey> {
        let mut keys = Vec::new();
        match &self.ids {
            PlatformIds::Shopify { inventory_item_id: Some(item), .. } => {
                keys.push(LookupKey::Identity(shopify::identity_key(*item)));
            }
            PlatformIds::Shopify { inventory_item_id: None, variant_id, .. } => {
                if let Some(sku) = &self.sku {
                    keys.push(LookupKey::Sku(sku.clone()));
                }
                if let Some(v) = variant_id {
                    keys.push(LookupKey::ShopifyVariant(*v));
                }
            }
            PlatformIds::Woocommerce { product_id, variation_id } => {
                if *product_id > 0 {
                    keys.push(LookupKey::Identity(woocommerce::identity_key(*product_id, *variation_id)));
                }
                if let Some(sku) = &self.sku {
                    keys.push(LookupKey::Sku(sku.clone()));
                }
            }
            PlatformIds::Amazon { seller_id, .. } => {
                if let Some(sku) = &self.sku {
                    keys.push(LookupKey::Identity(amazon::identity_key(seller_id, sku)));
                }
            }
            PlatformIds::Ebay { .. } => {
                if let Some(sku) = &self.sku {
                    keys.push(LookupKey::Identity(ebay::identity_key(sku)));
                }
            }
            PlatformIds::Keyed { identity } => {
                if let Some(i) = identity {
                    keys.push(LookupKey::Identity(i.clone()));
                }
                if let Some(sku) = &self.sku {
                    keys.push(LookupKey::Sku(sku.clone()));
                }
            }
        }
        keys
    }
}

/// One line of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundLine {
    pub identity: LineIdentity,
    /// The platform's id of this line, stable across redeliveries: the order line (sales,
    /// cancels), the refund line (restocks: two partial refunds of one order line are two
    /// restocks), or `"{inventory_item_id}@{location_id}"` (drift).
    pub line_id: String,
    /// Units, 1..=1,000,000 for sales, cancels and restocks (lines of 0 are left out); for drift,
    /// the absolute level the platform reports (may be 0 or negative).
    pub qty: i64,
    /// Restock lines: how the platform restocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restock: Option<RestockType>,
    /// Restock lines: the order line whose units come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_line_id: Option<String>,
}

/// A platform event in StockEdge's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundEvent {
    pub channel_kind: ChannelKind,
    /// The shop or seller on the platform: Shopify shop domain, WooCommerce site URL
    /// (`X-WC-Webhook-Source`), Amazon seller id, eBay seller id.
    pub account: String,
    /// `None` for drift (not about an order).
    pub order_id: Option<String>,
    pub kind: EventKind,
    pub lines: Vec<InboundLine>,
    /// When it happened on the platform, or when it was received if the platform does not say.
    pub occurred_at: Millis,
}

/// An order whose lines must be read from the platform's API before it becomes an event
/// (Amazon `ORDER_CHANGE` → `getOrderItems`; eBay `ORDER_CONFIRMATION` → Fulfillment `getOrders`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchOrder {
    pub channel_kind: ChannelKind,
    /// `None` when the notification does not name the seller (eBay): the channel's account.
    pub account: Option<String>,
    pub order_id: String,
    /// The platform's order status when the notification was sent (Amazon), if it said.
    pub status: Option<String>,
    pub occurred_at: Millis,
}

/// Why a delivery leads to nothing (answered `200` all the same).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Ignored {
    /// Signed, but triggered longer ago than the freshness bound.
    Stale { triggered_at: Millis },
    /// A topic StockEdge does not act on.
    UnhandledTopic { topic: String },
    /// An order that has not taken stock on the platform yet (WooCommerce `pending`, `failed`,
    /// drafts), or whose status StockEdge does not know.
    NotYetSold { status: String },
    /// A refund with no restocked line.
    NothingRestocked,
    /// Fulfilled by Amazon (AFN): Amazon's warehouse stock, not StockEdge's.
    FulfilledByAmazon,
    /// A level for an inventory item the platform does not track (`available: null`).
    NotTracked,
}

/// What a delivery, once authentic, comes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InboundOutcome {
    /// Apply these, in order.
    Events { events: Vec<InboundEvent> },
    /// Read the order from the platform, then make its event.
    Fetch { order: FetchOrder },
    /// Nothing to do.
    Ignored { ignored: Ignored },
    /// WooCommerce's unsigned creation ping (`webhook_id=N`): answer `200`, nothing else.
    Ping,
}

impl InboundOutcome {
    pub fn events(events: Vec<InboundEvent>) -> InboundOutcome {
        InboundOutcome::Events { events }
    }

    pub fn ignored(ignored: Ignored) -> InboundOutcome {
        InboundOutcome::Ignored { ignored }
    }
}

/// An authentic delivery, ready for the edge: skip it if `dedupe_key` was seen, else act on
/// `outcome` and remember the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub channel_kind: ChannelKind,
    pub account: Option<String>,
    /// The platform's topic (`orders/create`, `order.updated`, `ORDER_CHANGE`, `ORDER_CONFIRMATION`).
    pub topic: String,
    /// `None` when the platform sent no delivery id (the ledger's per-line idempotency still holds).
    pub dedupe_key: Option<String>,
    pub outcome: InboundOutcome,
}
