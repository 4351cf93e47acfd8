//! The catalogue's records and their validation: products (with bundle components), locations,
//! channel connections and listings (a SKU's identity on a channel, and the rule for what the
//! channel shows). Pure: `edge::catalog` reads and writes these records in D1.
//!
//! Every validator reads a whole body and names every faulty field (`components[1].qty`,
//! `external.inventory_item_id`, `rule.percent`, …) in one `422 validation-failed`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::bundle::{Bundle, BundleError, Component};
use super::rules::{ListingRule, RuleError};
use crate::api::fields::{parse_object, Fields};
use crate::api::problem::{FieldError, Kind, Problem};
pub use crate::stock::limits::{DEFAULT_PAGE, MAX_PAGE};
use crate::stock::limits::{
    MAX_BACKORDER_LIMIT, MAX_LINES, MAX_LINE_QTY, MAX_ON_HAND, MAX_RULE_BUFFER, MAX_RULE_LISTED, MAX_RULE_PERCENT,
    MAX_RULE_ZERO_AT_OR_BELOW, MAX_TEXT_LEN,
};
use crate::stock::{OrderKey, Sku, Token};
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

// ---------------------------------------------------------------------------------------------
// Problems (the catalogue's own problem kinds would be product-not-found, location-not-found,
// channel-not-found, listing-not-found and conflict; until problem.rs has them these use
// `not-found` with a detail naming the record, and `validation-failed` naming the field).

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

/// `404`: no such record. `id` names it (a listing: `"<sku> on <channel>"`).
pub fn not_found(entity: Entity, id: &str) -> Problem {
    Problem::new(Kind::NotFound, format!("{} {id} not found", entity.noun())).with("resource", entity.noun())
}

/// `422` on `external`: this channel identity already belongs to another SKU's listing.
pub fn identity_taken(channel: &Token, identity: &str, other_sku: Option<&str>) -> Problem {
    let message = match other_sku {
        Some(s) => format!("this identity ({identity}) is already listed on channel {channel} as SKU {s}; one channel identity maps to one SKU"),
        None => format!("this identity ({identity}) is already listed on channel {channel} for another SKU; one channel identity maps to one SKU"),
    };
    let p = Problem::invalid(vec![FieldError::new("external", message)]);
    match other_sku {
        Some(s) => p.with("conflicting_sku", s),
        None => p,
    }
}

pub use crate::api::problem::with_key_fault;

fn finish<T>(errors: Vec<FieldError>, value: Option<T>) -> Result<T, Problem> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ if errors.is_empty() => Err(Problem::invalid(vec![FieldError::new("body", "is incomplete")])),
        _ => Err(Problem::invalid(errors)),
    }
}

/// An optional boolean member.
fn bool_opt(f: &mut Fields<'_>, obj: &Map<String, Value>, name: &str) -> Option<bool> {
    match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            f.fault(name, "must be true or false");
            None
        }
    }
}

/// An optional string member that must satisfy `ok` (described by `rule`), at most `max` characters.
fn string_opt(
    f: &mut Fields<'_>,
    obj: &Map<String, Value>,
    name: &str,
    max: usize,
    ok: fn(&str) -> bool,
    rule: &str,
) -> Option<String> {
    match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            f.fault(name, "must not be empty");
            None
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            f.fault(name, format!("must be at most {max} characters"));
            None
        }
        Some(Value::String(s)) if !ok(s) => {
            f.fault(name, rule.to_owned());
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            f.fault(name, "must be a string");
            None
        }
    }
}

fn string_req(
    f: &mut Fields<'_>,
    obj: &Map<String, Value>,
    name: &str,
    max: usize,
    ok: fn(&str) -> bool,
    rule: &str,
) -> Option<String> {
    if obj.get(name).is_none_or(Value::is_null) {
        f.fault(name, "is required");
        return None;
    }
    string_opt(f, obj, name, max, ok, rule)
}

/// Free text: no control characters, no leading or trailing whitespace.
fn plain(s: &str) -> bool {
    !s.chars().any(char::is_control) && s.trim() == s
}

/// One token: printable, no whitespace at all.
fn no_space(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn alnum(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn upper_alnum(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
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

/// The field a bundle fault belongs to.
fn bundle_fault_field(components: &[Component], e: &BundleError) -> String {
    let at = |sku: &str, last: bool| {
        let mut idx = components.iter().enumerate().filter(|(_, c)| c.sku.as_str() == sku).map(|(i, _)| i);
        let i = if last { idx.next_back() } else { idx.next() };
        i.map_or_else(|| "components".to_owned(), |i| format!("components[{i}]"))
    };
    match e {
        BundleError::Empty | BundleError::TooMany | BundleError::TooLarge { .. } => "components".into(),
        BundleError::Qty(s) => format!("{}.qty", at(s, false)),
        BundleError::Duplicate(s) => format!("{}.sku", at(s, true)),
        BundleError::SelfReference => {
            let s = components.first().map(|c| c.sku.as_str()).unwrap_or_default();
            format!("{}.sku", at(s, false))
        }
    }
}

/// `PUT /v1/products/{sku}`: `{title?, barcode?, tracked?, backorder_limit?,
/// low_stock_threshold?, components?: [{sku, qty}]}`. An empty or absent `components` makes
/// the product a plain SKU; otherwise it is a bundle (checked with [`Bundle::validate`]).
pub fn product(sku: &Sku, body: &[u8]) -> Result<Product, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let title = f.text_opt("title", MAX_TEXT_LEN).filter(|t| !t.is_empty());
    let barcode = match obj.get("barcode") {
        Some(Value::String(s)) if s.is_empty() => None,
        _ => string_opt(
            &mut f,
            &obj,
            "barcode",
            MAX_BARCODE_LEN,
            no_space,
            "may not contain spaces or control characters",
        ),
    };
    let tracked = bool_opt(&mut f, &obj, "tracked").unwrap_or(true);
    let backorder_limit = f.int_opt("backorder_limit", 0..=MAX_BACKORDER_LIMIT);
    let low_stock_threshold = f.int_opt("low_stock_threshold", 0..=MAX_ON_HAND);

    let mut components = Vec::new();
    let mut components_ok = true;
    let listed = matches!(obj.get("components"), Some(Value::Array(a)) if !a.is_empty())
        || !matches!(obj.get("components"), None | Some(Value::Null) | Some(Value::Array(_)));
    if listed {
        let items = f.objects("components", MAX_LINES);
        components_ok = !items.is_empty();
        for (i, item) in items.into_iter().enumerate() {
            let mut g = f.nested(item, "components", i);
            let csku = g.id("sku", Sku::parse);
            let qty = g.int("qty", 1..=MAX_LINE_QTY);
            if let Some(c) = &csku {
                if c == sku {
                    g.fault("sku", BundleError::SelfReference.to_string());
                } else if components.iter().any(|d: &Component| &d.sku == c) {
                    g.fault("sku", BundleError::Duplicate(c.to_string()).to_string());
                }
            }
            match (csku, qty) {
                (Some(sku), Some(qty)) => components.push(Component { sku, qty }),
                _ => components_ok = false,
            }
        }
    }
    let fresh_faults = errors.iter().any(|e| e.field.starts_with("components"));
    if components_ok && !fresh_faults && !components.is_empty() {
        let b = Bundle { sku: sku.clone(), components: components.clone() };
        if let Err(e) = b.validate() {
            errors.push(FieldError::new(bundle_fault_field(&components, &e), e.to_string()));
        }
    }
    finish(
        errors,
        Some(Product { sku: sku.clone(), title, barcode, tracked, backorder_limit, low_stock_threshold, components }),
    )
}

/// Bundles do not nest: a component may not be a bundle, and a SKU that is a component of a
/// bundle may not become one. `component_bundles` are the components that are bundles;
/// `parent_bundles` the bundles that list `product` as a component.
pub fn nesting_faults(product: &Product, component_bundles: &[String], parent_bundles: &[String]) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (i, c) in product.components.iter().enumerate() {
        if component_bundles.iter().any(|b| b == c.sku.as_str()) {
            out.push(FieldError::new(
                format!("components[{i}].sku"),
                format!("{} is itself a bundle; bundles do not nest", c.sku),
            ));
        }
    }
    if !product.components.is_empty() && !parent_bundles.is_empty() {
        out.push(FieldError::new(
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

/// `PUT /v1/locations/{location}`: `{name}`.
pub fn location(location: &crate::stock::Location, body: &[u8]) -> Result<LocationRecord, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let name = string_req(
        &mut f,
        &obj,
        "name",
        MAX_NAME_LEN,
        plain,
        "may not contain control characters or start or end with spaces",
    );
    finish(errors, name.map(|name| LocationRecord { location: location.clone(), name }))
}

// ---------------------------------------------------------------------------------------------
// Channels

/// The platforms a channel connection can be.
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

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Shopify => "shopify",
            ChannelKind::Woocommerce => "woocommerce",
            ChannelKind::Amazon => "amazon",
            ChannelKind::Ebay => "ebay",
            ChannelKind::Wholesale => "wholesale",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn names() -> String {
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

/// `PUT /v1/channels/{channel}`: `{kind, account, enabled?, credentials_secret?, settings?}`.
pub fn channel(id: &Token, body: &[u8]) -> Result<Channel, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    if id.as_str() == OrderKey::DIRECT {
        errors.push(FieldError::new(
            "channel",
            format!("{:?} is reserved for the storefront's own orders", OrderKey::DIRECT),
        ));
    }
    let mut f = Fields::new(&obj, "", &mut errors);
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => {
            f.fault("kind", "is required");
            None
        }
        Some(Value::String(s)) => {
            let k = ChannelKind::parse(s);
            if k.is_none() {
                f.fault("kind", format!("must be one of {}", ChannelKind::names()));
            }
            k
        }
        Some(_) => {
            f.fault("kind", format!("must be one of {}", ChannelKind::names()));
            None
        }
    };
    let account =
        string_req(&mut f, &obj, "account", MAX_ACCOUNT_LEN, no_space, "may not contain spaces or control characters");
    let enabled = bool_opt(&mut f, &obj, "enabled").unwrap_or(true);
    let credentials_secret = match obj.get("credentials_secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_secret_name(s) => Some(s.clone()),
        Some(_) => {
            f.fault(
                "credentials_secret",
                "must be the NAME of a Worker secret (1-64 of A-Z 0-9 _, starting with a letter, e.g. SHOPIFY_TOKEN_MYSHOP), never the secret itself",
            );
            None
        }
    };
    let settings = match obj.get("settings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(s)) => {
            if let Some(d) = s.get("on_drift") {
                if !d.as_str().is_some_and(|d| ON_DRIFT.contains(&d)) {
                    f.fault("settings.on_drift", format!("must be one of {}", ON_DRIFT.join(", ")));
                }
            }
            if Value::Object(s.clone()).to_string().len() > MAX_SETTINGS_BYTES {
                f.fault("settings", format!("must be at most {MAX_SETTINGS_BYTES} bytes of JSON"));
            }
            s.clone()
        }
        Some(_) => {
            f.fault("settings", "must be an object");
            Map::new()
        }
    };
    let value = match (kind, account) {
        (Some(kind), Some(account)) => {
            Some(Channel { channel: id.clone(), kind, account, enabled, credentials_secret, settings })
        }
        _ => None,
    };
    finish(errors, value)
}

/// A channel's kind may not change while listings (shaped for the old kind) exist.
pub fn kind_change_fault(old: ChannelKind, new: ChannelKind, listings: i64) -> Option<FieldError> {
    (old != new && listings > 0).then(|| {
        FieldError::new(
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

    /// Reads a stored identity (written by [`listing`], so valid).
    pub fn from_stored(kind: ChannelKind, v: &Value) -> Option<External> {
        let obj = v.as_object()?;
        let mut errors = Vec::new();
        let e = {
            let mut f = Fields::new(obj, "external", &mut errors);
            external(kind, obj, &mut f)
        };
        e.filter(|_| errors.is_empty())
    }
}

/// The fields each kind's identity has.
fn external_fields(kind: ChannelKind) -> &'static [&'static str] {
    match kind {
        ChannelKind::Shopify => &["inventory_item_id", "location_id"],
        ChannelKind::Woocommerce => &["product_id", "variation_id"],
        ChannelKind::Amazon => &["seller_id", "seller_sku", "marketplace_ids"],
        ChannelKind::Ebay => &["sku", "offer_id"],
        ChannelKind::Wholesale => &["partner_id", "item_code"],
    }
}

/// A Shopify id: a positive integer (number or digit string) or `gid://shopify/<gid_type>/<id>`.
fn shopify_id(f: &mut Fields<'_>, obj: &Map<String, Value>, name: &str, gid_type: &str) -> Option<i64> {
    let rule = format!("must be a positive integer id or a gid://shopify/{gid_type}/<id> string");
    let parsed = match obj.get(name) {
        None | Some(Value::Null) => {
            f.fault(name, "is required");
            return None;
        }
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => {
            let digits = s.strip_prefix(&format!("gid://shopify/{gid_type}/")).unwrap_or(s);
            if !digits.is_empty() && digits.len() <= 16 && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse::<i64>().ok()
            } else {
                None
            }
        }
        Some(_) => None,
    };
    match parsed {
        Some(n) if (1..=MAX_PLATFORM_ID).contains(&n) => Some(n),
        _ => {
            f.fault(name, rule);
            None
        }
    }
}

/// Reads `external` for a channel of `kind` (faults under the cursor's prefix).
fn external(kind: ChannelKind, obj: &Map<String, Value>, f: &mut Fields<'_>) -> Option<External> {
    let allowed = external_fields(kind);
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            f.fault(k, format!("is not a field of a {} listing (it has {})", kind.as_str(), allowed.join(", ")));
        }
    }
    match kind {
        ChannelKind::Shopify => {
            let item = shopify_id(f, obj, "inventory_item_id", "InventoryItem");
            let location = shopify_id(f, obj, "location_id", "Location");
            Some(External::Shopify { inventory_item_id: item?, location_id: location? })
        }
        ChannelKind::Woocommerce => {
            let product_id = f.int("product_id", 1..=MAX_PLATFORM_ID);
            let variation_id = f.int_opt("variation_id", 1..=MAX_PLATFORM_ID);
            Some(External::Woocommerce { product_id: product_id?, variation_id })
        }
        ChannelKind::Amazon => {
            let seller_id = string_req(f, obj, "seller_id", 64, alnum, "may only contain A-Z a-z 0-9");
            let seller_sku = string_req(
                f,
                obj,
                "seller_sku",
                40,
                plain,
                "may not contain control characters or start or end with spaces",
            );
            let mut marketplace_ids: Vec<String> = Vec::new();
            let mut ok = true;
            match obj.get("marketplace_ids") {
                None | Some(Value::Null) => {
                    f.fault("marketplace_ids", "is required");
                    ok = false;
                }
                Some(Value::Array(a)) if a.is_empty() => {
                    f.fault("marketplace_ids", "must not be empty");
                    ok = false;
                }
                Some(Value::Array(a)) if a.len() > MAX_MARKETPLACES => {
                    f.fault("marketplace_ids", format!("must have at most {MAX_MARKETPLACES} items"));
                    ok = false;
                }
                Some(Value::Array(a)) => {
                    for (i, m) in a.iter().enumerate() {
                        match m.as_str() {
                            Some(s) if !s.is_empty() && s.len() <= 32 && upper_alnum(s) => {
                                if marketplace_ids.iter().any(|x| x == s) {
                                    f.fault(&format!("marketplace_ids[{i}]"), format!("{s} is listed twice"));
                                    ok = false;
                                } else {
                                    marketplace_ids.push(s.to_owned());
                                }
                            }
                            _ => {
                                f.fault(
                                    &format!("marketplace_ids[{i}]"),
                                    "must be a marketplace id: 1-32 of A-Z 0-9 (e.g. ATVPDKIKX0DER)",
                                );
                                ok = false;
                            }
                        }
                    }
                }
                Some(_) => {
                    f.fault("marketplace_ids", "must be an array of marketplace ids");
                    ok = false;
                }
            }
            let ids = ok.then_some(marketplace_ids);
            Some(External::Amazon { seller_id: seller_id?, seller_sku: seller_sku?, marketplace_ids: ids? })
        }
        ChannelKind::Ebay => {
            let sku =
                string_req(f, obj, "sku", 50, plain, "may not contain control characters or start or end with spaces");
            let offer_id = string_opt(
                f,
                obj,
                "offer_id",
                64,
                |s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "may only contain A-Z a-z 0-9 - _",
            );
            let offer_bad = obj.get("offer_id").is_some_and(|v| !v.is_null()) && offer_id.is_none();
            let sku = sku?;
            (!offer_bad).then_some(External::Ebay { sku, offer_id })
        }
        ChannelKind::Wholesale => {
            let partner_id = f.id("partner_id", Token::parse).map(String::from);
            let item_code = string_opt(
                f,
                obj,
                "item_code",
                128,
                plain,
                "may not contain control characters or start or end with spaces",
            );
            let code_bad = obj.get("item_code").is_some_and(|v| !v.is_null()) && item_code.is_none();
            let partner_id = partner_id?;
            (!code_bad).then_some(External::Wholesale { partner_id, item_code })
        }
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

fn rule_fault_field(e: &RuleError) -> &'static str {
    match e {
        RuleError::Buffer => "rule.buffer",
        RuleError::Percent => "rule.percent",
        RuleError::MaxListed => "rule.max_listed",
        RuleError::Threshold => "rule.zero_at_or_below",
    }
}

/// `PUT /v1/channels/{channel}/listings/{sku}` on a channel of `kind`:
/// `{external: {...per kind}, rule?: {buffer?, percent?, max_listed?, zero_at_or_below?}}`.
pub fn listing(kind: ChannelKind, channel: &Token, sku: &Sku, body: &[u8]) -> Result<Listing, Problem> {
    let obj = parse_object(body)?;
    let mut errors = Vec::new();
    let external_value = match obj.get("external") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(
                "external",
                format!(
                    "is required: the SKU's identity on this {} channel ({})",
                    kind.as_str(),
                    external_fields(kind).join(", ")
                ),
            ));
            None
        }
        Some(Value::Object(e)) => {
            let mut f = Fields::new(e, "external", &mut errors);
            external(kind, e, &mut f)
        }
        Some(_) => {
            errors.push(FieldError::new("external", "must be an object"));
            None
        }
    };
    let rule = match obj.get("rule") {
        None | Some(Value::Null) => Some(ListingRule::default()),
        Some(Value::Object(r)) => {
            let before = errors.len();
            let rule = {
                let mut f = Fields::new(r, "rule", &mut errors);
                for k in r.keys() {
                    if !["buffer", "percent", "max_listed", "zero_at_or_below"].contains(&k.as_str()) {
                        f.fault(k, "is not a rule field (buffer, percent, max_listed, zero_at_or_below)");
                    }
                }
                ListingRule {
                    buffer: f.int_opt("buffer", 0..=MAX_RULE_BUFFER).unwrap_or(0),
                    percent: f.int_opt("percent", 0..=i64::from(MAX_RULE_PERCENT)).map_or(100, |p| p as u8),
                    max_listed: f.int_opt("max_listed", 0..=MAX_RULE_LISTED),
                    zero_at_or_below: f.int_opt("zero_at_or_below", 0..=MAX_RULE_ZERO_AT_OR_BELOW),
                }
            };
            if errors.len() == before {
                if let Err(e) = rule.validate() {
                    errors.push(FieldError::new(rule_fault_field(&e), e.to_string()));
                }
            }
            Some(rule)
        }
        Some(_) => {
            errors.push(FieldError::new("rule", "must be an object"));
            None
        }
    };
    let value = match (external_value, rule) {
        (Some(external), Some(rule)) => Some(Listing { channel: channel.clone(), sku: sku.clone(), external, rule }),
        _ => None,
    };
    finish(errors, value)
}

// ---------------------------------------------------------------------------------------------
// Lists

/// `?after=&limit=` of a list: records with ids above `after`, at most `limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageQuery {
    pub after: String,
    pub limit: usize,
}

pub fn page_query(pairs: &[(String, String)]) -> Result<PageQuery, Problem> {
    let mut errors = Vec::new();
    let mut q = PageQuery { after: String::new(), limit: DEFAULT_PAGE };
    for (k, v) in pairs {
        match k.as_str() {
            "after" if v.chars().count() <= crate::stock::limits::MAX_ID_LEN => q.after = v.clone(),
            "after" => errors.push(FieldError::new(
                "after",
                format!("must be at most {} characters", crate::stock::limits::MAX_ID_LEN),
            )),
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => q.limit = n,
                _ => errors.push(FieldError::new("limit", format!("must be between 1 and {MAX_PAGE}"))),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(Problem::invalid(errors))
    }
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

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn token(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn fields(p: &Problem) -> Vec<String> {
        p.extra["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or("").to_owned())
            .collect()
    }
    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }
    const T: Stamps = Stamps { created_at: Millis(0), updated_at: Millis(1_000) };

    #[test]
    fn product_defaults_and_view() {
        let p = product(&sku("TEE-1"), b"{}").expect("product");
        assert!(p.tracked);
        assert!(p.bundle().is_none());
        let v = p.to_json(T);
        assert_eq!(
            v,
            json!({"sku":"TEE-1","tracked":true,"components":[],"created_at":"1970-01-01T00:00:00.000Z","updated_at":"1970-01-01T00:00:01.000Z"})
        );
        let p = product(&sku("KIT"), &body(json!({"title":"Kit","barcode":"0123456789012","tracked":false,"backorder_limit":5,"low_stock_threshold":2,"components":[{"sku":"A","qty":2},{"sku":"B","qty":1}]}))).expect("kit");
        assert_eq!(p.bundle().expect("bundle").available(|s| if s.as_str() == "A" { 7 } else { 9 }), 3);
        assert_eq!(p.to_json(T)["components"], json!([{"sku":"A","qty":2},{"sku":"B","qty":1}]));
        assert_eq!(product(&sku("X"), &body(json!({"components": []}))).expect("empty").components, vec![]);
    }

    #[test]
    fn product_names_every_faulty_field() {
        let p = product(
            &sku("KIT"),
            &body(json!({"title": 3, "barcode": "a b", "tracked": "yes", "backorder_limit": 1_000_001, "low_stock_threshold": -1,
                "components": [{"sku": "A", "qty": 0}, {"sku": "bad sku", "qty": 1}, {"sku": "KIT", "qty": 1}, {"qty": 1}, 7]})),
        )
        .expect_err("invalid");
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(
            fields(&p),
            [
                "title",
                "barcode",
                "tracked",
                "backorder_limit",
                "low_stock_threshold",
                "components[4]",
                "components[0].qty",
                "components[1].sku",
                "components[2].sku",
                "components[3].sku"
            ]
        );
        let dup = product(&sku("KIT"), &body(json!({"components": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}]})))
            .expect_err("dup");
        assert_eq!(fields(&dup), ["components[1].sku"]);
        let not_array = product(&sku("KIT"), &body(json!({"components": {"sku": "A"}}))).expect_err("not array");
        assert_eq!(fields(&not_array), ["components"]);
        let too_many: Vec<Value> = (0..101).map(|i| json!({"sku": format!("C{i}"), "qty": 1})).collect();
        assert_eq!(
            fields(&product(&sku("KIT"), &body(json!({"components": too_many}))).expect_err("many")),
            ["components"]
        );
        assert_eq!(product(&sku("KIT"), b"[]").expect_err("array").kind, Kind::InvalidJson);
    }

    #[test]
    fn bundle_errors_map_to_fields() {
        let cs = vec![Component { sku: sku("A"), qty: 1 }, Component { sku: sku("A"), qty: 1 }];
        assert_eq!(bundle_fault_field(&cs, &BundleError::Duplicate("A".into())), "components[1].sku");
        assert_eq!(bundle_fault_field(&cs, &BundleError::Qty("A".into())), "components[0].qty");
        assert_eq!(bundle_fault_field(&cs, &BundleError::TooMany), "components");
    }

    #[test]
    fn bundles_do_not_nest() {
        let kit =
            product(&sku("KIT"), &body(json!({"components": [{"sku": "A", "qty": 1}, {"sku": "BOX", "qty": 1}]})))
                .expect("kit");
        let f = nesting_faults(&kit, &["BOX".into()], &[]);
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["components[1].sku"]);
        let f = nesting_faults(&kit, &[], &["MEGA".into()]);
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["components"]);
        let plain = product(&sku("A"), b"{}").expect("plain");
        assert!(nesting_faults(&plain, &[], &["KIT".into()]).is_empty(), "a component may stay a plain SKU");
    }

    #[test]
    fn locations() {
        let main = crate::stock::Location::main();
        let l = location(&main, &body(json!({"name": "Main warehouse"}))).expect("location");
        assert_eq!(l.to_json(T)["name"], "Main warehouse");
        assert_eq!(fields(&location(&main, b"{}").expect_err("no name")), ["name"]);
        assert_eq!(fields(&location(&main, &body(json!({"name": " x"}))).expect_err("spaces")), ["name"]);
        assert_eq!(fields(&location(&main, &body(json!({"name": "x".repeat(201)}))).expect_err("long")), ["name"]);
    }

    #[test]
    fn channels() {
        let c = channel(&token("shop-main"), &body(json!({"kind": "shopify", "account": "myshop.myshopify.com", "credentials_secret": "SHOPIFY_TOKEN_MYSHOP", "settings": {"on_drift": "flag", "x": 1}}))).expect("channel");
        assert!(c.enabled);
        assert_eq!(c.on_drift(), "flag");
        let v = c.to_json(T);
        assert_eq!(v["kind"], "shopify");
        assert_eq!(v["settings"], json!({"on_drift": "flag", "x": 1}));
        let p = channel(&token("direct"), &body(json!({"kind": "etsy", "account": "a b", "enabled": 1, "credentials_secret": "shpat_123abc", "settings": {"on_drift": "ignore"}}))).expect_err("bad");
        assert_eq!(fields(&p), ["channel", "kind", "account", "enabled", "credentials_secret", "settings.on_drift"]);
        assert_eq!(fields(&channel(&token("c"), b"{}").expect_err("empty")), ["kind", "account"]);
        assert_eq!(
            fields(
                &channel(&token("c"), &body(json!({"kind": "ebay", "account": "me", "settings": []})))
                    .expect_err("settings")
            ),
            ["settings"]
        );
        assert!(is_secret_name("A"));
        assert!(is_secret_name(&format!("A{}", "B".repeat(63))));
        assert!(!is_secret_name(&format!("A{}", "B".repeat(64))));
        assert!(!is_secret_name("1ABC") && !is_secret_name("") && !is_secret_name("ABC-D"));
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Ebay, 1).is_some());
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Ebay, 0).is_none());
        assert!(kind_change_fault(ChannelKind::Shopify, ChannelKind::Shopify, 3).is_none());
    }

    #[test]
    fn shopify_identities_accept_numbers_digit_strings_and_gids() {
        let ch = token("shop");
        let a = listing(
            ChannelKind::Shopify,
            &ch,
            &sku("A"),
            &body(json!({"external": {"inventory_item_id": 123, "location_id": "gid://shopify/Location/9"}})),
        )
        .expect("a");
        let b = listing(
            ChannelKind::Shopify,
            &ch,
            &sku("B"),
            &body(json!({"external": {"inventory_item_id": "gid://shopify/InventoryItem/123", "location_id": "9"}})),
        )
        .expect("b");
        assert_eq!(a.external, b.external);
        assert_eq!(a.identity(), "shopify:inventory_item:123");
        assert_eq!(a.rule, ListingRule::default());
        let v = a.to_json(T);
        assert_eq!(v["external"], json!({"inventory_item_id": 123, "location_id": 9}));
        assert_eq!(v["rule"], json!({"buffer": 0, "percent": 100}));
        let p = listing(ChannelKind::Shopify, &ch, &sku("A"), &body(json!({"external": {"inventory_item_id": "gid://shopify/Location/1", "location_id": 0, "product_id": 1}}))).expect_err("bad");
        assert_eq!(fields(&p), ["external.product_id", "external.inventory_item_id", "external.location_id"]);
    }

    #[test]
    fn identities_per_kind() {
        let ch = token("c");
        let s = sku("S-1");
        let ok = |kind, e: Value| listing(kind, &ch, &s, &body(json!({"external": e}))).expect("valid").identity();
        assert_eq!(ok(ChannelKind::Woocommerce, json!({"product_id": 12})), "woocommerce:product:12");
        assert_eq!(
            ok(ChannelKind::Woocommerce, json!({"product_id": 12, "variation_id": 34})),
            "woocommerce:product:12:variation:34"
        );
        assert_eq!(identity::woocommerce(12, Some(0)), "woocommerce:product:12");
        assert_eq!(
            ok(
                ChannelKind::Amazon,
                json!({"seller_id": "A2EUQ1WTGCTBG2", "seller_sku": "TEE 1", "marketplace_ids": ["ATVPDKIKX0DER"]})
            ),
            "amazon:A2EUQ1WTGCTBG2:TEE 1"
        );
        assert_eq!(ok(ChannelKind::Ebay, json!({"sku": "E-1", "offer_id": "5005317010"})), "ebay:sku:E-1");
        assert_eq!(
            ok(ChannelKind::Wholesale, json!({"partner_id": "acme", "item_code": "X9"})),
            "wholesale:acme|item:X9"
        );
        assert_eq!(ok(ChannelKind::Wholesale, json!({"partner_id": "acme"})), "wholesale:acme|sku:S-1");

        let bad = |kind, e: Value| fields(&listing(kind, &ch, &s, &body(json!({"external": e}))).expect_err("invalid"));
        assert_eq!(
            bad(ChannelKind::Woocommerce, json!({"product_id": 0, "variation_id": "3"})),
            ["external.product_id", "external.variation_id"]
        );
        assert_eq!(
            bad(ChannelKind::Amazon, json!({"seller_id": "a-b", "marketplace_ids": []})),
            ["external.seller_id", "external.seller_sku", "external.marketplace_ids"]
        );
        assert_eq!(
            bad(
                ChannelKind::Amazon,
                json!({"seller_id": "A", "seller_sku": "x", "marketplace_ids": ["ok1", "OK", "OK"]})
            ),
            ["external.marketplace_ids[0]", "external.marketplace_ids[2]"]
        );
        assert_eq!(bad(ChannelKind::Ebay, json!({"offer_id": "a b"})), ["external.sku", "external.offer_id"]);
        assert_eq!(
            bad(ChannelKind::Wholesale, json!({"partner_id": "a b", "item_code": ""})),
            ["external.partner_id", "external.item_code"]
        );
        assert_eq!(fields(&listing(ChannelKind::Ebay, &ch, &s, b"{}").expect_err("missing")), ["external"]);
    }

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
    fn listing_rules() {
        let ch = token("c");
        let e = json!({"sku": "E-1"});
        let l = listing(
            ChannelKind::Ebay,
            &ch,
            &sku("A"),
            &body(
                json!({"external": e, "rule": {"buffer": 2, "percent": 50, "max_listed": 10, "zero_at_or_below": 3}}),
            ),
        )
        .expect("rule");
        assert_eq!(l.rule.listed(4), 1);
        assert_eq!(l.to_json(T)["rule"], json!({"buffer": 2, "percent": 50, "max_listed": 10, "zero_at_or_below": 3}));
        let p = listing(ChannelKind::Ebay, &ch, &sku("A"), &body(json!({"external": e, "rule": {"buffer": -1, "percent": 101, "max_listed": "x", "zero_at_or_below": 2_000_000, "floor": 1}}))).expect_err("bad rule");
        assert_eq!(
            fields(&p),
            ["rule.floor", "rule.buffer", "rule.percent", "rule.max_listed", "rule.zero_at_or_below"]
        );
        assert_eq!(
            fields(
                &listing(ChannelKind::Ebay, &ch, &sku("A"), &body(json!({"external": 1, "rule": 1})))
                    .expect_err("shapes")
            ),
            ["external", "rule"]
        );
    }

    #[test]
    fn identity_conflicts_name_the_other_sku() {
        let p = identity_taken(&token("shop"), "shopify:inventory_item:1", Some("B"));
        assert_eq!(p.kind, Kind::ValidationFailed);
        assert_eq!(fields(&p), ["external"]);
        assert_eq!(p.extra["conflicting_sku"], "B");
        assert_eq!(not_found(Entity::Channel, "x").to_json()["status"], 404);
    }

    #[test]
    fn key_faults_merge_with_body_faults() {
        let key = Problem::invalid(vec![FieldError::new("Idempotency-Key", "too long")]);
        let body: Result<(), Problem> = Err(Problem::invalid(vec![FieldError::new("name", "is required")]));
        assert_eq!(fields(&with_key_fault(Some(&key), body).expect_err("both")), ["Idempotency-Key", "name"]);
        assert_eq!(fields(&with_key_fault(Some(&key), Ok(())).expect_err("key")), ["Idempotency-Key"]);
        assert_eq!(with_key_fault(None, Ok(1)), Ok(1));
        let json = Err::<(), _>(Problem::new(Kind::InvalidJson, "x"));
        assert_eq!(with_key_fault(Some(&key), json).expect_err("json").kind, Kind::InvalidJson);
    }

    #[test]
    fn pages() {
        let q = page_query(&[("after".into(), "B".into()), ("limit".into(), "2".into())]).expect("query");
        assert_eq!(q, PageQuery { after: "B".into(), limit: 2 });
        assert_eq!(page_query(&[]).expect("defaults").limit, DEFAULT_PAGE);
        let p = page_query(&[("limit".into(), "0".into()), ("after".into(), "x".repeat(129))]).expect_err("bad");
        assert_eq!(fields(&p), ["limit", "after"]);
        let (rows, next) = page_of(vec!["C", "D", "E"], 2, |s| s.to_string());
        assert_eq!((rows, next), (vec!["C", "D"], Some("D".into())));
        assert_eq!(page_of(vec!["C"], 2, |s| s.to_string()).1, None);
        assert_eq!(list_json(vec![], None), json!({"items": []}));
    }
}
