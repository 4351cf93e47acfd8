//! The catalogue's records and their rules: products (with bundle components), locations,
//! channel connections and listings (a SKU's identity on a channel, and the rule for what the
//! channel shows). Pure and free of HTTP: `api::catalog_bodies` reads request bodies into these
//! records (naming every faulty field), `edge::store` reads and writes them in D1.
//!
//! The rules that need more than one body — bundles do not nest, a channel's kind stays while
//! it has listings — answer [`FieldFault`]s, which `api` reports as `422 validation-failed`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::bundle::{Bundle, Component};
use super::rules::ListingRule;
use crate::stock::{Sku, Token};
use crate::time::Millis;

/// Longest barcode (GTIN-14 is 14; Code 128 and friends are longer).
pub const MAX_BARCODE_LEN: usize = 64;
/// Longest location or account name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest channel account (shop domain, site URL, seller id…).
pub const MAX_ACCOUNT_LEN: usize = 255;
/// Largest channel `settings` object, serialised.
pub const MAX_SETTINGS_BYTES: usize = 8 * 1024;
/// Largest numeric platform id (the largest integer a JSON number carries exactly).
pub const MAX_PLATFORM_ID: i64 = 9_007_199_254_740_991;
/// At most this many Amazon marketplaces per listing.
pub const MAX_MARKETPLACES: usize = 50;
/// What `settings.on_drift` may say: push StockEdge's number back, or only report the drift.
pub const ON_DRIFT: [&str; 2] = ["adjust", "flag"];

/// When a record was created and last changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamps {
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Stamps {
    /// The stamps of a record written at `now`: created now unless it existed.
    pub fn written(existing: Option<Stamps>, now: Millis) -> Stamps {
        Stamps { created_at: existing.map_or(now, |s| s.created_at), updated_at: now }
    }

    fn put(self, m: &mut Map<String, Value>) {
        m.insert("created_at".into(), Value::from(self.created_at.to_rfc3339()));
        m.insert("updated_at".into(), Value::from(self.updated_at.to_rfc3339()));
    }
}

/// What is wrong with a record, and the field (a JSON path in its body) at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldFault {
    pub field: String,
    pub message: String,
}

impl FieldFault {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldFault { field: field.into(), message: message.into() }
    }
}

/// The kinds of record the catalogue keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Product,
    Location,
    Channel,
    Listing,
}

impl Entity {
    pub fn noun(self) -> &'static str {
        match self {
            Entity::Product => "product",
            Entity::Location => "location",
            Entity::Channel => "channel",
            Entity::Listing => "listing",
        }
    }
}

/// A Worker secret's name: `^[A-Z][A-Z0-9_]{0,63}$`.
pub fn is_secret_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Products

/// A product variant: one SKU, and the components it is made of when it is a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub sku: Sku,
    pub title: Option<String>,
    pub barcode: Option<String>,
    /// Whether StockEdge counts this SKU's stock (default true).
    pub tracked: bool,
    /// The backorder allowance, also applied to the SKU's ledger when given.
    pub backorder_limit: Option<i64>,
    pub low_stock_threshold: Option<i64>,
    /// Empty unless the SKU is a bundle.
    pub components: Vec<Component>,
}

impl Product {
    /// The bundle this product is, if it has components.
    pub fn bundle(&self) -> Option<Bundle> {
        (!self.components.is_empty()).then(|| Bundle { sku: self.sku.clone(), components: self.components.clone() })
    }

    pub fn to_json(&self, stamps: Stamps) -> Value {
        let mut m = Map::new();
        m.insert("sku".into(), Value::from(self.sku.as_str()));
        if let Some(t) = &self.title {
            m.insert("title".into(), Value::from(t.as_str()));
        }
        if let Some(b) = &self.barcode {
            m.insert("barcode".into(), Value::from(b.as_str()));
        }
        m.insert("tracked".into(), Value::from(self.tracked));
        if let Some(b) = self.backorder_limit {
            m.insert("backorder_limit".into(), Value::from(b));
        }
        if let Some(t) = self.low_stock_threshold {
            m.insert("low_stock_threshold".into(), Value::from(t));
        }
        let components: Vec<Value> =
            self.components.iter().map(|c| json!({"sku": c.sku.as_str(), "qty": c.qty})).collect();
        m.insert("components".into(), Value::Array(components));
        stamps.put(&mut m);
        Value::Object(m)
    }
}

/// Bundles do not nest: a component may not be a bundle, and a SKU that is a component of a
/// bundle may not become one. `component_bundles` are the components that are bundles;
/// `parent_bundles` the bundles that list `product` as a component.
pub fn nesting_faults(product: &Product, component_bundles: &[String], parent_bundles: &[String]) -> Vec<FieldFault> {
    let mut out = Vec::new();
    for (i, c) in product.components.iter().enumerate() {
        if component_bundles.iter().any(|b| b == c.sku.as_str()) {
            out.push(FieldFault::new(
                format!("components[{i}].sku"),
                format!("{} is itself a bundle; bundles do not nest", c.sku),
            ));
        }
    }
    if !product.components.is_empty() && !parent_bundles.is_empty() {
        out.push(FieldFault::new(
            "components",
            format!(
                "{} is a component of {}; a component cannot be a bundle (bundles do not nest)",
                product.sku,
                parent_bundles.join(", ")
            ),
        ));
    }
    out
}

/// The no-nesting rule refused a product write that passed [`nesting_faults`]: another write
/// changed the bundles in between.
pub fn nested_meanwhile() -> FieldFault {
    FieldFault::new(
        "components",
        "bundles do not nest: a component became a bundle, or this SKU a component, while this request ran; read and retry",
    )
}

// ---------------------------------------------------------------------------------------------
// Locations

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationRecord {
    pub location: crate::stock::Location,
    pub name: String,
}

impl LocationRecord {
    pub fn to_json(&self, stamps: Stamps) -> Value {
        let mut m = Map::new();
        m.insert("location".into(), Value::from(self.location.as_str()));
        m.insert("name".into(), Value::from(self.name.as_str()));
        stamps.put(&mut m);
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Channels

/// The platforms a channel connection can be. What each one does is its registration in
/// [`crate::channels::registry`] (declared in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Shopify,
    Woocommerce,
    Amazon,
    Ebay,
    Wholesale,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Shopify,
        ChannelKind::Woocommerce,
        ChannelKind::Amazon,
        ChannelKind::Ebay,
        ChannelKind::Wholesale,
    ];

    /// The kind's name, as its registration holds it ([`crate::channels::Platform::name`]).
    pub fn as_str(self) -> &'static str {
        crate::channels::platform(self).name
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kinds' names, comma-separated (for messages).
    pub fn names() -> String {
        ChannelKind::ALL.map(ChannelKind::as_str).join(", ")
    }
}

/// A connection to a sales channel. Credentials are named (a Worker secret), never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub channel: Token,
    pub kind: ChannelKind,
    /// The shop, site or seller account on the platform.
    pub account: String,
    pub enabled: bool,
    /// The NAME of the Worker secret holding the credentials (`SHOPIFY_TOKEN_MYSHOP`).
    pub credentials_secret: Option<String>,
    pub settings: Map<String, Value>,
}

impl Channel {
    pub fn to_json(&self, stamps: Stamps) -> Value {
        let mut m = Map::new();
        m.insert("channel".into(), Value::from(self.channel.as_str()));
        m.insert("kind".into(), Value::from(self.kind.as_str()));
        m.insert("account".into(), Value::from(self.account.as_str()));
        m.insert("enabled".into(), Value::from(self.enabled));
        if let Some(s) = &self.credentials_secret {
            m.insert("credentials_secret".into(), Value::from(s.as_str()));
        }
        m.insert("settings".into(), Value::Object(self.settings.clone()));
        stamps.put(&mut m);
        Value::Object(m)
    }

    /// `settings.on_drift`: `adjust` (default) or `flag`.
    pub fn on_drift(&self) -> &str {
        self.settings.get("on_drift").and_then(Value::as_str).unwrap_or("adjust")
    }
}

/// A channel's kind may not change while listings (shaped for the old kind) exist.
pub fn kind_change_fault(old: ChannelKind, new: ChannelKind, listings: i64) -> Option<FieldFault> {
    (old != new && listings > 0).then(|| {
        FieldFault::new(
            "kind",
            format!(
                "cannot change from {} to {} while the channel has {listings} listing(s); delete them first",
                old.as_str(),
                new.as_str()
            ),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Listings

/// A SKU's identity on a channel, per platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum External {
    /// Shopify: the variant's inventory item at one Shopify location (numeric ids; the GraphQL
    /// ids are `gid://shopify/InventoryItem/<id>` and `gid://shopify/Location/<id>`).
    Shopify { inventory_item_id: i64, location_id: i64 },
    /// WooCommerce: a simple product, or one variation of a variable product.
    Woocommerce { product_id: i64, variation_id: Option<i64> },
    /// Amazon: the seller's SKU in the listed marketplaces.
    Amazon { seller_id: String, seller_sku: String, marketplace_ids: Vec<String> },
    /// eBay: the inventory item's SKU, and the offer when known.
    Ebay { sku: String, offer_id: Option<String> },
    /// A wholesale partner: the partner's item code, or our SKU when it has none.
    Wholesale { partner_id: String, item_code: Option<String> },
}

/// The mapping keys from a channel identity to a SKU: unique per channel (D1 index
/// `listings_by_identity`), so an inbound order or event can be mapped to exactly one SKU by
/// building the same key from what the platform sends.
pub mod identity {
    use crate::stock::Sku;

    /// Shopify: the inventory item (one per variant), whatever the location.
    pub fn shopify(inventory_item_id: i64) -> String {
        format!("shopify:inventory_item:{inventory_item_id}")
    }

    /// WooCommerce: the product, and the variation when there is one (`0`, as order lines
    /// send for a simple product, means none).
    pub fn woocommerce(product_id: i64, variation_id: Option<i64>) -> String {
        match variation_id.filter(|v| *v > 0) {
            Some(v) => format!("woocommerce:product:{product_id}:variation:{v}"),
            None => format!("woocommerce:product:{product_id}"),
        }
    }

    /// Amazon: the seller's SKU (the same in every marketplace of the seller).
    pub fn amazon(seller_id: &str, seller_sku: &str) -> String {
        format!("amazon:{seller_id}:{seller_sku}")
    }

    /// eBay: the inventory item's SKU.
    pub fn ebay(sku: &str) -> String {
        format!("ebay:sku:{sku}")
    }

    /// A wholesale partner's item code.
    pub fn wholesale_item(partner_id: &str, item_code: &str) -> String {
        format!("wholesale:{partner_id}|item:{item_code}")
    }

    /// A wholesale partner ordering by our SKU (no item code of its own).
    pub fn wholesale_sku(partner_id: &str, sku: &Sku) -> String {
        format!("wholesale:{partner_id}|sku:{sku}")
    }
}

impl External {
    pub fn kind(&self) -> ChannelKind {
        match self {
            External::Shopify { .. } => ChannelKind::Shopify,
            External::Woocommerce { .. } => ChannelKind::Woocommerce,
            External::Amazon { .. } => ChannelKind::Amazon,
            External::Ebay { .. } => ChannelKind::Ebay,
            External::Wholesale { .. } => ChannelKind::Wholesale,
        }
    }

    /// The mapping key of this identity (see [`identity`]); `sku` is the listed SKU, used
    /// only by wholesale partners without item codes.
    pub fn identity(&self, sku: &Sku) -> String {
        match self {
            External::Shopify { inventory_item_id, .. } => identity::shopify(*inventory_item_id),
            External::Woocommerce { product_id, variation_id } => identity::woocommerce(*product_id, *variation_id),
            External::Amazon { seller_id, seller_sku, .. } => identity::amazon(seller_id, seller_sku),
            External::Ebay { sku, .. } => identity::ebay(sku),
            External::Wholesale { partner_id, item_code: Some(code) } => identity::wholesale_item(partner_id, code),
            External::Wholesale { partner_id, item_code: None } => identity::wholesale_sku(partner_id, sku),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            External::Shopify { inventory_item_id, location_id } => {
                json!({"inventory_item_id": inventory_item_id, "location_id": location_id})
            }
            External::Woocommerce { product_id, variation_id } => {
                let mut m = json!({"product_id": product_id});
                if let Some(v) = variation_id {
                    m["variation_id"] = json!(v);
                }
                m
            }
            External::Amazon { seller_id, seller_sku, marketplace_ids } => {
                json!({"seller_id": seller_id, "seller_sku": seller_sku, "marketplace_ids": marketplace_ids})
            }
            External::Ebay { sku, offer_id } => {
                let mut m = json!({"sku": sku});
                if let Some(o) = offer_id {
                    m["offer_id"] = json!(o);
                }
                m
            }
            External::Wholesale { partner_id, item_code } => {
                let mut m = json!({"partner_id": partner_id});
                if let Some(c) = item_code {
                    m["item_code"] = json!(c);
                }
                m
            }
        }
    }

    /// Reads a stored identity (written from [`External::to_json`]); `None` when it is not
    /// the shape of a `kind` identity.
    pub fn from_stored(kind: ChannelKind, v: &Value) -> Option<External> {
        stored::read(kind, v.clone())
    }
}

/// The stored shapes of identities: exactly what [`External::to_json`] writes.
mod stored {
    use serde::Deserialize;
    use serde_json::Value;

    use super::{ChannelKind, External};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shopify {
        inventory_item_id: i64,
        location_id: i64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Woocommerce {
        product_id: i64,
        variation_id: Option<i64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Amazon {
        seller_id: String,
        seller_sku: String,
        marketplace_ids: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ebay {
        sku: String,
        offer_id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wholesale {
        partner_id: String,
        item_code: Option<String>,
    }

    pub fn read(kind: ChannelKind, v: Value) -> Option<External> {
        let e = match kind {
            ChannelKind::Shopify => serde_json::from_value::<Shopify>(v)
                .map(|s| External::Shopify { inventory_item_id: s.inventory_item_id, location_id: s.location_id }),
            ChannelKind::Woocommerce => serde_json::from_value::<Woocommerce>(v)
                .map(|w| External::Woocommerce { product_id: w.product_id, variation_id: w.variation_id }),
            ChannelKind::Amazon => serde_json::from_value::<Amazon>(v).map(|a| External::Amazon {
                seller_id: a.seller_id,
                seller_sku: a.seller_sku,
                marketplace_ids: a.marketplace_ids,
            }),
            ChannelKind::Ebay => {
                serde_json::from_value::<Ebay>(v).map(|e| External::Ebay { sku: e.sku, offer_id: e.offer_id })
            }
            ChannelKind::Wholesale => serde_json::from_value::<Wholesale>(v)
                .map(|w| External::Wholesale { partner_id: w.partner_id, item_code: w.item_code }),
        };
        e.ok()
    }
}

/// A SKU listed on a channel: its identity there, and the rule for what the channel shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub channel: Token,
    pub sku: Sku,
    pub external: External,
    pub rule: ListingRule,
}

/// A rule as JSON, omitting the limits it does not set.
pub fn rule_json(r: &ListingRule) -> Value {
    let mut m = json!({"buffer": r.buffer, "percent": r.percent});
    if let Some(x) = r.max_listed {
        m["max_listed"] = json!(x);
    }
    if let Some(z) = r.zero_at_or_below {
        m["zero_at_or_below"] = json!(z);
    }
    m
}

impl Listing {
    /// The unique mapping key of this listing's identity on its channel.
    pub fn identity(&self) -> String {
        self.external.identity(&self.sku)
    }

    pub fn to_json(&self, stamps: Stamps) -> Value {
        let mut m = Map::new();
        m.insert("channel".into(), Value::from(self.channel.as_str()));
        m.insert("sku".into(), Value::from(self.sku.as_str()));
        m.insert("kind".into(), Value::from(self.external.kind().as_str()));
        m.insert("external".into(), self.external.to_json());
        m.insert("identity".into(), Value::from(self.identity()));
        m.insert("rule".into(), rule_json(&self.rule));
        stamps.put(&mut m);
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

/// `?after=&limit=` of a list: records with ids above `after`, at most `limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageQuery {
    pub after: String,
    pub limit: usize,
}

/// Cuts `rows` (fetched with `limit + 1`, in id order) to a page: the rows and, when more
/// follow, the id to pass as `after` for the next page.
pub fn page_of<T>(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(id);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// `{"items": [...], "next"?}`
pub fn list_json(items: Vec<Value>, next: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("items".into(), Value::Array(items));
    if let Some(n) = next {
        m.insert("next".into(), Value::from(n));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_identities_read_back() {
        for e in [
            External::Shopify { inventory_item_id: 1, location_id: 2 },
            External::Woocommerce { product_id: 3, variation_id: Some(4) },
            External::Amazon { seller_id: "S".into(), seller_sku: "k".into(), marketplace_ids: vec!["M".into()] },
            External::Ebay { sku: "e".into(), offer_id: None },
            External::Wholesale { partner_id: "p".into(), item_code: Some("c".into()) },
        ] {
            assert_eq!(External::from_stored(e.kind(), &e.to_json()), Some(e));
        }
    }

    #[test]
    fn stored_identities_of_another_shape_are_refused() {
        let shopify = json!({"inventory_item_id": 1, "location_id": 2});
        assert_eq!(External::from_stored(ChannelKind::Ebay, &shopify), None, "the shape of another kind");
        let extra = json!({"inventory_item_id": 1, "location_id": 2, "x": 3});
        assert_eq!(External::from_stored(ChannelKind::Shopify, &extra), None, "an unknown member");
        assert_eq!(External::from_stored(ChannelKind::Shopify, &json!({"inventory_item_id": 1})), None);
        assert_eq!(External::from_stored(ChannelKind::Wholesale, &json!("p")), None);
    }

    #[test]
    fn pages_cut_at_the_limit() {
        let (rows, next) = page_of(vec!["C", "D", "E"], 2, |s| s.to_string());
        assert_eq!((rows, next), (vec!["C", "D"], Some("D".into())));
        assert_eq!(page_of(vec!["C"], 2, |s| s.to_string()).1, None);
        assert_eq!(list_json(vec![], None), json!({"items": []}));
        assert_eq!(list_json(vec![json!(1)], Some("A".into())), json!({"items": [1], "next": "A"}));
    }

    #[test]
    fn every_kind_parses_from_its_name() {
        for k in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ChannelKind::parse("etsy"), None);
        assert_eq!(ChannelKind::names(), "shopify, woocommerce, amazon, ebay, wholesale");
    }
}
