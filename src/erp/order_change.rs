//! The order changes a SKU's committed change announces (`sync::StockChanged::orders`), read from
//! the journal entries the change wrote: what the ERP order delivery (`erp::delivery`) works from.

use serde::{Deserialize, Serialize};

use crate::stock::{Entry, Location, Op, OrderKey, Token};
use crate::time::Millis;

/// What happened to an order at one location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Units sold: a marketplace sale or a committed checkout (hold).
    Sale,
    /// The order's open units were cancelled (0 units: a cancellation that arrived first).
    Cancel,
    /// Units shipped.
    Fulfil,
}

/// One order's change of this SKU at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderChange {
    pub channel: Token,
    pub order_id: Token,
    pub kind: ChangeKind,
    pub location: Location,
    /// Units sold, cancelled or shipped (at least 0).
    pub qty: i64,
    /// When StockEdge recorded it: the time of the order's ERP documents (`erp::Pending::at`).
    pub at: Millis,
}

impl OrderChange {
    pub fn order(&self) -> OrderKey {
        OrderKey { channel: self.channel.clone(), order_id: self.order_id.clone() }
    }
}

/// The order changes of `entries` (one change's journal entries), in journal order. An entry
/// that names no order (holds, adjustments, snapshots) is none.
pub fn order_changes(entries: &[Entry]) -> Vec<OrderChange> {
    entries
        .iter()
        .filter_map(|e| {
            let (kind, qty) = match e.op {
                Op::Sale | Op::Commit => (ChangeKind::Sale, e.deltas.committed),
                Op::Cancel => (ChangeKind::Cancel, -e.deltas.committed),
                Op::Fulfil => (ChangeKind::Fulfil, -e.deltas.on_hand),
                _ => return None,
            };
            let channel = Token::parse(e.cause.channel.as_deref()?).ok()?;
            let order_id = Token::parse(e.cause.order_id.as_deref()?).ok()?;
            Some(OrderChange { channel, order_id, kind, location: e.location.clone(), qty: qty.max(0), at: e.at })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Cause, Command, HoldId, Ledger, SaleLine};

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }

    #[test]
    fn sales_commits_cancellations_and_fulfilments_are_order_changes() {
        let mut l = Ledger::new();
        let main = Location::main();
        l.apply(
            Command::Set { location: main.clone(), on_hand: 10, expected_version: None, cause: Cause::default() },
            Millis(1),
        )
        .expect("set");
        let set = l.take_changes();
        assert!(order_changes(&set.entries).is_empty(), "a set names no order");
        let order = OrderKey { channel: tok("amazon"), order_id: tok("A-1") };
        let sale = Command::Sale {
            order: order.clone(),
            lines: vec![SaleLine { line_id: tok("l1"), location: main.clone(), qty: 2 }],
        };
        l.apply(sale, Millis(2)).expect("sale");
        let c = order_changes(&l.take_changes().entries);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].kind, c[0].qty, c[0].at, c[0].order()), (ChangeKind::Sale, 2, Millis(2), order.clone()));
        let ship = Command::Fulfil { order: order.clone(), location: main.clone(), qty: 1, shipment: tok("s1") };
        l.apply(ship, Millis(3)).expect("fulfil");
        assert_eq!(order_changes(&l.take_changes().entries)[0].kind, ChangeKind::Fulfil);
        l.apply(Command::Cancel { order: order.clone(), reason: None }, Millis(4)).expect("cancel");
        let c = order_changes(&l.take_changes().entries);
        assert_eq!((c[0].kind, c[0].qty), (ChangeKind::Cancel, 1), "the open unit");
        // A checkout: the hold's commit is the sale.
        let hold = HoldId::parse("h1").expect("id");
        let reserve = Command::Reserve {
            hold: hold.clone(),
            lines: vec![(main.clone(), 3)],
            expires_at: Millis(1_000),
            channel: None,
            reference: None,
        };
        l.apply(reserve, Millis(5)).expect("hold");
        assert!(order_changes(&l.take_changes().entries).is_empty(), "a hold is no order change");
        let web = OrderKey { channel: tok("web"), order_id: tok("1001") };
        l.apply(Command::Commit { hold, order: web.clone() }, Millis(6)).expect("commit");
        let c = order_changes(&l.take_changes().entries);
        assert_eq!((c[0].kind, c[0].qty, c[0].order()), (ChangeKind::Sale, 3, web));
    }
}
