//! The catalogue's records and their rules: products (with bundle components), locations,
//! channel connections and listings (a SKU's identity on a channel, and the rule for what the
//! channel shows). Pure and free of HTTP: `api::catalog_bodies` reads request bodies into these
//! records (naming every faulty field), `edge::store` reads and writes them in D1.
//!
//! The rules that need more than one body — bundles do not nest, a channel's kind stays while
//! it has listings — answer [`FieldFault`]s, which `api` reports as `422 validation-failed`.

use serde_json::{json, Map, Value};

use super::bundle::{Bundle, Component};
use super::rules::ListingRule;
use crate::channels::identity::{FieldValue, Members};
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

pub use crate::channels::ChannelKind;

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

/// A SKU's identity on a channel: the members its platform declares
/// ([`crate::channels::Platform::identity`]), read, stored and written as JSON generically.
/// Platforms that need them keep typed views in their own modules (`sync::shopify::ShopifyIdentity`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    kind: ChannelKind,
    /// Present members, in declaration order.
    members: Members,
}

impl External {
    /// An identity of `kind` with these members (for a platform's own typed identities): members
    /// the platform does not declare are dropped, the rest kept in declaration order.
    pub fn new(kind: ChannelKind, members: impl IntoIterator<Item = (&'static str, FieldValue)>) -> External {
        let mut given: Vec<_> = members.into_iter().collect();
        let members = kind
            .platform()
            .identity
            .fields
            .iter()
            .filter_map(|f| given.iter().position(|(n, _)| *n == f.name).map(|i| (f.name, given.swap_remove(i).1)))
            .collect();
        External { kind, members }
    }

    /// Reads a listing body's `external` object for a channel of `kind`: every fault names its
    /// member, relative to `external` (`inventory_item_id`, `marketplace_ids[2]`).
    pub fn read(kind: ChannelKind, obj: &Map<String, Value>) -> Result<External, Vec<FieldFault>> {
        let members = crate::channels::identity::read(kind.as_str(), &kind.platform().identity, obj)?;
        Ok(External { kind, members })
    }

    /// Reads a stored identity (written from [`External::to_json`]); `None` when it is not the
    /// shape of a `kind` identity.
    pub fn from_stored(kind: ChannelKind, v: &Value) -> Option<External> {
        let members = crate::channels::identity::stored(&kind.platform().identity, v)?;
        Some(External { kind, members })
    }

    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// A member's value, if present.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.members.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// An integer member.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(FieldValue::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A text member.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(FieldValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A list member.
    pub fn list(&self, name: &str) -> Option<&[String]> {
        match self.get(name) {
            Some(FieldValue::List(l)) => Some(l),
            _ => None,
        }
    }

    /// The mapping key of this identity (its platform's [`crate::channels::identity::KeyFn`]);
    /// `sku` is the listed SKU.
    pub fn identity(&self, sku: &Sku) -> String {
        (self.kind.platform().identity.key)(self, sku)
    }

    /// The present members as a JSON object (also the stored form).
    pub fn to_json(&self) -> Value {
        crate::channels::identity::to_json(&self.members)
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
        for (kind, v) in [
            (ChannelKind::Shopify, json!({"inventory_item_id": 1, "location_id": 2})),
            (ChannelKind::Woocommerce, json!({"product_id": 3, "variation_id": 4})),
            (ChannelKind::Amazon, json!({"seller_id": "S", "seller_sku": "k", "marketplace_ids": ["M"]})),
            (ChannelKind::Ebay, json!({"sku": "e"})),
            (ChannelKind::Wholesale, json!({"partner_id": "p", "item_code": "c"})),
        ] {
            let e = External::from_stored(kind, &v).expect("stored shape");
            assert_eq!(e.kind(), kind);
            assert_eq!(e.to_json(), v, "written back as read");
            assert_eq!(External::from_stored(kind, &e.to_json()), Some(e));
        }
        let nulls = External::from_stored(ChannelKind::Ebay, &json!({"sku": "e", "offer_id": null})).expect("null");
        assert_eq!(nulls.to_json(), json!({"sku": "e"}), "an optional member stored as null is absent");
    }

    #[test]
    fn built_identities_keep_declaration_order_and_drop_undeclared_members() {
        let a = External::new(
            ChannelKind::Shopify,
            [("location_id", FieldValue::Int(2)), ("x", FieldValue::Int(9)), ("inventory_item_id", FieldValue::Int(1))],
        );
        let b = External::from_stored(ChannelKind::Shopify, &json!({"inventory_item_id": 1, "location_id": 2}));
        assert_eq!(Some(a.clone()), b);
        assert_eq!((a.int("inventory_item_id"), a.int("location_id"), a.int("x")), (Some(1), Some(2), None));
        assert_eq!(a.text("location_id"), None, "typed accessors answer only their type");
    }

    #[test]
    fn stored_identities_of_another_shape_are_refused() {
        let shopify = json!({"inventory_item_id": 1, "location_id": 2});
        assert_eq!(External::from_stored(ChannelKind::Ebay, &shopify), None, "the shape of another kind");
        let extra = json!({"inventory_item_id": 1, "location_id": 2, "x": 3});
        assert_eq!(External::from_stored(ChannelKind::Shopify, &extra), None, "an unknown member");
        assert_eq!(External::from_stored(ChannelKind::Shopify, &json!({"inventory_item_id": 1})), None);
        assert_eq!(External::from_stored(ChannelKind::Wholesale, &json!("p")), None);
        let wrong_type = json!({"seller_id": "S", "seller_sku": "k", "marketplace_ids": "M"});
        assert_eq!(External::from_stored(ChannelKind::Amazon, &wrong_type), None, "a member of another type");
        assert_eq!(External::from_stored(ChannelKind::Woocommerce, &json!({"product_id": 1.5})), None);
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
        for k in ChannelKind::all() {
            assert_eq!(ChannelKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ChannelKind::parse("etsy"), None);
        assert_eq!(ChannelKind::names(), "shopify, woocommerce, amazon, ebay, wholesale");
    }
}
