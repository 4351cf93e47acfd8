//! Shopify inventory CSV → stock rows.
//!
//! Source: help.shopify.com/en/manual/products/inventory/inventory-csv. One row per variant and
//! location; `Location` is the location's name as the merchant typed it, mapped to a StockEdge
//! location by [`location_map`](super::location_map). The docs' "All quantity types" export has
//! `Incoming`, `Unavailable`, `Committed`, `Available` and `On hand`, and only `On hand` is
//! imported ("Available inventory is calculated based on your imported On hand values"); the
//! "Only Available quantities" export has `Available` alone. Newer exports write the read-only
//! columns as `… (not editable)` and split on hand into `On hand (current)` and `On hand (new)`.
//! A quantity may also be `not stocked` ("the product is never stocked at the location").
//!
//! Quantity, per row, first non-empty of:
//! 1. `On hand (new)` — the value the merchant wants;
//! 2. `On hand (current)`, then `On hand` — what the location holds now (so a fresh export
//!    seeds StockEdge with Shopify's current levels; Shopify itself treats an empty
//!    `On hand (new)` as "leave unchanged");
//! 3. only when the file has no on-hand column at all: `Available` / `Available (not editable)`
//!    (the file's basis is then [`Basis::Available`]).
//!
//! Empty everywhere → skipped; `not stocked` → skipped. The file states no backorder policy.

use super::error::ImportError;
use super::format::{Basis, Format, INVENTORY_AVAILABLE, INVENTORY_ON_HAND};
use super::header::Header;
use super::quantity::parse_quantity;
use super::row::{Context, Row, RowOutcome};

/// Where the columns this reader uses are.
#[derive(Clone, Debug)]
pub struct Columns {
    handle: Option<usize>,
    sku: Option<usize>,
    location: Option<usize>,
    /// Quantity columns in order of preference.
    quantity: Vec<usize>,
    basis: Basis,
}

impl Columns {
    pub fn resolve(header: &Header) -> Result<Columns, ImportError> {
        let sku = header.find("sku")?;
        let location = header.find("location")?;
        let mut quantity = Vec::new();
        for key in INVENTORY_ON_HAND {
            quantity.extend(header.find(key)?);
        }
        let basis = if quantity.is_empty() {
            for key in INVENTORY_AVAILABLE {
                quantity.extend(header.find(key)?);
            }
            Basis::Available
        } else {
            Basis::OnHand
        };
        let mut missing = Vec::new();
        if sku.is_none() {
            missing.push("SKU");
        }
        if location.is_none() {
            missing.push("Location");
        }
        if quantity.is_empty() {
            missing.push("On hand (or Available)");
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns { format: Format::ShopifyInventory, missing });
        }
        Ok(Columns { handle: header.find("handle")?, sku, location, quantity, basis })
    }

    pub fn basis(&self) -> Basis {
        self.basis
    }

    pub fn quantity_column(&self, header: &Header) -> String {
        self.quantity.iter().map(|&i| header.name(i)).collect::<Vec<_>>().join(" / ")
    }

    pub fn read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> RowOutcome {
        self.try_read(row, ctx).unwrap_or_else(|e| e)
    }

    fn try_read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> Result<RowOutcome, RowOutcome> {
        let handle = row.text(self.handle)?;
        let sku_text = row.text(self.sku)?;
        if sku_text.is_empty() {
            return Ok(
                row.skipped(format!("variant of product {handle:?} has no SKU; StockEdge identifies stock by SKU"))
            );
        }
        let sku = row.sku(self.sku, sku_text)?;
        let name = row.text(self.location)?;
        if name.is_empty() {
            return Err(row.error(self.location, "location is empty"));
        }
        let location = ctx.locations.map(name, row.line).map_err(|m| row.error(self.location, m))?;
        let mut chosen = None;
        for &i in &self.quantity {
            let v = row.text(Some(i))?;
            if !v.is_empty() {
                chosen = Some((i, v));
                break;
            }
        }
        let Some((column, value)) = chosen else {
            return Ok(row.skipped(format!("{sku} at {name:?}: no quantity given")));
        };
        if value.eq_ignore_ascii_case("not stocked") {
            return Ok(row.skipped(format!("{sku}: not stocked at {name:?}")));
        }
        let quantity = parse_quantity(value, ctx.mode).map_err(|m| row.error(Some(column), m))?;
        Ok(RowOutcome::Stock {
            line: row.line,
            sku,
            location,
            quantity: Some(quantity),
            backorder: None,
            tracked: true,
        })
    }
}
