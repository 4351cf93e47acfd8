//! The file formats StockEdge reads and writes, and how one is recognised from its header.
//!
//! | `format=` | file | recognised by (all of, case-insensitive) |
//! |---|---|---|
//! | `shopify` | Shopify product CSV | `Handle`, `Variant SKU`, `Variant Inventory Qty` — or the newer names `URL handle`, `SKU`, `Inventory quantity` |
//! | `shopify-inventory` | Shopify inventory CSV | `Handle`, `SKU`, `Location`, and an on-hand (`On hand`, `On hand (new)`, `On hand (current)`) or `Available` column |
//! | `woocommerce` | WooCommerce product CSV | `SKU`, `Stock`, `In stock?`, `Backorders allowed?` (full exports also carry `ID`, `Type`, `Parent`) |
//! | `csv` | plain CSV | `sku`, `quantity` (and optionally `location`) |
//!
//! Sources: help.shopify.com/en/manual/products/import-export/using-csv (product CSV; the current
//! page calls the quantity column `Inventory quantity` and the handle `URL handle`, older exports
//! `Variant Inventory Qty` and `Handle`); help.shopify.com/en/manual/products/inventory/inventory-csv
//! (inventory CSV: "All quantity types" exports `Available`, `Unavailable`, `Committed`, `On hand`
//! and `Incoming`, and only `On hand` is imported; "Only Available quantities" exports
//! `Available`); newer inventory exports seen in the wild name the columns `Available (not
//! editable)`, `On hand (current)` and `On hand (new)`; WooCommerce
//! github.com/woocommerce/woocommerce/wiki/Product-CSV-Import-Schema and the exporter's column
//! names (`ID, Type, SKU, Name, …, In stock?, Stock, Backorders allowed?, …, Parent, …`).
//!
//! Detection tries the formats in the order of [`Format::ALL`]; the first whose signature columns
//! are all present wins.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::ImportError;
use super::header::Header;

/// A bulk stock file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// Shopify product CSV: one row per variant (plus image-only rows), one location.
    #[serde(rename = "shopify")]
    ShopifyProduct,
    /// Shopify inventory CSV: one row per variant and location.
    #[serde(rename = "shopify-inventory")]
    ShopifyInventory,
    /// WooCommerce product CSV: one row per product or variation, no locations.
    #[serde(rename = "woocommerce")]
    WooCommerce,
    /// StockEdge's own `sku,quantity[,location]`.
    #[serde(rename = "csv")]
    Plain,
}

/// Which quantity the file's numbers are.
///
/// A number of the `Available` basis is a sellable count (on hand minus held and committed).
/// StockEdge changes on-hand stock only, so the edge applies such a row as an on-hand change of
/// the same size (`delta` of [`Change`](super::plan::Change)): moving on-hand by Δ moves
/// available by Δ. For `mode=set` the `current` lookup given to [`plan`](super::plan::plan) must
/// then return the current *available* count (unclamped: on_hand − reserved − committed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Units physically at the location (Shopify inventory `On hand`, plain CSV).
    OnHand,
    /// Units that can be sold (Shopify product `Variant Inventory Qty`, Shopify inventory
    /// `Available`-only exports, WooCommerce `Stock`).
    Available,
}

/// One set of columns that identifies a format.
struct Signature {
    /// All of these (normalised keys)…
    all: &'static [&'static str],
    /// …and, when not empty, at least one of these.
    any: &'static [&'static str],
}

const SHOPIFY_PRODUCT: &[Signature] = &[
    Signature { all: &["handle", "variant sku", "variant inventory qty"], any: &[] },
    Signature { all: &["url handle", "sku", "inventory quantity"], any: &[] },
];
/// On-hand and available column names of the Shopify inventory CSV, most specific first.
pub(crate) const INVENTORY_ON_HAND: &[&str] = &["on hand (new)", "on hand (current)", "on hand"];
pub(crate) const INVENTORY_AVAILABLE: &[&str] = &["available", "available (not editable)"];
const INVENTORY_QUANTITY: &[&str] =
    &["on hand (new)", "on hand (current)", "on hand", "available", "available (not editable)"];
const SHOPIFY_INVENTORY: &[Signature] = &[Signature { all: &["handle", "sku", "location"], any: INVENTORY_QUANTITY }];
const WOOCOMMERCE: &[Signature] = &[Signature { all: &["sku", "stock", "in stock?", "backorders allowed?"], any: &[] }];
const PLAIN: &[Signature] = &[Signature { all: &["sku", "quantity"], any: &[] }];

impl Format {
    /// Every format, in detection order.
    pub const ALL: [Format; 4] = [Format::ShopifyProduct, Format::ShopifyInventory, Format::WooCommerce, Format::Plain];

    /// Parses `format=` (`shopify`, `shopify-inventory`, `woocommerce`, `csv`; case-insensitive).
    pub fn from_query(s: &str) -> Result<Format, ImportError> {
        let key = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == key)
            .ok_or_else(|| ImportError::UnknownFormat { given: s.to_owned() })
    }

    /// The `format=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ShopifyProduct => "shopify",
            Format::ShopifyInventory => "shopify-inventory",
            Format::WooCommerce => "woocommerce",
            Format::Plain => "csv",
        }
    }

    /// A human name for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::ShopifyProduct => "Shopify product CSV",
            Format::ShopifyInventory => "Shopify inventory CSV",
            Format::WooCommerce => "WooCommerce product CSV",
            Format::Plain => "plain CSV",
        }
    }

    /// The columns that identify the format, as a user would write them.
    pub fn signature_text(self) -> &'static str {
        match self {
            Format::ShopifyProduct => "Handle, Variant SKU, Variant Inventory Qty",
            Format::ShopifyInventory => "Handle, SKU, Location, and On hand or Available",
            Format::WooCommerce => {
                "SKU, Stock, In stock?, Backorders allowed?; full exports also have ID, Type, Parent"
            }
            Format::Plain => "sku, quantity[, location]",
        }
    }

    /// A file name for `GET /v1/exports?format=…` (`Content-Disposition`).
    pub fn export_file_name(self) -> &'static str {
        match self {
            Format::ShopifyProduct => "stockedge-shopify-products.csv",
            Format::ShopifyInventory => "stockedge-shopify-inventory.csv",
            Format::WooCommerce => "stockedge-woocommerce-products.csv",
            Format::Plain => "stockedge-stock.csv",
        }
    }

    fn signatures(self) -> &'static [Signature] {
        match self {
            Format::ShopifyProduct => SHOPIFY_PRODUCT,
            Format::ShopifyInventory => SHOPIFY_INVENTORY,
            Format::WooCommerce => WOOCOMMERCE,
            Format::Plain => PLAIN,
        }
    }

    /// Whether the header carries this format's signature.
    pub fn matches(self, header: &Header) -> bool {
        self.signatures()
            .iter()
            .any(|s| s.all.iter().all(|k| header.has(k)) && (s.any.is_empty() || s.any.iter().any(|k| header.has(k))))
    }

    /// Recognises the format from the header row.
    pub fn detect(header: &Header) -> Result<Format, ImportError> {
        if let Some(f) = Format::ALL.into_iter().find(|f| f.matches(header)) {
            return Ok(f);
        }
        Err(ImportError::UnknownHeader {
            found: header.names().iter().take(12).cloned().collect(),
            closest: closest(header),
            hint: hint(header),
        })
    }
}

/// The format whose signature is most nearly present (the largest share of its columns, at
/// least one), with what it lacks.
fn closest(header: &Header) -> Option<(Format, Vec<&'static str>)> {
    let mut best: Option<(usize, usize, Format, Vec<&'static str>)> = None;
    for f in Format::ALL {
        for s in f.signatures() {
            let present = s.all.iter().filter(|k| header.has(k)).count()
                + usize::from(!s.any.is_empty() && s.any.iter().any(|k| header.has(k)));
            if present == 0 {
                continue;
            }
            let mut missing: Vec<&'static str> =
                s.all.iter().filter(|k| !header.has(k)).map(|k| display_name(k)).collect();
            if !s.any.is_empty() && !s.any.iter().any(|k| header.has(k)) {
                missing.push("On hand or Available");
            }
            let total = s.all.len() + usize::from(!s.any.is_empty());
            if best.as_ref().is_none_or(|(p, t, _, _)| present * t > p * total) {
                best = Some((present, total, f, missing));
            }
        }
    }
    best.map(|(_, _, f, m)| (f, m))
}

/// A hint for the usual reasons a header is not recognised.
fn hint(header: &Header) -> Option<&'static str> {
    if header.len() == 1 {
        let only = header.name(0);
        if only.contains(';') {
            return Some("the file seems to use ';' between columns; save it as comma-separated CSV");
        }
        if only.contains('\t') {
            return Some("the file seems to use tabs between columns; save it as comma-separated CSV");
        }
    }
    None
}

/// How a normalised key is written in the platforms' own files.
pub(crate) fn display_name(key: &str) -> &'static str {
    match key {
        "handle" => "Handle",
        "url handle" => "URL handle",
        "variant sku" => "Variant SKU",
        "variant inventory qty" => "Variant Inventory Qty",
        "inventory quantity" => "Inventory quantity",
        "location" => "Location",
        "stock" => "Stock",
        "in stock?" => "In stock?",
        "backorders allowed?" => "Backorders allowed?",
        "quantity" => "quantity",
        "sku" => "SKU",
        _ => "(unnamed column)",
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(names: &[&str]) -> Result<Format, ImportError> {
        Format::detect(&Header::from_names(names.iter().copied()))
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(&["Handle", "Title", "Variant SKU", "Variant Inventory Qty"]), Ok(Format::ShopifyProduct));
        assert_eq!(detect(&["URL handle", "Title", "SKU", "Inventory quantity"]), Ok(Format::ShopifyProduct));
        assert_eq!(detect(&["Handle", "SKU", "Location", "On hand (new)"]), Ok(Format::ShopifyInventory));
        assert_eq!(detect(&["Handle", "SKU", "Location", "Available"]), Ok(Format::ShopifyInventory));
        assert_eq!(
            detect(&["ID", "Type", "SKU", "Name", "In stock?", "Stock", "Backorders allowed?", "Parent"]),
            Ok(Format::WooCommerce)
        );
        assert_eq!(detect(&["SKU", "Quantity"]), Ok(Format::Plain));
        assert_eq!(detect(&["sku", "quantity", "location"]), Ok(Format::Plain));
    }

    #[test]
    fn inventory_without_a_quantity_column_is_not_inventory() {
        let e = detect(&["Handle", "SKU", "Location"]).unwrap_err();
        match e {
            ImportError::UnknownHeader { closest: Some((Format::ShopifyInventory, missing)), .. } => {
                assert_eq!(missing, vec!["On hand or Available"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_header_says_what_is_closest() {
        match detect(&["sku", "qty"]).unwrap_err() {
            ImportError::UnknownHeader { closest: Some((Format::Plain, missing)), .. } => {
                assert_eq!(missing, vec!["quantity"]);
            }
            other => panic!("{other:?}"),
        }
        match detect(&["sku;quantity"]).unwrap_err() {
            ImportError::UnknownHeader { hint: Some(h), .. } => assert!(h.contains("';'")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_query(f.as_str()), Ok(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert!(Format::from_query("xlsx").is_err());
    }
}
