//! The order desk call that registers a committed reservation's lines with its order, whoever
//! kept the reservation (a cart coordinator, a SKU ledger, an allotment), so that fulfilling or
//! cancelling the order reaches the ledgers that hold its units.

use super::plan::Part;
use super::reservation::{Phase, Reservation};
use crate::api::order_call::{OrderAction, OrderCall};
use crate::orders::BookLine;
use crate::stock::order::hold_line_id;
use crate::stock::{HoldId, OrderKey};

/// `Attach` of every line of `parts` held under `hold`, one book line per (SKU, location) with
/// the hold's line id. Idempotent at the desk (it keeps each (SKU, line id) once). `None` when
/// there is no line to register.
pub fn attach(hold: &HoldId, parts: &[Part], order: OrderKey) -> Option<OrderCall> {
    let lines: Vec<BookLine> = parts
        .iter()
        .flat_map(|p| {
            p.lines.iter().filter_map(|(loc, qty)| {
                hold_line_id(hold, loc).ok().map(|line_id| BookLine {
                    sku: p.sku.clone(),
                    line_id,
                    location: loc.clone(),
                    qty: *qty,
                })
            })
        })
        .collect();
    (!lines.is_empty()).then_some(OrderCall { order, action: OrderAction::Attach { lines }, idempotency: None })
}

/// The registration a cart's resume alarm owes its order desk: when the alarm finished a commit
/// (the record was `before` a transitional phase and is now committed), nobody else registers it
/// — the request that began the commit was answered without it, and its client may never retry.
/// `None` otherwise. Idempotent at the desk, so the shell keeps it until the desk answers.
pub fn owed(before: &Phase, r: &Reservation) -> Option<OrderCall> {
    let transitional = matches!(before, Phase::Pinning { .. } | Phase::Committing { .. });
    match &r.phase {
        Phase::Committed { order } if transitional => attach(&r.hold_id(), &r.parts, order.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{Location, Sku, Token};
    use crate::time::Millis;

    fn cart(phase: Phase) -> Reservation {
        Reservation {
            id: Token::parse("c1").expect("id"),
            parts: vec![Part { sku: Sku::parse("A").expect("sku"), lines: vec![(Location::main(), 2)] }],
            expires_at: Millis(60_000),
            phase,
            channel: None,
            reference: None,
            created_at: Millis(0),
            fingerprint: "f".into(),
            answer: None,
            attempt: 0,
        }
    }

    /// Found by the system simulation (`tests/system_simulation.rs`): a commit interrupted after
    /// its pins, finished by the resume alarm and never retried by its client, was never
    /// registered, so cancelling the order at its desk left its units committed.
    #[test]
    fn a_commit_finished_by_the_alarm_owes_its_registration() {
        let order = OrderKey { channel: Token::parse("direct").expect("c"), order_id: Token::parse("o1").expect("o") };
        let done = cart(Phase::Committed { order: order.clone() });
        let call = owed(&Phase::Committing { order: order.clone() }, &done).expect("owed");
        assert_eq!(call.order, order);
        assert!(owed(&Phase::Committed { order: order.clone() }, &done).is_none(), "registered by its request");
        assert!(owed(&Phase::Creating, &cart(Phase::Held)).is_none());
    }
}
