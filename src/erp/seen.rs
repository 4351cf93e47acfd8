//! Which of StockEdge's order documents the ERP had received when it took a snapshot.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::document::{Document, Pending};
use crate::stock::{OrderKey, Token};
use crate::time::Millis;

/// What the ERP had of StockEdge's orders at the snapshot's as-of point. A document is seen when
/// it was recorded at or before `through`, or when `orders` lists it. An order's documents reach
/// the ERP in the order StockEdge recorded them (an ERP cannot cancel or ship an order it does not
/// have), so what it has of an order is a prefix of that order's documents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Every document StockEdge recorded at or before this time (StockEdge's clock) had reached
    /// the ERP: the watermark of a delivery that confirms documents in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<Millis>,
    /// The StockEdge orders the ERP had, each with what it had of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<SeenOrder>,
}

/// One StockEdge order as the ERP had it (its external id is the order key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenOrder {
    pub channel: Token,
    pub order_id: Token,
    /// The order's line ids the ERP had; absent: every line StockEdge recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Token>>,
    /// Whether the ERP had the order's cancellation.
    #[serde(default)]
    pub cancelled: bool,
    /// The shipment ids of the order the ERP had.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Token>,
}

impl SeenOrder {
    pub fn key(&self) -> OrderKey {
        OrderKey { channel: self.channel.clone(), order_id: self.order_id.clone() }
    }

    fn has(&self, d: &Document) -> bool {
        match d {
            Document::Sale { lines, .. } => match &self.lines {
                None => true,
                Some(have) => lines.iter().all(|l| have.contains(l)),
            },
            Document::Cancel { .. } => self.cancelled,
            Document::Fulfil { shipment, .. } => self.shipments.contains(shipment),
        }
    }
}

/// [`Seen`] indexed by order, to test many pending documents against it.
pub struct SeenIndex<'a> {
    through: Option<Millis>,
    orders: BTreeMap<OrderKey, &'a SeenOrder>,
}

impl Seen {
    pub fn index(&self) -> SeenIndex<'_> {
        SeenIndex { through: self.through, orders: self.orders.iter().map(|o| (o.key(), o)).collect() }
    }
}

impl SeenIndex<'_> {
    /// Whether the ERP had `p`'s document.
    pub fn covers(&self, p: &Pending) -> bool {
        self.through.is_some_and(|t| p.at <= t)
            || self.orders.get(p.document.order()).is_some_and(|o| o.has(&p.document))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }
    fn key(id: &str) -> OrderKey {
        OrderKey { channel: tok("web"), order_id: tok(id) }
    }
    fn pending(document: Document, at: i64) -> Pending {
        Pending { document, at: Millis(at), on_hand: 0, committed: 1, received: None }
    }

    #[test]
    fn watermark_and_listed_documents_are_seen() {
        let seen = Seen {
            through: Some(Millis(10)),
            orders: vec![SeenOrder {
                channel: tok("web"),
                order_id: tok("2"),
                lines: Some(vec![tok("a")]),
                cancelled: false,
                shipments: vec![tok("s1")],
            }],
        };
        let ix = seen.index();
        assert!(ix.covers(&pending(Document::Cancel { order: key("1") }, 10)));
        assert!(!ix.covers(&pending(Document::Cancel { order: key("1") }, 11)));
        assert!(ix.covers(&pending(Document::Sale { order: key("2"), lines: vec![tok("a")] }, 20)));
        assert!(!ix.covers(&pending(Document::Sale { order: key("2"), lines: vec![tok("a"), tok("b")] }, 20)));
        assert!(ix.covers(&pending(Document::Fulfil { order: key("2"), shipment: tok("s1") }, 20)));
        assert!(!ix.covers(&pending(Document::Fulfil { order: key("2"), shipment: tok("s2") }, 20)));
        assert!(!ix.covers(&pending(Document::Cancel { order: key("2") }, 20)));
    }
}
