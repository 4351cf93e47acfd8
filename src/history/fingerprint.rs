//! A ledger's state as a 128-bit key, for the linearizability search's memo.
//!
//! Covers every field a ledger command reads: levels per location, the backorder allowance, the
//! version and journal sequence, every hold (id, status, pin, deadline, lines, order, whether it
//! is a lend) and every order (lines with their quantities, shipments and cancellations). Two
//! SipHash-1-3 digests of the same fields under different prefixes make the 128 bits. A collision
//! could only make the search skip a configuration and refuse a linearizable history (reported,
//! then looked at), never accept one that is not linearizable.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::stock::{HoldStatus, Ledger};

/// The key of `ledger`'s state.
pub fn of(ledger: &Ledger) -> u128 {
    let half = |prefix: u8| {
        let mut h = DefaultHasher::new();
        prefix.hash(&mut h);
        feed(ledger, &mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

fn status_code(s: HoldStatus) -> u8 {
    match s {
        HoldStatus::Held => 0,
        HoldStatus::Committed => 1,
        HoldStatus::Released => 2,
        HoldStatus::Expired => 3,
    }
}

fn feed(l: &Ledger, h: &mut impl Hasher) {
    (l.version(), l.last_seq(), l.backorder_limit()).hash(h);
    l.levels().len().hash(h);
    for (location, lv) in l.levels() {
        (location.as_str(), lv.on_hand, lv.reserved, lv.committed).hash(h);
    }
    let mut holds = 0usize;
    for hold in l.holds() {
        holds += 1;
        (hold.id.as_str(), status_code(hold.status), hold.pinned, hold.expires_at.0, hold.lend.is_some()).hash(h);
        hold.lines.len().hash(h);
        for (location, qty) in &hold.lines {
            (location.as_str(), qty).hash(h);
        }
        hold.order.as_ref().map(|o| (o.channel.as_str(), o.order_id.as_str())).hash(h);
    }
    holds.hash(h);
    let mut orders = 0usize;
    for (key, order) in l.orders() {
        orders += 1;
        (key.channel.as_str(), key.order_id.as_str(), order.cancelled, order.lines.len()).hash(h);
        for (id, line) in &order.lines {
            (id.as_str(), line.location.as_str(), line.qty, line.fulfilled, line.cancelled).hash(h);
        }
        order.shipments.len().hash(h);
        for s in &order.shipments {
            s.as_str().hash(h);
        }
    }
    orders.hash(h);
}

#[cfg(test)]
mod tests {
    use super::of;
    use crate::stock::{Cause, Command, HoldId, Ledger, Location};
    use crate::time::Millis;

    fn hold(id: &str) -> Command {
        Command::Reserve {
            hold: HoldId::parse(id).expect("id"),
            lines: vec![(Location::main(), 1)],
            expires_at: Millis(1_000),
            channel: None,
            reference: None,
        }
    }

    #[test]
    fn equal_for_equal_states_and_apart_for_different_ones() {
        let mut a = Ledger::new();
        a.apply(Command::Adjust { location: Location::main(), delta: 3, cause: Cause::default() }, Millis(0))
            .expect("adjust");
        let b = a.clone();
        assert_eq!(of(&a), of(&b));
        let (mut x, mut y) = (a.clone(), a.clone());
        x.apply(hold("h1"), Millis(0)).expect("h1");
        y.apply(hold("h2"), Millis(0)).expect("h2");
        // Same levels and version, different holds.
        assert_eq!((x.totals(), x.version()), (y.totals(), y.version()));
        assert_ne!(of(&x), of(&y));
        assert_ne!(of(&a), of(&x));
    }
}
