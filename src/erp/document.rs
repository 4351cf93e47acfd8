//! StockEdge's order documents as the ERP receives them (its external id is StockEdge's order
//! key), and the changes they carry that the ERP has not yet seen.

use serde::{Deserialize, Serialize};

use crate::stock::{OrderKey, Token};
use crate::time::Millis;

/// One order document: what the ERP is told, per order, in the order StockEdge recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "doc", rename_all = "snake_case")]
pub enum Document {
    /// Units sold on these order lines (a sale from a channel, a committed checkout).
    Sale { order: OrderKey, lines: Vec<Token> },
    /// The order's open units were cancelled.
    Cancel { order: OrderKey },
    /// Units of the order shipped under this shipment id.
    Fulfil { order: OrderKey, shipment: Token },
}

impl Document {
    pub fn order(&self) -> &OrderKey {
        match self {
            Document::Sale { order, .. } | Document::Cancel { order } | Document::Fulfil { order, .. } => order,
        }
    }
}

/// A change at one location that the ERP learns through `document` and had not seen when the
/// last snapshot applied there was taken: its effect on StockEdge's on hand and committed units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub document: Document,
    /// When StockEdge recorded it (its clock).
    pub at: Millis,
    pub on_hand: i64,
    pub committed: i64,
    /// When the ERP confirmed it had the document (StockEdge's clock at the confirmation of its
    /// delivery, `Command::ErpReceived`): a snapshot as of that time or later counts it as seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Millis>,
}
