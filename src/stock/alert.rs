//! Oversold alerts: the decision whether one committed change of a SKU raises an alert.
//!
//! Contract (issue 6): a sale that cannot be covered is recorded and counted in `oversold`,
//! and it raises an alert. The ledger records the sale and counts it; this module decides,
//! from the SKU's [`Totals`] right before and right after one ledger call and the journal
//! entries that call wrote, whether an alert is raised and what it says:
//!
//! - an alert is raised exactly when `oversold` grew (`after.oversold > before.oversold`);
//!   a change that leaves it equal or lowers it (stock received, an order cancelled, a
//!   larger backorder allowance) raises none;
//! - `units` is how much it grew (the units newly oversold, ≥ 1), `oversold` the total after;
//! - the cause (`op`, `channel`, `order_id`) is taken from the last entry that can add to a
//!   shortfall (more committed or reserved, less on hand), else from the last entry — so
//!   expiries that run before a sale in the same call do not hide the sale;
//! - a call that wrote no journal entry raises none (it announces no change either).
//!
//! Pure: no clock, no I/O. The Durable Object computes the totals before and after in the same
//! synchronous turn and carries the alert on the outbox event (`sync::StockChanged::alert`).

use serde::{Deserialize, Serialize};

use super::journal::{Entry, Op};
use super::levels::Totals;

/// What one change that oversold a SKU says about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OversoldAlert {
    /// Units newly oversold by this change (at least 1).
    pub units: i64,
    /// The SKU's total oversold units after the change.
    pub oversold: i64,
    /// The journal op of the change that oversold (`sale` for a marketplace sale).
    pub op: Op,
    /// The channel of the order that oversold, when the change came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The order id, when the change came from an order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

/// Whether an entry can make the shortfall grow (and so be the cause of an oversold).
fn can_oversell(e: &Entry) -> bool {
    e.deltas.committed > 0 || e.deltas.reserved > 0 || e.deltas.on_hand < 0
}

/// The alert raised by a change from `before` to `after` that wrote `entries`, if any (see the
/// module's contract).
pub fn oversold_alert(before: &Totals, after: &Totals, entries: &[Entry]) -> Option<OversoldAlert> {
    let units = after.oversold.checked_sub(before.oversold)?;
    if units <= 0 {
        return None;
    }
    let cause = entries.iter().rev().find(|e| can_oversell(e)).or_else(|| entries.last())?;
    Some(OversoldAlert {
        units,
        oversold: after.oversold,
        op: cause.op,
        channel: cause.cause.channel.clone(),
        order_id: cause.cause.order_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Cause, Deltas, Location};
    use crate::time::Millis;

    fn totals(available: i64, oversold: i64) -> Totals {
        Totals { available, oversold, ..Totals::default() }
    }

    fn entry(op: Op, deltas: Deltas, channel: Option<&str>, order: Option<&str>) -> Entry {
        Entry {
            seq: 1,
            at: Millis(1_000),
            op,
            location: Location::parse("main").expect("location"),
            deltas,
            cause: Cause {
                channel: channel.map(str::to_owned),
                order_id: order.map(str::to_owned),
                ..Cause::default()
            },
            version: 1,
        }
    }

    fn sale(qty: i64) -> Entry {
        entry(Op::Sale, Deltas { committed: qty, ..Deltas::default() }, Some("amazon"), Some("113-1"))
    }

    #[test]
    fn a_sale_beyond_stock_raises_the_newly_oversold_units() {
        let a = oversold_alert(&totals(2, 0), &totals(0, 3), &[sale(5)]).expect("alert");
        assert_eq!(
            a,
            OversoldAlert {
                units: 3,
                oversold: 3,
                op: Op::Sale,
                channel: Some("amazon".into()),
                order_id: Some("113-1".into())
            }
        );
    }

    #[test]
    fn a_further_oversale_counts_only_the_new_units() {
        let a = oversold_alert(&totals(0, 3), &totals(0, 5), &[sale(2)]).expect("alert");
        assert_eq!((a.units, a.oversold), (2, 5));
    }

    #[test]
    fn no_alert_when_oversold_does_not_grow() {
        // Covered sale; received stock; cancellation; unchanged.
        assert_eq!(oversold_alert(&totals(5, 0), &totals(0, 0), &[sale(5)]), None);
        let received = entry(Op::Adjust, Deltas { on_hand: 4, ..Deltas::default() }, None, None);
        assert_eq!(oversold_alert(&totals(0, 3), &totals(1, 0), &[received]), None);
        let cancel = entry(Op::Cancel, Deltas { committed: -2, ..Deltas::default() }, Some("amazon"), Some("1"));
        assert_eq!(oversold_alert(&totals(0, 3), &totals(0, 1), &[cancel]), None);
        assert_eq!(oversold_alert(&totals(0, 3), &totals(0, 3), &[sale(1)]), None);
    }

    #[test]
    fn no_alert_without_an_entry() {
        assert_eq!(oversold_alert(&totals(0, 0), &totals(0, 3), &[]), None);
    }

    #[test]
    fn the_cause_is_the_sale_not_an_expiry_that_ran_first() {
        let expire = entry(Op::Expire, Deltas { reserved: -1, ..Deltas::default() }, None, None);
        let a = oversold_alert(&totals(1, 0), &totals(0, 1), &[sale(3), expire]).expect("alert");
        assert_eq!(a.op, Op::Sale);
        assert_eq!(a.order_id.as_deref(), Some("113-1"));
    }

    #[test]
    fn shrinkage_and_a_smaller_allowance_raise_alerts_too() {
        let damaged = entry(Op::Adjust, Deltas { on_hand: -2, ..Deltas::default() }, None, None);
        let a = oversold_alert(&totals(0, 0), &totals(0, 2), &[damaged]).expect("alert");
        assert_eq!((a.units, a.op, a.channel), (2, Op::Adjust, None));
        let policy = entry(Op::Policy, Deltas::default(), None, None);
        assert_eq!(oversold_alert(&totals(0, 0), &totals(0, 1), &[policy]).map(|a| a.op), Some(Op::Policy));
    }

    /// The sequence the SKU object runs: totals before, the call, its changes, totals after.
    #[test]
    fn with_the_ledger_an_uncovered_sale_alerts_once() {
        use crate::stock::{Command, Ledger, OrderKey, SaleLine, Token};
        let tok = |s: &str| Token::parse(s).expect("token");
        let main = Location::parse("main").expect("location");
        let mut l = Ledger::new();
        l.apply(
            Command::Set { location: main.clone(), on_hand: 2, expected_version: None, cause: Cause::default() },
            Millis(0),
        )
        .expect("set");
        l.take_changes();
        let sale = Command::Sale {
            order: OrderKey { channel: tok("amazon"), order_id: tok("113-1") },
            lines: vec![SaleLine { line_id: tok("1"), location: main, qty: 5 }],
        };
        let before = l.totals();
        l.apply(sale.clone(), Millis(1)).expect("always recorded");
        let changes = l.take_changes();
        let a = oversold_alert(&before, &l.totals(), &changes.entries).expect("alert");
        assert_eq!((a.units, a.oversold, a.op), (3, 3, Op::Sale));
        assert_eq!((a.channel.as_deref(), a.order_id.as_deref()), (Some("amazon"), Some("113-1")));

        // The same sale again is a duplicate: nothing changes, nothing is raised.
        let before = l.totals();
        l.apply(sale, Millis(2)).expect("duplicate");
        let changes = l.take_changes();
        assert_eq!(oversold_alert(&before, &l.totals(), &changes.entries), None);
    }

    #[test]
    fn serialises_without_absent_fields() {
        let a = OversoldAlert { units: 1, oversold: 1, op: Op::Adjust, channel: None, order_id: None };
        assert_eq!(serde_json::to_string(&a).expect("json"), r#"{"units":1,"oversold":1,"op":"adjust"}"#);
    }
}
