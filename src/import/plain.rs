//! StockEdge's plain CSV → stock rows.
//!
//! Header required, names case-insensitive, any column order: `sku`, `quantity`, and optionally
//! `location`; other columns are ignored. `quantity` is on-hand stock (`mode=set`) or a signed
//! change (`mode=adjust`). An empty or missing `location` means `main`; a present one must
//! already be a valid StockEdge location (1–32 of `a-z 0-9 _ -`) — no name mapping here, this is
//! our own format. Every data row must carry a stock level: an empty SKU or quantity is an error,
//! not a skip.

use crate::stock::Location;

use super::error::ImportError;
use super::format::Format;
use super::header::Header;
use super::quantity::parse_quantity;
use super::row::{quote, Context, Row, RowOutcome};

/// Where the columns this reader uses are.
#[derive(Clone, Debug)]
pub struct Columns {
    sku: Option<usize>,
    quantity: Option<usize>,
    location: Option<usize>,
}

impl Columns {
    pub fn resolve(header: &Header) -> Result<Columns, ImportError> {
        let sku = header.find("sku")?;
        let quantity = header.find("quantity")?;
        let mut missing = Vec::new();
        if sku.is_none() {
            missing.push("sku");
        }
        if quantity.is_none() {
            missing.push("quantity");
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns { format: Format::Plain, missing });
        }
        Ok(Columns { sku, quantity, location: header.find("location")? })
    }

    pub fn quantity_column(&self, header: &Header) -> String {
        self.quantity.map(|i| header.name(i).to_owned()).unwrap_or_default()
    }

    pub fn read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> RowOutcome {
        self.try_read(row, ctx).unwrap_or_else(|e| e)
    }

    fn try_read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> Result<RowOutcome, RowOutcome> {
        stock_row(
            row,
            ctx,
            self.sku,
            self.quantity,
            |loc_text| {
                Location::parse(loc_text)
                    .map_err(|e| row.error(self.location, format!("location {}: {e}", quote(loc_text))))
            },
            self.location,
        )
    }
}

/// A row of SKU, quantity and location columns (plain files and saved mappings): an empty SKU
/// or quantity is an error; an empty (or absent) location is `main`, any other is `location`'s
/// reading of the cell.
pub(super) fn stock_row(
    row: &Row<'_>,
    ctx: &mut Context<'_>,
    sku: Option<usize>,
    quantity: Option<usize>,
    location: impl FnOnce(&str) -> Result<Location, RowOutcome>,
    location_column: Option<usize>,
) -> Result<RowOutcome, RowOutcome> {
    let sku_text = row.text(sku)?;
    if sku_text.is_empty() {
        return Err(row.error(sku, "SKU is empty"));
    }
    let sku = row.sku(sku, sku_text)?;
    let loc_text = row.text(location_column)?;
    let location = if loc_text.is_empty() { Location::main() } else { location(loc_text)? };
    let quantity = parse_quantity(row.text(quantity)?, ctx.mode).map_err(|m| row.error(quantity, m))?;
    Ok(RowOutcome::Stock { line: row.line, sku, location, quantity: Some(quantity), backorder: None, tracked: true })
}
