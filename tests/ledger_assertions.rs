//! The ledger's cheap assertions, which stay on in release builds (`assert!` in
//! `Ledger::apply` and its transitions; the full sweep `stock::invariants::check` runs in debug
//! builds and tests only). Each case restores a state that storage should never hold and shows
//! that the first command touching it stops with a panic instead of writing on from it.

use std::collections::BTreeMap;

use stockedge::stock::{
    Command, Hold, HoldStatus, Ledger, Levels, Location, Order, OrderKey, OrderLine, Snapshot, Token,
};
use stockedge::time::Millis;

fn tok(s: &str) -> Token {
    Token::parse(s).expect("token")
}

fn held(id: &str, qty: i64) -> Hold {
    Hold {
        id: tok(id),
        lines: BTreeMap::from([(Location::main(), qty)]),
        expires_at: Millis(1_000_000),
        status: HoldStatus::Held,
        pinned: false,
        channel: None,
        reference: None,
        order: None,
        updated_at: Millis(0),
        lend: None,
    }
}

fn ledger(levels: Levels, holds: Vec<Hold>, orders: Vec<(OrderKey, Order)>) -> Ledger {
    Ledger::restore(Snapshot {
        levels: BTreeMap::from([(Location::main(), levels)]),
        backorder_limit: 0,
        version: 7,
        last_seq: 9,
        holds,
        orders,
        erp: BTreeMap::new(),
    })
}

#[test]
fn a_consistent_state_passes() {
    let mut l = ledger(Levels { on_hand: 5, reserved: 3, committed: 0 }, vec![held("h1", 3)], vec![]);
    assert!(l.apply(Command::Release { hold: tok("h1") }, Millis(1)).is_ok());
    assert_eq!(l.level(&Location::main()), Levels { on_hand: 5, reserved: 0, committed: 0 });
    assert_eq!(l.version(), 8, "the version moves forward by one per transition");
}

#[test]
#[should_panic(expected = "left a negative quantity")]
fn releasing_units_that_were_never_reserved_stops() {
    // A hold of 3 on a level that records none reserved: releasing it would leave reserved −3.
    let mut l = ledger(Levels { on_hand: 5, reserved: 0, committed: 0 }, vec![held("h1", 3)], vec![]);
    let _ = l.apply(Command::Release { hold: tok("h1") }, Millis(1));
}

#[test]
#[should_panic(expected = "left a negative quantity")]
fn cancelling_units_that_were_never_committed_stops() {
    let key = OrderKey { channel: tok("amz"), order_id: tok("o1") };
    let line = OrderLine { location: Location::main(), qty: 2, fulfilled: 0, cancelled: false };
    let order = Order { lines: BTreeMap::from([(tok("l1"), line)]), ..Order::default() };
    let mut l = ledger(Levels { on_hand: 5, reserved: 0, committed: 1 }, vec![], vec![(key.clone(), order)]);
    let _ = l.apply(Command::Cancel { order: key, reason: None }, Millis(1));
}

#[test]
#[should_panic(expected = "left a negative quantity")]
fn an_expiry_due_on_a_corrupt_level_stops_too() {
    let mut l = ledger(Levels { on_hand: 5, reserved: 1, committed: 0 }, vec![held("h1", 3)], vec![]);
    l.expire_due(Millis(2_000_000));
}
