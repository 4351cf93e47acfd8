//! Writing stock out in each format (`GET /v1/exports?format=…`), so that it reads back here
//! and imports into the channel.
//!
//! Input: [`ExportRow`]s, one per SKU and location, rows of one SKU next to each other (the edge
//! reads SKU by SKU). Output, UTF-8 without BOM (every value is ASCII: SKUs and locations are),
//! CRLF line ends (RFC 4180), quotes only where needed:
//!
//! | format | header | one row per | quantity written |
//! |---|---|---|---|
//! | `csv` | `sku,quantity,location` | SKU and location (tracked only) | on hand |
//! | `shopify-inventory` | `Handle, Title, Option1 Name, Option1 Value, Option2 Name, Option2 Value, Option3 Name, Option3 Value, SKU, HS Code, COO, Location, Incoming, Unavailable, Committed, Available, On hand` | SKU and location (tracked only) | `On hand` = on hand, `Available` = available, `Committed` = on hand − available |
//! | `shopify` | `Handle, Title, Variant SKU, Variant Inventory Tracker, Variant Inventory Qty, Variant Inventory Policy` | SKU (locations summed) | available; tracker `shopify` or empty; policy `deny`/`continue` |
//! | `woocommerce` | `SKU, In stock?, Stock, Backorders allowed?` | SKU (locations summed) | available; empty `Stock` when not tracked |
//!
//! Notes on what the channels do with these files:
//! - Shopify matches products by handle. StockEdge does not know Shopify's handles, so `Handle`
//!   is derived from the SKU (lowercase, runs of characters other than `a-z 0-9` become `-`) and
//!   `Title` is the SKU: fit for seeding a store, not for overwriting one whose handles differ.
//!   The product CSV's quantity is for single-location stores (help.shopify.com, using-csv), hence
//!   the sum; the inventory CSV keeps locations, written as StockEdge location ids.
//! - WooCommerce matches by SKU when `ID` is empty. The export deliberately leaves out `ID`,
//!   `Type`, `Name` and `Parent`: on update WooCommerce's importer turns a present-but-empty (or
//!   `simple`) `Type` into `simple` — which would convert variations — and an empty `Name` blanks
//!   the product name (`expand_data` / `get_product_object` in WooCommerce's
//!   `includes/import/`). StockEdge knows neither, so it writes only the stock columns; the file
//!   is still recognised here (`SKU, Stock, In stock?, Backorders allowed?`).
//!   `In stock?` is `1` with stock or when not tracked, `backorder` at zero with backorders
//!   allowed, else `0` (WooCommerce's own values).

use std::io::Write;
use std::iter::Peekable;

use csv::{QuoteStyle, Terminator, WriterBuilder};

use crate::stock::{Location, Sku};

use super::error::ExportError;
use super::format::Format;
use super::policy::BackorderPolicy;

/// One SKU at one location, as StockEdge holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub sku: Sku,
    pub location: Location,
    pub on_hand: i64,
    /// on_hand − reserved − committed, not below zero.
    pub available: i64,
    pub backorder: BackorderPolicy,
    /// Whether StockEdge tracks the SKU's quantity (an untracked SKU is always sellable).
    pub tracked: bool,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows given.
    pub rows_in: u64,
    /// Data rows written (header not counted).
    pub rows_written: u64,
    /// Untracked rows left out (formats with no way to say "not tracked").
    pub untracked_left_out: u64,
}

/// Shopify inventory CSV header (help.shopify.com/en/manual/products/inventory/inventory-csv,
/// "All quantity types").
pub const SHOPIFY_INVENTORY_HEADER: [&str; 17] = [
    "Handle",
    "Title",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "SKU",
    "HS Code",
    "COO",
    "Location",
    "Incoming",
    "Unavailable",
    "Committed",
    "Available",
    "On hand",
];
/// Minimal Shopify product CSV header.
pub const SHOPIFY_PRODUCT_HEADER: [&str; 6] = [
    "Handle",
    "Title",
    "Variant SKU",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
];
/// WooCommerce stock-only header.
pub const WOOCOMMERCE_HEADER: [&str; 4] = ["SKU", "In stock?", "Stock", "Backorders allowed?"];
/// Plain CSV header.
pub const PLAIN_HEADER: [&str; 3] = ["sku", "quantity", "location"];

/// A Shopify handle for a SKU: lowercase, runs of other characters → `-`, no `-` at the ends.
pub fn handle_for(sku: &Sku) -> String {
    let mut out = String::with_capacity(sku.as_str().len());
    for c in sku.as_str().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let h = out.trim_matches('-');
    if h.is_empty() {
        String::from("sku")
    } else {
        h.to_owned()
    }
}

/// Writes `rows` in `format` to `out`.
pub fn write_export<W, I>(format: Format, out: W, rows: I) -> Result<ExportSummary, ExportError>
where
    W: Write,
    I: IntoIterator<Item = ExportRow>,
{
    let mut w = WriterBuilder::new().quote_style(QuoteStyle::Necessary).terminator(Terminator::CRLF).from_writer(out);
    let mut summary = ExportSummary::default();
    match format {
        Format::Plain => {
            w.write_record(PLAIN_HEADER)?;
            for r in rows {
                summary.rows_in += 1;
                if !r.tracked {
                    summary.untracked_left_out += 1;
                    continue;
                }
                w.write_record([r.sku.as_str(), &r.on_hand.to_string(), r.location.as_str()])?;
                summary.rows_written += 1;
            }
        }
        Format::ShopifyInventory => {
            w.write_record(SHOPIFY_INVENTORY_HEADER)?;
            for r in rows {
                summary.rows_in += 1;
                if !r.tracked {
                    summary.untracked_left_out += 1;
                    continue;
                }
                let held = r.on_hand.saturating_sub(r.available).max(0);
                w.write_record([
                    handle_for(&r.sku).as_str(),
                    r.sku.as_str(),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    r.sku.as_str(),
                    "",
                    "",
                    r.location.as_str(),
                    "",
                    "",
                    &held.to_string(),
                    &r.available.to_string(),
                    &r.on_hand.to_string(),
                ])?;
                summary.rows_written += 1;
            }
        }
        Format::ShopifyProduct => {
            w.write_record(SHOPIFY_PRODUCT_HEADER)?;
            let mut rows = rows.into_iter().peekable();
            while let Some(s) = next_sku(&mut rows, &mut summary) {
                let qty = if s.tracked { s.available.to_string() } else { String::new() };
                w.write_record([
                    handle_for(&s.sku).as_str(),
                    s.sku.as_str(),
                    s.sku.as_str(),
                    if s.tracked { "shopify" } else { "" },
                    &qty,
                    s.backorder.to_shopify(),
                ])?;
                summary.rows_written += 1;
            }
        }
        Format::WooCommerce => {
            w.write_record(WOOCOMMERCE_HEADER)?;
            let mut rows = rows.into_iter().peekable();
            while let Some(s) = next_sku(&mut rows, &mut summary) {
                let (in_stock, stock) = if !s.tracked {
                    ("1", String::new())
                } else if s.available > 0 {
                    ("1", s.available.to_string())
                } else if s.backorder.allows_backorders() {
                    ("backorder", s.available.to_string())
                } else {
                    ("0", s.available.to_string())
                };
                w.write_record([s.sku.as_str(), in_stock, &stock, s.backorder.to_woocommerce()])?;
                summary.rows_written += 1;
            }
        }
    }
    w.flush()?;
    Ok(summary)
}

/// One SKU's rows folded together (adjacent rows with the same SKU).
struct SkuTotal {
    sku: Sku,
    available: i64,
    backorder: BackorderPolicy,
    tracked: bool,
}

fn next_sku<I: Iterator<Item = ExportRow>>(rows: &mut Peekable<I>, summary: &mut ExportSummary) -> Option<SkuTotal> {
    let first = rows.next()?;
    summary.rows_in += 1;
    let mut total = SkuTotal {
        available: if first.tracked { first.available } else { 0 },
        backorder: first.backorder,
        tracked: first.tracked,
        sku: first.sku,
    };
    while let Some(r) = rows.next_if(|r| r.sku == total.sku) {
        summary.rows_in += 1;
        if r.tracked {
            total.available = total.available.saturating_add(r.available);
            total.tracked = true;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        let h = |s: &str| handle_for(&Sku::parse(s).unwrap());
        assert_eq!(h("TSHIRT-RED/M_1.0"), "tshirt-red-m-1-0");
        assert_eq!(h("--"), "sku");
        assert_eq!(h("abc"), "abc");
    }

    #[test]
    fn plain_export_is_exact() {
        let rows = vec![
            ExportRow {
                sku: Sku::parse("A-1").unwrap(),
                location: Location::main(),
                on_hand: 5,
                available: 3,
                backorder: BackorderPolicy::Deny,
                tracked: true,
            },
            ExportRow {
                sku: Sku::parse("B").unwrap(),
                location: Location::main(),
                on_hand: 0,
                available: 0,
                backorder: BackorderPolicy::Allow,
                tracked: false,
            },
        ];
        let mut out = Vec::new();
        let s = write_export(Format::Plain, &mut out, rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "sku,quantity,location\r\nA-1,5,main\r\n");
        assert_eq!(s, ExportSummary { rows_in: 2, rows_written: 1, untracked_left_out: 1 });
    }
}
