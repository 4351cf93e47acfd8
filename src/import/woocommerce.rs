//! WooCommerce product CSV → stock rows.
//!
//! Sources: github.com/woocommerce/woocommerce/wiki/Product-CSV-Import-Schema and the importer
//! itself (`includes/import/class-wc-product-csv-importer.php`, `expand_data`):
//! - `Type` is a comma-separated list such as `simple`, `variable`, `variation`, `grouped`,
//!   `external` or `simple, downloadable, virtual`; `downloadable` and `virtual` are flags, the
//!   first other entry is the type, and none means `simple`.
//! - `Stock` empty means stock is not managed (`manage_stock = false`) — skipped with the reason
//!   `stock not managed`, never read as zero. A variation's `Stock` of `parent` means the parent
//!   product manages it.
//! - `Backorders allowed?` is `0`, `1` or `notify`.
//! - Variations name their parent in `Parent` (the parent's SKU, or `id:N`).
//! - Cells starting with `-` are written as `'-…` by the exporter; the `'` is removed.
//!
//! WooCommerce has no locations: every row maps to `main`. `Stock` is what the shop can still
//! sell, so the file's [`Basis`](super::Basis) is `Available`.
//!
//! | type / cells | outcome |
//! |---|---|
//! | `variable…` (incl. `variable-subscription`) | skipped: stock lives on the variations |
//! | `grouped`, `external` | skipped: such products hold no stock |
//! | no SKU | skipped |
//! | `Stock` empty | skipped, reason `stock not managed` (or `Stock { tracked: false }`) |
//! | `Stock` = `parent` | skipped: managed by the parent |
//! | otherwise (simple, variation, and other plugin types) | stock |

use crate::stock::Location;

use super::error::ImportError;
use super::format::Format;
use super::header::Header;
use super::policy::BackorderPolicy;
use super::quantity::{parse_quantity, unescape_formula_guard};
use super::row::{Context, Row, RowOutcome};

/// The skip reason for an empty `Stock` cell.
pub const STOCK_NOT_MANAGED: &str = "stock not managed";

/// Where the columns this reader uses are.
#[derive(Clone, Debug)]
pub struct Columns {
    id: Option<usize>,
    kind: Option<usize>,
    sku: Option<usize>,
    name: Option<usize>,
    stock: Option<usize>,
    backorders: Option<usize>,
    parent: Option<usize>,
}

/// The product type from a `Type` cell.
fn product_type(cell: &str) -> String {
    cell.split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .find(|t| !t.is_empty() && t != "downloadable" && t != "virtual")
        .unwrap_or_else(|| String::from("simple"))
}

impl Columns {
    pub fn resolve(header: &Header) -> Result<Columns, ImportError> {
        let sku = header.find("sku")?;
        let stock = header.find("stock")?;
        let mut missing = Vec::new();
        if sku.is_none() {
            missing.push("SKU");
        }
        if stock.is_none() {
            missing.push("Stock");
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns { format: Format::WooCommerce, missing });
        }
        Ok(Columns {
            id: header.find("id")?,
            kind: header.find("type")?,
            sku,
            name: header.find("name")?,
            stock,
            backorders: header.find("backorders allowed?")?,
            parent: header.find("parent")?,
        })
    }

    pub fn quantity_column(&self, header: &Header) -> String {
        self.stock.map(|i| header.name(i).to_owned()).unwrap_or_default()
    }

    pub fn read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> RowOutcome {
        self.try_read(row, ctx).unwrap_or_else(|e| e)
    }

    fn try_read(&self, row: &Row<'_>, ctx: &mut Context<'_>) -> Result<RowOutcome, RowOutcome> {
        let kind = product_type(row.text(self.kind)?);
        let sku_text = unescape_formula_guard(row.text(self.sku)?);
        let label = self.label(row, sku_text)?;
        if kind.starts_with("variable") {
            return Ok(row.skipped(format!("{label} is a variable product: its stock is read from its variations")));
        }
        if kind == "grouped" || kind == "external" {
            return Ok(row.skipped(format!("{label} is a {kind} product, which holds no stock")));
        }
        if sku_text.is_empty() {
            return Ok(row.skipped(format!("{label} has no SKU; StockEdge identifies stock by SKU")));
        }
        let sku = row.sku(self.sku, sku_text)?;
        let backorder =
            BackorderPolicy::from_woocommerce(row.text(self.backorders)?).map_err(|m| row.error(self.backorders, m))?;
        let location = Location::main();
        let stock = row.text(self.stock)?;
        if stock.is_empty() {
            if ctx.keep_untracked {
                return Ok(RowOutcome::Stock {
                    line: row.line,
                    sku,
                    location,
                    quantity: None,
                    backorder,
                    tracked: false,
                });
            }
            return Ok(row.skipped(STOCK_NOT_MANAGED));
        }
        if stock.eq_ignore_ascii_case("parent") {
            let parent = row.text(self.parent)?;
            return Ok(row.skipped(format!("{sku}: stock managed by the parent product {parent:?}")));
        }
        let quantity = parse_quantity(stock, ctx.mode).map_err(|m| row.error(self.stock, m))?;
        Ok(RowOutcome::Stock { line: row.line, sku, location, quantity: Some(quantity), backorder, tracked: true })
    }

    /// How a row is named in reasons: SKU, else name and ID.
    fn label(&self, row: &Row<'_>, sku: &str) -> Result<String, RowOutcome> {
        if !sku.is_empty() {
            return Ok(format!("product {sku}"));
        }
        let name = row.text(self.name)?;
        let id = row.text(self.id)?;
        let parent = row.text(self.parent)?;
        let mut s = format!("product {name:?}");
        if !id.is_empty() {
            s.push_str(&format!(" (ID {id})"));
        }
        if !parent.is_empty() {
            s.push_str(&format!(", a variation of {parent:?},"));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(product_type("simple"), "simple");
        assert_eq!(product_type("simple, downloadable, virtual"), "simple");
        assert_eq!(product_type("downloadable, virtual"), "simple");
        assert_eq!(product_type(""), "simple");
        assert_eq!(product_type("Variation"), "variation");
        assert_eq!(product_type("variable"), "variable");
    }
}
