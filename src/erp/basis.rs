//! What an ERP's quantity means: units on the shelf, or units available after the ERP's own
//! commitments.

use serde::{Deserialize, Serialize};

/// The meaning of an ERP figure (docs/erp.md, "On hand or available").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Units on the ERP's shelf (SAP B1 `InStock`, NetSuite `quantityonhand`, Odoo `quantity`).
    /// The ERP's commitments are not subtracted: use it only for an ERP that takes no orders of
    /// its own, since StockEdge cannot see those.
    OnHand,
    /// Units on the shelf less every order the ERP has committed them to — its own orders and
    /// the StockEdge orders it has received (SAP B1 `InStock − Committed`, NetSuite
    /// `quantityavailable`, Odoo `quantity − reserved_quantity`).
    Available,
}

/// An ERP's quantity of one SKU at one location, with its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub basis: Basis,
    pub quantity: i64,
}
