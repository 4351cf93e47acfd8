//! Shopify product CSV → stock rows.
//!
//! Source: help.shopify.com/en/manual/products/import-export/using-csv. Rows sharing a handle are
//! the variants of one product; rows that only add an image (`Image Src`, no variant) carry no
//! SKU. The quantity column (`Variant Inventory Qty`, newer exports `Inventory quantity`) "is
//! used only for stores that have a single location", so every row maps to the `main`
//! location. It is the variant's sellable count (the Admin API's `inventoryQuantity`), so the
//! file's [`Basis`](super::Basis) is `Available`. `Variant Inventory Tracker` is `shopify` (or a
//! fulfilment service's handle) when the quantity is tracked and empty when it is not.
//!
//! | cells | outcome |
//! |---|---|
//! | no SKU, no variant data (only handle / image cells) | skipped: image-only row |
//! | no SKU, variant data | skipped: variant without SKU |
//! | tracker column present and empty | skipped: not tracked (or `Stock { tracked: false }`) |
//! | tracked, quantity empty | skipped: no quantity |
//! | SKU invalid, quantity not a whole number / out of range, unknown policy | error |
//! | otherwise | stock, `backorder` from `Variant Inventory Policy` (`deny` → Deny, `continue` → Allow) |

use crate::stock::Location;

use super::error::ImportError;
use super::format::Format;
use super::header::Header;
use super::policy::BackorderPolicy;
use super::quantity::parse_quantity;
use super::row::{Context, Row, RowOutcome};

/// Where the columns this reader uses are.
#[derive(Clone, Debug)]
pub struct Columns {
    handle: Option<usize>,
    sku: Option<usize>,
    quantity: Option<usize>,
    tracker: Option<usize>,
    policy: Option<usize>,
    /// Cells that only a variant row fills (to tell an image-only row from a variant without SKU).
    variant_cells: Vec<usize>,
    image: Option<usize>,
}

impl Columns {
    pub fn resolve(header: &Header) -> Result<Columns, ImportError> {
        let sku = header.find_any(&["variant sku", "sku"])?;
        let quantity = header.find_any(&["variant inventory qty", "inventory quantity"])?;
        let mut missing = Vec::new();
        if sku.is_none() {
            missing.push("Variant SKU");
        }
        if quantity.is_none() {
            missing.push("Variant Inventory Qty");
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns { format: Format::ShopifyProduct, missing });
        }
        let mut variant_cells = Vec::new();
        for key in [
            "option1 value",
            "variant price",
            "price",
            "variant grams",
            "variant barcode",
            "variant inventory policy",
            "continue selling when out of stock",
        ] {
            if let Some(i) = header.find(key)? {
                variant_cells.push(i);
            }
        }
        variant_cells.extend(quantity);
        Ok(Columns {
            handle: header.find_any(&["handle", "url handle"])?,
            sku,
            quantity,
            tracker: header.find_any(&["variant inventory tracker", "inventory tracker"])?,
            policy: header.find_any(&["variant inventory policy", "continue selling when out of stock"])?,
            variant_cells,
            image: header.find("image src")?,
        })
    }

    pub fn quantity_column(&self, header: &Header) -> String {
        self.quantity.map(|i| header.name(i).to_owned()).unwrap_or_default()
    }

    pub fn read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> RowOutcome {
        self.try_read(row, ctx).unwrap_or_else(|e| e)
    }

    fn try_read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> Result<RowOutcome, RowOutcome> {
        let handle = row.text(self.handle)?;
        let sku_text = row.text(self.sku)?;
        if sku_text.is_empty() {
            let mut has_variant_data = false;
            for &i in &self.variant_cells {
                if !row.text(Some(i))?.is_empty() {
                    has_variant_data = true;
                }
            }
            let image = !row.text(self.image)?.is_empty();
            let reason = match (has_variant_data, image) {
                (false, true) => format!("image-only row of product {handle:?}: no variant, no SKU"),
                (false, false) => format!("row of product {handle:?} with no variant and no SKU"),
                (true, _) => format!("variant of product {handle:?} has no SKU; StockEdge identifies stock by SKU"),
            };
            return Ok(row.skipped(reason));
        }
        let sku = row.sku(self.sku, sku_text)?;
        let tracked = match self.tracker {
            Some(_) => !row.text(self.tracker)?.is_empty(),
            None => true,
        };
        let backorder = BackorderPolicy::from_shopify(row.text(self.policy)?).map_err(|m| row.error(self.policy, m))?;
        let location = Location::main();
        if !tracked {
            if ctx.keep_untracked {
                return Ok(RowOutcome::Stock { line: row.line, sku, location, quantity: None, backorder, tracked });
            }
            return Ok(row.skipped(format!(
                "{sku}: inventory not tracked (the {} cell is empty)",
                row.header.name(self.tracker.unwrap_or_default())
            )));
        }
        let qty_text = row.text(self.quantity)?;
        if qty_text.is_empty() {
            return Ok(row.skipped(format!("{sku}: no quantity given")));
        }
        let quantity = parse_quantity(qty_text, ctx.mode).map_err(|m| row.error(self.quantity, m))?;
        Ok(RowOutcome::Stock { line: row.line, sku, location, quantity: Some(quantity), backorder, tracked })
    }
}
