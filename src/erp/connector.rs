//! Each ERP's stock fields as a [`Figure`] (docs/erp.md has the table and the reasons).
//!
//! StockEdge always prefers the figure after the ERP's commitments ([`Basis::Available`]): an ERP
//! that is the master of physical stock also takes orders StockEdge never sees (wholesale, EDI,
//! counter sales), and only its committed figure subtracts those. The StockEdge orders among its
//! commitments are added back by [`decide`](super::decide) from what the snapshot says the ERP had
//! received, so they are subtracted once, by StockEdge.

use super::basis::{Basis, Figure};

/// SAP Business One Service Layer, an `ItemWarehouseInfoCollection` row: `InStock` (on the
/// shelf), `Committed` (on open sales orders, StockEdge's included once received) and `Ordered`
/// (on open purchase orders: not on the shelf, so never counted).
pub fn sap_b1(in_stock: i64, committed: i64) -> Figure {
    Figure { basis: Basis::Available, quantity: in_stock.saturating_sub(committed) }
}

/// NetSuite SuiteQL `inventorybalance`: `quantityavailable` (on hand less committed) when the
/// row has it, else `quantityonhand` as on hand.
pub fn netsuite(quantity_on_hand: i64, quantity_available: Option<i64>) -> Figure {
    match quantity_available {
        Some(q) => Figure { basis: Basis::Available, quantity: q },
        None => Figure { basis: Basis::OnHand, quantity: quantity_on_hand },
    }
}

/// Odoo `stock.quant`: `quantity` (on hand) less `reserved_quantity` (reserved for delivery
/// orders, which a confirmed `sale.order` creates — StockEdge's once received).
pub fn odoo(quantity: i64, reserved_quantity: i64) -> Figure {
    Figure { basis: Basis::Available, quantity: quantity.saturating_sub(reserved_quantity) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_report_after_commitments() {
        assert_eq!(sap_b1(10, 3), Figure { basis: Basis::Available, quantity: 7 });
        assert_eq!(odoo(10, 4), Figure { basis: Basis::Available, quantity: 6 });
        assert_eq!(netsuite(10, Some(8)), Figure { basis: Basis::Available, quantity: 8 });
        assert_eq!(netsuite(10, None), Figure { basis: Basis::OnHand, quantity: 10 });
    }
}
