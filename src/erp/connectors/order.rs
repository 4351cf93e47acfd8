//! The order document StockEdge sends an ERP, before any vendor's shape: its external reference
//! (StockEdge's order key, so that a retry finds the document instead of creating a second one)
//! and its lines in the ERP's codes (mapped back through the connection's mappings).

use serde::{Deserialize, Serialize};

use crate::stock::OrderKey;

/// An ERP document's external reference for an order: `channel/order_id`.
pub fn external_ref(key: &OrderKey) -> String {
    format!("{}/{}", key.channel, key.order_id)
}

/// One line of an order in the ERP's codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrderLine {
    pub item: String,
    pub warehouse: String,
    pub quantity: i64,
}

/// A sale to create in the ERP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrder {
    /// [`external_ref`] of the order.
    pub reference: String,
    /// The date the order is due, `YYYY-MM-DD` (SAP B1 `DocDueDate`).
    pub due: String,
    pub lines: Vec<ErpOrderLine>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::Token;

    #[test]
    fn reference_names_channel_and_order() {
        let key = OrderKey { channel: Token::parse("web").expect("t"), order_id: Token::parse("1001").expect("t") };
        assert_eq!(external_ref(&key), "web/1001");
    }
}
