//! What a channel file says about selling past zero, and how each platform writes it.
//!
//! - Shopify product CSV, `Variant Inventory Policy`: `deny` (customers cannot buy once out of
//!   stock) or `continue` (they can). Source: help.shopify.com/en/manual/products/import-export/using-csv
//!   and the Admin API enum `ProductVariantInventoryPolicy` (DENY / CONTINUE,
//!   shopify.dev/docs/api/admin-graphql/latest/enums/ProductVariantInventoryPolicy). Newer exports
//!   name the column `Continue selling when out of stock`; for it `true`/`yes` and `false`/`no`
//!   are read as well (the docs show no value list for it).
//! - WooCommerce product CSV, `Backorders allowed?`: `0` (no), `1` (yes) or `notify` (yes, and
//!   the customer is told). Source: the WooCommerce importer,
//!   `includes/import/class-wc-product-csv-importer.php` `parse_backorders_field` (an empty value
//!   means `no` to WooCommerce; StockEdge reads it as "not stated" and leaves the policy alone).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether a SKU may be sold beyond its stock. StockEdge's ledger keeps a numeric
/// `backorder_limit` per SKU; the edge turns `Deny` into 0 and the others into its configured
/// allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackorderPolicy {
    /// No sales past zero (Shopify `deny`, WooCommerce `0`).
    Deny,
    /// Sales past zero allowed (Shopify `continue`, WooCommerce `1`).
    Allow,
    /// Sales past zero allowed and the customer is notified (WooCommerce `notify`).
    Notify,
}

impl BackorderPolicy {
    pub fn allows_backorders(self) -> bool {
        !matches!(self, BackorderPolicy::Deny)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackorderPolicy::Deny => "deny",
            BackorderPolicy::Allow => "allow",
            BackorderPolicy::Notify => "notify",
        }
    }

    /// A Shopify `Variant Inventory Policy` (or `Continue selling when out of stock`) value.
    /// `Ok(None)` for an empty cell; `Err` names the accepted values.
    pub fn from_shopify(value: &str) -> Result<Option<BackorderPolicy>, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "deny" | "false" | "no" => Ok(Some(BackorderPolicy::Deny)),
            "continue" | "true" | "yes" => Ok(Some(BackorderPolicy::Allow)),
            _ => Err(format!("{} is not an inventory policy: expected deny or continue", super::row::quote(value))),
        }
    }

    /// The Shopify product CSV value: `deny` or `continue` (Shopify has no "notify").
    pub fn to_shopify(self) -> &'static str {
        match self {
            BackorderPolicy::Deny => "deny",
            BackorderPolicy::Allow | BackorderPolicy::Notify => "continue",
        }
    }

    /// A WooCommerce `Backorders allowed?` value. `Ok(None)` for an empty cell.
    pub fn from_woocommerce(value: &str) -> Result<Option<BackorderPolicy>, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "0" | "no" => Ok(Some(BackorderPolicy::Deny)),
            "1" | "yes" => Ok(Some(BackorderPolicy::Allow)),
            "notify" => Ok(Some(BackorderPolicy::Notify)),
            _ => Err(format!("{} is not a backorder setting: expected 0, 1 or notify", super::row::quote(value))),
        }
    }

    /// The WooCommerce CSV value, as WooCommerce's own exporter writes it: `0`, `1`, `notify`.
    pub fn to_woocommerce(self) -> &'static str {
        match self {
            BackorderPolicy::Deny => "0",
            BackorderPolicy::Allow => "1",
            BackorderPolicy::Notify => "notify",
        }
    }
}

impl fmt::Display for BackorderPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_values() {
        assert_eq!(BackorderPolicy::from_shopify("deny"), Ok(Some(BackorderPolicy::Deny)));
        assert_eq!(BackorderPolicy::from_shopify("CONTINUE"), Ok(Some(BackorderPolicy::Allow)));
        assert_eq!(BackorderPolicy::from_shopify(""), Ok(None));
        assert!(BackorderPolicy::from_shopify("maybe").is_err());
        for p in [BackorderPolicy::Deny, BackorderPolicy::Allow] {
            assert_eq!(BackorderPolicy::from_shopify(p.to_shopify()), Ok(Some(p)));
        }
    }

    #[test]
    fn woocommerce_values() {
        for p in [BackorderPolicy::Deny, BackorderPolicy::Allow, BackorderPolicy::Notify] {
            assert_eq!(BackorderPolicy::from_woocommerce(p.to_woocommerce()), Ok(Some(p)));
        }
        assert_eq!(BackorderPolicy::from_woocommerce(" "), Ok(None));
        assert!(BackorderPolicy::from_woocommerce("2").is_err());
        assert!(!BackorderPolicy::Deny.allows_backorders());
        assert!(BackorderPolicy::Notify.allows_backorders());
    }
}
